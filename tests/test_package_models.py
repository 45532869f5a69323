"""The note types a package carries are made once per process, and again whenever one changes.

genanki works out a note type's required fields (``req``) by rendering its
front template once per field; :func:`generator.anki.package._anki_models`
keeps the models it made while the note types stay the same.
"""

from __future__ import annotations

import io
import json
import sqlite3
import tempfile
import zipfile
from pathlib import Path

import chevron
import pytest

import generator.anki.notetypes as notetypes
from generator.anki import package
from generator.cards.notes import NoteSpec, guid_for

T = 1_700_000_000


def _note(text: str) -> NoteSpec:
    key = f"drinks/{text}/title"
    return NoteSpec(
        key=key, guid=guid_for(key), note_type="cloze", fields=("{{c1::" + text + "}}", "", "", ""), tags=(),
        deck="Drinks", topic="basics", perspective=None, cards=1, label=text, item_id=text, part="title",
        file="basics.yaml", line=1,
    )


def _models(data: bytes) -> dict[str, dict[str, object]]:
    """The note types' JSON in a package's collection."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "collection.anki2"
        path.write_bytes(zipfile.ZipFile(io.BytesIO(data)).read("collection.anki2"))
        connection = sqlite3.connect(path)
        try:
            (models,) = connection.execute("SELECT models FROM col").fetchone()
        finally:
            connection.close()
    loaded: dict[str, dict[str, object]] = json.loads(models)
    return loaded


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The templates genanki renders (to work out ``req``), counted from a cleared cache."""
    package._models_of.cache_clear()
    rendered: list[str] = []
    real = chevron.render
    monkeypatch.setattr(chevron, "render", lambda template, data: rendered.append(template) or real(template, data))
    yield rendered
    package._models_of.cache_clear()  # the next test's models are not made with the counter


def test_packages_of_the_same_note_types_work_out_req_once(renders: list[str]) -> None:
    first = package.package_bytes([_note("kettle")], T)
    once = len(renders)
    assert once > 0
    second = package.package_bytes([_note("teapot")], T)
    assert len(renders) == once
    assert _models(first) == _models(second)


def test_a_note_type_changed_in_place_is_what_the_next_package_carries(
    renders: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _models(package.package_bytes([_note("kettle")], T))[str(notetypes.CLOZE_ID)]
    monkeypatch.setattr(notetypes.NOTE_TYPES["cloze"], "css", ".card { color: red; }")
    after = _models(package.package_bytes([_note("kettle")], T))[str(notetypes.CLOZE_ID)]
    assert before["css"] == notetypes.CSS and after["css"] == ".card { color: red; }"
    monkeypatch.setitem(notetypes.RENAMED_FIELDS, "cloze", {"Extra": "Notes"})
    renamed = _models(package.package_bytes([_note("kettle")], T))[str(notetypes.CLOZE_ID)]
    assert [field["name"] for field in renamed["flds"]] == ["Text", "Context", "Notes", "Source"]
