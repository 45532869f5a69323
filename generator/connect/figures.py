"""Figures over students: how often a group of cards was answered "Again", and how spread that is.

A *group* is whatever the report looks at: one note, one topic, one kind of
card.  Each student contributes the share of their answers in the group that
were "Again"; the group's figure is the median of those shares, with the
middle half of the students (first to third quartile) as its spread, so one
student who struggled with everything does not make every card look hard.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from generator.connect.exports import CardRecord


@dataclass(frozen=True)
class Spread:
    """A median over students and the middle half around it."""

    students: int
    median: float
    low: float
    high: float


def spread(values: Sequence[float]) -> Spread:
    """The median of *values* and their first and third quartiles (the value itself for one)."""
    if len(values) == 1:
        return Spread(1, values[0], values[0], values[0])
    low, median, high = statistics.quantiles(values, n=4, method="inclusive")
    return Spread(len(values), median, low, high)


@dataclass(frozen=True)
class Group:
    """What the students' answers on one group of cards add up to."""

    again: Spread
    answers: int
    agains: int
    lapses: int
    difficulty: float | None
    """The median FSRS difficulty (0..1) of the group's cards, over students who use FSRS."""
    ease: float | None
    """The median SM-2 ease of the group's cards in review, over students who don't."""
    leeches: int
    """Students for whom Anki tagged a note of the group a leech."""

    @property
    def rank(self) -> tuple[float, float, float, float]:
        """Sorts the hardest first (descending): the median "Again" share, then lapses, then difficulty."""
        return (self.again.median, self.lapses / self.again.students, self.agains / self.answers, self.difficulty or 0)


Key = Callable[[CardRecord], str | None]
"""Which group a card belongs to (None: to none)."""


def groups(students: Iterable[Sequence[CardRecord]], key: Key) -> dict[str, Group]:
    """The figures of every group of *key*, over the students who answered one of its cards."""
    per_group: defaultdict[str, list[list[CardRecord]]] = defaultdict(list)
    for cards in students:
        for name, studied in _by_key(cards, key).items():
            per_group[name].append(studied)
    return {name: _group(per_student) for name, per_student in per_group.items()}


def _by_key(cards: Iterable[CardRecord], key: Key) -> dict[str, list[CardRecord]]:
    """One student's answered cards, by group."""
    found: defaultdict[str, list[CardRecord]] = defaultdict(list)
    for card in cards:
        name = key(card) if card.answers else None
        if name is not None:
            found[name].append(card)
    return found


def _group(per_student: Sequence[Sequence[CardRecord]]) -> Group:
    """One group's figures from each student's answered cards in it."""
    cards = [card for student in per_student for card in student]
    return Group(
        again=spread([_share(student) for student in per_student]),
        answers=sum(card.answers for card in cards),
        agains=sum(card.agains for card in cards),
        lapses=sum(card.lapses for card in cards),
        difficulty=_median(card.difficulty for card in cards),
        ease=_median(card.ease for card in cards),
        leeches=sum(any(card.leech for card in student) for student in per_student),
    )


def _share(cards: Sequence[CardRecord]) -> float:
    """The share of a student's answers on *cards* that were "Again"."""
    return sum(card.agains for card in cards) / sum(card.answers for card in cards)


def _median(values: Iterable[float | None]) -> float | None:
    """The median of the values that are not None (None if there is none)."""
    present = [value for value in values if value is not None]
    return statistics.median(present) if present else None
