"""The one error type that library code raises for bad content.

A :class:`ContentError` carries every problem found in one pass, so the CLI can
print them all at once (as MkDocs does for its config) instead of making the
author fix one line, rerun, and meet the next.  The wording helpers every
layer's messages share (:func:`printable`, :func:`counted`) live here too, in the lowest layer.
"""

from __future__ import annotations

import itertools
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Literal

Severity = Literal["error", "warning", "note"]
"""An error stops a build; a warning (a card smell) is printed, and stops only a ``--strict`` build; a note
tells what a re-import will do that the author may not expect, and stops nothing."""


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
        kind = _SAID_AS.get(self.severity, "")
        return printable(f"{self.file}:{self.line}: {where}{kind}{self.message}")


_WARNING = "warning: "
"""Before a warning's message in the line it prints."""
_SAID_AS: dict[str, str] = {"warning": _WARNING, "note": "note: "}
"""Before a message in the line it prints, by severity (an error's stands alone)."""

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


@dataclass(frozen=True, slots=True, eq=False)
class FileWarnings:
    """One file's warnings, compact: the file named once, each warning as the line it prints after the name.

    A smelly source has a hundred thousand warnings, which a rebuild reads
    from the build cache and prints as the last build left them: printed from
    this form, no :class:`Problem` is made of each, and a moved source folder
    renames the file once.  A line is ``{line}: {where}: warning: {message}``,
    which reads back as the warning it prints; where one of the file's
    warnings would not read back so (no *where*, an error, a column, an
    invisible character), each line is the JSON of :func:`_row` instead.
    """

    file: str
    body: str | bytes
    """Its :attr:`text`, or that text packed (:meth:`packed`)."""

    @property
    def text(self) -> str:
        """Its lines, in :class:`Problem`'s order, joined by newlines (a line holds none)."""
        body = self.body
        if isinstance(body, str):
            return body
        try:
            text = zlib.decompress(body).decode("utf-8")
        except (zlib.error, UnicodeDecodeError):
            text = ""
        if not text:  # a file's warnings are never none: the cache holding them was damaged past its CRC-32
            raise _unreadable(self.file)
        return text

    def packed(self) -> FileWarnings:
        """The same warnings, their text held compressed until read.

        A build holds every topic's warnings until it prints them: a smelly
        50,000-note source's are 22 MB of text, and about a fifteenth of that
        packed (a warning repeats its smell's wording, card after card).
        """
        return self if isinstance(self.body, bytes) else FileWarnings(self.file, self.packed_bytes())

    def packed_bytes(self) -> bytes:
        """Its text packed: zlib's, at its fastest level (warnings are written once, and most are never read again)."""
        body = self.body
        return body if isinstance(body, bytes) else zlib.compress(body.encode("utf-8"), 1)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FileWarnings):
            return NotImplemented
        return self.file == other.file and self.text == other.text

    def __hash__(self) -> int:
        return hash((self.file, self.text))

    def problems(self) -> list[Problem]:
        """Its warnings, each a :class:`Problem` again."""
        return _problems(self.file, self.text)

    def lines(self) -> list[str]:
        """Its warnings as they print, each ``str(problem)``: the file's name put before each line as it is."""
        return _printed_lines(self.file, self.text)

    def printed(self) -> str:
        """Its :meth:`lines` joined by newlines: one string, however many thousand lines, made without a step a line."""
        text = self.text
        if _rows(text) or not _printable(text):
            return "\n".join(_printed_lines(self.file, text))
        return _prefixed(self.file, text)

    def __len__(self) -> int:
        return self.text.count("\n") + 1

    def names(self, text: str) -> bool:
        """True if a warning's message may name *text* (another file): a place reading so counts too."""
        own = self.text
        return text in own or (_rows(own) and any(text in p.message for p in self.problems()))

    def in_file(self, file: str) -> FileWarnings:
        """The same warnings, in *file* (the same bytes read from a copied or moved source folder)."""
        return FileWarnings(file, self.body)


def _problems(file: str, text: str) -> list[Problem]:
    """The warnings of *file* whose :attr:`FileWarnings.text` is *text*, each a :class:`Problem` again."""
    try:
        return [_problem(file, line) for line in text.split("\n")]
    except (ValueError, TypeError):  # not as this code writes them: a cache edited by hand, CRC-32 and all
        raise _unreadable(file) from None


def _unreadable(file: str) -> DeckgenError:
    """What to say of *file*'s kept warnings that do not read: the one fix is a build without that cache."""
    return DeckgenError(
        f"{printable(file)}: its warnings, as the last build kept them, do not read: delete the build "
        "cache (.deckgen-cache.json in the out folder) and build again"
    )


def _rows(text: str) -> bool:
    """True if a file's warnings' *text* is of JSON rows: a line that reads back as its warning starts with a number."""
    return text.startswith("[")


def _printed_lines(file: str, text: str) -> list[str]:
    """The warnings of *file* whose :attr:`FileWarnings.text` is *text*, as they print."""
    if _rows(text):
        return [str(problem) for problem in _problems(file, text)]
    if not _printable(text):  # not as this code wrote it: printed as a problem prints
        return [printable(f"{file}:{line}") for line in text.split("\n")]
    return _prefixed(file, text).split("\n")


def _prefixed(file: str, text: str) -> str:
    """*text*, lines that read back as their warnings, each after *file*'s name: as they print, in one string."""
    prefix = f"{printable(file)}:"
    return prefix + text.replace("\n", "\n" + prefix)


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


def _printable(text: str) -> bool:
    """True if *text*'s lines are all :func:`printable` as they are (a cache another hand wrote may hold anything)."""
    if text.isascii():  # the usual case, and a known flag of the string: checked in C, a byte at a time
        return not text.encode("ascii").translate(None, _PRINTABLE_ASCII)
    return text.replace("\n", " ").isprintable()


def file_warnings(problems: Iterable[Problem]) -> tuple[FileWarnings, ...]:
    """*problems* by file, in :class:`Problem`'s order, each file's as one :class:`FileWarnings`."""
    by_file: dict[str, list[Problem]] = {}
    for problem in sorted(problems, key=PROBLEM_ORDER):
        by_file.setdefault(problem.file, []).append(problem)
    return tuple(FileWarnings(file, _text(found)) for file, found in sorted(by_file.items()))


def _text(problems: list[Problem]) -> str:
    """One file's *problems* as :attr:`FileWarnings.text`: the lines they print after the file, if all read back."""
    lines = []
    for problem in problems:
        line = _line(problem)
        if line is None:
            return "\n".join(_row(problem) for problem in problems)
        lines.append(line)
    return "\n".join(lines)


def _line(problem: Problem) -> str | None:
    """What *problem* prints after its file, if that reads back as it (else None)."""
    where, message = problem.where, problem.message
    if problem.severity == "warning" and not problem.column and type(problem.line) is int and where and (
        ": " not in where and (where + message).isprintable()  # one line, split where it was joined
    ):
        return f"{problem.line}: {where}: {_WARNING}{message}"
    return None


def _row(problem: Problem) -> str:
    """*problem* but its file as JSON, for a warning whose printed line would not read back as it."""
    import json  # rare: a build of the usual warnings never needs it here

    row = [problem.line, problem.where, problem.message, problem.severity, problem.column]
    return json.dumps(row, separators=(",", ":"), ensure_ascii=False)  # a line break is escaped: one line


def _problem(file: str, line: str) -> Problem:
    """The warning of *file* that :func:`_line` wrote as *line*; raises ValueError, TypeError on another shape."""
    if line.startswith("["):
        import json

        number, where, message, severity, column = _fields(json.loads(line))
        return Problem(file, number, where, message, severity, column=column)
    number_text, where, said = line.split(": ", 2)
    if not said.startswith(_WARNING):
        raise ValueError(f"not a warning's line: {line!r}")
    return Problem(file, int(number_text), where, said[len(_WARNING) :], "warning")


def _fields(row: Any) -> tuple[int, str, str, Severity, int]:
    number, where, message, severity, column = row
    if severity not in ("error", "warning"):
        raise ValueError(f"unknown severity {severity!r}")
    if not (type(number) is int and type(where) is str and type(message) is str and type(column) is int):
        raise TypeError(f"not a warning's row: {row!r}")
    return number, where, message, severity, column


@dataclass(frozen=True)
class Warnings:
    """A build's warnings, one :class:`FileWarnings` per file, in :class:`Problem`'s order.

    Iterating gives them as problems; :meth:`lines` as they print, without a problem made of each.
    """

    files: tuple[FileWarnings, ...] = ()

    @classmethod
    def of(cls, parts: Iterable[FileWarnings]) -> Warnings:
        """The warnings of *parts*; a file's several parts (rare: they are a topic's) are merged in order."""
        by_file: dict[str, list[FileWarnings]] = {}
        for part in parts:
            by_file.setdefault(part.file, []).append(part)
        merged = (
            same[0] if len(same) == 1 else file_warnings(p for part in same for p in part.problems())[0]
            for same in by_file.values()
        )
        return cls(tuple(sorted(merged, key=attrgetter("file"))))

    def __iter__(self) -> Iterator[Problem]:
        for part in self.files:
            yield from part.problems()

    def __len__(self) -> int:
        return sum(len(part) for part in self.files)

    def __bool__(self) -> bool:
        return bool(self.files)  # a file's part holds one warning at least: none unpacked to say so

    def lines(self) -> Iterator[str]:
        """Each warning as it prints (``str(problem)``), in order."""
        return itertools.chain.from_iterable(part.lines() for part in self.files)  # no Python step a line

    def printed(self) -> Iterator[str]:
        """Each file's warnings as they print (:meth:`FileWarnings.printed`), in order."""
        return (part.printed() for part in self.files)


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
