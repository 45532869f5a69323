"""What a card kind is: its note type, its fields, its cards, and what each card asks.

genanki's note never switches on a note type's name: it reads
``self.model.model_type`` and ``len(self.model.fields)``.  deckgen's card
kinds work the same way.  A :class:`CardKind` owns everything that differs
between kinds (the note type's id, name, fields and templates; how many cards
a note has; what each card shows on its front and asks for; what a removed
note's copy says), and every other module reads those attributes instead of
asking which kind a note is.  The kinds themselves are in their own modules
(:mod:`generator.cards.cloze`, :mod:`generator.cards.comparison`); the table
of them is :mod:`generator.cards.kinds`.

No genanki here: the note notes, the lock and the command line's ``--kind``
read the table too, and ``deckgen --help`` must stay fast.
:mod:`generator.anki.notetypes` makes genanki's note types of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from generator.cards.notes import NoteSpec
    from generator.source.content import Source, Topic

CONTEXT_LINE = '<div class="context">{{Context}}</div>'
"""The context line a card starts with (every kind's templates show it)."""
SOURCE_LINE = '<div class="source">{{Source}}</div>'
"""The source's title: on the back only, where a phone's front would be crowded by it."""


# Template and Face are named tuples, not dataclasses: immutable alike, and ten times quicker to define,
# which ``deckgen --help`` pays for (the command line's --kind reads the table).
class Template(NamedTuple):
    """A card template of a note type: its name (its key: its id hashes it) and both sides."""

    name: str
    front: str
    back: str

    def as_anki(self) -> dict[str, str]:
        """The template as genanki and Anki hold it (in this key order: the packages' bytes depend on it)."""
        return {"name": self.name, "qfmt": self.front, "afmt": self.back}


class Face(NamedTuple):
    """One card of a note as the card checks read it: from the note's fields, not from rendered HTML."""

    ordinal: int
    """The position of the card's template in the note type (Anki's ``ord`` of a card of a standard note type)."""
    front: str
    """The HTML of the fields its front shows: the context line, the prompt, the question."""
    answer: str
    """The HTML of what the card asks for."""
    asks_perspective: bool = False
    """True if it asks the name its statement belongs to: a perspective's ("which perspective?"), or a glossary
    term's, whose note has no perspective (:attr:`generator.quality.reading.Card.which` tells the two apart)."""
    question: str = ""
    """The card's own question, whose words give no answer away."""
    cue: str = ""
    """What a "which perspective?" card shows to tell the perspective by (its statement)."""


@dataclass(frozen=True)
class CardKind:
    """One kind of card: a note type and what its notes' cards ask (see the module's docstring).

    The identity attributes (``note_type_id``, ``note_type_name``, ``fields``
    and the templates' names) are a contract with every collection that has
    imported a deck: :mod:`generator.anki.notetypes` explains how they may change.
    """

    name: str
    """The kind's name: a note's ``note_type`` in the lock, ``--kind``, recipes, and the ``kind::`` tag."""
    note_type_id: int
    note_type_name: str
    fields: tuple[str, ...]
    """The note type's fields, by key (their names as first released)."""
    templates: tuple[Template, ...]
    cloze: bool
    """Anki's cloze note type: one card per cloze number of its first template, not one per template."""
    back_field: str
    """The field a back ends with: where a note shows its topic's context, and a removed note says so."""
    max_cards: int
    """The most cards one note of this kind has."""
    context_field: str = "Context"
    """The field of the context line every front starts with."""
    max_answer_words: int | None = None
    """The most words a card may ask for (a cloze hides a few words, never a sentence), or no limit."""
    hides_in_item_text: bool = False
    """Its cards hide a part of their item's text, which the item's other notes show: a front showing a
    sibling's answer is its own smell (:func:`generator.quality.smells.topic_smells`)."""
    notes_of: Callable[[Source, Topic], Iterable[NoteSpec]] | None = field(default=None, repr=False, compare=False)
    """The notes of this kind a topic asks in a way of the kind's own, made in its module (each by
    :func:`generator.cards.notes.kind_note`, imported inside the function: notes reads this table), after
    the topic's other notes; None for a kind whose notes :func:`generator.cards.notes.topic_notes` makes of
    the format's items, comparisons and terms."""
    _index: Mapping[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Looked up for every field read of tens of thousands of notes: once, not a tuple scan each time.
        object.__setattr__(self, "_index", {name: number for number, name in enumerate(self.fields)})

    def field_index(self, name: str) -> int:
        """The position of field *name* in a note's fields."""
        return self._index[name]

    def values(self, fields: Sequence[str]) -> dict[str, str]:
        """A note's *fields* by name."""
        return dict(zip(self.fields, fields, strict=True))

    def field_tuple(self, values: Mapping[str, str]) -> tuple[str, ...]:
        """A note's fields from *values* by name, in the note type's order; a field not given is empty."""
        return tuple(values.get(name, "") for name in self.fields)

    def card_ordinals(self, fields: Sequence[str]) -> tuple[int, ...]:
        """The templates (by ordinal) a note with *fields* has a card of: Anki queues new cards template by template."""
        raise NotImplementedError(f"the {self.name} kind says which cards a note has")

    def faces(self, fields: Sequence[str]) -> tuple[Face, ...]:
        """The cards of a note with *fields*, each as the card checks read it."""
        raise NotImplementedError(f"the {self.name} kind says what its cards ask")

    def report_group(self, aspect: str, template: str) -> str:
        """The group ``deckgen report`` counts a card in, from its note's *aspect* (see
        :class:`generator.cards.notes.NoteKey`) and its *template* as the student's collection names it."""
        raise NotImplementedError(f"the {self.name} kind says how the report groups its cards")

    def removal(self, label: str, shown: str, help_html: str, cards: int) -> dict[str, str]:
        """The fields (by name) of a removed note's copy: *label* plain, *shown* as HTML, *help_html* on the back.

        *cards* is the number of cards the note had: the copy keeps them all.
        """
        raise NotImplementedError(f"the {self.name} kind says what a removed note's copy shows")
