"""A lock's bytes, read and parsed as JSON; the line of a value, found only once a problem needs one.

json.loads is fast but says nothing of lines, so the lock is parsed twice
only when it has a problem: the second, slower parse (:class:`_Locator`) notes
where every value starts, and :class:`Origin` keeps it for every problem that
follows.  Nesting is measured on the bytes before any parse, so a lock of a
million brackets is a located problem, never a RecursionError.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections.abc import Callable
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from generator.errors import ContentError, Problem
from generator.pipeline.lock.model import MAX_LOCK_BYTES
from generator.source.guarded import NotUtf8, Refused, decode_utf8, read_regular

MAX_DEPTH = 4
"""The deepest nesting in a lock: the lock, "note_types", a note type, its "fields"."""

_TOO_DEEP = (
    f"the lock nests lists or objects deeper than a lock can ({MAX_DEPTH} levels); restore it from version control"
)
_KEEP_QUOTES_AND_BRACKETS = bytes(set(range(256)) - set(b'"[]{}'))
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def parse_lock(path: str, data: bytes) -> tuple[Origin, object]:
    """The lock's text and its JSON, or the problem of the file that stops its parsing."""
    deep = _too_deep(data)
    if deep is not None:
        line = data.count(b"\n", 0, deep) + 1
        raise ContentError([Problem(path, line, "", _TOO_DEEP)])
    origin = Origin(path, _decode(path, data))
    try:
        return origin, _parse(origin)
    except json.JSONDecodeError as exc:
        raise ContentError([Problem(path, exc.lineno, "", f"the lock is not valid JSON: {exc.msg}")]) from None
    except RecursionError:  # not expected: _too_deep has refused whatever nests this deep
        raise ContentError([Problem(path, 1, "", _TOO_DEEP)]) from None


def _refused(path: str, line: int, message: str) -> ContentError:
    return ContentError([Problem(path, line, "", message)])


def read_lock_bytes(path: str) -> bytes:
    """The lock's bytes: a regular file of at most MAX_LOCK_BYTES (checked before reading)."""
    data = read_regular(path, MAX_LOCK_BYTES)
    if isinstance(data, Refused):
        raise _refused(path, 1, _lock_refusal(data))
    return data


def with_lf(data: bytes) -> bytes:
    """A lock's *data* with the CRLF line endings of a checkout (git's autocrlf) as the LF deckgen writes.

    The same lines and line numbers: a lock deckgen wrote reads as written, so
    the build that checks it out again still trusts it (the cache keeps the
    SHA-256 of what was written).
    """
    return data.replace(b"\r\n", b"\n") if b"\r" in data else data  # one byte: looked for at memchr's speed


def _lock_refusal(refused: Refused) -> str:
    if refused.reason == "too_big":
        return f"the lock is {refused.size:,} bytes; the limit is {MAX_LOCK_BYTES:,}; restore it from version control"
    return _LOCK_REFUSED.get(refused.reason) or f"the lock cannot be read: {refused.detail}"


_LOCK_REFUSED = {
    "directory": "is a directory, not a lock file",
    "special": "is not a regular file (a device, pipe or socket); restore the lock from version control",
}


def _decode(path: str, data: bytes) -> str:
    text = decode_utf8(data)
    if isinstance(text, NotUtf8):
        what = "starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM" if text.byte is None else (
            f"is not valid UTF-8 (byte 0x{text.byte:02x}); restore it from version control"
        )
        raise _refused(path, text.line, f"the lock {what}")
    return text


def _too_deep(data: bytes) -> int | None:
    """Where *data* first nests lists or objects deeper than MAX_DEPTH, or None.

    Checked before parsing and without recursion, so that a lock of a million
    opening brackets is a located problem, never a RecursionError.  The quick
    pass works on bytes: escaped backslashes and quotes dropped, then every
    byte but quotes and brackets, then the strings (every other run between
    quotes); only a lock it finds too deep is scanned again to say where.
    """
    bare = data.replace(b"\\\\", b"").replace(b'\\"', b"").translate(None, _KEEP_QUOTES_AND_BRACKETS)
    # Two quotes in a row (an empty string, or one string's end and the next one's start with
    # only ':' or ',' between) leave every bracket as inside or outside a string as it was.
    brackets = b"".join(bare.replace(b'""', b"").split(b'"')[::2])
    if not brackets or max(accumulate(map(_STEP.__getitem__, brackets))) <= MAX_DEPTH:
        return None
    return _first_too_deep(data)


def _first_too_deep(data: bytes) -> int:
    """Where the first bracket past MAX_DEPTH is, brackets in strings skipped."""
    depth = 0
    for token in _TOKEN.finditer(data):
        step = _STEP.get(data[token.start()])
        if step is not None:
            depth += step
            if depth > MAX_DEPTH:
                return token.start()
    return 0  # JSON this broken has no better place to point to


def _parse(origin: Origin) -> object:
    """The lock's JSON, with objects that repeat a key found (by :func:`_locate`)."""
    try:
        try:
            return json.loads(origin.text, object_pairs_hook=_unique_pairs)
        except ValueError as exc:
            if isinstance(exc, json.JSONDecodeError):
                raise
            # An integer too long for int(): again, with such numbers kept as _Huge (wrong for any field).
            return json.loads(origin.text, object_pairs_hook=_unique_pairs, parse_int=_parse_int)
    except _DuplicateKey:
        return origin.located().data  # the slow parse, which says where each duplicate is


class _DuplicateKey(Exception):
    """A JSON object has a key twice: the lock is parsed again, slowly, to say where."""


def _unique_pairs(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise _DuplicateKey
    return result


class _Huge(NamedTuple):
    """A JSON integer too long to be any number of a lock (or for Python to convert)."""

    digits: int


def _parse_int(text: str) -> int | _Huge:
    return int(text) if len(text) <= 40 else _Huge(len(text.lstrip("-")))


Place = tuple[str | int, ...]
"""Where a value is in the lock: the keys (and list indexes) down to it."""
Duplicate = tuple[Place, str, int, int]
"""A repeated key: the path of its object, the key, its line, the line of its first occurrence."""


@dataclass
class _Located:
    """The lock parsed again with the line of every value: only to report problems."""

    data: object
    lines: dict[Place, int]
    duplicates: list[Duplicate]


class Origin:
    """The file a lock was read from: its path, and its text to locate problems in."""

    def __init__(self, path: str, text: str | None) -> None:
        self.path = path
        self._text = text
        self._located: _Located | None = None

    @property
    def text(self) -> str:
        """The lock's text: read again from its file if it was not kept (a trusted lock: see :func:`_trusted_lock`)."""
        if self._text is None:
            self._text = read_lock_bytes(self.path).decode("utf-8", "replace")
        return self._text

    def located(self) -> _Located:
        """The lock parsed again with lines, once: only a lock with a problem pays for it."""
        if self._located is None:
            self._located = _locate(self.text)
        return self._located

    def duplicates(self) -> list[Duplicate]:
        """The repeated keys, if the lock had any (only then has it been located already)."""
        return self._located.duplicates if self._located is not None else []

    def problem(self, path: Place, what: str, line: int | None = None) -> Problem:
        """A problem with the value at *path*.

        It reads "LOCK:N: WHERE: the lock cannot be read: WHAT; restore it
        from version control", located like a source's problems.
        """
        line = self.located().lines.get(path, 1) if line is None else line
        return content_problem(self.path, line, _where(path), what)


def content_problem(path: str, line: int, where: str, what: str) -> Problem:
    return Problem(path, line, where, f"the lock cannot be read: {what}; restore it from version control")


def _locate(text: str) -> _Located:
    """Parse *text* (valid JSON no deeper than MAX_DEPTH) noting the line of every value."""
    locator = _Locator(text)
    start = locator.skip(0)
    locator.lines[()] = locator.line(start)
    data, _ = locator.value(start, ())
    return _Located(data, locator.lines, locator.duplicates)


class _Locator:
    """A JSON parser that notes where each value starts, for a lock json.loads has already read.

    Objects and lists are walked here, every other value is left to json's
    own decoder (public ``raw_decode``); several times slower than json.loads,
    so used only once a problem is to be reported.  Lines are recorded for the
    first occurrence of a repeated key only (the value json.loads would keep).
    """

    def __init__(self, text: str) -> None:
        self.text = text
        self.newlines = [match.start() for match in re.finditer("\n", text)]
        self.lines: dict[Place, int] = {}
        self.duplicates: list[Duplicate] = []
        self.scalar = json.JSONDecoder(parse_int=_parse_int).raw_decode

    def line(self, index: int) -> int:
        return bisect_left(self.newlines, index) + 1

    def skip(self, index: int) -> int:
        """The index of the first character at or after *index* that is not JSON whitespace."""
        text = self.text
        while index < len(text) and text[index] in " \t\n\r":
            index += 1
        return index

    def value(self, index: int, path: Place | None) -> tuple[object, int]:
        """The value starting at *index* and the index after it; lines are noted below *path* unless None."""
        opener = self.text[index]
        if opener == "{":
            return self.members(index + 1, path)
        if opener == "[":
            return self.elements(index + 1, path)
        return self.scalar(self.text, index)

    def members(self, index: int, path: Place | None) -> tuple[dict[str, object], int]:
        result: dict[str, object] = {}

        def member(start: int) -> int:
            key, end = self.scalar(self.text, start)
            value_start = self.skip(self.skip(end) + 1)  # past the ':'
            value, end = self.value(value_start, self.member_place(path, result, key, value_start))
            result.setdefault(key, value)
            return end

        return result, self.items(index, "}", member)

    def elements(self, index: int, path: Place | None) -> tuple[list[object], int]:
        result: list[object] = []

        def item(start: int) -> int:
            value, end = self.value(start, self.place(path, len(result), start))
            result.append(value)
            return end

        return result, self.items(index, "]", item)

    def items(self, index: int, close: str, parse: Callable[[int], int]) -> int:
        """Parse items up to *close*, each by *parse* (which returns the index after it); the index after *close*."""
        index = self.skip(index)
        while self.text[index] != close:
            index = self.skip(parse(index))
            if self.text[index] == ",":
                index = self.skip(index + 1)
        return index + 1

    def place(self, path: Place | None, key: str | int, start: int) -> Place | None:
        """The path of an item, its line noted; None below an ignored (repeated) key."""
        if path is None:
            return None
        place = (*path, key)
        self.lines[place] = self.line(start)
        return place

    def member_place(self, path: Place | None, seen: dict[str, object], key: str, start: int) -> Place | None:
        if path is not None and key in seen:
            self.duplicates.append((path, key, self.line(start), self.lines[(*path, key)]))
            return None
        return self.place(path, key, start)


def show(value: object) -> str:
    """A value as JSON: short, and safe to print."""
    if isinstance(value, _Huge):
        return f"a number of {value.digits:,} digits"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str) and len(value) > 40:
        value = value[:40] + "…"
    shown = json.dumps(value, ensure_ascii=False)
    return shown if shown.isprintable() else json.dumps(value)


def _where(path: Place) -> str:
    if len(path) >= 2 and path[0] == "notes":
        return f"note {path[1]!r}"
    if len(path) >= 2 and path[0] == "note_types":
        return f"note type {path[1]!r}"
    return ""
