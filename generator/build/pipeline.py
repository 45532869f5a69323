"""Build decks: load sources, make notes, settle times against the lock, write.

Everything is built in memory first and validated before the first byte is
written; the packages and the lock are then staged and renamed into place
together, so a failed build leaves the decks and the lock that were there
before untouched (as MkDocs builds its site).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from generator.build.cache import CACHE_NAME, cache_text, cached_build, current_inputs, fingerprint, sha256
from generator.source.content import Source
from generator.errors import ContentError, DeckgenError, Problem
from generator.build.journal import commit, make_folders, recover, remove_folders
from generator.source.content import REMOVED_TAG
from generator.build.lock import (
    LOCK_NAME,
    MAX_TIME,
    REMOVED_RETENTION_SECONDS,
    Changes,
    Resolution,
    check_note_types,
    content_hash,
    dump_lock,
    read_lock,
    read_lock_bytes,
    resolve,
)
from generator.cards.notes import NoteSpec, build_notes, content_parts, tombstone
from generator.cards.recipe import Recipe, check_recipe
from generator.cards.selection import DeckRequest, Selection, apply, custom_request, group_by_topic, topic_requests
from generator.anki.smells import WARNING, card_smells
from generator.source.loader import input_files, load_source

FORMATS = ("apkg", "csv")


@dataclass(frozen=True)
class DeckFile:
    """One package: where, which decks, how many notes and cards, what a re-import does."""

    path: str
    decks: tuple[str, ...]
    notes: int
    cards: int
    changes: Changes


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote (or, for a plan, would write)."""

    files: tuple[DeckFile, ...]
    lock_path: str | None
    warnings: tuple[Problem, ...] = ()
    """Card smells of the whole source (see :mod:`generator.anki.smells`)."""
    stale: tuple[str, ...] = ()
    """Packages in the output folder that no topic of the source writes (a renamed or removed topic)."""

    @property
    def notes(self) -> int:
        """Notes over all files."""
        return sum(f.notes for f in self.files)

    @property
    def cards(self) -> int:
        """Cards over all files."""
        return sum(f.cards for f in self.files)

    def total(self, kind: str) -> int:
        """Notes added, updated, unchanged or removed, over all files."""
        return sum(getattr(f.changes, kind) for f in self.files)


@dataclass(frozen=True)
class _Prepared:
    source: Source
    packages: tuple[tuple[DeckRequest, tuple[NoteSpec, ...]], ...]
    resolution: Resolution
    lock_path: str
    lock_text: str
    warnings: tuple[Problem, ...]


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


def default_lock_path(source_dir: str) -> str:
    """Where the lock of a source folder lives: beside its sources."""
    return os.path.join(source_dir, LOCK_NAME)


def check(source_dir: str) -> tuple[Source, list[NoteSpec]]:
    """Load and validate a source folder; return it and the notes it would make."""
    recover(source_dir)
    source = load_source(source_dir)
    return source, build_notes(source)


@dataclass(frozen=True)
class Checked:
    """A valid source, its notes, and the smells of its cards."""

    source: Source
    notes: list[NoteSpec]
    warnings: tuple[Problem, ...]

    @property
    def context_items(self) -> int:
        """Items that make no note: stated in the source, asked by no card."""
        asked = {note.group for note in self.notes}
        return sum(1 for topic in self.source.topics for item in topic.items if item.id not in asked)


def check_cards(source_dir: str, strict: bool = False) -> Checked:
    """Validate a source folder and look for card smells; with *strict*, a smell is an error."""
    source, notes = check(source_dir)
    return Checked(source, notes, _smells(source, notes, strict))


def _smells(source: Source, notes: Sequence[NoteSpec], strict: bool) -> tuple[Problem, ...]:
    warnings = tuple(card_smells(source, notes))
    if strict and warnings:
        raise ContentError(list(warnings))
    return warnings


RequestMaker = Callable[[Source], Sequence[DeckRequest]]
"""Given the loaded source, the packages to build (None: one per topic, complete)."""


def _prepare(
    source_dir: str, lock_path: str | None, now: int | None, requests: RequestMaker | None, strict: bool
) -> _Prepared:
    source = load_source(source_dir)
    notes = build_notes(source)
    warnings = _smells(source, notes, strict=False)  # with the recipe's, raised below
    complete = requests is None
    chosen = tuple(topic_requests(source) if requests is None else requests(source))
    lock_path = lock_path or default_lock_path(source_dir)
    lock = read_lock(lock_path)

    from generator.anki.notetypes import note_type_schemas  # genanki only when building or planning

    schemas = note_type_schemas()
    problems = check_note_types(schemas, lock, lock_path)
    if problems:
        raise ContentError(problems)
    by_topic = group_by_topic(notes)
    packages = [(request, tuple(apply(request, by_topic, source))) for request in chosen]
    included = {note.key for _, selected in packages for note in selected}
    # Hashes ignore a custom deck's name and extra tags: they are not a change of content.
    originals = [note for note in notes if note.key in included]
    hashes = {n.key: content_hash(content_parts(n)) for n in originals}
    stamp = build_time() if now is None else now
    resolution = resolve(originals, hashes, schemas, lock, stamp, complete=complete)
    if resolution.tombstones:
        packages = _with_tombstones(packages, resolution)
    warnings += tuple(_shared_notes(packages))
    if strict and warnings:
        raise ContentError(list(warnings))
    return _Prepared(source, tuple(packages), resolution, lock_path, dump_lock(resolution.lock), warnings)


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
            f"{WARNING}{count} note{'s are' if count != 1 else ' is'} also in {kept.deck_name or kept.file!r}: "
            f"a student who imports both gets each once, in the deck imported first "
            f"({kept.deck_name or kept.file!r} if imported in the recipe's order)"
        )


def _with_tombstones(
    packages: list[tuple[DeckRequest, tuple[NoteSpec, ...]]], resolution: Resolution
) -> list[tuple[DeckRequest, tuple[NoteSpec, ...]]]:
    """Add each removed note to its topic's package; a deleted topic keeps one for them.

    Only complete builds have tombstones, and their packages are named by topic id.
    """
    by_topic: dict[str, list[NoteSpec]] = {}
    for key, n in resolution.tombstones:
        note = tombstone(key, n.guid, n.note_type, n.label, n.deck, n.topic, n.cards, REMOVED_TAG)
        by_topic.setdefault(n.topic, []).append(note)
    result = []
    for request, notes in packages:
        result.append((request, notes + tuple(by_topic.pop(request.file, ()))))
    for topic, notes in by_topic.items():
        result.append((DeckRequest(topic, Selection(topics=(topic,))), tuple(notes)))
    return result


def _describe(path: str, notes: Sequence[NoteSpec], resolution: Resolution) -> DeckFile:
    decks = tuple(dict.fromkeys(note.deck for note in notes))
    changes = Changes.count(resolution.kinds[note.key] for note in notes)
    return DeckFile(path, decks, len(notes), sum(n.new_cards for n in notes), changes)


def _check_selected(prepared: _Prepared) -> None:
    if all(not notes for _, notes in prepared.packages):
        raise DeckgenError("the selection matches no notes; nothing was written")


def custom_decks(selection: Selection, deck_name: str | None, extra_tags: Sequence[str] = ()) -> RequestMaker:
    """Requests for a selection from the command line: one named deck, or per topic."""

    def make(source: Source) -> list[DeckRequest]:
        problems = selection.unknown(source)
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

    def make(source: Source) -> list[DeckRequest]:
        problems = check_recipe(recipe, source)
        if problems:
            raise ContentError(problems)
        return [deck.request for deck in recipe.decks]

    return make


def plan(
    source_dir: str,
    out_dir: str,
    lock_path: str | None = None,
    now: int | None = None,
    requests: RequestMaker | None = None,
    strict: bool = False,
) -> BuildReport:
    """What ``build`` would write and what a re-import would do, without writing anything."""
    recover(os.path.dirname(os.path.abspath(lock_path or default_lock_path(source_dir))), out_dir)
    prepared = _prepare(source_dir, lock_path, now, requests, strict)
    _check_selected(prepared)  # as build does: a plan of nothing is the same mistake
    files = tuple(
        _describe(os.path.join(out_dir, f"{request.file}.apkg"), notes, prepared.resolution)
        for request, notes in prepared.packages
    )
    return BuildReport(files, prepared.lock_path, prepared.warnings)


def build(
    source_dir: str,
    out_dir: str,
    timestamp: int | None = None,
    lock_path: str | None = None,
    requests: RequestMaker | None = None,
    file_format: str = "apkg",
    progress: Callable[[int, int], None] | None = None,
    strict: bool = False,
) -> BuildReport:
    """Build the source in *source_dir* into packages in *out_dir*.

    By default one ``<topic>.apkg`` per topic; *requests* chooses custom decks
    instead.  Times come from the lock (``<source_dir>/deckgen.lock`` unless
    *lock_path*), which is updated with the packages.  With ``file_format="csv"``
    the notes are written as Anki's CSV text files (which carry no times, so
    the lock is left alone).  Raises :class:`~generator.errors.ContentError`
    (nothing written) for bad sources.
    """
    if file_format not in FORMATS:
        raise DeckgenError(f"unknown format {file_format!r} (known: {', '.join(FORMATS)})")
    now = build_time() if timestamp is None else timestamp
    lock_path = lock_path or default_lock_path(source_dir)
    lock_dir = os.path.dirname(os.path.abspath(lock_path))
    recover(lock_dir, out_dir)  # an interrupted build is finished (or undone) before anything is read
    cacheable = requests is None and file_format == "apkg"
    if cacheable:
        cached = _cached_report(source_dir, out_dir, lock_path, now)
        if cached is not None:
            if strict and cached.warnings:
                raise ContentError(list(cached.warnings))
            return cached
    prepared = _prepare(source_dir, lock_path, now, requests, strict)
    _check_selected(prepared)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise DeckgenError(f"{out_dir}: exists and is not a folder")
    resolution = prepared.resolution
    files: dict[str, bytes] = {}
    written: list[DeckFile] = []
    total = len(prepared.packages)
    for done, (request, notes) in enumerate(prepared.packages, start=1):
        if not notes:
            continue
        path = os.path.join(out_dir, f"{request.file}.{file_format}")
        files[path] = _encode(notes, resolution, file_format)
        written.append(_describe(path, notes, resolution))
        if progress is not None:
            progress(done, total)
    written_lock: str | None = None
    if file_format == "apkg":
        written_lock = prepared.lock_path
        if _read_text(written_lock) != prepared.lock_text:
            files[written_lock] = prepared.lock_text.encode("utf-8")  # renamed last
    if cacheable:
        files[os.path.join(out_dir, CACHE_NAME)] = _cache_entry(source_dir, prepared, files, written)

    created: list[str] = []  # folders made for the decks, taken back if they cannot be written
    try:
        make_folders(out_dir, created)
        # The journal goes beside the lock: every command that reads the lock recovers there first.
        commit(files, lock_dir if file_format == "apkg" else out_dir)
    except OSError as error:
        remove_folders(created)
        raise DeckgenError(f"cannot write {error.filename or out_dir}: {error.strerror}") from None
    stale = _stale_packages(out_dir, prepared.source) if requests is None and file_format == "apkg" else ()
    return BuildReport(tuple(written), written_lock, prepared.warnings, stale)


def _stale_packages(out_dir: str, source: Source) -> tuple[str, ...]:
    """Packages in *out_dir* that are not a topic of *source*: reported, never deleted (they are the user's)."""
    topics = {topic.id for topic in source.topics}
    try:
        names = sorted(os.listdir(out_dir))
    except OSError:
        return ()
    return tuple(os.path.join(out_dir, n) for n in names if n.endswith(".apkg") and n[: -len(".apkg")] not in topics)


def _cache_entry(
    source_dir: str, prepared: _Prepared, files: dict[str, bytes], written: list[DeckFile]
) -> bytes:
    """The build cache for what this build leaves behind (see :mod:`generator.build.cache`)."""
    # The bytes this build read, not the files as they are now: an edit saved
    # while it ran must make the next build rebuild.
    key = fingerprint(prepared.source.inputs, prepared.lock_text.encode("utf-8"))
    expiries = [n.removed + REMOVED_RETENTION_SECONDS for _, n in prepared.resolution.tombstones if n.removed]
    entries = [
        {"path": f.path, "sha256": sha256(files[f.path]), "decks": list(f.decks), "notes": f.notes, "cards": f.cards}
        for f in written
    ]
    warnings = [[w.file, w.line, w.where, w.message] for w in prepared.warnings]
    return cache_text(key, min(expiries, default=None), entries, warnings).encode("utf-8")


def _cached_report(source_dir: str, out_dir: str, lock_path: str, now: int) -> BuildReport | None:
    """The report of the last build if nothing it depends on has changed since, else None."""
    lock_bytes: bytes | None = None
    if os.path.lexists(lock_path):
        try:
            lock_bytes = read_lock_bytes(lock_path)  # a regular file of a sane size, or no cache
        except ContentError:
            return None
    try:
        key = fingerprint(current_inputs(input_files(source_dir)), lock_bytes)
    except OSError:
        return None  # let the full build say what is wrong
    cached = cached_build(out_dir, key, now)
    if cached is None:
        return None
    try:
        files = tuple(
            DeckFile(e["path"], tuple(e["decks"]), e["notes"], e["cards"], Changes(unchanged=e["notes"]))
            for e in cached["files"]
        )
        warnings = tuple(
            Problem(str(file), int(line), str(where), str(message)) for file, line, where, message in cached["warnings"]
        )
    except (KeyError, TypeError, ValueError):
        return None  # a cache we cannot read: build
    return BuildReport(files, lock_path, warnings)


def _encode(notes: Sequence[NoteSpec], resolution: Resolution, file_format: str) -> bytes:
    if file_format == "csv":
        from generator.anki.csvexport import csv_bytes

        return csv_bytes(notes)
    from generator.anki.package import package_bytes

    # Seeded with its own newest time, a package's bytes change only when its
    # own notes (or the note types) do: an edit in one topic leaves the others' as they were.
    stamp = max([*(resolution.times[n.guid] for n in notes), *resolution.note_type_times.values()])
    return package_bytes(notes, stamp, resolution.times, resolution.note_type_times)


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None
