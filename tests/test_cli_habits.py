"""Habits every command shares: exit codes as documented, -q/-v, NO_COLOR, Click's shell completion."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from .support import DRINKS_CONFIG, ROOT, V1, write_source

COMMANDS_PAGE = ROOT / "docs" / "commands.md"
REPORTING = ["check", "plan", "build", "preview", "new", "draft", "schema", "push"]
"""The commands that report what they did, as the command reference names them."""
BROKEN = "topic: basics\nname: Basics\nitems:\n  - id: origin\n    title: yes\n"


def run(*args: str, **kwargs: object):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(main, list(args), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path


def test_the_exit_code_table_is_what_deckgen_does(here: Path) -> None:
    page = COMMANDS_PAGE.read_text(encoding="utf-8")
    documented = re.findall(r"^\| (\d) \|", page, re.M)
    assert documented == ["0", "1", "2"]
    write_source(here / "ok", V1)
    write_source(here / "bad", BROKEN)
    (here / "taken").write_text("a file, not a folder", encoding="utf-8")
    assert run("check", "--source", "ok").exit_code == 0  # with warnings: V1 leaves coffee without items
    assert "warning" in run("check", "--source", "ok").stderr
    assert run("check", "--source", "bad").exit_code == 1  # content
    assert run("check", "--source", "ok", "--strict").exit_code == 1  # a smell under --strict
    assert run("schema", "--out", "taken/schema").exit_code == 1  # environment
    assert run("check", "--colour").exit_code == 2  # usage
    assert run("build", "-q", "-v").exit_code == 2


@pytest.mark.parametrize("command", REPORTING)
def test_every_reporting_command_takes_quiet_and_verbose(command: str) -> None:
    help_text = run(command, "--help").output
    assert "-q, --quiet" in help_text and "-v, --verbose" in help_text
    both = run(command, "-q", "-v")
    assert both.exit_code == 2 and "Error: --quiet and --verbose cannot be combined" in both.output


def test_the_command_reference_names_the_reporting_commands() -> None:
    page = COMMANDS_PAGE.read_text(encoding="utf-8")
    assert ", ".join(f"`{c}`" for c in REPORTING) in " ".join(page.split())
    quiet = [name for name in main.commands if "--quiet" in run(name, "--help").output]
    assert sorted(quiet) == sorted(REPORTING)


def test_quiet_keeps_only_the_summary(here: Path) -> None:
    result = run("new", "course", "-q")
    assert result.output == "Next: edit course/*.yaml, then: deckgen check --source course\n"
    assert run("schema", "--out", "s", "-q").output == ""
    built = run("build", "--source", "course", "--out", "out", "-q")
    assert built.stdout.startswith("Built 2 decks: ") and len(built.stdout.splitlines()) == 1
    # notes, like warnings, are kept: -q silences only the detail
    assert built.stderr.startswith("note: 18 notes in no release yet ") and len(built.stderr.splitlines()) == 1
    released = run("build", "--source", "course", "--out", "out", "-q", "--release")
    assert (released.stdout.startswith("Built 2 decks: "), released.stderr) == (True, "")


def test_verbose_adds_the_detail_behind_the_summary(here: Path) -> None:
    write_source(here / "src", V1, DRINKS_CONFIG)
    checked = run("check", "--source", "src", "-v")
    assert checked.stdout.splitlines()[0] == "src/basics.yaml: basics: 4 items, 1 comparison -> 15 notes, 17 cards"
    built = run("build", "--source", "src", "--out", "out", "-v")
    assert built.stdout.splitlines()[:2] == [
        "out/basics.apkg: 15 notes, 17 cards (15 added, 0 updated, 0 unchanged, 0 removed)",
        "    Drinks::Basics::Tea",
    ]
    assert built.stdout.splitlines()[-2] == "lock: src/deckgen.lock"


def test_verbose_check_counts_a_glossarys_terms(here: Path) -> None:
    from .test_concepts import CONFIG, TOPIC

    write_source(here / "src", TOPIC, CONFIG)
    checked = run("check", "--source", "src", "-v")
    assert checked.stdout.splitlines()[0] == "src/basics.yaml: forgetting: 1 item, 0 comparisons, 2 terms -> 3 notes, 4 cards"


def test_problems_are_coloured_on_a_terminal_unless_no_color(here: Path) -> None:
    write_source(here / "bad", BROKEN)
    coloured = run("check", "--source", "bad", color=True)
    assert coloured.stderr.startswith("\x1b[31mbad/basics.yaml:5: ")
    assert "\x1b[31m\x1b[1mError:\x1b[0m 1 problem found" in coloured.stderr
    plain = run("check", "--source", "bad", color=True, env={"NO_COLOR": "1"})
    assert "\x1b" not in plain.stderr and plain.stderr.startswith("bad/basics.yaml:5: ")
    assert "\x1b" not in run("check", "--source", "bad").stderr  # not a terminal: click strips it
    assert run("check", "--source", "bad", color=True, env={"NO_COLOR": ""}).stderr == coloured.stderr  # empty: unset


def test_clicks_shell_completion_completes_commands() -> None:
    script = run(prog_name="deckgen", env={"_DECKGEN_COMPLETE": "bash_source"})
    assert "_deckgen_completion" in script.output and "complete -o nosort -F _deckgen_completion deckgen" in script.output
    words = run(prog_name="deckgen", env={"_DECKGEN_COMPLETE": "bash_complete", "COMP_WORDS": "deckgen sc", "COMP_CWORD": "1"})
    assert words.output == "plain,schema\n"
    options = run(prog_name="deckgen", env={"_DECKGEN_COMPLETE": "bash_complete", "COMP_WORDS": "deckgen check --for", "COMP_CWORD": "2"})
    assert options.output == "plain,--format\n"
