"""Students' exported decks, read through Anki's own code (the ``anki`` package).

Each export is imported into a fresh, temporary collection, exactly as a
student's desktop Anki would import it, and read back with Anki's API: cards,
notes, and each card's review log.  Nothing here opens the SQLite inside a
package, and nothing is kept or sent anywhere: the collection is deleted when
the export has been read.

An export is a file a student sends, so it is untrusted.  Anki's importer
unpacks the collection inside it to a temporary file before it reads a byte
of it: a 2 MB zip of zeros becomes 2 GB on disk.  So the zip's central
directory is read first (:func:`check_archive`) and an export that would
unpack beyond :data:`MAX_UNCOMPRESSED`, or at a ratio beyond
:data:`MAX_RATIO`, is refused unread; what the directory cannot show (a
collection zstd-packed inside the zip) meets a file size limit while Anki
unpacks (:func:`_file_size_limit`).  And the importer's temporary files
(Rust's, which follow ``TMPDIR``) go into the export's own private folder,
removed with it on any exit, Ctrl-C included.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anki._backend import RustBackend
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.consts import CARD_TYPE_RELEARNING, CARD_TYPE_REV
from anki.errors import BackendError

from generator.errors import DeckgenError, printable

if TYPE_CHECKING:  # anki.cards cannot be imported before anki.collection (a cycle in anki)
    from anki.cards import Card

AGAIN = 1
"""The answer button "Again" in a review log entry (0 marks a manual reschedule, not an answer)."""
LEECH_TAG = "leech"
"""The tag Anki gives a note whose card lapsed too often."""
MAX_UNCOMPRESSED = 1 << 30
"""Bytes an export may unpack to (1 GiB).  AnkiWeb refuses to sync a collection over 250 MB, so a student's
export, even a whole collection, stays well under it; a larger one is made to fill the disk."""
MAX_RATIO = 100
"""How many times its compressed size an export may unpack to.  A collection deflates about 3 to 10 times and
zstd-packed or media entries not at all; a run of zeros reaches 1,000.  Checked above :data:`RATIO_FLOOR`."""
RATIO_FLOOR = 16 << 20
"""Below 16 MiB unpacked any ratio is harmless (a tiny empty collection compresses very well)."""


NOT_A_PACKAGE = "Anki cannot read this file as a deck package"


class RefusedExport(DeckgenError):
    """An export not read at all (its size): the report names it and counts the others."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{printable(path)}: {reason}")
        self.reason = reason


@dataclass(frozen=True, slots=True)
class CardRecord:
    """One card of one student's collection: how it went."""

    guid: str
    note_type: str
    template: str
    answers: int
    agains: int
    lapses: int
    difficulty: float | None
    """FSRS difficulty from 0 (easiest) to 1 (hardest), when the student uses FSRS."""
    ease: float | None
    """The SM-2 ease factor (2.5 is Anki's start) of a card in review, without FSRS."""
    leech: bool


@dataclass(frozen=True)
class StudentExport:
    """Everything read from one export file."""

    path: str
    cards: tuple[CardRecord, ...]

    @property
    def studied(self) -> bool:
        """Whether the export carries any answer (an export without scheduling has none)."""
        return any(card.answers for card in self.cards)


def read_export(path: str) -> StudentExport:
    """Import *path* (``.apkg`` or ``.colpkg``) into a temporary collection and read every card."""
    check_archive(path)
    # TemporaryDirectory removes the folder on any exit, KeyboardInterrupt included (not on SIGKILL).
    with tempfile.TemporaryDirectory(prefix="deckgen-report-") as folder, _temporary_files_in(folder):
        try:
            with _file_size_limit(MAX_UNCOMPRESSED):
                col = _open(os.path.abspath(path), folder)
        except BackendError as error:
            if os.strerror(errno.EFBIG) in str(error):  # the file size limit stopped Anki's unpacking
                beyond = f"unpacks to more than {_size(MAX_UNCOMPRESSED)} (a zip bomb?); not read"
                raise RefusedExport(path, beyond) from None
            raise DeckgenError(f"{path}: {NOT_A_PACKAGE}: {error}") from None
        try:
            return StudentExport(path, tuple(_records(col)))
        finally:
            col.close()


def check_archive(path: str) -> None:
    """Refuse an export whose zip directory says it unpacks too large, before Anki unpacks anything."""
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):  # ValueError: a zip64 field out of range
        raise DeckgenError(f"{printable(path)}: {NOT_A_PACKAGE}: not a zip archive") from None
    size = sum(entry.file_size for entry in entries)
    packed = max(1, sum(entry.compress_size for entry in entries))
    if size > MAX_UNCOMPRESSED:
        limit = f"more than the {_size(MAX_UNCOMPRESSED)} a student's export can hold"
        raise RefusedExport(path, f"unpacks to {_size(size)}, {limit} (a zip bomb?); not read")
    if size > RATIO_FLOOR and size > MAX_RATIO * packed:
        limit = f"{size // packed} times its size where a deck package is at most {MAX_RATIO}"
        raise RefusedExport(path, f"unpacks to {_size(size)} from {_size(packed)}, {limit} (a zip bomb?); not read")


def _size(size: int) -> str:
    """A byte count for a message: ``2.0 GiB``, ``1.9 MiB``."""
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


@contextlib.contextmanager
def _file_size_limit(limit: int) -> Iterator[None]:
    """No file written while the block runs may grow beyond *limit* bytes (the write fails with EFBIG).

    The backstop for what the zip's directory cannot show: a collection packed
    with zstd inside the zip (a 64 KB export unpacks to 2 GiB), or a directory
    that lies about sizes.  POSIX only (elsewhere, no limit); Python ignores
    SIGXFSZ, so a write beyond the limit fails instead of killing the process.
    """
    try:
        import resource
    except ImportError:  # Windows
        yield
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    if soft != resource.RLIM_INFINITY and soft <= limit:  # already as tight
        yield
        return
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))


@contextlib.contextmanager
def _temporary_files_in(folder: str) -> Iterator[None]:
    """Anki's temporary files (Rust reads TMPDIR at each one) and Python's in *folder* while the block runs."""
    before, before_python = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"] = tempfile.tempdir = folder
    try:
        yield
    finally:
        tempfile.tempdir = before_python
        if before is None:
            del os.environ["TMPDIR"]
        else:
            os.environ["TMPDIR"] = before


def _open(path: str, folder: str) -> Collection:
    """A collection in *folder* holding the export at *path*."""
    target = os.path.join(folder, "collection.anki2")
    if path.lower().endswith(".colpkg"):
        return _open_collection_package(path, target)
    col = Collection(target)
    try:
        col.import_anki_package(ImportAnkiPackageRequest(package_path=path, options=_IMPORT_OPTIONS))
    except BaseException:
        col.close()
        raise
    return col


_IMPORT_OPTIONS = ImportAnkiPackageOptions(merge_notetypes=True, with_scheduling=True, with_deck_configs=True)
"""As desktop Anki's importer with scheduling kept (what a teacher's own Anki would do)."""


def _open_collection_package(path: str, target: str) -> Collection:
    """Restore a whole-collection backup (``.colpkg``) to *target*, as Anki's "Import" of one does."""
    backend = RustBackend()
    media = os.path.join(os.path.dirname(target), "collection.media")
    backend.import_collection_package(
        col_path=target, backup_path=path, media_folder=media, media_db=media + ".db2"
    )
    return Collection(target, backend=backend)


def _records(col: Collection) -> Iterator[CardRecord]:
    """Every card of *col*, with its answers counted from Anki's review log."""
    for card_id in col.find_cards(""):
        card = col.get_card(card_id)
        note = card.note()
        note_type = note.note_type()
        answers = [entry.button_chosen for entry in col.get_review_logs(card_id) if entry.button_chosen]
        yield CardRecord(
            guid=note.guid,
            note_type=str(note_type["name"]) if note_type else "",
            template=str(card.template()["name"]),
            answers=len(answers),
            agains=answers.count(AGAIN),
            lapses=card.lapses,
            difficulty=_difficulty(card),
            ease=_ease(card),
            leech=note.has_tag(LEECH_TAG),
        )


def _ease(card: Card) -> float | None:
    """The SM-2 ease of a card in review (2.5 is 250%), or None: new, learning, or scheduled by FSRS."""
    if card.memory_state is not None or card.type not in (CARD_TYPE_REV, CARD_TYPE_RELEARNING):
        return None
    return card.factor / 1000 or None


def _difficulty(card: Card) -> float | None:
    """FSRS difficulty on Anki's displayed scale (1..10 mapped to 0..1), or None without FSRS."""
    if card.memory_state is None:
        return None
    return (card.memory_state.difficulty - 1) / 9
