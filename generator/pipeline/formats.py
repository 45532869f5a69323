"""The file formats a build writes: one enum, cheap to import (the CLI's ``--format`` choice reads it at start-up).

A format says what the build does differently for it (as sqlite-utils' one
``Format``): its name, its file suffix, whether it carries notes' times (and so
updates the lock, and its packages can be reused), and how a file's bytes are
encoded, so no module compares strings or switches on a format.  What encodes
is imported only when a file is encoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from generator.cards.notes import NoteSpec
    from generator.source.content import Source


class Format(StrEnum):
    """Anki packages, or Anki's CSV text format."""

    APKG = "apkg"
    CSV = "csv"

    @property
    def suffix(self) -> str:
        """The file name's ending: ``.apkg``, ``.csv``."""
        return f".{self.value}"

    @property
    def carries_times(self) -> bool:
        """True if its files hold notes' times: the build updates the lock, and reuses unchanged packages."""
        return self is Format.APKG

    def encode_file(
        self, notes: Sequence[NoteSpec], times: Mapping[str, int], type_times: Mapping[str, int], source: Source
    ) -> bytes:
        """A file of *notes* in this format (not ``encode``: a format is a str, whose ``encode`` it keeps).

        An .apkg is seeded with its own newest time: its bytes then change only
        when its own notes (or the note types) do, so an edit in one topic leaves
        the others' packages as they were.  It carries the media files its notes
        show; a CSV file cannot (those come with any .apkg that shows them), nor times.
        """
        if not self.carries_times:
            from generator.anki.csvexport import csv_bytes

            return csv_bytes(notes)
        from generator.anki.package import package_bytes
        from generator.cards.notes import package_media

        stamp = max([*(times[n.guid] for n in notes), *type_times.values()])
        return package_bytes(notes, stamp, times, type_times, package_media(source, notes))


FileFormat = Format
"""The former name, kept for callers."""
FORMATS: Final[tuple[str, ...]] = tuple(f.value for f in Format)
