"""`deckgen check --format json|github`: every problem for a script or a pull request, pinned byte for byte."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import Problem
from generator.views.findings import as_github

from .support import ROOT, write_source

CORPUS = ROOT / "tests" / "bad_inputs"
BROKEN = """\
topic: basics
name: Basics
items:
  - id: origin
    title: yes
    colour: green
"""
UNASKED = "topic: basics\nname: Basics\nitems:\n  - id: origin\n    explanation: Tea comes from {{China}}.\n"


def run(*args: str):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)  # paths as a CI step in the repository's top folder prints them
    return tmp_path


def test_json_lists_every_error_with_its_place(here: Path) -> None:
    write_source(here / "src", BROKEN)
    result = run("check", "--source", "src", "--format", "json")
    assert result.exit_code == 1
    assert json.loads(result.stdout) == [
        {
            "file": "src/basics.yaml", "line": 5, "column": 12, "severity": "error", "where": "items[0] (origin).title",
            "message": "expected text, found 'yes': YAML reads it as true/false (yes, no, on, off are booleans in "
            "YAML 1.1); put it in quotes",
        },
        {
            "file": "src/basics.yaml", "line": 6, "column": 5, "severity": "error", "where": "items[0]",
            "message": "unknown key 'colour' (expected one of: id, perspective, title, cue, question, explanation, "
            "points, conclusion, formerly, tags, image, audio)",
        },
    ]
    assert result.stderr == "Error: 2 problems found.\n"


def test_github_prints_one_workflow_command_per_error(here: Path) -> None:
    write_source(here / "src", BROKEN)
    result = run("check", "--source", "src", "--format", "github")
    assert result.exit_code == 1
    assert result.stdout == (
        "::error file=src/basics.yaml,line=5,col=12::items[0] (origin).title: expected text, found 'yes': YAML reads"
        " it as true/false (yes, no, on, off are booleans in YAML 1.1); put it in quotes\n"
        "::error file=src/basics.yaml,line=6,col=5::items[0]: unknown key 'colour' (expected one of: id,"
        " perspective, title, cue, question, explanation, points, conclusion, formerly, tags, image, audio)\n"
    )
    assert result.stderr == "Error: 2 problems found.\n"


def test_warnings_are_warnings_and_exit_0_unless_strict(here: Path) -> None:
    write_source(here / "src", UNASKED)
    result = run("check", "--source", "src", "--format", "github")
    assert (result.exit_code, result.stderr) == (0, "")
    assert result.stdout == (
        "::warning file=src/deckgen.yaml,line=5::perspectives.tea: no item or comparison side belongs to 'Tea':"
        " give it items (perspective: tea) or remove 'perspectives' (a source may compare nothing)\n"
        "::warning file=src/deckgen.yaml,line=6::perspectives.coffee: no item or comparison side belongs to"
        " 'Coffee': give it items (perspective: coffee) or remove 'perspectives' (a source may compare nothing)\n"
    )
    strict = run("check", "--source", "src", "--format", "github", "--strict")
    assert strict.exit_code == 1
    assert strict.stdout == result.stdout.replace("::warning ", "::error ")
    assert run("check", "--source", "src", "--format", "json").stdout == json.dumps(
        [
            {
                "file": "src/deckgen.yaml", "line": line, "column": None, "severity": "warning",
                "where": f"perspectives.{pid}",
                "message": f"no item or comparison side belongs to '{name}': give it items (perspective: {pid}) "
                "or remove 'perspectives' (a source may compare nothing)",
            }
            for line, pid, name in ((5, "tea", "Tea"), (6, "coffee", "Coffee"))
        ],
        indent=2,
    ) + "\n"


def test_a_valid_source_is_an_empty_list_or_nothing() -> None:
    assert run("check", "--source", str(ROOT / "cards_source"), "--format", "json").stdout == "[]\n"
    result = run("check", "--source", str(ROOT / "cards_source"), "--format", "github")
    assert (result.exit_code, result.stdout) == (0, "")


def test_workflow_commands_escape_what_would_end_them() -> None:
    problem = Problem("a,b: c.yaml", 3, "items[0]", "100% sure\nsecond line\r", column=7)
    assert as_github([problem], []) == "::error file=a%2Cb%3A c.yaml,line=3,col=7::items[0]: 100%25 sure%0Asecond line%0D\n"


# GitHub's workflow command syntax: ::command key=value,key=value::message, with values and message escaped.
_COMMAND = re.compile(r"^::(error|warning) (file=[^,:]*)(?:,(line=\d+))(?:,(col=\d+))?::([^\r\n]*)$")


def _unescape(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


@pytest.mark.parametrize("case", sorted(p.name for p in CORPUS.iterdir() if (p / "expected.txt").exists()))
def test_every_refused_corpus_case_is_the_same_problems_in_each_format(case: str, tmp_path: Path) -> None:
    source = str(CORPUS / case)
    text = run("check", "--source", source)
    as_json = run("check", "--source", source, "--format", "json")
    github = run("check", "--source", source, "--format", "github")
    assert text.exit_code == as_json.exit_code == github.exit_code == 1
    objects = json.loads(as_json.stdout)
    assert all(list(o) == ["file", "line", "column", "severity", "where", "message"] for o in objects)
    assert {o["severity"] for o in objects} == {"error"}
    assert [str(Problem(o["file"], o["line"], o["where"], o["message"])) for o in objects] == text.stderr.splitlines()[:-1]
    parsed = [_COMMAND.match(line) for line in github.stdout.splitlines()]
    assert all(parsed), github.stdout
    assert [
        (_unescape(m[2].removeprefix("file=")), int(m[3].removeprefix("line=")), _unescape(m[5])) for m in parsed if m
    ] == [(o["file"], o["line"], f"{o['where']}: {o['message']}" if o["where"] else o["message"]) for o in objects]


def test_the_ci_pages_examples_are_what_check_prints(here: Path) -> None:
    """docs/ci.md shows a JSON object and two workflow commands: they are this module's sources' own output."""
    page = (ROOT / "docs" / "ci.md").read_text(encoding="utf-8")
    write_source(here / "src", BROKEN)
    shown_json = re.search(r"```json\n(.*?)```", page, re.S)
    assert shown_json is not None
    assert json.loads(shown_json[1]) == json.loads(run("check", "--source", "src", "--format", "json").stdout)[:1]
    printed = run("check", "--source", "src", "--format", "github").stdout.splitlines()
    write_source(here / "src", UNASKED)
    printed += run("check", "--source", "src", "--format", "github").stdout.splitlines()
    shown = [line for line in page.splitlines() if line.startswith("::")]
    assert len(shown) == 2 and set(shown) <= set(printed)
