"""A build that fails or is killed half-way leaves the previous decks and lock as they were."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import DeckgenError
from generator.pipeline.cache import CACHE_NAME
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build, plan
from generator.pipeline.reuse import warnings_of

from .support import T1, T2, V1, write_source


def snapshot(*folders):
    return {
        str(path): path.read_bytes() for folder in folders for path in sorted(folder.iterdir()) if path.is_file()
    }


@pytest.fixture
def built(tmp_path):
    source = write_source(tmp_path / "src", V1)
    (source / "more.yaml").write_text(V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: more-"), encoding="utf-8")
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    for name in ("basics.yaml", "more.yaml"):
        path = source / name
        path.write_text(path.read_text(encoding="utf-8").replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    return source, out, snapshot(source, out)


def test_a_refused_source_leaves_the_existing_decks_and_lock_untouched(tmp_path):
    """Not a write that fails half-way: the source is refused before anything is written."""
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(out)]).exit_code == 0
    lock = (source / "deckgen.lock").read_bytes()
    before = snapshot(out)
    (source / "basics.yaml").write_text(V1.replace("title: Brewing", "title: off"), encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(out)])
    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines()[-1] == "Error: 1 problem found; nothing was written."
    assert snapshot(out) == before
    assert (source / "deckgen.lock").read_bytes() == lock


def test_exception_mid_write_changes_nothing(built, monkeypatch):
    source, out, before = built
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd):
        calls.append(os.readlink(f"/proc/self/fd/{fd}"))
        if calls[-1].endswith(".deckgen-more.apkg.tmp"):  # basics.apkg is staged, more.apkg is being written
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(DeckgenError) as caught:
        build(BuildConfig(str(source), str(out), timestamp=T2))
    assert str(caught.value) == f"cannot write {out / 'more.apkg'}: No space left on device"
    assert any(call.endswith(".deckgen-basics.apkg.tmp") for call in calls)
    assert snapshot(source, out) == before


# A child deckgen build that counts the file-system steps of its commit (each fsync,
# link, rename and unlink) and kills itself with SIGKILL at step KILL_AT (0: never).
CHILD = textwrap.dedent(
    """
    import os, signal, sys
    kill_at, steps = int(sys.argv[1]), [0]
    def counted(name):
        real = getattr(os, name)
        def step(*args, **kwargs):
            steps[0] += 1
            if steps[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return real(*args, **kwargs)
        setattr(os, name, step)
    for name in ("fsync", "link", "replace", "unlink"):
        counted(name)
    from generator.cli import main
    try:
        main(sys.argv[2:])
    finally:
        print("steps", steps[0], file=sys.stderr)
    """
)


def run_child(kill_at, source, out):
    # A killed build cannot remove its spool (see generator.pipeline.spool): the
    # child's temporary folder is the test's, not the system's.
    temporary = out.parent / "tmp"
    temporary.mkdir(exist_ok=True)
    env = {**os.environ, "SOURCE_DATE_EPOCH": str(T2), "TMPDIR": str(temporary)}
    args = [sys.executable, "-c", CHILD, str(kill_at), "build", "-q", "--source", str(source), "--out", str(out)]
    return subprocess.run(args, capture_output=True, text=True, env=env, check=False)


def relative(snap, source, out):
    """A snapshot keyed by folder and name, paths inside (the cache records the packages') made relative."""
    result = {}
    for path, data in snap.items():
        for index, root in enumerate((source, out)):
            if path.startswith(str(root) + os.sep):
                data = _unpacked(data) if path.endswith(CACHE_NAME) else data
                result[(index, os.path.relpath(path, root))] = re.sub(rb'/[^"\s()]*/(src|out)(?=[/"])', rb'<\1>', data)
    return result


def _unpacked(cache: bytes) -> bytes:
    """The cache's JSON, its warnings' text unpacked: they name the source's files too."""
    data = json.loads(cache)
    for holder in (data, *data["topics"].values()):
        holder["warnings"] = {part.file: part.text for part in warnings_of(holder["warnings"])}
    return json.dumps(data).encode()


def test_a_build_killed_at_any_step_is_all_old_or_all_new_after_the_next_command(built, tmp_path):
    source, out, before = built
    old = relative(before, source, out)
    # The reference: the same build, not interrupted.
    reference_source, reference_out = tmp_path / "ref" / "src", tmp_path / "ref" / "out"
    shutil.copytree(source, reference_source)
    shutil.copytree(out, reference_out)
    whole = run_child(0, reference_source, reference_out)
    assert whole.returncode == 0, whole.stderr
    assert list((reference_out.parent / "tmp").iterdir()) == []  # a build that ends removes its spool
    steps = int(whole.stderr.split("steps ")[-1])
    new = relative(snapshot(reference_source, reference_out), reference_source, reference_out)
    assert new != old and steps > 10
    outcomes = {"old": 0, "new": 0}
    for kill_at in range(1, steps + 1):
        run_source, run_out = tmp_path / f"k{kill_at}" / "src", tmp_path / f"k{kill_at}" / "out"
        shutil.copytree(source, run_source)
        shutil.copytree(out, run_out)
        killed = run_child(kill_at, run_source, run_out)
        assert killed.returncode == -signal.SIGKILL, (kill_at, killed.stderr)
        # The next command, whichever it is, first finishes or undoes the commit.
        assert CliRunner().invoke(main, ["check", "--source", str(run_source)]).exit_code == 0
        plan(BuildConfig(str(run_source), str(run_out), timestamp=T2))
        after = relative(snapshot(run_source, run_out), run_source, run_out)
        assert after in (old, new), kill_at
        outcomes["old" if after == old else "new"] += 1
    assert outcomes["old"] and outcomes["new"]  # kills before and after the commit point


def test_a_rename_that_fails_puts_every_old_file_back_and_names_the_target(built):
    source, out, before = built
    (out / "more.apkg").unlink()
    (out / "more.apkg").mkdir()  # renaming a file over a folder fails after the others are staged
    before = snapshot(source, out)
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.strip().endswith(f"cannot write {out / 'more.apkg'}: Is a directory")
    assert snapshot(source, out) == before
    assert (out / "more.apkg").is_dir()


def test_a_failure_while_renaming_rolls_every_file_back(built, monkeypatch):
    source, out, before = built
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 3:  # two packages are in place, the third fails
            raise OSError(5, "Input/output error", src)
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(DeckgenError) as caught:
        build(BuildConfig(str(source), str(out), timestamp=T2))
    monkeypatch.setattr(os, "replace", real_replace)
    assert str(caught.value) == f"cannot write {calls[2]}: Input/output error"  # the file whose rename failed
    assert snapshot(source, out) == before


SLOW_WORKERS = """
import sys, time
import generator.pipeline.topics as topics

def slow(name):  # a worker still building when its parent is told to stop
    time.sleep(300)

topics._build_shared = slow
from generator.cli import run
sys.argv = ["deckgen", *sys.argv[1:]]
run()
"""


def _alive(pid: int) -> bool:
    """True if process *pid* runs (a zombie, dead but not yet reaped by init, does not)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as listed:
            return [int(child) for child in listed.read().split()]
    except OSError:
        return []


STOPPED_WHILE_FORKING = SLOW_WORKERS.replace(
    "topics._build_shared = slow\n",
    "topics._build_shared = slow\n"
    "import os, signal\n"
    "os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGTERM))\n",
)
"""A build told to stop at the worst moment: as each worker is forked, in the fork's own callbacks."""

STOPPED_WHILE_ONE_IS_FORKED = """
import os, signal, sys, time
import generator.pipeline.ahead as ahead

def slow(directory, path):  # the child parsing the edited file ahead, still at it when its parent stops
    time.sleep(300)

ahead._parse = slow
ahead.PARSE_ONE_AHEAD_MIN_BYTES = 0
os.register_at_fork(after_in_parent=lambda: os.kill(os.getpid(), signal.SIGTERM))
from generator.cli import run
sys.argv = ["deckgen", *sys.argv[1:]]
run()
"""
"""An edit rebuild told to stop as the child that parses the edited file ahead is forked."""


@pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="needs fork and signal masks")
def test_a_stop_that_comes_while_the_workers_are_forked_still_ends_the_build(tmp_path):
    """A SIGTERM the handler met inside a fork callback (logging's, under load) was ignored there: the build then
    waited for its workers for ever (CI hung on it once). Held while forking, it ends the build after."""
    items = "".join(f"  - id: i{n}\n    explanation: Fact {n} is {{{{kept}}}} here.\n" for n in range(1100))
    extra = {"more.yaml": f"topic: more\nname: More\nitems:\n{items.replace('id: i', 'id: m')}"}
    source = write_source(tmp_path / "src", f"topic: basics\nname: Basics\nitems:\n{items}", extra=extra)
    args = ["build", "-q", "-j", "2", "--source", str(source), "--out", str(tmp_path / "out")]
    for script in (STOPPED_WHILE_FORKING, STOPPED_WHILE_ONE_IS_FORKED):
        if script is STOPPED_WHILE_ONE_IS_FORKED:  # built, then one file edited: parsed ahead in a child of its own
            again = CliRunner().invoke(main, args[:1] + args[4:])
            assert again.exit_code == 0, again.output
            (source / "basics.yaml").write_text(f"topic: basics\nname: Basic\nitems:\n{items}", encoding="utf-8")
        child = subprocess.Popen([sys.executable, "-c", script, *args], stderr=subprocess.PIPE)
        try:
            assert child.wait(timeout=60) == 128 + signal.SIGTERM
        finally:
            child.kill()
            workers = _children(child.pid)
            child.wait()
            child.stderr.close()  # type: ignore[union-attr]
            for pid in workers:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    assert _running_with(str(source)) == []  # no child left behind, parsing (it holds what its parent held)


def _running_with(text: str) -> list[int]:
    """The processes running (not zombies) whose command line holds *text*: a forked child has its parent's."""
    found = []
    for entry in os.listdir("/proc"):
        with contextlib.suppress(OSError):
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                if text.encode() in cmdline.read() and _alive(int(entry)):
                    found.append(int(entry))
    return found


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux's /proc to see the workers")
def test_sigterm_to_a_build_stops_its_workers_and_frees_the_folder(tmp_path):
    """``kill PID`` (a CI timeout, systemd) reaches the build process alone: its forked workers must not stay
    behind, building and holding the folders' locks, so that every later build says another deckgen is writing."""
    items = "".join(f"  - id: i{n}\n    explanation: Fact {n} is {{{{kept}}}} here.\n" for n in range(1100))
    extra = {"more.yaml": f"topic: more\nname: More\nitems:\n{items.replace('id: i', 'id: m')}"}
    source = write_source(tmp_path / "src", f"topic: basics\nname: Basics\nitems:\n{items}", extra=extra)
    args = ["build", "-q", "-j", "2", "--source", str(source), "--out", str(tmp_path / "out")]
    child = subprocess.Popen([sys.executable, "-c", SLOW_WORKERS, *args], stderr=subprocess.PIPE, text=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while len(workers) < 2 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.05)
            workers = _children(child.pid)
        assert len(workers) == 2, child.stderr.read() if child.poll() is not None else "no workers"
        child.send_signal(signal.SIGTERM)
        assert child.wait(timeout=60) == 128 + signal.SIGTERM
        deadline = time.monotonic() + 30
        while any(map(_alive, workers)) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(map(_alive, workers))
        again = CliRunner().invoke(main, args[:1] + args[4:])  # the folders are free: a build runs
        assert again.exit_code == 0, again.output
    finally:
        child.kill()
        child.wait()
        child.stderr.close()
        for pid in workers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
