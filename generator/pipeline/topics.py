"""One package's work, topic by topic: notes → smells → lock entries → package bytes.

A default build is a set of independent topics: each makes its own notes,
settles their times against the lock and encodes its own package, and drops
its notes before the next.  A removed note's lock entry (its tombstone) is
kept by the topic that holds its item today, or, for an item gone from the
source, by the topic it was last built in; no package carries it.  So every
lock entry has one owner, and the
topics can be built in any order, or side by side in worker processes, with
the same bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import signal
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, NamedTuple, NoReturn

from generator.anki.schema import NoteTypeSchema, content_hash
from generator.cards.notes import NoteSpec, content_parts, key_parts, studied_notes, topic_notes
from generator.errors import ContentError, FileWarnings, Problem, file_warnings
from generator.pipeline.formats import Format
from generator.pipeline.lock.lines import (
    LineEntries,
    LineNotes,
    holds_tombstones,
    lines_of,
    live_lines,
    topic_lines,
)
from generator.pipeline.lock.model import Lock, LockedNote
from generator.pipeline.lock.notelines import Line
from generator.pipeline.lock.times import Changes, Resolution, resolve
from generator.pipeline.lock.write import LIVE, released_line
from generator.pipeline.reimport import Reimport, reimport_news
from generator.pipeline.reuse import Record, Timed, fingerprint, import_changes, named_files, still_there
from generator.pipeline.spool import Spool, Spooled
from generator.quality.crosscard import forget_titles
from generator.quality.smells import smell_topic
from generator.quality.wording import SettingLookup, forget_settings
from generator.source.content import Source, Topic

if TYPE_CHECKING:  # only a parallel build imports concurrent.futures
    from concurrent.futures import Executor

PARALLEL_MIN_ITEMS = 2000
"""Below this many items to build, worker processes cost more than they save."""


@dataclass(frozen=True)
class Context:
    """What every topic's work reads: the source, the lock, the build's time and note type times."""

    source: Source
    lock: Lock
    schemas: Mapping[str, NoteTypeSchema]
    now: int
    type_times: Mapping[str, int]
    owned: Mapping[str, tuple[str, ...]]
    """Topic id → the lock keys last built in it: it re-emits (or drops) those no topic builds now."""
    homes: Mapping[str, str]
    """Item or comparison id → the topic holding it now (see :func:`homes`)."""
    records: Mapping[str, Record] = field(default_factory=dict)
    """The last build's per-topic records (see :mod:`generator.pipeline.reuse`): topics to reuse."""
    out_dir: str = ""
    file_format: Format | None = Format.APKG
    """None for a plan (everything but the bytes)."""
    lock_written: bool = True
    """False where the build leaves the lock as it is (``watch``): the next build reads this one's lock again."""
    release: bool = False
    """A release (``build --release``): the lock it writes holds every live note released, as the next build
    reads it."""
    spool: Spool | None = None
    """Where a package's bytes wait for the commit (see :mod:`generator.pipeline.spool`); None: in memory."""

    @cached_property
    def moves(self) -> Moves:
        """The lock keys whose item another topic holds now (see :class:`Moves`); found once, when first read."""
        return Moves.of(self.owned, self.homes)

    @cached_property
    def tombstones(self) -> bool:
        """Whether the lock read holds a tombstone (see :func:`_held`); found once, when first read."""
        return holds_tombstones(self.lock.notes)


class Moves(NamedTuple):
    """The lock keys whose item moved to another topic since the lock filed them, by both topics.

    A note last built in one topic may be built by the topic its item moved
    to: the topic it left is built again (:func:`_taken_elsewhere`), and the
    lock entry of the note is an input of the topic it moved to, which reads it
    (its time, its GUID) wherever the lock files it.
    """

    departures: Mapping[str, tuple[str, ...]]
    """Topic → the keys the lock files under it whose item another topic holds now."""
    arrivals: Mapping[str, tuple[str, ...]]
    """Topic → the keys the lock files under another topic whose item it holds now."""

    @classmethod
    def of(cls, owned: Mapping[str, Sequence[str]], homes: Mapping[str, str]) -> Moves:
        departures: dict[str, list[str]] = {}
        arrivals: dict[str, list[str]] = {}
        for topic, keys in owned.items():
            for key in keys:
                home = homes.get(key.split("/", 2)[1], topic)  # as NoteKey.parse splits a key
                if home != topic:
                    departures.setdefault(topic, []).append(key)
                    arrivals.setdefault(home, []).append(key)
        return cls({t: tuple(k) for t, k in departures.items()}, {t: tuple(k) for t, k in arrivals.items()})


class Package(NamedTuple):
    """What building one package gave: its bytes, decks, counts, lock entries and warnings."""

    file: str
    data: bytes | Spooled | None
    """None for a reused package (or a plan's); spooled where the build has a spool."""
    decks: tuple[str, ...]
    notes: int
    cards: int
    changes: Changes
    entries: Mapping[str, LockedNote]
    warnings: tuple[FileWarnings, ...]
    """Its topic's card smells, as the cache keeps them (see :attr:`Record.warnings`)."""
    lines: Sequence[Line] = ()
    """Its lock entries as the lock writes them, sorted by key (a topic's only): what the next lock is made of."""
    sha256: str | None = None
    """Of the package's bytes, written now or reused."""
    fingerprint: str | None = None
    """What the next build compares to reuse this package (a topic's only)."""
    lookups: tuple[SettingLookup, ...] = ()
    """Its which-perspective cues' look-ups in the source's setting words (see :attr:`Record.lookups`)."""
    named: tuple[str, ...] = ()
    """The other topics' files its warnings name (see :attr:`Record.named`)."""
    timed: Timed | None = None
    """Where the build leaves the lock as it was and its entries are not the lock's (see :attr:`Record.timed`)."""
    news: Reimport = Reimport()
    """What a re-import of it does that the author may not expect (see :mod:`generator.pipeline.reimport`): this
    build's news, never kept by the cache (a reused package's notes are those the lock has already)."""

    @property
    def notices(self) -> tuple[Problem, ...]:
        """The news, as notes for the author."""
        return self.news.notices

    def record(self, source: Source) -> Record | None:
        """What to remember of this package for the next build, if it can be reused (not while it has news that
        lasts until a release: every build says it)."""
        topic = next((t for t in source.topics if t.id == self.file), None)
        if self.fingerprint is None or self.sha256 is None or topic is None or self.news.renamed:
            return None
        return Record(
            self.fingerprint, topic.file, self.sha256, self.decks, self.notes, self.cards, self.warnings, self.lookups,
            self.named, self.timed,
        )


def lock_owners(lock: Lock) -> Mapping[str, tuple[str, ...]]:
    """Lock keys by the topic each was last built in: the topic that re-emits it once removed."""
    if isinstance(lock.notes, LineNotes):
        return lock.notes.topics  # found in its lines: no note decoded
    owned: dict[str, list[str]] = {}
    for key, locked in lock.notes.items():
        owned.setdefault(locked.topic, []).append(key)
    return {topic: tuple(keys) for topic, keys in owned.items()}


def homes(source: Source) -> dict[str, str]:
    """Each item, comparison and glossary term id → the topic that holds it now (a note key's item part)."""
    found = {item.id: topic.id for topic in source.topics for item in topic.items}
    found |= {term.id: topic.id for topic in source.topics for term in topic.terms}
    return found | {comparison.id: topic.id for topic in source.topics for comparison in topic.comparisons}


def build_topics(context: Context, jobs: int, progress: Callable[[int, int], None] | None = None) -> list[Package]:
    """Every topic's package (and one per topic gone from the source that still owns lock keys), in source order.

    A topic whose last package can be reused is not built again.  With
    *jobs* > 1 and enough to build, topics are built in that many worker
    processes; the result is the same as a serial build's, byte for byte.
    """
    current = [topic.id for topic in context.source.topics]
    names = current + [topic for topic in context.owned if topic not in set(current)]
    reused = {name: package for name in current if (package := _reuse(context, name)) is not None}
    built = iter(_map(context, [name for name in names if name not in reused], jobs))
    packages: list[Package | ContentError] = []
    for done, name in enumerate(names, start=1):
        packages.append(reused[name] if name in reused else next(built))
        if progress is not None:
            progress(done, len(names))
    problems = [p for package in packages if isinstance(package, ContentError) for p in package.problems]
    if problems:
        raise ContentError(problems)
    return [package for package in packages if isinstance(package, Package)]


def _reuse(context: Context, name: str) -> Package | None:
    """The package the last build made for topic *name*, if nothing it depends on has changed."""
    record = context.records.get(name)
    topic = _topic(context, name)
    if record is None or topic is None or context.file_format is None or not context.file_format.carries_times:
        return None
    owned = context.owned.get(name, ())
    if _taken_elsewhere(context, name):
        return None
    if record.timed is not None and context.lock_written:
        return None  # its entries are not the lock's (a watch's): a build that writes the lock makes them anew
    if record.timed is not None and _live_departures(context, name):
        return None  # a watch's, whose notes moved away: whether another topic still makes them, no input shows
    lines = topic_lines(context.lock.notes, name, owned, context.now)
    kept = _with_arrivals(context, name, lines)
    read = _held(context, name, owned, kept)
    source, times, named, looked = context.source, context.type_times, record.named, record.lookups
    if record.fingerprint != fingerprint(source, topic, read, times, record.timed, named=named, lookups=looked):
        return None
    if not still_there(os.path.join(context.out_dir, f"{name}.apkg"), record):
        return None
    # The same bytes under another name (a copied or moved folder): its smells name the file as it is now.
    warnings = record.warnings
    if record.file != topic.file:
        if _names_old_place(warnings, record.file, topic.file):
            return None  # a warning's text names it too (another card's front): they are made again
        warnings = tuple(part.in_file(topic.file) if part.file == record.file else part for part in warnings)
    # The lines held are those kept and the tombstones past their retention: a count apart if it holds some.
    lines, next_fingerprint = _as_released(context, name, lines, record, dropped=len(read) != len(kept))
    return Package(
        file=name, data=None, decks=record.decks, notes=record.notes, cards=record.cards,
        changes=import_changes(record.timed, record.notes), entries=LineEntries(lines), warnings=warnings,
        lines=lines, sha256=record.sha256, fingerprint=next_fingerprint, lookups=looked, named=named,
        timed=record.timed,
    )


def _as_released(
    context: Context, name: str, lines: Sequence[Line], record: Record, *, dropped: bool
) -> tuple[Sequence[Line], str]:
    """A reused topic's lock lines as this build writes them, and the fingerprint the next build finds for them.

    A release writes its live notes released, and a build that writes the lock
    drops the tombstones past their retention its fingerprint read (where
    *dropped*): the lines the next build reads are those, and it reuses the
    topic while nothing else changes.
    """
    written = _released(context, lines)
    if written is lines and not (context.lock_written and dropped):
        return lines, record.fingerprint
    after = _read_next(context, name, written, None)
    return written, _next_fingerprint(context, name, after, record.timed, record.named, record.lookups) or ""


def _released(context: Context, lines: Sequence[Line]) -> Sequence[Line]:
    """*lines* as the lock of this build holds them: in a release, every live note's marked released."""
    if not context.release:
        return lines
    written = [(key, released_line(line)) for key, line in lines]
    return lines if written == list(lines) else written


def _names_old_place(warnings: Sequence[FileWarnings], old_file: str, new_file: str) -> bool:
    """True if a warning's text names where the topic's file was: the file itself, or its folder if that moved.

    Only a warning's place (:attr:`FileWarnings.file`) can be moved; a text naming a
    file ("another card's front (src/a.yaml:27, ...)") is made again by a build.
    """
    old_dir = os.path.dirname(old_file)
    named = old_file if old_dir == os.path.dirname(new_file) else os.path.join(old_dir, "")
    return any(part.names(named) for part in warnings)


def _topic(context: Context, name: str) -> Topic | None:
    """The source's topic *name*; None for a topic gone from the source that still owns lock entries."""
    return next((topic for topic in context.source.topics if topic.id == name), None)


def _map(context: Context, names: Sequence[str], jobs: int) -> Iterator[Package | ContentError]:
    items = sum(len(topic.items) for topic in context.source.topics if topic.id in set(names))
    pool = fork_pool(jobs) if jobs > 1 and len(names) > 1 and items >= PARALLEL_MIN_ITEMS else None
    if pool is None:
        yield from (_build_one(context, name, last=number == len(names)) for number, name in enumerate(names, 1))
        return
    # Workers are forked after the source and lock are loaded: they read them
    # from the parent's memory instead of receiving a pickled copy.
    global _SHARED
    _SHARED = context
    try:
        with working(pool):
            yield from pool.map(_build_shared, names)
    finally:
        _SHARED = None


def fork_pool(jobs: int) -> Executor | None:
    """*jobs* forked worker processes, or None where processes cannot be forked."""
    # Imported here: a small build never needs them, and they cost start-up time.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if "fork" not in multiprocessing.get_all_start_methods():
        return None
    context = multiprocessing.get_context("fork")
    return ProcessPoolExecutor(max_workers=jobs, mp_context=context, initializer=_worker_signals)


def _worker_signals() -> None:
    # A worker is stopped by its parent (see working()): SIGTERM ends it, as it ends any process, whatever the
    # handler the command line gave the parent it was forked from, and the stops its parent held while forking.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, _STOPS)


_STOPS = {signal.SIGINT, signal.SIGTERM}


@contextlib.contextmanager
def stops_held() -> Iterator[None]:
    """Ctrl-C and SIGTERM held by the system for the ``with`` block, delivered when it ends.

    Around a fork: the command line's handler ends a build by raising, and
    Python runs it inside the fork's own callbacks (logging releases its
    locks there), which ignore what they raise, so a stop that came as the
    workers were forked was lost and the build waited for them for ever.
    """
    if not hasattr(signal, "pthread_sigmask"):  # no fork either: nothing to hold
        yield
        return
    held = signal.pthread_sigmask(signal.SIG_BLOCK, _STOPS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, held)


@contextlib.contextmanager
def working(pool: Executor) -> Iterator[Executor]:
    """*pool* for a ``with`` block.  On any exception (an error, a Ctrl-C, a SIGTERM the command line makes one
    of) its workers are stopped at once, not awaited: a worker left behind would keep building, and keep the
    folders' locks it inherited, after its parent has gone.  Its workers are forked here, the stops held."""
    with pool:
        try:
            with stops_held():
                pool.submit(int)  # a pool of forked workers forks them all at its first task
            yield pool
        except BaseException:
            # concurrent.futures has no public way to stop a running worker before Python 3.14's terminate_workers();
            # its processes are taken before shutdown(), which forgets them
            for process in list((getattr(pool, "_processes", None) or {}).values()):
                process.terminate()
            pool.shutdown(wait=False, cancel_futures=True)
            raise


class Forked:
    """A child process forked to run one task (see :func:`forked`), and the pipe its result comes back through."""

    def __init__(self, pid: int, pipe: int) -> None:
        self.pid = pid
        self.pipe: int | None = pipe
        """None once read (or closed)."""
        self.reaped = False

    def result(self) -> object | None:
        """What the task returned, once it has; None if it failed or was stopped.  The child is reaped."""
        assert self.pipe is not None  # read once
        with os.fdopen(self.pipe, "rb") as pipe:  # closed here, whatever happens
            self.pipe = None
            data = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        self.reaped = True
        if status != 0:
            return None
        try:
            found: object = pickle.loads(data)
        except Exception:  # noqa: BLE001 - cut short: as if it had failed
            return None
        return found

    def end(self) -> None:
        """End the child at once if it is not reaped yet (its result no longer wanted), and reap it."""
        if self.pipe is not None:
            os.close(self.pipe)
            self.pipe = None
        if not self.reaped:  # a reaped child's pid may be another process's by now
            with contextlib.suppress(OSError):
                os.kill(self.pid, signal.SIGKILL)  # it writes nothing but its pipe: nothing to finish
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.pid, 0)
            self.reaped = True


@contextlib.contextmanager
def forked(task: Callable[[], object]) -> Iterator[Forked | None]:
    """*task* run in a child process forked now, beside the ``with`` block; None where processes cannot be forked.

    For one task a pool's process machinery costs more than the task saves (20 ms to import and start).  The
    child is forked with the stops held, as a pool's workers are (see :func:`working`), and leaves only through
    ``os._exit``, never through its parent's code; a child whose result the block has not read is ended with it.
    """
    child: Forked | None = None
    try:
        with stops_held():  # a stop that comes meanwhile is raised as they are let go: the child is ended then
            child = _fork(task)
        yield child
    finally:
        if child is not None:
            child.end()


def _fork(task: Callable[[], object]) -> Forked | None:
    if not hasattr(os, "fork"):
        return None
    read, write = os.pipe()
    try:
        pid = os.fork()
    except OSError:  # no process to be had: the task is the caller's to run
        os.close(read)
        os.close(write)
        return None
    if pid == 0:
        _run_forked(task, read, write)  # never returns
    os.close(write)
    return Forked(pid, read)


def _run_forked(task: Callable[[], object], read: int, write: int) -> NoReturn:
    code = 1
    try:
        os.close(read)
        _worker_signals()
        data = pickle.dumps(task(), pickle.HIGHEST_PROTOCOL)
        with os.fdopen(write, "wb") as pipe:
            pipe.write(data)
        code = 0
    finally:
        os._exit(code)  # whatever was raised: the parent's stack is not this process's to unwind


_SHARED: Context | None = None


def _build_shared(name: str) -> Package | ContentError:
    assert _SHARED is not None  # set by _map before the workers are forked
    return _build_one(_SHARED, name)


def _build_one(context: Context, name: str, *, last: bool = False) -> Package | ContentError:
    """One topic's package, or the lock problems that stop it (gathered with every other topic's).

    The *last* topic this process builds drops what the checks keep of the source from topic to topic once
    they are done with it (the titles' index before the package is encoded): the build's peak of memory.
    """
    topic = _topic(context, name)
    try:
        notes = studied_notes(context.source, topic) if topic else []
        smelled, lookups = smell_topic(context.source, topic, notes) if topic else ([], ())
        if last:
            forget_titles()
        # In the form the cache keeps and a rebuild prints: a worker sends back a string a file, not a problem each.
        return _package(context, name, notes, file_warnings(smelled), lookups)
    except ContentError as error:
        return error
    finally:
        if last:
            forget_settings()  # after the package's fingerprint, which reads them


def _package(
    context: Context, name: str, notes: list[NoteSpec], warnings: tuple[FileWarnings, ...],
    lookups: tuple[SettingLookup, ...],
) -> Package:
    live = settle(notes, context.schemas, context.lock, context.now, rest=False)  # its own notes are all it reads
    gone = _settle_gone(context, _removed(context, name, {note.key for note in notes}))
    entries = {note.key: live.lock.notes[note.key] for note in notes} | dict(gone.lock.notes)
    kinds = [live.kinds[note.key] for note in notes] + list(gone.kinds.values())  # those removed now
    data = encode(context, notes, live.times) if notes else None
    digest = hashlib.sha256(data).hexdigest() if data is not None else None
    lines = _released(context, lines_of(entries))  # kept as lines alone: a worker sends them back, not records
    topic = _topic(context, name)
    named = named_files(context.source, topic, warnings) if topic else ()
    held = kept = None
    if not context.lock_written:  # the next build reads the lock as it is
        owned = context.owned.get(name, ())
        kept = _with_arrivals(context, name, live_lines(context.lock.notes, owned, context.now))
        held = _held(context, name, owned, kept)
    changes = Changes.count(kinds)
    timed = None if kept is None or list(lines) == list(kept) else Timed(context.now, changes)  # not the lock's
    return Package(
        file=name,
        data=_spooled(context, name, data),
        decks=tuple(dict.fromkeys(note.deck for note in notes)),
        notes=len(notes),
        cards=sum(note.cards for note in notes),
        changes=changes,
        entries=LineEntries(lines),
        warnings=tuple(part.packed() for part in warnings),  # held until printed: a smelly source's are megabytes
        lines=lines,
        sha256=digest,
        fingerprint=_next_fingerprint(context, name, _read_next(context, name, lines, held), timed, named, lookups),
        lookups=lookups,
        named=named,
        timed=timed,
        news=_news(context, name, notes, live, gone),
    )


def _news(context: Context, name: str, notes: Sequence[NoteSpec], live: Resolution, gone: Resolution) -> Reimport:
    """What a re-import of topic *name*'s package does that its author may not expect (see :func:`reimport_news`).

    The notes its items had while another topic held them count as its own removed ones: a key term whose item
    moved here in the same edit as its words changed is a new note here beside a tombstone there.
    """
    built = {note.key for note in notes}
    arrived = context.moves.arrivals.get(name, ())
    came = [key for key in arrived if key not in built and context.lock.notes[key].released]
    # The topic's tombstones are released notes all (a note no release carried leaves no tombstone).
    return reimport_news(notes, live.lock.notes, [*gone.lock.notes, *came], live.narrowed, context.lock)


def _spooled(context: Context, name: str, data: bytes | None) -> bytes | Spooled | None:
    """The package's bytes kept in the build's spool: a worker sends back where they are, the parent holds no copy."""
    if data is None or context.spool is None or context.file_format is None:
        return data
    kept = context.spool.keep(name + context.file_format.suffix, data)
    return kept if isinstance(kept, Spooled) else data


def _next_fingerprint(
    context: Context, name: str, lines: Sequence[Line], timed: Timed | None,
    named: Sequence[str], lookups: Sequence[SettingLookup],
) -> str | None:
    """The fingerprint the next build computes for topic *name* if its inputs stay as they are.

    It reads the lock entries the next build finds (their *lines*): this
    build's, or, where this build leaves the lock as it was (``watch``), that
    lock's again, with the time its entries carry where they are not the
    lock's (*timed*).  The next such build reuses the package while nothing else
    changed, at whatever time it runs (a save elsewhere makes only that topic
    again); a build that writes the lock makes it again (see :func:`_reuse`).
    """
    topic = _topic(context, name)
    if topic is None:
        return None
    return fingerprint(context.source, topic, lines, context.type_times, timed, named=named, lookups=lookups)


def _taken_elsewhere(context: Context, name: str) -> bool:
    """True if another topic now makes a note last built in topic *name* (its item moved there).

    The note then leaves this topic's package and lock entries: a change no
    input of this topic shows, so the topic is built again.
    """
    departing = context.moves.departures.get(name, ())  # the common case: none, every item is where it was
    memo: dict[str, set[str]] = {}
    return any(_made_elsewhere(context, name, key, memo) for key in departing)


def _live_departures(context: Context, name: str) -> bool:
    """True if the lock files under topic *name* a live note whose item another topic holds now (see :class:`Moves`).

    A build that writes the lock files such a note under the topic that makes it, or marks it removed; until
    then, the topic it left leaves it out of its package while another topic makes it, and removes it once none
    does: a change of another topic's, which this topic's fingerprint does not read.
    """
    departing = context.moves.departures.get(name, ())
    return any(LIVE in line for _, line in live_lines(context.lock.notes, departing, context.now))


def _with_arrivals(
    context: Context, name: str, lines: Sequence[Line], *, held: bool = False
) -> Sequence[Line]:
    """*lines* (topic *name*'s) and the lock's lines of the notes whose item moved into it since the lock filed
    them under another topic: what a build reads of the lock for the topic, in its order.  Those the build
    keeps; with *held*, every one as the lock holds it (see :func:`_held`).

    A topic makes such a note against its entry where the lock files it: a live note moved in, or a removed
    one brought back while its tombstone is kept (until it expires); see :class:`Moves`.
    """
    arriving = context.moves.arrivals.get(name, ())
    found = live_lines(context.lock.notes, arriving, None if held else context.now) if arriving else ()
    return sorted([*lines, *found]) if found else lines


def _held(context: Context, name: str, owned: Iterable[str], kept: Sequence[Line]) -> Sequence[Line]:
    """What a build reads of the lock for topic *name* (its notes', *owned*, and its arrivals') as the lock holds
    it, given what the build keeps (*kept*, see :func:`_with_arrivals`): the tombstones past their retention too,
    until a build writes the lock.  What its fingerprint reads: a watch's save makes a note brought back against
    such a tombstone ("updated", not "added"), so a lock put back without it is a change."""
    if not context.tombstones:
        return kept
    return _with_arrivals(context, name, topic_lines(context.lock.notes, name, owned, None), held=True)


def _read_next(context: Context, name: str, lines: Sequence[Line], kept: Sequence[Line] | None) -> Sequence[Line]:
    """What the next build reads of the lock for topic *name* (see :func:`_with_arrivals`), if it stays as it is.

    After a build that writes the lock, its own *lines* and, filed under the topics they were last built in,
    the other arrivals' as those topics write them: gone, since no other topic holds their item (a tombstone
    stays where it was, a released note becomes one); else the lock's as this build read them (*kept*).
    """
    if kept is not None:
        return kept
    arrivals = context.moves.arrivals.get(name, ())
    made = {key for key, _ in lines} if arrivals else set()  # a reused topic's lines are read to be gone through
    arriving = [key for key in arrivals if key not in made]
    if not arriving:
        return lines
    return sorted([*lines, *lines_of(_settle_gone(context, arriving).lock.notes)])


def _removed(context: Context, name: str, built: set[str]) -> list[str]:
    """The keys last built in topic *name* that no topic builds now.

    A key whose item moved to another topic is built there if that topic
    still makes the note; its tombstone, if any, stays with the topic it was
    last built in.
    """
    memo: dict[str, set[str]] = {}
    return [
        key for key in context.owned.get(name, ()) if key not in built and not _made_elsewhere(context, name, key, memo)
    ]


def _made_elsewhere(context: Context, name: str, key: str, memo: dict[str, set[str]]) -> bool:
    """True if the note *key*, last built in topic *name*, is made by the topic that holds its item now."""
    home = context.homes.get(key_parts(key)[1], name)
    return home != name and key in _keys_of(context, home, memo)


def _keys_of(context: Context, topic_id: str, memo: dict[str, set[str]]) -> set[str]:
    if topic_id not in memo:
        topic = _topic(context, topic_id)
        memo[topic_id] = {note.key for note in topic_notes(context.source, topic)} if topic else set()
    return memo[topic_id]


def settle(
    notes: Iterable[NoteSpec], schemas: Mapping[str, NoteTypeSchema], lock: Lock, now: int, *, rest: bool = True
) -> Resolution:
    """The times of *notes* against the lock (a partial resolution: no tombstones); see :func:`resolve` for *rest*."""
    notes = list(notes)
    hashes = {note.key: content_hash(content_parts(note)) for note in notes}
    if isinstance(lock.notes, LineNotes):
        lock.notes.decode(hashes)  # every note's entry is read: their lines read and parsed together
    return resolve(notes, hashes, note_types=schemas, lock=lock, now=now, complete=False, rest=rest)


def _settle_gone(context: Context, keys: Sequence[str]) -> Resolution:
    """Lock keys a topic no longer builds: new tombstones, kept ones, and expired ones dropped."""
    gone = Lock({key: context.lock.notes[key] for key in keys}, context.lock.note_types, context.lock.origin)
    return resolve((), {}, note_types=context.schemas, lock=gone, now=context.now, complete=True)


def encode(context: Context, notes: Sequence[NoteSpec], times: Mapping[str, int]) -> bytes | None:
    """A package's bytes in the build's format (None for a plan: nothing is encoded)."""
    if context.file_format is None:
        return None
    return context.file_format.encode_file(notes, times, context.type_times, context.source)


def default_jobs() -> int:
    """The cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1
