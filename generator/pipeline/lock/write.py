"""The lock's text: sorted JSON, one note a line, and the key → line lookup that relies on that layout.

A note a line makes a diff of the lock a list of the notes a change touched,
and lets the report point at a note's line without parsing the lock again.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from operator import attrgetter

from generator.anki.schema import NoteTypeSchema
from generator.errors import DeckgenError
from generator.pipeline.lock.model import (
    LOCK_VERSION,
    LOCKED_NOTE_FIELDS,
    MAX_LOCK_BYTES,
    NOTE_TYPE_FIELDS,
    Lock,
    LockedNote,
)
from generator.pipeline.lock.notelines import BETWEEN_LINES, SPAN_BYTES, NoteLines

_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_note_values = attrgetter(*LOCKED_NOTE_FIELDS)
_type_values = attrgetter(*NOTE_TYPE_FIELDS)


def dump_lock(lock: Lock) -> str:
    """The lock as text: sorted, one note per line, so diffs stay readable."""
    result = "\n".join(_lock_lines(lock))
    _check_written_size(len(result) if result.isascii() else len(result.encode("utf-8")))
    return result


@dataclass(frozen=True, eq=False)
class LockText:
    """A lock's bytes as the parts they are written from, in order: never joined.

    The parts are its head, each note's line (the very objects the topics
    made) or a run of lines kept as the lock the build read has them (their
    places in it, see :mod:`~.notelines`), the commas between them, and its
    foot: a large source's lock is tens of megabytes, and a copy held whole
    would be the build's peak of memory.
    """

    parts: tuple[bytes | tuple[int, int], ...]
    kept: NoteLines | None = None
    """Where the runs of lines (first, last) are: the lock the build read."""
    keys: Sequence[str] = ()
    """Its notes' keys, in order: a line's or a run's each (see :func:`~.places.placed`)."""

    def __len__(self) -> int:
        return sum(len(part) if isinstance(part, bytes) else self._kept().size(*part) for part in self.parts)

    def __bytes__(self) -> bytes:
        return b"".join(self.blocks())

    @property
    def pieces(self) -> Iterator[bytes]:
        """Its bytes, to write: a block at a time (see :meth:`blocks`)."""
        return self.blocks()

    def count(self, needle: bytes) -> int:
        """How often *needle* occurs in a block (what it finds never spans two: a field, within a line)."""
        return sum(block.count(needle) for block in self.blocks())

    def findall(self, pattern: re.Pattern[bytes]) -> list[bytes]:
        """*pattern*'s matches in the blocks (one that spans two is not found: a field, within a line)."""
        return [found for block in self.blocks() for found in pattern.findall(block)]

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for block in self.blocks():
            digest.update(block)
        return digest.hexdigest()

    def blocks(self) -> Iterator[bytes]:
        """Its bytes a quarter megabyte at a time (:data:`~.notelines.SPAN_BYTES`), each block ending where a
        line or a comma does: read in C, not a Python step a line, never all at once."""
        held: list[bytes] = []
        size = 0
        for part in self.parts:
            for piece in (part,) if isinstance(part, bytes) else self._run(part):
                held.append(piece)
                size += len(piece)
                if size >= SPAN_BYTES:
                    yield b"".join(held)
                    held.clear()
                    size = 0
        if held:
            yield b"".join(held)
        if self.kept is not None:
            self.kept.text.check()  # the lock read, written in place since: what was copied may not be its lines

    def _run(self, run: tuple[int, int]) -> Iterator[bytes]:
        return self._kept().spans(*run)

    def _kept(self) -> NoteLines:
        assert self.kept is not None  # a run is of the lock read
        return self.kept


def lock_text(lock: Lock) -> LockText:
    """:func:`dump_lock`'s text as UTF-8, each note's line encoded once: what a build writes."""
    return joined_lock(lock.note_types, ((key, note_line(key, note)) for key, note in lock.notes.items()))


def lock_bytes(lock: Lock) -> bytes:
    """:func:`lock_text` in one piece."""
    return bytes(lock_text(lock))


def joined_lock(
    note_types: Mapping[str, NoteTypeSchema], lines: Iterable[tuple[str, bytes | int]], kept: NoteLines | None = None
) -> LockText:
    """The lock of *note_types* and the note *lines* (key, line as :func:`note_line` writes it), in any order
    (a key given twice is written once, with its last line).

    A rebuild gives the lines of the topics it reused as the last lock had
    them, and encodes only the rest: the bytes are those of :func:`dump_lock`.
    A line given as a number is the line at that place in *kept*, the lock the
    build read: neighbours there that are neighbours here are copied as a run.
    """
    by_key = dict(lines)
    head = "\n".join(_head(note_types)).encode("utf-8") + b"\n"
    if not by_key:
        return LockText((head + _FOOT,))
    parts: list[bytes | tuple[int, int]] = [head]
    run: tuple[int, int] | None = None
    keys = sorted(by_key)
    for key in keys:
        line = by_key[key]
        if isinstance(line, int) and run is not None and line == run[1] + 1:
            run = (run[0], line)
            continue
        if run is not None:
            parts += (run, BETWEEN_LINES)
        run = (line, line) if isinstance(line, int) else None
        if isinstance(line, bytes):
            parts += (line, BETWEEN_LINES)
    if run is not None:
        parts += (run, BETWEEN_LINES)
    parts[-1] = b"\n" + _FOOT  # for the comma after the last line
    text = LockText(tuple(parts), kept, keys)
    _check_written_size(len(text))
    return text


_FOOT = b"}\n}\n"


def _head(note_types: Mapping[str, NoteTypeSchema]) -> list[str]:
    """The lock's lines before its notes: its version and note types."""
    encode = _ENCODER.encode
    types = [
        f"  {encode(kind)}: {encode(dict(zip(NOTE_TYPE_FIELDS, _type_values(schema), strict=True)))}"
        for kind, schema in sorted(note_types.items())
    ]
    return ["{", f'"version": {LOCK_VERSION},', '"note_types": {', *_commas(types), "},", '"notes": {']


def _lock_lines(lock: Lock) -> Iterator[str]:
    yield from _head(lock.note_types)
    keys = sorted(lock.notes)
    for number, key in enumerate(keys, start=1):
        yield _note_line(key, lock.notes[key]) + ("," if number < len(keys) else "")
    yield from ["}", "}", ""]


def note_line(key: str, note: LockedNote) -> bytes:
    """The line of note *key* in the lock, as UTF-8, without the comma that follows all but the last."""
    return _note_line(key, note).encode("utf-8")


_STRING = json.encoder.encode_basestring  # a string as _ENCODER writes it
if LOCKED_NOTE_FIELDS != (
    "cards", "deck", "guid", "hash", "label", "mod", "note_type", "released", "removed", "topic"
):  # pragma: no cover - a new field must be written by _note_line too
    raise AssertionError(f"_note_line does not write the lock's fields {LOCKED_NOTE_FIELDS}")


def _note_line(key: str, note: LockedNote) -> str:
    """A note's line: its key, then its fields as sorted JSON (``released`` only when false, so a released
    note's line reads as before releases), written field by field: the text ``_ENCODER`` writes (a test
    compares the two), a few times faster, and a lock has a line per note."""
    released = "" if note.released else '"released": false, '
    removed = "null" if note.removed is None else int(note.removed)
    return (
        f'  {_STRING(key)}: {{"cards": {int(note.cards)}, "deck": {_STRING(note.deck)}, "guid": {_STRING(note.guid)}, '
        f'"hash": {_STRING(note.hash)}, "label": {_STRING(note.label)}, "mod": {int(note.mod)}, '
        f'"note_type": {_STRING(note.note_type)}, {released}"removed": {removed}, "topic": {_STRING(note.topic)}}}'
    )


def note_lines(text: str) -> dict[str, int]:
    """The line of each note's key in a lock's *text* as :func:`dump_lock` writes it: one note per line.

    The report points at a removed note's line; a lock written another way gives no lines, never wrong ones.
    """
    lines: dict[str, int] = {}
    decode = json.JSONDecoder().raw_decode
    in_notes = False
    for number, line in enumerate(text.splitlines(), 1):
        if line == '"notes": {':
            in_notes = True
        elif in_notes and line.startswith('  "'):
            with contextlib.suppress(ValueError):
                key, end = decode(line, 2)
                if isinstance(key, str) and line.startswith(": {", end):
                    lines[key] = number
    return lines


LIVE = b'"removed": null, "topic": '
"""In the line of a note that is not a tombstone (after ``"released": false`` in one no release carried)."""
_UNRELEASED = b'"released": false, ' + LIVE
_REMOVED = re.compile(rb'"removed": ([0-9]+), "topic": ')
# An unescaped quote is never inside a JSON string: these find fields, never a label that reads like one.


def unreleased_in(data: LockText) -> int:
    """:func:`~.times.unreleased` of the lock :func:`joined_lock` wrote as *data*: counted in its bytes.

    Where the lock read is known to hold all or none of them (see
    :attr:`~.notelines.NoteLines.unreleased`), its runs of lines copied are
    not read: they are each one, or none (5 ms of a 50,000-note lock).
    """
    kept = data.kept
    if kept is None or kept.unreleased not in (0, len(kept)):
        return data.count(_UNRELEASED)
    made = sum(part.count(_UNRELEASED) for part in data.parts if isinstance(part, bytes))
    copied = sum(part[1] - part[0] + 1 for part in data.parts if not isinstance(part, bytes))
    return made + (copied if kept.unreleased else 0)


def released_line(line: bytes) -> bytes:
    """A note's line after a release (see :func:`~.times.released`): a live note's ``"released": false`` dropped,
    as :func:`note_line` writes a released note."""
    return line.replace(_UNRELEASED, LIVE, 1)


def json_text(raw: bytes) -> str:
    """A JSON string's text, from the bytes between its quotes (as a note's line holds it)."""
    return raw.decode("utf-8") if b"\\" not in raw else str(json.loads(b'"' + raw + b'"'))


def removal_times(data: LockText) -> list[int]:
    """When each tombstone of the lock :func:`joined_lock` wrote as *data* was removed: found in its bytes.

    Where the lock read holds no tombstone, the runs of its lines copied hold
    none either: only the lines this build made are searched (a rebuild after
    one edit makes a twentieth of the lock's lines, and the pattern reads
    every byte it is given: 9 ms of a 50,000-note lock).
    """
    if data.kept is not None and not data.kept.tombstones:
        return [int(time) for part in data.parts if isinstance(part, bytes) for time in _REMOVED.findall(part)]
    return [int(time) for time in data.findall(_REMOVED)]


def _commas(lines: list[str]) -> list[str]:
    """*lines* as the members of a JSON object: a comma after each but the last."""
    return [line + "," for line in lines[:-1]] + lines[-1:]


def _check_written_size(size: int) -> None:
    """What is written (*size* bytes) must read back (read_lock's limit), or the next plan would refuse it."""
    if size > MAX_LOCK_BYTES:
        raise DeckgenError(
            f"the lock would be {size:,} bytes, over the {MAX_LOCK_BYTES:,} a lock may have; split the source"
        )
