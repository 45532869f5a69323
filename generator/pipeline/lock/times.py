"""Each note's time against the lock: kept while unchanged, newer when edited; tombstones; releases.

The rule is Anki's: it updates an imported note only if its modification time
is newer than the collection's.  This module decides the times, what a
re-import will do to each note, and the next lock's entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, NamedTuple, get_args

from generator.anki.schema import NoteTypeSchema
from generator.errors import ContentError, DeckgenError, Problem
from generator.pipeline.lock.lines import guid_owners
from generator.pipeline.lock.located import content_problem, show
from generator.pipeline.lock.model import LOCK_NAME, MAX_TIME, Lock, LockedNote, kept

if TYPE_CHECKING:
    from generator.cards.notes import NoteSpec

ChangeKind = Literal["added", "updated", "unchanged", "removed"]
"""What a re-import does to a note."""
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)


@dataclass(frozen=True)
class Changes:
    """What a re-import of one package would do, against the lock: a count of each change kind."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    @property
    def changed(self) -> bool:
        """True if a re-import would add, update or remove a note: the lock's entries change with it."""
        return bool(self.added or self.updated or self.removed)

    def of(self, kind: ChangeKind) -> int:
        """How many notes a re-import would treat as *kind*."""
        count: int = getattr(self, kind)  # the fields are the change kinds (count() relies on it too)
        return count

    @classmethod
    def count(cls, kinds: Iterable[ChangeKind]) -> Changes:
        """Tally change kinds (see :data:`CHANGE_KINDS`)."""
        tally = dict.fromkeys(CHANGE_KINDS, 0)
        for kind in kinds:
            tally[kind] += 1
        return cls(**tally)


class Resolution(NamedTuple):
    """Modification times for this build, what each note's import will do, and the next lock."""

    times: Mapping[str, int]
    note_type_times: Mapping[str, int]
    kinds: Mapping[str, ChangeKind]
    """Each note's change kind, by key: the source's notes, and those this build removed (a tombstone kept
    from an earlier build is no change)."""
    lock: Lock
    narrowed: tuple[str, ...] = ()
    """Keys of the notes a release carried that have fewer cards now: a student keeps the card no longer asked,
    its front blank (Anki's import never deletes a card)."""


def resolve(
    notes: Iterable[NoteSpec],
    hashes: Mapping[str, str],
    note_types: Mapping[str, NoteTypeSchema],
    lock: Lock,
    now: int,
    complete: bool = True,
    rest: bool = True,
    kept_type_times: Mapping[str, int] | None = None,
) -> Resolution:
    """Decide each note's modification time and what a re-import would do.

    An unchanged note keeps its locked time; an edited or new one gets *now*
    (or one second past its locked time, should the clock be behind it).  In
    a *complete* build, a note in the lock but not in the sources becomes a
    tombstone: a lock entry marked ``removed``, kept for
    :data:`REMOVED_RETENTION_SECONDS` and never written to a package (a note
    with no card is a fault Anki's Check Database "repairs" with a card in
    Default).  A partial build (a custom selection)
    only refreshes the lock entries of the notes it built; without *rest*,
    its lock holds those alone (a topic's: the lock is not copied for each).
    *kept_type_times*: the note types' times a build that left the lock as it was gave them where the lock
    does not decide them (see :func:`_note_type_time`).
    """
    _check_build_time(now)
    resolver = _Resolver(lock, now, complete, rest)
    for note in notes:
        resolver.note(note, hashes[note.key])
    if complete:
        resolver.tombstones()
    if resolver.problems:
        raise ContentError(resolver.problems)
    type_times, new_types = _note_type_times(note_types, lock, now, kept_type_times or {})
    next_lock = Lock(resolver.notes, new_types)
    return Resolution(resolver.times, type_times, resolver.kinds, next_lock, tuple(resolver.narrowed))


def _check_build_time(now: int) -> None:
    if type(now) is not int or not 0 <= now <= MAX_TIME:
        raise DeckgenError(
            f"the build time {now!r} is not a whole number of seconds from 0 to {MAX_TIME}; check SOURCE_DATE_EPOCH"
        )


_NO_NEWER_TIME = f"mod is {MAX_TIME}, the latest time a lock may hold: the note changed and cannot get a newer one"


class _Resolver:
    """The notes' part of :func:`resolve`: each note's time and change kind, the next lock's notes, problems."""

    def __init__(self, lock: Lock, now: int, complete: bool, rest: bool = True) -> None:
        self.lock = lock
        self.now = now
        self.times: dict[str, int] = {}
        self.kinds: dict[str, ChangeKind] = {}
        self.notes: dict[str, LockedNote] = {} if complete or not rest else dict(lock.notes)
        self.built: set[str] = set()
        self._owners: Mapping[str, str] | None = None
        self.problems: list[Problem] = []
        self.narrowed: list[str] = []

    @property
    def owners(self) -> Mapping[str, str]:
        """Each GUID of the lock → its note's key: found once a note is resolved (resolving note types needs none)."""
        if self._owners is None:
            self._owners = guid_owners(self.lock.notes)
        return self._owners

    def note(self, note: NoteSpec, digest: str) -> None:
        """Resolve a note of the source, whose content hash is *digest*."""
        locked = self.lock.notes.get(note.key)
        if locked is None or locked.guid != note.guid:  # a lock holds a GUID once (read_lock refuses a repeat):
            self.check_guid(note)  # held by the note's own entry, no other entry holds it
        kind, mod = self.change(note.key, locked, digest)
        self.kinds[note.key] = kind
        self.times[note.guid] = mod
        self.built.add(note.key)
        # A note keeps whether it was ever released; a new one is in no release until `build --release`.
        released = locked is not None and locked.released
        if released and locked is not None and note.cards < locked.cards:
            self.narrowed.append(note.key)
        self.notes[note.key] = LockedNote(
            note.guid, digest, mod, note.topic, note.deck, note.note_type, note.cards, note.label, released=released
        )

    def check_guid(self, note: NoteSpec) -> None:
        """A lock entry holding a note's GUID: two notes in one package (or lock) with one GUID."""
        owner = self.owners.get(note.guid, note.key)
        if owner != note.key:
            what = f"guid {show(note.guid)} is the guid of the source's note {note.key!r}"
            self.problems.append(_lock_problem(self.lock, owner, "guid", what))

    def change(self, key: str, locked: LockedNote | None, digest: str) -> tuple[ChangeKind, int]:
        """What a re-import does to note *key*, and its modification time.

        A removed note that comes back with the text it had keeps its time,
        however often it went and came back: a student who kept it has exactly
        that text, and a newer time would overwrite their own edits of it.
        """
        if locked is not None and locked.hash == digest:
            return ("unchanged" if locked.removed is None else "added"), locked.mod
        if locked is None:
            return "added", self.now
        mod = max(self.now, locked.mod + 1)
        if mod > MAX_TIME:
            self.problems.append(_lock_problem(self.lock, key, "mod", _NO_NEWER_TIME))
        return "updated", mod

    def tombstones(self) -> None:
        """Keep the lock's notes the build did not make as tombstones (those past the retention dropped)."""
        for key, locked in self.lock.notes.items():
            tombstone = None if key in self.built else self.tombstone(key, locked)
            if tombstone is not None:
                self.times[tombstone.guid] = tombstone.mod
                self.notes[key] = tombstone

    def tombstone(self, key: str, locked: LockedNote) -> LockedNote | None:
        # A note no release carried is on no student's device: nothing to mark, so nothing to remember.
        if not locked.released:
            return None
        # The entry keeps the note's last hash and time: if it comes back
        # unchanged it is the note students kept, and keeps its time.
        if locked.removed is None:
            self.kinds[key] = "removed"
            return replace(locked, removed=self.now)
        if not kept(locked, self.now):
            return None
        # Removed by an earlier build: no change this time (no package carries it), so no change kind.
        return locked


def released(lock: Lock, keys: Iterable[str] | None = None) -> Lock:
    """*lock* after a release: its live notes of *keys* (every live note when None) marked released."""
    chosen = None if keys is None else set(keys)
    notes = {
        key: replace(note, released=True)
        if not note.released and note.removed is None and (chosen is None or key in chosen) else note
        for key, note in lock.notes.items()
    }
    return Lock(notes, lock.note_types, origin=lock.origin)


def unreleased(lock: Lock) -> int:
    """How many live notes of *lock* no release has carried yet."""
    return sum(1 for note in lock.notes.values() if not note.released and note.removed is None)


def _note_type_times(
    note_types: Mapping[str, NoteTypeSchema], lock: Lock, now: int, kept: Mapping[str, int]
) -> tuple[dict[str, int], dict[str, NoteTypeSchema]]:
    """Each note type's modification time, and the next lock's types.

    A note type keeps its locked time while nothing of it changes; else it gets
    a newer one (Anki updates a note type only from a newer one): so a new
    look, a renamed field or template, and new ids all reach students.
    """
    times = {}
    new_types = dict(lock.note_types)
    for kind, schema in note_types.items():
        mod = _note_type_time(lock.note_types.get(kind), schema, now, kept.get(kind))
        times[kind] = mod
        new_types[kind] = replace(schema, mod=mod)
    return times, new_types


def _note_type_time(locked: NoteTypeSchema | None, schema: NoteTypeSchema, now: int, kept: int | None) -> int:
    """The type's time: the lock's while the type is as the lock holds it; else *kept*, the time the last build
    that left the lock as it was (``watch``'s, of this very code) gave it, if newer than the lock's and not later
    than *now*; else a new one.

    So builds that leave the lock as it was give such a type the same time
    whenever they run: a time of their own on every save would change every
    package, and no topic would be reused.  A kept time later than *now* is
    none a save gave (a hand-edited cache); once imported, it would keep
    every later look of the type out of Anki.
    """
    if locked is not None and locked.identical(schema):
        return locked.mod
    if kept is not None and kept <= now and (locked is None or kept > locked.mod):
        return kept
    if locked is None:
        return now
    return max(now, min(locked.mod + 1, MAX_TIME))  # newer, should the clock be behind the lock


def _lock_problem(lock: Lock, key: str, name: str, what: str) -> Problem:
    """A problem with the lock entry of note *key*, found while resolving against the source."""
    if lock.origin is None:  # a lock made in memory: no file, no line
        return content_problem(LOCK_NAME, 1, f"note {key!r}", what)
    return lock.origin.problem(("notes", key, name), what)
