"""The memo of validated topics a build leaves in its out folder, so that the next one parses only what changed.

See :class:`StoredMemo`; read by a build (:func:`read_memo`), filled ahead by
:mod:`generator.pipeline.ahead`.  Apart from :mod:`generator.pipeline.cache`:
a rebuild with nothing to do never reads it, nor imports what topics are made of.
"""

from __future__ import annotations

import io
import os
import pickle
import stat
from dataclasses import dataclass, field
from typing import NamedTuple

from generator.pipeline.cache import TOPICS_NAME, code_digest
from generator.pipeline.userkey import sign, signed, user_key
from generator.source.content import Topic
from generator.source.guarded import read_regular
from generator.source.loader import TopicMemo

MAX_TOPICS_BYTES = 1024 * 1024 * 1024


@dataclass
class StoredMemo(TopicMemo):
    """A :class:`~generator.source.loader.TopicMemo` kept in the out folder between builds.

    Pickled, because a topic is a tree of frozen dataclasses that pickle
    rebuilds several times faster than anything parsing text (the point is
    not to parse).  A topic is kept by its file's name, its path left out
    and put back when read (a copied source folder is not parsed again), and
    as it was read, so a rebuild pickles only the topics it parsed.  Pickle
    runs what a file says, so the file is unpickled only if it is signed with
    this user's key (:mod:`generator.pipeline.userkey`: a memo that came with a
    cloned output folder is not), is this user's and no one else may write it
    (as ssh treats its keys), and only by the same code.
    """

    raw: dict[tuple[str, str], bytes] = field(default_factory=dict)
    """(file name, memo key) → the topic and its name's line, pickled without its path."""
    stored: frozenset[tuple[str, str]] = frozenset()
    """The keys of the file as read (*raw* also gets the topics parsed ahead, see :mod:`generator.pipeline.ahead`)."""
    ahead: dict[tuple[str, str], tuple[Topic, int]] = field(default_factory=dict)
    """(file name, memo key) → the topic read out of *raw* ahead of the load (see :meth:`recall_ahead`)."""

    def recall_ahead(self, path: str, key: str) -> None:
        """Read the topic of the file *path* whose memo key is *key* out of the memo now, for the load's
        :meth:`recall` of the same file and key to take (the load reads the file again: an edit saved since has
        another key, and is parsed)."""
        found = self.recall(path, key)
        if found is not None:
            self.ahead[os.path.basename(path), key] = found

    def recall(self, path: str, key: str) -> tuple[Topic, int] | None:
        early = self.ahead.pop((os.path.basename(path), key), None)
        if early is not None and early[0].file == path:  # the path the load gives it (the same folder)
            return early
        data = self.raw.get((os.path.basename(path), key))
        if data is None:
            return None
        try:
            found = _PathUnpickler(io.BytesIO(data), path).load()
        except Exception:  # noqa: BLE001 - any damage: parse the file again
            return None
        return found if isinstance(found, tuple) and isinstance(found[0], Topic) else None

    def add(self, path: str, key: str, value: tuple[Topic, int]) -> None:
        """Keep *value*, the topic of the file *path* whose memo key is *key*, as :meth:`data` keeps it."""
        self.raw[os.path.basename(path), key] = _pickled(value, path)

    def changed(self) -> bool:
        """True if this load saw other topics than the memo's file holds."""
        return {(os.path.basename(path), key) for path, key in self.seen} != self.stored

    def data(self) -> tuple[bytes, ...]:
        """The file to keep for the next build, the topics this load saw, as the pieces it is written from: the
        MAC of this user's key first (none: no pieces, no memo kept).

        A topic's pickle is a piece of its own, the very bytes object kept: the
        pickler hands a large one to ``write`` as it is, so the file is never
        held in memory a second time (a large source's is megabytes).
        """
        signing = user_key()
        if signing is None:
            return ()
        topics = {}
        for (path, key), value in self.seen.items():
            name = os.path.basename(path)
            topics[name, key] = self.raw.get((name, key)) or _pickled(value, path)
        pieces: list[bytes] = []
        pickle.Pickler(_Pieces(pieces), pickle.HIGHEST_PROTOCOL).dump((code_digest(), topics))
        return (sign(pieces, signing), *pieces)


class _Pieces(NamedTuple):
    """A file for the pickler to write to: it keeps what it is given, in order."""

    pieces: list[bytes]

    def write(self, data: bytes) -> None:
        self.pieces.append(bytes(data))  # the object itself where it is bytes: no copy


def _pickled(value: object, path: str) -> bytes:
    buffer = io.BytesIO()
    _PathPickler(buffer, path).dump(value)
    return buffer.getvalue()


_PATH = "path"


class _PathPickler(pickle.Pickler):
    """Pickles a topic with its file's path as a placeholder."""

    def __init__(self, file: io.BytesIO, path: str) -> None:
        super().__init__(file, pickle.HIGHEST_PROTOCOL)
        self.path = path

    def persistent_id(self, obj: object) -> str | None:
        # The path object itself, which the loader gives every part of the topic as its file: a text that
        # only reads as the path (a title "src/a.yaml") stays itself in a copied folder.
        return _PATH if obj is self.path else None


class _PathUnpickler(pickle.Unpickler):
    """Reads a topic pickled by :class:`_PathPickler` with the path it has now."""

    def __init__(self, file: io.BytesIO, path: str) -> None:
        super().__init__(file)
        self.path = path

    def persistent_load(self, pid: object) -> str:
        if pid != _PATH:
            raise pickle.UnpicklingError(f"unknown placeholder {pid!r}")
        return self.path


def read_memo(out_dir: str) -> StoredMemo:
    """The topics the last build in *out_dir* kept; an empty memo if there are none to trust."""
    path = os.path.join(out_dir, TOPICS_NAME)
    try:
        info = os.stat(path)
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH) or info.st_uid != os.getuid():
            return StoredMemo()
    except (OSError, AttributeError):  # none, or no owners on this platform
        return StoredMemo()
    data = read_regular(path, MAX_TOPICS_BYTES)
    key = user_key()
    body = signed(data, key) if isinstance(data, bytes) and key is not None else None
    try:
        code, raw = pickle.loads(body) if body is not None else ("", {})
    except Exception:  # noqa: BLE001 - any damage: parse the files again
        return StoredMemo()
    if code != code_digest() or not isinstance(raw, dict):
        return StoredMemo()
    return StoredMemo(raw=raw, stored=frozenset(raw))
