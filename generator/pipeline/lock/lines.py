"""The lock the last build wrote, read as its note lines: a line becomes a note only when a build asks for it.

A rebuild after an edit in one topic needs the notes of that topic alone; the
others' packages are reused, and their lines go into the next lock as they
are.  So a lock this very code wrote (its SHA-256 and the code's digest are in
the build cache) is split into its note lines, each known by its key and
topic, and a line is decoded the first time its note is read.  The layout is
:func:`~.write.joined_lock`'s; a lock laid out any other way is not split
(:func:`split_lock` gives None) and is read in full, as before.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from operator import itemgetter

from generator.pipeline.lock.checks import note_type_of
from generator.pipeline.lock.located import Origin
from generator.pipeline.lock.model import LOCK_VERSION, Lock, LockedNote, kept
from generator.pipeline.lock.write import LIVE, joined_lock, json_text, note_line

_NOTES = b'\n"notes": {\n'
_FOOT = b"}\n}\n"
# Where a line's fields start, in the order note_line writes them.  An unescaped quote is never inside
# a JSON string, so the first of each is the field itself, never text of a label or deck that looks like it.
_KEY_END = b'": {"cards": '
_GUID = b'"guid": "'
_GUID_END = b'", "hash": '
_TOPIC = b'"topic": "'

Line = tuple[str, bytes]
"""A note's key and its line in the lock (see :func:`~.write.note_line`)."""


@dataclass(frozen=True, eq=False)  # compared as a mapping of notes, whatever holds them
class LineNotes(Mapping[str, LockedNote]):
    """A lock's notes by key, kept as their lines; each decoded the first time it is read."""

    lines: Mapping[str, bytes]
    """Key → line, in the lock's order."""
    topics: Mapping[str, tuple[str, ...]]
    """Topic → the keys of its notes, in the lock's order."""
    topic_lines: Mapping[str, tuple[Line, ...]]
    """Topic → its notes' keys and lines, in the lock's order (sorted by key)."""
    tombstones: bool
    """Whether a line is a tombstone's (else every note is live, whatever the build's time)."""
    _decoded: dict[str, LockedNote] = field(default_factory=dict, compare=False, repr=False)
    _owners: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, key: str) -> LockedNote:
        note = self._decoded.get(key)
        if note is None:
            note = self._decoded[key] = decode_line(self.lines[key])
        return note

    def __iter__(self) -> Iterator[str]:
        return iter(self.lines)

    def __len__(self) -> int:
        return len(self.lines)

    def guid_owners(self) -> Mapping[str, str]:
        """Each GUID → the key of the note holding it: found in the lines, once, without decoding a note."""
        if not self._owners:
            lines = self.lines.values()
            guids = _texts([line[line.index(_GUID) + len(_GUID) : line.index(_GUID_END)] for line in lines])
            self._owners["owners"] = dict(zip(guids, self.lines, strict=True))
        return self._owners["owners"]


def split_lock(path: str, data: bytes) -> Lock | None:
    """The lock *data* as lines (see :class:`LineNotes`), or None if it is not laid out as this code writes it."""
    start = data.find(_NOTES)
    if start < 0 or not data.endswith(_FOOT):
        return None
    try:
        head = json.loads(data[:start].rstrip(b",") + b"}")
        notes = _notes(_note_lines(data, start + len(_NOTES)))
        note_types = {kind: note_type_of(entry) for kind, entry in head["note_types"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if notes is None or head.get("version") != LOCK_VERSION:
        return None
    if bytes(joined_lock(note_types, ())) != data[:start] + _NOTES + _FOOT:  # the head as this code writes it
        return None
    return Lock(notes, note_types, origin=Origin(path, None))


def _note_lines(data: bytes, first: int) -> list[bytes] | None:
    """The lines of the lock *data* from *first* (its first note's) to its foot, or None if it ends otherwise.

    Split out of *data* itself, each line copied once: the lock is tens of megabytes.
    """
    if first == len(data) - len(_FOOT):
        return []  # no note
    before = data.count(b",\n", 0, first)  # the head's: one a line that ends with a comma
    lines = data.split(b",\n")[before:]
    start = data.rfind(b",\n", 0, first) + 2
    if not before or not lines[-1].endswith(b"\n" + _FOOT):
        return None
    lines[0] = lines[0][first - start :]
    lines[-1] = lines[-1][: -len(_FOOT) - 1]  # the first line, too, where it is the only one
    return lines


def _notes(lines: list[bytes] | None) -> LineNotes | None:
    """The notes of the lock's note *lines*, or None if there are none to read.

    Raises ValueError where a line lacks a field.
    """
    if lines is None:
        return None
    keys = _texts([line[3 : line.index(_KEY_END)] for line in lines if line.startswith(b'  "')])
    topics = [line[line.rindex(_TOPIC) + len(_TOPIC) : -2] for line in lines if line.endswith(b'"}')]
    by_key = dict(zip(keys, lines, strict=True))  # one key and one topic a line, else ValueError
    if len(by_key) != len(keys):
        return None
    owned: dict[bytes, list[Line]] = {}  # a few topics: each name decoded once
    for key, topic, line in zip(keys, topics, lines, strict=True):
        owned.setdefault(topic, []).append((key, line))
    topic_lines = {json_text(topic): tuple(found) for topic, found in owned.items()}
    topic_keys = {topic: tuple(map(itemgetter(0), found)) for topic, found in topic_lines.items()}
    return LineNotes(by_key, topic_keys, topic_lines, tombstones=sum(LIVE in line for line in lines) != len(lines))


def _texts(raws: list[bytes]) -> list[str]:
    """The texts of JSON strings, from the bytes between their quotes: decoded at once unless one has an escape."""
    joined = b"\n".join(raws)  # a JSON string holds no raw newline
    if b"\\" in joined:
        return [json_text(raw) for raw in raws]
    return joined.decode("utf-8").split("\n") if raws else []


def decode_line(line: bytes) -> LockedNote:
    """The note of a line :func:`~.write.note_line` wrote."""
    ((_, fields),) = json.loads(b"{" + line + b"}").items()
    return LockedNote(**fields)


def lines_of(entries: Mapping[str, LockedNote]) -> list[Line]:
    """The lines of *entries*, sorted by key: as the lock writes them."""
    return [(key, note_line(key, entries[key])) for key in sorted(entries)]


def topic_lines(notes: Mapping[str, LockedNote], topic: str, keys: Iterable[str], now: int) -> Sequence[Line]:
    """The lines a build at *now* keeps of the notes *keys* last built in topic *topic* (see :func:`live_lines`).

    Where the lock was split and holds no tombstone, they are its lines of the topic as they are.
    """
    if isinstance(notes, LineNotes) and not notes.tombstones:
        return notes.topic_lines.get(topic, ())
    return live_lines(notes, keys, now)


def live_lines(notes: Mapping[str, LockedNote], keys: Iterable[str], now: int) -> list[Line]:
    """The lines of the notes *keys* a build at *now* keeps (a tombstone past its retention dropped), sorted by key.

    Read from the lock's lines as they are where the lock was split; only a
    tombstone's line is decoded, to read when it was removed.
    """
    if not isinstance(notes, LineNotes):
        return lines_of({key: notes[key] for key in keys if kept(notes[key], now)})
    lines = notes.lines
    found = [(key, lines[key]) for key in keys]
    if notes.tombstones:
        found = [(key, line) for key, line in found if LIVE in line or kept(notes[key], now)]
    return sorted(found)


@dataclass(frozen=True, eq=False)  # compared as a mapping of notes, whatever holds them
class LineEntries(Mapping[str, LockedNote]):
    """Lock entries given as their lines (a topic's): a note is decoded only if read (a custom release reads them)."""

    lines: Sequence[Line]
    _decoded: dict[str, LockedNote] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, key: str) -> LockedNote:
        if not self._decoded:
            self._decoded.update((k, decode_line(line)) for k, line in self.lines)
        return self._decoded[key]

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self.lines)

    def __len__(self) -> int:
        return len(self.lines)


def guid_owners(notes: Mapping[str, LockedNote]) -> Mapping[str, str]:
    """Each GUID of *notes* → the key of the note holding it."""
    if isinstance(notes, LineNotes):
        return notes.guid_owners()
    return {locked.guid: key for key, locked in notes.items()}

