"""A topic's warnings are kept in the cache in a compact form, each file's once, and a rebuild prints from it.

The form is :class:`~generator.errors.FileWarnings`: a file's name, then each
warning as the line it prints after the name (or its JSON, where that line
would not read back as it), that text packed with zlib (base64 in the cache's
JSON).  A rebuild that reuses a topic, or the whole last build, prints what
this form holds, byte for byte what a build from scratch prints.
"""

from __future__ import annotations

import base64
import json
import shutil
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

import generator.errors
from generator.cli import main
from generator.errors import DeckgenError, FileWarnings, Problem, Warnings, file_warnings
from generator.pipeline.cachefile import read_cache
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.pipeline.reuse import Record, warnings_of

from .support import T1, T2

SMELLY = Path(__file__).resolve().parent / "sources" / "smelly"

# Every shape a warning may have, each a line of the compact form or a JSON row, and in one file's order.
PROBLEMS = (
    Problem("a.yaml", 3, "item x", 'a "quoted" é', "warning"),
    Problem("a.yaml", 4, "", "no place", "warning"),
    Problem("a.yaml", 4, "where: with a colon", "m", "warning"),
    Problem("a.yaml", 4, "item:", "ends in a colon", "warning"),
    Problem("a.yaml", 5, "item y", "warning: says so twice", "warning"),
    Problem("a.yaml", 6, "item z", "an error", "error"),
    Problem("a.yaml", 7, "item w", "m", "warning", column=7),
    Problem("a.yaml", 8, "item\u202ev", "a right-to-left override", "warning"),
    Problem("a.yaml", 9, "item v", "two\nlines", "warning"),
    Problem("a.yaml", 10, "item u", "[starts as a row", "warning"),
    Problem("a\nb.yaml", -1, "item t", "a file with a line break", "warning"),
)


def _record(warnings: tuple[FileWarnings, ...] = file_warnings(PROBLEMS)) -> Record:
    return Record("f", "a.yaml", "s", ("Deck",), 2, 3, warnings)


def test_every_warning_reads_back_as_the_problem_it_was_written_from_and_prints_as_it():
    warnings = Warnings.of(file_warnings(reversed(PROBLEMS)))
    assert [part.file for part in warnings.files] == sorted({problem.file for problem in PROBLEMS})
    assert list(warnings) == sorted(PROBLEMS) and len(warnings) == len(PROBLEMS)
    assert list(warnings.lines()) == [str(problem) for problem in sorted(PROBLEMS)]
    plain = file_warnings(p for p in PROBLEMS if p.line == 3 or p.where == "item:")
    assert plain[0].text == "3: item x: warning: a \"quoted\" é\n4: item:: warning: ends in a colon"  # one name


def test_a_record_reads_back_with_its_warnings_each_file_named_once():
    record = _record()
    read = Record.from_data(json.loads(json.dumps(record.to_data())))
    assert read == record
    kept = record.to_data()["warnings"]
    assert list(kept) == [part.file for part in record.warnings]  # each file named once
    for part in record.warnings:  # its text packed, and the CRC-32 of that
        assert kept[part.file] == [zlib.crc32(part.packed_bytes()), base64.b64encode(part.packed_bytes()).decode()]
    assert warnings_of(kept) == record.warnings and sum(map(len, kept.values())) < len(PROBLEMS) * 40


PACKED = file_warnings(PROBLEMS)[0].packed_bytes()
DAMAGED = [zlib.crc32(PACKED), base64.b64encode(PACKED[:-3] + b"abc").decode()]


@pytest.mark.parametrize(
    "kept",
    [
        '"[]"', "[]", '{"a.yaml": ""}', '{"a.yaml": 3}', '{"a.yaml": [3]}', '{"a.yaml": "3: item: warning: m"}',
        json.dumps({"a.yaml": DAMAGED[1]}), json.dumps({"a.yaml": DAMAGED}),
    ],
)
def test_warnings_of_another_shape_read_as_no_record(kept):
    # '"[]"': an older shape, their JSON text; "3: item: ...": another, their text unpacked; then one packed
    # without its CRC-32, and one whose bytes are not those the CRC-32 was of.
    data = _record().to_data() | {"warnings": json.loads(kept)}
    with pytest.raises((TypeError, AttributeError, ValueError)):
        Record.from_data(data)


def test_a_line_of_another_shape_is_refused_when_read_back():
    for text in ("3 item x warning m", "x: item: warning: m", "3: item: m", '[3,"w","m","note",0]', "[3"):
        with pytest.raises(DeckgenError, match="^a.yaml: its warnings, as the last build kept them, do not read"):
            FileWarnings("a.yaml", text).problems()
    with pytest.raises(DeckgenError):  # printed from its rows, each read back
        FileWarnings("a.yaml", '[3,"w","m","warning",0]\n[3').lines()


def test_lines_another_hand_wrote_are_printed_as_a_problem_prints_them():
    # A cache holds what this code wrote; one edited by hand may hold an escape sequence, printed escaped.
    (line,) = FileWarnings("a.yaml", "3: item: warning: \x1b[2Jcleared").lines()
    assert line == str(Problem("a.yaml", 3, "item", "\x1b[2Jcleared", "warning")) and "\x1b" not in line


def test_a_files_printed_text_is_its_lines_joined_whatever_its_form():
    """A build prints a file's warnings as one text (tens of thousands of lines at a write): the same lines."""
    (written,) = file_warnings(PROBLEMS[:5])
    by_hand = FileWarnings("a.yaml", "3: item: warning: \x1b[2Jcleared\n4: other: warning: plain")
    rows = FileWarnings("a.yaml", '[3,"item","two\\nlines","warning",0]')
    for part in (written, by_hand, rows):  # each line as its warning prints, read back from the cache's text
        assert part.printed() == "\n".join(str(problem) for problem in part.problems())
    assert sorted(written.printed().split("\n")) == sorted(str(problem) for problem in PROBLEMS[:5])
    assert "\x1b" not in by_hand.printed()
    assert list(Warnings((written, by_hand)).printed()) == [written.printed(), by_hand.printed()]


def test_warnings_in_a_moved_folder_name_the_file_there_and_keep_the_rest():
    (part,) = file_warnings(PROBLEMS[:3])
    moved = part.in_file("elsewhere/a.yaml")
    assert moved.problems() == [Problem("elsewhere/a.yaml", p.line, p.where, p.message, p.severity) for p in PROBLEMS[:3]]


def test_whether_there_are_warnings_is_known_without_unpacking_them(monkeypatch):
    packed = Warnings(tuple(part.packed() for part in file_warnings(PROBLEMS)))
    monkeypatch.setattr(zlib, "decompress", None)  # a --strict build asks before it reads them
    assert packed and not Warnings()


def test_a_files_parts_are_merged_in_order():
    first, second = file_warnings(PROBLEMS[:10:2])[0], file_warnings(PROBLEMS[1:10:2])[0]
    assert list(Warnings.of([second, first])) == sorted(PROBLEMS[:10])


def _two_topics(tmp_path: Path) -> Path:
    source = tmp_path / "src"
    shutil.copytree(SMELLY, source)
    text = (source / "basics.yaml").read_text(encoding="utf-8")
    more = text.replace("topic: basics", "topic: more").replace("name: Basics", "name: More").replace("id: ", "id: m-")
    (source / "more.yaml").write_text(more, encoding="utf-8")
    return source


def test_an_unchanged_topics_warnings_are_written_back_as_the_last_build_wrote_them(tmp_path):
    source = _two_topics(tmp_path)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    first = json.loads((out / ".deckgen-cache.json").read_text(encoding="utf-8"))
    assert list(first["topics"]["more"]["warnings"]) == [str(source / "more.yaml")]  # a topic with warnings
    basics = source / "basics.yaml"
    basics.write_text(basics.read_text(encoding="utf-8").replace("Green tea is", "Green tea was"), encoding="utf-8")
    report = build(BuildConfig(str(source), str(out), timestamp=T2))
    again = json.loads((out / ".deckgen-cache.json").read_text(encoding="utf-8"))
    assert again["topics"]["more"] == first["topics"]["more"]
    cache = read_cache(str(out))
    assert cache is not None
    kept = Warnings.of([*cache.warnings, *(part for record in cache.topics.values() for part in record.warnings)])
    assert kept == report.warnings  # the report's, read back


def _run(source: Path, out: Path, *options: str, color: bool = False) -> tuple[int, str, str]:
    args = ["build", "--source", str(source), "--out", str(out), "--lock", str(out) + ".lock", *options]
    result = CliRunner().invoke(main, args, color=color, env={"SOURCE_DATE_EPOCH": str(T1)})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("options", "color", "no_color"),
    [((), False, False), ((), True, False), ((), True, True), (("-q",), True, False), (("--strict",), True, False)],
)
def test_a_rebuild_prints_its_warnings_as_a_build_from_scratch_does(tmp_path, monkeypatch, options, color, no_color):
    monkeypatch.delenv("NO_COLOR", raising=False)
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    source, out = _two_topics(tmp_path), tmp_path / "out"
    _run(source, out)  # the last build, whose cache the rebuilds read
    (source / "more.yaml").write_text((source / "more.yaml").read_text(encoding="utf-8") + "# edited\n", "utf-8")
    scratch = _run(source, tmp_path / "scratch", *options, color=color)
    if "--strict" not in options:  # a strict build reads them back as problems: they are its errors
        monkeypatch.setattr(generator.errors, "_problem", None)  # the rebuilds print without reading one back
    reused = _run(source, out, *options, color=color)  # basics reused, more built again
    _run(source, out)  # (a strict build wrote nothing)
    nothing = _run(source, out, *options, color=color)  # nothing changed: the last build's report, from its cache
    assert scratch[2].count("warning: ") > 10 and (color and not no_color) == ("\x1b[" in scratch[2])
    assert reused[::2] == nothing[::2] == scratch[::2]  # exit code and stderr; stdout counts what changed


def test_the_cache_is_written_from_pieces_made_as_they_are_written(tmp_path):
    """The cache of a smelly source is mostly its warnings: encoded piece by piece while it is written,
    never held whole, and the file is the bytes the cache stands for."""
    source = _two_topics(tmp_path)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    cache = read_cache(str(out))
    assert cache is not None and cache.topics["more"].warnings
    pieces = cache.to_pieces()
    assert iter(pieces) is pieces  # an iterator: no piece is made before the writer asks for it
    assert b"".join(pieces) == cache.to_bytes() == (out / ".deckgen-cache.json").read_bytes()
    whole = json.dumps(json.loads(cache.to_bytes()), separators=(",", ":"), ensure_ascii=False)
    assert cache.to_bytes() == whole.encode("utf-8") + b"\n"  # compact JSON, as one dump of it writes it


def test_packed_warnings_are_the_same_warnings_held_compressed():
    for part in (*file_warnings(PROBLEMS), FileWarnings("a.yaml", "3: item: warning: \x1b[2Jcleared")):
        packed = part.packed()
        assert isinstance(packed.body, bytes) and len(packed.body) < len(part.text.encode()) + 20
        assert packed == part and hash(packed) == hash(part) and packed.packed() is packed
        assert (packed.text, packed.lines(), packed.printed(), len(packed)) == (
            part.text, part.lines(), part.printed(), len(part)
        )
        assert packed.problems() == part.problems() and packed.names("a.yaml") == part.names("a.yaml")
        assert packed.in_file("b.yaml") == part.in_file("b.yaml") and packed.in_file("b.yaml").body == packed.body
        assert _record((packed,)).to_data() == _record((part,)).to_data()


def test_a_built_topic_holds_its_warnings_packed_and_the_cache_keeps_them_so(tmp_path):
    """A build holds every topic's warnings until it prints them: packed, and written to the cache as they are."""
    source, out = _two_topics(tmp_path), tmp_path / "out"
    report = build(BuildConfig(str(source), str(out), timestamp=T1))
    kept = json.loads((out / ".deckgen-cache.json").read_text(encoding="utf-8"))["topics"]["more"]["warnings"]
    held = [part for part in report.warnings.files if part.file.endswith("more.yaml")]
    assert held and all(isinstance(part.body, bytes) for part in held)
    assert {part.file: part.packed_bytes() for part in held} == {file: base64.b64decode(text) for file, (_, text) in kept.items()}



@pytest.mark.parametrize(
    "body", [b"not zlib", zlib.compress(b""), zlib.compress("é".encode("latin-1")), zlib.compress(b'[3,"w"]')]
)
@pytest.mark.parametrize("options", [(), ("--strict",)])
def test_warnings_damaged_past_their_crc_say_so_in_one_line(tmp_path, body, options):
    """A cache edited by hand, CRC-32 and all: the rebuild that prints its warnings says what to do, no traceback."""
    source, out = _two_topics(tmp_path), tmp_path / "out"
    assert _run(source, out)[0] == 0
    cache = out / ".deckgen-cache.json"
    data = json.loads(cache.read_text(encoding="utf-8"))
    (file,) = data["topics"]["more"]["warnings"]
    data["topics"]["more"]["warnings"][file] = [zlib.crc32(body), base64.b64encode(body).decode()]
    cache.write_text(json.dumps(data), encoding="utf-8")
    args = ["build", "--source", str(source), "--out", str(out), "--lock", str(out) + ".lock", *options]
    result = CliRunner().invoke(main, args, env={"SOURCE_DATE_EPOCH": str(T1)})
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception
    assert result.stderr.splitlines()[-1] == (
        f"Error: {file}: its warnings, as the last build kept them, do not read: delete the build cache "
        "(.deckgen-cache.json in the out folder) and build again"
    )
