"""The build cache file as one typed record, :class:`BuildCache`, with its own to and from JSON.

What a default build leaves in ``<out>/.deckgen-cache.json`` (see
:mod:`generator.pipeline.cache` for why it exists) is read in one place and
written in one place: the build, ``push`` and its removal notices read the
fields of a record, never the keys of a dict.  A file of any other shape reads
as no cache (the next build builds); a field added later has a default, so a
cache written before it still reads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any, NamedTuple

from generator.errors import FileWarnings
from generator.pipeline.cache import CACHE_NAME
from generator.pipeline.lock.model import is_time
from generator.pipeline.reuse import MAX_READ_BYTES, Record, same_bytes, warnings_data, warnings_of
from generator.source.guarded import read_regular


class CachedFile(NamedTuple):
    """A package the build wrote: its name in the out folder, its SHA-256, decks and counts."""

    name: str
    sha256: str
    decks: tuple[str, ...]
    notes: int
    cards: int


class BuildCache(NamedTuple):
    """What a default build depended on and wrote: enough to skip the next build if nothing changed."""

    fingerprint: str
    """The hash of the build's inputs (:func:`generator.pipeline.cache.fingerprint`)."""
    valid_until: int | None
    """When its first tombstone expires (the packages then change); None: never."""
    files: tuple[CachedFile, ...]
    topics: dict[str, Record]
    """The per-topic records of :mod:`generator.pipeline.reuse`, each with its topic's card smells."""
    warnings: tuple[FileWarnings, ...]
    """The source's own smells (not a topic's)."""
    media: tuple[str, ...]
    """The media files the build read, by declared path."""
    source: str
    """The source folder it was built from."""
    empty: tuple[str, ...] = ()
    """Topics with no card."""
    unreleased: int = 0
    lock_sha256: str | None = None
    """The SHA-256 of the lock the next build trusts (see :func:`generator.pipeline.lock.read.read_lock`): the
    one the build wrote, or, where it left the lock as it was (*lock_kept*), the one it read; None: none to
    trust."""
    code: str | None = None
    """The digest of the code that wrote it (:func:`~generator.pipeline.cache.code_digest`): a lock only
    this very code wrote is read as its lines (see :mod:`generator.pipeline.lock.lines`)."""
    lock_lines: bool = True
    """The lock it trusts is laid out as this very code writes it (the build wrote it, or read it as its lines):
    the next build may read it as its lines.  False: a lock a ``watch`` build only checked (a hand edit, an
    older deckgen's), which only this very code trusts, and parses in full."""
    lock_kept: bool = False
    """The build left the lock as it was (``watch``'s): its packages may hold notes the lock does not, so a
    build that writes the lock is never skipped for it."""
    type_times: tuple[tuple[str, int], ...] = ()
    """Each note type's time in the packages of a build that left the lock as it was (empty for one that wrote
    it, whose times the lock holds): the next such build of the same code gives a type the lock does not
    decide the same (see :func:`generator.pipeline.lock.times.resolve`)."""

    def to_bytes(self) -> bytes:
        """The file: compact JSON, sorted where it is a mapping; a machine's file, read and written on every build."""
        return b"".join(self.to_pieces())

    def to_pieces(self) -> Iterator[bytes]:
        """:meth:`to_bytes` as the pieces it is written from, encoded one at a time as they are read, once.

        A smelly source's warnings are tens of megabytes, held packed until
        read (:meth:`FileWarnings.packed`): a topic's record is made, with its
        warnings' text, only as it is written, never every topic's at once,
        and never one JSON string (json.dumps's) or one buffer of the whole file.
        """
        encoder = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)
        for index, (name, value) in enumerate(self._data().items()):
            yield f"{',' if index else '{'}{encoder.encode(name)}:".encode()
            if name == "topics":
                yield from _members(encoder, self.topics)
            else:
                yield from (chunk.encode("utf-8") for chunk in encoder.iterencode(value))
        yield b"}\n"

    def _data(self) -> dict[str, object]:
        return {
            "fingerprint": self.fingerprint,
            "valid_until": self.valid_until,
            "files": [
                {"name": f.name, "sha256": f.sha256, "decks": list(f.decks), "notes": f.notes, "cards": f.cards}
                for f in self.files
            ],
            "topics": None,  # written a record at a time (to_pieces)
            "warnings": warnings_data(self.warnings),
            "media": list(self.media),
            "empty": list(self.empty),
            "source": self.source,
            "unreleased": self.unreleased,
            "lock_sha256": self.lock_sha256,
            "code": self.code,
            "lock_kept": self.lock_kept,
            "lock_lines": self.lock_lines,
            "type_times": dict(self.type_times),
        }

    @classmethod
    def from_json(cls, data: Any) -> BuildCache:
        """The record of parsed JSON *data*; raises ValueError, KeyError, TypeError or AttributeError on a bad shape."""
        digest, code, kept = data.get("lock_sha256"), data.get("code"), data.get("lock_kept") is True
        return cls(
            fingerprint=str(data["fingerprint"]),
            valid_until=None if data["valid_until"] is None else int(data["valid_until"]),
            files=tuple(_file(entry) for entry in data["files"]),
            topics={str(name): Record.from_data(value) for name, value in data["topics"].items()},
            warnings=warnings_of(data["warnings"]),
            media=tuple(str(path) for path in data["media"]),
            source=str(data["source"]),
            empty=tuple(str(topic) for topic in data.get("empty", ())),
            unreleased=int(data.get("unreleased", 0)),
            lock_sha256=digest if isinstance(digest, str) else None,
            code=code if isinstance(code, str) else None,
            lock_kept=kept,
            # Added later: an older build's lock is one it wrote, unless it kept the lock (a watch's, which may
            # have only checked it).
            lock_lines=data["lock_lines"] is True if "lock_lines" in data else not kept,
            type_times=tuple((str(kind), _time(at)) for kind, at in sorted(data.get("type_times", {}).items())),
        )

    def holds(self, out_dir: str, key: str, now: int) -> bool:
        """True if it is for inputs *key*, not expired at *now*, and its packages are in *out_dir* byte for byte."""
        if self.fingerprint != key or (self.valid_until is not None and now > self.valid_until):
            return False  # other inputs, or a tombstone expired: the packages change
        # by name in *out_dir*: a copied out folder is checked, not the first one
        return all(same_bytes(os.path.join(out_dir, entry.name), entry.sha256) for entry in self.files)


def _members(encoder: json.JSONEncoder, topics: dict[str, Record]) -> Iterator[bytes]:
    """*topics* as the JSON object of their records, sorted by name, a record made as it is written."""
    yield b"{"
    for index, (name, record) in enumerate(sorted(topics.items())):
        yield f"{',' if index else ''}{encoder.encode(name)}:".encode()
        yield from (chunk.encode("utf-8") for chunk in encoder.iterencode(record.to_data()))
    yield b"}"


def _time(value: Any) -> int:
    """A time the cache holds: whole seconds, as a lock holds them."""
    if not is_time(value):
        raise ValueError(f"not a time: {value!r}")
    return value


def _file(entry: Any) -> CachedFile:
    decks = tuple(str(deck) for deck in entry["decks"])
    return CachedFile(str(entry["name"]), str(entry["sha256"]), decks, int(entry["notes"]), int(entry["cards"]))


def read_cache(out_dir: str) -> BuildCache | None:
    """The cache the last build left in *out_dir*, or None (none, or one this code cannot read: build)."""
    # Bytes decoded at once: a text file's reader decodes in steps, at half the speed (tens of megabytes of a
    # smelly source's warnings).  A regular file only: a pipe put there would block the build for ever.
    data = read_regular(os.path.join(out_dir, CACHE_NAME), MAX_READ_BYTES)
    try:
        return BuildCache.from_json(json.loads(data.decode("utf-8"))) if isinstance(data, bytes) else None
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
