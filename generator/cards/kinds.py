"""The table of card kinds: every module that treats notes differently by kind reads it.

Notes, note types, packages, the lock, the preview, the report, smells and
``--kind`` ask a note's kind (``KINDS[note.note_type]``) for what they need,
never compare kind names.  Adding a kind is its own module (a
:class:`~generator.cards.kind.CardKind`: its note type, cards, what each card
asks, its report group, its removed notes' copies, and the notes it makes of
a topic, :attr:`~generator.cards.kind.CardKind.notes_of`) and one entry here.
The two kinds here ask the format's content
(:func:`generator.cards.notes.topic_notes`: an item's marked terms as clozes;
its "which perspective?" question, comparisons and terms as comparison
notes); a key a source does not have yet is the source format's to add.  A
kind is never removed or renamed, for every collection that imported one of
its notes holds its note type.
"""

from __future__ import annotations

from typing import Final

from generator.cards.cloze import CLOZE
from generator.cards.comparison import COMPARISON
from generator.cards.kind import CardKind

KINDS: Final[dict[str, CardKind]] = {kind.name: kind for kind in (CLOZE, COMPARISON)}
"""Every card kind by name, in the order help and the lock list them."""
KIND_NAMES: Final[tuple[str, ...]] = tuple(KINDS)
MAX_CARDS: Final = max(kind.max_cards for kind in KINDS.values())
"""The most cards a note of any kind has."""
