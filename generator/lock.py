"""The build lock: what each note looked like when it was last built, and when.

Anki updates an imported note only if its modification time is newer than the
one in the collection.  So an unchanged note must keep the time it was first
built with (or a re-import would overwrite notes a student edited), and an
edited note must get a newer one (or the edit would never arrive).  The lock,
committed beside the sources, records for every note its GUID, a hash of its
content and that time, and for every note type its contract (fields and
template names) and a hash of its templates and CSS.

It is JSON with one note per line, sorted, so that a diff of the lock reads as
a list of the notes a change touched.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from .errors import ContentError, Problem
from .notes import NoteSpec
from .source import ID_PATTERN

LOCK_NAME = "deckgen.lock"
LOCK_VERSION = 1
REMOVED_TAG = "deckgen::removed"
REMOVED_RETENTION_SECONDS = 60 * 24 * 3600
"""How long a removed note is still re-emitted (tagged) so every student's import meets it."""


@dataclass(frozen=True, slots=True)  # tens of thousands of them: no per-instance dict
class LockedNote:
    """A note as last built: identity, content hash, time, and where it lived."""

    guid: str
    hash: str
    mod: int
    topic: str
    deck: str
    note_type: str
    cards: int
    label: str
    removed: int | None = None


@dataclass(frozen=True)
class NoteTypeSchema:
    """A note type's contract (id, name, field and template names) and its look (hash)."""

    id: int
    name: str
    fields: tuple[str, ...]
    templates: tuple[str, ...]
    hash: str
    mod: int = 0

    def same_contract(self, other: NoteTypeSchema) -> bool:
        """True if Anki would treat *other* as the same note type (no "Name+" copy)."""
        return (self.id, self.fields, self.templates) == (other.id, other.fields, other.templates)


@dataclass(frozen=True)
class Lock:
    """The whole lock file."""

    notes: Mapping[str, LockedNote]
    note_types: Mapping[str, NoteTypeSchema]


EMPTY_LOCK = Lock({}, {})


def content_hash(parts: Iterable[str]) -> str:
    """A short, stable hash of some strings."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode("utf-8"))
        digest.update(b"\x1f")
    return digest.hexdigest()[:16]


def read_lock(path: str) -> Lock:
    """Read the lock at *path*; a missing lock is an empty one."""
    if not os.path.exists(path):
        return EMPTY_LOCK
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        if data.get("version") != LOCK_VERSION:
            raise ValueError(f"unknown lock version {data.get('version')!r}")
        notes = {key: LockedNote(**value) for key, value in data["notes"].items()}
        for key, note in notes.items():
            _check_entry(key, note)
        note_types = {
            kind: NoteTypeSchema(
                **{**value, "fields": tuple(value["fields"]), "templates": tuple(value["templates"])}
            )
            for kind, value in data["note_types"].items()
        }
    except json.JSONDecodeError as exc:
        raise ContentError([Problem(path, exc.lineno, "", f"the lock is not valid JSON: {exc.msg}")]) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ContentError(
            [Problem(path, 1, "", f"the lock cannot be read ({exc}); restore it from version control")]
        ) from None
    return Lock(notes, note_types)


_ENTRY_TYPES = {
    "guid": str, "hash": str, "mod": int, "topic": str, "deck": str,
    "note_type": str, "cards": int, "label": str,
}


def _check_entry(key: str, note: LockedNote) -> None:
    """Refuse a hand-edited entry that would build a wrong note rather than guess."""
    for name, kind in _ENTRY_TYPES.items():
        value = getattr(note, name)
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ValueError(f"note {key!r}: {name} should be {kind.__name__}, not {value!r}")
    if note.removed is not None and (not isinstance(note.removed, int) or isinstance(note.removed, bool)):
        raise ValueError(f"note {key!r}: removed should be a time or null, not {note.removed!r}")
    if not ID_PATTERN.fullmatch(note.topic):
        raise ValueError(f"note {key!r}: bad topic id {note.topic!r}")
    if note.note_type not in ("cloze", "comparison") or note.cards not in (1, 2):
        raise ValueError(f"note {key!r}: unknown note type {note.note_type!r} or card count {note.cards!r}")


def dump_lock(lock: Lock) -> str:
    """The lock as text: sorted, one note per line, so diffs stay readable."""
    lines = ["{", f'"version": {LOCK_VERSION},', '"note_types": {']
    types = sorted(lock.note_types.items())
    for index, (kind, schema) in enumerate(types):
        comma = "," if index < len(types) - 1 else ""
        value = {**schema.__dict__, "fields": list(schema.fields), "templates": list(schema.templates)}
        lines.append(f"  {json.dumps(kind)}: {json.dumps(value, sort_keys=True, ensure_ascii=False)}{comma}")
    lines.append("},")
    lines.append('"notes": {')
    text = json.JSONEncoder(ensure_ascii=False).encode
    notes = sorted(lock.notes.items())
    for index, (key, n) in enumerate(notes):
        comma = "," if index < len(notes) - 1 else ""
        removed = "null" if n.removed is None else n.removed
        # The same text as json.dumps(..., sort_keys=True), written out: a third of the time.
        lines.append(
            f'  {text(key)}: {{"cards": {n.cards}, "deck": {text(n.deck)}, "guid": {text(n.guid)}, '
            f'"hash": {text(n.hash)}, "label": {text(n.label)}, "mod": {n.mod}, '
            f'"note_type": {text(n.note_type)}, "removed": {removed}, "topic": {text(n.topic)}}}{comma}'
        )
    lines.append("}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def check_note_types(
    current: Mapping[str, NoteTypeSchema], lock: Lock, lock_path: str
) -> list[Problem]:
    """Refuse a note type whose contract changed under the same id.

    Anki would import it as a copy ("Name+") and stop updating every existing
    note.  A deliberate change is a *new version*: a new id and name (see
    README, "Changing a note type").
    """
    problems = []
    for kind, schema in current.items():
        locked = lock.note_types.get(kind)
        if locked is None or locked.id != schema.id or locked.same_contract(schema):
            continue
        changes = []
        if locked.fields != schema.fields:
            changes.append(f"fields {list(locked.fields)} -> {list(schema.fields)}")
        if locked.templates != schema.templates:
            changes.append(f"templates {list(locked.templates)} -> {list(schema.templates)}")
        problems.append(
            Problem(
                lock_path,
                1,
                f"note type {schema.name!r}",
                f"its {' and '.join(changes)} changed under the same id {schema.id}; Anki would "
                f"import it as a copy '{schema.name}+' and stop updating students' notes. Revert the "
                "change, or make it a new note type version (new id and name; see README)",
            )
        )
    return problems


CHANGE_KINDS = ("added", "updated", "unchanged", "removed")


@dataclass(frozen=True)
class Changes:
    """What a re-import of one package would do, against the lock."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    @classmethod
    def count(cls, kinds: Iterable[str]) -> Changes:
        """Tally change kinds (see :data:`CHANGE_KINDS`)."""
        tally = dict.fromkeys(CHANGE_KINDS, 0)
        for kind in kinds:
            tally[kind] += 1
        return cls(**tally)


@dataclass(frozen=True)
class Resolution:
    """Modification times for this build, what each note's import will do, and the next lock."""

    times: Mapping[str, int]
    note_type_times: Mapping[str, int]
    kinds: Mapping[str, str]
    tombstones: tuple[tuple[str, LockedNote], ...]
    lock: Lock


def resolve(
    notes: Iterable[NoteSpec],
    hashes: Mapping[str, str],
    note_types: Mapping[str, NoteTypeSchema],
    lock: Lock,
    now: int,
    complete: bool = True,
) -> Resolution:
    """Decide each note's modification time and what a re-import would do.

    An unchanged note keeps its locked time; an edited or new one gets *now*
    (or one second past its locked time, should the clock be behind it).  In
    a *complete* build, a note in the lock but not in the sources becomes a
    tombstone: re-emitted, tagged :data:`REMOVED_TAG`, for
    :data:`REMOVED_RETENTION_SECONDS`.  A partial build (a custom selection)
    only refreshes the lock entries of the notes it built.
    """
    times: dict[str, int] = {}
    kinds: dict[str, str] = {}
    new_notes: dict[str, LockedNote] = {} if complete else dict(lock.notes)
    built: set[str] = set()
    for note in notes:
        locked = lock.notes.get(note.key)
        digest = hashes[note.key]
        if locked is not None and locked.hash == digest and locked.removed is None:
            kinds[note.key], mod = "unchanged", locked.mod
        else:
            kinds[note.key] = "added" if locked is None else "updated"
            mod = max(now, locked.mod + 1) if locked is not None else now
        times[note.guid] = mod
        built.add(note.key)
        new_notes[note.key] = LockedNote(
            note.guid, digest, mod, note.topic, note.deck, note.note_type, note.cards, note.label
        )
    tombstones = []
    for key, locked in lock.notes.items() if complete else ():
        if key in built:
            continue
        if locked.removed is None:
            locked = replace(locked, removed=now, mod=max(now, locked.mod + 1), hash="removed")
            kinds[key] = "removed"
        elif now - locked.removed > REMOVED_RETENTION_SECONDS:
            continue
        else:
            kinds[key] = "unchanged"  # a tombstone students already have
        tombstones.append((key, locked))
        times[locked.guid] = locked.mod
        new_notes[key] = locked
    type_times = {}
    new_types = dict(lock.note_types)
    for kind, schema in note_types.items():
        locked_type = lock.note_types.get(kind)
        same = locked_type is not None and locked_type.id == schema.id and locked_type.hash == schema.hash
        mod = locked_type.mod if same and locked_type else now
        type_times[kind] = mod
        new_types[kind] = replace(schema, mod=mod)
    return Resolution(times, type_times, kinds, tuple(sorted(tombstones)), Lock(new_notes, new_types))
