"""``deckgen report``: students study in real Anki collections, export with scheduling, the report ranks their notes.

Every collection here is Anki's own (the ``anki`` package): cards are answered
with the v3 scheduler, exports are made by Anki's exporter, and the report
reads them back through Anki's importer.
"""

from __future__ import annotations

import os
import stat
import sys
from collections import Counter
from collections.abc import Collection as Set
from pathlib import Path

import pytest
from anki.collection import Collection, ExportAnkiPackageOptions
from click.testing import CliRunner

from generator.build.pipeline import build, check
from generator.cli import main
from generator.connect.report import MISSING_ANKI, NO_SCHEDULING, make_report, report_lines
from generator.errors import DeckgenError

from .ankitools import import_package, open_collection
from .support import BUNDLED_SOURCE, T1, T2, V1, write_source

HARD = ("brewing", "storage")


def study(col: Collection, hard: Set[str], agains: int = 2) -> None:
    """Answer every card with the v3 scheduler: a card of a note in *hard* "Again" *agains* times, else "Good"."""
    from anki.cards import Card
    from anki.scheduler_pb2 import CardAnswer

    for config in col.decks.all_config():
        config["new"]["perDay"] = config["rev"]["perDay"] = 9999
        col.decks.update_config(config)
    answered: Counter[int] = Counter()
    for deck in col.decks.all_names_and_ids():
        col.decks.select(deck.id)
        while queued := col.sched.get_queued_cards(fetch_limit=1).cards:
            card = Card(col)
            card._load_from_backend_card(queued[0].card)
            card.start_timer()
            again = card.note().guid in hard and answered[card.id] < agains
            answered[card.id] += again
            rating = CardAnswer.AGAIN if again else CardAnswer.GOOD
            col.sched.answer_card(col.sched.build_answer(card=card, states=queued[0].states, rating=rating))


def export(col: Collection, path: Path, scheduling: bool = True) -> Path:
    """Export the whole collection as a deck package, as File > Export > Anki Deck Package does."""
    options = ExportAnkiPackageOptions(with_scheduling=scheduling, with_deck_configs=scheduling, with_media=False)
    col.export_anki_package(out_path=str(path), options=options, limit=None)
    return path


@pytest.fixture
def drinks(tmp_path: Path):
    """The drinks source, built; its package and its notes."""
    source = write_source(tmp_path / "src", V1)
    report = build(str(source), str(tmp_path / "out"), timestamp=T1, release=True)
    return source, Path(report.files[0].path), check(str(source))[1]


def student(tmp_path: Path, package: Path, hard: Set[str], name: str, scheduling: bool = True) -> Path:
    """One student: a fresh collection, the package imported, studied, exported as ``<name>.apkg``."""
    col = open_collection(tmp_path / f"col-{name}")
    try:
        import_package(col, package)
        study(col, hard)
        return export(col, tmp_path / f"{name}.apkg", scheduling)
    finally:
        col.close()


def guids(notes, items: Set[str]) -> set[str]:
    return {note.guid for note in notes if note.item_id in items}


def test_the_notes_answered_again_come_first_with_their_file_and_line(tmp_path, drinks):
    source, package, notes = drinks
    exported = student(tmp_path, package, guids(notes, HARD), "alice")
    report = make_report([str(exported)], str(source))
    hard = [note for note in notes if note.item_id in HARD]
    first = report.rows[: len(hard)]
    assert {(row.place.file, row.place.line, row.place.item) for row in first} == {
        (note.file, note.line, note.item_id) for note in hard
    }
    assert all(row.figures.again.median > 0 for row in first)
    assert all(row.figures.again.median == 0 for row in report.rows[len(hard):])
    assert len(report.rows) == len(notes) and report.students == ("student 1",)
    lines = list(report_lines(report))
    assert lines[1].startswith(f"{source}/basics.yaml:{first[0].place.line}: {first[0].place.item}: ")
    assert "again 50%, 1 student, 4 reviews" in lines[1]  # Again, Again, then Good through two learning steps


def test_the_cli_prints_the_report_and_writes_a_self_contained_page(tmp_path, drinks):
    source, package, notes = drinks
    exported = student(tmp_path, package, guids(notes, {"brewing"}), "alice")
    page = tmp_path / "pages" / "report.html"
    result = CliRunner().invoke(main, ["report", str(exported), "--source", str(source), "--html", str(page)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    brewing = sorted(f"{source}/basics.yaml:{n.line}: brewing: " for n in notes if n.item_id == "brewing")
    assert sorted(line[: len(brewing[0])] for line in lines[1:4]) == brewing
    assert lines[-1] == f"wrote {page}"
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") == 3 and "prefers-color-scheme: dark" in text
    assert "src=" not in text and "href=" not in text and "url(" not in text and "@import" not in text
    assert "alice" not in result.output + text


def test_several_students_are_added_up_by_median_and_named_only_when_asked(tmp_path, drinks):
    source, package, notes = drinks
    exports = [
        student(tmp_path, package, guids(notes, {"brewing"}), "alice"),
        student(tmp_path, package, guids(notes, {"brewing", "ritual"}), "bob"),
        student(tmp_path, package, guids(notes, {"storage"}), "carol"),
    ]
    report = make_report([str(e) for e in exports], str(source))
    brewing = len(guids(notes, {"brewing"}))
    assert {row.place.item for row in report.rows[:brewing]} == {"brewing"}
    top = report.rows[0].figures
    assert top.again.students == 3 and top.again.median == 0.5 and (top.again.low, top.again.high) == (0.25, 0.5)
    assert top.answers == 4 + 4 + 2
    assert report.students == ("student 1", "student 2", "student 3") and report.by_student == ()
    named = CliRunner().invoke(main, ["report", *map(str, exports), "--source", str(source), "--names"])
    assert named.exit_code == 0
    assert "By student:\n  alice: again" in named.stdout and "  carol: again" in named.stdout
    anonymous = CliRunner().invoke(main, ["report", *map(str, exports), "--source", str(source)])
    assert not {"alice", "bob", "carol"} & set(anonymous.output.replace(":", " ").split())


def test_an_export_without_scheduling_gets_a_one_line_message(tmp_path, drinks):
    source, package, notes = drinks
    bare = student(tmp_path, package, set(), "bare", scheduling=False)
    result = CliRunner().invoke(main, ["report", str(bare), "--source", str(source)])
    assert result.exit_code == 1 and result.exception is None or isinstance(result.exception, SystemExit)
    assert result.stderr == f"Error: student 1: {NO_SCHEDULING}\n"
    studied = student(tmp_path, package, guids(notes, HARD), "studied")
    mixed = CliRunner().invoke(main, ["report", str(bare), str(studied), "--source", str(source)])
    assert mixed.exit_code == 0
    assert mixed.stderr == f"student 1: {NO_SCHEDULING}\n"
    assert mixed.stdout.startswith("1 student, ")
    other = tmp_path / "bare-again.apkg"
    other.write_bytes(bare.read_bytes())
    with pytest.raises(DeckgenError, match="none of the 2 exports has review history"):
        make_report([str(bare), str(other)], str(source))


def test_a_note_the_source_no_longer_has_is_reported_as_such(tmp_path, drinks):
    source, package, notes = drinks
    exported = student(tmp_path, package, guids(notes, {"ritual"}), "alice")
    ritual = "  - id: ritual\n    perspective: tea\n    title: Ritual\n    explanation: Tea ceremonies are {{formal}}.\n"
    (source / "basics.yaml").write_text(V1.replace(ritual, ""), encoding="utf-8")
    build(str(source), str(tmp_path / "out2"), timestamp=T2)
    report = make_report([str(exported)], str(source))
    assert {row.place.item for row in report.gone} == {"ritual"} and len(report.gone) == 2
    assert all(row.place.file == f"{source}/deckgen.lock" and row.place.line > 0 for row in report.gone)
    assert "ritual" not in {row.place.item for row in report.rows}
    lines = list(report_lines(report))
    assert "No longer in the source (2 notes students studied):" in lines
    gone = [line for line in lines if line.startswith(f"{source}/deckgen.lock:")]
    assert len(gone) == 2 and all(": ritual: " in line and "no longer in the source: again 50%" in line for line in gone)


def test_a_whole_collection_backup_is_read_too(tmp_path, drinks):
    source, package, notes = drinks
    col = open_collection(tmp_path / "col")
    import_package(col, package)
    study(col, guids(notes, {"storage"}))
    col.export_collection_package(str(tmp_path / "alice.colpkg"), include_media=False, legacy=False)
    col.close()
    report = make_report([str(tmp_path / "alice.colpkg")], str(source))
    assert {row.place.item for row in report.rows[:2]} == {"storage"}


def test_a_file_anki_cannot_read_is_named_in_one_line(tmp_path, drinks):
    source, _, _ = drinks
    bad = tmp_path / "notes.apkg"
    bad.write_text("not a zip", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(bad), "--source", str(source)])
    assert result.exit_code == 1
    assert result.stderr.startswith(f"Error: {bad}: Anki cannot read this file as a deck package: ")
    assert result.stderr.count("\n") == 1


def test_without_the_anki_package_the_report_says_what_to_install(tmp_path, drinks, monkeypatch):
    source, package, _ = drinks
    monkeypatch.delitem(sys.modules, "generator.connect.exports", raising=False)
    for name in [name for name in sys.modules if name.startswith("anki.")]:
        monkeypatch.delitem(sys.modules, name)  # put back after the test
    monkeypatch.setitem(sys.modules, "anki", None)  # as if it were not installed
    result = CliRunner().invoke(main, ["report", str(package), "--source", str(source)])
    assert result.exit_code == 1
    assert result.stderr == f"Error: {MISSING_ANKI}\n"


def test_what_a_review_found_is_refused_in_one_line(tmp_path, drinks):
    """An export given twice counts once; a pipe, a page over an export or the lock, another source: one line each."""
    source, package, notes = drinks
    alice = student(tmp_path, package, guids(notes, HARD), "alice")
    twice = make_report([str(alice), str(alice)], str(source))
    assert twice.students == ("student 1",)
    fifo = tmp_path / "pipe.apkg"
    os.mkfifo(fifo)

    def run(*args: str):
        return CliRunner().invoke(main, ["report", *args])

    refused = {
        "pipe": run(str(fifo), "--source", str(source)),
        "export": run(str(alice), "--source", str(source), "--html", str(alice)),
        "lock": run(str(alice), "--source", str(source), "--html", str(source / "deckgen.lock")),
        "pipe page": run(str(alice), "--source", str(source), "--html", str(fifo)),
        "other source": run(str(alice), "--source", str(BUNDLED_SOURCE)),
    }
    assert {name: (r.exit_code, r.stderr) for name, r in refused.items()} == {
        "pipe": (1, f"Error: {fifo}: not a regular file; give decks exported from Anki (.apkg, .colpkg)\n"),
        "export": (1, f"Error: {alice}: is {alice}, which the report reads; give the page another path\n"),
        "lock": (1, f"Error: {source / 'deckgen.lock'}: is {source / 'deckgen.lock'}, which the report reads; "
                    "give the page another path\n"),
        "pipe page": (1, f"Error: {fifo}: exists and is not a regular file; give the page another path\n"),
        "other source": (1, f"Error: none of the notes studied in 1 export comes from the source {BUNDLED_SOURCE}: "
                            "is it the right --source?\n"),
    }
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and alice.read_bytes()[:2] == b"PK"
