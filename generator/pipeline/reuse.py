"""Per-topic reuse: a topic whose inputs have not changed keeps the package it has.

A topic's package is a pure function of deckgen's code, the source's
configuration file, the topic's own file, the lock entries it owns (as the
lock holds them: a tombstone past its retention too, until a build writes the
lock) and the note types' times, and, where the
build leaves the lock as it was (``watch``) and the package's entries are
not the lock's, that build's time, which the record keeps (:class:`Timed`):
a later save elsewhere reuses the package, whenever it comes.  After a default
build, the build cache (``<out>/.deckgen-cache.json``, see
:mod:`generator.pipeline.cache`) records, per topic, a fingerprint of
those inputs with the SHA-256 of the package written and what the report says
about it (decks, counts, card smells).  The next build reuses every topic
whose fingerprint matches and whose package is still there byte for byte; an
edit in one topic file rebuilds that topic alone.  A record that cannot be
read or trusted is simply not used.
"""

from __future__ import annotations

import base64
import hashlib
import os
import zlib
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from generator.errors import FileWarnings
from generator.pipeline.cache import code_digest, sha256
from generator.pipeline.lock.lines import joined_lines
from generator.pipeline.lock.times import CHANGE_KINDS, Changes
from generator.source.folder import CONFIG_FILE
from generator.source.guarded import read_regular

MAX_READ_BYTES = 1024 * 1024 * 1024
"""The largest package or cache a build reads back (a smelly 50,000-note source's cache is tens of megabytes)."""

if TYPE_CHECKING:
    from generator.pipeline.lock.notelines import Line
    from generator.quality.wording import SettingLookup
    from generator.source.content import Source, Topic


class Timed(NamedTuple):
    """A package made of lock entries the lock does not hold: by a build that left the lock as it was (``watch``'s)
    where notes were added, updated or removed, or a deck renamed.  A later such build reuses it while nothing it
    is made of changes, whenever it runs; a build that writes the lock makes it again."""

    at: int
    """The build's time, which its new entries carry (and its fingerprint hashes)."""
    changes: Changes
    """What re-importing the package does, against the lock left as it was."""

    def to_data(self) -> list[object]:
        return [self.at, [self.changes.of(kind) for kind in CHANGE_KINDS]]

    @classmethod
    def from_data(cls, value: Any) -> Timed:
        """From :meth:`to_data`'s JSON; raises ValueError, TypeError on a bad shape."""
        at, counts = value
        return cls(int(at), Changes(**dict(zip(CHANGE_KINDS, (int(count) for count in counts), strict=True))))


class Record(NamedTuple):
    """What the last build wrote for one topic."""

    fingerprint: str
    file: str
    """The topic's file as this build named it: its warnings name it so."""
    sha256: str
    decks: tuple[str, ...]
    notes: int
    cards: int
    warnings: tuple[FileWarnings, ...]
    """Its card smells, in the compact form the cache keeps and a rebuild prints (see :func:`warnings_data`)."""
    lookups: tuple[SettingLookup, ...] = ()
    """Its which-perspective cues' look-ups in the source's setting words (see :func:`fingerprint`)."""
    named: tuple[str, ...] = ()
    """The other topics' files its warnings name (see :func:`named_files`)."""
    timed: Timed | None = None
    """Where the build that made it left the lock as it was (``watch``'s) and the package's lock entries are
    not the lock's (see :class:`Timed`); None: the lock holds the package's entries."""

    def to_data(self) -> dict[str, object]:
        """The record as the cache's JSON holds it."""
        return {
            "fingerprint": self.fingerprint,
            "file": self.file,
            "sha256": self.sha256,
            "decks": list(self.decks),
            "notes": self.notes,
            "cards": self.cards,
            "warnings": warnings_data(self.warnings),
            "lookups": [[perspective, item, list(words)] for perspective, item, words in self.lookups],
            "named": list(self.named),
            "timed": None if self.timed is None else self.timed.to_data(),
        }

    @classmethod
    def from_data(cls, value: Any) -> Record:
        """A record from :meth:`to_data`'s JSON as read; raises ValueError, KeyError, TypeError, AttributeError on a
        bad shape."""
        return cls(
            fingerprint=str(value["fingerprint"]),
            file=str(value["file"]),
            sha256=str(value["sha256"]),
            decks=tuple(str(deck) for deck in value["decks"]),
            notes=int(value["notes"]),
            cards=int(value["cards"]),
            warnings=warnings_of(value["warnings"]),
            lookups=tuple((str(p), str(item), tuple(str(w) for w in words)) for p, item, words in value["lookups"]),
            named=tuple(str(file) for file in value["named"]),
            timed=Timed.from_data(value["timed"]) if value.get("timed") is not None else None,  # added later
        )


def warnings_data(warnings: Iterable[FileWarnings]) -> dict[str, list[object]]:
    """Warnings as the cache keeps them: each file's name, once, with its warnings' text packed (base64) and
    the CRC-32 of the packed bytes.

    A smelly source's are tens of megabytes of text, and about a fifteenth of
    that packed: a rebuild reads and writes them back, and holds them, as
    they are packed (:meth:`FileWarnings.packed`), and unpacks each file's to print it.
    """
    packed = ((part.file, part.packed_bytes()) for part in warnings)
    return {file: [zlib.crc32(body), base64.b64encode(body).decode("ascii")] for file, body in packed}


def warnings_of(value: Any) -> tuple[FileWarnings, ...]:
    """Warnings from :func:`warnings_data`'s JSON as read; raises ValueError, TypeError, AttributeError on a bad shape.

    Kept packed; each file's bytes are those the build packed if their CRC-32
    says so (a cache damaged by hand or disk reads as none), checked without
    unpacking them: a smelly source's take 40 ms to unpack, and a rebuild does
    so once, to print them.  Bytes that do not unpack under a CRC-32 made
    for them say so when printed (:attr:`FileWarnings.text`).
    """
    parts = []
    for file, (crc, text) in value.items():
        body = base64.b64decode(text, validate=True)
        if type(file) is not str or type(crc) is not int or not body:
            raise TypeError("warnings are kept as each file's packed lines and their CRC-32")
        if zlib.crc32(body) != crc:
            raise ValueError(f"the warnings of {file!r} are damaged")
        parts.append(FileWarnings(file, body))
    return tuple(parts)


def fingerprint(
    source: Source,
    topic: Topic,
    lines: Sequence[Line],
    type_times: Mapping[str, int],
    timed: Timed | None = None,
    *,
    named: Collection[str],
    lookups: Sequence[SettingLookup],
) -> str:
    """A hash of everything one topic's package and report depend on (see also topics._taken_elsewhere).

    *lines* are the topic's lock entries as the lock holds them, a tombstone
    past its retention too (see :func:`generator.pipeline.topics._held`): a
    reused topic's are hashed as they are, never decoded.  *timed*, where the
    package is :class:`Timed`: the time its new entries carry.  *named*, the
    other topics' files its smells name (:func:`named_files`); *lookups*, what its
    which-perspective cues looked up in every topic's setting words.
    """
    digest = hashlib.sha256(made_of(source, topic).encode())
    # Its warnings read every item title of the source (quality.crosscard): a retitled item elsewhere counts.
    digest.update(f"titles\x00{source.titles_digest}\n".encode())
    digest.update(f"places\x00{_named_places(source, topic, named)}\n".encode())
    from generator.quality.smells import setting_answers  # a rebuild with nothing to do hashes no topic

    digest.update(f"settings\x00{setting_answers(source, lookups)}\n".encode())
    digest.update(repr(sorted(type_times.items())).encode())
    digest.update(joined_lines(lines))  # a line holds no newline, so no ',\n': they read one way only
    if timed is not None:
        digest.update(f"now\x00{timed.at}\n".encode())
    return digest.hexdigest()


def made_of(source: Source, topic: Topic) -> str:
    """A hash of everything *topic*'s notes are made of: deckgen's code, the settings, its file, its deck's name,
    the files its comparisons' sections come from and the media it shows.  The same hash, the same notes.

    Of the source as read (its files' digests, :attr:`Source.inputs`): a file saved since makes no difference.
    """
    inputs = dict(source.inputs)
    digest = hashlib.sha256(code_digest().encode())
    for part in (inputs.get(CONFIG_FILE, ""), inputs.get(os.path.basename(topic.file), "")):
        digest.update(part.encode() + b"\x00")
    # What other files decide: its deck's number (the topics before it), and the
    # sections its comparisons' sides come from (their topic files).
    digest.update(f"deck\x00{source.topic_decks.get(topic.id, '')}\n".encode())
    for comparison in topic.comparisons:
        for origin in comparison.origins:
            home = source.items_by_id[origin.item][0]
            digest.update(f"from\x00{origin.item}\x00{inputs.get(os.path.basename(home.file), '')}\n".encode())
    for path in topic.media_paths:  # a changed image or sound: its packaged name holds the file's digest
        digest.update(f"media\x00{path}\x00{inputs.get(path, '')}\n".encode())
    return digest.hexdigest()


def named_files(source: Source, topic: Topic, warnings: Sequence[FileWarnings]) -> tuple[str, ...]:
    """The files of the source's other topics that *topic*'s *warnings* name, in the source's order.

    A warning names another topic's title by its file and line ("another
    card's front (b.yaml:4, …)"): found in the text once, as the topic is
    built, and kept in its record, so that a rebuild does not search a smelly
    source's megabytes of warnings again for every other file.
    """
    if not warnings:
        return ()
    return tuple(
        other.file for other in source.topics
        if other.id != topic.id and any(part.names(other.file) for part in warnings)
    )


def _named_places(source: Source, topic: Topic, named: Collection[str]) -> str:
    """Where the item titles are in the other files the topic's warnings name (:func:`named_files`).

    Lines added above a title change a warning naming it, though not the
    title.  Only the files a warning names are read, so an edit elsewhere
    leaves the topic as it is.
    """
    if not named:
        return ""
    return repr([
        (other.file, [(item.id, item.line) for item in other.items if item.title])
        for other in source.topics
        if other.id != topic.id and other.file in named
    ])


def still_there(path: str, record: Record) -> bool:
    """True if the package the record describes is at *path*, byte for byte."""
    return same_bytes(path, record.sha256)


def same_bytes(path: str, digest: str) -> bool:
    """True if *path* is a regular file (a pipe put there would block the build for ever) of SHA-256 *digest*."""
    data = read_regular(path, MAX_READ_BYTES)
    return isinstance(data, bytes) and sha256(data) == digest


def import_changes(timed: Timed | None, notes: int) -> Changes:
    """What re-importing a kept package of *notes* notes does: nothing, unless it is :class:`Timed`."""
    return timed.changes if timed is not None else Changes(unchanged=notes)
