"""Removed notes stay removed: in real Anki, for a new student, for one who studied them, and through push.

A package carries only the live notes (a note without cards is a fault that
Check Database "repairs" with a card in Default); ``push`` marks removals in
a student's own Anki through AnkiConnect (the stand-in of test_push.py
answers with a real collection).
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from pathlib import Path

import genanki
from anki.consts import QUEUE_TYPE_SUSPENDED
from click.testing import CliRunner

from generator.anki.notetypes import anki_model
from generator.cli import main
from generator.connect.notices import NOTICE_DECK
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.source.content import REMOVED_TAG

from .ankiconnect import serve
from .ankitools import import_package, open_collection, study_everything
from .support import T1, T2, V1, write_source


def _without(item: str) -> str:
    """V1 without the item *item* (up to the next item or the comparisons)."""
    start = V1.index(f"  - id: {item}\n")
    ends = [i for i in (V1.find("\n  - id: ", start + 1), V1.find("\ncomparisons:", start)) if i != -1]
    return V1[:start] + V1[min(ends) + 1 :]


def _import_all(col, report) -> None:
    for f in report.files:
        import_package(col, Path(f.path))


def _push(out: Path, server) -> str:
    result = CliRunner().invoke(main, ["push", "--out", str(out), "--url", server.url])
    assert result.exit_code == 0, result.output
    return result.output


def _notes_without_cards(col) -> int:
    return col.db.scalar("select count() from notes where id not in (select nid from cards)")


def _lock(source: Path) -> dict:
    return json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))["notes"]


def test_a_removal_in_real_anki_new_student_existing_student_and_push(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    first = build(BuildConfig(str(source), str(out), timestamp=T1, release=True))
    old = open_collection(tmp_path / "old")  # a student of the first build
    _import_all(old, first)
    studied = study_everything(old)
    history = dict(old.db.all("select cid, count() from revlog group by cid"))
    ritual = set(old.find_notes("Ritual"))
    assert ritual and studied == old.card_count()

    (source / "basics.yaml").write_text(_without("ritual"), encoding="utf-8")
    second = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert second.total("removed") == len(ritual)
    assert second.notes == first.notes - len(ritual) and second.cards == first.cards - len(ritual)

    # A new student: exactly the live cards, also after Tools > Check Database.
    new = open_collection(tmp_path / "new")
    _import_all(new, second)
    assert new.card_count() == second.cards
    new.fix_integrity()
    assert (new.card_count(), new.note_count(), _notes_without_cards(new)) == (second.cards, second.notes, 0)
    assert new.find_cards('"deck:Default"') == [] and new.find_notes("Ritual") == []

    # The student of the first build: a plain import changes nothing of the removed notes.
    _import_all(old, second)
    assert set(old.find_notes("Ritual")) == ritual and old.find_notes(f"tag:{REMOVED_TAG}") == []

    # push marks them: tagged, text replaced, cards suspended, history kept; no note added.
    with contextlib.contextmanager(serve)(old) as server:
        output = _push(out, server)
    assert f"removed from the source: {len(ritual)} notes marked and suspended" in output
    assert set(old.find_notes(f"tag:{REMOVED_TAG}")) == ritual
    for nid in ritual:
        note = old.get_note(nid)
        assert "Removed from the source" in " ".join(note.fields)
        assert all(card.queue == QUEUE_TYPE_SUSPENDED for card in note.cards())
    assert dict(old.db.all("select cid, count() from revlog group by cid")) == history
    assert old.note_count() == first.notes and old.decks.id_for_name(NOTICE_DECK) is None
    old.fix_integrity()
    assert _notes_without_cards(old) == 0 and old.find_cards('"deck:Default"') == []

    # push into the new student's Anki: nothing of the removed notes arrives.
    with contextlib.contextmanager(serve)(new) as server:
        output = _push(out, server)
    assert "removed from the source" not in output  # nothing to mark: they never had it
    assert new.note_count() == second.notes and new.find_notes(f"tag:{REMOVED_TAG}") == []
    assert new.decks.id_for_name(NOTICE_DECK) is None
    old.close()
    new.close()


def test_a_note_that_comes_back_unchanged_keeps_its_time_however_often(tmp_path):
    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, release=True))
    first = _lock(source)
    for n in range(3):  # e.g. a git stash and pop between builds, three times
        (source / "basics.yaml").write_text(_without("ritual"), encoding="utf-8")
        gone = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2 + 20 * n))
        assert gone.total("removed") == 2
        (source / "basics.yaml").write_text(V1, encoding="utf-8")
        back = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T2 + 20 * n + 10))
        assert (back.total("added"), back.total("updated")) == (2, 0)
        assert _lock(source) == first  # every note's time as the first build gave it


def test_push_restores_a_marked_note_that_came_back(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    col = open_collection(tmp_path / "col")
    with contextlib.contextmanager(serve)(col) as server:
        build(BuildConfig(str(source), str(out), timestamp=T1, release=True))
        _push(out, server)
        study_everything(col)
        ritual = set(col.find_notes("Ritual"))
        texts = {nid: col.get_note(nid).fields for nid in ritual}
        (source / "basics.yaml").write_text(_without("ritual"), encoding="utf-8")
        build(BuildConfig(str(source), str(out), timestamp=T2))
        _push(out, server)
        assert set(col.find_notes(f"tag:{REMOVED_TAG}")) == ritual
        (source / "basics.yaml").write_text(V1, encoding="utf-8")
        build(BuildConfig(str(source), str(out), timestamp=T2 + 10))
        output = _push(out, server)
    assert f"{len(ritual)} notes back in the source restored" in output
    assert col.find_notes(f"tag:{REMOVED_TAG}") == []
    for nid in ritual:
        note = col.get_note(nid)
        assert note.fields == texts[nid]
        assert all(card.queue != QUEUE_TYPE_SUSPENDED for card in note.cards())
    col.close()


def test_push_deletes_the_card_less_notes_an_older_deckgen_sent(tmp_path, monkeypatch):
    """Until this release a removed note was packaged without cards: push clears them from a student's Anki."""
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, release=True))
    old = genanki.Note(model=anki_model("cloze"), fields=["{{c1::x}}", "", "", ""], tags=[REMOVED_TAG], guid="old-one")
    old.cards  # noqa: B018 - genanki's cached property: set it to no card, as the old packages had it
    old.__dict__["cards"] = []
    deck = genanki.Deck(1_234_567_890, "Drinks::Basics")
    deck.add_note(old)
    with monkeypatch.context() as patched:  # genanki leaves its SQLite file in the temporary folder: the test's
        patched.setattr(tempfile, "tempdir", str(tmp_path))
        genanki.Package(deck).write_to_file(str(tmp_path / "old.apkg"))
    col = open_collection(tmp_path / "col")
    import_package(col, tmp_path / "old.apkg")
    assert _notes_without_cards(col) == 1
    with contextlib.contextmanager(serve)(col) as server:
        output = _push(out, server)
    assert "1 note you never studied deleted" in output
    assert _notes_without_cards(col) == 0 and col.find_notes(f"tag:{REMOVED_TAG}") == []
    col.close()
