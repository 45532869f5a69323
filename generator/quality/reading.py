"""A card as the checks read it: once, as a student reads it, and every check reads that.

Each card's front is read as its kind shows it (the kind's faces, which the
note type's templates show as Anki renders them: tests/test_smells.py renders
every card of several sources to hold the two alike): its plain text, the
source line aside, and its words.  Read from the fields, the fronts of 50,000
cards cost no rendering; read once, they cost no second pass for each check.
"""

from __future__ import annotations

import html
import re
from typing import NamedTuple

from generator.cards.kind import Face
from generator.cards.notes import Faced, NoteSpec
from generator.source.words import lower_words

_TAG = re.compile(r"<[^>]+>")
_SOURCE_OPEN = '<div class="source">'
_SOURCE_LINE = re.compile(r'<div class="source">.*?</div>', re.S)  # opens with _SOURCE_OPEN


class Card(NamedTuple):  # one per card of a topic: a tuple is made three times faster than a frozen dataclass
    """A card as the checks read it: its note, its face, its front and answer as plain text, and their words."""

    note: NoteSpec
    face: Face
    """The card as its kind reads it from the note's fields (HTML)."""
    front: str  # plain text of the front, as a student reads it
    answer: str  # plain text of what the card asks for
    front_words: tuple[str, ...]  # words(front), once: every check reads them
    answer_words: tuple[str, ...]
    question: str = ""  # plain text of the card's own question: its words give no answer away

    @property
    def which(self) -> bool:
        """True if it asks "which perspective?" (a glossary term's note has no perspective: its card asks the
        term its definition defines, an answer like any other)."""
        return self.face.asks_perspective and self.note.perspective is not None

    def where(self) -> str:
        return self.note.local_key


def read_cards(faced: Faced) -> list[Card]:
    """Every card of the notes of *faced* (each with its faces), in order."""
    cards = []
    for note, faces in faced:
        for face in faces:
            answer, front = plain(face.answer), plain(face.front)
            question = plain(face.question) if face.question else ""  # most cards ask no question of their own
            cards.append(Card(note, face, front, answer, words(front), words(answer), question))
    return cards


def plain(fragment: str) -> str:
    """Card HTML as the words a student reads (the source line aside)."""
    if "<" in fragment:  # most answers and questions hold no markup
        if _SOURCE_OPEN in fragment:  # a front's faces hold none: the note type's template adds it
            fragment = _SOURCE_LINE.sub(" ", fragment)
        fragment = _TAG.sub(" ", fragment)
    return " ".join(_unescaped(fragment).split())


def _unescaped(text: str) -> str:
    """``html.unescape(text)``, where every '&' opens "&amp;" (as on a front under a heading with an ampersand)
    by a replace, not by the pattern and a Python call per reference that html.unescape makes."""
    if "&" in text and text.count("&") == text.count("&amp;"):
        return text.replace("&amp;", "&")  # what html.unescape makes of each: "amp;" is a whole reference
    return html.unescape(text)


def words(text: str) -> tuple[str, ...]:
    """The words of *text*, lowercased."""
    return tuple(lower_words(text))
