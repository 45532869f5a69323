"""Reading a file deckgen did not make: only a regular file, of at most a given size, as UTF-8.

Every file an author (or a student, or a checkout) hands deckgen may be a
symbolic link to a device or a pipe: a pipe would block a read and
``/dev/zero`` would never end.  So a file is opened only once ``stat`` says
it is regular, without waiting, and read only if what was opened is regular
too (a pipe may have been put there since), to at most its limit and one
byte more (it may have grown since ``stat``).  A source file, the lock, the build cache, a media file
and a student's export are all read through here; each caller words the
refusal its own way (a source says "save it as UTF-8", the lock "restore it
from version control"), so these functions say *why* a file is refused, as
data, and never word a message themselves.

It lives in the source layer, the lowest that reads files, so that every
layer above can use it.
"""

from __future__ import annotations

import os
import stat
from typing import Literal, NamedTuple

Reason = Literal["missing", "unreadable", "directory", "special", "too_big"]
"""Why a file is not read: not there, the system refuses it, a directory, a device/pipe/socket, too large."""


class Refused(NamedTuple):
    """Why the file at a path was not read."""

    reason: Reason
    detail: str = ""
    """For ``missing`` and ``unreadable``: the system's words (``No such file or directory``)."""
    size: int = 0
    """For ``too_big``: the size seen, which is more than the limit."""


class NotUtf8(NamedTuple):
    """Why bytes are not text: a byte-order mark (*byte* None) or a byte that is not UTF-8, on *line*."""

    line: int
    byte: int | None


def regular_file(path: str) -> os.stat_result | Refused:
    """What ``stat`` says of *path* (links followed) if it is a regular file, else why it is refused."""
    try:
        info = os.stat(path)
    except FileNotFoundError as exc:
        return Refused("missing", _words(exc))
    except OSError as exc:
        return Refused("unreadable", _words(exc))
    if stat.S_ISDIR(info.st_mode):
        return Refused("directory")
    if not stat.S_ISREG(info.st_mode):
        return Refused("special")
    return info


def read_regular(path: str, limit: int) -> bytes | Refused:
    """The bytes of the regular file *path* if it holds at most *limit* of them, else why it is refused."""
    info = regular_file(path)
    if isinstance(info, Refused):
        return info
    if info.st_size > limit:
        return Refused("too_big", size=info.st_size)
    try:
        # Opened without waiting (a pipe swapped in since stat would block an open or a read), then checked again.
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        with os.fdopen(descriptor, "rb") as handle:
            if not stat.S_ISREG(os.fstat(descriptor).st_mode):
                return Refused("special")
            # As big as stat says (a read of *limit* bytes would take that much memory first, a gigabyte for a
            # small cache), and more only if the file has grown since.
            data = handle.read(info.st_size + 1)
            if len(data) > info.st_size:
                data += handle.read(limit + 1 - len(data))
    except OSError as exc:
        return Refused("unreadable", _words(exc))
    return Refused("too_big", size=len(data)) if len(data) > limit else data


def decode_utf8(data: bytes) -> str | NotUtf8:
    """*data* as text, or where it is not UTF-8; a byte-order mark is refused (an editor would not show it)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return NotUtf8(1, None)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return NotUtf8(data[: exc.start].count(b"\n") + 1, data[exc.start])


def _words(exc: OSError) -> str:
    return exc.strerror or str(exc)
