"""Build decks: load sources, make notes, write one .apkg per topic.

Everything is built in memory first and validated before the first byte is
written; each file is then replaced atomically, so a failed build leaves the
decks that were there before untouched (as MkDocs builds its site).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .content import Source
from .errors import DeckgenError
from .notes import NoteSpec, build_notes
from .source import load_source


@dataclass(frozen=True)
class DeckFile:
    """One written package: where, which decks, how many notes and cards."""

    path: str
    topic: str
    decks: tuple[str, ...]
    notes: int
    cards: int


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote."""

    files: tuple[DeckFile, ...]

    @property
    def notes(self) -> int:
        """Notes written, over all files."""
        return sum(f.notes for f in self.files)

    @property
    def cards(self) -> int:
        """Cards written, over all files."""
        return sum(f.cards for f in self.files)


def build_time() -> int:
    """The build's time: ``SOURCE_DATE_EPOCH`` when set (reproducible builds), else now."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return int(time.time())
    if not value.strip().isdigit():
        raise DeckgenError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}")
    return int(value)


def group_by_topic(source: Source, notes: Sequence[NoteSpec]) -> dict[str, list[NoteSpec]]:
    """Notes per topic id, topics in source order."""
    grouped: dict[str, list[NoteSpec]] = {topic.id: [] for topic in source.topics}
    for note in notes:
        grouped[note.topic].append(note)
    return grouped


def describe(path: str, topic: str, notes: Sequence[NoteSpec]) -> DeckFile:
    """A :class:`DeckFile` for *notes* written to *path*."""
    decks = tuple(dict.fromkeys(note.deck for note in notes))
    return DeckFile(path, topic, decks, len(notes), sum(note.cards for note in notes))


def build(source_dir: str, out_dir: str, timestamp: int | None = None) -> BuildReport:
    """Build every topic of the source in *source_dir* into ``<out_dir>/<topic>.apkg``.

    Raises :class:`~generator.errors.ContentError` (nothing written) for bad sources.
    """
    source = load_source(source_dir)
    notes = build_notes(source)
    stamp = build_time() if timestamp is None else timestamp
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise DeckgenError(f"{out_dir}: exists and is not a folder")

    from .package import package_bytes, write_atomically  # genanki only when building

    outputs: list[tuple[DeckFile, bytes]] = []
    for topic, topic_notes in group_by_topic(source, notes).items():
        path = os.path.join(out_dir, f"{topic}.apkg")
        outputs.append((describe(path, topic, topic_notes), package_bytes(topic_notes, stamp)))
    os.makedirs(out_dir, exist_ok=True)
    for deck_file, data in outputs:
        write_atomically(deck_file.path, data)
    return BuildReport(tuple(deck_file for deck_file, _ in outputs))


def check(source_dir: str) -> tuple[Source, list[NoteSpec]]:
    """Load and validate a source folder; return it and the notes it would make."""
    source = load_source(source_dir)
    return source, build_notes(source)
