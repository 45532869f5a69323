"""One deckgen at a time in a folder: an exclusive lock, as git's ``index.lock``.

Every command that writes a folder (a build's output folder and the folder of
its lock, a preview's or a report's page, the recovery of an interrupted
commit) holds ``.deckgen-writing`` in that folder for as long as it reads
and writes there.  A second deckgen that finds it held stops with one line
naming the holder (its command, process id, host and start), instead of
racing the first and leaving a mix of the two builds.

The lock is the operating system's ``flock`` (``msvcrt.locking`` on
Windows) on that file, not the file's existence made with ``O_CREAT|O_EXCL``:
the system releases it when its process dies, however it dies (SIGKILL, an
out-of-memory kill), so no lock is ever left stale and none has to be
guessed stale from a process id that may have been reused, or broken by two
waiting processes at once.  The file only says who holds it, for the
message; the holder deletes it on release (while still holding it, and a
newcomer that locked a file already deleted tries again), so a finished
command leaves nothing behind, and a killed one leaves a file the next
command simply takes over.

A folder that cannot hold the file (missing, read-only, not a folder) is
one no deckgen can write into either: it is used without a lock, and any
write there fails with its own message.  Within one process the lock is
re-entrant: a build holds its folders and the commit inside it takes them
again for free.
"""

from __future__ import annotations

import errno
import json
import os
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple

from generator.errors import DeckgenError, printable

LOCK_FILE = ".deckgen-writing"
_FLAGS = os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_MAX_HOLDER_BYTES = 4096  # the holder's record is a short JSON object; never read more


class Busy(DeckgenError):
    """Another deckgen holds a folder this command must write."""


class _Held(NamedTuple):
    """A folder this process holds: its lock file, the thread holding it and how many times."""

    fd: int
    path: str
    thread: int
    holds: int


_held: dict[str, _Held] = {}  # by the folder's real path: what this process holds
_registry = threading.Lock()


_commands = threading.local()  # per thread: the command of the outermost hold, for folders taken inside it


@contextmanager
def hold(folders: Iterable[str], command: str | None = None) -> Iterator[None]:
    """Hold the lock of every folder of *folders* (that exists) for the block; :class:`Busy` if one is taken.

    *command* names this command in the message another deckgen gives while
    it waits for it (default: the command of an enclosing hold, else "deckgen").
    """
    outer: str | None = getattr(_commands, "name", None)
    name = outer or command or "deckgen"
    _commands.name = name
    taken: list[str] = []
    try:
        for folder in sorted({os.path.realpath(f or ".") for f in folders}):
            if _take(folder, name):
                taken.append(folder)
        yield
    finally:
        _commands.name = outer
        for folder in reversed(taken):
            _release(folder)


def _take(folder: str, command: str) -> bool:
    """Lock *folder* (or count one more hold of it); False if it cannot hold a lock file."""
    with _registry:
        held = _held.get(folder)
        if held is not None:
            if held.thread != threading.get_ident():
                raise Busy(f"{printable(folder)}: another deckgen {command} in this process is writing here")
            _held[folder] = _Held(held.fd, held.path, held.thread, held.holds + 1)
            return True
        path = os.path.join(folder, LOCK_FILE)
        fd = _locked(path, command)
        if fd is None:
            return False
        _held[folder] = _Held(fd, path, threading.get_ident(), 1)
        return True


def _locked(path: str, command: str) -> int | None:
    """An open, locked descriptor of *path* holding our record; None where no lock file can be made."""
    while True:
        try:
            fd = os.open(path, _FLAGS, 0o644)
        except OSError as error:
            if error.errno in (errno.ENOENT, errno.ENOTDIR, errno.EACCES, errno.EPERM, errno.EROFS, errno.ENAMETOOLONG):
                return None
            if error.errno == errno.ELOOP:  # a symbolic link planted under our name: never followed
                raise DeckgenError(f"{printable(path)}: is a symbolic link, not deckgen's lock; delete it") from None
            raise DeckgenError(f"cannot lock {printable(path)}: {error.strerror}") from None
        try:
            if not _try_lock(fd):
                raise Busy(_busy_message(path, fd))
            if _same_file(fd, path):
                break
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)  # the holder before us deleted it as we opened it: lock the new one
    record = {"pid": os.getpid(), "host": _host(), "command": command, "since": int(time.time())}
    try:
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(record).encode("utf-8"))
    except OSError:  # a full disk: the lock holds without it (the record only names the holder to who waits)
        pass
    return fd


def _same_file(fd: int, path: str) -> bool:
    try:
        here = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    mine = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (mine.st_dev, mine.st_ino)


def _release(folder: str) -> None:
    with _registry:
        held = _held.pop(folder)
        if held.holds > 1:
            _held[folder] = _Held(held.fd, held.path, held.thread, held.holds - 1)
            return
    try:
        os.unlink(held.path)  # still ours: a waiting deckgen that opened it sees it is gone and starts over
    except OSError:
        pass  # the next holder takes the file over
    os.close(held.fd)  # closing releases the lock


def _busy_message(path: str, fd: int) -> str:
    """Who holds *path* (as it wrote in the file), in one line."""
    folder = printable(os.path.dirname(path))
    for _ in range(20):  # the holder writes its record just after it takes the lock: give it 0.5 s
        try:
            os.lseek(fd, 0, os.SEEK_SET)
            record = json.loads(os.read(fd, _MAX_HOLDER_BYTES))
            pid, command, since = int(record["pid"]), str(record["command"]), int(record["since"])
            host = str(record["host"])
            break
        except (OSError, ValueError, KeyError, TypeError):  # it is writing its record right now
            time.sleep(0.025)
    else:
        return f"{folder}: another deckgen is writing here; wait for it to finish"
    where = "" if host == _host() else f" on {printable(host)}"
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(since))
    return (
        f"{folder}: another deckgen is writing here ({printable(command)}, process {pid}{where}, "
        f"since {started}); wait for it to finish"
    )


def _host() -> str:
    """This machine's name, as ``socket.gethostname()`` gives it: read from ``uname`` where there is one, since
    importing socket (and the selectors it imports) cost every build's start a few milliseconds."""
    if hasattr(os, "uname"):
        return os.uname().nodename
    import socket

    return socket.gethostname()


if sys.platform == "win32":
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True
