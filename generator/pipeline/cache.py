"""The build cache: lets a rebuild with nothing changed skip all the work.

Packages are a pure function of deckgen's code, the source files and the lock
(plus the clock, but only for tombstones that expire).  After a default build,
``<out>/.deckgen-cache.json`` records a fingerprint of those inputs and the
SHA-256 of every package written (the record is
:class:`generator.pipeline.cachefile.BuildCache`).  The next build computes the
fingerprint (reading the files, not parsing them); if it matches and every
package is still there, byte for byte, nothing needs to be parsed, built or written.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import pickle
import stat
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from generator import __version__
from generator.source.content import Topic
from generator.source.guarded import read_regular
from generator.source.loader import TopicMemo
from generator.source.yamlread import MAX_FILE_BYTES

CACHE_NAME = ".deckgen-cache.json"
TOPICS_NAME = ".deckgen-topics.pickle"
"""The validated topics of the last build (see :class:`StoredMemo`)."""
MAX_TOPICS_BYTES = 1024 * 1024 * 1024
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of deckgen's version and every module of its code, released or not."""
    # The libraries that shape a package's bytes count as code too.
    versions = f"python {sys.version}; genanki {_genanki_version()}; pyyaml {yaml.__version__}"
    digest = hashlib.sha256(f"deckgen {__version__}\n{versions}\n".encode())
    # os.walk and open, not Path.rglob and read_bytes: the same modules in half the time, spent by every build.
    top = str(_PACKAGE_ROOT)
    modules = sorted(
        os.path.join(folder, name) for folder, _, names in os.walk(top) for name in names if name.endswith(".py")
    )
    digest.update(_modules_digest([(path[len(top) + 1 :], path) for path in modules]).encode())
    return digest.hexdigest()


def _modules_digest(modules: Iterable[tuple[str, str]]) -> str:
    """The SHA-256 of modules, each its name and the SHA-256 of the bytes at its path, in the order given."""
    digest = hashlib.sha256()
    for name, path in modules:
        with open(path, "rb") as module:
            digest.update(f"{name}\x00".encode() + hashlib.sha256(module.read()).digest())
    return digest.hexdigest()


def _genanki_version() -> str:
    """What tells one genanki from another: the SHA-256 of its modules' bytes (its version among them), read where
    an import would find them, without importing it (a rebuild with nothing to do never needs genanki, which imports
    asyncio) and without importlib.metadata, whose import (email, csv, ...) cost more than the whole digest."""
    from importlib.util import find_spec

    spec = find_spec("genanki")
    folders = (spec.submodule_search_locations if spec else None) or []
    paths = sorted(path for folder in folders for path in Path(folder).glob("*.py"))
    if not paths:  # not a folder of modules (a zip, a frozen build): what its metadata says
        from importlib.metadata import version

        return version("genanki")
    return _modules_digest([(path.name, str(path)) for path in paths])


def fingerprint(inputs: Iterable[tuple[str, str]], lock_digest: str | None) -> str:
    """A hash of everything a default build depends on, the clock aside.

    *inputs* are the source files by name with the SHA-256 of their bytes: for
    the cache a build writes, of the very bytes it was built from (an edit saved
    while it ran is then a change the next build sees); for the check, of the
    files as they are now (:func:`current_inputs`).  *lock_digest* is the SHA-256 of the lock's bytes
    (None: no lock), which the cache keeps too.
    """
    digest = hashlib.sha256(f"{code_digest()}\n".encode())  # any change to deckgen's code, released or not
    for name, file_digest in sorted(inputs):
        digest.update(f"source\x00{name}\x00{file_digest}\n".encode())
    digest.update(f"lock\x00{lock_digest if lock_digest is not None else '(none)'}".encode())
    return digest.hexdigest()


def current_inputs(paths: Iterable[str]) -> list[tuple[str, str]]:
    """Each file of *paths* by name with the SHA-256 of its bytes now."""
    return [(os.path.basename(path), sha256(_regular_file_bytes(path))) for path in paths]


def current_media(source_dir: str, paths: Iterable[str]) -> list[tuple[str, str]]:
    """The media files the last build read (by declared *paths*), with the SHA-256 of their bytes now.

    Raises OSError if one cannot be read: the full build will say why.
    """
    return [(path, sha256(_regular_file_bytes(os.path.join(source_dir, path)))) for path in paths]


def _regular_file_bytes(path: str) -> bytes:
    # Only regular files of a sane size: a source may be a link to a device or
    # a pipe, which the full build refuses with a message (and which could
    # never be read to the end here).
    data = read_regular(path, MAX_FILE_BYTES)
    if not isinstance(data, bytes):
        raise OSError(f"{path}: not a regular source file")
    return data


@dataclass
class StoredMemo(TopicMemo):
    """A :class:`~generator.source.loader.TopicMemo` kept in the out folder between builds.

    Pickled, because a topic is a tree of frozen dataclasses that pickle
    rebuilds several times faster than anything parsing text (the point is
    not to parse).  A topic is kept by its file's name, its path left out
    and put back when read (a copied source folder is not parsed again), and
    as it was read, so a rebuild pickles only the topics it parsed.  Pickle
    runs what a file says, so the file is read only if it is this user's and
    no one else may write it (as ssh treats its keys), and only by the same code.
    """

    raw: dict[tuple[str, str], bytes] = field(default_factory=dict)
    """(file name, memo key) → the topic and its name's line, pickled without its path."""
    stored: frozenset[tuple[str, str]] = frozenset()
    """The keys of the file as read (*raw* also gets the topics parsed ahead, see :mod:`generator.pipeline.ahead`)."""

    def recall(self, path: str, key: str) -> tuple[Topic, int] | None:
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
        """The file to keep for the next build, the topics this load saw, as the pieces it is written from.

        A topic's pickle is a piece of its own, the very bytes object kept: the
        pickler hands a large one to ``write`` as it is, so the file is never
        held in memory a second time (a large source's is megabytes).
        """
        topics = {}
        for (path, key), value in self.seen.items():
            name = os.path.basename(path)
            topics[name, key] = self.raw.get((name, key)) or _pickled(value, path)
        pieces: list[bytes] = []
        pickle.Pickler(_Pieces(pieces), pickle.HIGHEST_PROTOCOL).dump((code_digest(), topics))
        return tuple(pieces)


@dataclass(frozen=True)
class _Pieces:
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
    try:
        code, raw = pickle.loads(data) if isinstance(data, bytes) else ("", {})
    except Exception:  # noqa: BLE001 - any damage: parse the files again
        return StoredMemo()
    if code != code_digest() or not isinstance(raw, dict):
        return StoredMemo()
    return StoredMemo(raw=raw, stored=frozenset(raw))


def sha256(data: bytes) -> str:
    """The hex SHA-256 of *data*."""
    return hashlib.sha256(data).hexdigest()
