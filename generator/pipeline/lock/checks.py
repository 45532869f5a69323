"""What every field of a lock may hold, checked in one pass that collects every problem.

The rules are a table, a row a field, in the order the lock writes them
(:data:`~.model.LOCKED_NOTE_FIELDS`), so a field added to the records without
its rule fails at import.  A valid note, the common case, is checked in one
expression (:meth:`Checker.quick_note`); only a note with a problem is checked
rule by rule, to say every problem it has.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeGuard

from generator.anki.schema import NoteTypeSchema
from generator.cards.kinds import KIND_NAMES, KINDS, MAX_CARDS
from generator.errors import ContentError, Problem
from generator.pipeline.lock.located import Origin, Place, show
from generator.pipeline.lock.model import (
    EMPTY_LOCK,
    LOCK_VERSION,
    LOCKED_NOTE_FIELDS,
    MAX_TIME,
    NOTE_TYPE_FIELDS,
    OPTIONAL_NOTE_FIELDS,
    Lock,
    LockedNote,
    is_time,
)
from generator.source.folder import ID_PATTERN

if TYPE_CHECKING:
    from generator.cards.notes import NoteKind

MAX_TYPE_ID = 2**63 - 1
_TIME = f"a whole number of seconds from 0 to {MAX_TIME}"
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_CONTROL = re.compile(r"[\x00-\x1f]")  # what a source's deck names may not contain
_HEX16 = re.compile("[0-9a-f]{16}")


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
    return type(value) is str and value in KIND_NAMES


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
    "mod": (is_time, _TIME),
    "note_type": (_is_note_kind, " or ".join(json.dumps(k) for k in KIND_NAMES)),
    "released": (lambda v: type(v) is bool, "true or false"),
    "removed": (lambda v: v is None or is_time(v), f"null or {_TIME}"),
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
    "mod": (is_time, _TIME),
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


class Checker:
    """Validates a parsed lock field by field, collecting every problem."""

    def __init__(self, origin: Origin, *, surrogates: bool = True, controls: bool = True) -> None:
        self.origin = origin
        self.surrogates = surrogates
        """An escaped UTF-16 surrogate somewhere: look for a lone one in every string."""
        self.controls = controls
        """An escape somewhere that may be a control character: look for them in keys."""
        self.found: list[tuple[Place, str]] = []
        self.owners: dict[str, str] = {}
        """The key of the note each GUID was first seen in."""
        # Few distinct topics and decks: each is checked once, then looked up.
        self.topics: set[str] = set()
        self.decks: set[str] = set()

    def add(self, path: Place, what: str) -> None:
        self.found.append((path, what))

    def raise_if_any(self) -> None:
        """Raise a ContentError of every problem found, repeated keys last."""
        duplicates = self.origin.duplicates()
        if not self.found and not duplicates:
            return
        problems = [self.origin.problem(path, what) for path, what in self.found]
        problems += [self.duplicate(*duplicate) for duplicate in duplicates]
        raise ContentError(problems)

    def duplicate(self, path: Place, key: str, line: int, first: int) -> Problem:
        if path in (("notes",), ("note_types",)):
            what = f"appears twice in {json.dumps(path[0])}"
        else:
            what = f"{show(key)} appears twice"
        if first != line:
            what += f" (first on line {first})"
        return self.origin.problem((*path, key), what, line)

    def lock(self, data: object) -> Lock:
        """The lock *data* describes, its problems noted (an empty lock if it is no lock of ours)."""
        if type(data) is not dict:
            self.add((), f'the lock should be an object of "version", "note_types" and "notes", not {show(data)}')
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
        self.add(("version",), f"version should be {LOCK_VERSION}, not {show(version)}")
        return type(version) is not int

    def fields(
        self, path: Place, value: Mapping[str, object], names: Iterable[str], optional: frozenset[str] = frozenset()
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
                self.add((*path, name), f"unknown field {show(name)}")
        return False

    def values(self, path: Place, entry: Mapping[str, object], rules: _Rules) -> bool:
        """Check each field of *entry* that *rules* know; True if all are right."""
        valid = True
        for name, (check, description) in rules.items():
            if name not in entry:
                continue
            value = entry[name]
            if not check(value):
                self.add((*path, name), f"{name} should be {description}, not {show(value)}")
                valid = False
            elif self.surrogates and not self.text((*path, name), name, value):
                valid = False
        return valid

    def text(self, path: Place, name: str, value: object) -> bool:
        """False (and a problem) if *value*, a string or list of them, holds a lone surrogate."""
        for item in value if type(value) is list else (value,):
            if type(item) is str and _SURROGATE.search(item):
                self.add(path, f"{name} holds a lone UTF-16 surrogate (\\ud800-\\udfff), which is not text")
                return False
        return True

    def note_types(self, value: object) -> dict[str, NoteTypeSchema]:
        """The note types of the lock's "note_types", each with a problem left out."""
        if type(value) is not dict:
            self.add(("note_types",), f"note_types should be an object of note types by kind, not {show(value)}")
            return {}
        result = {}
        for kind, entry in value.items():
            schema = self.note_type(kind, entry)
            if schema is not None:
                result[kind] = schema
        return result

    def note_type(self, kind: str, entry: object) -> NoteTypeSchema | None:
        path = ("note_types", kind)
        if kind not in KIND_NAMES:
            known = " and ".join(json.dumps(k) for k in KIND_NAMES)
            self.add(path, f"is not a note type of deckgen (they are {known})")
        elif type(entry) is not dict:
            self.add(path, f"should be an object, not {show(entry)}")
        else:
            return self.checked_type(path, _with_ids(entry))
        return None

    def checked_type(self, path: Place, entry: dict[str, Any]) -> NoteTypeSchema | None:
        """The note type of a note type *entry*, or None and its problems."""
        if self.fields(path, entry, _TYPE_RULES) & self.values(path, entry, _TYPE_RULES) and self.one_id_each(
            path, entry
        ):
            return note_type_of(entry)
        return None

    def one_id_each(self, path: Place, entry: Mapping[str, object]) -> bool:
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
            self.add(("notes",), f"notes should be an object of notes by key, not {show(value)}")
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
            and key.count("/") >= 2  # <source>/<item>/<part>: what a build splits it into
            and not (self.controls and _CONTROL.search(key))
            and _is_guid(guid := entry["guid"])
            and is_time(entry["mod"])
            and ((removed := entry["removed"]) is None or is_time(removed))
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
        if key.count("/") < 2:
            self.add(path, f"a note's key should be <source>/<item>/<part>, as a build writes it, not {show(key)}")
            return None
        if type(entry) is not dict:
            self.add(path, f"should be an object, not {show(entry)}")
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
            self.add((*path, "guid"), f"guid {show(entry['guid'])} is also the guid of note {owner!r}")
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



def note_type_of(entry: Mapping[str, Any]) -> NoteTypeSchema:
    """The note type of a checked (or trusted) note type *entry*: its lists as tuples."""
    return NoteTypeSchema(**{**entry, **{name: tuple(entry[name]) for name in _LISTS}})
