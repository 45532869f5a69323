"""Removed notes in a running Anki: marked and out of study where a student has them, never added.

A package cannot tell a student that a note was removed.  Anki adds every
note of a package it does not have, and a note shipped without a card is
a fault: Browse asks for Check Database, which gives it a card in Default.
So packages carry only the live notes, and ``push``, which talks to one
student's own Anki, marks removals there after importing them:

1. It imports a *notice package*: every removed note the lock remembers,
   with its GUID and note type, its text saying it was removed, tagged
   ``deckgen::removed``, timed now (newer than any copy).  A copy the
   student has is updated in place, card and history kept: Anki never
   moves an existing card on import.  A note the student never had arrives
   with its cards in :data:`NOTICE_DECK`.
2. It deletes :data:`NOTICE_DECK` with its cards: only cards the notice
   brought are there, so a note the student never had goes with them (and
   any note left without a card).  Notes an older deckgen sent without a
   card (tagged, with none) are deleted first: they hold no history.
3. A note that came back (the lock has it live again) but whose copy a
   notice marked is still marked, since the notice is newer than the
   note's own time: its package is imported again with the note timed now,
   and its cards are unsuspended.
4. It suspends every card of a note still tagged removed.
"""

from __future__ import annotations

import html
import os
import sqlite3
import tempfile
import time
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from generator.anki.package import package_bytes, zip_entries
from generator.cards.notes import NOTICE_KEY, removal_notice
from generator.errors import DeckgenError
from generator.pipeline.cachefile import read_cache
from generator.pipeline.lock.model import LOCK_NAME, LockedNote
from generator.pipeline.lock.read import read_lock
from generator.source.content import REMOVED_TAG

NOTICE_DECK = "deckgen removed notes"
"""Where a notice's cards land for a student who never had the note; push deletes it at once."""


class Client(Protocol):
    """What this module asks of AnkiConnect (:class:`generator.connect.push.AnkiConnect` has it)."""

    def call(self, action: str, *, timeout: float | None = None, **params: object) -> object: ...


@dataclass(frozen=True)
class Marked:
    """What marking removals did in one student's Anki."""

    marked: int
    """Notes the student has that are now marked removed (and their cards suspended)."""
    dropped: int
    """Card-less notes an older deckgen sent, deleted (a note the student never had is never kept either)."""
    restored: int
    """Marked copies of notes that came back, restored and unsuspended."""


def removed_notes(out_dir: str) -> tuple[dict[str, LockedNote], dict[str, LockedNote]] | None:
    """The lock's removed notes and live notes by key, from the source the last build in *out_dir* read."""
    cache = read_cache(out_dir)
    source = cache.source if cache is not None else None
    if source is None or not os.path.isfile(os.path.join(source, LOCK_NAME)):
        return None
    lock = read_lock(os.path.join(source, LOCK_NAME))
    removed = {k: n for k, n in lock.notes.items() if n.removed is not None}
    live = {k: n for k, n in lock.notes.items() if n.removed is None}
    return removed, live


def mark_removed(
    client: Client, removed: Mapping[str, LockedNote], live: Mapping[str, LockedNote], packages: Sequence[str]
) -> Marked:
    """Mark *removed* notes in the student's Anki behind *client* (see the module's steps)."""
    now = int(time.time())
    dropped = _drop_cardless(client)  # an older deckgen's, before a notice gives them a card
    if removed:
        _import_bytes(client, _notice_package(removed, now))
        # Only cards the notice brought are in its deck: deleting it deletes them, and a
        # note left with none (one the student never had).  A card of a student's copy
        # is never in it: Anki does not move an existing card on import.
        client.call("deleteDecks", decks=[NOTICE_DECK], cardsToo=True)
        _drop_cardless(client)
    restored = _restore(client, live, packages, now)
    marked = _ids(client.call("findNotes", query=f"tag:{REMOVED_TAG}"))
    cards = _ids(client.call("findCards", query=f"tag:{REMOVED_TAG} -is:suspended"))
    if cards:
        client.call("suspend", cards=cards)
    return Marked(marked=len(marked), dropped=dropped, restored=len(restored))


def _notice_package(removed: Mapping[str, LockedNote], now: int) -> bytes:
    notices = [removal_notice(key, note, NOTICE_DECK) for key, note in sorted(removed.items())]
    return package_bytes(notices, now)


def _drop_cardless(client: Client) -> int:
    """Delete the notes tagged removed that have no card: they hold no history, and Anki calls them a fault."""
    tagged = _ids(client.call("findNotes", query=f"tag:{REMOVED_TAG}"))
    cardless = sorted(info.note for info in _infos(client, tagged) if not info.cards)
    if cardless:
        client.call("deleteNotes", notes=cardless)
    return len(cardless)


def _restore(client: Client, live: Mapping[str, LockedNote], packages: Sequence[str], now: int) -> list[int]:
    """Re-import, timed *now*, the live notes whose copies a notice marked; unsuspend their cards."""
    tagged = _ids(client.call("findNotes", query=f"tag:{REMOVED_TAG}"))
    back: dict[str, int] = {}
    for info in _infos(client, tagged):
        if info.key is not None and info.key in live:
            back[live[info.key].guid] = info.note
    if not back:
        return []
    for path in packages:
        data = _retimed(path, set(back), now + 1)  # newer than a notice sent this very second
        if data is not None:
            _import_bytes(client, data)
    notes = sorted(back.values())
    client.call("removeTags", notes=notes, tags=REMOVED_TAG)  # an import adds tags, never takes one away
    cards = _ids(client.call("findCards", query="nid:" + ",".join(str(n) for n in notes)))
    if cards:
        client.call("unsuspend", cards=cards)
    return sorted(back.values())


def _retimed(path: str, guids: set[str], now: int) -> bytes | None:
    """The package at *path* with the notes of *guids* timed *now*; None if it holds none of them."""
    with zipfile.ZipFile(path) as archive:
        entries = {name: archive.read(name) for name in archive.namelist()}
    connection = sqlite3.connect(":memory:")
    try:
        connection.deserialize(entries["collection.anki2"])
        marks = ",".join("?" * len(guids))
        changed = connection.execute(f"UPDATE notes SET mod = ? WHERE guid IN ({marks})", (now, *sorted(guids)))
        if changed.rowcount == 0:
            return None
        connection.commit()
        entries["collection.anki2"] = connection.serialize()
    finally:
        connection.close()
    return zip_entries(entries)


def _import_bytes(client: Client, data: bytes) -> None:
    """Import package *data* (AnkiConnect reads a path: a private temporary file, removed after)."""
    folder = tempfile.mkdtemp(prefix="deckgen-push-")
    path = os.path.join(folder, "notices.apkg")
    try:
        with open(path, "wb") as handle:
            handle.write(data)
        if client.call("importPackage", path=path) is not True:
            raise DeckgenError("Anki did not import deckgen's removal notices: is a profile open in Anki?")
    finally:
        for name in os.listdir(folder):
            os.unlink(os.path.join(folder, name))
        os.rmdir(folder)


@dataclass(frozen=True)
class _NoteInfo:
    """What ``notesInfo`` tells of one note: its id, how many cards it has, the key a notice names."""

    note: int
    cards: int
    key: str | None


def _infos(client: Client, notes: Iterable[int]) -> list[_NoteInfo]:
    notes = list(notes)
    result = client.call("notesInfo", notes=notes) if notes else []
    if not isinstance(result, list):
        raise DeckgenError(f"AnkiConnect answered notesInfo with {type(result).__name__}, not a list")
    return [info for entry in result if (info := _note_info(entry)) is not None]


def _note_info(entry: object) -> _NoteInfo | None:
    if not isinstance(entry, Mapping) or not isinstance(note := entry.get("noteId"), int):
        return None  # a note deleted meanwhile: AnkiConnect answers {}
    cards, fields = entry.get("cards"), entry.get("fields")
    return _NoteInfo(note, len(cards) if isinstance(cards, list) else 0, _notice_key(fields))


def _notice_key(fields: object) -> str | None:
    """The note key a removal notice names in one of *fields*, if any."""
    if not isinstance(fields, Mapping):
        return None
    for value in fields.values():
        text = value.get("value") if isinstance(value, Mapping) else None
        if isinstance(text, str) and (found := NOTICE_KEY.search(text)):
            return html.unescape(found.group(1))
    return None


def _ids(result: object) -> list[int]:
    if not isinstance(result, list):
        raise DeckgenError(f"AnkiConnect answered a search with {type(result).__name__}, not a list of ids")
    return [value for value in result if isinstance(value, int) and not isinstance(value, bool)]
