"""Replace several files all-or-nothing, whatever interrupts it: a commit journal.

A build replaces many packages, the lock and the cache together.  Each
``os.replace`` is atomic, but a sequence of them is not: a Ctrl-C, a kill or
a failing rename half-way would leave new packages beside old ones and the
old lock.  So a commit goes the way SQLite's rollback journal and git's ref
updates go, holding every folder it writes (:mod:`generator.pipeline.exclusive`):

1. **announce**: write the journal (``.deckgen-journal.json``), listing every
   target, undecided, in every folder the commit touches (the first last
   of all: it is where the decision will be written);
2. **stage** every new file in full beside its target, flushed to disk, and
   **keep** the old version of every existing target (a hard link where the
   file system allows, else a copy);
3. **decide**: rewrite the first folder's journal as decided, atomically
   and flushed: the commit point;
4. **apply**: rename each staged file over its target, with SIGINT and
   SIGTERM deferred until the last rename is done;
5. **clean**: delete the old versions, then the journals (the first last).

Any failure or Ctrl-C before the decision removes what was made; after it,
puts every old version back.  A process killed anywhere leaves undecided
journals (the next :func:`recover` removes what was staged, in every folder
the journal names) or a decided one (it finishes the renames).  Every
deckgen command that reads a source's lock or a deck folder recovers it
first: ``check`` in the source folder also cleans the output folder.

A journal is read as untrusted input: a cloned course or a folder someone
sent may hold one written by hand.  So it names targets only, never the
files to move: the staged and old versions are always ``.deckgen-NAME.tmp``
and ``.deckgen-NAME.old`` beside their target, every target must be in one
of the folders the journal lists, and recovery acts in another folder only
if that folder holds a journal of the same commit (its random id), which
only a process that can write there can have put there.  Anything else is
refused with one line naming the journal, and nothing is touched.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import threading
import uuid
from collections.abc import Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple, NoReturn

from generator.errors import DeckgenError, printable
from generator.pipeline.exclusive import LOCK_FILE, Busy, hold

JOURNAL = ".deckgen-journal.json"
_PREFIX = ".deckgen-"
_STAGED = ".tmp"
_OLD = ".old"
_VERSION = 2
_MAX_JOURNAL_BYTES = 64 * 1024 * 1024  # a journal lists file names: far less, even for a huge source


class CommitError(OSError):
    """A file could not be written; *filename* is the target the user asked for."""


class _Entry(NamedTuple):
    target: str
    """The file replaced: an absolute path, resolved through symbolic links."""
    had_old: bool
    """Whether the target existed before (and so has an old version kept)."""

    @property
    def staged(self) -> str:
        return _beside(self.target, _STAGED)

    @property
    def old(self) -> str | None:
        return _beside(self.target, _OLD) if self.had_old else None

    @property
    def folder(self) -> str:
        return os.path.dirname(self.target)


class _Journal(NamedTuple):
    id: str
    decided: bool
    folders: tuple[str, ...]
    """Real paths of the folders the commit touches; the first holds the decision."""
    entries: tuple[_Entry, ...]

    @property
    def primary(self) -> str:
        return self.folders[0]


def _beside(target: str, suffix: str) -> str:
    """The name deckgen gives a staged (or old) version of *target*: beside it, never anywhere else."""
    return os.path.join(os.path.dirname(target), f"{_PREFIX}{os.path.basename(target)}{suffix}")


def commit(
    files: Mapping[str, bytes | Iterable[bytes]], journal_dir: str, follow: Collection[str] = ()
) -> None:
    """Replace each path of *files* with its bytes (or its pieces of bytes, in order, read once): all, or none.

    *journal_dir* holds the decision; the targets' folders hold journals too.
    :func:`recover` must be given one of them before anything reads those
    files again.  A path that is a symbolic link is replaced by a file, unless
    it is one of *follow*: a lock kept elsewhere stays where it is kept, but a
    link in an output folder (committed to a repository, say) never makes a
    build write over the file it points at.
    """
    targets = {_target(path, path in follow): data for path, data in files.items()}
    entries = tuple(_Entry(target, os.path.lexists(target)) for target in targets)
    folders = (os.path.realpath(journal_dir or "."), *sorted({entry.folder for entry in entries}))
    journal = _Journal(uuid.uuid4().hex, False, tuple(dict.fromkeys(folders)), entries)
    with hold(journal.folders):
        recover(*journal.folders)  # a journal left there by a killed command is settled, never overwritten
        state = "announcing"
        try:
            _announce(journal)
            state = "staging"
            for entry in entries:
                _write_new(entry.staged, targets[entry.target], entry.target)
                _keep_old(entry)
            with _signals_deferred():  # a Ctrl-C now is acted on once the commit is whole
                _write_journal(journal.primary, journal._replace(decided=True))
                state = "decided"
                for entry in entries:
                    _move_over(entry.staged, entry.target)
                _sync_folders(journal.folders)
                _finish(journal, journal.folders)
                state = "done"
        except BaseException:
            if state != "done":
                _undo(journal, journal.folders, applied=state == "decided")
            raise


def _target(path: str, follow: bool) -> str:
    """The absolute path a commit replaces: resolved through symbolic links if *follow*, else its folder alone."""
    if follow:
        return os.path.realpath(path)
    return os.path.join(os.path.realpath(os.path.dirname(path) or "."), os.path.basename(path))


def recover(*folders: str, command: str | None = None, busy_ok: bool = False) -> None:
    """Finish or undo an interrupted commit whose journal is in one of *folders*; remove leftovers.

    Call it before reading the files a commit may have been writing.  A
    folder another deckgen is writing raises :class:`~generator.pipeline.exclusive.Busy`,
    or with *busy_ok* is left to it (for a command that reads none of its files).
    A journal deckgen did not write raises a :class:`~generator.errors.DeckgenError`.
    """
    for folder in dict.fromkeys(os.path.realpath(f or ".") for f in folders):
        try:
            with hold([folder], command):
                journal = _read_journal(folder)
                if journal is not None:
                    _settle(journal, folder)
                _remove(_leftovers(folder))
        except Busy:
            if not busy_ok:
                raise


def _settle(journal: _Journal, here: str) -> None:
    """Finish (decided) or undo (undecided) *journal*, read in *here*, in the folders proven to be its own."""
    partners = [folder for folder in journal.folders if folder != here]
    with hold(partners):
        present = (here, *(folder for folder in partners if _is_journal_of(folder, journal.id)))
        if journal.primary not in present:
            _refuse(here, f"its decision belongs in {journal.primary}, which holds no journal of this commit")
        for entry in journal.entries:
            if entry.folder not in present and any(_exists(p) for p in (entry.staged, entry.old) if p):
                _refuse(here, f"it names {entry.target} in a folder that holds no journal of this commit")
        primary = journal if journal.primary == here else _read_journal(journal.primary)
        if primary is None or not primary.decided:
            _undo(journal, present, applied=False)
            return
        try:
            for entry in journal.entries:
                if entry.folder in present and _exists(entry.staged):
                    _move_over(entry.staged, entry.target)
            _sync_folders(present)
        except OSError:
            _undo(journal, present, applied=True)
        else:
            _finish(journal, present)


def _is_journal_of(folder: str, commit_id: str) -> bool:
    try:
        journal = _read_journal(folder)
    except DeckgenError:
        return False  # not one of ours: that folder is not this commit's
    return journal is not None and journal.id == commit_id


def _exists(path: str) -> bool:
    return os.path.lexists(path)


def _refuse(folder: str, what: str) -> NoReturn:
    raise DeckgenError(
        f"{printable(os.path.join(folder, JOURNAL))}: journal refused: {printable(what)}; nothing was changed "
        "(deckgen did not write it: delete it, if no deckgen command was interrupted here)"
    )


def _read_journal(folder: str) -> _Journal | None:
    """The journal in *folder* (a real path), checked; None if there is none; refused if it is not deckgen's."""
    path = os.path.join(folder, JOURNAL)
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        _refuse(folder, "it is not a regular file")
    if info.st_size > _MAX_JOURNAL_BYTES:
        _refuse(folder, f"it is larger than {_MAX_JOURNAL_BYTES} bytes")
    try:
        with open(path, "rb") as handle:
            data = json.loads(handle.read(_MAX_JOURNAL_BYTES + 1))
    except OSError:
        return None
    except ValueError:
        _refuse(folder, "it is not JSON")
    return _parse(data, folder)


def _parse(data: object, here: str) -> _Journal:
    """The journal *data* describes, every name in it checked against *here*; else refused."""
    keys = {"version", "id", "decided", "folders", "entries"}
    if not isinstance(data, dict) or set(data) != keys or data["version"] != _VERSION:
        _refuse(here, f"it is not a version {_VERSION} journal of this deckgen")
    commit_id, decided, folders, entries = data["id"], data["decided"], data["folders"], data["entries"]
    if not isinstance(commit_id, str) or not isinstance(decided, bool) or not _paths(folders) or not folders:
        _refuse(here, "its id, decision or folders are not what deckgen writes")
    if here not in folders:
        _refuse(here, f"it was written for other folders ({', '.join(folders)}), not this one")
    if not isinstance(entries, list):
        _refuse(here, "its entries are not a list")
    parsed = []
    for number, entry in enumerate(entries, start=1):
        if not (isinstance(entry, list) and len(entry) == 2 and _paths(entry[:1]) and isinstance(entry[1], bool)):
            _refuse(here, f"entry {number} is not [target, had an old version]")
        target = entry[0]
        if os.path.dirname(target) not in folders:
            _refuse(here, f"entry {number} names {target}, outside the folders it was written for")
        name = os.path.basename(target)
        if name in (JOURNAL, LOCK_FILE) or name.startswith(_PREFIX) and name.endswith((_STAGED, _OLD)):
            _refuse(here, f"entry {number} names {target}, a file of deckgen's own")
        parsed.append(_Entry(target, entry[1]))
    if len({entry.target for entry in parsed}) != len(parsed):
        _refuse(here, "it names a target twice")
    return _Journal(commit_id, decided, tuple(folders), tuple(parsed))


def _paths(values: object) -> bool:
    """Whether *values* is a list of absolute, normalized paths (as deckgen writes them)."""
    return isinstance(values, list) and all(
        isinstance(v, str) and os.path.isabs(v) and os.path.normpath(v) == v and "\x00" not in v for v in values
    )


def _announce(journal: _Journal) -> None:
    """The undecided journal in every folder, the first (the decision's) first: it is removed last."""
    for folder in journal.folders:
        try:
            _write_journal(folder, journal)
        except CommitError as error:  # named as the file asked for there: the journal is ours, not the user's
            asked = [entry.target for entry in journal.entries if entry.folder == folder]
            raise CommitError(error.errno, error.strerror, asked[0] if asked else error.filename) from None


def _write_new(path: str, data: bytes | Iterable[bytes], target: str) -> None:
    """Write *data* to *path* (a name of ours: never through a link, never over a file there), flushed."""
    _remove([path])  # a leftover of a killed command: we hold the folder
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    try:
        handle = os.open(path, flags, 0o644)
    except OSError as error:
        raise CommitError(error.errno, error.strerror, target) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            if isinstance(data, bytes):
                stream.write(data)
            else:  # a large file's pieces, never joined in memory
                stream.writelines(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(path, 0o644)
    except BaseException as error:  # a Ctrl-C while writing a large file leaves no part of it
        _remove([path])
        if isinstance(error, OSError):
            raise CommitError(error.errno, error.strerror, target) from None
        raise


def _keep_old(entry: _Entry) -> None:
    """A second name for the target's current bytes, if it had any."""
    old = entry.old
    if old is None:
        return
    target = entry.target
    if os.path.isdir(target) and not os.path.islink(target):
        raise CommitError(21, "Is a directory", target)
    _remove([old])
    try:
        os.link(target, old, follow_symlinks=False)  # no copy: the old bytes (or link) stay where they are
    except OSError:
        try:
            shutil.copy2(target, old, follow_symlinks=False)
        except OSError as error:
            raise CommitError(error.errno, error.strerror, target) from None


def _write_journal(folder: str, journal: _Journal) -> None:
    data = {
        "version": _VERSION, "id": journal.id, "decided": journal.decided, "folders": list(journal.folders),
        "entries": [[entry.target, entry.had_old] for entry in journal.entries],
    }
    path = os.path.join(folder, JOURNAL)
    staged = _beside(path, _STAGED)
    _write_new(staged, json.dumps(data, indent=1).encode("utf-8"), path)
    try:
        _move_over(staged, path)
    except OSError:
        _remove([staged])
        raise
    _sync_folder(folder)


def _move_over(source: str, target: str) -> None:
    """``os.replace``, a failure named by *target* (the file the user asked for)."""
    try:
        os.replace(source, target)
    except OSError as error:
        raise CommitError(error.errno, error.strerror, target) from None


def _undo(journal: _Journal, folders: Iterable[str], *, applied: bool) -> None:
    """Take back *journal*'s commit in *folders*: staged files removed and, if *applied*, old versions put back.

    Best effort: on a failure the journals stay, for the next :func:`recover`.
    """
    inside = set(folders)
    failed = False
    for entry in journal.entries:
        if entry.folder not in inside:
            continue
        try:
            if applied:
                _put_back(entry)
            elif entry.old is not None:
                _remove([entry.old])  # undecided: the target was never replaced, this is a second name of it
            _remove([entry.staged])
        except OSError:
            failed = True
    if not failed:
        _remove_journals(journal, inside)


def _put_back(entry: _Entry) -> None:
    """The target as it was before a decided commit: its old version, or no file if it had none."""
    if entry.old is not None:
        if os.path.exists(entry.target) and os.path.samefile(entry.old, entry.target):
            os.unlink(entry.old)  # never replaced (a rename between two links of one file does nothing)
        elif os.path.exists(entry.old):
            os.replace(entry.old, entry.target)
    elif not os.path.exists(entry.staged) and os.path.isfile(entry.target):
        os.unlink(entry.target)  # it was new: renamed in before the failure


def _finish(journal: _Journal, folders: Iterable[str]) -> None:
    inside = set(folders)
    _remove([entry.old for entry in journal.entries if entry.old and entry.folder in inside])
    _remove_journals(journal, inside)


def _remove_journals(journal: _Journal, folders: set[str]) -> None:
    """The journals in *folders*, the decision's last: while it exists, the others are known to be its own."""
    for folder in sorted(folders, key=lambda folder: folder == journal.primary):
        _remove([os.path.join(folder, JOURNAL)])


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


def _remove(paths: Iterable[str]) -> None:
    for path in paths:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
        except OSError:
            pass  # a leftover the next recover() will try again


def _sync_folders(folders: Iterable[str]) -> None:
    for folder in folders:
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
