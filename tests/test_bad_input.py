"""Bad sources: every problem located as file:line, all at once, exit 1, nothing written."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main

from . import conftest

TOPIC = """\
topic: basics
name: Basics
items:
  - id: origin
    perspective: tea
    title: Origin
    explanation: Tea comes from {{China}}.
    points:
      leaves: Camellia sinensis leaves
comparisons:
  - id: caffeine
    dimension: Caffeine
    sides:
      tea: Less
      coffee: More
"""


def write_source(folder: Path, topic: str = TOPIC, extra: dict[str, str] | None = None) -> Path:
    return conftest.write_source(folder, topic, extra=extra)


def run_build(source: Path, out: Path):
    return CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(out)])


def item(body: str) -> str:
    """A topic whose single item is *body* (YAML, indented under the list dash)."""
    return "topic: basics\nname: Basics\nitems:\n  - " + textwrap.indent(body, "    ").lstrip()


CASES = [
    (
        "duplicate key",
        item("id: origin\ntitle: Origin\ntitle: Again\nexplanation: Text\n"),
        ["basics.yaml:6: items[0]: duplicate key 'title' (first given on line 5)"],
    ),
    (
        "unknown key",
        item("id: origin\ntitle: Origin\nexplantion: Text\n"),
        [
            "basics.yaml:6: items[0]: unknown key 'explantion' (expected one of: id, perspective, "
            "title, cue, question, explanation, points, conclusion, tags)",
        ],
    ),
    (
        "yaml 1.1 boolean",
        item("id: origin\ntitle: no\nexplanation: Text\n"),
        [
            "basics.yaml:5: items[0] (origin).title: expected text, found 'no': YAML reads it as "
            "true/false (yes, no, on, off are booleans in YAML 1.1); put it in quotes",
        ],
    ),
    (
        "yaml 1.1 float",
        item("id: origin\ntitle: Version\nexplanation: 1.10\n"),
        [
            "basics.yaml:6: items[0] (origin).explanation: expected text, found '1.10': YAML reads "
            "it as a number (1.10 becomes 1.1); put it in quotes",
        ],
    ),
    (
        "date",
        item("id: origin\ntitle: 2024-01-02\nexplanation: Text\n"),
        [
            "basics.yaml:5: items[0] (origin).title: expected text, found '2024-01-02': YAML reads "
            "it as a date; put it in quotes",
        ],
    ),
    (
        "empty text",
        item("id: origin\ntitle: Origin\nexplanation: ''\n"),
        ["basics.yaml:6: items[0] (origin).explanation: is empty; expected text"],
    ),
    (
        "unclosed key term",
        item("id: origin\ntitle: Origin\nexplanation: Tea comes from {{China.\n"),
        ["basics.yaml:6: items[0] (origin).explanation: a '{{' is never closed with '}}'"],
    ),
    (
        "empty key term",
        item("id: origin\ntitle: Origin\nexplanation: 'Tea comes from {{ }}.'\n"),
        ["basics.yaml:6: items[0] (origin).explanation: a key term '{{}}' is empty"],
    ),
    (
        "stray closing marker",
        item("id: origin\ntitle: Origin\nexplanation: Tea comes from China}}.\n"),
        [
            "basics.yaml:6: items[0] (origin).explanation: a '}}' closes a key term that was "
            "never opened with '{{'",
        ],
    ),
    (
        "bad id",
        item("id: ../Origin\ntitle: Origin\nexplanation: Text\n"),
        [
            "basics.yaml:4: items[0].id: '../Origin' is not a valid id: use lowercase letters, "
            "digits, '-' and '_' (e.g. 'personal-freedom')",
        ],
    ),
    (
        "unknown perspective",
        item("id: origin\nperspective: milk\ntitle: Origin\nexplanation: Text\n"),
        [
            "basics.yaml:5: items[0] (origin).perspective: unknown perspective 'milk' "
            "(deckgen.yaml names: coffee, tea)",
        ],
    ),
    (
        "tab indentation",
        "topic: basics\nname: Basics\nitems:\n\t- id: origin\n",
        [
            "basics.yaml:4: YAML syntax error: found a tab; YAML does not allow tabs for "
            "indentation, use spaces",
        ],
    ),
    (
        "document is a list",
        "- topic: basics\n",
        ["basics.yaml:1: expected a mapping of keys to values, found a list"],
    ),
    (
        "alias",
        item("id: origin\ntitle: &t Origin\nexplanation: *t\n"),
        ["basics.yaml:5: YAML anchors and aliases (&, *) are not allowed"],
    ),
    (
        "custom tag",
        item("id: origin\ntitle: !shout Origin\nexplanation: Text\n"),
        ["basics.yaml:5: the YAML tag !shout is not allowed"],
    ),
    (
        "states nothing",
        item("id: origin\nperspective: tea\n"),
        ["basics.yaml:4: items[0] (origin): states nothing: give it a title, an explanation, points or a conclusion"],
    ),
    (
        "markers in a cue",
        item("id: origin\nperspective: tea\nquestion: Which?\ntitle: Origin\ncue: 'Or{{ig}}in'\n"),
        [
            "basics.yaml:8: items[0] (origin).cue: '{{' and '}}' mark key terms, which only "
            "titles, explanations, points and conclusions may have",
        ],
    ),
    (
        "a topic question that asks about nothing",
        "topic: basics\nname: Basics\nquestion: Which drink?\nitems:\n  - id: origin\n"
        "    explanation: Tea comes from {{China}}.\n",
        ["basics.yaml:3: question: does nothing: no item of this topic has a perspective and a title or cue to ask it about"],
    ),
    (
        "an item question without a perspective",
        item("id: origin\ntitle: Origin\nquestion: Which drink?\n"),
        ["basics.yaml:6: items[0] (origin).question: does nothing: the item has no perspective to ask for"],
    ),
    (
        "an item question with nothing to show",
        item("id: origin\nperspective: tea\nquestion: Which drink?\n"),
        ["basics.yaml:6: items[0] (origin).question: needs a title or a cue: what the card shows"],
    ),
    (
        "comparison questions and the perspective placeholder",
        "topic: basics\nname: Basics\ncomparisons:\n  - id: caffeine\n    dimension: Caffeine\n"
        "    question: How much caffeine?\n    which_question: Is this {perspective}?\n"
        "    sides:\n      tea: Less\n      coffee: More\n",
        [
            "basics.yaml:6: comparisons[0] (caffeine).question: must contain {perspective}, "
            "where each card names its perspective",
            "basics.yaml:7: comparisons[0] (caffeine).which_question: may not contain {perspective}: "
            "the card asks which perspective it is",
        ],
    ),
    (
        "a comparison asked in an unknown direction, and questions it would never ask",
        "topic: basics\nname: Basics\ncomparisons:\n  - id: caffeine\n    dimension: Caffeine\n    ask: forward\n"
        "    sides:\n      tea: Less\n      coffee: More\n  - id: colour\n    dimension: Colour\n    ask: side\n"
        "    which_question: Which drink?\n    sides:\n      tea: Green\n      coffee: Brown\n"
        "  - id: price\n    dimension: Price\n    ask: perspective\n    question: What does {perspective} cost?\n"
        "    sides:\n      tea: Cheap\n      coffee: Dear\n",
        [
            "basics.yaml:6: comparisons[0] (caffeine).ask: 'forward' is not one of both, side, perspective "
            "(both directions, only the sides, only the perspectives)",
            "basics.yaml:13: comparisons[1] (colour).which_question: does nothing: 'ask: side' asks no perspective",
            "basics.yaml:20: comparisons[2] (price).question: does nothing: 'ask: perspective' asks no side",
        ],
    ),
    (
        "several problems at once",
        item("id: origin\ntitle: yes\nexplanation: 'a {{b'\nextra: 1\n"),
        [
            "basics.yaml:5: items[0] (origin).title: expected text, found 'yes': YAML reads it as "
            "true/false (yes, no, on, off are booleans in YAML 1.1); put it in quotes",
            "basics.yaml:6: items[0] (origin).explanation: a '{{' is never closed with '}}'",
            "basics.yaml:7: items[0]: unknown key 'extra' (expected one of: id, perspective, title, "
            "cue, question, explanation, points, conclusion, tags)",
        ],
    ),
]


@pytest.mark.parametrize("name, topic, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_topic_is_reported_and_nothing_is_written(tmp_path, name, topic, expected):
    source = write_source(tmp_path / "src", topic=topic)
    out = tmp_path / "out"
    result = run_build(source, out)
    assert result.exit_code == 1, result.output
    prefix = str(source) + "/"
    lines = result.stderr.splitlines()
    assert [line.removeprefix(prefix) for line in lines[:-1]] == expected
    assert lines[-1].startswith(f"Error: {len(expected)} problem")
    assert "Traceback" not in result.output
    assert not out.exists()


def test_duplicate_ids_across_files(tmp_path):
    source = write_source(tmp_path / "src", extra={"more.yaml": TOPIC.replace("basics", "more")})
    result = run_build(source, tmp_path / "out")
    assert result.exit_code == 1
    assert f"{source}/more.yaml:4: origin: duplicate id 'origin' (first used at {source}/basics.yaml:4)" in result.stderr
    assert f"{source}/more.yaml:11: caffeine: duplicate id 'caffeine' (first used at {source}/basics.yaml:11)" in result.stderr


def test_failed_build_leaves_existing_decks_untouched(tmp_path):
    source = write_source(tmp_path / "src")
    out = tmp_path / "out"
    assert run_build(source, out).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    (source / "basics.yaml").write_text(TOPIC.replace("title: Origin", "title: off"), encoding="utf-8")
    result = run_build(source, out)
    assert result.exit_code == 1
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_missing_config_and_non_utf8(tmp_path):
    source = write_source(tmp_path / "src")
    (source / "deckgen.yaml").unlink()
    (source / "basics.yaml").write_bytes(TOPIC.encode() + b"# caf\xe9\n")
    result = run_build(source, tmp_path / "out")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[:2] == [
        f"{source}/basics.yaml:16: is not valid UTF-8 (byte 0xe9); save it as UTF-8",
        f"{source}/deckgen.yaml:1: missing: a source folder needs a deckgen.yaml (see README)",
    ]
