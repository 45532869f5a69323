"""The comparison kind: a statement asked from its perspective, and the perspective from the statement.

One note per side of a comparison (and per "which perspective?" item, and
per glossary term: a name and its statement), with a fixed pair of templates:
"Side from perspective" when the note has a ``Dimension`` (the prompt),
"Perspective from statement" when it has a ``Question``.  An empty one makes
no card (Anki generates no card whose front shows no field), so an author's
``ask:`` chooses the directions without a second note type.
"""

from __future__ import annotations

from collections.abc import Sequence

from generator.cards.kind import CONTEXT_LINE, SOURCE_LINE, CardKind, Face, Template

# Dimension holds the whole forward prompt, the perspective's name set in bold.
_SIDE_FRONT = f'<div class="deckgen">{CONTEXT_LINE}<div class="prompt">{{{{Dimension}}}}</div>'
# The reverse front shows no Dimension: its prompt names the perspective.
_WHICH_FRONT = (
    f'<div class="deckgen">{CONTEXT_LINE}'
    '<div class="statement">{{Statement}}</div><div class="ask">{{Question}}</div>'
)
_OTHERS = '{{#Others}}<div class="extra">{{Others}}</div>{{/Others}}'
_ASKING = ("Dimension", "Question")
"""The field each template's card needs, in the templates' order."""


class ComparisonKind(CardKind):  # no fields of its own, so no @dataclass: CardKind's methods serve, start-up is quicker
    """A side from its perspective (``Dimension``), a perspective from its side (``Question``), or both."""

    def card_ordinals(self, fields: Sequence[str]) -> tuple[int, ...]:
        """The side card if the note has a Dimension, the "which perspective?" card if it has a Question."""
        return tuple(ordinal for ordinal, name in enumerate(_ASKING) if fields[self.field_index(name)])

    def faces(self, fields: Sequence[str]) -> tuple[Face, ...]:
        """The side card asks the statement; the "which perspective?" card asks the perspective."""
        values = self.values(fields)
        context, statement, question = values[self.context_field], values["Statement"], values["Question"]
        faces = []
        if values["Dimension"]:
            faces.append(Face(0, context + " " + values["Dimension"], statement, question=question))
        if question:
            front = context + " " + statement + " " + question
            faces.append(Face(1, front, values["Perspective"], True, question, cue=statement))
        return tuple(faces)

    def report_group(self, aspect: str, template: str) -> str:
        """Which way the card asks: ``comparison: side from perspective``."""
        return f"{self.name}: {template.lower()}"

    def removal(self, label: str, shown: str, help_html: str, cards: int) -> dict[str, str]:
        """Both directions saying the note is gone (the side card only if the note had both)."""
        return {
            "Key": f"Removed: {shown}",
            "Dimension": "Removed from the source" if cards == 2 else "",
            "Perspective": "(removed)",
            "Statement": shown,
            "Others": help_html,
            "Question": "Removed from the source",
        }


COMPARISON = ComparisonKind(
    name="comparison",
    note_type_id=1739462202,
    note_type_name="deckgen Comparison",
    fields=("Key", "Dimension", "Perspective", "Statement", "Others", "Context", "Question", "Source"),
    templates=(
        # Only comparisons have a Dimension; a lone statement asks only "which perspective?".
        Template(
            "Side from perspective",
            "{{#Dimension}}" + _SIDE_FRONT + "</div>{{/Dimension}}",
            "{{#Dimension}}" + _SIDE_FRONT + '<hr id="answer"><div class="answer">{{Statement}}</div>'
            + _OTHERS + SOURCE_LINE + "</div>{{/Dimension}}",
        ),
        # An empty Question: the author asks only the sides (``ask: side``).
        Template(
            "Perspective from statement",
            "{{#Question}}" + _WHICH_FRONT + "</div>{{/Question}}",
            "{{#Question}}" + _WHICH_FRONT + '<hr id="answer"><div class="answer">{{Perspective}}</div>'
            + _OTHERS + SOURCE_LINE + "</div>{{/Question}}",
        ),
    ),
    cloze=False,
    back_field="Others",
    max_cards=2,
)
