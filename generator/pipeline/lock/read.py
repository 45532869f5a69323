"""Reading a lock: the one the last build wrote is trusted, any other checked field by field.

A lock decides what goes into the packages, so one deckgen did not write (a
hand edit, a merge) is validated as strictly as a source.  One it wrote
itself, known by the SHA-256 its cache keeps, is read as fast as JSON parses.
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
from typing import Any

from generator.pipeline.lock.checks import Checker, note_type_of
from generator.pipeline.lock.lines import split_lock
from generator.pipeline.lock.located import Origin, parse_lock, read_lock_bytes, with_lf
from generator.pipeline.lock.model import EMPTY_LOCK, Lock, LockedNote
from generator.pipeline.lock.places import LinePlaces

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_CONTROL_ESCAPE = re.compile(rb"\\[bfnrtu]")  # a raw control character is not valid JSON


class LockBytes:
    """A lock file's bytes as read, and the SHA-256 of their text (:func:`~.located.with_lf`): read once a build.

    Handed over once (:meth:`take`), not kept: the build that reads a lock
    as its lines holds none of its megabytes (see :mod:`~.lines`).  Taken
    only while the file is the one read: one written since (in place or
    replaced) is read again, as it is now.
    """

    def __init__(self, data: bytes, sha256: str, stamp: tuple[int, ...] = ()) -> None:
        self._data: bytes | None = data
        self.sha256 = sha256
        self.stamp = stamp
        """The file's device, inode, size and times before it was read: a file written since differs."""

    @classmethod
    def of(cls, path: str) -> LockBytes:
        """The lock at *path*, read (a :class:`~generator.errors.ContentError` if it may not be)."""
        stamp = _stamp(path)  # before reading: a write after it changes the stamp, never the bytes alone
        data, _, digest = _read(path)
        return cls(data, digest, stamp)

    def take(self, path: str) -> tuple[bytes, str] | None:
        """The bytes and their SHA-256, which it then no longer holds; None if the file at *path* was written
        since they were read (taken twice: a fault of deckgen's own)."""
        data, self._data = self._data, None
        if data is None:
            raise ValueError("the lock's bytes were taken already")
        return (data, self.sha256) if self.stamp and _stamp(path) == self.stamp else None


def _read(path: str) -> tuple[bytes, bytes, str]:
    """The lock at *path* as read, its text (:func:`~.located.with_lf`) and the text's SHA-256."""
    data = read_lock_bytes(path)
    written = with_lf(data)
    return data, written, hashlib.sha256(written).hexdigest()


def _stamp(path: str) -> tuple[int, ...]:
    try:
        info = os.stat(path)
    except OSError:
        return ()
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def read_lock(
    path: str, trusted: str | None = None, *, split: bool = False, places: LinePlaces | None = None,
    read: LockBytes | None = None,
) -> Lock:
    """Read and validate the lock at *path*; a missing lock is an empty one.

    The lock is validated as strictly as a source, since it decides what
    goes into the packages: its size and nesting before it is parsed, then
    duplicate keys, then every field's type and range, GUIDs unique.  A
    damaged or hand-edited lock is refused with every problem at once (a
    :class:`~generator.errors.ContentError`); it never reaches the build.
    A lock whose SHA-256 is *trusted* (one the last build wrote, or one a
    ``watch`` build read, see :attr:`~generator.pipeline.cachefile.BuildCache.lock_lines`)
    is read without checks: kept as its lines with *split* (where this very
    code wrote it, see :mod:`~.lines`), else parsed in full.  *places* are what the build that wrote it left of
    where its lines are (see :mod:`~.places`), read if they are of this very lock.  *read* is the lock as this
    build already read it.
    """
    taken = read.take(path) if read is not None else None  # what the build read already, if the file is still that
    if taken is not None:
        data, digest = taken
        written = with_lf(data)
    elif not os.path.exists(path):
        return EMPTY_LOCK
    else:
        data, written, digest = _read(path)
    found = places if places is not None and places.lock_sha256 == digest else None
    lock = (_trusted(path, written, split, on_disk=written is data, places=found) if digest == trusted else None) or (
        _checked(path, data)
    )
    return dataclasses.replace(lock, sha256=digest)  # the next build trusts it (see BuildCache.lock_sha256)


def _trusted(path: str, data: bytes, split: bool, *, on_disk: bool, places: LinePlaces | None) -> Lock | None:
    """The lock whose bytes the last build trusts (see :func:`read_lock`), read without checks; None if it does not
    read so.  Split into lines, they are read from the file where *data* is its bytes as they are (*on_disk*)."""
    lines = split_lock(path, data, on_disk=on_disk, places=places) if split else None
    if lines is not None:
        return lines
    with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):  # another version's: check it
        return _trusted_lock(path, data)
    return None


def _checked(path: str, data: bytes) -> Lock:
    """The lock *data*, checked as strictly as a source (see :func:`read_lock`)."""
    origin, parsed = parse_lock(path, data)
    # Strings are checked for lone surrogates and control characters only if an escape could make one.
    checker = Checker(
        origin,
        surrogates=_SURROGATE_ESCAPE.search(data) is not None,
        controls=_CONTROL_ESCAPE.search(data) is not None,
    )
    lock = checker.lock(parsed)
    checker.raise_if_any()
    return lock


def _trusted_lock(path: str, data: bytes) -> Lock:
    """The lock whose bytes a deckgen build wrote (their SHA-256 trusted by the cache), read without checks.

    deckgen wrote it from checked entries, so it is read as fast as JSON is
    parsed; its lines are still located should a problem be found later.
    """
    text = data.decode("utf-8")
    parsed = json.loads(text, object_pairs_hook=_NoteReader().entry)
    note_types = {kind: note_type_of(entry) for kind, entry in parsed["note_types"].items()}
    notes = parsed["notes"]
    if not all(type(note) is LockedNote for note in notes.values()):
        raise TypeError("a note entry without the fields of one")
    # Its text is not kept: only a problem found later reads it again, to say on which line.
    return Lock(notes, note_types, origin=Origin(path, None))


class _NoteReader:
    """Makes each note entry a :class:`LockedNote` as the JSON parser meets it: no dict of dicts in between.

    The names a note shares with its topic's other notes (its topic, deck and
    note type) are kept once, not once per note.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def entry(self, pairs: list[tuple[str, Any]]) -> object:
        fields = dict(pairs)
        if "guid" not in fields or "note_type" not in fields:  # the lock, its note types, their lists
            return fields
        for name in ("topic", "deck", "note_type"):
            value = fields[name]
            fields[name] = self.names.setdefault(value, value)
        return LockedNote(**fields)
