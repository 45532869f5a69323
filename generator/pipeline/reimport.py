"""What a re-import of a topic's package does that its author may not expect: said as notes, never as problems.

Each is news about the lock's released notes: a direction no longer asked
(Anki keeps the card, its front blank), and a key term whose words changed (a
new note, the released one removed with its history, unless the item says
``formerly:``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import NamedTuple

from generator.cards.notes import NoteKey, NoteSpec
from generator.errors import Problem
from generator.pipeline.lock.model import Lock, LockedNote


class Reimport(NamedTuple):
    """What a re-import of a topic's package does that its author may not expect: this build's news of it."""

    narrowed: tuple[Problem, ...] = ()
    """Released notes asked fewer ways now (see :func:`narrowed_notices`)."""
    renamed: tuple[Problem, ...] = ()
    """Key terms that may be released ones corrected (see :func:`renamed_notices`): news until a release carries
    them, so the topic is built again by every build until then, not reused, and says so each time."""

    @property
    def notices(self) -> tuple[Problem, ...]:
        return self.narrowed + self.renamed


def reimport_news(
    notes: Sequence[NoteSpec], entries: Mapping[str, LockedNote], gone: Iterable[str], narrowed: Sequence[str],
    lock: Lock,
) -> Reimport:
    """The notes of :func:`narrowed_notices` and :func:`renamed_notices`, each in the notes' order."""
    return Reimport(narrowed_notices(notes, narrowed, lock), renamed_notices(notes, entries, gone))


def narrowed_notices(notes: Sequence[NoteSpec], narrowed: Sequence[str], lock: Lock) -> tuple[Problem, ...]:
    """A note for each released note with fewer cards now (a direction no longer asked, see
    :attr:`~generator.pipeline.lock.times.Resolution.narrowed`): Anki keeps a student's card of it, with a blank
    front."""
    if not narrowed:
        return ()
    keys = set(narrowed)
    return tuple(
        Problem(
            note.file, note.line, note.local_key,
            f"a release carried it with {lock.notes[note.key].cards} cards, it has {note.cards} now: a student who "
            "studied it keeps the card no longer asked, its front blank, until Anki's Tools > Empty Cards deletes "
            "it (with its reviews); ask it as released to keep the card",
            "note",
        )
        for note in notes  # in the order the notes were resolved, as *narrowed* is
        if note.key in keys
    )


def renamed_notices(
    notes: Sequence[NoteSpec], entries: Mapping[str, LockedNote], gone: Iterable[str]
) -> tuple[Problem, ...]:
    """A note for each key term no release has carried, beside a released one of the same text no mark asks now.

    A key term's note is keyed by its words (``term/<field>/<slug>``), so new words are a new note; if they
    are the released term's words corrected, ``formerly:`` keeps the released note, and students' history.
    Said on every build until a release carries the new note (then students have it): *entries* are the
    topic's notes as this build leaves them in the lock, *gone* the keys of the released notes it makes no more.
    """
    released: dict[str, list[str]] = {}  # "<source>/<item>/term/<field>" -> the words its gone notes are keyed by
    for key in gone:
        if (text := _term_text(key)) is not None:
            released.setdefault(text, []).append(_key_words(key))
    if not released:
        return ()
    keys = {note.key for note in notes}
    return tuple(
        Problem(note.file, note.line, note.local_key, _renamed(note.key, released[text], keys), "note")
        for note in notes
        if (text := _term_text(note.key)) in released and not entries[note.key].released
    )


def _term_text(key: str) -> str | None:
    """The text a key term's note key names (``<source>/<item>/term/<field>``), or None for another part."""
    parsed = NoteKey.parse(key)
    field = parsed.part.split("/")
    return f"{parsed.source}/{parsed.item}/term/{field[1]}" if field[0] == "term" and len(field) == 3 else None


def _key_words(key: str) -> str:
    """Words whose slug is the one a key term's note key ends with: what ``formerly`` matches, in any case."""
    return key.rsplit("/", 1)[1].replace("-", " ")


def _renamed(key: str, released: list[str], keys: set[str]) -> str:
    words, then = _key_words(key), " or ".join(repr(w) for w in released)
    terms, field, term_slug = key.rsplit("/", 2)  # "<source>/<item>/term", the text, the slug
    # A term its other text marks too is renamed in this text alone: its note there keeps its key.
    other = "conclusion" if field == "explanation" else "explanation"
    both = f"{terms}/{other}/{term_slug}" in keys
    released_words = f"{{{_json(field)}: {_json(released[0])}}}" if both else _json(released[0])
    pair = f"{_json(words)}: {released_words}"  # YAML reads JSON: any words, quoted right
    return (
        f"a new note beside a released one: a release carried {then} in this text, which no mark asks now; "
        f"if {words!r} is that term corrected, add `{pair}` to the item's formerly (`formerly: {{{pair}}}` "
        "if it has none), so that students' notes of it update and keep their history (otherwise a re-import "
        "adds this note beside the one they study)"
    )


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
