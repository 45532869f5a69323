"""The build lock: what each note looked like when it was last built, and when.

Anki updates an imported note only if its modification time is newer than the
one in the collection.  So an unchanged note must keep the time it was first
built with (or a re-import would overwrite notes a student edited), and an
edited note must get a newer one (or the edit would never arrive).  The lock,
committed beside the sources, records for every note its GUID, a hash of its
content and that time, and for every note type its contract (its fields' and
templates' names and ids) and a hash of its templates and CSS.

It is JSON with one note per line, sorted, so that a diff of the lock reads as
a list of the notes a change touched.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from itertools import accumulate
from operator import attrgetter
from typing import Any, Literal, TypeGuard, get_args

from generator.anki.schema import NoteTypeSchema, all_match
from generator.cards.kinds import KINDS, MAX_CARDS
from generator.cards.notes import NOTE_KINDS, NoteKind, NoteSpec
from generator.errors import ContentError, DeckgenError, Problem
from generator.source.guarded import NotUtf8, Refused, decode_utf8, read_regular
from generator.source.loader import ID_PATTERN

LOCK_NAME = "deckgen.lock"
LOCK_VERSION = 1
REMOVED_RETENTION_SECONDS = 60 * 24 * 3600
"""How long the lock remembers a removed note: for ``push`` to mark copies, and to keep its time should it return."""


@dataclass(frozen=True, slots=True)  # tens of thousands of them: no per-instance dict
class LockedNote:
    """A note as last built: identity, content hash, time, and where it lived."""

    guid: str
    hash: str
    mod: int
    topic: str
    deck: str
    note_type: NoteKind
    cards: int
    label: str
    removed: int | None = None
    released: bool = True
    """Whether the note was in a release build (``build --release``); only a released note leaves a tombstone.

    Locks written before releases existed hold no such field: their notes may
    have reached students, so they read as released.
    """


LOCKED_NOTE_FIELDS = tuple(sorted(f.name for f in fields(LockedNote)))
"""A note entry's fields, in the order the lock writes them: the one list the writer and the checker use."""
OPTIONAL_NOTE_FIELDS = frozenset({"released"})
"""Fields a note entry may leave out: written only when not their default, so older locks stay valid as they are."""
NOTE_TYPE_FIELDS = tuple(sorted(f.name for f in fields(NoteTypeSchema)))
"""A note type entry's fields, in the order the lock writes them."""


@dataclass(frozen=True)
class Lock:
    """The whole lock file."""

    notes: Mapping[str, LockedNote]
    note_types: Mapping[str, NoteTypeSchema]
    origin: _Origin | None = field(default=None, compare=False, repr=False)
    """The file it was read from, to locate problems found later (see :func:`resolve`)."""


EMPTY_LOCK = Lock({}, {})


def read_lock(path: str, trusted: str | None = None) -> Lock:
    """Read and validate the lock at *path*; a missing lock is an empty one.

    The lock is validated as strictly as a source, since it decides what
    goes into the packages: its size and nesting before it is parsed, then
    duplicate keys, then every field's type and range, GUIDs unique.  A
    damaged or hand-edited lock is refused with every problem at once (a
    :class:`~generator.errors.ContentError`); it never reaches the build.
    """
    if not os.path.exists(path):
        return EMPTY_LOCK
    data = read_lock_bytes(path)
    if trusted is not None and hashlib.sha256(data).hexdigest() == trusted:
        with contextlib.suppress(ValueError, KeyError, TypeError, AttributeError):  # another version's: check it
            return _trusted_lock(path, data)
    origin, parsed = _parsed(path, data)
    # Strings are checked for lone surrogates and control characters only if an escape could make one.
    checker = _Checker(
        origin,
        surrogates=_SURROGATE_ESCAPE.search(data) is not None,
        controls=_CONTROL_ESCAPE.search(data) is not None,
    )
    lock = checker.lock(parsed)
    checker.raise_if_any()
    return lock


def _trusted_lock(path: str, data: bytes) -> Lock:
    """The lock whose bytes the last build wrote (*trusted*: their SHA-256 in its cache), read without checks.

    deckgen wrote it from checked entries, so it is read as fast as JSON is
    parsed; its lines are still located should a problem be found later.
    """
    text = data.decode("utf-8")
    parsed = json.loads(text, object_pairs_hook=_NoteReader().entry)
    note_types = {kind: NoteTypeSchema(**{**entry, **{name: tuple(entry[name]) for name in _LISTS}})
                  for kind, entry in parsed["note_types"].items()}
    notes = parsed["notes"]
    if not all(type(note) is LockedNote for note in notes.values()):
        raise TypeError("a note entry without the fields of one")
    # Its text is not kept: only a problem found later reads it again, to say on which line.
    return Lock(notes, note_types, origin=_Origin(path, None))


class _NoteReader:
    """Makes each note entry a :class:`LockedNote` as the JSON parser meets it: no dict of dicts in between.

    The names a note shares with its topic's other notes (its topic, deck and
    note type) are kept once, not once per note.
    """

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def entry(self, pairs: list[tuple[str, Any]]) -> object:
        fields = dict(pairs)
        if "guid" not in fields or "note_type" not in fields:  # the lock, its note types, their lists
            return fields
        for name in ("topic", "deck", "note_type"):
            value = fields[name]
            fields[name] = self.names.setdefault(value, value)
        return LockedNote(**fields)


def _parsed(path: str, data: bytes) -> tuple[_Origin, object]:
    """The lock's text and its JSON, or the problem of the file that stops its parsing."""
    deep = _too_deep(data)
    if deep is not None:
        line = data.count(b"\n", 0, deep) + 1
        raise ContentError([Problem(path, line, "", _TOO_DEEP)])
    origin = _Origin(path, _decode(path, data))
    try:
        return origin, _parse(origin)
    except json.JSONDecodeError as exc:
        raise ContentError([Problem(path, exc.lineno, "", f"the lock is not valid JSON: {exc.msg}")]) from None
    except RecursionError:  # not expected: _too_deep has refused whatever nests this deep
        raise ContentError([Problem(path, 1, "", _TOO_DEEP)]) from None


MAX_LOCK_BYTES = 64 * 1024 * 1024
"""The largest lock read: deckgen writes a few hundred bytes a note."""
MAX_TIME = 253_402_300_799
"""The last second of the year 9999: the latest time (``mod``, ``removed``) a lock may hold.

Anything later is no build time.  The times become Anki modification times,
and genanki numbers a package's notes and cards from its newest time in
milliseconds, so a time past 2**63 / 1000 would overflow SQLite's integers.
"""
MAX_TYPE_ID = 2**63 - 1
MAX_DEPTH = 4
"""The deepest nesting in a lock: the lock, "note_types", a note type, its "fields"."""

_TOO_DEEP = (
    f"the lock nests lists or objects deeper than a lock can ({MAX_DEPTH} levels); restore it from version control"
)
_TIME = f"a whole number of seconds from 0 to {MAX_TIME}"
_KEEP_QUOTES_AND_BRACKETS = bytes(set(range(256)) - set(b'"[]{}'))
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')
_STEP = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89abcdefABCDEF]")
_CONTROL_ESCAPE = re.compile(rb"\\[bfnrtu]")  # a raw control character is not valid JSON
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f]")  # what a source's deck names may not contain
_HEX16 = re.compile("[0-9a-f]{16}")


def _refused(path: str, line: int, message: str) -> ContentError:
    return ContentError([Problem(path, line, "", message)])


def read_lock_bytes(path: str) -> bytes:
    """The lock's bytes: a regular file of at most MAX_LOCK_BYTES (checked before reading)."""
    data = read_regular(path, MAX_LOCK_BYTES)
    if isinstance(data, Refused):
        raise _refused(path, 1, _lock_refusal(data))
    return data


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


def _parse(origin: _Origin) -> object:
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


@dataclass(frozen=True)
class _Huge:
    """A JSON integer too long to be any number of a lock (or for Python to convert)."""

    digits: int


def _parse_int(text: str) -> int | _Huge:
    return int(text) if len(text) <= 40 else _Huge(len(text.lstrip("-")))


_Place = tuple[str | int, ...]
"""Where a value is in the lock: the keys (and list indexes) down to it."""
_Duplicate = tuple[_Place, str, int, int]
"""A repeated key: the path of its object, the key, its line, the line of its first occurrence."""


@dataclass
class _Located:
    """The lock parsed again with the line of every value: only to report problems."""

    data: object
    lines: dict[_Place, int]
    duplicates: list[_Duplicate]


class _Origin:
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

    def duplicates(self) -> list[_Duplicate]:
        """The repeated keys, if the lock had any (only then has it been located already)."""
        return self._located.duplicates if self._located is not None else []

    def problem(self, path: _Place, what: str, line: int | None = None) -> Problem:
        """A problem with the value at *path*.

        It reads "LOCK:N: WHERE: the lock cannot be read: WHAT; restore it
        from version control", located like a source's problems.
        """
        line = self.located().lines.get(path, 1) if line is None else line
        return _content_problem(self.path, line, _where(path), what)


def _content_problem(path: str, line: int, where: str, what: str) -> Problem:
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
        self.lines: dict[_Place, int] = {}
        self.duplicates: list[_Duplicate] = []
        self.scalar = json.JSONDecoder(parse_int=_parse_int).raw_decode

    def line(self, index: int) -> int:
        return bisect_left(self.newlines, index) + 1

    def skip(self, index: int) -> int:
        """The index of the first character at or after *index* that is not JSON whitespace."""
        text = self.text
        while index < len(text) and text[index] in " \t\n\r":
            index += 1
        return index

    def value(self, index: int, path: _Place | None) -> tuple[object, int]:
        """The value starting at *index* and the index after it; lines are noted below *path* unless None."""
        opener = self.text[index]
        if opener == "{":
            return self.members(index + 1, path)
        if opener == "[":
            return self.elements(index + 1, path)
        return self.scalar(self.text, index)

    def members(self, index: int, path: _Place | None) -> tuple[dict[str, object], int]:
        result: dict[str, object] = {}

        def member(start: int) -> int:
            key, end = self.scalar(self.text, start)
            value_start = self.skip(self.skip(end) + 1)  # past the ':'
            value, end = self.value(value_start, self.member_place(path, result, key, value_start))
            result.setdefault(key, value)
            return end

        return result, self.items(index, "}", member)

    def elements(self, index: int, path: _Place | None) -> tuple[list[object], int]:
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

    def place(self, path: _Place | None, key: str | int, start: int) -> _Place | None:
        """The path of an item, its line noted; None below an ignored (repeated) key."""
        if path is None:
            return None
        place = (*path, key)
        self.lines[place] = self.line(start)
        return place

    def member_place(self, path: _Place | None, seen: dict[str, object], key: str, start: int) -> _Place | None:
        if path is not None and key in seen:
            self.duplicates.append((path, key, self.line(start), self.lines[(*path, key)]))
            return None
        return self.place(path, key, start)


def _show(value: object) -> str:
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


def _where(path: _Place) -> str:
    if len(path) >= 2 and path[0] == "notes":
        return f"note {path[1]!r}"
    if len(path) >= 2 and path[0] == "note_types":
        return f"note type {path[1]!r}"
    return ""


def _is_time(value: object) -> bool:
    return type(value) is int and 0 <= value <= MAX_TIME


def _is_name(value: object) -> bool:
    return type(value) is str and value != "" and not _CONTROL.search(value)


def _is_names(value: object) -> bool:
    return type(value) is list and len(value) > 0 and all(_is_name(item) for item in value)


def _is_ids(value: object) -> bool:
    return type(value) is list and all(item is None or _is_id(item) for item in value)


def _is_id(value: object) -> bool:
    return type(value) is int and 1 <= value <= MAX_TYPE_ID


def _is_guid(value: object) -> bool:
    return type(value) is str and value != "" and value.isprintable() and " " not in value


def _is_hash(value: object) -> bool:
    return type(value) is str and _HEX16.fullmatch(value) is not None


def _is_topic(value: object) -> bool:
    return type(value) is str and ID_PATTERN.fullmatch(value) is not None


def _is_note_kind(value: object) -> TypeGuard[NoteKind]:
    return type(value) is str and value in NOTE_KINDS


_Rules = dict[str, tuple[Callable[[object], bool], str]]
"""For each field of an entry: the check of its value, and what the value should be."""


def _rules(names: tuple[str, ...], rules: _Rules) -> _Rules:
    """*rules* in the order of *names*, which they must cover exactly: the fields are listed once."""
    if rules.keys() != set(names):
        raise AssertionError(f"the rules of {sorted(rules)} do not match the fields {names}")
    return {name: rules[name] for name in names}


_NOTE_RULES = _rules(LOCKED_NOTE_FIELDS, {
    "cards": (lambda v: type(v) is int and 1 <= v <= MAX_CARDS, " or ".join(map(str, range(1, MAX_CARDS + 1)))),
    "deck": (_is_name, "a deck name (not empty, without control characters)"),
    "guid": (_is_guid, "a GUID (a string, not empty, without spaces or control characters)"),
    "hash": (lambda v: v == "removed" or _is_hash(v), 'a content hash (16 hexadecimal digits) or "removed"'),
    "label": (lambda v: type(v) is str, "a string"),
    "mod": (_is_time, _TIME),
    "note_type": (_is_note_kind, " or ".join(json.dumps(k) for k in NOTE_KINDS)),
    "released": (lambda v: type(v) is bool, "true or false"),
    "removed": (lambda v: v is None or _is_time(v), f"null or {_TIME}"),
    "topic": (_is_topic, "a topic id (lowercase letters and digits, joined by - or _)"),
})
_NOTE_KEYS = frozenset(LOCKED_NOTE_FIELDS) - OPTIONAL_NOTE_FIELDS
_UNRELEASED_KEYS = _NOTE_KEYS | {"released"}
_IDS = f"a list of ids (whole numbers from 1 to {MAX_TYPE_ID}, or null where unknown)"
_TYPE_RULES = _rules(NOTE_TYPE_FIELDS, {
    "field_ids": (_is_ids, _IDS),
    "fields": (_is_names, "a list of field names"),
    "hash": (_is_hash, "a hash (16 hexadecimal digits)"),
    "id": (_is_id, f"a note type id (a whole number from 1 to {MAX_TYPE_ID})"),
    "mod": (_is_time, _TIME),
    "name": (_is_name, "a note type name (not empty, without control characters)"),
    "template_ids": (_is_ids, _IDS),
    "templates": (_is_names, "a list of template names"),
})
_IDS_OF = {"field_ids": "fields", "template_ids": "templates"}
_LISTS = (*_IDS_OF, *_IDS_OF.values())
"""The note type fields holding ids, and the names they are the ids of: one id for each name.

A lock written before deckgen gave fields and templates ids has neither: it
reads as ids unknown (null), as they are in its students' note types.
"""
_TOP_FIELDS = ("version", "note_types", "notes")


class _Checker:
    """Validates a parsed lock field by field, collecting every problem."""

    def __init__(self, origin: _Origin, *, surrogates: bool = True, controls: bool = True) -> None:
        self.origin = origin
        self.surrogates = surrogates
        """An escaped UTF-16 surrogate somewhere: look for a lone one in every string."""
        self.controls = controls
        """An escape somewhere that may be a control character: look for them in keys."""
        self.found: list[tuple[_Place, str]] = []
        self.owners: dict[str, str] = {}
        """The key of the note each GUID was first seen in."""
        # Few distinct topics and decks: each is checked once, then looked up.
        self.topics: set[str] = set()
        self.decks: set[str] = set()

    def add(self, path: _Place, what: str) -> None:
        self.found.append((path, what))

    def raise_if_any(self) -> None:
        """Raise a ContentError of every problem found, repeated keys last."""
        duplicates = self.origin.duplicates()
        if not self.found and not duplicates:
            return
        problems = [self.origin.problem(path, what) for path, what in self.found]
        problems += [self.duplicate(*duplicate) for duplicate in duplicates]
        raise ContentError(problems)

    def duplicate(self, path: _Place, key: str, line: int, first: int) -> Problem:
        if path in (("notes",), ("note_types",)):
            what = f"appears twice in {json.dumps(path[0])}"
        else:
            what = f"{_show(key)} appears twice"
        if first != line:
            what += f" (first on line {first})"
        return self.origin.problem((*path, key), what, line)

    def lock(self, data: object) -> Lock:
        """The lock *data* describes, its problems noted (an empty lock if it is no lock of ours)."""
        if type(data) is not dict:
            self.add((), f'the lock should be an object of "version", "note_types" and "notes", not {_show(data)}')
            return EMPTY_LOCK
        self.fields((), data, _TOP_FIELDS)
        if "version" in data and not self.version(data["version"]):
            return EMPTY_LOCK  # another version's lock: its fields are not ours to judge
        note_types = self.note_types(data["note_types"]) if "note_types" in data else {}
        notes = self.notes(data["notes"]) if "notes" in data else {}
        return Lock(notes, note_types, origin=self.origin)

    def version(self, version: object) -> bool:
        """False if *version* is another version's number; a version that is no number is noted only."""
        if type(version) is int and version == LOCK_VERSION:
            return True
        self.add(("version",), f"version should be {LOCK_VERSION}, not {_show(version)}")
        return type(version) is not int

    def fields(
        self, path: _Place, value: Mapping[str, object], names: Iterable[str], optional: frozenset[str] = frozenset()
    ) -> bool:
        """Report the missing and unknown fields of *value*; True if it has *names* (*optional* ones may be missing)."""
        names = tuple(names)
        if value.keys() == set(names) or (set(names) - optional <= value.keys() <= set(names)):
            return True
        for name in names:
            if name not in value and name not in optional:
                self.add(path, f"{json.dumps(name)} is missing")
        for name in value:
            if name not in names:
                self.add((*path, name), f"unknown field {_show(name)}")
        return False

    def values(self, path: _Place, entry: Mapping[str, object], rules: _Rules) -> bool:
        """Check each field of *entry* that *rules* know; True if all are right."""
        valid = True
        for name, (check, description) in rules.items():
            if name not in entry:
                continue
            value = entry[name]
            if not check(value):
                self.add((*path, name), f"{name} should be {description}, not {_show(value)}")
                valid = False
            elif self.surrogates and not self.text((*path, name), name, value):
                valid = False
        return valid

    def text(self, path: _Place, name: str, value: object) -> bool:
        """False (and a problem) if *value*, a string or list of them, holds a lone surrogate."""
        for item in value if type(value) is list else (value,):
            if type(item) is str and _SURROGATE.search(item):
                self.add(path, f"{name} holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")
                return False
        return True

    def note_types(self, value: object) -> dict[str, NoteTypeSchema]:
        """The note types of the lock's "note_types", each with a problem left out."""
        if type(value) is not dict:
            self.add(("note_types",), f"note_types should be an object of note types by kind, not {_show(value)}")
            return {}
        result = {}
        for kind, entry in value.items():
            schema = self.note_type(kind, entry)
            if schema is not None:
                result[kind] = schema
        return result

    def note_type(self, kind: str, entry: object) -> NoteTypeSchema | None:
        path = ("note_types", kind)
        if kind not in NOTE_KINDS:
            known = " and ".join(json.dumps(k) for k in NOTE_KINDS)
            self.add(path, f"is not a note type of deckgen (they are {known})")
        elif type(entry) is not dict:
            self.add(path, f"should be an object, not {_show(entry)}")
        else:
            return self.checked_type(path, _with_ids(entry))
        return None

    def checked_type(self, path: _Place, entry: dict[str, Any]) -> NoteTypeSchema | None:
        """The note type of a note type *entry*, or None and its problems."""
        if self.fields(path, entry, _TYPE_RULES) & self.values(path, entry, _TYPE_RULES) and self.one_id_each(
            path, entry
        ):
            return NoteTypeSchema(**{**entry, **{name: tuple(entry[name]) for name in _LISTS}})
        return None

    def one_id_each(self, path: _Place, entry: Mapping[str, object]) -> bool:
        """True if each list of ids has one id for each name; else problems."""
        valid = True
        for ids, names in _IDS_OF.items():
            count, given = _count(entry[names]), _count(entry[ids])
            if given != count:
                self.add((*path, ids), f"{ids} should hold one id for each of the {count} {names}, not {given}")
                valid = False
        return valid

    def notes(self, value: object) -> dict[str, LockedNote]:
        """The notes of the lock's "notes", each with a problem left out."""
        if type(value) is not dict:
            self.add(("notes",), f"notes should be an object of notes by key, not {_show(value)}")
            return {}
        result = {}
        quick = not self.surrogates  # an escaped surrogate anywhere: every note the slow way
        for key, entry in value.items():
            note = (quick and self.quick_note(key, entry)) or self.note(key, entry)
            if note is not None:
                result[key] = note
        return result

    def quick_note(self, key: str, entry: object) -> LockedNote | None:
        """The note if *entry* is right, else None: the common case, checked in one expression.

        The rules of _NOTE_RULES, inline (tens of thousands of notes).  A note
        it returns None for is checked again by :meth:`note`, which reports.
        """
        if not (
            type(entry) is dict
            and (entry.keys() == _NOTE_KEYS or (entry.keys() == _UNRELEASED_KEYS and type(entry["released"]) is bool))
            and key
            and not (self.controls and _CONTROL.search(key))
            and _is_guid(guid := entry["guid"])
            and _is_time(entry["mod"])
            and ((removed := entry["removed"]) is None or _is_time(removed))
            and type(digest := entry["hash"]) is str
            and (digest == "removed" or _HEX16.fullmatch(digest))
            and _known(self.topics, entry["topic"], _is_topic)
            and _known(self.decks, entry["deck"], _is_name)
            and _is_note_kind(note_type := entry["note_type"])
            and type(cards := entry["cards"]) is int
            and 1 <= cards <= KINDS[note_type].max_cards
            and type(entry["label"]) is str
            and self.owners.setdefault(guid, key) == key
        ):
            return None
        return LockedNote(**entry)

    def note(self, key: str, entry: object) -> LockedNote | None:
        """One note entry, every problem of it reported; the note if it has none."""
        path = ("notes", key)
        if key == "" or _CONTROL.search(key) or (self.surrogates and _SURROGATE.search(key)):
            self.add(path, "a note's key should be a string, not empty, without control characters")
            return None
        if type(entry) is not dict:
            self.add(path, f"should be an object, not {_show(entry)}")
            return None
        if not self.fields(path, entry, _NOTE_RULES, OPTIONAL_NOTE_FIELDS) & self.values(path, entry, _NOTE_RULES):
            return None
        kind = KINDS[entry["note_type"]]
        if entry["cards"] > kind.max_cards:
            most = " or ".join(map(str, range(1, kind.max_cards + 1)))
            self.add((*path, "cards"), f"cards should be {most} for a {kind.name} note, not {entry['cards']}")
            return None
        owner = self.owners.setdefault(entry["guid"], key)
        if owner != key:
            self.add((*path, "guid"), f"guid {_show(entry['guid'])} is also the guid of note {owner!r}")
            return None
        return LockedNote(**entry)


def _with_ids(entry: dict[str, object]) -> dict[str, object]:
    """A note type *entry* with its ids: those of a lock written before ids, unknown (null)."""
    missing = {ids: names for ids, names in _IDS_OF.items() if ids not in entry}
    if not missing:
        return entry
    return {**entry, **{ids: [None] * _count(entry.get(names)) for ids, names in missing.items()}}


def _count(names: object) -> int:
    return len(names) if type(names) is list else 0


def _known(seen: set[str], value: object, valid: Callable[[object], bool]) -> bool:
    """Whether *value* is valid, each distinct value checked once."""
    if value in seen:
        return True
    if type(value) is str and valid(value):
        seen.add(value)
        return True
    return False


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)
_note_values = attrgetter(*LOCKED_NOTE_FIELDS)
_type_values = attrgetter(*NOTE_TYPE_FIELDS)


def dump_lock(lock: Lock) -> str:
    """The lock as text: sorted, one note per line, so diffs stay readable."""
    result = "\n".join(_lock_lines(lock))
    _check_written_size(len(result) if result.isascii() else len(result.encode("utf-8")))
    return result


def lock_bytes(lock: Lock) -> bytes:
    """:func:`dump_lock`'s text as UTF-8, encoded line by line: a large lock is never held as text and bytes at once."""
    data = bytearray()
    for number, line in enumerate(_lock_lines(lock)):
        data += b"\n" if number else b""
        data += line.encode("utf-8")
    _check_written_size(len(data))
    return bytes(data)


def _lock_lines(lock: Lock) -> Iterator[str]:
    encode = _ENCODER.encode
    types = [
        f"  {encode(kind)}: {encode(dict(zip(NOTE_TYPE_FIELDS, _type_values(schema), strict=True)))}"
        for kind, schema in sorted(lock.note_types.items())
    ]
    yield from ["{", f'"version": {LOCK_VERSION},', '"note_types": {', *_commas(types), "},", '"notes": {']
    keys = sorted(lock.notes)
    for number, key in enumerate(keys, start=1):
        yield _note_line(key, lock.notes[key]) + ("," if number < len(keys) else "")
    yield from ["}", "}", ""]


_STRING = json.encoder.encode_basestring  # a string as _ENCODER writes it
if LOCKED_NOTE_FIELDS != (
    "cards", "deck", "guid", "hash", "label", "mod", "note_type", "released", "removed", "topic"
):  # pragma: no cover - a new field must be written by _note_line too
    raise AssertionError(f"_note_line does not write the lock's fields {LOCKED_NOTE_FIELDS}")


def _note_line(key: str, note: LockedNote) -> str:
    """A note's line: its key, then its fields as sorted JSON (``released`` only when false, so a released
    note's line reads as before releases), written field by field: the text ``_ENCODER`` writes (a test
    compares the two), a few times faster, and a lock has a line per note."""
    released = "" if note.released else '"released": false, '
    removed = "null" if note.removed is None else int(note.removed)
    return (
        f'  {_STRING(key)}: {{"cards": {int(note.cards)}, "deck": {_STRING(note.deck)}, "guid": {_STRING(note.guid)}, '
        f'"hash": {_STRING(note.hash)}, "label": {_STRING(note.label)}, "mod": {int(note.mod)}, '
        f'"note_type": {_STRING(note.note_type)}, {released}"removed": {removed}, "topic": {_STRING(note.topic)}}}'
    )


def note_lines(text: str) -> dict[str, int]:
    """The line of each note's key in a lock's *text* as :func:`dump_lock` writes it: one note per line.

    The report points at a removed note's line; a lock written another way gives no lines, never wrong ones.
    """
    lines: dict[str, int] = {}
    decode = json.JSONDecoder().raw_decode
    in_notes = False
    for number, line in enumerate(text.splitlines(), 1):
        if line == '"notes": {':
            in_notes = True
        elif in_notes and line.startswith('  "'):
            with contextlib.suppress(ValueError):
                key, end = decode(line, 2)
                if isinstance(key, str) and line.startswith(": {", end):
                    lines[key] = number
    return lines


def _commas(lines: list[str]) -> list[str]:
    """*lines* as the members of a JSON object: a comma after each but the last."""
    return [line + "," for line in lines[:-1]] + lines[-1:]


def _check_written_size(size: int) -> None:
    """What is written (*size* bytes) must read back (read_lock's limit), or the next plan would refuse it."""
    if size > MAX_LOCK_BYTES:
        raise DeckgenError(
            f"the lock would be {size:,} bytes, over the {MAX_LOCK_BYTES:,} a lock may have; split the source"
        )


def check_note_types(
    current: Mapping[str, NoteTypeSchema], lock: Lock, lock_path: str
) -> list[Problem]:
    """Refuse a note type whose contract changed under the same id.

    Anki would import it as a copy ("Name+") and stop updating every existing
    note.  A deliberate change is a *new version*: a new id and name (see
    README, "Changing a note type").
    """
    problems = []
    for kind, schema in current.items():
        locked = lock.note_types.get(kind)
        if locked is not None and locked.id == schema.id and not locked.same_contract(schema):
            problems.append(_contract_changed(locked, schema, lock_path))
    return problems


def _contract_changed(locked: NoteTypeSchema, schema: NoteTypeSchema, lock_path: str) -> Problem:
    """Why the note type *schema* cannot be imported over *locked* in place."""
    lists = [part for part in _Parts.of(locked, schema) if not part.match()]
    changes = " and ".join(part.change() for part in lists)
    reasons = "; ".join(reason for part in lists for reason in part.reasons())
    return Problem(
        lock_path,
        1,
        f"note type {schema.name!r}",
        f"its {changes} changed under the same id {schema.id}; Anki would import it as a copy "
        f"'{schema.name}+' and stop updating students' notes: {reasons}. {_IN_PLACE} Revert the change, "
        "or make it a new note type version (new id and name; see README)",
    )


_IN_PLACE = (
    "Anki renames a field or template in place, matched by its id (rename one by its key in RENAMED_FIELDS "
    "or RENAMED_TEMPLATES, generator/anki/notetypes.py), but never adds, removes or reorders one."
)
_HELD_BY = {
    "field": "every student's note of this type holds it",
    "template": "students' cards were made from it",
}


@dataclass(frozen=True)
class _Parts:
    """The fields (or the templates) of a note type: as the lock has them, and as built now."""

    word: str
    """"field" or "template"."""
    names: tuple[str, ...]
    ids: tuple[int | None, ...]
    new_names: tuple[str, ...]
    new_ids: tuple[int | None, ...]

    @staticmethod
    def of(locked: NoteTypeSchema, schema: NoteTypeSchema) -> tuple[_Parts, _Parts]:
        """The fields and the templates of *locked* and *schema*."""
        return (
            _Parts("field", locked.fields, locked.field_ids, schema.fields, schema.field_ids),
            _Parts("template", locked.templates, locked.template_ids, schema.templates, schema.template_ids),
        )

    def match(self) -> bool:
        """True if Anki matches the new list to the locked one (see NoteTypeSchema.same_contract)."""
        return all_match(self.names, self.ids, self.new_names, self.new_ids)

    def change(self) -> str:
        """The change, as "fields [old names] -> [new names]" (or their ids, if only those changed)."""
        if self.names == self.new_names:
            return f"{self.word} ids {list(self.ids)} -> {list(self.new_ids)}"
        return f"{self.word}s {list(self.names)} -> {list(self.new_names)}"

    def reasons(self) -> list[str]:
        """What in the change Anki cannot import in place."""
        if None in self.ids:
            return [
                f"students' {self.word}s have no ids yet, so Anki matches them by name (build, and release, once "
                "without the change: that build gives them their ids; then rename)"
            ]
        old, new = dict(zip(self.ids, self.names, strict=True)), dict(zip(self.new_ids, self.new_names, strict=True))
        held = _HELD_BY[self.word]
        removed = [f"{self.word} {name!r} is removed, and {held}" for i, name in old.items() if i not in new]
        added = [f"{self.word} {name!r} is added" for i, name in new.items() if i not in old]
        return removed + added or [f"the {self.word}s are reordered"]


ChangeKind = Literal["added", "updated", "unchanged", "removed"]
"""What a re-import does to a note."""
CHANGE_KINDS: tuple[ChangeKind, ...] = get_args(ChangeKind)


@dataclass(frozen=True)
class Changes:
    """What a re-import of one package would do, against the lock: a count of each change kind."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    def of(self, kind: ChangeKind) -> int:
        """How many notes a re-import would treat as *kind*."""
        count: int = getattr(self, kind)  # the fields are the change kinds (count() relies on it too)
        return count

    @classmethod
    def count(cls, kinds: Iterable[ChangeKind]) -> Changes:
        """Tally change kinds (see :data:`CHANGE_KINDS`)."""
        tally = dict.fromkeys(CHANGE_KINDS, 0)
        for kind in kinds:
            tally[kind] += 1
        return cls(**tally)


@dataclass(frozen=True)
class Resolution:
    """Modification times for this build, what each note's import will do, and the next lock."""

    times: Mapping[str, int]
    note_type_times: Mapping[str, int]
    kinds: Mapping[str, ChangeKind]
    tombstones: tuple[tuple[str, LockedNote], ...]
    lock: Lock


def resolve(
    notes: Iterable[NoteSpec],
    hashes: Mapping[str, str],
    note_types: Mapping[str, NoteTypeSchema],
    lock: Lock,
    now: int,
    complete: bool = True,
) -> Resolution:
    """Decide each note's modification time and what a re-import would do.

    An unchanged note keeps its locked time; an edited or new one gets *now*
    (or one second past its locked time, should the clock be behind it).  In
    a *complete* build, a note in the lock but not in the sources becomes a
    tombstone: a lock entry marked ``removed``, kept for
    :data:`REMOVED_RETENTION_SECONDS` and never written to a package (a note
    with no card is a fault Anki's Check Database "repairs" with a card in
    Default).  A partial build (a custom selection)
    only refreshes the lock entries of the notes it built.
    """
    _check_build_time(now)
    resolver = _Resolver(lock, now, complete)
    for note in notes:
        resolver.note(note, hashes[note.key])
    tombstones = resolver.tombstones() if complete else []
    if resolver.problems:
        raise ContentError(resolver.problems)
    type_times, new_types = _note_type_times(note_types, lock, now)
    return Resolution(
        resolver.times, type_times, resolver.kinds, tuple(sorted(tombstones)), Lock(resolver.notes, new_types)
    )


def _check_build_time(now: int) -> None:
    if type(now) is not int or not 0 <= now <= MAX_TIME:
        raise DeckgenError(
            f"the build time {now!r} is not a whole number of seconds from 0 to {MAX_TIME}; check SOURCE_DATE_EPOCH"
        )


_NO_NEWER_TIME = f"mod is {MAX_TIME}, the latest time a lock may hold: the note changed and cannot get a newer one"


class _Resolver:
    """The notes' part of :func:`resolve`: each note's time and change kind, the next lock's notes, problems."""

    def __init__(self, lock: Lock, now: int, complete: bool) -> None:
        self.lock = lock
        self.now = now
        self.times: dict[str, int] = {}
        self.kinds: dict[str, ChangeKind] = {}
        self.notes: dict[str, LockedNote] = {} if complete else dict(lock.notes)
        self.built: set[str] = set()
        self.owners = {locked.guid: key for key, locked in lock.notes.items()}
        self.problems: list[Problem] = []

    def note(self, note: NoteSpec, digest: str) -> None:
        """Resolve a note of the source, whose content hash is *digest*."""
        self.check_guid(note)
        locked = self.lock.notes.get(note.key)
        kind, mod = self.change(note.key, locked, digest)
        self.kinds[note.key] = kind
        self.times[note.guid] = mod
        self.built.add(note.key)
        # A note keeps whether it was ever released; a new one is in no release until `build --release`.
        released = locked is not None and locked.released
        self.notes[note.key] = LockedNote(
            note.guid, digest, mod, note.topic, note.deck, note.note_type, note.cards, note.label, released=released
        )

    def check_guid(self, note: NoteSpec) -> None:
        """A lock entry holding a note's GUID: two notes in one package (or lock) with one GUID."""
        owner = self.owners.get(note.guid, note.key)
        if owner != note.key:
            what = f"guid {_show(note.guid)} is the guid of the source's note {note.key!r}"
            self.problems.append(_lock_problem(self.lock, owner, "guid", what))

    def change(self, key: str, locked: LockedNote | None, digest: str) -> tuple[ChangeKind, int]:
        """What a re-import does to note *key*, and its modification time.

        A removed note that comes back with the text it had keeps its time,
        however often it went and came back: a student who kept it has exactly
        that text, and a newer time would overwrite their own edits of it.
        """
        if locked is not None and locked.hash == digest:
            return ("unchanged" if locked.removed is None else "added"), locked.mod
        if locked is None:
            return "added", self.now
        mod = max(self.now, locked.mod + 1)
        if mod > MAX_TIME:
            self.problems.append(_lock_problem(self.lock, key, "mod", _NO_NEWER_TIME))
        return "updated", mod

    def tombstones(self) -> list[tuple[str, LockedNote]]:
        """The lock's notes the build did not make, as tombstones (those past the retention dropped)."""
        result = []
        for key, locked in self.lock.notes.items():
            tombstone = None if key in self.built else self.tombstone(key, locked)
            if tombstone is not None:
                result.append((key, tombstone))
                self.times[tombstone.guid] = tombstone.mod
                self.notes[key] = tombstone
        return result

    def tombstone(self, key: str, locked: LockedNote) -> LockedNote | None:
        # A note no release carried is on no student's device: nothing to mark, so nothing to remember.
        if not locked.released:
            return None
        # The entry keeps the note's last hash and time: if it comes back
        # unchanged it is the note students kept, and keeps its time.
        if locked.removed is None:
            self.kinds[key] = "removed"
            return replace(locked, removed=self.now)
        if self.now - locked.removed > REMOVED_RETENTION_SECONDS:
            return None
        self.kinds[key] = "unchanged"  # removed by an earlier build
        return locked


def released(lock: Lock, keys: Iterable[str] | None = None) -> Lock:
    """*lock* after a release: its live notes of *keys* (every live note when None) marked released."""
    chosen = None if keys is None else set(keys)
    notes = {
        key: replace(note, released=True)
        if not note.released and note.removed is None and (chosen is None or key in chosen) else note
        for key, note in lock.notes.items()
    }
    return Lock(notes, lock.note_types, origin=lock.origin)


def unreleased(lock: Lock) -> int:
    """How many live notes of *lock* no release has carried yet."""
    return sum(1 for note in lock.notes.values() if not note.released and note.removed is None)


def _note_type_times(
    note_types: Mapping[str, NoteTypeSchema], lock: Lock, now: int
) -> tuple[dict[str, int], dict[str, NoteTypeSchema]]:
    """Each note type's modification time, and the next lock's types.

    A note type keeps its locked time while nothing of it changes; else it gets
    a newer one (Anki updates a note type only from a newer one): so a new
    look, a renamed field or template, and new ids all reach students.
    """
    times = {}
    new_types = dict(lock.note_types)
    for kind, schema in note_types.items():
        mod = _note_type_time(lock.note_types.get(kind), schema, now)
        times[kind] = mod
        new_types[kind] = replace(schema, mod=mod)
    return times, new_types


def _note_type_time(locked: NoteTypeSchema | None, schema: NoteTypeSchema, now: int) -> int:
    if locked is None:
        return now
    if locked.identical(schema):
        return locked.mod
    return max(now, min(locked.mod + 1, MAX_TIME))  # newer, should the clock be behind the lock


def _lock_problem(lock: Lock, key: str, name: str, what: str) -> Problem:
    """A problem with the lock entry of note *key*, found while resolving against the source."""
    if lock.origin is None:  # a lock made in memory: no file, no line
        return _content_problem(LOCK_NAME, 1, f"note {key!r}", what)
    return lock.origin.problem(("notes", key, name), what)
