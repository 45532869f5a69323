"""Note types that evolve in place, proven in the real Anki client.

A field or template renamed by its key (``RENAMED_FIELDS``, ``RENAMED_TEMPLATES``
in generator/anki/notetypes.py) keeps its id, so a student who studied the
decks and imports the rebuild with Anki's default options gets the same note
type renamed in place: no "deckgen Cloze+" copy, notes updated, history kept.
What Anki cannot do in place (a field removed; a rename before the students'
note types have ids) the build refuses, and these tests show why.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import genanki
import pytest
from click.testing import CliRunner

import generator.anki.notetypes as notetypes
import generator.anki.package as package
import generator.pipeline.pipeline as pipeline
from generator.cards.notes import NoteSpec
from generator.cli import main
from generator.errors import DeckgenError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

from .ankitools import import_package, open_collection, study_everything
from .support import ROOT, T1, T2, V1, write_source

OLD_TEXT = "explanation: Coffee is brewed from roasted beans."
NEW_TEXT = "explanation: Coffee is brewed from ground, roasted beans."
EDITED = "Coffee is brewed from ground, roasted beans."
"""The edited explanation: the back ("Extra" of the cloze notes, "Others" of the comparison) of brewing's notes."""
NOTE_TYPE_IDS = {"cloze": notetypes.CLOZE_ID, "comparison": notetypes.COMPARISON_ID}

RENAMES = [
    pytest.param(notetypes.RENAMED_FIELDS, "cloze", "Extra", "Notes", id="cloze field"),
    pytest.param(notetypes.RENAMED_FIELDS, "comparison", "Others", "Other sides", id="comparison field"),
    pytest.param(notetypes.RENAMED_TEMPLATES, "cloze", "Cloze", "Cloze card", id="cloze template"),
    pytest.param(notetypes.RENAMED_TEMPLATES, "comparison", "Side from perspective", "Side", id="comparison template"),
]


def _studied(tmp_path: Path) -> tuple[Any, Path, dict[str, Any]]:
    """A collection that imported V1's deck and answered every card; the source; the state to keep."""
    source = write_source(tmp_path / "src", V1)
    first = build(BuildConfig(str(source), str(tmp_path / "v1"), timestamp=T1))
    col = open_collection(tmp_path / "col")
    import_package(col, Path(first.files[0].path))
    assert study_everything(col) == col.card_count() > 0
    return col, source, _state(col)


def _state(col: Any) -> dict[str, Any]:
    """What a student must keep: each card's note, template ordinal, schedule and review log."""
    return {
        "cards": col.db.all("select id, nid, ord, ivl, reps, due from cards order by id"),
        "revlog": col.db.all("select id, cid, ease, ivl from revlog order by id"),
    }


def _rebuild(source: Path, out: Path) -> Path:
    """The rebuild of *source*, its text edited, one day later: its one package."""
    topic = source / "basics.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace(OLD_TEXT, NEW_TEXT), encoding="utf-8")
    return Path(build(BuildConfig(str(source), str(out), timestamp=T2)).files[0].path)


def _deckgen_note_types(col: Any) -> list[dict[str, Any]]:
    return [m for m in col.models.all() if m["name"].startswith("deckgen")]


def _parts(model: dict[str, Any], renames: dict[str, dict[str, str]]) -> list[str]:
    """The names of the fields or templates of *model* (which ones: *renames* says)."""
    entries = model["flds"] if renames is notetypes.RENAMED_FIELDS else model["tmpls"]
    return [entry["name"] for entry in entries]


@pytest.mark.parametrize("renames, kind, key, new_name", RENAMES)
def test_a_renamed_part_is_renamed_in_place_and_the_notes_update(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    renames: dict[str, dict[str, str]], kind: str, key: str, new_name: str,
) -> None:
    col, source, before = _studied(tmp_path)
    try:
        ids = {m["id"]: _parts(m, renames) for m in _deckgen_note_types(col)}
        monkeypatch.setitem(renames[kind], key, new_name)  # the one-line change of a rename
        log = import_package(col, _rebuild(source, tmp_path / "v2"))

        assert not log.conflicting and not log.missing_notetype
        types = _deckgen_note_types(col)
        assert sorted(m["id"] for m in types) == sorted(ids)  # the same note types: no "Name+" copy
        assert not any(m["name"].endswith("+") for m in col.models.all())
        renamed = col.models.get(NOTE_TYPE_IDS[kind])
        assert _parts(renamed, renames) == [new_name if name == key else name for name in ids[renamed["id"]]]
        edited = [col.get_note(nid) for nid in col.find_notes(f'"{EDITED}"')]
        assert edited and {note.mid for note in edited} >= {NOTE_TYPE_IDS[kind]}  # updated with the new text
        if renames is notetypes.RENAMED_FIELDS:
            assert any(note.mid == renamed["id"] and EDITED in note[new_name] for note in edited)
        assert len(log.updated) == len(edited)
        assert _state(col) == before  # every card, its schedule and its review log as they were
    finally:
        col.close()
    locked = json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))["note_types"][kind]
    names, part_ids = ("fields", "field_ids") if renames is notetypes.RENAMED_FIELDS else ("templates", "template_ids")
    assert dict(zip(locked[names], locked[part_ids], strict=True))[new_name] == notetypes.stable_id(
        NOTE_TYPE_IDS[kind], names[:-1], key
    )


def test_renamed_fields_show_under_their_new_name_on_the_cards(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    col, source, _ = _studied(tmp_path)
    try:
        monkeypatch.setitem(notetypes.RENAMED_FIELDS["cloze"], "Extra", "Notes")
        import_package(col, _rebuild(source, tmp_path / "v2"))
        model = col.models.get(notetypes.CLOZE_ID)
        assert "{{#Notes}}" in model["tmpls"][0]["afmt"] and "Extra" not in model["tmpls"][0]["afmt"]
        card = col.get_card(col.find_cards(f'"Notes:*{EDITED}*"')[0])
        assert EDITED in card.answer()  # Anki renders the renamed field
    finally:
        col.close()


def _without_extra() -> genanki.Model:
    """The cloze note type with its "Extra" field removed (its templates no longer show it)."""
    model = notetypes.NOTE_TYPES["cloze"]
    template = {**model.templates[0], "afmt": model.templates[0]["afmt"].split("{{#Extra}}")[0] + "</div>"}
    return genanki.Model(
        model.model_id, model.name, fields=[{"name": f["name"]} for f in model.fields if f["name"] != "Extra"],
        templates=[template], css=model.css, model_type=genanki.Model.CLOZE,
    )


def test_a_removed_field_is_refused_with_the_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "v1"), timestamp=T1))
    lock = (source / "deckgen.lock").read_bytes()
    monkeypatch.setitem(notetypes.NOTE_TYPES, "cloze", _without_extra())
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "v2")])
    assert result.exit_code == 1
    assert (
        f"{source}/deckgen.lock:1: note type 'deckgen Cloze': its fields ['Text', 'Context', 'Extra', 'Source'] -> "
        "['Text', 'Context', 'Source'] changed under the same id 1739462201; Anki would import it as a copy "
        "'deckgen Cloze+' and stop updating students' notes: field 'Extra' is removed, and every student's note "
        "of this type holds it. Anki renames a field or template in place, matched by its id"
    ) in result.stderr
    assert not (tmp_path / "v2").exists()
    assert (source / "deckgen.lock").read_bytes() == lock


def _packaged_without_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Packages of the cloze note type without "Extra", and cloze notes without its value."""
    package_bytes = package.package_bytes

    def without_extra(notes: list[NoteSpec], *args: Any) -> bytes:
        cut = [replace(n, fields=n.fields[:2] + n.fields[3:]) if n.note_type == "cloze" else n for n in notes]
        return package_bytes(cut, *args)

    monkeypatch.setitem(notetypes.NOTE_TYPES, "cloze", _without_extra())
    monkeypatch.setattr(package, "package_bytes", without_extra)  # the APKG format imports it when it encodes


def test_what_the_guard_refuses_really_breaks_in_anki(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A field removed despite the guard: Anki imports a "deckgen Cloze+" copy and the notes stop updating."""
    col, source, before = _studied(tmp_path)
    try:
        _packaged_without_extra(monkeypatch)
        monkeypatch.setattr(pipeline, "check_note_types", lambda *args: [])
        log = import_package(col, _rebuild(source, tmp_path / "v2"))
        assert "deckgen Cloze+" in [m["name"] for m in col.models.all()]
        cloze = set(col.find_notes(f"mid:{notetypes.CLOZE_ID}"))
        assert len(log.conflicting) == len(cloze)  # every cloze note of the student is left behind
        assert [note.id.nid for note in log.updated] == col.find_notes(f'"{EDITED}" -mid:{notetypes.CLOZE_ID}')
        assert not col.find_notes(f'"{EDITED}" mid:{notetypes.CLOZE_ID}')
        assert _state(col) == before  # nothing lost either: the notes just no longer update
    finally:
        col.close()


def test_a_rename_before_students_have_ids_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundled lock as it was before ids (as the first release's students' note types are): no rename yet."""
    source = shutil.copytree(ROOT / "cards_source", tmp_path / "cards_source")
    lock = source / "deckgen.lock"
    data = json.loads(lock.read_text(encoding="utf-8"))
    for entry in data["note_types"].values():
        del entry["field_ids"], entry["template_ids"]
    lock.write_text(json.dumps(data), encoding="utf-8")
    monkeypatch.setitem(notetypes.RENAMED_FIELDS["cloze"], "Extra", "Notes")
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert (
        "its fields ['Text', 'Context', 'Extra', 'Source'] -> ['Text', 'Context', 'Notes', 'Source'] changed under "
        "the same id 1739462201; Anki would import it as a copy 'deckgen Cloze+' and stop updating students' notes: "
        "students' fields have no ids yet, so Anki matches them by name"
    ) in result.stderr
    monkeypatch.setitem(notetypes.RENAMED_FIELDS, "cloze", {})
    build(BuildConfig(str(source), str(tmp_path / "out")))  # without the rename, the same lock builds, and gets the ids
    assert "field_ids" in json.loads(lock.read_text(encoding="utf-8"))["note_types"]["cloze"]


def test_a_rename_of_a_key_the_note_type_lacks_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(notetypes.RENAMED_FIELDS["cloze"], "Extras", "Notes")  # a typo: never a silent no-op
    with pytest.raises(DeckgenError, match=r"RENAMED_FIELDS names no field \['Extras'\]"):
        notetypes.anki_model("cloze")


@pytest.mark.parametrize("name", ["", "Text", "text", "My:Notes", "No}}tes", "#Notes", " Notes"])
def test_a_rename_to_a_name_anki_would_change_is_an_error(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Anki strips or refuses such names, or adds '+' to a duplicate: the rename would not be in place."""
    monkeypatch.setitem(notetypes.RENAMED_FIELDS["cloze"], "Extra", name)
    with pytest.raises(DeckgenError, match=r"^RENAMED_FIELDS: "):
        notetypes.anki_model("cloze")
