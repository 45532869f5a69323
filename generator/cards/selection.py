"""Which notes go into which package: the per-topic default and custom decks.

A custom deck selects notes (by topic, perspective, kind and tag) and may give
them another root deck name and extra tags.  It never changes a note's GUID:
the same item in two custom decks is the same note, so a student who imports
both gets it once (Anki keeps it in the deck where it first landed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from generator.cards.notes import CLOZE, COMPARISON, NoteSpec, slug
from generator.errors import DeckgenError, Location
from generator.source.content import Source
from generator.source.loader import FORMULA_START, tag_problem

KINDS = (CLOZE, COMPARISON)


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

    def unknown(self, source: Source) -> list[str]:
        """Messages for filter values that name nothing in *source*."""
        problems = []
        for label, values, known in (
            ("topic", self.topics, [t.id for t in source.topics]),
            ("perspective", self.perspectives, [p.id for p in source.perspectives]),
            ("kind", self.kinds, list(KINDS)),
        ):
            for value in values:
                if value not in known:
                    problems.append(f"unknown {label} {value!r} (known: {', '.join(known)})")
        return problems


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
    deck_name: str, selection: Selection, extra_tags: Sequence[str] = (), file: str | None = None
) -> DeckRequest:
    """A single custom deck named *deck_name*, written to ``<file or slug of name>``."""
    parts = [part.strip() for part in deck_name.split("::")]
    if deck_name[:1] in FORMULA_START:
        raise DeckgenError(
            f"deck name {deck_name!r} starts with {deck_name[0]!r}: a spreadsheet opening a CSV export "
            "would take it for a formula"
        )
    if not all(parts) or any(ord(c) < 32 for c in deck_name) or len(deck_name) > 200:
        raise DeckgenError(
            f"deck name {deck_name!r}: parts separated by '::' must be non-empty, "
            "without control characters, at most 200 characters"
        )
    for tag in extra_tags:  # genanki refuses a tag with a space; the removed tag is deckgen's own
        if problem := tag_problem(tag):
            raise DeckgenError(problem)
    return DeckRequest(file or slug(deck_name)[:80], selection, "::".join(parts), tuple(extra_tags))


def group_by_topic(notes: Iterable[NoteSpec]) -> dict[str, list[NoteSpec]]:
    """Notes by topic id, in order: a selection by topic then reads only its topics."""
    grouped: dict[str, list[NoteSpec]] = {}
    for note in notes:
        grouped.setdefault(note.topic, []).append(note)
    return grouped


def apply(request: DeckRequest, by_topic: Mapping[str, Sequence[NoteSpec]], source: Source) -> list[NoteSpec]:
    """The notes of *request* (from notes grouped by topic): selected, renamed, tagged."""
    selection = request.selection
    topics = [topic for topic in by_topic if not selection.topics or topic in selection.topics]
    candidates = [note for topic in topics for note in by_topic.get(topic, ())]
    if selection.perspectives or selection.kinds or selection.tags:
        chosen = [note for note in candidates if selection.matches(note)]
    else:
        chosen = candidates
    if request.deck_name is None and not request.extra_tags:
        return chosen
    result = []
    for note in chosen:
        deck = note.deck
        if request.deck_name is not None:
            deck = request.deck_name + note.deck[len(source.deck) :]
        tags = note.tags + tuple(t for t in request.extra_tags if t not in note.tags)
        result.append(replace(note, deck=deck, tags=tags))
    return result
