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
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from generator import __version__
from generator.source.folder import MAX_FILE_BYTES
from generator.source.guarded import read_regular

CACHE_NAME = ".deckgen-cache.json"
TOPICS_NAME = ".deckgen-topics.pickle"
"""The validated topics of the last build (see :class:`generator.pipeline.memo.StoredMemo`)."""
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


@functools.lru_cache(maxsize=1)
def code_digest() -> str:
    """A hash of deckgen's version and every module of its code, released or not."""
    # The libraries that shape a package's bytes count as code too.
    genanki, pyyaml = _library_version("genanki", "genanki"), _library_version("yaml", "PyYAML")
    versions = f"python {sys.version}; genanki {genanki}; pyyaml {pyyaml}"
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


def _library_version(module: str, distribution: str) -> str:
    """What tells one version of a library from another: the SHA-256 of its *module*'s files (its version among
    them), read where an import would find them, without importing it (a rebuild with nothing to do needs neither
    genanki, which imports asyncio, nor PyYAML) and without importlib.metadata, whose import (email, csv, ...)
    cost more than the whole digest."""
    from importlib.util import find_spec

    spec = find_spec(module)
    folders = (spec.submodule_search_locations if spec else None) or []
    paths = sorted(path for folder in folders for path in Path(folder).glob("*.py"))
    if not paths:  # not a folder of modules (a zip, a frozen build): what its *distribution*'s metadata says
        from importlib.metadata import version

        return version(distribution)
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
        # A name that is not UTF-8 (a byte os.listdir kept as a lone surrogate) is hashed too; the load refuses it.
        digest.update(f"source\x00{name}\x00{file_digest}\n".encode("utf-8", "surrogateescape"))
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


def sha256(data: bytes) -> str:
    """The hex SHA-256 of *data*."""
    return hashlib.sha256(data).hexdigest()
