"""The commit journal cannot be turned against the user; one deckgen at a time writes a folder.

A crafted ``.deckgen-journal.json`` (in a cloned course, a folder someone
sent) is refused in one line and touches nothing; two builds into one folder
never leave a mix; an interrupted commit, or a Ctrl-C while staging, leaves
nothing that the next command does not clean up.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

from .support import T1, T2, V1, killed_build, write_source

JOURNAL = ".deckgen-journal.json"


def tree(root: Path) -> dict[str, bytes | str]:
    """Every file under *root* (a symbolic link as where it points)."""
    found: dict[str, bytes | str] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            found[str(path)] = os.readlink(path)
        elif path.is_file():
            found[str(path)] = path.read_bytes()
    return found


CACHE_FILES = (".deckgen-cache.json", ".deckgen-topics.pickle")


def deckgen(*args: str):  # noqa: ANN201
    return CliRunner().invoke(main, list(args))


def our_files(folder: Path) -> list[str]:
    """deckgen's own short-lived files in *folder* (staged, old, journal, folder lock): none once a command is done."""
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".deckgen-") and p.name not in CACHE_FILES)


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path]:
    """Two topics built at T1, then edited: the next build replaces both packages, the lock and the cache."""
    tmp_path = tmp_path.resolve()
    source = write_source(tmp_path / "src", V1)
    more = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: more-")
    (source / "more.yaml").write_text(more, encoding="utf-8")
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    for name in ("basics.yaml", "more.yaml"):
        path = source / name
        path.write_text(path.read_text(encoding="utf-8").replace("Pour {{hot water}}", "Pour {{hot}} water"))
    return source, out


# --- a crafted journal --------------------------------------------------------------


def _v2(folders: list[Path], entries: list[list[object]], decided: bool = True) -> dict[str, object]:
    return {"version": 2, "id": "0" * 32, "decided": decided, "folders": [str(f) for f in folders], "entries": entries}


CRAFTED = {
    # The journal as deckgen 0.x wrote it: absolute paths of the files to move, followed blindly.
    "absolute paths to move": lambda here, victim: {"version": 1, "entries": [[str(victim), str(here / "evil"), None]]},
    "a target outside its folders": lambda here, victim: _v2([here], [[str(victim), False]]),
    "a folder holding no journal of it": lambda here, victim: _v2([here, victim.parent], [[str(victim), True]]),
    "its decision kept elsewhere": lambda here, victim: _v2([victim.parent, here], [[str(victim), True]]),
    "one of deckgen's own names": lambda here, victim: _v2([here], [[str(here / ".deckgen-x.apkg.tmp"), False]]),
    "written for another folder": lambda here, victim: _v2([victim.parent / "elsewhere"], []),
}

COMMANDS = [
    ("src", ["check", "--source", "{src}"]),
    ("src", ["list", "--source", "{src}"]),
    ("src", ["plan", "--source", "{src}", "--out", "{out}"]),
    ("src", ["build", "--source", "{src}", "--out", "{out}"]),
    ("src", ["preview", "--source", "{src}", "--out", "{out}"]),
    ("out", ["plan", "--source", "{src}", "--out", "{out}"]),
    ("out", ["build", "--source", "{src}", "--out", "{out}"]),
    ("out", ["preview", "--source", "{src}", "--out", "{out}"]),
    ("out", ["push", "--out", "{out}", "--url", "http://127.0.0.1:9"]),
]


@pytest.mark.parametrize("crafted", [*CRAFTED, "a link to the victim"])
@pytest.mark.parametrize(("where", "command"), COMMANDS, ids=lambda c: c if isinstance(c, str) else c[0])
def test_a_crafted_journal_is_refused_in_one_line_and_nothing_is_touched(built, crafted, where, command):
    source, out = built
    root = source.parent
    victim = root / "victim.txt"
    victim.write_text("the user's own file\n")
    # Even beside the victim, a staged-looking file is never moved over it.
    (root / ".deckgen-victim.txt.tmp").write_text("written by whoever crafted the journal\n")
    (source / "evil").write_text("written by whoever crafted the journal\n")
    here = source if where == "src" else out
    journal = here / JOURNAL
    if crafted == "a link to the victim":
        journal.symlink_to(victim)
    else:
        journal.write_text(json.dumps(CRAFTED[crafted](here, victim)))
    before = tree(root)
    result = deckgen(*(arg.format(src=source, out=out) for arg in command))
    assert "Traceback" not in result.output
    assert result.exit_code == 1, result.output
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert result.stderr.startswith(f"Error: {journal}: journal refused: "), result.stderr
    assert "nothing was changed" in result.stderr
    assert tree(root) == before  # the victim, the journal itself, the decks and the lock, as they were


def test_a_journal_of_deckgen_itself_is_still_followed(built):
    """A build killed after its commit point (a rename done) is finished by the next check, from either folder."""
    source, out = built
    killed = killed_build("replace", ".apkg", 2, "--source", str(source), "--out", str(out))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert (source / JOURNAL).is_file() and (out / JOURNAL).is_file()
    assert deckgen("check", "--source", str(source)).exit_code == 0
    assert our_files(source) == our_files(out) == []
    plan = deckgen("plan", "--source", str(source), "--out", str(out))
    assert plan.stdout.splitlines()[-1] == "Would build 2 decks: 30 notes, 34 cards; 0 added, 0 updated, 30 unchanged, 0 removed."


# --- interrupted staging -------------------------------------------------------------


def test_ctrl_c_while_staging_leaves_no_staged_file(built, monkeypatch):
    source, out = built
    before = tree(source.parent)
    real_fsync = os.fsync

    def interrupted(fd: int) -> None:
        if os.readlink(f"/proc/self/fd/{fd}").endswith(".deckgen-more.apkg.tmp"):  # written in full, not flushed
            raise KeyboardInterrupt
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(BuildConfig(str(source), str(out), timestamp=T2))
    assert tree(source.parent) == before


@pytest.mark.parametrize("command", ["check", "list"])
def test_after_a_kill_while_staging_check_and_list_clean_the_output_folder_too(built, command):
    source, out = built
    before = tree(source.parent)
    killed = killed_build("fsync", ".deckgen-more.apkg.tmp", 1, "--source", str(source), "--out", str(out))
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert ".deckgen-basics.apkg.tmp" in our_files(out)  # a full-size staged package, left by the kill
    result = deckgen(command, "--source", str(source))
    assert result.exit_code == 0, result.output
    assert our_files(source) == our_files(out) == []
    assert tree(source.parent) == before  # the old decks, lock and cache, nothing else


# --- one deckgen at a time --------------------------------------------------------------

# A child build that, at its first rename of a package (mid-commit, holding its folders),
# says so by creating READY and waits until GO exists.
PAUSED_CHILD = textwrap.dedent(
    """
    import os, sys, time
    ready, go = sys.argv[1], sys.argv[2]
    real = os.replace
    def paused(source, target, *args, **kwargs):
        if str(target).endswith(".apkg") and not os.path.exists(ready):
            open(ready, "w").close()
            while not os.path.exists(go):
                time.sleep(0.02)
        return real(source, target, *args, **kwargs)
    os.replace = paused
    from generator.cli import main
    main(sys.argv[3:])
    """
)


def _wait_for(path: Path, child: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert child.poll() is None, child.communicate()
        assert time.monotonic() < deadline, "the child never reached its commit"
        time.sleep(0.02)


def test_a_second_deckgen_is_refused_naming_the_holder_and_the_first_completes(built):
    source, out = built
    other = write_source(source.parent / "other", V1.replace("Tea comes from", "Tea is from"))
    ready, go = source.parent / "ready", source.parent / "go"
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(T2)}
    args = ["build", "-q", "--source", str(source), "--out", str(out)]
    child = subprocess.Popen(
        [sys.executable, "-c", PAUSED_CHILD, str(ready), str(go), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    try:
        _wait_for(ready, child)
        holder = f"Error: {out}: another deckgen is writing here (build, process {child.pid}, since "
        for command in (
            ["build", "--source", str(other), "--out", str(out)],
            ["plan", "--source", str(source), "--out", str(out)],
            ["preview", "--source", str(source), "--out", str(out)],
            ["push", "--out", str(out), "--url", "http://127.0.0.1:9"],
        ):
            result = deckgen(*command)
            assert result.exit_code == 1, (command, result.output)
            assert len(result.stderr.splitlines()) == 1, result.stderr
            assert result.stderr.startswith(holder) and result.stderr.endswith("); wait for it to finish\n"), result.stderr
        # check reads only the sources, which no build writes: it goes on, and leaves the build's files alone.
        assert deckgen("check", "--source", str(source)).exit_code == 0
        assert not (other / "deckgen.lock").exists()
    finally:
        go.touch()
        stdout, stderr = child.communicate(timeout=60)
    assert child.returncode == 0, stderr
    assert our_files(source) == our_files(out) == []  # the holder's lock files are gone with it
    plan = deckgen("plan", "--source", str(source), "--out", str(out))
    assert plan.stdout.splitlines()[-1] == "Would build 2 decks: 30 notes, 34 cards; 0 added, 0 updated, 30 unchanged, 0 removed."


def test_two_builds_started_together_never_leave_a_mix(tmp_path):
    """Two sources, same topic files, one output folder: it ends as one build of one source, whole."""
    tmp_path = tmp_path.resolve()
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(T1)}
    for attempt in range(4):
        round_dir = tmp_path / f"round{attempt}"
        sources = [
            write_source(round_dir / "a", V1),
            write_source(round_dir / "b", V1.replace("Tea comes from", "Tea is from")),
        ]
        out = round_dir / "out"
        children = [
            subprocess.Popen(
                [sys.executable, "-m", "generator", "build", "-q", "--source", str(s), "--out", str(out)],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
            )
            for s in sources
        ]
        results = [(child.wait(timeout=120), *child.communicate()) for child in children]
        for code, _, stderr in results:
            if code != 0:  # refused, naming the other: never a half-done write of its own
                assert code == 1 and len(stderr.splitlines()) == 1, stderr
                assert "another deckgen is writing here (build, process " in stderr, stderr
        assert any(code == 0 for code, _, _ in results)
        cache = json.loads((out / ".deckgen-cache.json").read_text())
        winner = cache["source"]
        assert winner in {str(s) for s in sources}
        # The folder is one whole build of that source: its next build finds nothing to do and writes nothing.
        before = tree(round_dir)
        again = subprocess.run(
            [sys.executable, "-m", "generator", "build", "-q", "--source", winner, "--out", str(out)],
            capture_output=True, text=True, env=env, check=False,
        )
        assert again.returncode == 0, again.stderr
        assert again.stdout == "Built 1 deck: 15 notes, 17 cards; 0 added, 0 updated, 15 unchanged, 0 removed.\n"
        assert tree(round_dir) == before
        assert our_files(out) == []
