"""Where each note's line is in the lock a build read: a line is read from there when asked, never all held.

A rebuild after one edit writes a lock of tens of megabytes, nearly all of
it the lines of topics it reused, as the lock it read has them.  So those
lines stay where they are, in the lock file: a build keeps each line's key
and place, reads a topic's lines when it hashes them, and copies runs of
them into the new lock as it writes it (see :class:`~.write.LockText`).
"""

from __future__ import annotations

import os
import stat
import weakref
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from generator.errors import DeckgenError

Line = tuple[str, bytes]
"""A note's key and its line in the lock (see :func:`~.write.note_line`)."""

BETWEEN_LINES = b",\n"
"""What stands between two note lines of a lock (nothing follows the last), as a lock written from kept lines,
their joining and their places use it (write.py, places.py); a whole lock written as text (write._lock_lines)
and the pattern that finds the lines (lines.py) spell it out."""

SPAN_BYTES = 256 * 1024
"""The most of the lock read at once: a run of lines longer than this is read a part at a time."""


class _Text(Protocol):
    def read(self, start: int, end: int) -> bytes: ...

    def check(self) -> None:
        """Raise :class:`~generator.errors.DeckgenError` if what is read may differ from what was first read."""


class InMemory(NamedTuple):
    """The lock's bytes, held (one with the CRLF line endings of a checkout, read as LF: not as they are on disk)."""

    data: bytes

    def read(self, start: int, end: int) -> bytes:
        return self.data[start:end]

    def check(self) -> None:
        """Held bytes do not change."""


class OnDisk:
    """The lock file the build read, held open: its lines are read where they are.

    Held open, not opened again by name: a build that writes the lock renames
    the new one into place, and this still reads the one it replaced (an
    editor that saves a new file does the same).  What is open is compared
    with the bytes the build read (and hashed) first, and a file written in
    place since is found by its times (:meth:`check`, before a lock made of
    its lines is written).
    """

    def __init__(self, path: str, data: bytes) -> None:
        self.path = path
        self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))  # a pipe put there since: no wait
        weakref.finalize(self, os.close, self.fd)
        if not stat.S_ISREG(os.fstat(self.fd).st_mode):
            raise OSError(f"{path}: not a regular file")
        self.stamp = self._stamp()
        for start in range(0, len(data) + 1, SPAN_BYTES):  # one more read: nothing after the end
            if os.pread(self.fd, SPAN_BYTES, start) != data[start : start + SPAN_BYTES]:
                raise OSError(f"{path}: changed while read")

    def _stamp(self) -> tuple[int, int, int]:
        info = os.fstat(self.fd)
        return info.st_size, info.st_mtime_ns, info.st_ctime_ns

    def check(self) -> None:
        """Raise DeckgenError if the file was written since it was opened: its lines may not be the ones read."""
        if self._stamp() != self.stamp:
            raise DeckgenError(f"{self.path}: changed while deckgen was reading it; build again")

    @staticmethod
    def possible() -> bool:
        """Whether this system reads a file at a place without moving a shared position (not Windows)."""
        return hasattr(os, "pread")

    def read(self, start: int, end: int) -> bytes:
        data = os.pread(self.fd, end - start, start)
        if len(data) != end - start:
            raise DeckgenError(f"{self.path}: changed while deckgen was reading it; build again")
        return data


@dataclass(frozen=True, eq=False)
class NoteLines:
    """The note lines of a lock: each one's key and where it is in the lock's bytes, in the lock's order (by key)."""

    keys: Sequence[str]
    """Sorted, as the lock writes them: a key is found by bisection, with no dict of tens of thousands."""
    starts: array[int]
    ends: array[int]
    """Where each line starts and ends (before the comma that follows it)."""
    text: _Text
    topic_of: array[int]
    """Each line's topic (its ``"topic"``), as its place in *topic_names*."""
    topic_names: tuple[str, ...]
    tombstones: bool = True
    """Whether a line may be a tombstone's (False: every note is live): a run of them copied into the next lock
    brings it none (see :func:`~.write.removal_times`)."""
    unreleased: int | None = None
    """How many lines are of live notes no release carried, where known (see :attr:`~.places.LinePlaces.unreleased`)."""

    def __len__(self) -> int:
        return len(self.keys)

    def number(self, key: str) -> int | None:
        """The place of *key*'s line, or None if the lock has no such note."""
        at = bisect_left(self.keys, key)
        return at if at < len(self.keys) and self.keys[at] == key else None

    def line(self, number: int) -> bytes:
        return self.text.read(self.starts[number], self.ends[number])

    def size(self, first: int, last: int) -> int:
        """The bytes of lines *first* to *last* and the separators between them."""
        return self.ends[last] - self.starts[first]

    def lines(self, numbers: Sequence[int]) -> Iterator[Line]:
        """The lines *numbers*, in that order, each run of neighbours read at once."""
        keys, starts = self.keys, self.starts
        for first, last in self.runs(numbers):
            base, span = starts[first], self.text.read(starts[first], self.ends[last])
            for number in range(first, last + 1):
                yield keys[number], span[starts[number] - base : self.ends[number] - base]

    def runs(self, numbers: Sequence[int]) -> Iterator[tuple[int, int]]:
        """*numbers* (ascending) as runs of neighbours (first, last), none of more than :data:`SPAN_BYTES`."""
        if numbers and numbers[-1] - numbers[0] == len(numbers) - 1:  # one run: cut where the bytes say
            yield from self._parts(numbers[0], numbers[-1])
            return
        first = last = -2
        for number in numbers:
            if number == last + 1 and self.ends[number] - self.starts[first] <= SPAN_BYTES:
                last = number
                continue
            if first >= 0:
                yield first, last
            first = last = number
        if first >= 0:
            yield first, last

    def _parts(self, first: int, last: int) -> Iterator[tuple[int, int]]:
        """Lines *first* to *last* as runs of at most :data:`SPAN_BYTES` (or of one line, if it is longer)."""
        while first <= last:
            part_last = max(first, bisect_right(self.ends, self.starts[first] + SPAN_BYTES, first, last + 1) - 1)
            yield first, part_last
            first = part_last + 1

    def joined(self, numbers: Sequence[int]) -> bytes:
        """The lines *numbers* (ascending), :data:`BETWEEN_LINES` between two: each run read as the lock has it,
        its separators left in place (a topic's lines are a run or a few, and dropping their commas, a new copy
        of each run, cost three times what hashing them does)."""
        return BETWEEN_LINES.join([self.text.read(self.starts[first], self.ends[last])
                                   for first, last in self.runs(numbers)])

    def spans(self, first: int, last: int) -> Iterator[bytes]:
        """Lines *first* to *last* as the lock has them (the separators between them too), a part at a time."""
        for part_first, part_last in self._parts(first, last):
            end = self.ends[part_last] if part_last == last else self.starts[part_last + 1]
            yield self.text.read(self.starts[part_first], end)
