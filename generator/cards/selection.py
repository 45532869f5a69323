"""Which notes go into which package: the per-topic default and custom decks.

A custom deck selects notes (by topic, perspective, kind and tag) and may give
them another root deck name and extra tags.  It never changes a note's GUID:
the same item in two custom decks is the same note, so a student who imports
both gets it once (Anki keeps it in the deck where it first landed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from generator.cards.kinds import KIND_NAMES
from generator.cards.notes import NoteSpec, slug
from generator.errors import DeckgenError, Location
from generator.source.content import Source
from generator.source.loader import MAX_DECK_NAME_LENGTH, deck_name_faults, deck_name_parts, tag_problem

KINDS = KIND_NAMES

Filter = Literal["topics", "perspectives", "kinds"]
"""A filter whose values must name something in the source (tags need not)."""


@dataclass(frozen=True)
class Unknown:
    """A filter value that names nothing in the source."""

    filter: Filter
    """The :class:`Selection` field it was given in (also a recipe deck's key)."""
    value: str
    known: tuple[str, ...]
    """What the source has, in its order: the values that would have been valid."""

    @property
    def option(self) -> str:
        """The filter as the command line's option names it: 'topic', 'perspective' or 'kind'."""
        return self.filter.removesuffix("s")

    @property
    def message(self) -> str:
        """``unknown topic 'x' (known: a, b)``: the one wording, for the command line and recipes."""
        return f"unknown {self.option} {self.value!r} (known: {', '.join(self.known)})"


@dataclass(frozen=True)
class Selection:
    """Filters on notes; an empty filter lets everything through."""

    topics: tuple[str, ...] = ()
    perspectives: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.topics or self.perspectives or self.kinds or self.tags)

    def matches(self, note: NoteSpec) -> bool:
        """True if *note* passes every filter (a tag matches itself and its children)."""
        return (
            (not self.topics or note.topic in self.topics)
            and (not self.perspectives or note.perspective in self.perspectives)
            and (not self.kinds or note.note_type in self.kinds)
            and (not self.tags or any(_tag_matches(t, note.tags) for t in self.tags))
        )

    def unknown_values(self, source: Source) -> list[Unknown]:
        """The filter values that name nothing in *source*, in the order of the filters."""
        filters: tuple[tuple[Filter, tuple[str, ...], tuple[str, ...]], ...] = (
            ("topics", self.topics, tuple(t.id for t in source.topics)),
            ("perspectives", self.perspectives, tuple(p.id for p in source.perspectives)),
            ("kinds", self.kinds, KINDS),
        )
        return [
            Unknown(name, value, known) for name, values, known in filters for value in values if value not in known
        ]


def _tag_matches(wanted: str, tags: Iterable[str]) -> bool:
    wanted = wanted.casefold()
    return any(t.casefold() == wanted or t.casefold().startswith(wanted + "::") for t in tags)


@dataclass(frozen=True)
class DeckRequest:
    """One package to write: a file stem, a selection, and optional renaming and tags."""

    file: str
    selection: Selection
    deck_name: str | None = None
    extra_tags: tuple[str, ...] = ()
    origin: Location | None = None
    """Where a recipe declares this deck, to locate warnings about it."""


def topic_requests(source: Source, selection: Selection = Selection()) -> list[DeckRequest]:
    """The default: one package per topic (narrowed by *selection*, if any)."""
    return [
        DeckRequest(topic.id, replace(selection, topics=(topic.id,)))
        for topic in source.topics
        if not selection.topics or topic.id in selection.topics
    ]


def custom_request(
    deck_name: str, selection: Selection, extra_tags: Sequence[str] = (), *, file: str | None = None
) -> DeckRequest:
    """A single custom deck named *deck_name*, written to ``<file or slug of name>``."""
    _check_deck_name(deck_name)
    for tag in extra_tags:  # genanki refuses a tag with a space; the removed tag is deckgen's own
        if problem := tag_problem(tag):
            raise DeckgenError(problem)
    name = "::".join(deck_name_parts(deck_name))
    return DeckRequest(file or slug(deck_name)[:80], selection, deck_name=name, extra_tags=tuple(extra_tags))


def _check_deck_name(deck_name: str) -> None:
    """The rules of the source's ``deck`` (loader.deck_name_faults), worded for a custom deck."""
    faults = deck_name_faults(deck_name)
    if "formula" in faults:
        raise DeckgenError(
            f"deck name {deck_name!r} starts with {deck_name[0]!r}: a spreadsheet opening a CSV export "
            "would take it for a formula"
        )
    if faults:
        raise DeckgenError(
            f"deck name {deck_name!r}: parts separated by '::' must be non-empty, "
            f"without control characters, at most {MAX_DECK_NAME_LENGTH} characters"
        )


def group_by_topic(notes: Iterable[NoteSpec]) -> dict[str, list[NoteSpec]]:
    """Notes by topic id, in order: a selection by topic then reads only its topics."""
    grouped: dict[str, list[NoteSpec]] = {}
    for note in notes:
        grouped.setdefault(note.topic, []).append(note)
    return grouped


def apply(request: DeckRequest, by_topic: Mapping[str, Sequence[NoteSpec]], source: Source) -> list[NoteSpec]:
    """The notes of *request* (from notes grouped by topic): selected, renamed, tagged."""
    chosen = _selected(request.selection, by_topic)
    if request.deck_name is None and not request.extra_tags:
        return chosen
    return [_renamed(note, request, source) for note in chosen]


def _selected(selection: Selection, by_topic: Mapping[str, Sequence[NoteSpec]]) -> list[NoteSpec]:
    topics = [topic for topic in by_topic if not selection.topics or topic in selection.topics]
    candidates = [note for topic in topics for note in by_topic.get(topic, ())]
    if selection.perspectives or selection.kinds or selection.tags:
        return [note for note in candidates if selection.matches(note)]
    return candidates


def _renamed(note: NoteSpec, request: DeckRequest, source: Source) -> NoteSpec:
    """*note* in *request*'s deck (its subdecks kept below the new root), with its extra tags."""
    deck = note.deck
    if request.deck_name is not None:
        deck = request.deck_name + note.deck[len(source.deck) :]
    tags = note.tags + tuple(t for t in request.extra_tags if t not in note.tags)
    return replace(note, deck=deck, tags=tags)
