"""Notes as Anki's CSV text format, for users who import text files.

The file header tells Anki's importer everything it needs (see Anki's manual,
"Importing text files"): the separator, that fields are HTML, and which
columns hold the note type, deck, tags and GUID.  With the GUID column a
re-import updates the notes instead of duplicating them.  A CSV file cannot
create note types: the collection must already have deckgen's (import one
``.apkg`` first).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence

from generator.anki.notetypes import NOTE_TYPES
from generator.cards.notes import NoteSpec
from generator.errors import DeckgenError

HEADER = (
    "#separator:tab",
    "#html:true",
    "#notetype column:1",
    "#deck column:2",
    "#tags column:3",
    "#guid column:4",
)


def csv_bytes(notes: Sequence[NoteSpec]) -> bytes:
    """The CSV text (UTF-8) for *notes*: one row per note, fields after the four meta columns."""
    buffer = io.StringIO()
    buffer.write("\n".join(HEADER) + "\n")
    writer = csv.writer(buffer, delimiter="\t", lineterminator="\n")
    for note in notes:
        name = NOTE_TYPES[note.note_type].name
        tags = " ".join(note.tags)
        if len(tags.split()) != len(note.tags):  # Anki splits the column at whitespace: never split a tag
            raise DeckgenError(f"note {note.guid}: a tag is empty or contains whitespace: {list(note.tags)!r}")
        writer.writerow([name, note.deck, tags, note.guid, *(_inert(field) for field in note.fields)])
    return buffer.getvalue().encode("utf-8")


_FORMULA_START = frozenset("=+-@\t\r")


def _inert(field: str) -> str:
    """An HTML field no spreadsheet runs as a formula: a leading = + - @ as a character reference.

    Anki shows the same character; a spreadsheet that opens the file sees text.
    """
    if field[:1] in _FORMULA_START:
        return f"&#{ord(field[0])};{field[1:]}"
    return field
