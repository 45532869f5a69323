"""``deckgen check``'s problems for machines: JSON for scripts, workflow commands for GitHub Actions.

The text format (``file:line: where: message``, see :class:`~generator.errors.Problem`)
is for people.  A course repository's CI wants the same problems where a
reviewer looks: GitHub Actions turns each ``::error file=…,line=…::message``
line a step prints into an annotation on that line of the pull request.
Errors come first, then warnings (card smells), each in the problems' own
order, so the output of the same source is the same bytes every time.  The
severity written is the one the run gives a problem, not the problem's own:
with ``--strict`` a card smell stops the check, so it is reported as an error.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Literal

from generator.errors import Problem, Severity

OutputFormat = Literal["text", "json", "github"]
OUTPUT_FORMATS: tuple[OutputFormat, ...] = ("text", "json", "github")


def _findings(errors: Sequence[Problem], warnings: Sequence[Problem]) -> Iterable[tuple[Severity, Problem]]:
    yield from (("error", problem) for problem in sorted(errors))
    yield from (("warning", problem) for problem in sorted(warnings))


def as_json(errors: Sequence[Problem], warnings: Sequence[Problem]) -> str:
    """A JSON list, one object per problem: file, line, column (null if unknown), severity, where, message."""
    objects = [
        {
            "file": problem.file,
            "line": problem.line,
            "column": problem.column or None,
            "severity": severity,
            "where": problem.where,
            "message": problem.message,
        }
        for severity, problem in _findings(errors, warnings)
    ]
    return json.dumps(objects, indent=2, ensure_ascii=False) + "\n"


def as_github(errors: Sequence[Problem], warnings: Sequence[Problem]) -> str:
    """One GitHub Actions workflow command per problem: ``::error file=F,line=L,col=C::where: message``."""
    return "".join(f"{_command(severity, problem)}\n" for severity, problem in _findings(errors, warnings))


def _command(severity: Severity, problem: Problem) -> str:
    properties = f"file={_property(problem.file)},line={problem.line}"
    if problem.column:
        properties += f",col={problem.column}"
    where = f"{problem.where}: " if problem.where else ""
    return f"::{severity} {properties}::{_data(where + problem.message)}"


def _data(text: str) -> str:
    """*text* escaped as a workflow command's message: a line break would end the command."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    """*text* escaped as a workflow command's property value, where ',' and ':' separate."""
    return _data(text).replace(":", "%3A").replace(",", "%2C")
