"""Reading a tree of located values (:mod:`generator.source.tree`) into plain values, every surprise a problem.

:class:`Reader` is what the loader's checks (and a recipe's) are written
with: each method returns ``None`` after recording a located problem when a
value is not what was asked for, so one pass collects every problem of a file.
It knows the tree, not the format it was read from: the reasons it gives for a
value that is not text speak of YAML because only the YAML reader makes such
values (a reader of plain text would make none).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from generator.errors import Problems
from generator.source.tree import Mapping, Node, Scalar, ScalarKind, Sequence

_KIND_REASONS: dict[ScalarKind, str] = {
    "bool": "YAML reads it as true/false (yes, no, on, off are booleans in YAML 1.1)",
    "int": "YAML reads it as a number",
    "float": "YAML reads it as a number (1.10 becomes 1.1)",
    "timestamp": "YAML reads it as a date",
    "null": "YAML reads it as nothing (null)",
    "merge": "'<<' merges mappings in YAML, which deckgen does not support",
    "value": "'=' has a special meaning in YAML 1.1",
}
"""Why a scalar of each kind is no text: its text would have been read as something else."""
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
"""Control characters, lone surrogates and a byte-order mark inside text: double-
quoted escapes such as "\\a" or "\\x1b" can write them, pasting can bring a BOM
along.  Tabs and line breaks are allowed."""


def without_refused(text: str) -> str:
    """*text* without the characters :meth:`Reader.text` refuses in text (the authoring commands write none)."""
    return _CONTROL.sub("", text)


def _describe(node: Node) -> str:
    if isinstance(node, Mapping):
        return "a mapping"
    if isinstance(node, Sequence):
        return "a list"
    if node.kind == "null":
        return "nothing"
    return f"{node.text!r}"


def _key_problem(node: Node) -> str:
    """Why *node* cannot be a key, and how to write it."""
    if not isinstance(node, Scalar):
        return f"a key must be text, found {_describe(node)}"
    if node.is_nothing:
        return "a key is missing before ':'"
    reason = _KIND_REASONS.get(node.kind, "it is not text")
    return f"a key must be text, found {node.text!r}: {reason}; put it in quotes"


class Reader:
    """Reads the tree of one file into plain values, recording problems.

    Every method returns ``None`` (after recording a problem) when the value is
    not what was asked for, so callers collect all problems in one pass.
    """

    def __init__(self, shown: str, problems: Problems) -> None:
        self.file = shown
        self.problems = problems

    def problem(self, node: Node | int, where: str, message: str) -> None:
        """Record a problem at *node* (with its column) or at a line number."""
        if isinstance(node, int):
            self.problems.add(self.file, node, where, message)
        else:  # an editor and a pull request's annotation can point at the value itself
            self.problems.add(self.file, node.line, where, message, node.column)

    def pairs(self, node: Node, where: str) -> list[tuple[str, Scalar, Node]] | None:
        """A mapping as ordered (key, key node, value node) triples; keys must be unique text."""
        if not isinstance(node, Mapping):
            self.problem(node, where, f"expected a mapping of keys to values, found {_describe(node)}")
            return None
        result: list[tuple[str, Scalar, Node]] = []
        first_line: dict[str, int] = {}
        for key_node, value_node in node.entries:
            if self.new_key(key_node, where, first_line):
                assert isinstance(key_node, Scalar)  # new_key refuses any other
                result.append((key_node.text, key_node, value_node))
        return result

    def new_key(self, key_node: Node, where: str, first_line: dict[str, int]) -> bool:
        """True if *key_node* is text not yet in *first_line* (the line of each key so far), now added."""
        if not isinstance(key_node, Scalar) or key_node.kind != "text":
            self.problem(key_node, where, _key_problem(key_node))
            return False
        key = key_node.text
        if key in first_line:
            self.problem(key_node, where, f"duplicate key {key!r} (first given on line {first_line[key]})")
            return False
        first_line[key] = key_node.line
        return True

    def mapping(
        self,
        node: Node,
        where: str,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
    ) -> dict[str, Node] | None:
        """A mapping with a fixed set of keys: unknown and missing keys are problems."""
        pairs = self.pairs(node, where)
        if pairs is None:
            return None
        allowed = required + optional
        found: dict[str, Node] = {}
        for key, key_node, value_node in pairs:
            if key not in allowed:
                self.problem(
                    key_node, where, f"unknown key {key!r} (expected one of: {', '.join(allowed)})"
                )
            else:
                found[key] = value_node
        for key in required:
            if key not in found:
                self.problem(node, where, f"missing required key {key!r}")
        return found

    def text(self, node: Node, where: str) -> str | None:
        """Non-empty text.  Numbers, booleans, dates and nulls are refused, not converted."""
        value = node.text.strip() if isinstance(node, Scalar) else ""
        problem = _not_text(node) or _bad_text(value)
        if problem is not None:
            self.problem(node, where, problem)
            return None
        return value

    def sequence(self, node: Node, where: str) -> tuple[Node, ...] | None:
        """A non-empty list."""
        if not isinstance(node, Sequence):
            self.problem(node, where, f"expected a list, found {_describe(node)}")
            return None
        if not node.items:
            self.problem(node, where, "is an empty list")
            return None
        return node.items

    def text_list(self, node: Node, where: str) -> Iterator[tuple[Node, str]]:
        """Each item of a list of text, with its node."""
        for index, item in enumerate(self.sequence(node, where) or ()):
            value = self.text(item, f"{where}[{index}]")
            if value is not None:
                yield item, value


def _not_text(node: Node) -> str | None:
    """Why *node* is no text (and how to write it as text), or None for a text scalar."""
    if not isinstance(node, Scalar):
        found = f"expected text, found {_describe(node)}"
        if node.flow:  # 'title: {{x}}' or 'title: [x] y'
            opener = "{" if isinstance(node, Mapping) else "["
            found += f"; text that starts with {opener!r} must be in quotes"
        return found
    if node.is_nothing:
        return "is empty; expected text"
    if node.kind != "text":
        reason = _KIND_REASONS.get(node.kind, "it is not text")
        if node.kind == "int" and ":" in node.text:
            reason = "YAML 1.1 reads it as a number in base 60 (3:30 becomes 210)"
        return f"expected text, found {node.text!r}: {reason}; put it in quotes"
    return None


def _bad_text(value: str) -> str | None:
    """Why the stripped text *value* cannot be used, or None."""
    if not value:
        return "is empty; expected text"
    control = _CONTROL.search(value)
    if control is None:
        return None
    code = ord(control.group())
    kind = "a stray byte-order mark" if code == 0xFEFF else "the control character"
    return f"contains {kind} U+{code:04X}; remove it"
