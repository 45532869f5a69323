"""The lock the last build wrote, read as its note lines: a line becomes a note only when a build asks for it.

A rebuild after an edit in one topic needs the notes of that topic alone; the
others' packages are reused, and their lines go into the next lock as they
are.  So a lock this very code wrote (its SHA-256 and the code's digest are in
the build cache) is split into its note lines, each known by its key, topic
and place (see :mod:`~.notelines`), and a line is decoded the first time its
note is read.  The layout is :func:`~.write.joined_lock`'s; a lock laid out
any other way is not split (:func:`split_lock` gives None) and is read in
full, as before.
"""

from __future__ import annotations

import contextlib
import json
import operator
import re
from array import array
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

from generator.pipeline.lock.checks import note_type_of
from generator.pipeline.lock.located import Origin
from generator.pipeline.lock.model import LOCK_VERSION, Lock, LockedNote, kept
from generator.pipeline.lock.notelines import BETWEEN_LINES, InMemory, Line, NoteLines, OnDisk
from generator.pipeline.lock.places import LinePlaces
from generator.pipeline.lock.write import LIVE, joined_lock, json_text, note_line

_NOTES = b'\n"notes": {\n'
_FOOT = b"}\n}\n"
# A note's line: its key, its fields, the topic last (note_line's order). An unescaped quote is never inside a
# JSON string, so the first '": {"cards": ' ends the key and the last '"topic": "' starts the topic, whatever
# a label or deck holds.  A line holds no raw newline.
_LINE = re.compile(rb'  "(.*?)": \{"cards": [^\n]*"topic": "([^\n]*)"\}(?:,\n|\n)')
_GUID = b'"guid": "'
_GUID_END = b'", "hash": '


@dataclass(frozen=True, eq=False)  # compared as a mapping of notes, whatever holds them
class LineNotes(Mapping[str, LockedNote]):
    """A lock's notes by key, kept as where their lines are; each decoded the first time it is read."""

    found: NoteLines
    topics: Mapping[str, tuple[str, ...]]
    """Topic → the keys of its notes, in the lock's order."""
    numbers: Mapping[str, array[int]]
    """Topic → the places of its notes' lines, in the lock's order."""
    tombstones: bool
    """Whether a line is a tombstone's (else every note is live, whatever the build's time)."""
    _decoded: dict[str, LockedNote] = field(default_factory=dict, compare=False, repr=False)
    _owners: dict[str, dict[str, str]] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, key: str) -> LockedNote:
        note = self._decoded.get(key)
        if note is None:
            with _read_as_written(self.found):
                note = self._decoded[key] = decode_line(self.line(key))
        return note

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.found.number(key) is not None

    def decode(self, keys: Iterable[str]) -> None:
        """Decode the notes of *keys* the lock holds (others are passed over) at once, as :meth:`__getitem__` would
        one by one: a topic's notes are read as runs of lines and parsed as one JSON object, not a line and a
        parse each (a rebuilt topic reads all its notes: 2,500 reads and parses of a line cost 15 ms)."""
        numbers = sorted({number for key in keys if key not in self._decoded and (number := self.found.number(key))
                          is not None})
        if not numbers:
            return
        with _read_as_written(self.found):
            lines = b",".join([line for _, line in self.found.lines(numbers)])
            for key, fields in json.loads(b"{" + lines + b"}").items():  # each key once: the lock's are unique
                self._decoded[key] = LockedNote(**fields)

    def __iter__(self) -> Iterator[str]:
        return iter(self.found.keys)

    def __len__(self) -> int:
        return len(self.found)

    def number(self, key: str) -> int:
        """The place of note *key*'s line; KeyError if the lock has none."""
        number = self.found.number(key)
        if number is None:
            raise KeyError(key)
        return number

    def line(self, key: str) -> bytes:
        """The line of note *key* as the lock has it; KeyError if it has none."""
        return self.found.line(self.number(key))

    @property
    def lines(self) -> Iterator[Line]:
        """Every note's key and line, in the lock's order."""
        return self.found.lines(range(len(self.found)))

    def topic_lines(self, topic: str, now: int | None) -> KeptLines:
        """The lines a build at *now* keeps of the notes last built in topic *topic*, as the lock has them (a
        tombstone past its retention left out; every line where *now* is None)."""
        numbers = self.numbers.get(topic, array("L"))
        if self.tombstones and now is not None:
            lines = zip(numbers, self.found.lines(numbers), strict=True)
            numbers = array("L", [n for n, (key, line) in lines if LIVE in line or kept(self[key], now)])
        return KeptLines(self.found, numbers)

    def guid_owners(self) -> Mapping[str, str]:
        """Each GUID → the key of the note holding it: found in the lines, once, without decoding a note."""
        if not self._owners:
            raws, keys = [], []
            with _read_as_written(self.found):
                for key, line in self.lines:
                    raws.append(line[line.index(_GUID) + len(_GUID) : line.index(_GUID_END)])
                    keys.append(key)
                self._owners["owners"] = dict(zip(_texts(raws), keys, strict=True))
        return self._owners["owners"]


@contextlib.contextmanager
def _read_as_written(found: NoteLines | None) -> Iterator[None]:
    """Lines (of the lock read, *found*) that do not read as this code writes them: the lock was written in place
    since it was read (said so, as :class:`~generator.errors.DeckgenError`), or else a fault of deckgen's own."""
    try:
        yield
    except (ValueError, TypeError, KeyError):
        if found is not None:
            found.text.check()
        raise


@dataclass(frozen=True, eq=False)
class KeptLines(Sequence[Line]):
    """A topic's lines as the lock the build read has them, read from there each time they are gone through.

    A reused topic's lines go into the next lock as they are (see
    :func:`~.write.joined_lock`): copied in runs, never all held at once.
    """

    found: NoteLines
    numbers: array[int]

    def __len__(self) -> int:
        return len(self.numbers)

    @overload
    def __getitem__(self, index: int) -> Line: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Line]: ...
    def __getitem__(self, index: int | slice) -> Line | Sequence[Line]:
        if isinstance(index, slice):
            return list(self.found.lines(self.numbers[index]))
        number = self.numbers[index]
        return self.found.keys[number], self.found.line(number)

    def __iter__(self) -> Iterator[Line]:
        return self.found.lines(self.numbers)

    def places(self) -> Iterator[tuple[str, int]]:
        """Each line's key and place in the lock, read from neither."""
        keys = self.found.keys
        return ((keys[number], number) for number in self.numbers)


def split_lock(path: str, data: bytes, *, on_disk: bool = False, places: LinePlaces | None = None) -> Lock | None:
    """The lock *data* as lines (see :class:`LineNotes`), or None if it is not laid out as this code writes it.

    With *on_disk*, *data* is the file at *path* as it is, and its lines are read from there when asked (where
    the system can, see :meth:`OnDisk.possible`).  *places* are those of its lines as the build that wrote it
    left them (see :mod:`~.places`): found again only if they do not fit.
    """
    start = data.find(_NOTES)
    if start < 0 or not data.endswith(_FOOT):
        return None
    first, last = start + len(_NOTES), len(data) - len(_FOOT) - 1
    try:
        head = json.loads(data[:start].rstrip(b",") + b"}")
        note_types = {kind: note_type_of(entry) for kind, entry in head["note_types"].items()}
        found = places if places is not None and places.fits(data, first, last) else _places(data, first)
        disk = OnDisk(path, data) if on_disk and found is not None and OnDisk.possible() else None
        notes = None if found is None else _notes(data, found, disk)
    except (ValueError, KeyError, TypeError, AttributeError, OSError):
        return None
    if notes is None or head.get("version") != LOCK_VERSION:
        return None
    if bytes(joined_lock(note_types, ())) != data[:start] + _NOTES + _FOOT:  # the head as this code writes it
        return None
    return Lock(notes, note_types, origin=Origin(path, None))


def _places(data: bytes, first: int) -> LinePlaces | None:
    """The note lines of the lock *data* from *first* (its first note's) to its foot, or None if it holds other
    text: the lines follow each other, a comma and a newline after each but the last, a newline after that."""
    at, end = first, len(data) - len(_FOOT)
    starts, ends, keys, topic_of = array("Q"), array("Q"), [], array("L")
    topics: dict[bytes, int] = {}  # a topic's name kept once
    for match in _LINE.finditer(data, first, end):
        if match.start() != at or (at > first and data[at - 2] != ord(",")):
            return None  # text between two lines, or a line without the comma before the next
        at = match.end()
        starts.append(match.start())
        ends.append(match.end(2) + 2)
        keys.append(match.group(1))
        topic_of.append(topics.setdefault(match.group(2), len(topics)))
    if at != end or (at > first and data[at - 2] == ord(",")):
        return None  # text after the last line, or a comma after it
    return LinePlaces(_texts(keys), starts, ends, topic_of, tuple(map(json_text, topics)))


def _notes(data: bytes, places: LinePlaces, disk: OnDisk | None) -> LineNotes | None:
    """The notes at *places* in the lock *data*, or None if their keys are not each once, in order."""
    keys, topic_of = places.keys, places.topic_of
    if any(map(operator.ge, keys, keys[1:])):
        return None  # as joined_lock writes them, each once: a key is found by bisection
    numbers = [array("L") for _ in places.topic_names]
    for number, topic in enumerate(topic_of):
        numbers[topic].append(number)
    # Known where the build that wrote the lock left it (see places.py), else found in its bytes.
    tombstones = places.tombstones if places.tombstones is not None else data.count(LIVE) != len(keys)
    text = disk or InMemory(data)
    found = NoteLines(keys, places.starts, places.ends, text, topic_of, places.topic_names, tombstones,
                      places.unreleased)
    # Each topic in the order its first line comes, as the lock files them.
    by_topic = {places.topic_names[topic]: numbers[topic] for topic in dict.fromkeys(topic_of)}
    topics = {topic: tuple(keys[number] for number in found_numbers) for topic, found_numbers in by_topic.items()}
    return LineNotes(found, topics, by_topic, tombstones=tombstones)


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


def joined_lines(lines: Sequence[Line]) -> bytes:
    """*lines*' bytes, :data:`~.notelines.BETWEEN_LINES` between two (what a topic's fingerprint hashes): kept
    lines read in runs, as the lock has them."""
    if isinstance(lines, KeptLines):
        return lines.found.joined(lines.numbers)
    return BETWEEN_LINES.join([line for _, line in lines])


def lines_of(entries: Mapping[str, LockedNote]) -> list[Line]:
    """The lines of *entries*, sorted by key: as the lock writes them."""
    return [(key, note_line(key, entries[key])) for key in sorted(entries)]


def topic_lines(notes: Mapping[str, LockedNote], topic: str, keys: Iterable[str], now: int | None) -> Sequence[Line]:
    """The lines a build at *now* keeps of the notes *keys* last built in topic *topic* (see :func:`live_lines`).

    Where the lock was split, they are its lines of the topic as they are, read from it when gone through (*keys*
    are the topic's, as the lock files them).
    """
    if isinstance(notes, LineNotes):
        return notes.topic_lines(topic, now)
    return live_lines(notes, keys, now)


def live_lines(notes: Mapping[str, LockedNote], keys: Iterable[str], now: int | None) -> list[Line]:
    """The lines of the notes *keys* a build at *now* keeps (a tombstone past its retention dropped), sorted by key.
    Where *now* is None, every one as the lock holds it: what a fingerprint reads (see
    :func:`~generator.pipeline.reuse.fingerprint`).

    Read from the lock's lines as they are where the lock was split; only a
    tombstone's line is decoded, to read when it was removed.
    """
    if not isinstance(notes, LineNotes):
        return lines_of({key: notes[key] for key in keys if now is None or kept(notes[key], now)})
    found = list(notes.found.lines(sorted(map(notes.number, keys))))  # in the lock's order: by key
    if notes.tombstones and now is not None:
        found = [(key, line) for key, line in found if LIVE in line or kept(notes[key], now)]
    return found


@dataclass(frozen=True, eq=False)  # compared as a mapping of notes, whatever holds them
class LineEntries(Mapping[str, LockedNote]):
    """Lock entries given as their lines (a topic's): a note is decoded only if read (a custom release reads them)."""

    lines: Sequence[Line]
    _decoded: dict[str, LockedNote] = field(default_factory=dict, compare=False, repr=False)

    def __getitem__(self, key: str) -> LockedNote:
        if not self._decoded:
            with _read_as_written(self.lines.found if isinstance(self.lines, KeptLines) else None):
                self._decoded.update((k, decode_line(line)) for k, line in self.lines)
        return self._decoded[key]

    def __iter__(self) -> Iterator[str]:
        if isinstance(self.lines, KeptLines):
            return (key for key, _ in self.lines.places())  # no line read
        return (key for key, _ in self.lines)

    def __len__(self) -> int:
        return len(self.lines)


def holds_tombstones(notes: Mapping[str, LockedNote]) -> bool:
    """Whether one of *notes* is a tombstone (else every note is live, whatever the build's time)."""
    if isinstance(notes, LineNotes):
        return notes.tombstones
    return any(entry.removed is not None for entry in notes.values())


def guid_owners(notes: Mapping[str, LockedNote]) -> Mapping[str, str]:
    """Each GUID of *notes* → the key of the note holding it."""
    if isinstance(notes, LineNotes):
        return notes.guid_owners()
    return {locked.guid: key for key, locked in notes.items()}

