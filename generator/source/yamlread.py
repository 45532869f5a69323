"""Strict, line-aware YAML reading.

PyYAML's loaders answer questions we do not want answered silently: a second
``title:`` replaces the first, ``no`` becomes ``False``, ``1.10`` becomes
``1.1``, ``&a``/``*a`` can expand into a billion strings and ``!!python/...``
tags build objects.  So we stop at the parser's *events* (libyaml's C parser
where present) and compose the node graph ourselves (:class:`_Composer`),
refusing anchors, aliases, explicit tags and a second document as they stream
past: an alias is never followed, so a "billion laughs" document costs one
event, not a billion strings.  The nodes keep every value's line;
:class:`Reader` then reads them into plain text, lists and mappings and reports
every surprise as a located problem.
"""

from __future__ import annotations

import os
import re
import stat
import unicodedata
from collections.abc import Callable, Iterator
from typing import Protocol, TypeAlias

import yaml

from generator.errors import Problems


class _Parser(Protocol):
    """What :class:`_Composer` uses of a PyYAML loader, libyaml's or the pure-Python one.

    The stubs leave the pure-Python loader's methods untyped; these are the
    types both loaders have.
    """

    def get_event(self) -> yaml.Event | None: ...

    def resolve(self, kind: type[yaml.Node], value: str | None, implicit: bool | tuple[bool, bool]) -> str: ...

    def dispose(self) -> None: ...


_Mark: TypeAlias = "yaml.Mark | yaml._yaml.Mark"
"""Where an event starts or ends: libyaml's marks are a class of their own, with the same fields."""
_NodeStart: TypeAlias = "yaml.ScalarEvent | yaml.CollectionStartEvent"
"""An event that makes a node."""

try:  # libyaml is several times faster; the pure-Python composer is the fallback
    _Loader: Callable[[str], _Parser] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

MAX_FILE_BYTES = 8 * 1024 * 1024
"""Larger sources are refused: no flashcard source needs more, a mistake might."""

_TAG = "tag:yaml.org,2002:"
_ANCHOR = "YAML anchors and aliases (&, *) are not allowed"
_SCALAR_KIND = {
    _TAG + "bool": "YAML reads it as true/false (yes, no, on, off are booleans in YAML 1.1)",
    _TAG + "int": "YAML reads it as a number",
    _TAG + "float": "YAML reads it as a number (1.10 becomes 1.1)",
    _TAG + "timestamp": "YAML reads it as a date",
    _TAG + "null": "YAML reads it as nothing (null)",
    _TAG + "merge": "'<<' merges mappings in YAML, which deckgen does not support",
    _TAG + "value": "'=' has a special meaning in YAML 1.1",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")
"""Control characters, lone surrogates and a byte-order mark inside text: double-
quoted escapes such as "\\a" or "\\x1b" can write them, pasting can bring a BOM
along.  Tabs and line breaks are allowed."""


def without_refused(text: str) -> str:
    """*text* without the characters :meth:`Reader.text` refuses in text (the authoring commands write none)."""
    return _CONTROL.sub("", text)


def line_of(node: yaml.Node) -> int:
    """The 1-based line on which *node* starts."""
    return node.start_mark.line + 1


def read_yaml(
    path: str, shown: str, problems: Problems, read: dict[str, bytes] | None = None
) -> yaml.Node | None:
    """Parse the file at *path* into a node graph, or record why it cannot be.

    *shown* is the name used in messages (relative to where the user works).
    Returns ``None`` when a problem was recorded.  The bytes read go into
    *read* (by path), so a build can say exactly what it was built from.
    """
    data = _read_bytes(path, shown, problems)
    if data is None:
        return None
    if read is not None:
        read[path] = data
    text = _decode(data, shown, problems)
    return None if text is None else _document(text, shown, problems)


_EMPTY = "the file is empty; expected a mapping of keys to values"


def _document(text: str, shown: str, problems: Problems) -> yaml.Node | None:
    """The root node of *text*, or ``None`` after a problem (an empty document is one)."""
    if _is_blank(text):
        problems.add(shown, 1, "", _EMPTY)
        return None
    node = _compose(text, shown, problems)
    if isinstance(node, yaml.ScalarNode) and node.tag == _TAG + "null" and not node.value:
        # only '---' / '...' markers and comments: as empty as an empty file
        problems.add(shown, 1, "", _EMPTY)
        return None
    return node


def _is_blank(text: str) -> bool:
    """True if *text* holds nothing but white space and comments."""
    return not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def read_regular_file(path: str, limit: int) -> bytes | None:
    """The bytes of *path* if it is a regular file of at most *limit* bytes, else None (never a device or pipe)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
            return None
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)  # the file may have grown since stat
    except OSError:
        return None
    return data if len(data) <= limit else None


def _read_bytes(path: str, shown: str, problems: Problems) -> bytes | None:
    """The bytes of a regular file of at most MAX_FILE_BYTES, or ``None`` after a problem.

    Only regular files are opened: a pipe would block and a device such as
    /dev/zero would never end (a symbolic link can point at either).
    """
    size = _regular_file_size(path, shown, problems)
    if size is None:
        return None
    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)  # the file may have grown since stat
    except OSError as exc:
        problems.add(shown, 1, "", f"cannot be read: {exc.strerror or exc}")
        return None
    if max(size, len(data)) > MAX_FILE_BYTES:
        size = max(size, len(data))
        problems.add(
            shown, 1, "", f"the file is {size:,} bytes; the limit is {MAX_FILE_BYTES:,} (split it into several files)"
        )
        return None
    return data


def _regular_file_size(path: str, shown: str, problems: Problems) -> int | None:
    """The size of the regular file at *path*, or ``None`` after a problem."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        _missing(path, shown, problems)
        return None
    except OSError as exc:
        problems.add(shown, 1, "", f"cannot be read: {exc.strerror or exc}")
        return None
    if stat.S_ISDIR(info.st_mode):
        problems.add(shown, 1, "", "is a directory, not a YAML file")
        return None
    if not stat.S_ISREG(info.st_mode):
        problems.add(shown, 1, "", "is not a regular file (a device, pipe or socket); save the source as a plain file")
        return None
    return info.st_size


def _missing(path: str, shown: str, problems: Problems) -> None:
    """Record that *path* is not there: a dangling symbolic link says where it points."""
    if os.path.islink(path):
        target = os.readlink(path)
        problems.add(shown, 1, "", f"is a symbolic link to {target!r}, which does not exist")
    else:
        problems.add(shown, 1, "", "cannot be read: No such file or directory")


def _decode(data: bytes, shown: str, problems: Problems) -> str | None:
    """*data* as NFC text with only the line breaks editors count, or ``None`` after a problem."""
    text = _utf8(data, shown, problems)
    # YAML counts these as line breaks and editors do not: every line number after
    # one would be wrong, so they are refused where they stand.
    if text is None or not _ODD_BREAK.search(text):  # the usual case: one scan in C, no line loop
        return text
    return None if _refuse_odd_breaks(text, shown, problems) else text


def _utf8(data: bytes, shown: str, problems: Problems) -> str | None:
    """*data* decoded and NFC-normalized, or ``None`` after a problem (a byte-order mark, bytes not UTF-8)."""
    if data.startswith(b"\xef\xbb\xbf"):
        problems.add(
            shown, 1, "", "starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"
        )
        return None
    try:
        # NFC: "é" is one code point whichever way an editor saved it, so an
        # invisible re-save can never change a key term, an id or a note's identity.
        text = unicodedata.normalize("NFC", data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        problems.add(
            shown, line, "", f"is not valid UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8"
        )
        return None
    return text


def _refuse_odd_breaks(text: str, shown: str, problems: Problems) -> bool:
    """Record each line break YAML sees and editors do not, where it stands; True if there was one."""
    found = False
    for number, text_line in enumerate(text.split("\n"), start=1):
        body = text_line[:-1] if text_line.endswith("\r") else text_line  # Windows' CRLF is a normal line break
        for character in sorted(set(body) & _ODD_BREAKS.keys()):
            problems.add(shown, number, "", f"{_ODD_BREAKS[character]} in the text; use a normal line break or a space")
            found = True
    return found


_ODD_BREAK = re.compile("[\u2028\u2029\x85]|\r(?!\n)")
_ODD_BREAKS = {
    "\u2028": "a Unicode line separator (U+2028)",
    "\u2029": "a Unicode paragraph separator (U+2029)",
    "\x85": "a next-line character (U+0085, NEL)",
    "\r": "a lone carriage return (an old Mac line break)",
}


def _compose(text: str, shown: str, problems: Problems) -> yaml.Node | None:
    """The node graph of *text*, or ``None`` after recording why it is refused."""
    loader = None
    try:
        loader = _Loader(text)  # the pure-Python reader already checks characters here
        return _Composer(loader, shown, problems).compose()
    except yaml.MarkedYAMLError as exc:
        lines = text.splitlines()
        for line, what in _syntax_errors(exc, lines):
            problems.add(shown, line, "", f"YAML syntax error: {what}")
    except yaml.reader.ReaderError as exc:  # characters YAML refuses outright
        line, what = _refused_character(exc, text)
        problems.add(shown, line, "", what)
    finally:
        if loader is not None:
            loader.dispose()
    return None


def _refused_character(exc: yaml.reader.ReaderError, text: str) -> tuple[int, str]:
    """The line and message for a character YAML does not allow."""
    code = exc.character if isinstance(exc.character, int) else ord(exc.character)
    # libyaml reports a byte offset, the pure-Python reader a character
    # offset; the reader stops at the first such character, so find it.
    position = text.find(chr(code))
    line = text.count("\n", 0, position) + 1 if position >= 0 else 1
    return line, f"contains the character U+{code:04X}, which YAML does not allow; remove it"


def _syntax_errors(exc: yaml.MarkedYAMLError, lines: list[str]) -> list[tuple[int, str]]:
    """The parser's error, and every other line with the same mistake.

    libyaml stops at the first error; the mistakes authors make most (a
    ': ' inside unquoted text, a tab) are each on one line and recognisable
    without parsing, so the author gets them all at once instead of one per run.
    """
    first = _syntax_error(exc, lines)
    same = _COLON_IN_TEXT if _COLON_IN_TEXT.match(_line_text(lines, first[0])) else None
    if same is None and "\t" in _line_text(lines, first[0]):
        same = _TAB_INDENT
    if same is None:
        return [first]
    found = {index + 1 for index, text in enumerate(lines) if same.match(text)} - {first[0]}
    return sorted([first, *((line, _syntax_error_on(same, lines, line)) for line in found)])


def _line_text(lines: list[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _syntax_error_on(pattern: re.Pattern[str], lines: list[str], number: int) -> str:
    if pattern is _TAB_INDENT:
        return "found a tab; YAML does not allow tabs for indentation, use spaces"
    return _colon_advice("mapping values are not allowed in this context", _line_text(lines, number))


def _colon_advice(what: str, line: str) -> str:
    match = _COLON_IN_TEXT.match(line)
    key = f"the text after '{match.group(1)}:'" if match else "the text"
    return f"{what}; {key} holds ': ', which YAML reads as a second key: put the whole text in quotes"


def _syntax_error(exc: yaml.MarkedYAMLError, lines: list[str]) -> tuple[int, str]:
    """The line and message for a YAML syntax error, with the likely fix.

    libyaml says what the parser expected; the author needs to know what to
    change, which for flashcard text is nearly always "put it in quotes".
    """
    mark = exc.problem_mark or exc.context_mark
    # libyaml may place the end of the stream on a line after the last one
    index = min(mark.line if mark else 0, max(len(lines) - 1, 0))
    what = exc.problem or exc.context or "cannot be read"
    known = _known_syntax_error(exc, lines, index, what) or _unquoted_value(exc, lines, index, what)
    if known is not None:
        return known
    return index + 1, _syntax_hint(what, lines[index].strip() if index < len(lines) else "")


def _known_syntax_error(exc: yaml.MarkedYAMLError, lines: list[str], index: int, what: str) -> tuple[int, str] | None:
    """A mistake whose fix is certain: a tab, an unclosed quote, a missing ':', text after a quoted text."""
    if index < len(lines) and "\t" in lines[index]:
        return index + 1, "found a tab; YAML does not allow tabs for indentation, use spaces"
    if exc.context == "while scanning a quoted scalar" and exc.context_mark:
        # the parser notices only at the end of the file: point at the opening quote
        return exc.context_mark.line + 1, "a quoted text starts on this line and is never closed; add the closing quote"
    if exc.context == "while scanning a simple key" and exc.context_mark:
        # noticed lines later; the line to fix is the one that lacks its ':'
        return exc.context_mark.line + 1, (
            f"{what}; this line is not 'key: value': add the ':' or indent it under the text it continues"
        )
    if index < len(lines) and _QUOTED_THEN_TEXT.search(lines[index]):
        return index + 1, f"{what}; a quoted text ends at its closing quote: quote the whole text"
    return None


def _unquoted_value(exc: yaml.MarkedYAMLError, lines: list[str], index: int, what: str) -> tuple[int, str] | None:
    """A value that starts with a character YAML gives a meaning to, on the error's line or where it began."""
    candidates = [index]
    if exc.context_mark and (exc.context or "").startswith(("while parsing a flow", "while scanning")):
        candidates.append(exc.context_mark.line)  # where the '{' or '[' was opened
    for candidate in candidates:
        start = _VALUE_START.search(lines[candidate]) if candidate < len(lines) else None
        if start:
            at = "" if candidate == index else f" (line {candidate + 1})"
            return index + 1, f"{what}; text that starts with {start.group(1)!r}{at} must be in quotes"
    return None


def _syntax_hint(what: str, line: str) -> str:
    """*what* the parser says, with the likely fix for the *line* it stopped on."""
    if "mapping values are not allowed" in what and _COLON_IN_TEXT.match(line):
        return _colon_advice(what, line)
    if "mapping values are not allowed" in what:
        return what + "; a ': ' inside text starts a new key: put the text in quotes (or check the indentation)"
    if "directive" in what:
        return what + "; a line that starts with '%' is a YAML directive: remove it, or quote text that starts with '%'"
    if "<document start>" in what:
        return what + "; '...' ends the document, so nothing may follow it: remove the '...' line"
    if line == ":" or line.startswith((": ", "- : ")):
        return what + "; this line has a ':' but no key before it"
    if what.startswith("did not find expected"):
        return what + "; check the indentation of this line and the one before"
    return what


_VALUE_START = re.compile(r"^\s*(?:-\s+)?[^\s#'\":][^:#]*:\s+([{\[&*!@`%|>])")
"""A key whose value starts with a character YAML gives a meaning to (the key holds no ':')."""
_COLON_IN_TEXT = re.compile(r"^\s*(?:-\s+)?([^\s#'\":{\[][^:#]*):\s+[^\s#'\"{\[|>&*!%@`][^#]*?:\s")
"""A key whose unquoted text holds ': ' ('title: Core value: autonomy'): YAML reads a second key."""
_TAB_INDENT = re.compile(r"^ *\t")
"""A line indented with a tab."""
_QUOTED_THEN_TEXT = re.compile(r"""^\s*(?:-\s+)?[^\s#'"][^#]*?:\s+("[^"]*"|'[^']*')\s*[^\s#]""")
"""A key whose value is a quoted text followed by more text ('title: "Tea" is nice')."""


class _Composer:
    """Builds yaml nodes from parser events, refusing what deckgen does not read.

    Anchors, aliases, explicit tags and a second document are refused here,
    before any node is used: an alias is never followed (so an alias bomb is
    never expanded), and the graph is a tree.  Collections are built with an
    explicit stack, so deep nesting cannot exhaust Python's recursion limit.
    """

    def __init__(self, loader: _Parser, shown: str, problems: Problems) -> None:
        self.loader = loader
        self.shown = shown
        self.problems = problems
        self.ok = True
        self.anchor: tuple[str, int] | None = None  # the first anchor: (name, line)
        self.anchors: set[str] = set()
        self.root: yaml.Node | None = None
        self.open_nodes: list[tuple[yaml.Node, list[yaml.Node]]] = []  # collection, its children so far
        self.documents = 0

    def refuse(self, mark: _Mark | None, message: str) -> None:
        self.problems.add(self.shown, _line(mark), "", message)
        self.ok = False

    def compose(self) -> yaml.Node | None:
        """The document's root node, or ``None`` if anything was refused."""
        while not isinstance(event := self.loader.get_event(), yaml.StreamEndEvent):
            if not self.take(event):
                return None
        self.refuse_lone_anchor()
        return self.root if self.ok else None

    def take(self, event: yaml.Event | None) -> bool:
        """Compose one event into the graph; False if it ends the reading."""
        if isinstance(event, yaml.DocumentStartEvent):
            return self.start_document(event)
        if isinstance(event, yaml.AliasEvent):
            self.refuse_alias(event)
            return False
        if isinstance(event, yaml.CollectionEndEvent):
            self.close(event)
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            self.add(event)
        return True

    def start_document(self, event: yaml.DocumentStartEvent) -> bool:
        self.documents += 1
        if self.documents > 1:  # PyYAML would silently keep only the first
            self.refuse(event.start_mark, _SECOND_DOCUMENT)
            return False
        return True

    def close(self, event: yaml.CollectionEndEvent) -> None:
        node, children = self.open_nodes.pop()
        node.end_mark = event.end_mark
        node.value = children if isinstance(node, yaml.SequenceNode) else _pairs(children)

    def add(self, event: _NodeStart) -> None:
        node = self.node(event)
        if self.open_nodes:
            self.open_nodes[-1][1].append(node)
        else:
            self.root = node
        if isinstance(event, yaml.CollectionStartEvent):
            self.open_nodes.append((node, []))

    def node(self, event: _NodeStart) -> yaml.Node:
        """A node for a scalar or collection start event; its anchor and tag are checked."""
        if event.anchor is not None:
            self.anchors.add(event.anchor)
            if self.anchor is None:
                self.anchor = (event.anchor, _line(event.start_mark))
        tag = self.tag(event)
        start, end = event.start_mark, event.end_mark
        # The stubs type a node's marks as yaml.Mark; libyaml's events carry its own Mark class,
        # which PyYAML's own C composer puts in nodes just the same (both have .line).
        if isinstance(event, yaml.ScalarEvent):
            return yaml.ScalarNode(tag, event.value, start, end, style=event.style)  # type: ignore[arg-type]
        return _collection(event)(tag, [], start, end, flow_style=event.flow_style)  # type: ignore[arg-type]

    def tag(self, event: _NodeStart) -> str:
        """The event's tag as YAML resolves it; an explicit one ('!x', '!!str', even '!') is refused."""
        if event.tag is not None:  # only plain YAML is read
            self.refuse(event.start_mark, f"the YAML tag {event.tag.replace(_TAG, '!!')} is not allowed")
            return event.tag
        if isinstance(event, yaml.ScalarEvent):
            return self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
        return self.loader.resolve(_collection(event), None, True)

    def refuse_alias(self, event: yaml.AliasEvent) -> None:
        """An alias ends the reading: whatever it names is never expanded."""
        if self.anchor is not None and event.anchor in self.anchors:
            self.problems.add(self.shown, self.anchor[1], "", _ANCHOR)  # where the sharing starts
        else:  # '*text*' meant as text, most likely
            self.problems.add(
                self.shown, _line(event.start_mark), "", f"'*{event.anchor}' is a YAML alias, which deckgen "
                "does not allow; put text that starts with '*' in quotes",
            )
        self.ok = False

    def refuse_lone_anchor(self) -> None:
        """An anchor never used is harmless to YAML but silently eats text ('&Co Ltd' reads 'Ltd')."""
        if self.anchor is not None:
            name, line = self.anchor
            self.problems.add(
                self.shown, line, "", f"'&{name}' is a YAML anchor, which deckgen does not allow; "
                "put text that starts with '&' in quotes",
            )
            self.ok = False


def _line(mark: _Mark | None) -> int:
    """The 1-based line of *mark*; the parser's events always have marks, though the stubs allow None."""
    return mark.line + 1 if mark is not None else 1


def _collection(event: yaml.CollectionStartEvent) -> type[yaml.CollectionNode]:
    return yaml.SequenceNode if isinstance(event, yaml.SequenceStartEvent) else yaml.MappingNode


_SECOND_DOCUMENT = (
    "a second YAML document starts here (after '---' or '...'); "
    "a file holds one document: remove the marker or move the rest to its own file"
)


def _pairs(children: list[yaml.Node]) -> list[tuple[yaml.Node, yaml.Node]]:
    """A mapping's alternating keys and values as (key, value) pairs."""
    return list(zip(children[::2], children[1::2], strict=False))


def _describe(node: yaml.Node) -> str:
    if isinstance(node, yaml.MappingNode):
        return "a mapping"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    if node.tag == _TAG + "null":
        return "nothing"
    return f"{node.value!r}"


def _key_problem(node: yaml.Node) -> str:
    """Why *node* cannot be a key, and how to write it."""
    if not isinstance(node, yaml.ScalarNode):
        return f"a key must be text, found {_describe(node)}"
    if node.tag == _TAG + "null" and not node.value:
        return "a key is missing before ':'"
    reason = _SCALAR_KIND.get(node.tag, "it is not text")
    return f"a key must be text, found {node.value!r}: {reason}; put it in quotes"


class Reader:
    """Reads a node graph of one file into plain values, recording problems.

    Every method returns ``None`` (after recording a problem) when the node is
    not what was asked for, so callers collect all problems in one pass.
    """

    def __init__(self, shown: str, problems: Problems) -> None:
        self.file = shown
        self.problems = problems

    def problem(self, node: yaml.Node | int, where: str, message: str) -> None:
        """Record a problem at *node* (with its column) or at a line number."""
        if isinstance(node, int):
            self.problems.add(self.file, node, where, message)
        else:  # an editor and a pull request's annotation can point at the value itself
            self.problems.add(self.file, line_of(node), where, message, node.start_mark.column + 1)

    def pairs(self, node: yaml.Node, where: str) -> list[tuple[str, yaml.Node, yaml.Node]] | None:
        """A mapping as ordered (key, key node, value node) triples; keys must be unique text."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, where, f"expected a mapping of keys to values, found {_describe(node)}")
            return None
        result: list[tuple[str, yaml.Node, yaml.Node]] = []
        first_line: dict[str, int] = {}
        for key_node, value_node in node.value:
            if self.new_key(key_node, where, first_line):
                result.append((key_node.value, key_node, value_node))
        return result

    def new_key(self, key_node: yaml.Node, where: str, first_line: dict[str, int]) -> bool:
        """True if *key_node* is text not yet in *first_line* (the line of each key so far), now added."""
        if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _TAG + "str":
            self.problem(key_node, where, _key_problem(key_node))
            return False
        key = key_node.value
        if key in first_line:
            self.problem(key_node, where, f"duplicate key {key!r} (first given on line {first_line[key]})")
            return False
        first_line[key] = line_of(key_node)
        return True

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
        value: str = node.value.strip() if isinstance(node, yaml.ScalarNode) else ""
        problem = _not_text(node) or _bad_text(value)
        if problem is not None:
            self.problem(node, where, problem)
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


def _not_text(node: yaml.Node) -> str | None:
    """Why *node* is no text (and how to write it as text), or None for a text scalar."""
    if not isinstance(node, yaml.ScalarNode):
        found = f"expected text, found {_describe(node)}"
        if isinstance(node, yaml.CollectionNode) and node.flow_style:  # 'title: {{x}}' or 'title: [x] y'
            opener = "{" if isinstance(node, yaml.MappingNode) else "["
            found += f"; text that starts with {opener!r} must be in quotes"
        return found
    if node.tag == _TAG + "null" and not node.value:
        return "is empty; expected text"
    if node.tag != _TAG + "str":
        reason = _SCALAR_KIND.get(node.tag, "it is not text")
        if node.tag == _TAG + "int" and ":" in node.value:
            reason = "YAML 1.1 reads it as a number in base 60 (3:30 becomes 210)"
        return f"expected text, found {node.value!r}: {reason}; put it in quotes"
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
