"""Notes as Anki package (.apkg) bytes: reproducibly, in memory.

genanki's ``Package.write_to_file`` leaves a temporary SQLite file behind on
every call and stamps zip entries with the current time.  We write genanki's
schema and collection row on an in-memory database, each deck's row and note
types with genanki's own ``Deck.write_to_db``, and the notes and cards rows as
genanki's ``Note.write_to_db`` and ``Card.write_to_db`` write them, in the same
order and with the same ids, but straight from deckgen's notes: a genanki
``Note`` per note (its tag list, its HTML check, its properties) cost more
than the row itself, and deckgen's notes are escaped and checked already.
We then set each note's modification time ourselves (Anki updates a note on
re-import only if that time is newer) and zip the bytes with fixed dates, so
the same notes and times always give the same bytes (the same bytes genanki's
own chain gives: a test builds with both).  Media files are zip entries
``0``, ``1``, … in name order, named by the package's ``media`` map, as
Anki's own exporter writes them.  Writing them is
:mod:`generator.pipeline.journal`'s job.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import itertools
import json
import sqlite3
import zipfile
from collections.abc import Mapping, Sequence

from generator.anki.genanki_import import genanki
from generator.anki.notetypes import NOTE_TYPES, RENAMED_FIELDS, RENAMED_TEMPLATES, NoteType, anki_model
from generator.cards.kinds import KINDS
from generator.cards.notes import NoteSpec

_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def deck_id(name: str) -> int:
    """A stable deck id from a deck name (Anki matches decks by name; ids just must not clash)."""
    digest = hashlib.sha256(("deckgen-deck\x1f" + name).encode()).digest()
    return (1 << 30) + int.from_bytes(digest[:4], "big") % (1 << 30)


def package_bytes(
    notes: Sequence[NoteSpec],
    timestamp: int,
    note_times: Mapping[str, int] | None = None,
    note_type_times: Mapping[str, int] | None = None,
    media: Mapping[str, bytes] | None = None,
) -> bytes:
    """The .apkg bytes for *notes*, grouped into their decks in first-seen order.

    *timestamp* seeds ids and is every note's modification time unless
    *note_times* (by GUID) gives another; *note_type_times* does the same for
    note types (by note type key).  *media* are the files the notes show, by
    the name their fields use.
    """
    connection = sqlite3.connect(":memory:")
    try:
        cursor = connection.cursor()
        _write_decks(cursor, notes, timestamp)
        if note_times:
            _set_note_times(cursor, {s.guid: note_times[s.guid] for s in notes if s.guid in note_times})
        if note_type_times:
            _set_note_type_times(cursor, note_type_times)
        connection.commit()
        database = connection.serialize()
    finally:
        connection.close()
    return zip_entries({"collection.anki2": database, **_media_entries(media or {})})


_NOTE_ROW = "INSERT INTO notes VALUES(?,?,?,?,?,?,?,?,?,?,?);"
_CARD_ROW = "INSERT INTO cards VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?);"


def _write_decks(cursor: sqlite3.Cursor, notes: Sequence[NoteSpec], timestamp: int) -> None:
    """genanki's ``Package.write_to_db`` for *notes*: the schema, then deck by deck (first seen first) its row and
    note types, then its notes, each followed by its cards, numbered from ``timestamp * 1000`` as genanki numbers them.

    A new card's due is its place in the new-card queue: the notes' order, which
    notes.study_order chose so that one item's cards do not come up back to back.
    """
    from genanki.apkg_col import APKG_COL
    from genanki.apkg_schema import APKG_SCHEMA

    cursor.executescript(APKG_SCHEMA)
    cursor.executescript(APKG_COL)
    models = _anki_models()  # fields and templates with their ids
    ids = itertools.count(timestamp * 1000)
    for name, deck_notes in _decks(notes).items():
        deck = genanki.Deck(deck_id(name), name)
        for _, spec in deck_notes:  # its note types, in the order its notes first use them (as genanki adds them)
            deck.add_model(models[spec.note_type])
        deck.write_to_db(cursor, timestamp, ids)  # no notes: the deck's row and its note types' rows
        for due, spec in deck_notes:
            model = models[spec.note_type]
            cursor.execute(_NOTE_ROW, (
                next(ids), spec.guid, model.model_id, timestamp, -1, " " + " ".join(spec.tags) + " ",
                "\x1f".join(spec.fields), spec.fields[model.sort_field_index], 0, 0, "",
            ))
            note_id = cursor.lastrowid
            for ordinal in KINDS[spec.note_type].card_ordinals(spec.fields):  # the kind decides its cards
                cursor.execute(_CARD_ROW, (
                    next(ids), note_id, deck.deck_id, ordinal, timestamp, -1, 0, 0, due, 0, 0, 0, 0, 0, 0, 0, 0, "",
                ))


def _anki_models() -> dict[str, genanki.Model]:
    """Each note type as packages carry it (:func:`anki_model`), made again only when one changes.

    genanki works out which fields a note type requires by rendering its front
    template once per field, on a new model each time: for every package, that
    cost more than the package's notes (a build packages every topic).  The key
    is what anki_model reads, so a note type changed in place (tests do) is seen.
    """
    return _models_of(repr([
        (kind, [getattr(model, name) for name in _MODEL_ATTRIBUTES], RENAMED_FIELDS[kind], RENAMED_TEMPLATES[kind])
        for kind, model in NOTE_TYPES.items()
    ]))


_MODEL_ATTRIBUTES = tuple(field.name for field in dataclasses.fields(NoteType))
"""What genanki writes of a note type (:meth:`genanki.Model.to_json`, whose ``req`` comes from fields and templates):
a :class:`NoteType` is genanki's model under the same names."""


@functools.lru_cache(maxsize=1)
def _models_of(key: str) -> dict[str, genanki.Model]:
    """The note types as packages carry them, for *key*, the state they are made from (see :func:`_anki_models`)."""
    return {kind: anki_model(kind) for kind in NOTE_TYPES}


def _decks(notes: Sequence[NoteSpec]) -> dict[str, list[tuple[int, NoteSpec]]]:
    """*notes* by deck, decks in first-seen order, each note with its place in *notes* (its cards' due)."""
    decks: dict[str, list[tuple[int, NoteSpec]]] = {}
    for position, spec in enumerate(notes):
        decks.setdefault(spec.deck, []).append((position, spec))
    return decks




def _media_entries(media: Mapping[str, bytes]) -> dict[str, bytes]:
    """The zip entries of *media*: each file as ``0``, ``1``, … (in name order) and the ``media`` map naming them."""
    names = sorted(media)
    entries = {str(index): media[name] for index, name in enumerate(names)}
    entries["media"] = json.dumps({str(index): name for index, name in enumerate(names)}).encode()
    return entries


def _set_note_times(cursor: sqlite3.Cursor, times: Mapping[str, int]) -> None:
    # The notes table has no index on guid: join through a keyed temporary table
    # instead of one UPDATE per note (which would scan every note each time).
    cursor.execute("CREATE TEMP TABLE note_times (guid TEXT PRIMARY KEY, mod INTEGER) WITHOUT ROWID")
    cursor.executemany("INSERT INTO note_times VALUES (?, ?)", times.items())
    cursor.execute(
        "UPDATE notes SET mod = (SELECT mod FROM note_times WHERE note_times.guid = notes.guid) "
        "WHERE guid IN (SELECT guid FROM note_times)"
    )
    cursor.execute("DROP TABLE note_times")


def _set_note_type_times(cursor: sqlite3.Cursor, times: Mapping[str, int]) -> None:
    (models_json,) = cursor.execute("SELECT models FROM col").fetchone()
    models = json.loads(models_json)
    for kind, model in NOTE_TYPES.items():
        if str(model.model_id) in models and kind in times:
            models[str(model.model_id)]["mod"] = times[kind]
    cursor.execute("UPDATE col SET models = ?", (json.dumps(models, sort_keys=True),))


def zip_entries(entries: dict[str, bytes]) -> bytes:
    """A package's zip: *entries* in name order, fixed dates (the same entries give the same bytes)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            # Level 1: a few percent larger, several times faster than the default 6.
            archive.writestr(info, entries[name], compresslevel=1)
    return buffer.getvalue()
