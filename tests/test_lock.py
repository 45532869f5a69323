"""The lock is validated like a source: every damaged or hand-edited lock is refused.

Each case of :data:`CASES` is a lock (the lock a build of :data:`TOPIC` wrote,
edited, or a text of its own) and the exact lines ``deckgen`` must print for
it, the lock's path shown as ``deckgen.lock``.  ``deckgen plan`` and ``deckgen
build`` both run on it: both must exit 1 with exactly those lines and the
count, without a traceback, and the build must write nothing (no output
folder, the lock's bytes as they were, no temporary file left).

A problem of the lock's content reads "deckgen.lock:1: the lock cannot be read
(WHERE, line N: WHAT); restore it from version control", the form deckgen has
always used for a lock it refuses (tests/test_regenerate.py pins it), with the
place of the problem inside the parentheses; a problem of the file itself
(size, encoding, JSON syntax, nesting) is reported at its own line.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path

import pytest
from click.testing import CliRunner

import generator.source.guarded as guarded
from generator.cli import main
from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.lock import located, model, times, write
from generator.pipeline.lock.model import MAX_LOCK_BYTES, MAX_TIME
from generator.pipeline.lock.read import read_lock
from generator.pipeline.lock.write import dump_lock
from generator.pipeline.pipeline import build, plan

from .support import write_source

TOPIC = """\
topic: basics
name: Basics
question: Which drink is this?
items:
  - id: origin
    perspective: tea
    title: "{{Origin}}"
    explanation: Tea comes from {{China}}.
  - id: brewing
    perspective: coffee
    title: Brewing
    explanation: Coffee is brewed from {{roasted beans}}.
comparisons:
  - id: caffeine
    dimension: Caffeine
    sides:
      tea: Less
      coffee: More
"""
T1 = 1_700_000_000
T2 = T1 + 1000

# The lock a build of TOPIC writes at T1 has its note types on lines 4 and 5 and
# these notes, sorted, on lines 8 to 14:
BREWING = "drinks/brewing/perspective"  # line 8: a comparison note of 1 card
BEANS = "drinks/brewing/term/explanation/roasted-beans"  # line 9: a cloze note
COFFEE = "drinks/caffeine/side/coffee"  # line 10: a comparison note of 2 cards
TITLE = "drinks/origin/title"  # line 14: a cloze note
GUIDS = {BREWING: "de0}_4km-N", BEANS: "xW/5J]s}K+", COFFEE: "O8@L$8r;,#", TITLE: "vNWE/(M@$f"}
LINES = {BREWING: 8, BEANS: 9, COFFEE: 10, TITLE: 14}
TIME = f"a whole number of seconds from 0 to {MAX_TIME}"
IDS = "a list of ids (whole numbers from 1 to 9223372036854775807, or null where unknown)"


@pytest.fixture(scope="module")
def valid_lock(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The lock a build of TOPIC writes (checked against what the cases assume)."""
    source = write_source(tmp_path_factory.mktemp("valid") / "src", TOPIC)
    build(BuildConfig(str(source), str(source.parent / "out"), timestamp=T1, release=True))
    text = (source / "deckgen.lock").read_text(encoding="utf-8")
    lines = text.splitlines()
    assert len(lines) == 16 and lines[3].startswith('  "cloze": ') and lines[4].startswith('  "comparison": ')
    for key, number in LINES.items():
        assert lines[number - 1].startswith(f"  {json.dumps(key)}: "), (key, lines[number - 1])
        assert json.loads(text)["notes"][key]["guid"] == GUIDS[key]
    return text


def refused(place: str, what: str) -> str:
    """The line for a problem of the lock's content at *place* ("note 'key', line N", "line N")."""
    where, _, line = place.rpartition("line ")
    where = where.rstrip(", ")
    located = f"deckgen.lock:{line}: {where}: " if where else f"deckgen.lock:{line}: "
    return f"{located}the lock cannot be read: {what}; restore it from version control"


def note(key: str) -> str:
    return f"note {key!r}, line {LINES[key]}"


# --- how a case makes its lock --------------------------------------------------

Make = Callable[[str], "str | bytes"]


def text(literal: str | bytes) -> Make:
    return lambda valid: literal


def edit(old: str, new: str, key: str | None = None) -> Make:
    """Replace *old* by *new* once: in the line of note *key*, else anywhere."""

    def make(valid: str) -> str:
        lines = valid.split("\n")
        number = LINES[key] - 1 if key else next(i for i, line in enumerate(lines) if old in line)
        assert old in lines[number], (old, lines[number])
        lines[number] = lines[number].replace(old, new, 1)
        return "\n".join(lines)

    return make


def edits(*makers: Make) -> Make:
    def make(valid: str) -> str:
        for maker in makers:
            valid = maker(valid)  # type: ignore[assignment]
        return valid

    return make


def insert_line(after: int, line: str) -> Make:
    def make(valid: str) -> str:
        lines = valid.split("\n")
        return "\n".join([*lines[:after], line, *lines[after:]])

    return make


def replace_line(number: int, line: str) -> Make:
    def make(valid: str) -> str:
        lines = valid.split("\n")
        return "\n".join([*lines[: number - 1], line, *lines[number:]])

    return make


def without_line(number: int) -> Make:
    def make(valid: str) -> str:
        lines = valid.split("\n")
        return "\n".join(lines[: number - 1] + lines[number:])

    return make


def entry(key: str, **fields: object) -> str:
    """A note line (with its comma) as deckgen writes it, *fields* changed."""
    value = {
        "cards": 1, "deck": "Drinks::Basics", "guid": "zzzzzzzzzz", "hash": "removed", "label": "Gone",
        "mod": T1, "note_type": "cloze", "removed": T1, "topic": "basics",
    }
    value.update(fields)
    return f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True, ensure_ascii=False)},"


@dataclass(frozen=True)
class Case:
    name: str
    make: Make
    expected: list[str]


def mod(value: str, shown: str | None = None) -> Case:
    return Case(
        f"mod {value[:20]}",
        edit(f'"mod": {T1}', f'"mod": {value}', BREWING),
        [refused(note(BREWING), f"mod should be {TIME}, not {shown or value}")],
    )


DEEP_ARRAYS = "[" * 200_000
DEEP_OBJECTS = '{"a": ' * 200_000

CASES = [
    # --- the file -----------------------------------------------------------------
    Case("bad JSON", text('{"version": 1,\n"notes": [}\n'), ["deckgen.lock:2: the lock is not valid JSON: Expecting value"]),
    Case("truncated", lambda valid: valid[: valid.index('"label"', valid.index(BEANS))],
         ["deckgen.lock:9: the lock is not valid JSON: Expecting property name enclosed in double quotes"]),
    Case("empty file", text(""), ["deckgen.lock:1: the lock is not valid JSON: Expecting value"]),
    Case("trailing garbage", lambda valid: valid + "}\n", ["deckgen.lock:17: the lock is not valid JSON: Extra data"]),
    Case("NaN is not JSON's", edit(f'"mod": {T1}', '"mod": NaN', BREWING), [refused(note(BREWING), f"mod should be {TIME}, not NaN")]),
    Case("raw control character in a string", edit('"label": "Brewing', '"label": "Brew\x01ing', BREWING),
         ["deckgen.lock:8: the lock is not valid JSON: Invalid control character at"]),
    Case("byte-order mark", lambda valid: b"\xef\xbb\xbf" + valid.encode(),
         ["deckgen.lock:1: the lock starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"]),
    Case("not UTF-8", lambda valid: valid.replace('"Caffeine · Coffee"', '"Caf\xe9"').encode("latin-1", "replace"),
         ["deckgen.lock:10: the lock is not valid UTF-8 (byte 0xe9); restore it from version control"]),
    Case("200k nested lists", text(DEEP_ARRAYS),
         [f"deckgen.lock:1: the lock nests lists or objects deeper than a lock can ({located.MAX_DEPTH} levels); "
          "restore it from version control"]),
    Case("200k nested lists, closed", text("\n" + DEEP_ARRAYS + "]" * 200_000),
         ["deckgen.lock:2: the lock nests lists or objects deeper than a lock can (4 levels); restore it from version control"]),
    Case("200k nested objects", text(DEEP_OBJECTS + "1" + "}" * 200_000),
         ["deckgen.lock:1: the lock nests lists or objects deeper than a lock can (4 levels); restore it from version control"]),
    Case("200k nested lists in a note", edit('"label": "Brewing (Basics)"', f'"label": {DEEP_ARRAYS}', BREWING),
         ["deckgen.lock:8: the lock nests lists or objects deeper than a lock can (4 levels); restore it from version control"]),
    Case("one level too deep", edit('"fields": ["Text"', '"fields": [["Text"]'),
         ["deckgen.lock:4: the lock nests lists or objects deeper than a lock can (4 levels); restore it from version control"]),
    # --- the top level ----------------------------------------------------------------
    Case("a list", text("[]\n"),
         [refused("line 1", 'the lock should be an object of "version", "note_types" and "notes", not a list')]),
    Case("null", text("null"),
         [refused("line 1", 'the lock should be an object of "version", "note_types" and "notes", not null')]),
    Case("version true", edit('"version": 1', '"version": true'), [refused("line 2", "version should be 1, not true")]),
    Case("version 2", edit('"version": 1', '"version": 2'), [refused("line 2", "version should be 1, not 2")]),
    Case("version string", edit('"version": 1', '"version": "1"'), [refused("line 2", 'version should be 1, not "1"')]),
    Case("version float", edit('"version": 1', '"version": 1.0'), [refused("line 2", "version should be 1, not 1.0")]),
    Case("version null", edit('"version": 1', '"version": null'), [refused("line 2", "version should be 1, not null")]),
    Case("version missing", without_line(2), [refused("line 1", '"version" is missing')]),
    Case("notes missing", text('{"version": 1, "note_types": {}}'), [refused("line 1", '"notes" is missing')]),
    Case("extra top-level field", insert_line(2, '"comment": "hand-made",'), [refused("line 3", 'unknown field "comment"')]),
    Case("notes a list", text('{"version": 1, "note_types": {},\n "notes": []}'),
         [refused("line 2", "notes should be an object of notes by key, not a list")]),
    Case("note_types a string", text('{"version": 1, "note_types": "cloze", "notes": {}}'),
         [refused("line 1", 'note_types should be an object of note types by kind, not "cloze"')]),
    # --- duplicate keys, at each level ---------------------------------------------
    Case("duplicate top-level key", insert_line(2, '"version": 1,'), [refused("line 3", '"version" appears twice (first on line 2)')]),
    Case("duplicate note type", insert_line(4, '  "cloze": {},'),
         [refused("note type 'cloze', line 5", 'appears twice in "note_types" (first on line 4)')]),
    Case("duplicate note type field", edit(f'"mod": {T1},', f'"mod": {T1}, "mod": {T1},'),
         [refused("note type 'cloze', line 4", '"mod" appears twice')]),
    Case("duplicate note", lambda valid: insert_line(8, valid.split("\n")[7])(valid),
         [refused(f"note {BREWING!r}, line 9", 'appears twice in "notes" (first on line 8)')]),
    Case("duplicate note field", edit('"cards": 2,', '"cards": 2, "cards": 1,', COFFEE), [refused(note(COFFEE), '"cards" appears twice')]),
    # --- note types -------------------------------------------------------------------
    Case("unknown note type", insert_line(3, '  "basic": {},'),
         [refused("note type 'basic', line 4", 'is not a note type of deckgen (they are "cloze" and "comparison")')]),
    Case("note type id a string", edit('"id": 1739462201', '"id": "1739462201"'),
         [refused("note type 'cloze', line 4",
                  'id should be a note type id (a whole number from 1 to 9223372036854775807), not "1739462201"')]),
    Case("note type mod 2**63", edit(f'"mod": {T1}', f'"mod": {2**63}'),
         [refused("note type 'cloze', line 4", f"mod should be {TIME}, not {2**63}")]),
    Case("note type mod a string", edit(f'"mod": {T1}', f'"mod": "{T1}"'),
         [refused("note type 'cloze', line 4", f'mod should be {TIME}, not "{T1}"')]),
    Case("note type mod null", edit(f'"mod": {T1}', '"mod": null'),
         [refused("note type 'cloze', line 4", f"mod should be {TIME}, not null")]),
    Case("note type mod a float", edit(f'"mod": {T1}', f'"mod": {T1}.0'),
         [refused("note type 'cloze', line 4", f"mod should be {TIME}, not {T1}.0")]),
    Case("note type mod missing", edit(f'"mod": {T1}, ', ""),
         [refused("note type 'cloze', line 4", '"mod" is missing')]),
    Case("note type fields not names", edit('"fields": ["Text"', '"fields": [1'),
         [refused("note type 'cloze', line 4", "fields should be a list of field names, not a list")]),
    Case("note type missing and extra fields", edit('"id": 1739462201, ', '"css": "", '),
         [refused("note type 'cloze', line 4", '"id" is missing'), refused("note type 'cloze', line 4", 'unknown field "css"')]),
    Case("note type an array", replace_line(4, '  "cloze": [],'),
         [refused("note type 'cloze', line 4", "should be an object, not a list")]),
    Case("field ids not ids", edit('"field_ids": [', '"field_ids": ["Text", '),
         [refused("note type 'cloze', line 4", f"field_ids should be {IDS}, not a list")]),
    Case("template ids a number", edit('"template_ids": [7660723501352499]', '"template_ids": 7660723501352499'),
         [refused("note type 'cloze', line 4", f"template_ids should be {IDS}, not 7660723501352499")]),
    Case("field id 0", edit('"field_ids": [', '"field_ids": [0, '), [
        refused("note type 'cloze', line 4", f"field_ids should be {IDS}, not a list"),
    ]),
    Case("field ids one short", edit('"field_ids": [6230337802923449, ', '"field_ids": ['),
         [refused("note type 'cloze', line 4", "field_ids should hold one id for each of the 4 fields, not 3")]),
    Case("template ids one too many", edit('"template_ids": [', '"template_ids": [null, '),
         [refused("note type 'cloze', line 4", "template_ids should hold one id for each of the 1 templates, not 2")]),
    # --- mod ---------------------------------------------------------------------------
    mod('"1700000000"'),
    mod("null"),
    mod("1700000000.5"),
    mod("1.7e9", "1700000000.0"),
    mod("true"),
    mod("-1"),
    mod(str(2**63)),
    mod(str(2**62)),  # fits SQLite, but genanki's ids (time * 1000) would not
    mod(str(MAX_TIME + 1)),
    mod("9" * 5000, "a number of 5,000 digits"),
    Case("mod an object", edit(f'"mod": {T1}', '"mod": {"s": 1}', BREWING), [refused(note(BREWING), f"mod should be {TIME}, not an object")]),
    # --- the other note fields ----------------------------------------------------------
    Case("removed a string", edit('"removed": null', '"removed": "yesterday"', BREWING),
         [refused(note(BREWING), f'removed should be null or {TIME}, not "yesterday"')]),
    Case("removed negative", edit('"removed": null', '"removed": -5', BREWING),
         [refused(note(BREWING), f"removed should be null or {TIME}, not -5")]),
    Case("removed false", edit('"removed": null', '"removed": false', BREWING),
         [refused(note(BREWING), f"removed should be null or {TIME}, not false")]),
    Case("cards 0", edit('"cards": 1', '"cards": 0', BREWING), [refused(note(BREWING), "cards should be 1 or 2, not 0")]),
    Case("cards 3", edit('"cards": 2', '"cards": 3', COFFEE), [refused(note(COFFEE), "cards should be 1 or 2, not 3")]),
    Case("cards a string", edit('"cards": 1', '"cards": "1"', BREWING), [refused(note(BREWING), 'cards should be 1 or 2, not "1"')]),
    Case("cards true", edit('"cards": 1', '"cards": true', BREWING), [refused(note(BREWING), "cards should be 1 or 2, not true")]),
    Case("two cards of a cloze note", edit('"cards": 1', '"cards": 2', TITLE),
         [refused(note(TITLE), "cards should be 1 for a cloze note, not 2")]),
    Case("unknown note type of a note", edit('"note_type": "cloze"', '"note_type": "basic"', TITLE),
         [refused(note(TITLE), 'note_type should be "cloze" or "comparison", not "basic"')]),
    Case("topic a path", edit('"topic": "basics"', '"topic": "../x"', TITLE),
         [refused(note(TITLE), 'topic should be a topic id (lowercase letters and digits, joined by - or _), not "../x"')]),
    Case("deck empty", edit('"deck": "Drinks::Basics::Tea"', '"deck": ""', TITLE),
         [refused(note(TITLE), 'deck should be a deck name (not empty, without control characters), not ""')]),
    Case("deck with a control character", edit('"deck": "Drinks::Basics::Tea"', '"deck": "Drinks\\u0007"', TITLE),
         [refused(note(TITLE), 'deck should be a deck name (not empty, without control characters), not "Drinks\\u0007"')]),
    Case("label a number", edit('"label": "Origin"', '"label": 5', TITLE), [refused(note(TITLE), "label should be a string, not 5")]),
    Case("label a lone surrogate", edit('"label": "Origin"', '"label": "Ori\\ud800gin"', TITLE),
         [refused(note(TITLE), "label holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")]),
    Case("hash not a hash", edit('"hash": "b1bb1806976d4e85"', '"hash": "b1bb"', TITLE),
         [refused(note(TITLE), 'hash should be a content hash (16 hexadecimal digits) or "removed", not "b1bb"')]),
    Case("missing field", edit(f'"mod": {T1}, ', "", TITLE), [refused(note(TITLE), '"mod" is missing')]),
    Case("extra field", edit('"cards": 1, ', '"cards": 1, "colour": "red", ', TITLE), [refused(note(TITLE), 'unknown field "colour"')]),
    Case("a note that is a string", replace_line(LINES[TITLE], f'  "{TITLE}": "gone"'),
         [refused(note(TITLE), 'should be an object, not "gone"')]),
    Case("empty key", insert_line(7, entry("")), [refused("note '', line 8", "a note's key should be a string, not empty, without control characters")]),
    Case("key of one part", insert_line(7, entry("justakey")),
         [refused("note 'justakey', line 8", 'a note\'s key should be <source>/<item>/<part>, as a build writes it, not "justakey"')]),
    Case("key of two parts", insert_line(7, entry("drinks/gone")),
         [refused("note 'drinks/gone', line 8", 'a note\'s key should be <source>/<item>/<part>, as a build writes it, not "drinks/gone"')]),
    # --- GUIDs -------------------------------------------------------------------------
    Case("guid a number", edit(f'"guid": {json.dumps(GUIDS[TITLE])}', '"guid": 5', TITLE),
         [refused(note(TITLE), "guid should be a GUID (a string, not empty, without spaces or control characters), not 5")]),
    Case("guid empty", edit(f'"guid": {json.dumps(GUIDS[TITLE])}', '"guid": ""', TITLE),
         [refused(note(TITLE), 'guid should be a GUID (a string, not empty, without spaces or control characters), not ""')]),
    Case("guid with a space", edit(f'"guid": {json.dumps(GUIDS[TITLE])}', '"guid": "a b"', TITLE),
         [refused(note(TITLE), 'guid should be a GUID (a string, not empty, without spaces or control characters), not "a b"')]),
    Case("guid of another note", edit(f'"guid": {json.dumps(GUIDS[TITLE])}', f'"guid": {json.dumps(GUIDS[BEANS])}', TITLE),
         [refused(note(TITLE), f'guid {json.dumps(GUIDS[BEANS])} is also the guid of note {BEANS!r}')]),
    # A removed note's entry holding the GUID of a note of the source the lock has no entry for:
    # its tombstone and the note would be one GUID twice in the package.
    Case("guid of a live note", replace_line(LINES[TITLE], entry("drinks/gone/title", guid=GUIDS[TITLE]).rstrip(",")),
         [refused("note 'drinks/gone/title', line 14", f'guid {json.dumps(GUIDS[TITLE])} is the guid of the source\'s note {TITLE!r}')]),
    Case("the latest time, changed", edits(edit(f'"mod": {T1}', f'"mod": {MAX_TIME}', TITLE), edit('"hash": "b1bb', '"hash": "0000', TITLE)),
         [refused(note(TITLE), f"mod is {MAX_TIME}, the latest time a lock may hold: the note changed and cannot get a newer one")]),
    # --- every problem at once ---------------------------------------------------------
    Case("three problems", edits(edit('"version": 1', '"version": "one"'), edit('"cards": 2', '"cards": 0', COFFEE),
                                 edit(f'"mod": {T1}', '"mod": -1', TITLE)),
         [refused("line 2", 'version should be 1, not "one"'), refused(note(COFFEE), "cards should be 1 or 2, not 0"),
          refused(note(TITLE), f"mod should be {TIME}, not -1")]),
]


def test_cases_have_unique_names():
    assert len({case.name for case in CASES}) == len(CASES) >= 60


def _snapshot(path: Path) -> object:
    """The lock's bytes, or (for a huge or odd one) what can be compared cheaply."""
    info = path.lstat()
    if path.is_file() and info.st_size <= MAX_LOCK_BYTES:
        return path.read_bytes()
    return (info.st_mode, info.st_size, info.st_mtime_ns)


def assert_refused(source: Path, tmp_path: Path, expected: list[str], lock_options: list[str] = ()) -> None:
    """plan and build: exit 1, exactly *expected* and the count, nothing written."""
    lock = Path(lock_options[1]) if lock_options else source / "deckgen.lock"
    before = _snapshot(lock)
    files_before = sorted(os.listdir(source))
    count = f"Error: {len(expected)} problem{'s' if len(expected) != 1 else ''} found; nothing was written."
    for command in ("plan", "build"):
        out = tmp_path / f"out-{command}"
        result = CliRunner().invoke(main, [command, "--source", str(source), "--out", str(out), *lock_options])
        assert "Traceback" not in result.output, result.output
        assert isinstance(result.exception, SystemExit), repr(result.exception)
        assert result.exit_code == 1, (command, result.output)
        lines = [line.replace(f"{lock}", "deckgen.lock") for line in result.stderr.splitlines()]
        assert lines == [*expected, count], command
        assert result.stdout == ""
        assert not out.exists()
        assert _snapshot(lock) == before
        assert sorted(os.listdir(source)) == files_before  # no temporary file left behind


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_bad_lock_is_refused_by_plan_and_build(tmp_path, valid_lock, case):
    source = write_source(tmp_path / "src", TOPIC)
    made = case.make(valid_lock)
    lock = source / "deckgen.lock"
    if isinstance(made, bytes):
        lock.write_bytes(made)
    else:
        lock.write_text(made, encoding="utf-8", newline="")
    assert_refused(source, tmp_path, case.expected)


def test_a_key_renamed_by_hand_is_refused_beside_the_last_build(tmp_path):
    """A build into the folder of the last one reads its records, which split each key of the lock into its
    source, item and part: a key of another shape is a located problem there too, never a traceback."""
    source = write_source(tmp_path / "src", TOPIC)
    out = tmp_path / "out"
    assert CliRunner().invoke(main, ["build", "-q", "--source", str(source), "--out", str(out)]).exit_code == 0
    lock = source / "deckgen.lock"
    key = next(iter(json.loads(lock.read_text(encoding="utf-8"))["notes"]))
    lock.write_text(lock.read_text(encoding="utf-8").replace(json.dumps(key), '"justakey"', 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(out)])
    assert "Traceback" not in result.output and isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code == 1, result.output
    assert "note 'justakey': the lock cannot be read: a note's key should be <source>/<item>/<part>" in result.stderr


def test_oversized_lock_is_refused_before_it_is_read(tmp_path, monkeypatch):
    source = write_source(tmp_path / "src", TOPIC)
    lock = source / "deckgen.lock"
    with open(lock, "wb") as handle:  # sparse: no 64 MiB written
        handle.truncate(MAX_LOCK_BYTES + 1)
    real_open = open

    def no_reading(path, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        assert str(path) != str(lock), "an oversized lock was opened"
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(guarded, "open", no_reading, raising=False)  # the lock is opened there
    size = f"{MAX_LOCK_BYTES + 1:,}"
    assert_refused(source, tmp_path, [
        f"deckgen.lock:1: the lock is {size} bytes; the limit is {MAX_LOCK_BYTES:,}; restore it from version control"
    ])


def test_lock_that_is_a_directory_is_refused(tmp_path):
    source = write_source(tmp_path / "src", TOPIC)
    (source / "deckgen.lock").mkdir()
    assert_refused(source, tmp_path, ["deckgen.lock:1: is a directory, not a lock file"])


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero here")
def test_lock_that_is_a_device_is_refused_unread():
    """read_lock never reads a device (/dev/zero would never end).

    Only read_lock, not `deckgen build --lock /dev/zero`: build's cache check
    (build._cached_report) reads the whole lock before read_lock runs.
    """
    with pytest.raises(ContentError) as caught:
        read_lock("/dev/zero")
    assert [str(p) for p in caught.value.problems] == [
        "/dev/zero:1: is not a regular file (a device, pipe or socket); restore the lock from version control"
    ]


def test_a_duplicate_key_in_a_large_lock_is_located(tmp_path, valid_lock):
    """The slow, locating parse runs only on a lock with a problem, and finds the line."""
    lines = valid_lock.split("\n")
    extra = [entry(f"drinks/gone/n{i:05}", guid=f"g{i:05}") for i in range(20_000)]
    extra[12_345] = extra[12_345].replace('"cards": 1,', '"cards": 1, "cards": 1,')
    text = "\n".join([*lines[:7], *extra, *lines[7:]])
    source = write_source(tmp_path / "src", TOPIC)
    (source / "deckgen.lock").write_text(text, encoding="utf-8")
    assert_refused(source, tmp_path, [refused(f"note 'drinks/gone/n12345', line {8 + 12_345}", '"cards" appears twice')])


# --- what is valid stays valid -------------------------------------------------------


def test_a_lock_written_by_a_build_round_trips(tmp_path, valid_lock):
    source = write_source(tmp_path / "src", TOPIC)
    lock = source / "deckgen.lock"
    lock.write_text(valid_lock, encoding="utf-8")
    assert dump_lock(read_lock(str(lock))) == valid_lock
    assert read_lock(str(lock)) == read_lock(str(lock))
    # plan and build accept it: nothing changed, so the lock is not rewritten.
    report = plan(BuildConfig(str(source), str(tmp_path / "planned"), timestamp=T2))
    assert report.total("unchanged") == report.notes == 7
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert lock.read_text(encoding="utf-8") == valid_lock
    # An edit and a removal: the lock the build writes (with a tombstone) reads back, and builds again.
    (source / "basics.yaml").write_text(
        TOPIC.replace("{{roasted beans}}", "{{ground}}, roasted beans").replace("      coffee: More\n", "      coffee: Much more\n"),
        encoding="utf-8",
    )
    build(BuildConfig(str(source), str(tmp_path / "out2"), timestamp=T2))
    written = lock.read_text(encoding="utf-8")
    assert '"removed": null' in written and f'"removed": {T2}' in written
    assert dump_lock(read_lock(str(lock))) == written
    for command in ("plan", "build"):
        result = CliRunner().invoke(main, [command, "--source", str(source), "--out", str(tmp_path / "out3")])
        assert result.exit_code == 0, (command, result.output)


def test_odd_but_valid_text_is_accepted(tmp_path, valid_lock):
    """Brackets, quotes and backslashes in strings are no nesting; the lock may be re-indented."""
    label = '[[[[[[ {{{ \\" \\\\ ]]]]]]]]]]]] }}}}}} \\u00e9 \\ud83c\\udf75'
    text = edit('"label": "Origin"', f'"label": "{label}"', TITLE)(valid_lock)
    text = edit('"label": "Brewing (Basics)"', '"label": "line one\\nline two"', BREWING)(text)
    pretty = json.dumps(json.loads(text), indent=4)
    for variant in (text, pretty):
        source = write_source(tmp_path / str(len(variant)) / "src", TOPIC)
        (source / "deckgen.lock").write_text(variant, encoding="utf-8")
        lock = read_lock(str(source / "deckgen.lock"))
        assert lock.notes[TITLE].label == '[[[[[[ {{{ " \\ ]]]]]]]]]]]] }}}}}} é 🍵'
        for command in ("plan", "build"):
            result = CliRunner().invoke(main, [command, "--source", str(source), "--out", str(source.parent / "out")])
            assert result.exit_code == 0, (command, result.output)


def test_the_latest_time_builds(tmp_path, valid_lock):
    """A lock's largest time reaches genanki and SQLite without overflowing anything."""
    source = write_source(tmp_path / "src", TOPIC)
    text = valid_lock.replace(f'"mod": {T1}', f'"mod": {MAX_TIME}')
    (source / "deckgen.lock").write_text(text, encoding="utf-8")
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2))
    assert report.total("unchanged") == report.notes
    assert (source / "deckgen.lock").read_text(encoding="utf-8") == text


def test_a_removed_note_keeps_its_guid_and_a_new_one_can_follow(tmp_path, valid_lock):
    """A tombstone's GUID is its own: removing and re-adding an item is no GUID clash."""
    source = write_source(tmp_path / "src", TOPIC)
    (source / "deckgen.lock").write_text(valid_lock, encoding="utf-8")
    without = TOPIC.replace('    title: "{{Origin}}"\n', "    title: Origin\n")
    (source / "basics.yaml").write_text(without, encoding="utf-8")
    build(BuildConfig(str(source), str(tmp_path / "a"), timestamp=T2))
    assert f'"removed": {T2}' in (source / "deckgen.lock").read_text(encoding="utf-8")
    (source / "basics.yaml").write_text(TOPIC, encoding="utf-8")
    report = build(BuildConfig(str(source), str(tmp_path / "b"), timestamp=T2 + 10))
    # Back with the text it had: in the package again, with the time students' copies have.
    assert (report.total("added"), report.total("updated")) == (1, 0)
    assert json.loads((source / "deckgen.lock").read_text(encoding="utf-8")) == json.loads(valid_lock)


def test_a_hopeless_build_time_is_an_error_not_a_traceback(tmp_path, monkeypatch):
    source = write_source(tmp_path / "src", TOPIC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(2**62))
    for command in ("plan", "build"):
        result = CliRunner().invoke(main, [command, "--source", str(source), "--out", str(tmp_path / "out")])
        assert result.exit_code == 1
        assert result.stderr == (
            f"Error: SOURCE_DATE_EPOCH must be a whole number of seconds from 0 to {MAX_TIME}, not '{2**62}'\n"
        )
    assert not (tmp_path / "out").exists() and not (source / "deckgen.lock").exists()


def test_a_lock_too_large_to_read_back_is_not_written(tmp_path, monkeypatch, valid_lock):
    monkeypatch.setattr(write, "MAX_LOCK_BYTES", len(valid_lock.encode()) - 1)
    source = write_source(tmp_path / "src", TOPIC)
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: the lock would be ")
    assert not (source / "deckgen.lock").exists() and not (tmp_path / "out").exists()


# --- one field list, typed change kinds ------------------------------------------------


def test_the_lock_writes_each_entry_with_the_fields_the_checker_reads(valid_lock):
    """The writer and the checker share one field list per entry: what is written is what is read."""
    parsed = json.loads(valid_lock)
    # A released note's entry leaves out "released" (so older locks read and write as they were).
    written = [f for f in model.LOCKED_NOTE_FIELDS if f not in model.OPTIONAL_NOTE_FIELDS]
    assert [list(note) for note in parsed["notes"].values()] == [written] * 7
    assert [list(entry) for entry in parsed["note_types"].values()] == [list(model.NOTE_TYPE_FIELDS)] * 2
    assert set(model.LOCKED_NOTE_FIELDS) == {f.name for f in fields(model.LockedNote)}


def test_change_kinds_are_counted_and_read_without_getattr():
    assert times.CHANGE_KINDS == tuple(f.name for f in fields(times.Changes))
    changes = times.Changes.count(["added", "removed", "removed", "unchanged"])
    assert [changes.of(kind) for kind in times.CHANGE_KINDS] == [1, 0, 1, 2]


def test_a_repeated_note_is_checked_and_located_at_its_first_entry(tmp_path, valid_lock):
    """The entry json keeps (the first) is checked; the repeated one's lines never replace its lines."""
    source = write_source(tmp_path / "src", TOPIC)
    (source / "deckgen.lock").write_text(insert_line(7, entry(TITLE, mod=-1))(valid_lock), encoding="utf-8")
    assert_refused(source, tmp_path, [
        refused(f"note {TITLE!r}, line 8", f"mod should be {TIME}, not -1"),
        refused(f"note {TITLE!r}, line 15", 'appears twice in "notes" (first on line 8)'),
    ])


# --- field and template ids -----------------------------------------------------------


def _without_ids(valid_lock: str) -> str:
    """*valid_lock* as deckgen wrote it before fields and templates had ids."""
    data = json.loads(valid_lock)
    for entry in data["note_types"].values():
        del entry["field_ids"], entry["template_ids"]
    return json.dumps(data, indent=1)


def test_a_lock_from_before_ids_reads_as_ids_unknown(tmp_path, valid_lock):
    path = tmp_path / "deckgen.lock"
    path.write_text(_without_ids(valid_lock), encoding="utf-8")
    cloze = read_lock(str(path)).note_types["cloze"]
    assert (cloze.fields, cloze.field_ids, cloze.templates, cloze.template_ids) == (
        ("Text", "Context", "Extra", "Source"), (None,) * 4, ("Cloze",), (None,)
    )


def test_a_lock_from_before_ids_builds_the_same_notes_and_gains_the_ids(tmp_path, valid_lock):
    """Its note types get a newer time, so a re-import brings students' note types the ids."""
    source = write_source(tmp_path / "src", TOPIC)
    (source / "deckgen.lock").write_text(_without_ids(valid_lock), encoding="utf-8")
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2))
    assert (report.total("added"), report.total("updated"), report.total("removed")) == (0, 0, 0)
    written = (source / "deckgen.lock").read_text(encoding="utf-8")
    assert written == valid_lock.replace(f'"mod": {T1}, "name": "deckgen', f'"mod": {T2}, "name": "deckgen')
    assert build(BuildConfig(str(source), str(tmp_path / "again"), timestamp=T2 + 1)).total("unchanged") == report.notes
    assert (source / "deckgen.lock").read_text(encoding="utf-8") == written  # the note types keep that time now


def test_a_renamed_field_gets_a_newer_note_type_time_even_if_the_clock_is_behind(tmp_path, monkeypatch, valid_lock):
    import generator.anki.notetypes as notetypes

    source = write_source(tmp_path / "src", TOPIC)
    (source / "deckgen.lock").write_text(valid_lock, encoding="utf-8")
    monkeypatch.setitem(notetypes.RENAMED_FIELDS["cloze"], "Extra", "Notes")
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1 - 100))
    cloze = read_lock(str(source / "deckgen.lock")).note_types["cloze"]
    assert (cloze.fields, cloze.field_ids, cloze.mod) == (
        ("Text", "Context", "Notes", "Source"), tuple(notetypes.CLOZE_FIELD_IDS.values()), T1 + 1
    )


@pytest.mark.parametrize(
    "note",
    [
        model.LockedNote("g", "0123456789abcdef", 5, "t", "D::E", "cloze", 1, "plain"),
        model.LockedNote('q"\\x', "0" * 16, MAX_TIME, "t-2", "Déck::\u00e9\u4e2d", "comparison", 2,
                               "a \"quoted\" label\twith\u2028 and é", removed=7, released=False),
    ],
)
def test_a_note_line_is_its_entry_as_sorted_json(note: model.LockedNote) -> None:
    entry = {f.name: getattr(note, f.name) for f in fields(note)}
    if note.released:
        del entry["released"]  # written only when false
    key = "src/it\u00e9m/part"
    expected = f"  {json.dumps(key, ensure_ascii=False)}: {json.dumps(entry, ensure_ascii=False, sort_keys=True)}"
    assert write._note_line(key, note) == expected
