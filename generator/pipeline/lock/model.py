"""The lock's records: a note as last built, the whole lock, and the limits every other lock module reads.

Records only, no reading or writing: the build, the reuse of topics and the
report all hold these, and need none of the JSON machinery to do so.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, TypeGuard

from generator.anki.schema import NoteTypeSchema

if TYPE_CHECKING:
    from collections.abc import Mapping

    from generator.cards.notes import NoteKind
    from generator.pipeline.lock.located import Origin


LOCK_NAME = "deckgen.lock"
LOCK_VERSION = 1
REMOVED_RETENTION_SECONDS = 60 * 24 * 3600
"""How long the lock remembers a removed note: for ``push`` to mark copies, and to keep its time should it return."""


@dataclass(frozen=True, slots=True)  # tens of thousands of them: no per-instance dict
class LockedNote:
    """A note as last built: identity, content hash, time, and where it lived."""

    guid: str
    hash: str
    mod: int
    topic: str
    deck: str
    note_type: NoteKind
    cards: int
    label: str
    removed: int | None = None
    released: bool = True
    """Whether the note was in a release build (``build --release``); only a released note leaves a tombstone.

    Locks written before releases existed hold no such field: their notes may
    have reached students, so they read as released.
    """


def kept(entry: LockedNote, now: int) -> bool:
    """Whether a build at *now* keeps the lock entry *entry* (a tombstone past its retention is dropped)."""
    return entry.removed is None or now - entry.removed <= REMOVED_RETENTION_SECONDS


LOCKED_NOTE_FIELDS = tuple(sorted(f.name for f in fields(LockedNote)))
"""A note entry's fields, in the order the lock writes them: the one list the writer and the checker use."""
OPTIONAL_NOTE_FIELDS = frozenset({"released"})
"""Fields a note entry may leave out: written only when not their default, so older locks stay valid as they are."""
NOTE_TYPE_FIELDS = tuple(sorted(f.name for f in fields(NoteTypeSchema)))
"""A note type entry's fields, in the order the lock writes them."""


@dataclass(frozen=True)
class Lock:
    """The whole lock file."""

    notes: Mapping[str, LockedNote]
    note_types: Mapping[str, NoteTypeSchema]
    origin: Origin | None = field(default=None, compare=False, repr=False)
    """The file it was read from, to locate problems found later (see :func:`resolve`)."""
    sha256: str | None = field(default=None, compare=False, repr=False)
    """Of the bytes it was read from, with LF line endings (see :func:`~.read.read_lock`); None: made in memory."""


EMPTY_LOCK = Lock({}, {})


MAX_LOCK_BYTES = 64 * 1024 * 1024
"""The largest lock read: deckgen writes a few hundred bytes a note."""
MAX_TIME = 253_402_300_799
"""The last second of the year 9999: the latest time (``mod``, ``removed``) a lock may hold.

Anything later is no build time.  The times become Anki modification times,
and genanki numbers a package's notes and cards from its newest time in
milliseconds, so a time past 2**63 / 1000 would overflow SQLite's integers.
"""


def is_time(value: object) -> TypeGuard[int]:
    """True if *value* is a time a lock may hold: whole seconds from 0 to :data:`MAX_TIME` (a bool is no number)."""
    return type(value) is int and 0 <= value <= MAX_TIME
