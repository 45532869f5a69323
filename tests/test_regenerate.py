"""Rebuild after edits and re-import over a studied collection: the real Anki client decides."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cli import main
from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build, plan
from generator.source.content import REMOVED_TAG

from .ankitools import asked_fact, import_package, open_collection, rendered_cards, study_everything
from .support import BUNDLED_SOURCE, T1, T2, V1, write_source

EDITS = [
    # change an explanation
    ("explanation: Coffee is brewed from roasted beans.", "explanation: Coffee is brewed from ground, roasted beans."),
    # rename a title
    ('title: "{{Origin}}"\n', 'title: "{{Origins}}"\n'),
    # insert a point in the middle of a list
    ("      green: Green tea is {{unoxidised}}\n", "      white: White tea is {{barely processed}}\n      green: Green tea is {{unoxidised}}\n"),
    # reorder two points
    ("      grind: Grind the {{beans}}\n      pour: Pour {{hot water}}\n", "      pour: Pour {{hot water}}\n      grind: Grind the {{beans}}\n"),
    # remove an item
    ("  - id: ritual\n    perspective: tea\n    title: Ritual\n    explanation: Tea ceremonies are {{formal}}.\n", ""),
    # add an item
    ("comparisons:\n", "  - id: health\n    perspective: coffee\n    title: Health\n    explanation: Coffee has {{antioxidants}}.\ncomparisons:\n"),
]


def edited_v2() -> str:
    text = V1
    for old, new in EDITS:
        assert old in text, old
        text = text.replace(old, new)
    return text


@pytest.fixture
def round_trip(tmp_path):
    source = write_source(tmp_path / "src", V1)
    first = build(BuildConfig(str(source), str(tmp_path / "v1"), timestamp=T1, release=True))
    col = open_collection(tmp_path / "col")
    import_package(col, Path(first.files[0].path))
    studied = study_everything(col)
    before = {c.card_id: c for c in rendered_cards(col)}
    state = {
        cid: (ivl, reps) for cid, ivl, reps in col.db.all("select id, ivl, reps from cards")
    }
    revlog = dict(col.db.all("select cid, count() from revlog group by cid"))
    note_mods = {nid: mod for nid, mod in col.db.all("select id, mod from notes")}
    (source / "basics.yaml").write_text(edited_v2(), encoding="utf-8")
    predicted = plan(BuildConfig(str(source), str(tmp_path / "v2"), timestamp=T2))
    second = build(BuildConfig(str(source), str(tmp_path / "v2"), timestamp=T2))
    log = import_package(col, Path(second.files[0].path))
    after = {c.card_id: c for c in rendered_cards(col)}
    yield {
        "col": col, "studied": studied, "before": before, "after": after, "state": state,
        "revlog": revlog, "note_mods": note_mods, "log": log, "predicted": predicted, "second": second,
    }
    col.close()


def test_studied_cards_keep_their_history_and_their_fact(round_trip):
    col, before, after = round_trip["col"], round_trip["before"], round_trip["after"]
    # V1's cards: origin 5 clozes (title, explanation, three points) and its "which drink?" card,
    # brewing 2 points and "which?", ritual and storage 1 cloze and "which?" each, caffeine 2 sides x 2 directions
    assert round_trip["studied"] == len(before) == 6 + 3 + 2 + 2 + 4
    assert sum(round_trip["revlog"].values()) == len(before)
    assert set(before) <= set(after)
    revlog_after = dict(col.db.all("select cid, count() from revlog group by cid"))
    state_after = {cid: (ivl, reps) for cid, ivl, reps in col.db.all("select id, ivl, reps from cards")}
    for card_id, card in before.items():
        assert revlog_after[card_id] == round_trip["revlog"][card_id]
        assert state_after[card_id] == round_trip["state"][card_id]
        assert after[card_id].note_id == card.note_id and after[card_id].guid == card.guid
        renamed = asked_fact(card) == "Origin"
        removed = REMOVED_TAG in col.get_note(card.note_id).tags
        if not renamed and not removed:
            assert asked_fact(after[card_id]) == asked_fact(card), card
    assert any(asked_fact(c) == "Origins" for c in after.values())


def test_no_note_is_duplicated_and_edits_arrive_in_place(round_trip):
    col, log = round_trip["col"], round_trip["log"]
    guids = [col.get_note(nid).guid for nid in col.find_notes("")]
    assert len(guids) == len(set(guids))
    updated = {int(n.id.nid) for n in log.updated}
    texts = {nid: " ".join(col.get_note(nid).fields) for nid in updated}  # Anki's log shortens fields
    assert any("ground, roasted beans" in t for t in texts.values())
    assert any("Origins" in t for t in texts.values())
    assert not log.conflicting and not log.missing_notetype


def test_new_item_and_inserted_point_are_added(round_trip):
    col, log = round_trip["col"], round_trip["log"]
    # Anki's log shortens fields; read the notes themselves.
    new_texts = [" ".join(col.get_note(n.id.nid).fields) for n in log.new]
    assert any("antioxidants" in t for t in new_texts)
    assert any("White tea is {{c1::barely processed}}" in t for t in new_texts)
    # health: its key term card and "which perspective?"; origin: the inserted point
    assert len(log.new) == 3


def test_a_removed_items_notes_stay_as_the_student_has_them(round_trip):
    """Packages carry no removed note: a plain import leaves the student's copy, card and all (push marks it)."""
    col, before, after = round_trip["col"], round_trip["before"], round_trip["after"]
    ritual = {cid for cid, c in before.items() if "Ritual" in c.answer_text}
    assert ritual
    for cid in ritual:
        assert after[cid].answer_text == before[cid].answer_text
        assert REMOVED_TAG not in col.get_note(after[cid].note_id).tags
    assert col.find_notes(f"tag:{REMOVED_TAG}") == []


def test_unchanged_notes_are_not_touched(round_trip):
    col, note_mods = round_trip["col"], round_trip["note_mods"]
    untouched = [nid for nid in col.find_notes("Storage OR Caffeine") if nid in note_mods]
    assert len(untouched) == 4  # storage's cloze and "which drink?" card, caffeine's two sides
    for nid in untouched:
        assert col.get_note(nid).mod == note_mods[nid]
    # exactly these, and no other note, are what Anki's import found unchanged
    assert sorted(int(n.id.nid) for n in round_trip["log"].duplicate) == sorted(untouched)


def test_plan_predicts_what_anki_does(round_trip):
    changes = round_trip["predicted"].files[0].changes
    log = round_trip["log"]
    assert changes.added == len(log.new)
    assert changes.updated == len(log.updated)
    assert changes.removed == 2  # ritual's two notes: in the lock, in no package
    assert changes.unchanged == len(log.duplicate)
    assert round_trip["second"].files[0].changes == changes


def test_same_sources_and_lock_give_the_same_bytes(tmp_path, monkeypatch):
    """A rebuild a day later, the sources unchanged, writes the very same package: times come from the lock.

    The clock is faked with the build's *timestamp* (what SOURCE_DATE_EPOCH or the
    system clock give the CLI); a build without the lock shows the time does matter.
    """
    workdir = tmp_path / "tmp"
    workdir.mkdir()
    monkeypatch.setenv("TMPDIR", str(workdir))
    monkeypatch.setattr("tempfile.tempdir", None)
    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "a"), timestamp=T1))
    build(BuildConfig(str(source), str(tmp_path / "b"), timestamp=T2))
    names = sorted(p.name for p in (tmp_path / "a").glob("*.apkg"))
    assert names == sorted(p.name for p in (tmp_path / "b").glob("*.apkg")) == ["basics.apkg"]
    for name in names:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    assert list(workdir.iterdir()) == []  # no temporary collection left behind
    # The control: the same sources with no lock, built at T2, are stamped T2.
    fresh = write_source(tmp_path / "fresh", V1)
    build(BuildConfig(str(fresh), str(tmp_path / "c"), timestamp=T2))
    assert (tmp_path / "c" / "basics.apkg").read_bytes() != (tmp_path / "a" / "basics.apkg").read_bytes()


def test_an_unchanged_note_keeps_its_time_and_an_edit_gets_a_newer_one(tmp_path, monkeypatch):
    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "a"), timestamp=T1))
    (source / "basics.yaml").write_text(V1.replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(T1))  # a clock that did not move
    report = build(BuildConfig(str(source), str(tmp_path / "b")))
    changes = report.files[0].changes
    # only the edited point: other backs show the list plain, so moving a mark changes no other note
    assert (changes.updated, changes.added, changes.removed) == (1, 0, 0)
    lock = (source / "deckgen.lock").read_text(encoding="utf-8")
    assert f'"mod": {T1 + 1}' in lock and f'"mod": {T1},' in lock


def test_note_type_contract_change_is_refused(tmp_path, monkeypatch):
    import genanki

    import generator.anki.notetypes as notetypes

    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "a"), timestamp=T1))
    before = (source / "deckgen.lock").read_bytes()
    renamed = [{**notetypes.CLOZE_TEMPLATES[0], "name": "Cloze card"}]
    changed = genanki.Model(
        notetypes.CLOZE_ID,
        notetypes.CLOZE_NAME,
        fields=[{"name": n} for n in ("Text", "Context", "Extra", "Source")],
        templates=renamed,
        css=notetypes.CSS,
        model_type=genanki.Model.CLOZE,
    )
    monkeypatch.setitem(notetypes.NOTE_TYPES, "cloze", changed)
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "b")])
    assert result.exit_code == 1
    assert (
        f"{source}/deckgen.lock:1: note type 'deckgen Cloze': its templates ['Cloze'] -> "
        "['Cloze card'] changed under the same id 1739462201; Anki would import it as a copy "
        "'deckgen Cloze+'"
    ) in result.stderr
    assert not (tmp_path / "b").exists()
    assert (source / "deckgen.lock").read_bytes() == before
    # The same change as a deliberate new version (new id and name) is accepted.
    changed.model_id, changed.name = notetypes.CLOZE_ID + 100, "deckgen Cloze v2"
    build(BuildConfig(str(source), str(tmp_path / "c"), timestamp=T2))


def test_broken_lock_is_a_located_error(tmp_path):
    source = write_source(tmp_path / "src", V1)
    (source / "deckgen.lock").write_text('{"version": 1,\n"notes": [}\n', encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        build(BuildConfig(str(source), str(tmp_path / "a")))
    assert [str(p) for p in caught.value.problems] == [
        f"{source}/deckgen.lock:2: the lock is not valid JSON: Expecting value"
    ]


def test_committed_lock_matches_the_bundled_sources(tmp_path):
    """Edit the sources, run `deckgen build`, commit the lock with them."""
    report = plan(BuildConfig(str(BUNDLED_SOURCE), str(tmp_path / "out")))
    assert (report.total("added"), report.total("updated"), report.total("removed")) == (0, 0, 0)
    locked = json.loads((BUNDLED_SOURCE / "deckgen.lock").read_text(encoding="utf-8"))["notes"]
    live = [key for key, note in locked.items() if note["removed"] is None]
    # In the packages: only the live notes. A tombstone is no change (no package carries it): not counted.
    assert report.total("unchanged") == report.notes == len(live) < len(locked)


def test_lock_text_round_trips_and_matches_plain_json(tmp_path):
    from generator.pipeline.lock.read import read_lock
    from generator.pipeline.lock.write import dump_lock

    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    text = (source / "deckgen.lock").read_text(encoding="utf-8")
    lock = read_lock(str(source / "deckgen.lock"))
    assert dump_lock(lock) == text
    data = json.loads(text)
    for line in text.splitlines():
        if line.startswith('  "drinks/'):
            key, value = line.strip().rstrip(",").split(": ", 1)
            assert value == json.dumps(data["notes"][json.loads(key)], sort_keys=True, ensure_ascii=False)


@pytest.mark.parametrize(
    "edit, message",
    [
        ('"cards": 1', '"cards": "x"'),
        ('"topic": "basics"', '"topic": "../x"'),
        ('"note_type": "cloze"', '"note_type": "basic"'),
    ],
)
def test_hand_edited_lock_is_refused(tmp_path, edit, message):
    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "a"), timestamp=T1))
    lock = source / "deckgen.lock"
    lock.write_text(lock.read_text(encoding="utf-8").replace(edit, message, 1), encoding="utf-8")
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "b")])
    assert result.exit_code == 1
    line = result.stderr.splitlines()[0]
    assert re.match(rf"{re.escape(str(source))}/deckgen.lock:\d+: note '[^']+': the lock cannot be read: ", line)
    assert line.endswith("; restore it from version control")
    assert not line.startswith(f"{source}/deckgen.lock:1:")  # located at the note's own line
    assert not (tmp_path / "b").exists()


def test_unwritable_lock_folder_names_the_lock(tmp_path):
    source = write_source(tmp_path / "src", V1)
    missing = tmp_path / "nowhere" / "x.lock"
    result = CliRunner().invoke(
        main, ["build", "--source", str(source), "--out", str(tmp_path / "out"), "--lock", str(missing)]
    )
    assert result.exit_code == 1
    assert result.stderr == f"Error: cannot write {missing}: No such file or directory\n"
    assert not (tmp_path / "out").exists()  # the folder made for the decks is taken back
