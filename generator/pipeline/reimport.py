"""What a re-import of a topic's package does that its author may not expect: said as notes, never as problems.

Each is this build's news about the lock's released notes: a direction no
longer asked (Anki keeps the card, its front blank) and a key term whose words
changed (a new note, the released one removed with its history, unless the
item says ``formerly:``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from generator.cards.notes import NoteKey, NoteSpec
from generator.errors import Problem
from generator.pipeline.lock.model import Lock
from generator.pipeline.lock.times import ChangeKind


def reimport_notices(
    notes: Sequence[NoteSpec], kinds: Mapping[str, ChangeKind], narrowed: Sequence[str], lock: Lock
) -> tuple[Problem, ...]:
    """The notes of :func:`narrowed_notices` and :func:`renamed_notices`, in the notes' order."""
    return narrowed_notices(notes, narrowed, lock) + renamed_notices(notes, kinds, lock)


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


def renamed_notices(notes: Sequence[NoteSpec], kinds: Mapping[str, ChangeKind], lock: Lock) -> tuple[Problem, ...]:
    """A note for each new key term of a text whose released key term this build removed: a corrected typo, maybe.

    A key term's note is keyed by its words (``term/<field>/<slug>``), so new words are a new note; if they
    are the released term's words corrected, ``formerly:`` keeps the released note, and students' history.
    """
    gone: dict[str, list[str]] = {}  # "<source>/<item>/term/<field>" -> the words of the released terms removed
    for key, kind in kinds.items():
        if kind == "removed" and (text := _term_text(key)) is not None:
            gone.setdefault(text, []).append(_words(lock.notes[key].label))
    return tuple(
        Problem(note.file, note.line, note.local_key, _renamed(_words(note.label), gone[text]), "note")
        for note in notes
        if kinds.get(note.key) == "added" and (text := _term_text(note.key)) in gone
    )


def _term_text(key: str) -> str | None:
    """The text a key term's note key names (``<source>/<item>/term/<field>``), or None for another part."""
    parsed = NoteKey.parse(key)
    field = parsed.part.split("/")
    return f"{parsed.source}/{parsed.item}/term/{field[1]}" if field[0] == "term" and len(field) == 3 else None


def _words(label: str) -> str:
    """A key term's words, as its note's label starts (``<term>: <its text>``)."""
    return label.split(": ", 1)[0]


def _renamed(words: str, released: list[str]) -> str:
    then = " or ".join(repr(w) for w in released)
    line = f"formerly: {{{_json(words)}: {_json(released[0])}}}"  # YAML reads JSON: any words, quoted right
    return (
        f"a new note: a release carried {then} in this text, which no mark asks now; if {words!r} is that term "
        f"corrected, add `{line}` to the item, so that students' notes of it update and keep their history "
        "(otherwise a re-import adds this note beside the one they study)"
    )


def _json(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)
