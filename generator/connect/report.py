"""``deckgen report``: which notes students found hard, named by the source line that states them.

Students export their decks from Anki *with scheduling information*; each
export is read with Anki's own code (:mod:`generator.connect.exports`), its
notes matched by GUID to the source (and, for notes the source no longer has,
to the lock), and the answers added up over students
(:mod:`generator.connect.figures`).  The report names no student unless asked.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from generator.cards.kinds import KINDS
from generator.cards.notes import NoteKey, NoteSpec, aspect_of
from generator.connect.figures import Group, groups
from generator.errors import DeckgenError, counted, printable
from generator.pipeline.config import default_lock_path
from generator.pipeline.lock.read import read_lock
from generator.pipeline.lock.write import note_lines
from generator.pipeline.pipeline import check
from generator.source.content import Source
from generator.source.guarded import Refused, regular_file

if TYPE_CHECKING:  # the anki package is imported only when a report is made (see _reader)
    from generator.connect.exports import CardRecord, StudentExport

MISSING_ANKI = (
    "deckgen report reads exports with Anki's own code, and the anki package is not installed: "
    "pip install 'deckgen-yaml[report]'"
)
NO_SCHEDULING = (
    "no review history in this export: in Anki, export the deck again with File > Export, "
    "'Anki Deck Package', 'Include scheduling information' ticked"
)
_BY_NOTE_TYPE = {kind.note_type_name: kind for kind in KINDS.values()}
"""The card kinds by their note types' names: a card whose note neither the source nor the lock knows."""


@dataclass(frozen=True)
class Place:
    """Where a note comes from: its file and line, item, part and topic."""

    file: str
    line: int
    item: str
    part: str
    topic: str
    in_source: bool = True
    kind: str = ""
    """The note's card kind (a name in :data:`generator.cards.kinds.KINDS`), if known."""

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.line else self.file


@dataclass(frozen=True)
class Row:
    """One note of the report: where it comes from and how it went."""

    place: Place
    figures: Group


@dataclass(frozen=True)
class Report:
    """Everything ``deckgen report`` shows, hardest first."""

    students: tuple[str, ...]
    """The students whose exports count: their file names with --names, else "student 1", ..."""
    skipped: tuple[str, ...]
    """A one-line message per export that could not count (no review history)."""
    rows: tuple[Row, ...]
    gone: tuple[Row, ...]
    """Notes students studied that the source no longer has."""
    topics: tuple[tuple[str, Group], ...]
    kinds: tuple[tuple[str, Group], ...]
    by_student: tuple[tuple[str, Group], ...]
    """Each student's overall figures (only with --names)."""
    source_notes: int


def make_report(exports: Sequence[str], source_dir: str, *, names: bool = False) -> Report:
    """Read every export in *exports* and add up its answers per note, topic and kind of card.

    An export that cannot count is named in :attr:`Report.skipped` and left
    out: one without review history, one refused unread for its size, and one
    holding none of the source's notes (another deck's export, which would
    otherwise count as a student who studied nothing).
    """
    read = _reader()
    exports = _distinct(exports)
    source, notes = check(source_dir)
    places = _places(source, notes, source_dir)
    studied: list[tuple[str, Sequence[CardRecord]]] = []
    skipped: list[str] = []
    foreign: list[str] = []
    for index, path in enumerate(exports, 1):
        label = _label(path, index, names)
        export = read(path)
        if isinstance(export, str):
            skipped.append(f"{label}: {export}")
        elif not export.studied:
            skipped.append(f"{label}: {NO_SCHEDULING}")
        elif not any(card.guid in places for card in export.cards):
            foreign.append(label)
        else:
            studied.append((label, export.cards))
    if not studied and not foreign:
        raise DeckgenError(_nothing_studied(skipped))
    if not studied:
        raise DeckgenError(_not_this_source(len(foreign), source_dir))
    skipped += [f"{label}: {_FOREIGN.format(notes=counted(len(notes), 'note'))}" for label in foreign]
    report = _report(studied, tuple(skipped), places, len(notes), names)
    if not report.rows:
        raise DeckgenError(_not_this_source(len(studied), source_dir))
    return report


_FOREIGN = "holds none of the source's {notes} (another deck's export?); not counted"


def _not_this_source(exports: int, source_dir: str) -> str:
    """The error when no export counted holds a note of the source."""
    return (
        f"none of the notes studied in {counted(exports, 'export')} comes from the source {source_dir}: "
        "is it the right --source?"
    )


def _distinct(exports: Sequence[str]) -> list[str]:
    """*exports*, each file once (a student given twice would count twice), all of them regular files.

    A pipe or a device would never end (Anki's reader waits on it).
    """
    seen: set[tuple[int, int]] = set()
    distinct = []
    for path in exports:
        info = regular_file(path)
        if isinstance(info, Refused):
            why = f"cannot be read: {info.detail}" if info.detail else _NOT_AN_EXPORT
            raise DeckgenError(f"{printable(path)}: {why}")
        if (info.st_dev, info.st_ino) not in seen:
            seen.add((info.st_dev, info.st_ino))
            distinct.append(path)
    return distinct


_NOT_AN_EXPORT = "not a regular file; give decks exported from Anki (.apkg, .colpkg)"


def _reader() -> Callable[[str], StudentExport | str]:
    """:func:`~generator.connect.exports.read_export`, giving why an export is refused unread as text.

    A clear error without the anki package.
    """
    try:
        from generator.connect.exports import RefusedExport, read_export
    except ImportError as error:
        if (error.name or "").split(".")[0] != "anki":
            raise
        raise DeckgenError(MISSING_ANKI) from None

    def read(path: str) -> StudentExport | str:
        try:
            return read_export(path)
        except RefusedExport as refused:
            return refused.reason

    return read


def _label(path: str, index: int, names: bool) -> str:
    """How the report calls the student of export number *index*: a name only with --names."""
    return os.path.splitext(os.path.basename(path))[0] if names else f"student {index}"


def _nothing_studied(skipped: Sequence[str]) -> str:
    """The error when no export has a review history."""
    if len(skipped) == 1:
        return skipped[0]
    return f"none of the {len(skipped)} exports has review history: {NO_SCHEDULING.split(': ', 1)[1]}"


def _places(source: Source, notes: Sequence[NoteSpec], source_dir: str) -> dict[str, Place]:
    """Where each GUID comes from: the source's notes, then the lock's notes the source no longer has."""
    topic_names = {topic.id: topic.name for topic in source.topics}
    places = {note.guid: _source_place(note, topic_names) for note in notes}
    lock_path = default_lock_path(source_dir)
    lines = _lock_lines(lock_path)
    for key, locked in read_lock(lock_path).notes.items():
        if locked.guid not in places:
            topic = topic_names.get(locked.topic, locked.topic)
            parsed = NoteKey.parse(key)
            places[locked.guid] = Place(
                lock_path, lines.get(key, 0), parsed.item, parsed.part, topic, False, locked.note_type
            )
    return places


def _source_place(note: NoteSpec, topic_names: dict[str, str]) -> Place:
    """A note of the source: its own line (a point's line, a key term's text)."""
    topic = topic_names.get(note.topic, note.topic)
    return Place(note.file, note.line, note.item_id, note.part, topic, kind=note.note_type)


def _lock_lines(path: str) -> dict[str, int]:
    """The line of each note key in the lock, to point at a removed note."""
    try:
        with open(path, encoding="utf-8") as file:
            return note_lines(file.read())
    except OSError:
        return {}


def _report(
    studied: Sequence[tuple[str, Sequence[CardRecord]]],
    skipped: tuple[str, ...],
    places: dict[str, Place],
    source_notes: int,
    names: bool,
) -> Report:
    """The report of the students in *studied*, every card mapped through *places*."""
    cards = [[card for card in student if _ours(card, places)] for _, student in studied]
    notes = groups(cards, lambda card: card.guid)
    rows = sorted((Row(_place(guid, places), group) for guid, group in notes.items()), key=_row_order)
    return Report(
        students=tuple(label for label, _ in studied),
        skipped=skipped,
        rows=tuple(row for row in rows if row.place.in_source),
        gone=tuple(row for row in rows if not row.place.in_source),
        topics=_hardest(groups(cards, lambda card: _place(card.guid, places).topic or None)),
        kinds=_hardest(groups(cards, lambda card: _kind(card, places))),
        by_student=_by_student([label for label, _ in studied], cards) if names else (),
        source_notes=source_notes,
    )


def _ours(card: CardRecord, places: dict[str, Place]) -> bool:
    """Whether a card is deckgen's: its note is in the source or lock, or has deckgen's note type."""
    return card.guid in places or card.note_type in _BY_NOTE_TYPE


def _place(guid: str, places: dict[str, Place]) -> Place:
    """Where the note *guid* comes from, or a place saying that neither the source nor the lock knows it."""
    return places.get(guid) or Place("(not in the source or its lock)", 0, f"guid {guid}", "", "", False)


def _row_order(row: Row) -> tuple[tuple[float, ...], str, int]:
    """Hardest first; equals by file and line."""
    return tuple(-value for value in row.figures.rank), row.place.file, row.place.line


def _kind(card: CardRecord, places: dict[str, Place]) -> str:
    """The kind of a card: which part a cloze hides, or which way a comparison asks."""
    place = places.get(card.guid)
    # By the kind the source or lock gives the note, not the note type's name (a student may have renamed it).
    kind = (KINDS.get(place.kind) if place else None) or _BY_NOTE_TYPE.get(card.note_type)
    if kind is None:
        return card.note_type
    return kind.report_group(aspect_of(place.part) if place else "", card.template)


def _hardest(found: dict[str, Group]) -> tuple[tuple[str, Group], ...]:
    """Named groups, hardest first."""
    return tuple(sorted(found.items(), key=lambda pair: tuple(-value for value in pair[1].rank)))


def _by_student(labels: Sequence[str], cards: Sequence[Sequence[CardRecord]]) -> tuple[tuple[str, Group], ...]:
    """Each student's figures over all their deckgen cards (a student who answered none is left out)."""
    overall = [groups([student], lambda card: "all").get("all") for student in cards]
    return tuple((label, group) for label, group in zip(labels, overall, strict=True) if group is not None)


# --- the terminal report --------------------------------------------------------


def report_lines(report: Report) -> Iterator[str]:
    """The report as lines: a summary, then a ``file:line: item: part: figures`` line per note, hardest first."""
    yield _summary(report)
    yield from (_row_line(row) for row in report.rows)
    if report.gone:
        yield f"No longer in the source ({counted(len(report.gone), 'note')} students studied):"
        yield from (_row_line(row) for row in report.gone)
    yield "By topic:"
    yield from (f"  {name}: {figures_text(group)}" for name, group in report.topics)
    yield "By kind of card:"
    yield from (f"  {name}: {figures_text(group)}" for name, group in report.kinds)
    if report.by_student:
        yield "By student:"
        yield from (f"  {name}: {figures_text(group)}" for name, group in report.by_student)


def _summary(report: Report) -> str:
    """The first line: how many students, notes and reviews, and how the figures read."""
    reviews = sum(row.figures.answers for row in report.rows + report.gone)
    return (
        f"{counted(len(report.students), 'student')}, {len(report.rows)} of {counted(report.source_notes, 'note')} "
        f"studied, {counted(reviews, 'review')}; hardest first "
        '("again": the median share of a student\'s answers that were Again [middle half of the students]):'
    )


def _row_line(row: Row) -> str:
    """One note: ``file:line: item: part: figures`` (and whether the source still has it)."""
    place = row.place
    gone = "" if place.in_source else "no longer in the source: "
    part = f"{place.part}: " if place.part else ""
    return f"{place}: {place.item}: {part}{gone}{figures_text(row.figures)}"


def figures_text(group: Group) -> str:
    """A group's figures in words: again share, students, reviews, lapses, difficulty or ease, leeches."""
    again = group.again
    middle = f" [{round(again.low * 100)}-{percent(again.high)}]" if again.students > 1 else ""
    parts = [f"again {percent(again.median)}{middle}", counted(again.students, "student")]
    parts += [counted(group.answers, "review"), counted(group.lapses, "lapse")]
    if group.difficulty is not None:
        parts.append(f"difficulty {percent(group.difficulty)}")
    if group.ease is not None:
        parts.append(f"ease {percent(group.ease)}")
    if group.leeches:
        parts.append(f"leech for {counted(group.leeches, 'student')}")
    return ", ".join(parts)


def percent(share: float) -> str:
    """A share as a whole percentage: ``0.426`` is ``43%``."""
    return f"{round(share * 100)}%"
