"""The build lock: what each note looked like when it was last built, and when.

Anki updates an imported note only if its modification time is newer than the
one in the collection.  So an unchanged note must keep the time it was first
built with (or a re-import would overwrite notes a student edited), and an
edited note must get a newer one (or the edit would never arrive).  The lock,
committed beside the sources, records for every note its GUID, a hash of its
content and that time, and for every note type its contract (fields and
template names) and a hash of its templates and CSS.

It is JSON with one note per line, sorted, so that a diff of the lock reads as
a list of the notes a change touched.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from bisect import bisect_left
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import accumulate
from json.decoder import JSONArray, JSONObject
from json.scanner import py_make_scanner

from generator.anki.schema import NoteTypeSchema, content_hash
from generator.errors import ContentError, DeckgenError, Problem
from generator.source.content import REMOVED_TAG
from generator.cards.notes import CLOZE, COMPARISON, NoteSpec
from generator.source.loader import ID_PATTERN

LOCK_NAME = "deckgen.lock"
LOCK_VERSION = 1
REMOVED_RETENTION_SECONDS = 60 * 24 * 3600
"""How long a removed note is still re-emitted (tagged) so every student's import meets it."""


@dataclass(frozen=True, slots=True)  # tens of thousands of them: no per-instance dict
class LockedNote:
    """A note as last built: identity, content hash, time, and where it lived."""

    guid: str
    hash: str
    mod: int
    topic: str
    deck: str
    note_type: str
    cards: int
    label: str
    removed: int | None = None


@dataclass(frozen=True)
class Lock:
    """The whole lock file."""

    notes: Mapping[str, LockedNote]
    note_types: Mapping[str, NoteTypeSchema]
    origin: _Origin | None = field(default=None, compare=False, repr=False)
    """The file it was read from, to locate problems found later (see :func:`resolve`)."""


EMPTY_LOCK = Lock({}, {})


def read_lock(path: str) -> Lock:
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
    deep = _too_deep(data)
    if deep is not None:
        line = data.count(b"\n", 0, deep) + 1
        raise ContentError([Problem(path, line, "", _TOO_DEEP)])
    origin = _Origin(path, _decode(path, data))
    try:
        parsed = _parse(origin)
    except json.JSONDecodeError as exc:
        raise ContentError([Problem(path, exc.lineno, "", f"the lock is not valid JSON: {exc.msg}")]) from None
    except RecursionError:  # not expected: _too_deep has refused whatever nests this deep
        raise ContentError([Problem(path, 1, "", _TOO_DEEP)]) from None
    # Strings are checked for lone surrogates and control characters only if an escape could make one.
    checker = _Checker(
        origin,
        surrogates=_SURROGATE_ESCAPE.search(data) is not None,
        controls=_CONTROL_ESCAPE.search(data) is not None,
    )
    lock = checker.lock(parsed)
    checker.raise_if_any()
    return lock


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
NOTE_KINDS = (CLOZE, COMPARISON)

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
    try:
        info = os.stat(path)
        if stat.S_ISDIR(info.st_mode):
            raise _refused(path, 1, "is a directory, not a lock file")
        if not stat.S_ISREG(info.st_mode):
            raise _refused(
                path, 1, "is not a regular file (a device, pipe or socket); restore the lock from version control"
            )
        size = info.st_size
        data = b""
        if size <= MAX_LOCK_BYTES:
            with open(path, "rb") as handle:
                data = handle.read(MAX_LOCK_BYTES + 1)  # the file may have grown since stat
            size = max(size, len(data))
    except OSError as exc:
        raise _refused(path, 1, f"the lock cannot be read: {exc.strerror or exc}") from None
    if size > MAX_LOCK_BYTES:
        limit = f"the limit is {MAX_LOCK_BYTES:,}"
        raise _refused(path, 1, f"the lock is {size:,} bytes; {limit}; restore it from version control")
    return data


def _decode(path: str, data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        raise _refused(path, 1, "the lock starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        byte = f"byte 0x{data[exc.start]:02x}"
        raise _refused(path, line, f"the lock is not valid UTF-8 ({byte}); restore it from version control") from None


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


_Place = tuple  # where a value is in the lock: the keys (and list indexes) down to it


@dataclass
class _Located:
    """The lock parsed again with the line of every value: only to report problems."""

    data: object
    lines: dict[_Place, int]
    duplicates: list[tuple[_Place, str, int, int]]
    """For each repeated key: the path of its object, the key, its line, the line of its first occurrence."""


class _Origin:
    """The file a lock was read from: its path, and its text to locate problems in."""

    def __init__(self, path: str, text: str) -> None:
        self.path = path
        self.text = text
        self._located: _Located | None = None

    def located(self) -> _Located:
        if self._located is None:
            self._located = _locate(self.text)
        return self._located

    def problem(self, path: _Place, what: str, line: int | None = None) -> Problem:
        """A problem with the value at *path*.

        It reads "LOCK:N: WHERE: the lock cannot be read: WHAT; restore it
        from version control", located like a source's problems.
        """
        line = self.located().lines.get(path, 1) if line is None else line
        return _content_problem(self.path, line, _where(path), what)


def _content_problem(path: str, line: int, where: str, what: str) -> Problem:
    return Problem(path, line, where, f"the lock cannot be read: {what}; restore it from version control")


class _Node:
    """An object or list of :func:`_locate`: its items with where each value starts."""

    __slots__ = ("items", "is_object")

    def __init__(self, items: list[tuple[str | int, int, object]], is_object: bool) -> None:
        self.items = items
        self.is_object = is_object


def _locate(text: str) -> _Located:
    """Parse *text* (JSON no deeper than MAX_DEPTH) noting the line of every value.

    json's pure-Python scanner, with its object and list parsers wrapped to
    record where each value starts; several times slower than json.loads,
    so used only once a problem is to be reported.
    """

    def recorder(scan_once, starts: list[int]):  # noqa: ANN001, ANN202
        def recording(string: str, index: int):  # noqa: ANN202
            starts.append(index)
            return scan_once(string, index)

        return recording

    def parse_object(s_and_end, strict, scan_once, object_hook, pairs_hook, memo):  # noqa: ANN001, ANN202, ARG001
        starts: list[int] = []
        pairs, end = JSONObject(s_and_end, strict, recorder(scan_once, starts), None, list, memo)
        return _Node([(key, start, value) for (key, value), start in zip(pairs, starts, strict=False)], True), end

    def parse_array(s_and_end, scan_once):  # noqa: ANN001, ANN202
        starts: list[int] = []
        values, end = JSONArray(s_and_end, recorder(scan_once, starts))
        items = [(index, start, value) for index, (value, start) in enumerate(zip(values, starts, strict=False))]
        return _Node(items, False), end

    decoder = json.JSONDecoder(parse_int=_parse_int)
    decoder.parse_object = parse_object  # type: ignore[assignment]
    decoder.parse_array = parse_array  # type: ignore[assignment]
    decoder.scan_once = py_make_scanner(decoder)
    newlines = [match.start() for match in re.finditer("\n", text)]
    lines: dict[_Place, int] = {(): bisect_left(newlines, len(text) - len(text.lstrip())) + 1}
    duplicates: list[tuple[_Place, str, int, int]] = []

    def build(node: object, path: _Place) -> object:
        if not isinstance(node, _Node):
            return node
        result: dict = {}
        for key, start, value in node.items:
            line = bisect_left(newlines, start) + 1
            if key in result:
                duplicates.append((path, str(key), line, lines[(*path, key)]))
                continue
            lines[(*path, key)] = line
            result[key] = build(value, (*path, key))
        return result if node.is_object else list(result.values())

    return _Located(build(decoder.decode(text), ()), lines, duplicates)


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


def _is_guid(value: object) -> bool:
    return type(value) is str and value != "" and value.isprintable() and " " not in value


def _is_hash(value: object) -> bool:
    return type(value) is str and _HEX16.fullmatch(value) is not None


def _is_topic(value: object) -> bool:
    return type(value) is str and ID_PATTERN.fullmatch(value) is not None


_Rules = dict[str, tuple[Callable[[object], bool], str]]
_NOTE_FIELDS: _Rules = {
    "cards": (lambda v: type(v) is int and v in (1, 2), "1 or 2"),
    "deck": (_is_name, "a deck name (not empty, without control characters)"),
    "guid": (_is_guid, "a GUID (a string, not empty, without spaces or control characters)"),
    "hash": (lambda v: v == "removed" or _is_hash(v), 'a content hash (16 hexadecimal digits) or "removed"'),
    "label": (lambda v: type(v) is str, "a string"),
    "mod": (_is_time, _TIME),
    "note_type": (lambda v: type(v) is str and v in NOTE_KINDS, " or ".join(json.dumps(k) for k in NOTE_KINDS)),
    "removed": (lambda v: v is None or _is_time(v), f"null or {_TIME}"),
    "topic": (_is_topic, "a topic id (lowercase letters and digits, joined by - or _)"),
}
_NOTE_KEYS = frozenset(_NOTE_FIELDS)
_TYPE_FIELDS: _Rules = {
    "fields": (_is_names, "a list of field names"),
    "hash": (_is_hash, "a hash (16 hexadecimal digits)"),
    "id": (
        lambda v: type(v) is int and 1 <= v <= MAX_TYPE_ID, f"a note type id (a whole number from 1 to {MAX_TYPE_ID})"
    ),
    "mod": (_is_time, _TIME),
    "name": (_is_name, "a note type name (not empty, without control characters)"),
    "templates": (_is_names, "a list of template names"),
}
_TOP_FIELDS = ("version", "note_types", "notes")


class _Checker:
    """Validates a parsed lock field by field, collecting every problem."""

    def __init__(self, origin: _Origin, surrogates: bool = True, controls: bool = True) -> None:
        self.origin = origin
        self.surrogates = surrogates
        """An escaped UTF-16 surrogate somewhere: look for a lone one in every string."""
        self.controls = controls
        """An escape somewhere that may be a control character: look for them in keys."""
        self.found: list[tuple[_Place, str]] = []

    def add(self, path: _Place, what: str) -> None:
        self.found.append((path, what))

    def raise_if_any(self) -> None:
        located = self.origin._located
        duplicates = located.duplicates if located is not None else []
        if not self.found and not duplicates:
            return
        problems = [self.origin.problem(path, what) for path, what in self.found]
        for path, key, line, first in duplicates:
            if path in (("notes",), ("note_types",)):
                what = f"appears twice in {json.dumps(path[0])}"
            else:
                what = f"{_show(key)} appears twice"
            if first != line:
                what += f" (first on line {first})"
            problems.append(self.origin.problem((*path, key), what, line))
        raise ContentError(problems)

    def lock(self, data: object) -> Lock:
        if type(data) is not dict:
            self.add((), f'the lock should be an object of "version", "note_types" and "notes", not {_show(data)}')
            return EMPTY_LOCK
        self.fields((), data, _TOP_FIELDS)
        if "version" in data:
            version = data["version"]
            if type(version) is not int or version != LOCK_VERSION:
                self.add(("version",), f"version should be {LOCK_VERSION}, not {_show(version)}")
                if type(version) is int:
                    return EMPTY_LOCK  # another version's lock: its fields are not ours to judge
        note_types = self.note_types(data["note_types"]) if "note_types" in data else {}
        notes = self.notes(data["notes"]) if "notes" in data else {}
        return Lock(notes, note_types, origin=self.origin)

    def fields(self, path: _Place, value: dict, names: Iterable[str]) -> bool:
        """Report the missing and unknown fields of *value*; True if it has exactly *names*."""
        names = tuple(names)
        if value.keys() == set(names):
            return True
        for name in names:
            if name not in value:
                self.add(path, f"{json.dumps(name)} is missing")
        for name in value:
            if name not in names:
                self.add((*path, name), f"unknown field {_show(name)}")
        return False

    def values(self, path: _Place, entry: dict, rules: _Rules) -> bool:
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
        if type(value) is not dict:
            self.add(("note_types",), f"note_types should be an object of note types by kind, not {_show(value)}")
            return {}
        result = {}
        for kind, entry in value.items():
            path = ("note_types", kind)
            if kind not in NOTE_KINDS:
                known = " and ".join(json.dumps(k) for k in NOTE_KINDS)
                self.add(path, f"is not a note type of deckgen (they are {known})")
            elif type(entry) is not dict:
                self.add(path, f"should be an object, not {_show(entry)}")
            elif self.fields(path, entry, _TYPE_FIELDS) & self.values(path, entry, _TYPE_FIELDS):
                result[kind] = NoteTypeSchema(
                    entry["id"], entry["name"], tuple(entry["fields"]), tuple(entry["templates"]),
                    entry["hash"], entry["mod"],
                )
        return result

    def notes(self, value: object) -> dict[str, LockedNote]:
        if type(value) is not dict:
            self.add(("notes",), f"notes should be an object of notes by key, not {_show(value)}")
            return {}
        result = {}
        owners: dict[str, str] = {}
        hex16 = _HEX16.fullmatch
        # Few distinct topics and decks: each is checked once (by _is_topic, _is_name), then looked up.
        topics: set[object] = set()
        decks: set[object] = set()
        control = _CONTROL.search if self.controls else lambda key: None
        for key, entry in value.items():
            # The common case, a valid entry, in one expression: the rules of _NOTE_FIELDS, inline.
            if (
                not self.surrogates
                and type(entry) is dict
                and entry.keys() == _NOTE_KEYS
                and key
                and not control(key)
                and type(guid := entry["guid"]) is str
                and guid
                and guid.isprintable()
                and " " not in guid
                and type(mod := entry["mod"]) is int
                and 0 <= mod <= MAX_TIME
                and ((removed := entry["removed"]) is None or (type(removed) is int and 0 <= removed <= MAX_TIME))
                and type(digest := entry["hash"]) is str
                and (digest == "removed" or hex16(digest))
                and type(topic := entry["topic"]) is str
                and (topic in topics or (_is_topic(topic) and not topics.add(topic)))
                and type(deck := entry["deck"]) is str
                and (deck in decks or (_is_name(deck) and not decks.add(deck)))
                and type(note_type := entry["note_type"]) is str
                and note_type in NOTE_KINDS
                and type(cards := entry["cards"]) is int
                and (cards == 1 or (cards == 2 and note_type != CLOZE))
                and type(label := entry["label"]) is str
                and owners.setdefault(guid, key) == key
            ):
                result[key] = LockedNote(guid, digest, mod, topic, deck, note_type, cards, label, removed)
            else:
                note = self.note(key, entry, owners)
                if note is not None:
                    result[key] = note
        return result

    def note(self, key: str, entry: object, owners: dict[str, str]) -> LockedNote | None:
        """One note entry, every problem of it reported; the note if it has none."""
        path = ("notes", key)
        if key == "" or _CONTROL.search(key) or (self.surrogates and _SURROGATE.search(key)):
            self.add(path, "a note's key should be a string, not empty, without control characters")
            return None
        if type(entry) is not dict:
            self.add(path, f"should be an object, not {_show(entry)}")
            return None
        if not self.fields(path, entry, _NOTE_FIELDS) & self.values(path, entry, _NOTE_FIELDS):
            return None
        if entry["note_type"] == CLOZE and entry["cards"] != 1:
            self.add((*path, "cards"), f"cards should be 1 for a cloze note, not {entry['cards']}")
            return None
        guid = entry["guid"]
        owner = owners.setdefault(guid, key)
        if owner != key:
            self.add((*path, "guid"), f"guid {_show(guid)} is also the guid of note {owner!r}")
            return None
        return LockedNote(
            guid, entry["hash"], entry["mod"], entry["topic"], entry["deck"],
            entry["note_type"], entry["cards"], entry["label"], entry["removed"],
        )


def dump_lock(lock: Lock) -> str:
    """The lock as text: sorted, one note per line, so diffs stay readable."""
    lines = ["{", f'"version": {LOCK_VERSION},', '"note_types": {']
    types = sorted(lock.note_types.items())
    for index, (kind, schema) in enumerate(types):
        comma = "," if index < len(types) - 1 else ""
        value = {**schema.__dict__, "fields": list(schema.fields), "templates": list(schema.templates)}
        lines.append(f"  {json.dumps(kind)}: {json.dumps(value, sort_keys=True, ensure_ascii=False)}{comma}")
    lines.append("},")
    lines.append('"notes": {')
    text = json.JSONEncoder(ensure_ascii=False).encode
    notes = sorted(lock.notes.items())
    for index, (key, n) in enumerate(notes):
        comma = "," if index < len(notes) - 1 else ""
        removed = "null" if n.removed is None else n.removed
        # The same text as json.dumps(..., sort_keys=True), written out: a third of the time.
        lines.append(
            f'  {text(key)}: {{"cards": {n.cards}, "deck": {text(n.deck)}, "guid": {text(n.guid)}, '
            f'"hash": {text(n.hash)}, "label": {text(n.label)}, "mod": {n.mod}, '
            f'"note_type": {text(n.note_type)}, "removed": {removed}, "topic": {text(n.topic)}}}{comma}'
        )
    lines.append("}")
    lines.append("}")
    result = "\n".join(lines) + "\n"
    if len(result) > MAX_LOCK_BYTES // 4 and len(result.encode("utf-8")) > MAX_LOCK_BYTES:
        # What is written must read back (read_lock's limit), or the next plan would refuse it.
        size = len(result.encode("utf-8"))
        raise DeckgenError(
            f"the lock would be {size:,} bytes, over the {MAX_LOCK_BYTES:,} a lock may have; split the source"
        )
    return result


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
        if locked is None or locked.id != schema.id or locked.same_contract(schema):
            continue
        changes = []
        if locked.fields != schema.fields:
            changes.append(f"fields {list(locked.fields)} -> {list(schema.fields)}")
        if locked.templates != schema.templates:
            changes.append(f"templates {list(locked.templates)} -> {list(schema.templates)}")
        problems.append(
            Problem(
                lock_path,
                1,
                f"note type {schema.name!r}",
                f"its {' and '.join(changes)} changed under the same id {schema.id}; Anki would "
                f"import it as a copy '{schema.name}+' and stop updating students' notes. Revert the "
                "change, or make it a new note type version (new id and name; see README)",
            )
        )
    return problems


CHANGE_KINDS = ("added", "updated", "unchanged", "removed")


@dataclass(frozen=True)
class Changes:
    """What a re-import of one package would do, against the lock."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0

    @classmethod
    def count(cls, kinds: Iterable[str]) -> Changes:
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
    kinds: Mapping[str, str]
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
    tombstone: re-emitted, tagged :data:`REMOVED_TAG`, for
    :data:`REMOVED_RETENTION_SECONDS`.  A partial build (a custom selection)
    only refreshes the lock entries of the notes it built.
    """
    if type(now) is not int or not 0 <= now <= MAX_TIME:
        raise DeckgenError(
            f"the build time {now!r} is not a whole number of seconds from 0 to {MAX_TIME}; check SOURCE_DATE_EPOCH"
        )
    times: dict[str, int] = {}
    kinds: dict[str, str] = {}
    new_notes: dict[str, LockedNote] = {} if complete else dict(lock.notes)
    built: set[str] = set()
    owners = {locked.guid: key for key, locked in lock.notes.items()}
    problems: list[Problem] = []
    for note in notes:
        locked = lock.notes.get(note.key)
        digest = hashes[note.key]
        owner = owners.get(note.guid, note.key)
        if owner != note.key:
            # A lock entry holding a note's GUID: two notes in one package (or lock) with one GUID.
            problems.append(_lock_problem(
                lock, owner, "guid", f"guid {_show(note.guid)} is the guid of the source's note {note.key!r}"
            ))
        if locked is not None and locked.hash == digest and locked.removed is None:
            kinds[note.key], mod = "unchanged", locked.mod
        else:
            kinds[note.key] = "added" if locked is None else "updated"
            mod = max(now, locked.mod + 1) if locked is not None else now
            if mod > MAX_TIME:
                problems.append(_lock_problem(lock, note.key, "mod", _NO_NEWER_TIME))
        times[note.guid] = mod
        built.add(note.key)
        new_notes[note.key] = LockedNote(
            note.guid, digest, mod, note.topic, note.deck, note.note_type, note.cards, note.label
        )
    tombstones = []
    for key, locked in lock.notes.items() if complete else ():
        if key in built:
            continue
        if locked.removed is None:
            if locked.mod + 1 > MAX_TIME:
                problems.append(_lock_problem(lock, key, "mod", _NO_NEWER_TIME))
            locked = replace(locked, removed=now, mod=max(now, locked.mod + 1), hash="removed")
            kinds[key] = "removed"
        elif now - locked.removed > REMOVED_RETENTION_SECONDS:
            continue
        else:
            kinds[key] = "unchanged"  # a tombstone students already have
        tombstones.append((key, locked))
        times[locked.guid] = locked.mod
        new_notes[key] = locked
    if problems:
        raise ContentError(problems)
    type_times = {}
    new_types = dict(lock.note_types)
    for kind, schema in note_types.items():
        locked_type = lock.note_types.get(kind)
        same = locked_type is not None and locked_type.id == schema.id and locked_type.hash == schema.hash
        mod = locked_type.mod if same and locked_type else now
        type_times[kind] = mod
        new_types[kind] = replace(schema, mod=mod)
    return Resolution(times, type_times, kinds, tuple(sorted(tombstones)), Lock(new_notes, new_types))


_NO_NEWER_TIME = f"mod is {MAX_TIME}, the latest time a lock may hold: the note changed and cannot get a newer one"


def _lock_problem(lock: Lock, key: str, name: str, what: str) -> Problem:
    """A problem with the lock entry of note *key*, found while resolving against the source."""
    if lock.origin is None:  # a lock made in memory: no file, no line
        return _content_problem(LOCK_NAME, 1, f"note {key!r}", what)
    return lock.origin.problem(("notes", key, name), what)
