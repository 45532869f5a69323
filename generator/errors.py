"""The one error type that library code raises for bad content.

A :class:`ContentError` carries every problem found in one pass, so the CLI can
print them all at once (as MkDocs does for its config) instead of making the
author fix one line, rerun, and meet the next.  The wording helpers every
layer's messages share (:func:`printable`, :func:`counted`) live here too, in the lowest layer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from operator import attrgetter
from typing import Literal

Severity = Literal["error", "warning"]
"""An error stops a build; a warning (a card smell) is printed, and stops only a ``--strict`` build."""


def printable(text: str) -> str:
    """*text* safe to print on one terminal line: control, bidi and other invisible characters escaped.

    A file name with a line break must not split a problem in two, and a
    right-to-left override must not reorder what the author reads.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def counted(number: int, noun: str) -> str:
    """*number* and *noun*, plural unless it is one: ``counted(3, "card")`` is ``"3 cards"``."""
    return f"{number} {noun}{'' if number == 1 else 's'}"


# Sorted by file, line, where, message: keep that field order.  Slots: a large source may hold a hundred thousand.
@dataclass(frozen=True, order=True, slots=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    file: str
    line: int
    where: str
    message: str
    severity: Severity = "error"
    column: int = field(default=0, kw_only=True)
    """1-based, where the YAML node is known (0: unknown); text output leaves it out, `check --format` gives it."""

    def in_file(self, file: str) -> Problem:
        """The same problem, in *file* (the same bytes read from a copied or moved source folder).

        Made by the constructor, not dataclasses.replace(): a large source has a hundred thousand smells.
        """
        return Problem(file, self.line, self.where, self.message, self.severity, column=self.column)

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        kind = "warning: " if self.severity == "warning" else ""
        return printable(f"{self.file}:{self.line}: {where}{kind}{self.message}")


PROBLEM_ORDER = attrgetter("file", "line", "where", "message", "severity", "column")
"""Problem's own order as a sort key (a tuple, compared in C): a large source has a hundred thousand smells,
and the dataclass's ``__lt__`` costs a Python call per comparison."""


@dataclass(frozen=True)
class Location:
    """Where something was declared, for problems found later (e.g. a recipe's deck)."""

    file: str
    line: int
    where: str

    def problem(self, message: str, severity: Severity = "error") -> Problem:
        """A problem located here."""
        return Problem(self.file, self.line, self.where, message, severity)


class DeckgenError(Exception):
    """An error the user can fix; the CLI prints its message, never a traceback."""


class ContentError(DeckgenError):
    """Raised when sources (or a recipe) are invalid; holds every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems))  # Problem's own order: file, line, where, message
        super().__init__("\n".join(str(p) for p in self.problems))


class Problems:
    """Collects problems while validating; raises them all at the end."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, line: int, where: str, message: str, column: int = 0) -> None:
        """Record one problem (*column*: 1-based, 0 if unknown)."""
        self.items.append(Problem(file, line, where, message, column=column))

    def raise_if_any(self) -> None:
        """Raise every recorded problem as one :class:`ContentError`, if there is any."""
        if self.items:
            raise ContentError(self.items)
