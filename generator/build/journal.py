"""Replace several files all-or-nothing, whatever interrupts it: a commit journal.

A build replaces many packages, the lock and the cache together.  Each
``os.replace`` is atomic, but a sequence of them is not: a Ctrl-C, a kill or
a failing rename half-way would leave new packages beside old ones and the
old lock.  So a commit goes the way SQLite's rollback journal and git's ref
updates go:

1. **stage** every new file in full beside its target (``.deckgen-*.tmp``),
   flushed to disk;
2. **keep** the old version of every existing target (``.deckgen-*.old``, a
   hard link where the file system allows, else a copy);
3. **decide**: write the journal (``.deckgen-journal.json``), listing every
   target with its staged file and old version, atomically and flushed;
4. **apply**: rename each staged file over its target, with SIGINT and
   SIGTERM deferred until the last rename is done;
5. **clean**: delete the old versions, then the journal.

A failure before the journal exists removes what was made: nothing was
replaced.  A failure while applying puts every old version back.  A process
killed anywhere leaves either no journal (nothing was replaced: the next
:func:`recover` removes the leftovers) or a complete journal (the next
:func:`recover` finishes the renames).  Every deckgen command that reads a
source's lock or a deck folder recovers it first.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

JOURNAL = ".deckgen-journal.json"
_PREFIX = ".deckgen-"
_STAGED = ".tmp"
_OLD = ".old"


class CommitError(OSError):
    """A file could not be written; *filename* is the target the user asked for."""


@dataclass(frozen=True)
class _Entry:
    target: str
    staged: str
    old: str | None  # None: the target did not exist before


def commit(files: Mapping[str, bytes], journal_dir: str) -> None:
    """Replace each path of *files* with its bytes: all of them, or (on any failure) none.

    *journal_dir* holds the journal; :func:`recover` must be given it (and the
    targets' folders) before anything reads those files again.
    """
    entries: list[_Entry] = []
    made: list[str] = []
    try:
        for path, data in files.items():
            # Through a symbolic link: a lock kept elsewhere stays where it is kept.
            target = os.path.realpath(path)
            staged = _write_new(os.path.dirname(target), _STAGED, data, target)
            made.append(staged)
            old = _keep_old(target)
            if old:
                made.append(old)
            entries.append(_Entry(target, staged, old))
        _write_journal(journal_dir, entries)
    except BaseException:
        _remove(made)
        raise
    with _signals_deferred():  # a Ctrl-C now is acted on once the commit is whole
        try:
            for entry in entries:
                _replace(entry.staged, entry.target)
            _sync_folders(entries)
        except BaseException:
            _roll_back(entries, journal_dir)
            raise
        _finish(entries, journal_dir)


def recover(*folders: str) -> None:
    """Finish or undo an interrupted commit whose journal is in one of *folders*; remove leftovers.

    Call it before reading the files a commit may have been writing.
    """
    for folder in folders:
        journal = os.path.join(folder or ".", JOURNAL)
        entries = _read_journal(journal)
        if entries is not None:
            try:
                for entry in entries:
                    if os.path.exists(entry.staged):
                        _replace(entry.staged, entry.target)
                _sync_folders(entries)
            except OSError:
                _roll_back(entries, folder)
            else:
                _finish(entries, folder)
    for folder in folders:
        _remove(_leftovers(folder or "."))


def _write_new(folder: str, suffix: str, data: bytes, target: str) -> str:
    try:
        handle, path = tempfile.mkstemp(prefix=_PREFIX, suffix=suffix, dir=folder)
    except OSError as error:
        raise CommitError(error.errno, error.strerror, target) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(path, 0o644)
    except OSError as error:
        _remove([path])
        raise CommitError(error.errno, error.strerror, target) from None
    return path


def _keep_old(target: str) -> str | None:
    """A second name for the target's current bytes, or None if there is no target yet."""
    if not os.path.lexists(target):
        return None
    if os.path.isdir(target) and not os.path.islink(target):
        raise CommitError(21, "Is a directory", target)
    old = os.path.join(os.path.dirname(target), f"{_PREFIX}{os.path.basename(target)}{_OLD}")
    _remove([old])
    try:
        os.link(target, old)  # no copy: the old bytes stay where they are
    except OSError:
        try:
            shutil.copy2(target, old)
        except OSError as error:
            raise CommitError(error.errno, error.strerror, target) from None
    return old


def _write_journal(folder: str, entries: list[_Entry]) -> None:
    data = {"version": 1, "entries": [[e.target, e.staged, e.old] for e in entries]}
    text = json.dumps(data, indent=1).encode("utf-8")
    journal = os.path.join(folder or ".", JOURNAL)
    staged = _write_new(folder or ".", _STAGED, text, journal)
    try:
        _replace(staged, journal)
    except OSError:
        _remove([staged])
        raise
    _sync_folder(folder or ".")


def _read_journal(path: str) -> list[_Entry] | None:
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        return [_Entry(str(t), str(s), None if o is None else str(o)) for t, s, o in data["entries"]]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        # Not written by us in full (it is renamed into place complete): no commit was decided.
        _remove([path])
        return None


def _replace(source: str, target: str) -> None:
    try:
        os.replace(source, target)
    except OSError as error:
        raise CommitError(error.errno, error.strerror, target) from None


def _roll_back(entries: list[_Entry], journal_dir: str) -> None:
    """Put every old version back (or remove a target that had none); best effort, journal kept on failure."""
    failed = False
    for entry in entries:
        try:
            if entry.old is not None:
                if os.path.exists(entry.target) and os.path.samefile(entry.old, entry.target):
                    os.unlink(entry.old)  # never replaced (a rename between two links of one file does nothing)
                elif os.path.exists(entry.old):
                    os.replace(entry.old, entry.target)
            elif not os.path.exists(entry.staged) and os.path.isfile(entry.target):
                os.unlink(entry.target)  # it was new: renamed in before the failure
            _remove([entry.staged])
        except OSError:
            failed = True
    if not failed:
        _remove([os.path.join(journal_dir or ".", JOURNAL)])


def _finish(entries: list[_Entry], journal_dir: str) -> None:
    _remove([entry.old for entry in entries if entry.old])
    _remove([os.path.join(journal_dir or ".", JOURNAL)])


def _leftovers(folder: str) -> list[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [
        os.path.join(folder, name)
        for name in names
        if name.startswith(_PREFIX) and name.endswith((_STAGED, _OLD)) and os.path.isfile(os.path.join(folder, name))
    ]


def _remove(paths: list[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            pass  # a leftover the next recover() will try again


def _sync_folders(entries: list[_Entry]) -> None:
    for folder in sorted({os.path.dirname(entry.target) for entry in entries}):
        _sync_folder(folder)


def _sync_folder(folder: str) -> None:
    """Flush a folder's entries (the renames) to disk, where the platform allows it."""
    try:
        handle = os.open(folder, os.O_RDONLY)
    except OSError:
        return  # e.g. Windows: a folder cannot be opened; its renames are durable anyway
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """Hold SIGINT and SIGTERM until the block is done, then act on them as before."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    previous = {}
    for number in (signal.SIGINT, signal.SIGTERM):
        previous[number] = signal.signal(number, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
        for signum in received[:1]:
            os.kill(os.getpid(), signum)  # as if it had arrived now, under the old handler


def make_folders(folder: str, created: list[str]) -> None:
    """Make *folder* and its missing parents, adding each one made to *created*, deepest first.

    On failure, *created* still lists what was made, for the caller to remove.
    """
    missing = []
    while folder and not os.path.lexists(folder):
        missing.append(folder)
        folder = os.path.dirname(folder)
    for path in reversed(missing):
        try:
            os.mkdir(path)
        except FileExistsError:  # "a/.." once "a" exists
            if not os.path.isdir(path):
                raise
        else:
            created.insert(0, path)


def remove_folders(created: list[str]) -> None:
    """Remove the folders :func:`make_folders` made (deepest first), where they are still empty."""
    for folder in created:
        try:
            os.rmdir(folder)
        except OSError:
            pass  # not empty, or gone: nothing of ours to take back
