"""Build decks: load sources, make notes, settle times against the lock, write.

Everything is built in memory first and validated before the first byte is
written; each package, then the lock, is replaced atomically, so a failed build
leaves the decks and the lock that were there before untouched (as MkDocs
builds its site).
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .content import Source
from .errors import ContentError, DeckgenError
from .lock import (
    LOCK_NAME,
    REMOVED_TAG,
    Resolution,
    TopicChanges,
    check_note_types,
    content_hash,
    dump_lock,
    read_lock,
    resolve,
)
from .notes import NoteSpec, build_notes, content_parts, note_label, tombstone
from .source import load_source


@dataclass(frozen=True)
class DeckFile:
    """One package: where, which topic and decks, how many notes and cards, what changed."""

    path: str
    topic: str
    decks: tuple[str, ...]
    notes: int
    cards: int
    changes: TopicChanges


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote (or, for a plan, would write)."""

    files: tuple[DeckFile, ...]
    lock_path: str

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
    notes: tuple[NoteSpec, ...]
    resolution: Resolution
    lock_path: str
    lock_text: str


def build_time() -> int:
    """The build's time: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    if not value.strip().isdigit():
        raise DeckgenError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}")
    return int(value)


def default_lock_path(source_dir: str) -> str:
    """Where the lock of a source folder lives: beside its sources."""
    return os.path.join(source_dir, LOCK_NAME)


def check(source_dir: str) -> tuple[Source, list[NoteSpec]]:
    """Load and validate a source folder; return it and the notes it would make."""
    source = load_source(source_dir)
    return source, build_notes(source)


def _prepare(source_dir: str, lock_path: str | None, now: int | None) -> _Prepared:
    source = load_source(source_dir)
    notes = build_notes(source)
    lock_path = lock_path or default_lock_path(source_dir)
    lock = read_lock(lock_path)

    from .notetypes import note_type_schemas  # genanki only when building or planning

    schemas = note_type_schemas()
    problems = check_note_types(schemas, lock, lock_path)
    if problems:
        raise ContentError(problems)
    hashes = {n.key: content_hash(content_parts(n)) for n in notes}
    labels = {n.key: note_label(n) for n in notes}
    stamp = build_time() if now is None else now
    resolution = resolve(notes, hashes, labels, schemas, lock, stamp)
    removed = tuple(
        tombstone(key, n.guid, n.note_type, n.label, n.deck, n.topic, n.cards, REMOVED_TAG)
        for key, n in resolution.tombstones
    )
    return _Prepared(source, tuple(notes) + removed, resolution, lock_path, dump_lock(resolution.lock))


def _by_topic(prepared: _Prepared) -> dict[str, list[NoteSpec]]:
    """Notes per topic, topics in source order; a deleted topic keeps a package for its tombstones."""
    grouped: dict[str, list[NoteSpec]] = {topic.id: [] for topic in prepared.source.topics}
    for note in prepared.notes:
        grouped.setdefault(note.topic, []).append(note)
    return grouped


def _describe(path: str, topic: str, notes: Sequence[NoteSpec], changes: Mapping[str, TopicChanges]) -> DeckFile:
    decks = tuple(dict.fromkeys(note.deck for note in notes))
    return DeckFile(
        path, topic, decks, len(notes), sum(n.cards for n in notes), changes.get(topic, TopicChanges())
    )


def plan(source_dir: str, out_dir: str, lock_path: str | None = None, now: int | None = None) -> BuildReport:
    """What ``build`` would write and what a re-import would do, without writing anything."""
    prepared = _prepare(source_dir, lock_path, now)
    files = tuple(
        _describe(os.path.join(out_dir, f"{topic}.apkg"), topic, notes, prepared.resolution.changes)
        for topic, notes in _by_topic(prepared).items()
    )
    return BuildReport(files, prepared.lock_path)


def build(
    source_dir: str, out_dir: str, timestamp: int | None = None, lock_path: str | None = None
) -> BuildReport:
    """Build every topic of the source in *source_dir* into ``<out_dir>/<topic>.apkg``.

    Times come from the lock (``<source_dir>/deckgen.lock`` unless *lock_path*),
    which is rewritten after the packages.  Raises
    :class:`~generator.errors.ContentError` (nothing written) for bad sources.
    """
    prepared = _prepare(source_dir, lock_path, timestamp)
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise DeckgenError(f"{out_dir}: exists and is not a folder")

    from .package import package_bytes, write_atomically

    resolution = prepared.resolution
    outputs: list[tuple[DeckFile, bytes]] = []
    for topic, notes in _by_topic(prepared).items():
        path = os.path.join(out_dir, f"{topic}.apkg")
        data = package_bytes(notes, resolution.stamp, resolution.times, resolution.note_type_times)
        outputs.append((_describe(path, topic, notes, resolution.changes), data))
    files = {deck_file.path: data for deck_file, data in outputs}
    if _read_text(prepared.lock_path) != prepared.lock_text:
        files[prepared.lock_path] = prepared.lock_text.encode("utf-8")  # renamed last
    try:
        os.makedirs(out_dir, exist_ok=True)
        write_atomically(files)
    except OSError as error:
        raise DeckgenError(f"cannot write {error.filename or out_dir}: {error.strerror}") from None
    return BuildReport(tuple(deck_file for deck_file, _ in outputs), prepared.lock_path)


def _read_text(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return None
