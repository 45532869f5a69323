"""Build decks: load sources, make notes, settle times against the lock, write.

Everything is built in memory first and validated before the first byte is
written; the packages and the lock are then staged and renamed into place
together, so a failed build leaves the decks and the lock that were there
before untouched (as MkDocs builds its site).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import os
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, NamedTuple

from generator.errors import ContentError, DeckgenError, FileWarnings, Problem, Warnings, file_warnings
from generator.pipeline.cache import (
    CACHE_NAME,
    TOPICS_NAME,
    code_digest,
    current_inputs,
    current_media,
    fingerprint,
    sha256,
)
from generator.pipeline.cachefile import BuildCache, CachedFile, read_cache
from generator.pipeline.config import BuildConfig, Progress, RequestMaker
from generator.pipeline.exclusive import hold
from generator.pipeline.formats import Format
from generator.pipeline.journal import commit, make_folders, recover, remove_folders
from generator.pipeline.lock.guard import check_note_types
from generator.pipeline.lock.lines import KeptLines, LineNotes
from generator.pipeline.lock.located import with_lf
from generator.pipeline.lock.model import MAX_LOCK_BYTES, MAX_TIME, REMOVED_RETENTION_SECONDS, Lock
from generator.pipeline.lock.notelines import Line
from generator.pipeline.lock.places import PLACES_NAME, LinePlaces, places_pieces, read_places
from generator.pipeline.lock.read import LockBytes, read_lock
from generator.pipeline.lock.times import ChangeKind, Changes, released, resolve
from generator.pipeline.lock.write import (
    LockText,
    joined_lock,
    lock_text,
    released_line,
    removal_times,
    unreleased_in,
)
from generator.pipeline.reuse import Record, import_changes
from generator.pipeline.spool import Spool, Spooled
from generator.source.folder import input_files
from generator.source.guarded import read_regular

if TYPE_CHECKING:
    from generator.anki.schema import NoteTypeSchema

    # What builds the packages is imported where it is used: a rebuild with nothing to do (the
    # cache's report) never loads it, nor genanki (see _build).
    from generator.cards.notes import NoteSpec
    from generator.cards.recipe import Recipe
    from generator.cards.selection import DeckRequest, Selection
    from generator.pipeline.memo import StoredMemo
    from generator.pipeline.topics import Context, Package
    from generator.source.content import Source


@dataclass(frozen=True)
class DeckFile:
    """One package: where, which decks, how many notes and cards, what a re-import does."""

    path: str
    decks: tuple[str, ...]
    notes: int
    cards: int
    changes: Changes
    notices: tuple[Problem, ...] = ()
    """What a re-import of it does that the author may not expect (see :attr:`Package.notices`)."""


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote (or, for a plan, would write)."""

    files: tuple[DeckFile, ...]
    lock_path: str | None
    warnings: Warnings = Warnings()
    """Card smells of the whole source (see :mod:`generator.quality.smells`)."""
    stale: tuple[str, ...] = ()
    """Packages in the output folder that no topic of the source writes (a renamed or removed topic)."""
    empty: tuple[str, ...] = ()
    """Topics that make no card (every item is context, no comparison): no package is written for them."""
    unreleased: int = 0
    """Notes of the lock (as this build leaves it) that no release has carried: they leave no tombstone."""

    @property
    def notes(self) -> int:
        """Notes over all files."""
        return sum(f.notes for f in self.files)

    @property
    def cards(self) -> int:
        """Cards over all files."""
        return sum(f.cards for f in self.files)

    def total(self, kind: ChangeKind) -> int:
        """Notes added, updated, unchanged or removed, over all files."""
        return sum(f.changes.of(kind) for f in self.files)

    @property
    def notices(self) -> tuple[Problem, ...]:
        """Over all files, in the order of their packages."""
        return tuple(notice for f in self.files for notice in f.notices)


def build_time() -> int:
    """The build's time: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    digits = value.strip()
    # isdigit() alone accepts "²" and other digits int() refuses; the range is the lock's
    if not (digits.isascii() and digits.isdigit()) or int(digits) > MAX_TIME:
        raise DeckgenError(
            f"SOURCE_DATE_EPOCH must be a whole number of seconds from 0 to {MAX_TIME}, not {value!r}"
        )
    return int(digits)


def check(source_dir: str, memo: StoredMemo | None = None) -> tuple[Source, list[NoteSpec]]:
    """Load and validate a source folder; return it and the notes it would make.

    With a *memo* (the topics a build kept), a topic file it knows is not parsed again.
    """
    from generator.cards.notes import build_notes

    source = load(source_dir, memo)
    return source, build_notes(source)


def load(source_dir: str, memo: StoredMemo | None = None) -> Source:
    """Load and validate a source folder, as :func:`check` does, without making its notes."""
    # It reads only the sources, which no build writes: a folder a running build holds is left to it.
    from generator.source.loader import load_source

    recover(source_dir, command="check", busy_ok=True)
    return load_source(source_dir, memo)


class Checked(NamedTuple):
    """A valid source, its notes, and the smells of its cards."""

    source: Source
    notes: list[NoteSpec]
    warnings: tuple[Problem, ...]

    @property
    def context_items(self) -> int:
        """Items that make no note: stated in the source, asked by no card."""
        asked = {note.item_id for note in self.notes}
        return sum(1 for topic in self.source.topics for item in topic.items if item.id not in asked)


def check_cards(source_dir: str, strict: bool = False, memo: StoredMemo | None = None) -> Checked:
    """Validate a source folder and look for card smells; with *strict*, a smell is an error.

    With a *memo* (the topics a build kept), a topic file it knows is not parsed again.
    """
    source, notes = check(source_dir, memo)
    return Checked(source, notes, _smells(source, notes, strict))


def _smells(source: Source, notes: Sequence[NoteSpec], strict: bool) -> tuple[Problem, ...]:
    from generator.quality.smells import card_smells

    warnings = tuple(card_smells(source, notes))
    if strict and warnings:
        raise ContentError(list(warnings))
    return warnings


@dataclass(frozen=True, kw_only=True)
class _Made:
    """Everything a build decided, before a byte is written."""

    source: Source
    packages: tuple[Package, ...]
    lock: LockText
    """The lock this build leaves, encoded once, in pieces (a large source's is tens of megabytes)."""
    warnings: Warnings
    memo: Spooled | bytes | Sequence[bytes] | None = None
    """The memo file to write (see :func:`_memo_file`); None: the one there stays."""
    read_lock_sha256: str | None = None
    """The SHA-256 of the lock the build read (None: there was none): the one left where the build writes none."""
    read_as_lines: bool = False
    """The lock read was read as its lines: this very code wrote it, and the next build may read it so again (a
    lock only checked is parsed in full: its lines may be laid out otherwise, by hand)."""
    type_times: Mapping[str, int] = field(default_factory=dict)
    """Each note type's time in the packages."""

    @functools.cached_property
    def unreleased(self) -> int:
        """Notes of the lock it leaves that no release has carried: counted once in its bytes (report and cache)."""
        return unreleased_in(self.lock)

    @functools.cached_property
    def removals(self) -> list[int]:
        """When each tombstone of the lock it leaves was removed: found once in its bytes (cache and places)."""
        return removal_times(self.lock)

    @functools.cached_property
    def read_as_written(self) -> bool:
        """True if the lock read is byte for byte the one this build would write: this very code's layout, so
        that the next build may read it as its lines, even where this one parsed it in full and leaves it as it
        was (a ``watch`` whose out folder no build that wrote the lock has used: its first build, at the start,
        finds the lock as the last build left it)."""
        if self.read_lock_sha256 is None or any(package.changes.changed for package in self.packages):
            return False  # no lock, or one this build would change: not worth hashing the new one (a save's, mostly)
        return self.lock_sha256 == self.read_lock_sha256

    @functools.cached_property
    def lock_sha256(self) -> str:
        """Of the lock it leaves: hashed once (is it the lock there already; the cache's trust in it)."""
        return self.lock.sha256()


class _Job(NamedTuple):
    """What to build: the inputs and the choices every step reads (made with names, never by position)."""

    source_dir: str
    lock_path: str
    now: int
    requests: RequestMaker | None
    file_format: Format | None
    """The packages' format; None for a plan (nothing encoded)."""
    strict: bool
    jobs: int
    records: Mapping[str, Record]
    """The per-topic records of the cache the last build left in the out dir (see :mod:`generator.pipeline.reuse`)."""
    progress: Progress | None = None
    out_dir: str = ""
    reuse: bool = False
    """Reuse the packages of unchanged topics (a default .apkg build or plan)."""
    lock_digest: str | None = None
    """The SHA-256 of the lock the last build trusts (see :attr:`BuildCache.lock_sha256`)."""
    lock_split: bool = False
    """The lock the last build trusts is laid out as this very code writes it: it is kept as its lines (see
    :mod:`generator.pipeline.lock.lines`)."""
    lock_read: LockBytes | None = None
    """The lock as this build read it already (to see whether anything changed)."""
    release: bool = False
    """A release: every note built is marked released in the lock (see :attr:`LockedNote.released`)."""
    write_lock: bool = True
    """False for a look at the decks (``watch``): packages are written, the lock is left as it is."""
    memo: StoredMemo | None = None
    """The validated topics the last build kept (a default build's): unchanged files are not parsed."""
    type_times: Mapping[str, int] = {}
    """The note types' times the last build gave them where it left the lock as it was (see
    :attr:`BuildCache.type_times`): this build, which leaves it so too, gives them the same where the lock does
    not decide them."""
    spool: Spool | None = None
    """Where large outputs wait for the commit (a build's; a plan writes nothing)."""


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No cyclic garbage collection while a build runs.

    A build makes hundreds of thousands of small objects (nodes, content,
    notes, lock entries) and frees them by reference counting; the collector
    would only rescan the live ones again and again (a quarter of a 50,000-note
    build's time).  Forked workers inherit the pause.  What the build made is
    then moved to the oldest generation unscanned (frozen, then thawed): the
    collector would otherwise scan every object still alive once more as it
    is enabled, all of them young (a 50,000-note edit rebuild: 1 % of its
    instructions).  They are collected with the oldest generation, so the few
    cycles a build makes do not pile up under ``watch``.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.unfreeze()
        if was_enabled:
            gc.enable()


def _make(job: _Job) -> _Made:
    """Load, validate, and build every package in memory: topic by topic, or a custom selection."""
    with _collector_paused():
        return _make_packages(job)


def _make_packages(job: _Job) -> _Made:
    from generator.pipeline.ahead import parse_ahead
    from generator.pipeline.topics import Context, build_topics, homes, lock_owners
    from generator.quality.smells import source_smells
    from generator.source.loader import load_source

    if job.memo is not None:
        parse_ahead(job.source_dir, job.memo, job.jobs)
    source = load_source(job.source_dir, job.memo)
    if job.memo is not None:
        job.memo.ahead.clear()  # what the load did not take (a file saved since): no worker forked next holds it
    memo = _memo_file(job)
    lock = _read_lock(job)
    from generator.anki.notetypes import note_type_schemas  # genanki only when building or planning

    schemas = note_type_schemas()
    problems = check_note_types(schemas, lock, job.lock_path)
    if problems:
        raise ContentError(problems)
    types = resolve((), {}, schemas, lock, job.now, complete=False, rest=False, kept_type_times=job.type_times)
    context = Context(
        source=source, lock=lock, schemas=schemas, now=job.now, type_times=types.note_type_times,
        owned=lock_owners(lock), homes=homes(source), file_format=job.file_format,
        records=job.records if job.reuse else {}, out_dir=job.out_dir,
        lock_written=job.write_lock, release=job.release, spool=job.spool,
    )
    if job.requests is None:
        packages = build_topics(context, job.jobs, job.progress)
        warnings = Warnings.of([*file_warnings(source_smells(source)), *(w for p in packages for w in p.warnings)])
        new_lock: Lock | None = None  # made of the topics' lines, below
    else:
        packages, new_lock, warnings = _custom_packages(context, job.requests(source))
        if job.release:  # only what the custom decks carry is released
            new_lock = released(new_lock, (key for package in packages for key in package.entries))
    if job.strict and warnings:
        raise ContentError(list(warnings))
    note_types = types.lock.note_types
    data = lock_text(new_lock) if new_lock is not None else _topics_lock(packages, note_types, job.release)
    return _Made(
        source=source, packages=tuple(packages), lock=data, warnings=warnings, memo=memo,
        read_lock_sha256=lock.sha256, read_as_lines=isinstance(lock.notes, LineNotes), type_times=types.note_type_times,
    )


def _read_lock(job: _Job) -> Lock:
    """The lock the build reads: trusted and read as its lines where the last build wrote it (see :func:`read_lock`)."""
    trusted = job.lock_digest if job.reuse else None
    return read_lock(job.lock_path, trusted, split=job.lock_split, places=_places(job), read=job.lock_read)


def _places(job: _Job) -> LinePlaces | None:
    """Where the lines of the lock the last build wrote are, as it left them (see :mod:`~.lock.places`)."""
    if not (job.reuse and job.lock_split):
        return None
    data = read_regular(os.path.join(job.out_dir, PLACES_NAME), MAX_LOCK_BYTES)
    return read_places(data, code_digest()) if isinstance(data, bytes) else None


def _memo_file(job: _Job) -> Spooled | bytes | Sequence[bytes] | None:
    """The memo file to leave for the next build, or None if the one in the out folder holds what this load saw.

    Made as soon as the source is loaded and kept in the spool: its topics'
    pickles are then dropped, and the workers forked next do not inherit them.
    """
    memo = job.memo
    if memo is None or job.spool is None:
        return None
    if not memo.changed() and os.path.exists(os.path.join(job.out_dir, TOPICS_NAME)):
        return None
    data = memo.data()
    if not data:
        return None  # no key of this user's to sign it with: a memo no build would trust
    kept = job.spool.keep(TOPICS_NAME, data)
    memo.raw.clear()
    return kept


def _topics_lock(packages: Sequence[Package], note_types: Mapping[str, NoteTypeSchema], release: bool) -> LockText:
    """The lock a default build leaves: each topic's lines, a reused topic's as the last lock had them.

    A reused topic's lines are given by their places in the lock read (see
    :class:`~generator.pipeline.lock.lines.KeptLines`), and copied from there
    as the lock is written.  A release marks every live note released: its line
    is written without ``"released": false``.
    """
    kept = [package.lines for package in packages if isinstance(package.lines, KeptLines)]
    lines: Iterable[tuple[str, bytes | int]] = (
        pair for package in packages for pair in _lines_of(package.lines, release)
    )
    return joined_lock(note_types, lines, kept[0].found if kept else None)


def _lines_of(lines: Sequence[Line], release: bool) -> Iterable[tuple[str, bytes | int]]:
    if release:
        return ((key, released_line(line)) for key, line in lines)
    return lines.places() if isinstance(lines, KeptLines) else lines


def _custom_packages(context: Context, requests: Sequence[DeckRequest]) -> tuple[list[Package], Lock, Warnings]:
    """Custom decks: selected notes, renamed and tagged, their lock entries refreshed (no tombstones)."""
    from generator.cards.notes import build_notes
    from generator.cards.selection import apply, group_by_topic
    from generator.pipeline.topics import Package, encode, settle
    from generator.quality.smells import card_smells

    notes = build_notes(context.source)
    by_topic = group_by_topic(notes)
    chosen = [(request, apply(request, by_topic, context.source)) for request in requests]
    included = {note.key for _, selected in chosen for note in selected}
    # Times and hashes ignore a custom deck's name and extra tags: they are not a change of content.
    settled = settle((note for note in notes if note.key in included), context.schemas, context.lock, context.now)
    packages = []
    for request, selected in chosen:  # entries: the keys each package carries (a release marks them)
        data = encode(context, selected, settled.times) if selected else None
        packages.append(Package(
            file=request.file, data=data, decks=tuple(dict.fromkeys(n.deck for n in selected)),
            notes=len(selected), cards=sum(n.cards for n in selected),
            changes=Changes.count(settled.kinds[n.key] for n in selected),
            entries={n.key: settled.lock.notes[n.key] for n in selected}, warnings=(),
        ))
    found = (*card_smells(context.source, notes), *_shared_notes(chosen), *_empty_decks(chosen))
    return packages, settled.lock, Warnings.of(file_warnings(found))


def _empty_decks(packages: Sequence[tuple[DeckRequest, Sequence[NoteSpec]]]) -> Iterable[Problem]:
    """A recipe's deck that selects no note: nothing is written for it, which the author should hear."""
    for request, notes in packages:
        if not notes and request.origin is not None:
            yield request.origin.problem(
                f"deck {request.deck_name or request.file!r} selects no note: no package is written for it", "warning"
            )


def _shared_notes(packages: Sequence[tuple[DeckRequest, Sequence[NoteSpec]]]) -> Iterable[Problem]:
    """A note in two requested decks: Anki keeps it in the deck imported first."""
    first_deck: dict[str, DeckRequest] = {}
    shared: dict[tuple[int, int], int] = {}
    order = {id(request): index for index, (request, _) in enumerate(packages)}
    for request, notes in packages:
        for note in notes:
            earlier = first_deck.setdefault(note.key, request)
            if earlier is not request:
                pair = (order[id(earlier)], order[id(request)])
                shared[pair] = shared.get(pair, 0) + 1
    for (first, second), count in sorted(shared.items()):
        kept, also = packages[first][0], packages[second][0]
        origin = also.origin
        if origin is None:
            continue
        yield origin.problem(
            f"{count} note{'s are' if count != 1 else ' is'} also in {kept.deck_name or kept.file!r}: "
            f"a student who imports both gets each once, in the deck imported first "
            f"({kept.deck_name or kept.file!r} if imported in the recipe's order)",
            "warning",
        )


def custom_decks(selection: Selection, deck_name: str | None, extra_tags: Sequence[str] = ()) -> RequestMaker:
    """Requests for a selection from the command line: one named deck, or per topic."""

    from generator.cards.selection import custom_request, topic_requests

    def make(source: Source) -> list[DeckRequest]:
        problems = [unknown.message for unknown in selection.unknown_values(source)]
        if problems:
            raise DeckgenError("; ".join(problems))
        if deck_name is None:
            return topic_requests(source, selection)
        request = custom_request(deck_name, selection, extra_tags)
        if request.file in {topic.id for topic in source.topics}:
            raise DeckgenError(
                f"--deck-name {deck_name!r} would be written to {request.file}.apkg, the package of "
                f"topic {request.file!r}: choose another name"
            )
        return [request]

    return make


def recipe_decks(recipe: Recipe) -> RequestMaker:
    """Requests for every deck of a recipe, checked against the source."""

    from generator.cards.recipe import check_recipe

    def make(source: Source) -> list[DeckRequest]:
        problems = check_recipe(recipe, source)
        if problems:
            raise ContentError(problems)
        return [deck.request for deck in recipe.decks]

    return make


def plan(config: BuildConfig) -> BuildReport:
    """What ``build`` would write and what a re-import would do, without writing anything."""
    with hold(_written_folders(config), "plan"):  # what it reads is not half-written meanwhile
        return _plan(config)


def _plan(config: BuildConfig) -> BuildReport:
    from generator.pipeline.memo import read_memo
    from generator.pipeline.topics import default_jobs

    recover(*_written_folders(config))
    default = config.requests is None
    records, lock_digest, lock_split = _last_build(read_cache(config.out_dir) if default else None)
    job = _Job(
        source_dir=config.source_dir, lock_path=config.lock, now=_time_of(config), requests=config.requests,
        file_format=None, strict=config.strict, jobs=config.jobs or default_jobs(), out_dir=config.out_dir,
        reuse=default, records=records, lock_digest=lock_digest, lock_split=lock_split,
        memo=read_memo(config.out_dir) if default else None,
    )
    made = _make(job)
    _check_selected(made)  # as build does: a plan of nothing is the same mistake
    files = tuple(_describe(os.path.join(config.out_dir, f"{p.file}.apkg"), p) for p in made.packages if p.notes)
    return BuildReport(
        files, config.lock, made.warnings, empty=_empty_topics(made) if default else (),
        unreleased=made.unreleased,
    )


def build(config: BuildConfig, *, progress: Progress | None = None) -> BuildReport:
    """Build the source in ``config.source_dir`` into packages in ``config.out_dir``.

    By default one ``<topic>.apkg`` per topic, built topic by topic (on
    ``config.jobs`` worker processes, where it pays); ``config.requests``
    chooses custom decks instead.  Times come from the lock, which is updated
    with the packages (CSV files carry no times, so they leave it alone).
    *progress* hears how many notes are done.  Raises
    :class:`~generator.errors.ContentError` (nothing written) for bad sources.
    """
    now = _time_of(config)
    # From the first read of the lock to the last write: two builds never interleave (see exclusive).
    with hold(_written_folders(config), "build"):
        recover(*_written_folders(config))  # an interrupted build is finished or undone first
        return _build(config, now, progress)


def _time_of(config: BuildConfig) -> int:
    return build_time() if config.timestamp is None else config.timestamp


def _written_folders(config: BuildConfig) -> tuple[str, ...]:
    """The folders a build writes: the lock's (where it is named, and where it is kept), the output folder."""
    lock = config.lock
    return (os.path.dirname(os.path.abspath(lock)), os.path.dirname(os.path.realpath(lock)), config.out_dir)


def _build(config: BuildConfig, now: int, progress: Progress | None) -> BuildReport:
    cacheable = config.requests is None and config.file_format.carries_times
    cache = read_cache(config.out_dir) if cacheable else None
    # A release may have notes to mark released even when nothing else changed: it reads everything. A build
    # that writes the lock after one that left it (watch's) has the notes that build timed to write in it.
    fast = cache is not None and not config.release and not (cache.lock_kept and config.write_lock)
    lock = _lock_as_is(config.lock) if fast else None
    cached = _cached_report(config, lock, now, cache) if fast and cache else None
    if cached is not None:
        if config.strict and cached.warnings:
            raise ContentError(list(cached.warnings))
        return cached if config.write_lock else replace(cached, lock_path=None)  # as a watch's build reports it
    from generator.pipeline.memo import read_memo
    from generator.pipeline.topics import default_jobs

    records, lock_digest, lock_split = _last_build(cache)
    type_times = _kept_type_times(cache) if not config.write_lock else {}  # one that writes it times as it holds
    del cache  # its JSON (a smelly source's warnings: tens of megabytes) is not held while building
    with Spool() as spool:
        job = _Job(
            source_dir=config.source_dir, lock_path=config.lock, now=now, requests=config.requests,
            file_format=config.file_format, strict=config.strict, jobs=config.jobs or default_jobs(),
            progress=progress, out_dir=config.out_dir, reuse=cacheable, records=records, lock_digest=lock_digest,
            lock_split=lock_split, lock_read=lock if isinstance(lock, LockBytes) else None, release=config.release,
            write_lock=config.write_lock,
            memo=read_memo(config.out_dir) if cacheable else None, spool=spool, type_times=type_times,
        )
        made = _make(job)
        _check_selected(made)
        if os.path.exists(config.out_dir) and not os.path.isdir(config.out_dir):
            raise DeckgenError(f"{config.out_dir}: exists and is not a folder")
        return _write(made, job, config.file_format)


def _write(made: _Made, job: _Job, file_format: Format) -> BuildReport:
    """Commit what *made* holds (packages, lock, cache) in one journaled step; report it."""
    files: dict[str, bytes | Iterable[bytes]] = {}
    written: dict[str, tuple[DeckFile, str | None]] = {}
    for package in made.packages:
        if package.notes:
            path = os.path.join(job.out_dir, package.file + file_format.suffix)
            if package.data is not None:  # None: an unchanged topic's package, reused where it is
                files[path] = package.data
            written[path] = (_describe(path, package), package.sha256)
    written_lock = job.lock_path if file_format.carries_times and job.write_lock else None  # CSV carries no times
    if written_lock is not None and not _kept_as_is(written_lock, made):
        files[written_lock] = made.lock.pieces  # renamed last
    if job.reuse:
        _keep(files, job.out_dir, CACHE_NAME, _cache_entry(made, written.values(), written_lock is not None, job.now))
        # Where the lock's lines are, so that the next build reads it as lines without finding each: those of a lock
        # written, or of one a watch left as it was, parsed in full and found laid out as it would write it.
        placed = written_lock is not None or (not made.read_as_lines and made.read_as_written)
        places = places_pieces(
            made.lock, made.lock_sha256, code_digest(), tombstones=bool(made.removals), unreleased=made.unreleased
        ) if placed else None
        _keep(files, job.out_dir, PLACES_NAME, places)
        _keep(files, job.out_dir, TOPICS_NAME, made.memo)
    journal = os.path.dirname(os.path.abspath(job.lock_path)) if written_lock else job.out_dir
    _commit(files, job.out_dir, journal, follow=(written_lock,) if written_lock else ())
    stale = _stale_packages(job.out_dir, {os.path.basename(path) for path in written}) if job.reuse else ()
    deck_files = tuple(deck_file for deck_file, _ in written.values())
    return BuildReport(deck_files, written_lock, made.warnings, stale, _empty_topics(made), made.unreleased)


def _keep(
    files: dict[str, bytes | Iterable[bytes]], out_dir: str, name: str, data: bytes | Iterable[bytes] | None
) -> None:
    """Add the out folder's bookkeeping file *name* (the cache, the lock's places, the memo) to *files*, unless a
    folder stands there: the file only saves the next build work, so a folder costs that, never the build."""
    path = os.path.join(out_dir, name)
    if data is not None and not os.path.isdir(path):
        files[path] = data


def _empty_topics(made: _Made) -> tuple[str, ...]:
    """The topics of the source whose package holds no note."""
    current = {topic.id for topic in made.source.topics}
    return tuple(p.file for p in made.packages if not p.notes and p.file in current)


def _commit(
    files: Mapping[str, bytes | Iterable[bytes]], out_dir: str, journal_dir: str, follow: Collection[str] = ()
) -> None:
    """Write *files* all or nothing (through a link only at a path of *follow*: the lock's); folders made for them
    are taken back if they cannot be written."""
    created: list[str] = []
    try:
        make_folders(out_dir, created)
        # The journal goes beside the lock: every command that reads the lock recovers there first.
        commit(files, journal_dir, follow)
    except OSError as error:
        remove_folders(created)
        raise DeckgenError(f"cannot write {error.filename or out_dir}: {error.strerror}") from None
    except BaseException:  # another deckgen took the folder made for us, a Ctrl-C: nothing was written
        remove_folders(created)
        raise


def _describe(path: str, package: Package) -> DeckFile:
    return DeckFile(path, package.decks, package.notes, package.cards, package.changes, package.notices)


def _check_selected(made: _Made) -> None:
    if all(not package.notes for package in made.packages):
        raise DeckgenError("the selection matches no notes; nothing was written")


def _stale_packages(out_dir: str, built: set[str]) -> tuple[str, ...]:
    """Packages in *out_dir* this build did not write or keep (*built*, by name): reported, never deleted.

    A topic renamed or deleted long ago, a topic that no longer makes a card,
    a custom deck: they are the user's to keep or delete.
    """
    try:
        names = sorted(os.listdir(out_dir))
    except OSError:
        return ()
    return tuple(os.path.join(out_dir, n) for n in names if n.endswith(".apkg") and n not in built)


def _cache_entry(
    made: _Made, written: Iterable[tuple[DeckFile, str | None]], lock_written: bool, now: int
) -> Iterator[bytes]:
    """The build cache for what this build leaves behind (see :mod:`generator.pipeline.cache`).

    It holds the SHA-256 of the lock left in place (the one written, or,
    where the build leaves it as it was, ``watch``'s, the one it read) in its
    fingerprint and as the lock the next build trusts, with whether it is
    laid out as this code writes it (``lock_lines``).
    """
    from generator.quality.smells import source_smells

    expiries = [removed + REMOVED_RETENTION_SECONDS for removed in made.removals]
    lock_digest = made.lock_sha256 if lock_written else made.read_lock_sha256
    cache = BuildCache(
        # The bytes this build read, not the files as they are now: an edit saved
        # while it ran must make the next build rebuild.
        fingerprint=fingerprint(made.source.inputs, lock_digest),
        # news that lasts until a release (see Reimport.renamed) is news to the next build too: it builds again
        valid_until=now - 1 if any(p.news.renamed for p in made.packages) else min(expiries, default=None),
        files=tuple(
            CachedFile(os.path.basename(f.path), str(digest), f.decks, f.notes, f.cards) for f, digest in written
        ),
        topics={p.file: r for p in made.packages if (r := p.record(made.source)) is not None},
        warnings=file_warnings(source_smells(made.source)),
        media=tuple(sorted({path for topic in made.source.topics for path in topic.media_paths})),
        source=made.source.directory,
        empty=_empty_topics(made),
        unreleased=made.unreleased,
        lock_sha256=lock_digest,
        code=code_digest(),
        lock_kept=not lock_written,
        lock_lines=lock_written or made.read_as_lines or made.read_as_written,
        type_times=() if lock_written else tuple(sorted(made.type_times.items())),
    )
    return cache.to_pieces()


def _last_build(cache: BuildCache | None) -> tuple[dict[str, Record], str | None, bool]:
    """What a build reads of the last build's *cache*: its per-topic records, the digest of the lock it trusts
    (see :attr:`BuildCache.lock_sha256`), and whether that lock may be read as its lines (this very code wrote
    the cache, and the lock is laid out as this code writes it).

    A lock a ``watch`` build only checked is trusted by this very code alone: a check added since is not
    skipped.  One it found laid out byte for byte as this code writes it (:attr:`_Made.read_as_written`) is
    trusted as a lock this code wrote.
    """
    if cache is None:
        return {}, None, False
    same_code = cache.code == code_digest()
    trusted = cache.lock_sha256 if cache.lock_lines or same_code else None
    return cache.topics, trusted, same_code and cache.lock_lines


def _kept_type_times(cache: BuildCache | None) -> dict[str, int]:
    """The note types' times the last build gave them where it left the lock as it was, if this very code made
    them (another's note types may look otherwise: they get a time anew)."""
    return dict(cache.type_times) if cache is not None and cache.code == code_digest() else {}


def _lock_as_is(path: str) -> LockBytes | ContentError | None:
    """The lock at *path* as read, or why it may not be (the build says so), or None where there is none."""
    if not os.path.lexists(path):
        return None
    try:
        return LockBytes.of(path)  # a regular file of a sane size
    except ContentError as error:
        return error


def _cached_report(
    config: BuildConfig, lock: LockBytes | ContentError | None, now: int, cache: BuildCache
) -> BuildReport | None:
    """The report of the last build (its *cache*) if nothing it depends on has changed since, else None.  *lock* is
    the lock as read (see :func:`_lock_as_is`)."""
    source_dir, out_dir = config.source_dir, config.out_dir
    if isinstance(lock, ContentError):
        return None  # no cache: the build says what is wrong with it
    try:
        inputs = current_inputs(input_files(source_dir)) + current_media(source_dir, cache.media)
        key = fingerprint(inputs, None if lock is None else lock.sha256)
    except OSError:
        return None  # let the full build say what is wrong
    if not cache.holds(out_dir, key, now):
        return None
    files = tuple(
        DeckFile(os.path.join(out_dir, f.name), f.decks, f.notes, f.cards, _cached_changes(cache, f))
        for f in cache.files
    )
    # A default build's smells are its topics' and the source's own (see _make_packages), named
    # as this build names its files (the same bytes may have been built from a copied folder).
    found = [*cache.warnings, *(part for record in cache.topics.values() for part in record.warnings)]
    if cache.source != source_dir:
        if any(part.names(os.path.join(cache.source, "")) for part in found):
            return None  # a warning's text names a file there too (another card's front): they are made again
        found = [_moved(part, cache.source, source_dir) for part in found]
    warnings = Warnings.of(found)
    stale = _stale_packages(out_dir, {os.path.basename(f.path) for f in files})
    return BuildReport(files, config.lock, warnings, stale, cache.empty, cache.unreleased)


def _cached_changes(cache: BuildCache, file: CachedFile) -> Changes:
    """What re-importing a package the cache holds does: nothing, unless a build that left the lock as it was
    (``watch``'s) made it of entries the lock does not hold (see :class:`~generator.pipeline.reuse.Timed`)."""
    record = cache.topics.get(file.name.removesuffix(Format.APKG.suffix))  # a cache is an .apkg build's
    return import_changes(record.timed if record is not None else None, file.notes)


def _moved(warnings: FileWarnings, old_dir: str, new_dir: str) -> FileWarnings:
    """*warnings* located in *new_dir* if they were in *old_dir* (the source folder the cache was built from)."""
    if os.path.dirname(warnings.file) != old_dir.rstrip(os.sep):
        return warnings
    return warnings.in_file(os.path.join(new_dir, os.path.basename(warnings.file)))


def _kept_as_is(path: str, made: _Made) -> bool:
    """True if the lock at *path* is the one *made* leaves already, so that it is not written again.

    Compared only where the lock made is the lock read (their texts' digests):
    one that is not is written without reading the file, which only a write
    since the build read it could have made the same (a rebuild after an edit
    read half the old lock to find where the two differ).
    """
    return made.lock_sha256 == made.read_lock_sha256 and _same_lock(path, made.lock, made.lock_sha256)


def _same_lock(path: str, text: LockText, digest: str) -> bool:
    """True if the lock at *path* reads as *text* (of SHA-256 *digest*) already: the CRLF line endings of a
    checkout aside.

    Compared a block at a time, the first that differs ending it: the lock is
    tens of megabytes, and a rebuild's differs from the last (or is the same)
    without a second copy held.
    """
    try:
        with open(path, "rb") as handle:
            if all(handle.read(len(block)) == block for block in text.blocks()) and not handle.read(1):
                return True
            handle.seek(0)
            if not any(b"\r" in chunk for chunk in iter(functools.partial(handle.read, _CHUNK), b"")):
                return False
            handle.seek(0)
            old = handle.read()
    except OSError:
        return False
    # CRLF alone, as the lock's digest reads it (with_lf): a lock of lone CRs is rewritten, else no later
    # build would trust it or find nothing to do.
    return sha256(with_lf(old)) == digest


_CHUNK = 1024 * 1024
