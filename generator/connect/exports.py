"""Students' exported decks, read through Anki's own code (the ``anki`` package).

Each export is imported into a fresh, temporary collection, exactly as a
student's desktop Anki would import it, and read back with Anki's API: cards,
notes, and each card's review log.  Nothing here opens the SQLite inside a
package, and nothing is kept or sent anywhere: the collection is deleted when
the export has been read.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from anki._backend import RustBackend
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.consts import CARD_TYPE_RELEARNING, CARD_TYPE_REV
from anki.errors import BackendError

from generator.errors import DeckgenError

if TYPE_CHECKING:  # anki.cards cannot be imported before anki.collection (a cycle in anki)
    from anki.cards import Card

AGAIN = 1
"""The answer button "Again" in a review log entry (0 marks a manual reschedule, not an answer)."""
LEECH_TAG = "leech"
"""The tag Anki gives a note whose card lapsed too often."""


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
    with tempfile.TemporaryDirectory(prefix="deckgen-report-") as folder:
        try:
            col = _open(os.path.abspath(path), folder)
        except BackendError as error:
            raise DeckgenError(f"{path}: Anki cannot read this file as a deck package: {error}") from None
        try:
            return StudentExport(path, tuple(_records(col)))
        finally:
            col.close()


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
