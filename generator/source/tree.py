"""The located values a source file is read into: the seam between a file's format and its checks.

The loader validates a source on this small tree, never on a parser's own
objects, so a reader of another format (Markdown read directly, say) needs
only to produce the same tree to be checked by the same code, with the same
messages.  :mod:`generator.source.yamlread` makes it from YAML text;
:mod:`generator.source.treeread` reads it into plain values, recording a
located problem for each surprise.

Every value knows where it starts (1-based line and column), so a message can
point at it.  A scalar keeps its text as written and its :data:`ScalarKind`:
what the format itself reads that text as.  YAML 1.1 reads an unquoted ``no``
as a boolean and ``1.10`` as a number; the tree keeps the text and says so, and
the checks refuse it rather than convert it (a format with only text, as
Markdown, makes every scalar ``"text"``).  A mapping keeps every entry in the
order written, repeated keys and keys that are not text included: refusing
those, where they stand, is the checks' job, not the reader's.

The classes are frozen, with slots: a 50,000-note source is some 200,000 of
them, so one must cost no more than the parser's node it replaces.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypeAlias

ScalarKind = Literal["text", "bool", "int", "float", "timestamp", "null", "merge", "value", "other"]
"""What a format reads a scalar as: ``"text"``, or a kind of value deckgen refuses where it expects text.

``"null"`` is a value written as nothing (``key:``) or as YAML's ``null`` and
``~``; ``"merge"`` and ``"value"`` are YAML 1.1's ``<<`` and ``=``; ``"other"``
is any kind a format has that is none of these.
"""


@dataclass(frozen=True, slots=True)
class Scalar:
    """A single value: its text as written, where it starts, and what the format reads it as."""

    text: str
    line: int
    column: int
    kind: ScalarKind = "text"

    @property
    def is_nothing(self) -> bool:
        """True for a value left out (``key:`` with nothing after it), not one written as ``null``."""
        return self.kind == "null" and not self.text


@dataclass(frozen=True, slots=True)
class Sequence:
    """A list of values, and where it starts."""

    items: tuple[Node, ...]
    line: int
    column: int
    flow: bool = False
    """Written inline (``[a, b]``): a text that starts with '[' was most likely meant as text."""


@dataclass(frozen=True, slots=True)
class Mapping:
    """Keys and their values, in the order written (repeats included), and where the mapping starts."""

    entries: tuple[tuple[Node, Node], ...]
    line: int
    column: int
    flow: bool = False
    """Written inline (``{a: b}``): a text that starts with '{' was most likely meant as text."""


Node: TypeAlias = Scalar | Sequence | Mapping
"""Any value of the tree."""

NO_MAPPING = Mapping((), 0, 0)
"""An empty mapping standing for an optional one not given."""
