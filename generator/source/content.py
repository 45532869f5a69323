"""Validated content: what a source folder says, as frozen dataclasses.

Nothing here knows about Anki.  :mod:`generator.source.loader` builds these from YAML
and guarantees their invariants (ids are unique slugs, references resolve, text
is non-empty); :mod:`generator.cards.notes` turns them into notes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

PERSPECTIVE_PLACEHOLDER = "{perspective}"
BOTH, SIDE, PERSPECTIVE = "both", "side", "perspective"
ASK_CHOICES = (BOTH, SIDE, PERSPECTIVE)
"""What a comparison asks: each side from its perspective, each perspective from its side, or both."""

REMOVED_TAG = "deckgen::removed"
"""The tag of a note removed from the source (see :mod:`generator.pipeline.lock`); reserved in sources."""


def _by_fields(self: Any) -> tuple[type, tuple[object, ...]]:
    """Pickled as the class and its fields, made again by ``__init__``: what a slotted dataclass's own
    ``__setstate__`` does costs a ``fields()`` call per object (a memo of 50,000 notes holds 100,000)."""
    return type(self), tuple(getattr(self, name) for name in self.__slots__)


@dataclass(frozen=True, slots=True)  # a large source holds hundreds of thousands: no dict per instance
class Marked:
    """Text in which the author may have marked key terms with ``{{…}}``.

    Kept as its plain text, the places where its runs of text end (all but
    the last; no run is empty) and a bit per run that is a key term: bit *i*
    of ``term_runs`` set says run *i* is a term.  Kept flat, not as runs or
    (text, is_term) pairs: a large source holds hundreds of thousands of
    them, and each string or pair costs more than its text.
    """

    __reduce__ = _by_fields

    plain: str
    """The text as a reader sees it, markers removed."""
    cuts: tuple[int, ...] = ()
    term_runs: int = 0

    @classmethod
    def of(cls, segments: Iterable[tuple[str, bool]]) -> Marked:
        """The text of *segments*, (run, is_term) pairs in order, none empty."""
        texts, cuts, term_runs, end = [], [], 0, 0
        for index, (text, is_term) in enumerate(segments):
            texts.append(text)
            end += len(text)
            cuts.append(end)
            term_runs |= is_term << index
        return cls("".join(texts), tuple(cuts[:-1]), term_runs)

    @property
    def runs(self) -> tuple[str, ...]:
        """Its runs of text in order, plain or key term."""
        plain, cuts = self.plain, self.cuts
        if not cuts:
            return (plain,) if plain else ()
        # list comprehensions over the bounds, no generator: every note reads these, tens of thousands of times
        bounds = (0, *cuts, len(plain))
        return tuple([plain[bounds[index] : bounds[index + 1]] for index in range(len(cuts) + 1)])

    @property
    def segments(self) -> tuple[tuple[str, bool], ...]:
        """Its runs in order, each with whether it is a key term: ``(text, True)`` is a term."""
        plain, cuts, bits = self.plain, self.cuts, self.term_runs
        if not cuts:
            return ((plain, bool(bits)),) if plain else ()
        bounds = (0, *cuts, len(plain))
        return tuple([
            (plain[bounds[index] : bounds[index + 1]], bool(bits >> index & 1)) for index in range(len(cuts) + 1)
        ])

    @property
    def term_count(self) -> int:
        """How many key terms it marks (counted without cutting the text into runs)."""
        return self.term_runs.bit_count()

    @property
    def terms(self) -> tuple[str, ...]:
        """The marked key terms, in order."""
        bits = self.term_runs
        if not bits:
            return ()
        return tuple([text for index, text in enumerate(self.runs) if bits >> index & 1])


@dataclass(frozen=True, slots=True)
class MediaFile:
    """An image or audio file an item declares, read and checked (see :mod:`generator.source.media`)."""

    __reduce__ = _by_fields

    path: str
    """As declared: relative to the source folder, '/' between folders."""
    name: str
    """Its name in a package and in a student's media folder: ``<stem>-<hash>.<ext>`` (see media.packaged_name)."""
    kind: str
    """``image`` or ``audio``."""
    mime: str
    sha256: str
    data: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class Perspective:
    """One of the viewpoints a source compares (a culture, a school, a theory…)."""

    __reduce__ = _by_fields

    id: str
    name: str
    line: int = 0
    """Where ``deckgen.yaml`` names it."""
    file: str = ""


@dataclass(frozen=True, slots=True)
class Point:
    """One bullet of an item's list; ``key`` is its stable identity.

    A point is asked only if it marks a key term; otherwise it is context.
    """

    __reduce__ = _by_fields

    key: str
    text: Marked
    line: int = 0


@dataclass(frozen=True, slots=True)
class Item:
    """A titled statement: explanation, bullet points and a closing remark."""

    __reduce__ = _by_fields

    id: str
    perspective: str | None
    title: Marked | None
    explanation: Marked | None
    points: tuple[Point, ...]
    conclusion: Marked | None
    tags: tuple[str, ...]
    file: str
    line: int
    cue: str | None = None
    """What a "which perspective?" card shows instead of the title."""
    question: str | None = None
    """The "which perspective?" question (the item's or its topic's); None: no such card."""
    media: tuple[MediaFile, ...] = ()
    """Its image and audio file, if it declares them (in that order): shown on the back of its cards."""
    formerly: tuple[tuple[str, str, str], ...] = ()
    """Key terms corrected since a release (``formerly:``), each as (its text's name, its slug now, its slug then):
    a key term's note key holds its text and its slug, so without this a corrected typo would make a new note and
    remove the one students study, with its history."""

    def released_slug(self, text: str, term_slug: str) -> str:
        """The slug a key term's note key holds in *text*: the one it was released under, if corrected since."""
        return next((then for name, now, then in self.formerly if name == text and now == term_slug), term_slug)

    @property
    def label(self) -> str:
        """The item as a reader names it: its title, else its id."""
        return self.title.plain if self.title else self.id

    @property
    def which_statement(self) -> str | None:
        """What the item's "which perspective?" card shows, if it has one."""
        if not (self.perspective and self.question):
            return None
        return self.cue or (self.title.plain if self.title else None)


@dataclass(frozen=True, slots=True)
class Origin:
    """A comparison side's source: a perspective and the item (elsewhere in the source) that states it."""

    __reduce__ = _by_fields

    perspective: str
    item: str
    line: int = 0


@dataclass(frozen=True, slots=True)
class Comparison:
    """One dimension, and what each perspective says about it."""

    __reduce__ = _by_fields

    id: str
    dimension: str
    sides: tuple[tuple[str, str], ...]
    tags: tuple[str, ...]
    file: str
    line: int
    question: str = "{dimension}: what does {perspective} say?"
    """The forward prompt; ``{perspective}`` stands for each perspective's name."""
    which_question: str = ""
    """The reverse prompt, shown under a side (empty: "<dimension>: which perspective is this?")."""
    ask: str = BOTH
    """Which directions are asked (one of ASK_CHOICES)."""
    origins: tuple[Origin, ...] = ()
    """``from:``: the item each side states, where the author named one (the essay's own section)."""

    def origin(self, perspective: str) -> str | None:
        """The id of the item perspective *perspective*'s side comes from, if the author named one."""
        return next((o.item for o in self.origins if o.perspective == perspective), None)

    side_questions: tuple[tuple[str, str], ...] = ()
    """``questions:``: a side's own forward prompt, by perspective id, where the shared one would fit badly."""

    def forward_parts(self, perspective: str | None = None) -> tuple[str, ...]:
        """The forward prompt of *perspective*'s side, split around ``{perspective}`` (so a name can be set apart)."""
        question = next((q for pid, q in self.side_questions if pid == perspective), self.question)
        return tuple(question.replace("{dimension}", self.dimension).split(PERSPECTIVE_PLACEHOLDER))

    @property
    def reverse_question(self) -> str:
        """The question a "which perspective?" card of this comparison asks."""
        return self.which_question or f"{self.dimension}: which perspective is this?"


@dataclass(frozen=True, slots=True)
class Term:
    """A glossary entry: a term and its definition, asked both ways (term → definition, definition → term).

    It needs no perspective, so a source that compares nothing (a chapter, a
    glossary) still gets more than clozes.
    """

    __reduce__ = _by_fields

    id: str
    term: str
    definition: str
    tags: tuple[str, ...]
    file: str
    line: int
    ask: str = BOTH
    """``both``, ``definition`` (only the definition from the term) or ``term`` (only the term from the definition)."""
    question: str = ""
    """The author's own question for the definition, instead of "What is <term>?" (then ``ask`` is ``definition``)."""


TERM_ASK_CHOICES = (BOTH, "definition", "term")


@dataclass(frozen=True, slots=True)
class Topic:
    """A group of items and comparisons; each topic becomes one deck file."""

    __reduce__ = _by_fields

    id: str
    name: str
    heading: str | None
    headings: tuple[tuple[str, str], ...]
    question: str | None
    items: tuple[Item, ...]
    comparisons: tuple[Comparison, ...]
    file: str
    line: int
    terms: tuple[Term, ...] = ()
    """Its glossary: term ⇄ definition cards."""
    title_stems: tuple[tuple[str, ...], ...] | None = None
    """Each titled item's title as the card checks read it (:func:`~generator.source.words.content_stems`,
    sorted), in order; made when the file is read, since every topic's checks read every title of the source.
    Tuples: every build process holds every title's, and a set costs three times a tuple's memory."""

    @property
    def media_paths(self) -> tuple[str, ...]:
        """The media files its items declare (as declared, each once): part of what its package is made of."""
        return tuple(dict.fromkeys(media.path for item in self.items for media in item.media))

    def heading_for(self, perspective: str | None) -> str:
        """The heading a card of this topic shows for *perspective*."""
        for pid, heading in self.headings:
            if pid == perspective:
                return heading
        return self.heading or self.name


@dataclass(frozen=True)
class Source:
    """A whole source folder: its metadata, perspectives and topics."""

    id: str
    title: str
    deck: str
    perspectives: tuple[Perspective, ...]
    topics: tuple[Topic, ...]
    directory: str
    inputs: tuple[tuple[str, str], ...] = ()
    """Each file read (its name) with the SHA-256 of the very bytes the source was built from."""
    numbered: bool = False
    """``deck_order: numbered``: each topic's deck name starts with its place (Anki lists decks by name)."""
    short_backs: bool = False
    """``backs: short``: a key term's back shows its sentence and the few after it, no other item's text."""

    def media_files(self) -> dict[str, MediaFile]:
        """Every media file its items declare, by the name it has in a package."""
        return {media.name: media for topic in self.topics for item in topic.items for media in item.media}

    def perspective(self, pid: str) -> Perspective:
        """The perspective with id *pid* (validated to exist)."""
        return next(p for p in self.perspectives if p.id == pid)

    @cached_property
    def topic_decks(self) -> dict[str, str]:
        """Each topic's deck name, by topic id: the root deck, then the topic's name (numbered if asked)."""
        width = len(str(len(self.topics)))
        return {
            topic.id: f"{self.deck}::" + (f"{number:0{width}d} " if self.numbered else "") + topic.name
            for number, topic in enumerate(self.topics, start=1)
        }

    @cached_property
    def titles_digest(self) -> str:
        """A hash of every item's title, by id, in the source's order: what a topic's cross-card warnings read of
        the other topics (a warning names the first title that shows its answer, so a renamed file that comes
        before another now changes them)."""
        titles = [(item.id, item.title.plain if item.title else "") for t in self.topics for item in t.items]
        return hashlib.sha256(repr(titles).encode()).hexdigest()

    @cached_property
    def items_by_id(self) -> dict[str, tuple[Topic, Item]]:
        """Every item with its topic, by id (ids are unique across the source)."""
        return {item.id: (topic, item) for topic in self.topics for item in topic.items}
