"""Pinned identities: changing any of these breaks every student's collection.

If one of these tests fails, the change would make Anki import duplicates or
note type copies.  Do not update the expected values; undo the change.
"""

from __future__ import annotations

from pathlib import Path

import genanki

from generator.anki.notetypes import (
    CLOZE_FIELD_IDS,
    CLOZE_ID,
    CLOZE_NAME,
    CLOZE_TEMPLATE_IDS,
    CLOZE_TEMPLATES,
    COMPARISON_FIELD_IDS,
    COMPARISON_ID,
    COMPARISON_NAME,
    COMPARISON_TEMPLATE_IDS,
    COMPARISON_TEMPLATES,
    RENAMED_FIELDS,
    RENAMED_TEMPLATES,
    anki_model,
)
from generator.anki.package import deck_id
from generator.cards.notes import CLOZE_FIELDS, COMPARISON_FIELDS, build_notes, guid_for
from generator.source.loader import load_source

from .support import BUILD_TIME, BUNDLED_SOURCE, write_source


def test_note_type_contract_is_pinned():
    assert (CLOZE_ID, CLOZE_NAME) == (1739462201, "deckgen Cloze")
    assert (COMPARISON_ID, COMPARISON_NAME) == (1739462202, "deckgen Comparison")
    assert CLOZE_FIELDS == ("Text", "Context", "Extra", "Source")
    assert COMPARISON_FIELDS == (
        "Key", "Dimension", "Perspective", "Statement", "Others", "Context", "Question", "Source",
    )
    assert [t["name"] for t in CLOZE_TEMPLATES] == ["Cloze"]
    assert [t["name"] for t in COMPARISON_TEMPLATES] == [
        "Side from perspective",
        "Perspective from statement",
    ]


def test_field_and_template_ids_are_pinned():
    """Anki matches fields and templates by these ids: a renamed one keeps them (see notetypes.RENAMED_FIELDS)."""
    assert CLOZE_FIELD_IDS == {
        "Text": 6230337802923449, "Context": 8316413926943328, "Extra": 2533813134601936, "Source": 4613629847724138,
    }
    assert COMPARISON_FIELD_IDS == {
        "Key": 7815975838905162, "Dimension": 8000616499951861, "Perspective": 6015910381378292,
        "Statement": 3880030643831488, "Others": 6596624551710276, "Context": 8069346711930659,
        "Question": 5392515351724640, "Source": 4945888729944380,
    }
    assert CLOZE_TEMPLATE_IDS == {"Cloze": 7660723501352499}
    assert COMPARISON_TEMPLATE_IDS == {
        "Side from perspective": 2363992874818896, "Perspective from statement": 8818282857115563,
    }
    assert RENAMED_FIELDS == {"cloze": {}, "comparison": {}}  # a rename is deliberate: update this line with it
    assert RENAMED_TEMPLATES == {"cloze": {}, "comparison": {}}


def test_packages_carry_each_field_and_template_with_its_id():
    for kind, field_ids, template_ids in (
        ("cloze", CLOZE_FIELD_IDS, CLOZE_TEMPLATE_IDS),
        ("comparison", COMPARISON_FIELD_IDS, COMPARISON_TEMPLATE_IDS),
    ):
        model = anki_model(kind)
        assert {f["name"]: f["id"] for f in model.fields} == field_ids
        assert {t["name"]: t["id"] for t in model.templates} == template_ids


def test_guid_and_deck_id_functions_are_pinned():
    assert guid_for("individualism-collectivism/ind-personal-freedom/title") == "D1lijs$qHa"
    assert guid_for("x/y/point/z") == "I|Dim)T)eA"
    assert deck_id("Individualism vs Collectivism::Strengths") == 1269874127


def test_bundled_guids_come_from_ids_not_text():
    notes = {n.key: n for n in build_notes(load_source(str(BUNDLED_SOURCE)))}
    # A note of the first release (re-asked since, so no longer built): its key still gives the GUID
    # students who imported that release have, so a note that comes back finds theirs.
    assert guid_for("individualism-collectivism/collectivism-person/point/interdependent") == "jI}c}%r!h"
    assert len({n.guid for n in notes.values()}) == len(notes)
    for key, note in notes.items():  # genanki's own GUID scheme, of the key alone
        assert note.guid == genanki.guid_for("deckgen\x1f" + key), key


def test_a_file_saved_in_nfd_keeps_every_note(tmp_path):
    """Some editors save "é" as "e" + a combining accent: the same text, the same notes."""
    import unicodedata

    from generator.pipeline.config import BuildConfig
    from generator.pipeline.pipeline import build

    topic = "topic: basics\nname: Basics\nitems:\n  - id: cafe\n    explanation: Served in a {{café}} in Zürich.\n"
    composed = write_source(tmp_path / "nfc", unicodedata.normalize("NFC", topic))
    decomposed = write_source(tmp_path / "nfd", unicodedata.normalize("NFD", topic))
    assert (composed / "basics.yaml").read_bytes() != (decomposed / "basics.yaml").read_bytes()
    first = build(BuildConfig(str(composed), str(tmp_path / "a"), timestamp=BUILD_TIME))
    second = build(BuildConfig(str(decomposed), str(tmp_path / "b"), timestamp=BUILD_TIME))
    assert Path(first.files[0].path).read_bytes() == Path(second.files[0].path).read_bytes()
