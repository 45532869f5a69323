"""Where each note line of a lock is: found in its bytes by the build that splits it, or left by the one that wrote it.

A rebuild after one edit splits the lock the last build wrote into its lines
(see :mod:`~.lines`).  Finding fifty thousand lines with a pattern, and
decoding their keys, took 0.08 s of such a rebuild's 0.9.  The build that writes a
lock knows where it put each line, so it leaves their places beside its cache
(:data:`PLACES_NAME`), with the SHA-256 of the lock they are in; the next
build that trusts that very lock reads them instead of searching.  A file of
another lock, of other code, or damaged is passed over: the lines are found.
"""

from __future__ import annotations

import hashlib
import json
import sys
from array import array
from collections.abc import Iterator, Sequence
from typing import NamedTuple

from generator.pipeline.lock.notelines import BETWEEN_LINES, NoteLines
from generator.pipeline.lock.write import LockText, json_text

PLACES_NAME = ".deckgen-lock-lines"
"""In the out folder, beside the build cache: the places of the lock the last build wrote."""

PLACES_MIN_LINES = 1000
"""The fewest note lines whose places a build leaves: a smaller lock's are found in a millisecond or two, less
than another file in the out folder costs to write."""

_MAGIC = b"deckgen lock lines 1\n"
_TOPIC = b'"topic": "'


class LinePlaces(NamedTuple):
    """Each note line's key, place and topic, in the lock's order (by key)."""

    keys: Sequence[str]
    starts: array[int]
    ends: array[int]
    """Where each line starts and ends (before the comma that follows it)."""
    topic_of: array[int]
    """Each line's topic, as its place in *topic_names*."""
    topic_names: tuple[str, ...]
    lock_sha256: str = ""
    """The SHA-256 of the lock they are in."""
    tombstones: bool | None = None
    """Whether a line of that lock is a tombstone's, as the build that wrote it knew (None: not known)."""
    unreleased: int | None = None
    """How many of its lines are of live notes no release carried, as the build that wrote it counted them (None: not
    known): a rebuild that copies runs of them into its lock need not count them there again where all or none are
    (see :func:`~.write.unreleased_in`)."""

    def fits(self, data: bytes, first: int, last: int) -> bool:
        """Whether these are places in *data* whose lines run from *first* to *last*: as many of each, the
        first line where the notes start, the last where they end, lines that add up to the notes' bytes with a
        comma and a newline between two, every topic named."""
        count = len(self.keys)
        return (
            count > 0 and len(self.starts) == len(self.ends) == len(self.topic_of) == count
            and self.starts[0] == first and self.ends[-1] == last
            and sum(self.ends) - sum(self.starts) + len(BETWEEN_LINES) * (count - 1) == last - first
            and max(self.topic_of) < len(self.topic_names)
            and data.startswith(b'  "', first) and data.startswith(b'"}', last - 2)
        )


def placed(text: LockText, lock_sha256: str) -> LinePlaces | None:
    """The places of the note lines of *text*, a lock as :func:`~.write.joined_lock` makes it (its SHA-256
    *lock_sha256*); None if it has none (or if they do not add up: a fault).

    Worked out from its parts, never from its bytes: a line made by this build
    is where the ones before it end; a run kept from the lock read is where it
    was there, moved by as much as it moved.
    """
    parts, kept = text.parts, text.kept
    if not text.keys:
        return None
    starts, ends, topic_of = array("Q"), array("Q"), array("L")
    names: dict[str, int] = {}
    raw_topics: dict[bytes, int] = {}
    kept_topics = [names.setdefault(name, len(names)) for name in kept.topic_names] if kept else []
    at = len(parts[0])
    for part in parts[1::2]:
        if isinstance(part, bytes):
            raw = part[part.rindex(_TOPIC) + len(_TOPIC) : -2]
            topic = raw_topics.get(raw)
            if topic is None:
                topic = raw_topics[raw] = names.setdefault(json_text(raw), len(names))
            starts.append(at)
            at += len(part)
            ends.append(at)
            topic_of.append(topic)
        else:
            at = _moved(part, _kept(kept), at, (starts, ends, topic_of), kept_topics)
        at += len(BETWEEN_LINES)
    if len(starts) != len(text.keys):
        return None
    return LinePlaces(text.keys, starts, ends, *_used(topic_of, tuple(names)), lock_sha256)


def _used(topic_of: array[int], names: tuple[str, ...]) -> tuple[array[int], tuple[str, ...]]:
    """*topic_of* and *names* without the names no line has (a topic gone since the lock read), each topic
    numbered again: else a topic's name would be carried from lock to lock for ever."""
    used = sorted(set(topic_of))
    if len(used) == len(names):
        return topic_of, names
    number = {old: new for new, old in enumerate(used)}
    return array("L", map(number.__getitem__, topic_of)), tuple(names[old] for old in used)


def _moved(
    run: tuple[int, int], kept: NoteLines, at: int, into: tuple[array[int], array[int], array[int]],
    topics: list[int],
) -> int:
    """Add the places of the kept lines *run* (first, last), put at *at*; where the last one ends."""
    first, last = run
    starts, ends, topic_of = into
    shift = at - kept.starts[first]
    starts.extend(map(shift.__add__, kept.starts[first : last + 1]))
    ends.extend(map(shift.__add__, kept.ends[first : last + 1]))
    topic_of.extend(map(topics.__getitem__, kept.topic_of[first : last + 1]))
    return ends[-1]


def _kept(kept: NoteLines | None) -> NoteLines:
    assert kept is not None  # a run is of the lock read
    return kept


def places_pieces(
    text: LockText, lock_sha256: str, code: str, *, tombstones: bool, unreleased: int
) -> Iterator[bytes] | None:
    """The places of the lines of the lock *text* (its SHA-256 *lock_sha256*) as :data:`PLACES_NAME` holds them,
    written by the code whose digest is *code*, in pieces, with whether a line is a tombstone's (*tombstones*) and
    how many are *unreleased* (what the build found in *text* already); None for a lock of fewer than
    :data:`PLACES_MIN_LINES` lines, or where a key holds a newline (the keys are kept a line each).

    Worked out as the file is written, not before, and never joined: at the end
    of a build that holds its lock's lines, its peak of memory.
    """
    if len(text.keys) < max(PLACES_MIN_LINES, 1) or any("\n" in key for key in text.keys):
        return None
    return _pieces(text, lock_sha256, code, {"tombstones": tombstones, "unreleased": unreleased})


def _pieces(text: LockText, lock_sha256: str, code: str, counted: dict[str, object]) -> Iterator[bytes]:
    places = placed(text, lock_sha256)
    if places is None:  # a fault of deckgen's own: an empty file, which the next build passes over
        return
    head = {
        "code": code, "lock_sha256": places.lock_sha256, "lines": len(places.keys),
        "topics": list(places.topic_names), "order": sys.byteorder, "sizes": _SIZES, **counted,
    }
    digest = hashlib.sha256()
    for piece in _body(places, _MAGIC + json.dumps(head).encode("utf-8") + b"\n"):
        digest.update(piece)
        yield piece
    yield digest.hexdigest().encode("ascii")


def _body(places: LinePlaces, head: bytes) -> Iterator[bytes]:
    """*head*, each line's start, end and topic, then the keys (a line each), a piece at a time."""
    yield head
    for values in (places.starts, places.ends, places.topic_of):
        yield values.tobytes()
    keys = places.keys
    for at in range(0, len(keys), _KEYS_A_PIECE):
        yield (b"\n" if at else b"") + "\n".join(keys[at : at + _KEYS_A_PIECE]).encode("utf-8")


_KEYS_A_PIECE = 4096
_SIZES = [array("Q").itemsize, array("L").itemsize]
_DIGEST = 64  # the hex SHA-256 of all before it, last


def read_places(data: bytes, code: str) -> LinePlaces | None:
    """The places :func:`places_pieces` wrote as *data*, if by the code *code* (on this kind of machine), else None.
    Of the lock their :attr:`~LinePlaces.lock_sha256` names: the reader compares it with the lock's."""
    view = memoryview(data)  # parts of a file of megabytes, read where they are
    if not data.startswith(_MAGIC) or hashlib.sha256(view[:-_DIGEST]).hexdigest().encode() != data[-_DIGEST:]:
        return None  # another file, or damaged since: the lines are found
    end = data.find(b"\n", len(_MAGIC))
    try:
        head = json.loads(data[len(_MAGIC) : end])
        digest, count, topics = head["lock_sha256"], head["lines"], tuple(head["topics"])
        if (head["code"], head["order"], head["sizes"]) != (code, sys.byteorder, _SIZES):
            return None
        if not (isinstance(digest, str) and isinstance(count, int) and all(isinstance(t, str) for t in topics)):
            return None
        found = _decoded(view[end + 1 : -_DIGEST], count, topics, digest)
        tombstones, unreleased = head.get("tombstones"), head.get("unreleased")  # else not known: counted again
        return found and found._replace(
            tombstones=tombstones if type(tombstones) is bool else None,
            unreleased=unreleased if type(unreleased) is int and 0 <= unreleased <= count else None,
        )
    except (ValueError, KeyError, TypeError):
        return None


def _decoded(body: memoryview, count: int, topics: tuple[str, ...], digest: str) -> LinePlaces | None:
    """The places in *body*: each line's start, end and topic (*count* of each), then the keys, a line each."""
    starts, ends, topic_of = array("Q"), array("Q"), array("L")
    at = 0
    for values in (starts, ends, topic_of):
        size = values.itemsize * count
        values.frombytes(body[at : at + size])
        at += size
    keys = str(body[at:], "utf-8").split("\n")
    return LinePlaces(keys, starts, ends, topic_of, topics, digest) if len(keys) == count else None
