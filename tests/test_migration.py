"""A student who studied the decks before the redesign imports today's: no history is lost.

``tests/fixtures/studied-decks`` holds the bundled decks as the previous
release built them.  They are imported and every card answered through
Anki's scheduler; then today's bundled source is built with its committed lock
and imported over them with Anki's default options.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from generator.build.pipeline import build
from generator.cards.notes import build_notes
from generator.source.content import REMOVED_TAG
from generator.source.loader import load_source

from .ankitools import import_package, open_collection, study_everything
from .support import BUNDLED_SOURCE, ROOT

STUDIED = ROOT / "tests" / "fixtures" / "studied-decks"


def test_notes_that_stay_keep_their_history_and_removed_ones_are_marked(tmp_path):
    col = open_collection(tmp_path / "col")
    try:
        for package in sorted(STUDIED.glob("*.apkg")):
            import_package(col, package)
        assert study_everything(col) == col.card_count() > 0
        before = {col.get_note(nid).guid: nid for nid in col.find_notes("")}
        history = {cid: (ivl, reps, due) for cid, ivl, reps, due in col.db.all("select id, ivl, reps, due from cards")}
        revlog = dict(col.db.all("select cid, count() from revlog group by cid"))

        source = shutil.copytree(BUNDLED_SOURCE, tmp_path / "cards_source")  # with its committed lock
        lock = json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))
        newest = max(note["mod"] for note in lock["notes"].values())
        report = build(str(source), str(tmp_path / "out"), timestamp=newest + 1)
        logs = [import_package(col, Path(f.path)) for f in report.files]

        live = {note.guid for note in build_notes(load_source(str(source)))}
        after = {col.get_note(nid).guid: nid for nid in col.find_notes("")}
        # (Anki logs a note whose text did not change as a "duplicate": skipped, not newer.)
        assert not any(log.conflicting or log.missing_notetype for log in logs)
        assert set(after) >= set(before) | live  # nothing lost
        for guid in set(after) - set(before) - live:  # nothing duplicated: the only notes this student never had
            note = col.get_note(after[guid])  # are the tombstones of notes added after that release and since removed
            assert REMOVED_TAG in note.tags and note.cards() == [], guid
        kept = set(before) & live
        removed = set(before) - live
        assert kept and removed  # the redesign keeps some notes and retires others
        for guid in kept:
            assert after[guid] == before[guid]
            assert REMOVED_TAG not in col.get_note(after[guid]).tags
        for guid in removed:
            assert REMOVED_TAG in col.get_note(after[guid]).tags, guid
        for cid, state in history.items():  # every studied card is still there, as studied
            assert col.db.scalar("select count() from revlog where cid = ?", cid) == revlog[cid]
            ivl, reps, due = col.db.first("select ivl, reps, due from cards where id = ?", cid)
            assert (ivl, reps, due) == state
    finally:
        col.close()


def test_a_new_student_gets_no_card_of_a_removed_note(tmp_path):
    source = shutil.copytree(BUNDLED_SOURCE, tmp_path / "cards_source")  # with its committed lock
    lock = json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))
    newest = max(note["mod"] for note in lock["notes"].values())
    report = build(str(source), str(tmp_path / "out"), timestamp=newest + 1)
    live = build_notes(load_source(str(source)))
    assert report.notes > len(live)  # the packages carry the removed notes' tombstones
    col = open_collection(tmp_path / "col")
    try:
        for f in report.files:
            import_package(col, Path(f.path))
        assert col.card_count() == sum(note.cards for note in live) == report.cards
        assert col.find_cards(f"tag:{REMOVED_TAG}") == []
        assert len(col.find_notes(f"tag:{REMOVED_TAG}")) == report.notes - len(live)  # notes only, in the Browser
    finally:
        col.close()
