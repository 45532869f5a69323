"""Strict, line-aware YAML reading.

PyYAML's loaders answer questions we do not want answered silently: a second
``title:`` replaces the first, ``no`` becomes ``False``, ``1.10`` becomes
``1.1``, ``&a``/``*a`` can expand into a billion strings and ``!!python/...``
tags build objects.  So we stop at the *node* graph (``yaml.compose``, with
libyaml's C composer where present, which keeps every value's line) and read the
nodes ourselves through :class:`Reader`, which only ever produces plain text,
lists and mappings and reports every surprise as a located problem.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import yaml

from .errors import Problems

try:  # libyaml is several times faster; the pure-Python composer is the fallback
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Larger sources are refused: no flashcard source needs more, a mistake might."""

_TAG = "tag:yaml.org,2002:"
_PLAIN_TAGS = {_TAG + t for t in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")}
_SCALAR_KIND = {
    _TAG + "bool": "YAML reads it as true/false (yes, no, on, off are booleans in YAML 1.1)",
    _TAG + "int": "YAML reads it as a number",
    _TAG + "float": "YAML reads it as a number (1.10 becomes 1.1)",
    _TAG + "timestamp": "YAML reads it as a date",
}


def line_of(node: yaml.Node) -> int:
    """The 1-based line on which *node* starts."""
    return node.start_mark.line + 1


def read_yaml(path: str, shown: str, problems: Problems) -> yaml.Node | None:
    """Parse the file at *path* into a node graph, or record why it cannot be.

    *shown* is the name used in messages (relative to where the user works).
    Returns ``None`` when a problem was recorded.
    """
    data = _read_bytes(path, shown, problems)
    if data is None:
        return None
    text = _decode(data, shown, problems)
    if text is None:
        return None
    if not text.strip() or all(
        not line.strip() or line.lstrip().startswith("#") for line in text.splitlines()
    ):
        problems.add(shown, 1, "", "the file is empty; expected a mapping of keys to values")
        return None
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = exc.problem or exc.context or "cannot be read"
        lines = text.splitlines()
        if mark and mark.line < len(lines) and "\t" in lines[mark.line]:
            what = "found a tab; YAML does not allow tabs for indentation, use spaces"
        problems.add(shown, line, "", f"YAML syntax error: {what}")
        return None
    except yaml.reader.ReaderError as exc:  # control characters and the like
        line = text[: exc.position].count("\n") + 1
        problems.add(shown, line, "", f"YAML error: {exc.reason} (character {exc.character!r})")
        return None
    if node is None:
        problems.add(shown, 1, "", "the file is empty; expected a mapping of keys to values")
        return None
    if not _check_graph(node, shown, problems):
        return None
    return node


def _read_bytes(path: str, shown: str, problems: Problems) -> bytes | None:
    if os.path.isdir(path):
        problems.add(shown, 1, "", "is a directory, not a YAML file")
        return None
    try:
        size = os.path.getsize(path)
        if size > MAX_FILE_BYTES:
            problems.add(
                shown, 1, "", f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (split it)"
            )
            return None
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        problems.add(shown, 1, "", f"cannot be read: {exc.strerror or exc}")
        return None


def _decode(data: bytes, shown: str, problems: Problems) -> str | None:
    if data.startswith(b"\xef\xbb\xbf"):
        problems.add(
            shown, 1, "", "starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"
        )
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(
            shown, line, "", f"is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        )
        return None


def _check_graph(root: yaml.Node, shown: str, problems: Problems) -> bool:
    """Refuse aliases and explicit tags before anything walks the graph.

    An alias is the same node object reached twice; refusing the second visit
    keeps a "billion laughs" document from ever being expanded.
    """
    seen: set[int] = set()
    stack = [root]
    ok = True
    while stack:
        node = stack.pop()
        if id(node) in seen:
            problems.add(shown, line_of(node), "", "YAML anchors and aliases (&, *) are not allowed")
            return False
        seen.add(id(node))
        if node.tag not in _PLAIN_TAGS:
            tag = node.tag.replace(_TAG, "!!")
            problems.add(shown, line_of(node), "", f"the YAML tag {tag} is not allowed")
            ok = False
            continue
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                stack.extend((value, key))
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return ok


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _TAG + "null":
        return "nothing"
    return f"{node.value!r}"


class Reader:
    """Reads a node graph of one file into plain values, recording problems.

    Every method returns ``None`` (after recording a problem) when the node is
    not what was asked for, so callers collect all problems in one pass.
    """

    def __init__(self, shown: str, problems: Problems) -> None:
        self.file = shown
        self.problems = problems

    def problem(self, node: yaml.Node | int, where: str, message: str) -> None:
        """Record a problem at *node* (or at a line number)."""
        line = node if isinstance(node, int) else line_of(node)
        self.problems.add(self.file, line, where, message)

    def pairs(self, node: yaml.Node, where: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        """A mapping as ordered (key, key node, value node) triples; keys must be unique text."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, where, f"expected a mapping of keys to values, found {_describe(node)}")
            return None
        result: list[tuple[str, yaml.Node, yaml.Node]] = []
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _TAG + "str":
                self.problem(key_node, where, f"a key must be a plain word, found {_describe(key_node)}")
                continue
            key = key_node.value
            if key in first_line:
                self.problem(
                    key_node, where, f"duplicate key {key!r} (first given on line {first_line[key]})"
                )
                continue
            first_line[key] = line_of(key_node)
            result.append((key, key_node, value_node))
        return result

    def mapping(
        self,
        node: yaml.Node,
        where: str,
        required: tuple[str, ...],
        optional: tuple[str, ...] = (),
    ) -> dict[str, yaml.Node] | None:
        """A mapping with a fixed set of keys: unknown and missing keys are problems."""
        pairs = self.pairs(node, where)
        if pairs is None:
            return None
        allowed = required + optional
        found: dict[str, yaml.Node] = {}
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

    def text(self, node: yaml.Node, where: str) -> str | None:
        """Non-empty text.  Numbers, booleans, dates and nulls are refused, not converted."""
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, where, f"expected text, found {_describe(node)}")
            return None
        if node.tag == _TAG + "null":
            self.problem(node, where, "is empty; expected text")
            return None
        if node.tag != _TAG + "str":
            reason = _SCALAR_KIND.get(node.tag, "it is not text")
            self.problem(node, where, f"expected text, found {node.value!r}: {reason}; put it in quotes")
            return None
        value = node.value.strip()
        if not value:
            self.problem(node, where, "is empty; expected text")
            return None
        return value

    def sequence(self, node: yaml.Node, where: str) -> list[yaml.Node] | None:
        """A non-empty list."""
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, where, f"expected a list, found {_describe(node)}")
            return None
        if not node.value:
            self.problem(node, where, "is an empty list")
            return None
        return list(node.value)

    def text_list(self, node: yaml.Node, where: str) -> Iterator[tuple[yaml.Node, str]]:
        """Each item of a list of text, with its node."""
        for index, item in enumerate(self.sequence(node, where) or ()):
            value = self.text(item, f"{where}[{index}]")
            if value is not None:
                yield item, value
