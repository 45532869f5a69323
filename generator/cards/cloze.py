"""The cloze kind: a text with one fact hidden, and the rest of its item on the back.

Each deckgen cloze note asks one fact, so it has one cloze (``c1``) and one
card (:mod:`generator.cards.notes` makes them): a student's history stays
with the fact however the source's points are reordered.  Its note type is
Anki's cloze type, whose one template shows the text with the cloze hidden.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from generator.cards.kind import CONTEXT_LINE, SOURCE_LINE, CardKind, Face, Template

_CLOZE = re.compile(r"\{\{c\d+::(.*?)\}\}", re.S)  # deckgen's notes: one cloze, no hint

_ASPECTS = {"title": "title", "point": "point", "term": "key term"}
"""What a cloze hides, by the aspect of the item its note asks (its key's part)."""

_TEXT = f'<div class="deckgen">{CONTEXT_LINE}<div class="text">{{{{cloze:Text}}}}</div>'


class ClozeKind(CardKind):  # no fields of its own, so no @dataclass: CardKind's methods serve, start-up is quicker
    """A text, one fact of it hidden; the back adds the rest of the item (``Extra``)."""

    def card_ordinals(self, fields: Sequence[str]) -> tuple[int, ...]:
        """Its one card (``c1``)."""
        return (0,)

    def faces(self, fields: Sequence[str]) -> tuple[Face, ...]:
        """The one card: the context line and the text with the cloze hidden, asking the hidden words."""
        text = fields[self.field_index("Text")]
        front = fields[self.field_index(self.context_field)] + " " + _CLOZE.sub(" ", text)
        return (Face(0, front, " ".join(_CLOZE.findall(text))),)

    def report_group(self, aspect: str, template: str) -> str:
        """Which part of an item the cloze hides: ``cloze: key term``."""
        return f"{self.name}: {_ASPECTS[aspect]}" if aspect in _ASPECTS else self.name

    def removal(self, label: str, shown: str, help_html: str, cards: int) -> dict[str, str]:
        """A cloze hiding the note's label: the student recognises what is gone."""
        # Imported here: the table is read by ``deckgen --help``, and markup imports the YAML reader.
        from generator.source.markup import cloze

        return {"Text": f'<div class="title">Removed from the source</div>{cloze(label)}', "Extra": help_html}


CLOZE = ClozeKind(
    name="cloze",
    note_type_id=1739462201,
    note_type_name="deckgen Cloze",
    fields=("Text", "Context", "Extra", "Source"),
    templates=(
        Template(
            "Cloze",
            f"{_TEXT}</div>",
            _TEXT + '{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}' + f"{SOURCE_LINE}</div>",
        ),
    ),
    cloze=True,
    back_field="Extra",
    max_cards=1,
    max_answer_words=8,  # a cloze hides a few words that matter, never a sentence
    hides_in_item_text=True,
)
