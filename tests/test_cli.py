"""The command line through click's CliRunner: exact output and exit codes."""

from __future__ import annotations

import shutil

import pytest
from click.testing import CliRunner

from generator import __version__
from generator.cards.notes import build_notes
from generator.cli import main
from generator.source.loader import load_source

from .support import BUNDLED_SOURCE, ROOT, lock_written_at, write_source


@pytest.fixture
def in_project(tmp_path, monkeypatch):
    """A working folder laid out like the repository, with the bundled sources."""
    shutil.copytree(BUNDLED_SOURCE, tmp_path / "cards_source")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_check_prints_a_one_line_summary(in_project):
    result = CliRunner().invoke(main, ["check"])
    source = load_source("cards_source")
    notes = build_notes(source)
    items = sum(len(t.items) for t in source.topics)
    context = sum(1 for t in source.topics for i in t.items if not any(n.item_id == i.id for n in notes))
    comparisons = sum(len(t.comparisons) for t in source.topics)
    assert result.exit_code == 0 and context > 0  # the bundled source states more than it asks
    assert result.output == (
        f"cards_source: OK: {len(source.topics)} topics, {items} items ({context} context only), "
        f"{comparisons} comparisons "
        f"-> {len(notes)} notes, {sum(n.cards for n in notes)} cards\n"
    )


def test_build_with_defaults_writes_decks_out_and_reports_changes(in_project, monkeypatch):
    lock = (in_project / "cards_source" / "deckgen.lock").read_bytes()
    # As built when the lock was written: on today's date its tombstones may have expired (and are dropped).
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(lock_written_at(in_project / "cards_source" / "deckgen.lock")))
    result = CliRunner().invoke(main, ["build"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    topics = [t.id for t in load_source("cards_source").topics]
    assert [line.split(":")[0] for line in lines[:-1]] == [f"decks_out/{t}.apkg" for t in topics]
    assert all("0 added, 0 updated" in line and "0 removed" in line for line in lines)
    assert lines[-1].startswith(f"Built {len(topics)} decks: ")
    assert sorted(p.name for p in (in_project / "decks_out").glob("*.apkg")) == sorted(f"{t}.apkg" for t in topics)
    assert (in_project / "cards_source" / "deckgen.lock").read_bytes() == lock


def test_plan_writes_nothing(in_project):
    (in_project / "cards_source" / "deckgen.lock").unlink()
    result = CliRunner().invoke(main, ["plan"])
    assert result.exit_code == 0
    assert "0 updated, 0 unchanged, 0 removed" in result.output.splitlines()[0]
    assert not (in_project / "decks_out").exists()
    assert not (in_project / "cards_source" / "deckgen.lock").exists()


def test_version_and_usage_errors():
    runner = CliRunner()
    assert runner.invoke(main, ["--version"]).output == f"deckgen, version {__version__}\n"
    result = runner.invoke(main, ["build", "--nope"])
    assert result.exit_code == 2
    assert "Error: No such option '--nope'." in result.output


def test_missing_source_folder(tmp_path):
    result = CliRunner().invoke(main, ["check", "--source", str(tmp_path / "nowhere")])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"{tmp_path / 'nowhere'}:1: no such source folder"



def test_every_command_has_an_example_and_is_in_the_readme_and_the_reference():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    reference = (ROOT / "docs" / "commands.md").read_text(encoding="utf-8")
    for name in main.commands:
        help_text = CliRunner().invoke(main, [name, "--help"]).output
        assert "Example" in help_text and f"deckgen {name}" in help_text, name
        assert f"- `deckgen {name}`: " in readme, name  # the README's one line per command
        assert f"| `deckgen {name}" in reference, name  # the reference's overview table


def _stderr_on_a_terminal(args: list[str], cwd) -> str:
    import os
    import pty
    import subprocess
    import sys

    controller, terminal = pty.openpty()
    try:
        subprocess.run(
            [sys.executable, "-m", "generator", *args], cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=terminal, check=True, timeout=120,
        )
        os.close(terminal)
        chunks = []
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks).decode("utf-8", "replace")
    finally:
        os.close(controller)


def test_progress_bar_shows_only_on_a_terminal_and_not_with_quiet(in_project):
    assert "Building decks" in _stderr_on_a_terminal(["build", "--out", "a"], in_project)
    assert "Building decks" not in _stderr_on_a_terminal(["build", "--out", "b", "--quiet"], in_project)
    result = CliRunner().invoke(main, ["build", "--out", "c"])
    assert "Building decks" not in result.output


def test_quiet_prints_only_the_summary(in_project):
    result = CliRunner().invoke(main, ["build", "-q"])
    assert result.exit_code == 0
    topics = len(load_source("cards_source").topics)
    assert len(result.output.splitlines()) == 1 and result.output.startswith(f"Built {topics} decks: ")


def test_preview_command_writes_the_page(in_project):
    result = CliRunner().invoke(main, ["preview"])
    assert result.exit_code == 0, result.output
    page = (in_project / "decks_out" / "preview.html").read_text(encoding="utf-8")
    cards = page.count('<article class="card')
    assert result.output == f"decks_out/preview.html: {cards} cards\n" and cards > 0


def test_preview_writes_beside_the_decks_of_its_out_folder(tmp_path):
    """`--out` is the folder `build` writes to: the page goes there, whatever the source."""
    result = CliRunner().invoke(main, ["preview", "--source", str(BUNDLED_SOURCE), "--out", str(tmp_path / "decks")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "decks").iterdir()) == ["preview.html"]
    assert result.output.startswith(f"{tmp_path / 'decks' / 'preview.html'}: ")


def test_build_names_the_topics_that_make_no_card(tmp_path):
    """A topic of context only makes no package: build says so (as a note), also when nothing changed."""
    source = write_source(tmp_path / "src", "topic: basics\nname: Basics\nitems:\n  - id: a\n    explanation: Tea is {{green}}.\n")
    (source / "00-intro.yaml").write_text(
        "topic: intro\nname: Intro\nitems:\n  - id: hello\n    explanation: An introduction, asked by no card.\n",
        encoding="utf-8",
    )
    for _ in range(2):  # the second build takes the no-change path
        result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "out"), "-q"])
        assert result.exit_code == 0, result.output
        assert result.stderr.splitlines()[-1] == (  # after the smells: the drinks perspectives are unused here
            "note: intro: no card (every item is context and there is no comparison), so no package; "
            "mark a key term with {{...}} to ask something"
        )
    assert sorted(p.name for p in (tmp_path / "out").glob("*.apkg")) == ["basics.apkg"]


def test_check_names_the_topics_that_make_no_card(tmp_path):
    """Before any build: a topic of context only would vanish from the decks, and check says so."""
    source = write_source(tmp_path / "src", "topic: basics\nname: Basics\nitems:\n  - id: a\n    explanation: Tea is {{green}}.\n")
    (source / "00-intro.yaml").write_text(
        "topic: intro\nname: Intro\nitems:\n  - id: hello\n    explanation: An introduction, asked by no card.\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert result.exit_code == 0, result.output
    assert (
        "note: intro: no card (every item is context and there is no comparison), so no package; "
        "mark a key term with {{...}} to ask something"
    ) in result.stderr.splitlines()
    for output in ("json", "github"):  # stdout stays the problems alone; the note is on stderr, as in text
        machine = CliRunner().invoke(main, ["check", "--source", str(source), "--format", output])
        assert machine.exit_code == 0, machine.output
        assert machine.stderr.splitlines() == [line for line in result.stderr.splitlines() if line.startswith("note: ")]
        assert "note:" not in machine.stdout


def test_the_command_prints_everything_and_exits_without_the_interpreters_teardown(tmp_path):
    """`deckgen` (generator.cli.run) flushes what it printed and leaves the process at once: the same output and
    exit code as the command run by Click in this process, and no teardown (an exit handler never runs)."""
    import subprocess
    import sys

    source = tmp_path / "src"
    shutil.copytree(ROOT / "tests" / "sources" / "smelly", source)
    probe = "import atexit, sys; atexit.register(print, 'torn down'); from generator.cli import run; run()"
    for args in (["check", "--source", str(source)], ["list", "--source", str(source)], ["check", "--source", "none"]):
        done = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True, timeout=120)
        here = CliRunner().invoke(main, args)
        assert (done.returncode, done.stdout, done.stderr) == (here.exit_code, here.stdout, here.stderr), args
        assert "torn down" not in done.stdout
    assert here.exit_code == 1 and done.stderr  # the last: a failure, its message printed
