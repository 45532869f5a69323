"""A reused topic's warnings are kept in the cache as the JSON text they were read as, and written back as they are."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

from generator.errors import Problem
from generator.pipeline.cachefile import read_cache
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.pipeline.reuse import Record, problem_data, problem_of, warnings_text

from .support import T1, T2

SMELLY = Path(__file__).resolve().parent / "sources" / "smelly"


def _record(text: str | None = None) -> Record:
    warnings = (Problem("a.yaml", 3, "item x", 'a "quoted" é', "warning"), Problem("a.yaml", 4, "", "m", "warning", column=7))
    return Record("f", "a.yaml", "s", ("Deck",), 2, 3, warnings, text)


def test_a_record_reads_back_with_its_warnings_text_and_writes_that_text_back():
    record = _record()
    read = Record.from_data(json.loads(json.dumps(record.to_data())))
    assert read == record and read.warnings_text == warnings_text(record.warnings)
    assert _record("[]").to_data()["warnings"] == "[]"  # the text kept, not the warnings encoded again


def test_a_cache_of_warnings_as_lists_reads_as_no_record():
    data = _record().to_data() | {"warnings": [["a.yaml", 3, "item x", "m", "warning"]]}
    try:
        Record.from_data(data)
    except TypeError:
        return
    raise AssertionError("a record of the older shape was read")


def test_an_unchanged_topics_warnings_are_written_back_as_the_last_build_wrote_them(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(SMELLY, source)
    text = (source / "basics.yaml").read_text(encoding="utf-8")
    (source / "more.yaml").write_text(text.replace("topic: basics", "topic: more").replace("name: Basics", "name: More").replace("id: ", "id: m-"), "utf-8")
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    first = json.loads((out / ".deckgen-cache.json").read_text(encoding="utf-8"))
    assert json.loads(first["topics"]["more"]["warnings"])  # a topic with warnings
    (source / "basics.yaml").write_text(text.replace("Green tea is", "Green tea was"), encoding="utf-8")
    report = build(BuildConfig(str(source), str(out), timestamp=T2))
    again = json.loads((out / ".deckgen-cache.json").read_text(encoding="utf-8"))
    assert again["topics"]["more"] == first["topics"]["more"]
    cache = read_cache(str(out))
    assert cache is not None
    kept = [*cache.warnings, *(w for record in cache.topics.values() for w in record.warnings)]
    assert sorted(kept, key=str) == sorted(report.warnings, key=str)  # the report's, read back


def test_a_warning_read_back_is_the_problem_it_was_written_from():
    for problem in _record().warnings:
        read = problem_of(json.loads(json.dumps(problem_data(problem))))
        assert read == problem and hash(read) == hash(problem) and repr(read) == repr(problem)
        assert str(read) == str(problem) and not read < problem and not problem < read
        assert replace(read, line=9) == replace(problem, line=9)
        assert all(getattr(read, name) == getattr(problem, name) for name in problem.__slots__)


def test_a_warning_read_from_a_moved_source_folder_names_the_file_there_and_keeps_the_rest():
    for problem in _record().warnings:
        moved = problem.in_file("elsewhere/a.yaml")
        assert moved == replace(problem, file="elsewhere/a.yaml") and moved.column == problem.column
