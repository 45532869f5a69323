"""What a build is asked for, as one value: the shape of MkDocs' ``build(config, *, …)``.

The CLI turns its options into a :class:`BuildConfig` once, and ``build`` and
``plan`` read that and nothing else; a new choice is a field here, not a
parameter threaded through every call between the CLI and the writer.  It
imports no build machinery, so making one costs nothing.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import KW_ONLY, dataclass
from typing import TYPE_CHECKING

from generator.errors import DeckgenError
from generator.pipeline.formats import FORMATS, Format
from generator.pipeline.lock.model import LOCK_NAME

if TYPE_CHECKING:
    from generator.cards.selection import DeckRequest
    from generator.source.content import Source

RequestMaker = Callable[["Source"], Sequence["DeckRequest"]]
"""Given the loaded source, the packages to build (None: one per topic, complete)."""
Progress = Callable[[int, int], None]
"""Told the notes done and their total as a build goes: the CLI's progress bar."""


@dataclass(frozen=True)
class BuildConfig:
    """Where a build reads and writes, and the choices it is asked for.

    A plan reads the folders, the lock, the time, the requests, ``strict`` and
    ``jobs``; it writes nothing, so the format, ``release`` and ``write_lock``
    change nothing of it.
    """

    source_dir: str
    out_dir: str
    _: KW_ONLY
    lock_path: str | None = None
    """The lock to read and update; None: ``deckgen.lock`` beside the sources."""
    timestamp: int | None = None
    """The build's time; None: ``SOURCE_DATE_EPOCH`` when set, else now."""
    requests: RequestMaker | None = None
    """Custom decks instead of one package per topic (see :func:`generator.pipeline.pipeline.custom_decks`)."""
    file_format: Format = Format.APKG
    """Anki packages, or Anki's CSV text files (which carry no times, so the lock is left alone)."""
    strict: bool = False
    """A card smell is an error."""
    jobs: int | None = None
    """Worker processes; None: the machine's cores, where it pays."""
    release: bool = False
    """The notes built are marked released: only those leave a tombstone when they go."""
    write_lock: bool = True
    """False leaves the lock untouched (``watch``: a look at the decks is no build anyone ships)."""

    def __post_init__(self) -> None:
        if self.file_format not in FORMATS:
            raise DeckgenError(f"unknown format {self.file_format!r} (known: {', '.join(FORMATS)})")
        object.__setattr__(self, "file_format", Format(self.file_format))  # "csv" from a script is Format.CSV

    @property
    def lock(self) -> str:
        """The lock's path: :attr:`lock_path`, or the lock beside the sources."""
        return self.lock_path or default_lock_path(self.source_dir)


def default_lock_path(source_dir: str) -> str:
    """Where the lock of a source folder lives: beside its sources."""
    return os.path.join(source_dir, LOCK_NAME)
