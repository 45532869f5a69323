"""A secret of this user's, kept in their cache folder: what a build signs the memo it leaves with.

The memo (:mod:`generator.pipeline.memo`) is a pickle, and pickle runs what a
file says.  A memo in an output folder may come from elsewhere: a repository
that commits ``decks_out/``, an archive.  Its files are then the user's own and
written by no one else, as a clone's are, so owner and mode prove nothing.  A
build trusts a memo only if it is signed with this key (HMAC-SHA256), which
never leaves the user's cache folder (``$XDG_CACHE_HOME/deckgen``, else
``~/.cache/deckgen``), readable by them alone: a memo made by another user or
on another machine is passed over, and its topics are parsed again.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from collections.abc import Iterable

KEY_BYTES = 32
MAC_BYTES = hashlib.sha256().digest_size
_KEY_NAME = "memo.key"
_kept: list[bytes] = []
"""The key once read: a ``watch`` builds at every save."""


def key_path() -> str:
    """Where this user's key is kept (a relative ``XDG_CACHE_HOME`` is ignored, as the XDG spec says: it would
    name a folder of the checkout a command runs in, which a repository could fill with a key of its own)."""
    cache = os.environ.get("XDG_CACHE_HOME", "")
    if not os.path.isabs(cache):
        cache = os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "deckgen", _KEY_NAME)


def user_key() -> bytes | None:
    """This user's key, made on first use; None where it cannot be kept or read as theirs alone (then no memo is
    trusted, and a build parses every file)."""
    if _kept:
        return _kept[0]
    path = key_path()
    if not os.path.lexists(path):
        _make(path)
    key = _read(path)
    if key is not None:
        _kept.append(key)
    return key


def sign(pieces: Iterable[bytes], key: bytes) -> bytes:
    """The MAC of the bytes of *pieces*, in order."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for piece in pieces:
        mac.update(piece)
    return mac.digest()


def signed(data: bytes, key: bytes) -> bytes | None:
    """What *data* (a MAC, then what it signs) signs, if the MAC is *key*'s; else None."""
    mac, body = data[:MAC_BYTES], data[MAC_BYTES:]
    return body if len(mac) == MAC_BYTES and hmac.compare_digest(sign((body,), key), mac) else None


def _make(path: str) -> None:
    """Write a new key at *path*, whole or not at all: written under a name of its own, then linked in place (a
    key there already, another build's, is kept; a full disk leaves none, and the next build tries again)."""
    staged = f"{path}.{os.getpid()}.new"
    try:
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        handle = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
        with os.fdopen(handle, "wb") as stream:
            stream.write(secrets.token_bytes(KEY_BYTES))
            stream.flush()
            os.fsync(stream.fileno())
        os.link(staged, path)
    except OSError:  # no cache folder, no room, or another build's key linked first: read it, or go without
        pass
    finally:
        with contextlib.suppress(OSError):
            os.unlink(staged)


def _read(path: str) -> bytes | None:
    """The key at *path* if it is a regular file of this user's that no one else may read or write."""
    try:
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    with os.fdopen(handle, "rb") as stream:
        info = os.fstat(stream.fileno())
        mine = getattr(os, "getuid", lambda: info.st_uid)() == info.st_uid
        if not stat.S_ISREG(info.st_mode) or not mine or info.st_mode & 0o077:
            return None
        key = stream.read(KEY_BYTES + 1)
    return key if len(key) == KEY_BYTES else None
