"""A student who studied the decks before the redesign imports today's: no history is lost.

``tests/fixtures/studied-decks`` holds the bundled decks as the previous
release built them.  They are imported and every card answered through
Anki's scheduler; then today's bundled source is built with its committed lock
and imported over them with Anki's default options.
"""

from __future__ import annotations

import contextlib
import json
import shutil
from pathlib import Path

from anki.consts import QUEUE_TYPE_SUSPENDED
from click.testing import CliRunner

from generator.cards.notes import build_notes
from generator.cli import main
from generator.connect.notices import NOTICE_DECK
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.source.content import REMOVED_TAG
from generator.source.loader import load_source

from .ankiconnect import serve
from .ankitools import import_package, open_collection, study_everything
from .support import BUNDLED_SOURCE, ROOT

STUDIED = ROOT / "tests" / "fixtures" / "studied-decks"


def test_notes_that_stay_keep_their_history_and_removed_ones_are_marked_by_push(tmp_path):
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
        out = tmp_path / "out"
        report = build(BuildConfig(str(source), str(out), timestamp=newest + 1))
        logs = [import_package(col, Path(f.path)) for f in report.files]

        live = {note.guid for note in build_notes(load_source(str(source)))}
        after = {col.get_note(nid).guid: nid for nid in col.find_notes("")}
        # (Anki logs a note whose text did not change as a "duplicate": skipped, not newer.)
        assert not any(log.conflicting or log.missing_notetype for log in logs)
        assert set(after) == set(before) | live  # nothing duplicated, nothing lost
        kept = set(before) & live
        removed = set(before) - live
        assert kept and removed  # the redesign keeps some notes and retires others
        assert col.find_notes(f"tag:{REMOVED_TAG}") == []  # a plain import cannot mark them: push does

        with contextlib.contextmanager(serve)(col) as server:
            result = CliRunner().invoke(main, ["push", "--out", str(out), "--url", server.url])
        assert result.exit_code == 0, result.output
        assert f"removed from the source: {len(removed)} notes marked and suspended" in result.output
        for guid in kept:
            assert after[guid] == before[guid]
            assert REMOVED_TAG not in col.get_note(after[guid]).tags
        for guid in removed:
            note = col.get_note(after[guid])
            assert REMOVED_TAG in note.tags, guid
            assert all(card.queue == QUEUE_TYPE_SUSPENDED for card in note.cards())
            assert "Removed from the source" in " ".join(note.fields)
        for cid, (ivl, reps, _due) in history.items():  # every studied card is still there, with its history
            assert col.db.scalar("select count() from revlog where cid = ?", cid) == revlog[cid]
            assert col.db.first("select ivl, reps from cards where id = ?", cid) == [ivl, reps]
        assert col.decks.id_for_name(NOTICE_DECK) is None
        assert set(after) == {col.get_note(nid).guid for nid in col.find_notes("")}  # push added no note
    finally:
        col.close()


def test_a_new_student_gets_exactly_the_live_cards_also_after_check_database(tmp_path):
    """Import every package of a default build into an empty collection, then Tools > Check Database."""
    source = shutil.copytree(BUNDLED_SOURCE, tmp_path / "cards_source")  # with its committed lock
    lock = json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))
    assert any(note["removed"] is not None for note in lock["notes"].values())  # the lock has removed notes
    newest = max(note["mod"] for note in lock["notes"].values())
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=newest + 1))
    live = build_notes(load_source(str(source)))
    assert report.notes == len(live)  # no package carries a removed note
    col = open_collection(tmp_path / "col")
    try:
        for f in report.files:
            import_package(col, Path(f.path))
        cards = col.card_count()
        assert cards == sum(note.cards for note in live) == report.cards
        col.fix_integrity()  # Tools > Check Database
        assert col.card_count() == cards
        assert col.note_count() == len(live)
        assert col.find_cards('"deck:Default"') == []
        assert col.db.scalar("select count() from notes where id not in (select nid from cards)") == 0
        assert col.find_notes(f"tag:{REMOVED_TAG}") == []
    finally:
        col.close()
