"""Strict, line-aware YAML reading: a YAML file into a tree of located values.

PyYAML's loaders answer questions we do not want answered silently: a second
``title:`` replaces the first, ``no`` becomes ``False``, ``1.10`` becomes
``1.1``, ``&a``/``*a`` can expand into a billion strings and ``!!python/...``
tags build objects.  So we stop at the parser's *events* (libyaml's C parser
where present) and compose the tree ourselves (:class:`_Composer`), refusing
anchors, aliases, explicit tags and a second document as they stream past: an
alias is never followed, so a "billion laughs" document costs one event, not a
billion strings.  The tree (:mod:`generator.source.tree`) keeps every value's
line and column, and what YAML 1.1 reads each unquoted value as; the checks
(:mod:`generator.source.treeread`) know nothing of YAML, so another format's
reader can feed them the same tree.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from typing import Protocol, TypeAlias

import yaml

from generator.errors import Problems
from generator.source.folder import MAX_FILE_BYTES
from generator.source.guarded import NotUtf8, decode_utf8, read_regular
from generator.source.tree import Mapping, Node, Scalar, ScalarKind, Sequence

# Re-exported: it lives with the checks that refuse those characters; the authoring commands import it from here.
from generator.source.treeread import without_refused as without_refused


class _Parser(Protocol):
    """What :class:`_Composer` uses of a PyYAML loader, libyaml's or the pure-Python one.

    The stubs leave the pure-Python loader's methods untyped; these are the
    types both loaders have.
    """

    def get_event(self) -> yaml.Event | None: ...

    def dispose(self) -> None: ...


_Mark: TypeAlias = "yaml.Mark | yaml._yaml.Mark"
"""Where an event starts or ends: libyaml's marks are a class of their own, with the same fields."""
_NodeStart: TypeAlias = "yaml.ScalarEvent | yaml.CollectionStartEvent"
"""An event that makes a node."""

try:  # libyaml is several times faster; the pure-Python composer is the fallback
    _Loader: Callable[[str], _Parser] = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


_TAG = "tag:yaml.org,2002:"
_ANCHOR = "YAML anchors and aliases (&, *) are not allowed"


def read_yaml(
    path: str, shown: str, problems: Problems, read: dict[str, bytes] | None = None
) -> Node | None:
    """Parse the file at *path* into a tree of located values, or record why it cannot be.

    *shown* is the name used in messages (relative to where the user works).
    Returns ``None`` when a problem was recorded.  The bytes read go into
    *read* (by path), so a build can say exactly what it was built from.
    """
    if not path.isprintable() and not _encodable(path):  # a name os.listdir could not decode: messages, cache, lock
        problems.add(shown, 1, "", "the file's name is not UTF-8 text; rename it")
        return None
    data = _read_bytes(path, shown, problems)
    if data is None:
        return None
    if read is not None:
        read[path] = data
    text = _decode(data, shown, problems)
    return None if text is None else _document(text, shown, problems)


def _encodable(text: str) -> bool:
    """True if *text* is UTF-8 text: not a name with bytes that are not (kept by os.listdir as lone surrogates)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_EMPTY = "the file is empty; expected a mapping of keys to values"


def _document(text: str, shown: str, problems: Problems) -> Node | None:
    """The root value of *text*, or ``None`` after a problem (an empty document is one)."""
    if _is_blank(text):
        problems.add(shown, 1, "", _EMPTY)
        return None
    node = _compose(text, shown, problems)
    if isinstance(node, Scalar) and node.is_nothing:
        # only '---' / '...' markers and comments: as empty as an empty file
        problems.add(shown, 1, "", _EMPTY)
        return None
    return node


def _is_blank(text: str) -> bool:
    """True if *text* holds nothing but white space and comments."""
    return not text.strip() or all(not line.strip() or line.lstrip().startswith("#") for line in text.splitlines())


def _read_bytes(path: str, shown: str, problems: Problems) -> bytes | None:
    """The bytes of a regular file of at most MAX_FILE_BYTES, or ``None`` after a problem."""
    data = read_regular(path, MAX_FILE_BYTES)
    if isinstance(data, bytes):
        return data
    if data.reason == "missing":
        _missing(path, shown, problems)
    elif data.reason == "too_big":
        limit = f"the limit is {MAX_FILE_BYTES:,} (split it into several files)"
        problems.add(shown, 1, "", f"the file is {data.size:,} bytes; {limit}")
    else:
        problems.add(shown, 1, "", _REFUSED.get(data.reason) or f"cannot be read: {data.detail}")
    return None


_REFUSED = {
    "directory": "is a directory, not a YAML file",
    "special": "is not a regular file (a device, pipe or socket); save the source as a plain file",
}


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
    text = decode_utf8(data)
    if isinstance(text, NotUtf8):
        what = "starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM" if text.byte is None else (
            f"is not valid UTF-8 (byte 0x{text.byte:02x}); save it as UTF-8"
        )
        problems.add(shown, text.line, "", what)
        return None
    # NFC: "é" is one code point whichever way an editor saved it, so an
    # invisible re-save can never change a key term, an id or a note's identity.
    return unicodedata.normalize("NFC", text)


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


def _compose(text: str, shown: str, problems: Problems) -> Node | None:
    """The tree of *text*, or ``None`` after recording why it is refused."""
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
    same = _COLON_IN_TEXT if re.match(_COLON_IN_TEXT, _line_text(lines, first[0])) else None
    if same is None and "\t" in _line_text(lines, first[0]):
        same = _TAB_INDENT
    if same is None:
        return [first]
    found = {index + 1 for index, text in enumerate(lines) if re.match(same, text)} - {first[0]}
    return sorted([first, *((line, _syntax_error_on(same, lines, line)) for line in found)])


def _line_text(lines: list[str], number: int) -> str:
    return lines[number - 1] if 0 < number <= len(lines) else ""


def _syntax_error_on(pattern: str, lines: list[str], number: int) -> str:
    if pattern == _TAB_INDENT:
        return "found a tab; YAML does not allow tabs for indentation, use spaces"
    return _colon_advice("mapping values are not allowed in this context", _line_text(lines, number))


def _colon_advice(what: str, line: str) -> str:
    match = re.match(_COLON_IN_TEXT, line)
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
    if index < len(lines) and re.search(_QUOTED_THEN_TEXT, lines[index]):
        return index + 1, f"{what}; a quoted text ends at its closing quote: quote the whole text"
    return None


def _unquoted_value(exc: yaml.MarkedYAMLError, lines: list[str], index: int, what: str) -> tuple[int, str] | None:
    """A value that starts with a character YAML gives a meaning to, on the error's line or where it began."""
    candidates = [index]
    if exc.context_mark and (exc.context or "").startswith(("while parsing a flow", "while scanning")):
        candidates.append(exc.context_mark.line)  # where the '{' or '[' was opened
    for candidate in candidates:
        start = re.search(_VALUE_START, lines[candidate]) if candidate < len(lines) else None
        if start:
            at = "" if candidate == index else f" (line {candidate + 1})"
            return index + 1, f"{what}; text that starts with {start.group(1)!r}{at} must be in quotes"
    return None


def _syntax_hint(what: str, line: str) -> str:
    """*what* the parser says, with the likely fix for the *line* it stopped on."""
    if "mapping values are not allowed" in what and re.match(_COLON_IN_TEXT, line):
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


# The patterns of a file with a syntax error, as text: compiled (and cached) by re when an error needs them, not
# when every build starts.
_VALUE_START = r"^\s*(?:-\s+)?[^\s#'\":][^:#]*:\s+([{\[&*!@`%|>])"
"""A key whose value starts with a character YAML gives a meaning to (the key holds no ':')."""
_COLON_IN_TEXT = r"^\s*(?:-\s+)?([^\s#'\":{\[][^:#]*):\s+[^\s#'\"{\[|>&*!%@`][^#]*?:\s"
"""A key whose unquoted text holds ': ' ('title: Core value: autonomy'): YAML reads a second key."""
_TAB_INDENT = r"^ *\t"
"""A line indented with a tab."""
_QUOTED_THEN_TEXT = r"""^\s*(?:-\s+)?[^\s#'"][^#]*?:\s+("[^"]*"|'[^']*')\s*[^\s#]"""
"""A key whose value is a quoted text followed by more text ('title: "Tea" is nice')."""


class _Composer:
    """Builds the tree of located values (:mod:`generator.source.tree`) from parser events.

    Anchors, aliases, explicit tags and a second document are refused here,
    before any value is used: an alias is never followed (so an alias bomb is
    never expanded), and the result is a tree.  Collections are built with an
    explicit stack, so deep nesting cannot exhaust Python's recursion limit.
    PyYAML's own nodes are never made: the tree is built straight from the
    events, which is what keeps it as fast as composing them was.
    """

    def __init__(self, loader: _Parser, shown: str, problems: Problems) -> None:
        self.loader = loader
        self.shown = shown
        self.problems = problems
        self.ok = True
        self.anchor: tuple[str, int] | None = None  # the first anchor: (name, line)
        self.anchors: set[str] = set()
        self.root: Node | None = None
        self.open_nodes: list[tuple[yaml.CollectionStartEvent, list[Node]]] = []  # a collection's start, its children
        self.documents = 0

    def refuse(self, mark: _Mark | None, message: str) -> None:
        self.problems.add(self.shown, _line(mark), "", message)
        self.ok = False

    def compose(self) -> Node | None:
        """The document's root value, or ``None`` if anything was refused."""
        while not isinstance(event := self.loader.get_event(), yaml.StreamEndEvent):
            if not self.take(event):
                return None
        self.refuse_lone_anchor()
        return self.root if self.ok else None

    def take(self, event: yaml.Event | None) -> bool:
        """Compose one event into the tree; False if it ends the reading."""
        if isinstance(event, yaml.ScalarEvent):  # the most frequent event first
            self.check(event)
            self.add(_scalar(event))
        elif isinstance(event, yaml.CollectionStartEvent):
            self.check(event)
            self.open_nodes.append((event, []))
        elif isinstance(event, yaml.CollectionEndEvent):
            self.add(_collection(*self.open_nodes.pop()))
        elif isinstance(event, yaml.DocumentStartEvent):
            return self.start_document(event)
        elif isinstance(event, yaml.AliasEvent):
            self.refuse_alias(event)
            return False
        return True

    def start_document(self, event: yaml.DocumentStartEvent) -> bool:
        self.documents += 1
        if self.documents > 1:  # PyYAML would silently keep only the first
            self.refuse(event.start_mark, _SECOND_DOCUMENT)
            return False
        return True

    def add(self, node: Node) -> None:
        if self.open_nodes:
            self.open_nodes[-1][1].append(node)
        else:
            self.root = node

    def check(self, event: _NodeStart) -> None:
        """Note the event's anchor; refuse an explicit tag ('!x', '!!str', even '!'): only plain YAML is read."""
        if event.anchor is not None:
            self.anchors.add(event.anchor)
            if self.anchor is None:
                self.anchor = (event.anchor, _line(event.start_mark))
        if event.tag is not None:
            self.refuse(event.start_mark, f"the YAML tag {event.tag.replace(_TAG, '!!')} is not allowed")

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


def _scalar(event: yaml.ScalarEvent) -> Scalar:
    """A scalar event as a located text, with what YAML reads it as if it is plain (unquoted)."""
    mark = event.start_mark
    assert mark is not None  # the parser's events always have marks
    # Only a plain scalar is resolved: quoted and block text is text (an explicit tag was refused).
    kind = _plain_kind(event.value) if event.implicit[0] else "text"
    return Scalar(event.value, mark.line + 1, mark.column + 1, kind)


def _collection(event: yaml.CollectionStartEvent, children: list[Node]) -> Node:
    """The list or mapping that *event* opened, of its *children* (a mapping's keys and values alternate)."""
    mark = event.start_mark
    assert mark is not None
    flow = bool(event.flow_style)
    if isinstance(event, yaml.SequenceStartEvent):
        return Sequence(tuple(children), mark.line + 1, mark.column + 1, flow)
    return Mapping(tuple(zip(children[::2], children[1::2], strict=True)), mark.line + 1, mark.column + 1, flow)


def _plain_kind(text: str) -> ScalarKind:
    """What YAML 1.1 reads the unquoted *text* as (``no``: a boolean), as PyYAML's resolver decides it.

    The resolver's own patterns, looked up by first character as it does,
    without the per-call work of ``resolve()``: most scalars start with a
    letter no pattern starts with, and are text at once.
    """
    for kind, pattern in _RESOLVERS.get(text[:1], ()):
        if pattern.match(text):
            return kind
    return "text"


def _resolvers() -> dict[str, tuple[tuple[ScalarKind, re.Pattern[str]], ...]]:
    """PyYAML's implicit resolvers (the tags YAML 1.1 gives plain text) as kinds, by first character."""
    table = yaml.resolver.Resolver.yaml_implicit_resolvers
    anywhere = table.get(None, [])
    return {
        first: tuple((_TAG_KINDS.get(tag, "other"), pattern) for tag, pattern in [*resolvers, *anywhere])
        for first, resolvers in table.items()
        if first is not None
    }


_TAG_KINDS: dict[str, ScalarKind] = {
    _TAG + "bool": "bool",
    _TAG + "int": "int",
    _TAG + "float": "float",
    _TAG + "timestamp": "timestamp",
    _TAG + "null": "null",
    _TAG + "merge": "merge",
    _TAG + "value": "value",
}
_RESOLVERS = _resolvers()


_SECOND_DOCUMENT = (
    "a second YAML document starts here (after '---' or '...'); "
    "a file holds one document: remove the marker or move the rest to its own file"
)
