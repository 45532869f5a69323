"""The one error type that library code raises for bad content.

A :class:`ContentError` carries every problem found in one pass, so the CLI can
print them all at once (as MkDocs does for its config) instead of making the
author fix one line, rerun, and meet the next.
"""

from __future__ import annotations

from dataclasses import dataclass


def printable(text: str) -> str:
    """*text* safe to print on one terminal line: control, bidi and other invisible characters escaped.

    A file name with a line break must not split a problem in two, and a
    right-to-left override must not reorder what the author reads.
    """
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with the input, located as precisely as we can."""

    file: str
    line: int
    where: str
    message: str

    def __str__(self) -> str:
        where = f"{self.where}: " if self.where else ""
        return printable(f"{self.file}:{self.line}: {where}{self.message}")


@dataclass(frozen=True)
class Location:
    """Where something was declared, for problems found later (e.g. a recipe's deck)."""

    file: str
    line: int
    where: str

    def problem(self, message: str) -> Problem:
        """A problem located here."""
        return Problem(self.file, self.line, self.where, message)


class DeckgenError(Exception):
    """An error the user can fix; the CLI prints its message, never a traceback."""


class ContentError(DeckgenError):
    """Raised when sources (or a recipe) are invalid; holds every problem."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(set(problems), key=_problem_order)
        super().__init__("\n".join(str(p) for p in self.problems))


def _problem_order(problem: Problem) -> tuple[str, int, str, str]:
    return (problem.file, problem.line, problem.where, problem.message)


class Problems:
    """Collects problems while validating; raises them all at the end."""

    def __init__(self) -> None:
        self.items: list[Problem] = []

    def add(self, file: str, line: int, where: str, message: str) -> None:
        self.items.append(Problem(file, line, where, message))

    def extend(self, problems: list[Problem]) -> None:
        self.items.extend(problems)

    def raise_if_any(self) -> None:
        if self.items:
            raise ContentError(self.items)

    def __bool__(self) -> bool:
        return bool(self.items)
