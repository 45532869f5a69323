"""Validated content → notes: what each card asks, in which deck, under which GUID.

Identity is declared, never derived from content: a note's GUID hashes the
source id, the item id and the part of the item the note asks about (``title``,
``point/<key>``, ``term/<field>/<slug>``, ``side/<perspective>``, ``perspective``).
Editing any text keeps every GUID; only renaming an id (or a key term) makes
a new note.  Each note asks one fact, so a note has one cloze (``c1``) or, for
comparisons, a fixed pair of templates: inserting or reordering points can
never move a student's history to another fact.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from .content import Comparison, Item, Marked, Source, Topic
from .markup import cloze, marked_html, to_html

CLOZE = "cloze"
COMPARISON = "comparison"

CLOZE_FIELDS = ("Text", "Context", "Extra", "Source")
COMPARISON_FIELDS = (
    "Key",
    "Dimension",
    "Perspective",
    "Statement",
    "Others",
    "Context",
    "Question",
    "Source",
)
COMPARISON_QUESTION = "Which perspective is this?"


@dataclass(frozen=True, slots=True)  # tens of thousands of them: no per-instance dict
class NoteSpec:
    """Everything needed to write one Anki note; no genanki object yet."""

    key: str
    guid: str
    note_type: str
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    topic: str
    perspective: str | None
    cards: int
    label: str
    """A short plain-text description, kept in the lock for a removed note's tombstone."""

    def field(self, name: str) -> str:
        """The value of field *name* of this note's note type."""
        names = CLOZE_FIELDS if self.note_type == CLOZE else COMPARISON_FIELDS
        return self.fields[names.index(name)]


_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


def guid_for(key: str) -> str:
    """A stable Anki GUID for a note key (genanki's base91 form of a SHA-256 prefix)."""
    number = int.from_bytes(hashlib.sha256(("deckgen\x1f" + key).encode()).digest()[:8], "big")
    digits = []
    while number:
        number, digit = divmod(number, len(_BASE91))
        digits.append(_BASE91[digit])
    return "".join(reversed(digits)) or _BASE91[0]


def slug(text: str) -> str:
    """A key-term slug: lowercase words joined by '-'."""
    return "-".join(re.findall(r"\w+", text.lower())) or "term"


def topic_deck(source: Source, topic: Topic) -> str:
    """The deck name of *topic*: the source's root deck, then the topic's name."""
    return f"{source.deck}::{topic.name}"


def build_notes(source: Source) -> list[NoteSpec]:
    """Every note of *source*, in source order."""
    return [note for topic in source.topics for note in topic_notes(source, topic)]


def topic_notes(source: Source, topic: Topic) -> Iterator[NoteSpec]:
    """The notes of one topic: its items' clozes and perspective questions, its comparisons."""
    split_by_perspective = len({i.perspective for i in topic.items if i.perspective}) > 1
    for item in topic.items:
        deck = topic_deck(source, topic)
        if split_by_perspective and item.perspective:
            deck = f"{deck}::{source.perspective(item.perspective).name}"
        yield from _item_clozes(_Maker(source, topic, item.perspective, item.tags, deck), item)
        if item.perspective and item.title:
            yield _perspective_question(source, topic, item)
    for comparison in topic.comparisons:
        yield from _comparison_notes(source, topic, comparison)


class _Maker:
    """Shared context for the notes of one item: tags, deck, context line, source."""

    def __init__(
        self, source: Source, topic: Topic, perspective: str | None, tags: tuple[str, ...], deck: str
    ) -> None:
        self.source = source
        self.topic = topic
        self.perspective = perspective
        self.deck = deck
        base = [f"{source.id}::topic::{topic.id}"]
        if perspective:
            base.append(f"{source.id}::perspective::{perspective}")
        self.tags = (*base, *tags, f"{source.id}::kind::cloze")
        heading = topic.heading_for(perspective)
        if perspective and not any(pid == perspective for pid, _ in topic.headings):
            heading = f"{heading} · {source.perspective(perspective).name}"
        self.context = to_html(heading)
        self.source_html = to_html(source.title)

    def cloze_note(self, key: str, text: str, extra: str, label: str) -> NoteSpec:
        full_key = f"{self.source.id}/{key}"
        return NoteSpec(
            key=full_key,
            guid=guid_for(full_key),
            note_type=CLOZE,
            fields=(text, self.context, extra, self.source_html),
            tags=self.tags,
            deck=self.deck,
            topic=self.topic.id,
            perspective=self.perspective,
            cards=1,
            label=_short(label),
        )


def _item_clozes(maker: _Maker, item: Item) -> Iterator[NoteSpec]:
    title = f'<div class="title">{to_html(item.title)}</div>' if item.title else ""
    explanation = _paragraph(item.explanation)
    conclusion = _paragraph(item.conclusion)
    rows = [f"<li>{marked_html(point.text)}</li>" for point in item.points]
    points = _list(rows)
    if item.title and (item.explanation or item.points):
        yield maker.cloze_note(
            f"{item.id}/title",
            f'<div class="title">{cloze(item.title)}</div>{explanation}{points}',
            conclusion,
            item.title,
        )
    for index, point in enumerate(item.points):
        asked = rows[:index] + [_asked_row(point.text)] + rows[index + 1 :]
        # The explanation stays on the front: it often leads into the list ("You can:").
        yield maker.cloze_note(
            f"{item.id}/point/{point.key}", title + explanation + _list(asked), conclusion, point.text.plain
        )
    for field, marked in (("explanation", item.explanation), ("conclusion", item.conclusion)):
        for term_slug, indexes in _terms(marked).items():
            assert marked is not None
            text = title + _paragraph(marked, hide=indexes)
            extra = points + conclusion if field == "explanation" else ""
            term = marked.terms[min(indexes)]
            yield maker.cloze_note(f"{item.id}/term/{field}/{term_slug}", text, extra, f"{term}: {marked.plain}")


def _short(text: str) -> str:
    """A one-line label of at most 80 characters."""
    text = " ".join(text.split())
    return text if len(text) <= 80 else text[:79] + "…"


def _terms(marked: Marked | None) -> dict[str, set[int]]:
    """Key terms by slug: a term that occurs twice is one fact, hidden everywhere."""
    grouped: dict[str, set[int]] = {}
    for index, term in enumerate(marked.terms if marked else ()):
        grouped.setdefault(slug(term), set()).add(index)
    return grouped


def _paragraph(marked: Marked | None, hide: set[int] | None = None) -> str:
    if marked is None:
        return ""
    return f'<div class="body">{marked_html(marked, hide=hide or set())}</div>'


def _asked_row(text: Marked) -> str:
    """A point's list row with the point (or only its key terms) hidden."""
    hidden = marked_html(text, hide_all=True) if text.terms else cloze(text.plain)
    return f'<li class="asked">{hidden}</li>'


def _list(rows: list[str]) -> str:
    return f'<ul class="points">{"".join(rows)}</ul>' if rows else ""


def _comparison_note(
    source: Source,
    topic: Topic,
    key: str,
    perspective: str,
    values: dict[str, str],
    tags: tuple[str, ...],
    label: str,
) -> NoteSpec:
    full_key = f"{source.id}/{key}"
    fields = tuple(values.get(name, "") for name in COMPARISON_FIELDS)
    return NoteSpec(
        key=full_key,
        guid=guid_for(full_key),
        note_type=COMPARISON,
        fields=fields,
        tags=(
            f"{source.id}::topic::{topic.id}",
            f"{source.id}::perspective::{perspective}",
            f"{source.id}::kind::comparison",
        )
        + tags,
        deck=topic_deck(source, topic),
        topic=topic.id,
        perspective=perspective,
        cards=2 if values.get("Dimension") else 1,
        label=_short(label),
    )


def _perspective_question(source: Source, topic: Topic, item: Item) -> NoteSpec:
    """"Which perspective is this?" for an item that belongs to one perspective."""
    assert item.perspective and item.title
    return _comparison_note(
        source,
        topic,
        f"{item.id}/perspective",
        item.perspective,
        {
            "Key": to_html(f"{item.title} ({topic.name})"),
            "Perspective": to_html(source.perspective(item.perspective).name),
            "Statement": to_html(item.title),
            # Not the per-perspective heading: it would give the answer away.
            "Context": to_html(topic.heading or topic.name),
            "Question": to_html(topic.question),
            "Source": to_html(source.title),
        },
        item.tags,
        f"{item.title} ({topic.name})",
    )


def _comparison_notes(source: Source, topic: Topic, comparison: Comparison) -> Iterator[NoteSpec]:
    """One note per perspective's side: asks side from perspective and perspective from side."""
    for pid, side in comparison.sides:
        name = source.perspective(pid).name
        others = "".join(
            f"<li><b>{to_html(source.perspective(other).name)}:</b> {to_html(text)}</li>"
            for other, text in comparison.sides
            if other != pid
        )
        yield _comparison_note(
            source,
            topic,
            f"{comparison.id}/side/{pid}",
            pid,
            {
                "Key": to_html(f"{comparison.dimension} · {name}"),
                "Dimension": to_html(comparison.dimension),
                "Perspective": to_html(name),
                "Statement": to_html(side),
                "Others": f'<ul class="others">{others}</ul>',
                "Context": to_html(topic.heading or topic.name),
                "Question": to_html(COMPARISON_QUESTION),
                "Source": to_html(source.title),
            },
            comparison.tags,
            f"{comparison.dimension} · {name}",
        )


def content_parts(spec: NoteSpec) -> tuple[str, ...]:
    """What a student's copy of the note holds: a change here must reach them."""
    return (spec.note_type, *spec.fields, " ".join(spec.tags))


REMOVED_HELP = (
    "This note was removed from its source. In Anki's Browser, search "
    "<b>tag:deckgen::removed</b> and delete the notes you no longer want."
)


def tombstone(
    key: str, guid: str, note_type: str, label: str, deck: str, topic: str, cards: int, tag: str
) -> NoteSpec:
    """A removed note, re-emitted so a re-import marks it (same GUID, note type and cards)."""
    shown = to_html(label)
    if note_type == CLOZE:
        values = {
            "Text": f'<div class="title">Removed from the source</div>{{{{c1::{shown.replace(":", "&#58;")}}}}}',
            "Extra": REMOVED_HELP,
        }
    else:
        values = {
            "Key": f"Removed: {shown}",
            "Dimension": "Removed from the source" if cards == 2 else "",
            "Perspective": "(removed)",
            "Statement": shown,
            "Others": REMOVED_HELP,
            "Question": "Removed from the source",
        }
    names = CLOZE_FIELDS if note_type == CLOZE else COMPARISON_FIELDS
    values.setdefault("Context", "Removed")
    return NoteSpec(
        key=key,
        guid=guid,
        note_type=note_type,
        fields=tuple(values.get(name, "") for name in names),
        tags=(tag,),
        deck=deck,
        topic=topic,
        perspective=None,
        cards=cards,
        label=label,
    )
