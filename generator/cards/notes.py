"""Validated content → notes: what each card asks, in which deck, under which GUID.

Identity is declared, never derived from content: a note's GUID hashes the
source id, the item id and the part of the item the note asks about (``title``,
``point/<key>``, ``term/<field>/<slug>``, ``side/<perspective>``, ``perspective``).
Editing any text keeps every GUID; only renaming an id (or a key term) makes
a new note.  Each note asks one fact, so a note has one cloze (``c1``) or, for
comparisons, a fixed pair of templates: inserting or reordering points can
never move a student's history to another fact.

A back lists at most :data:`MAX_LISTED` of an item's points, and of the
sentences of its explanation and of its conclusion.  Each marked point (or
key term) is a note whose back shows the item's other points and sentences:
with all of them on every back, an item of N marked points made N notes of N
points each, N² in time and memory (20 s and 1.1 GB at 5,000 points; an
explanation of 2,000 key terms took 15 s).  Beyond the limit a back shows
the points (sentences) around the one its front asks, or the first ones,
and says what it leaves out ("… 169 more points", an ellipsis in a text);
so the notes grow linearly with the source, and a back still fits a phone.
"""

from __future__ import annotations

import hashlib
import heapq
import html
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from typing import Final, NamedTuple, Protocol

from generator.cards import cloze as cloze_kind
from generator.cards import comparison as comparison_kind
from generator.cards.kind import CardKind, Face
from generator.cards.kinds import KINDS
from generator.source.content import (
    BOTH,
    PERSPECTIVE,
    REMOVED_TAG,
    SIDE,
    Comparison,
    Item,
    Marked,
    Source,
    Term,
    Topic,
)
from generator.source.markup import marked_html, media_html, sentences, to_html
from generator.source.markup import slug as slug  # where selection and the tests take it from

NoteKind = str
"""A note's kind: a name in :data:`generator.cards.kinds.KINDS`, which says everything that differs by kind."""
# The names callers had before the table: a note's kind is read from KINDS, never compared with these.
CLOZE: Final = cloze_kind.CLOZE.name
COMPARISON: Final = comparison_kind.COMPARISON.name

MAX_LISTED = 30
"""The most points of an item, or sentences of one of its texts, that one back shows (see the module's docstring)."""

CLOZE_FIELDS = cloze_kind.CLOZE.fields
COMPARISON_FIELDS = comparison_kind.COMPARISON.fields


@dataclass(frozen=True, slots=True)  # tens of thousands of them: no per-instance dict
class NoteSpec:
    """Everything needed to write one Anki note; no genanki object yet."""

    key: str
    guid: str
    note_type: NoteKind
    fields: tuple[str, ...]
    tags: tuple[str, ...]
    deck: str
    topic: str
    perspective: str | None
    cards: int
    label: str
    """A short plain-text description, kept in the lock for a removed note's tombstone."""
    item_id: str = ""
    """The item or comparison the note asks about: its notes are siblings, kept apart in study."""
    part: str = ""
    """Which part of it the note asks: ``title``, ``point/<key>``, ``term/<field>/<slug>``,
    ``side/<perspective>`` or ``perspective``."""
    file: str = ""
    line: int = 0
    media: tuple[str, ...] = ()
    """The packaged names of the media files its fields show (its package carries them)."""

    @property
    def local_key(self) -> str:
        """The key inside its source: ``<item>/<part>`` (how problems name the note)."""
        return f"{self.item_id}/{self.part}"

    def field(self, name: str) -> str:
        """The value of field *name* of this note's note type."""
        return self.fields[KINDS[self.note_type].field_index(name)]


def kind_note(
    kind: CardKind, source_id: str, item_id: str, part: str, values: Mapping[str, str], *, tags: tuple[str, ...],
    deck: str, topic: str, perspective: str | None, label: str, file: str, line: int, media: tuple[str, ...],
) -> NoteSpec:
    """A note of *kind* asking *part* of item *item_id*: its key and GUID from those ids, never from its text (an
    edit updates the note a student studies), its fields in the kind's order, its cards as the kind counts them."""
    key = note_key(source_id, item_id, part)
    fields = kind.field_tuple(values)
    return NoteSpec(
        key=key, guid=guid_for(key), note_type=kind.name, fields=fields, tags=tags, deck=deck, topic=topic,
        perspective=perspective, cards=len(kind.card_ordinals(fields)), label=_short(label), item_id=item_id,
        part=part, file=file, line=line, media=media,
    )


_BASE91 = (
    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
    "!#$%&()*+,-./:;<=>?@[]^_`{|}~"
)


@dataclass(frozen=True, slots=True)
class NoteKey:
    """A note's key, ``<source>/<item>/<part>``: the lock's key and the GUID's seed, read back by the report."""

    source: str
    item: str
    """The item, comparison or term the note asks about."""
    part: str
    """Which part of it: ``title``, ``point/<key>``, ``term/<field>/<slug>``, ``side/<perspective>``,
    ``perspective`` or ``definition``."""

    def __str__(self) -> str:
        return f"{self.source}/{self.item}/{self.part}"

    @property
    def aspect(self) -> str:
        """The part without its own key: ``point`` of ``point/<key>``."""
        return aspect_of(self.part)

    @classmethod
    def parse(cls, key: str) -> NoteKey:
        """The key *key* as written in a lock."""
        source_id, item_id, part = key.split("/", 2)
        return cls(source_id, item_id, part)


def aspect_of(part: str) -> str:
    """A note's part without its own key: ``point`` of ``point/<key>`` (see :class:`NoteKey`)."""
    return part.split("/", 1)[0]


def note_key(source_id: str, group: str, part: str) -> str:
    """A note's key: its source, the item or comparison it asks about, and which part of it."""
    return str(NoteKey(source_id, group, part))


def key_parts(key: str) -> tuple[str, str, str]:
    """A note key's source, item (or comparison) and part (see :class:`NoteKey`): for keys read from a lock."""
    parsed = NoteKey.parse(key)
    return parsed.source, parsed.item, parsed.part


def guid_for(key: str) -> str:
    """A stable Anki GUID for a note key (genanki's base91 form of a SHA-256 prefix)."""
    number = int.from_bytes(hashlib.sha256(("deckgen\x1f" + key).encode()).digest()[:8], "big")
    digits = []
    while number:
        number, digit = divmod(number, len(_BASE91))
        digits.append(_BASE91[digit])
    return "".join(reversed(digits)) or _BASE91[0]


def topic_deck(source: Source, topic: Topic) -> str:
    """The deck name of *topic*: the source's root deck, then the topic's name (numbered if the source asks)."""
    return source.topic_decks.get(topic.id) or f"{source.deck}::{topic.name}"


def build_notes(source: Source) -> list[NoteSpec]:
    """Every note of *source*, topic by topic, each deck's notes in study order."""
    return [note for topic in source.topics for note in studied_notes(source, topic)]


def studied_notes(source: Source, topic: Topic) -> list[NoteSpec]:
    """*topic*'s notes as its package holds them: each deck's in study order (see :func:`study_order`)."""
    return study_order(list(topic_notes(source, topic)))


def study_order(notes: list[NoteSpec]) -> list[NoteSpec]:
    """*notes* reordered so that, in each deck, no two cards of one item come up back to back.

    Separate notes are not siblings to Anki, so nothing would bury them; new
    cards come in the order of their notes in the package, one card template
    after another.  So the notes with the same templates are interleaved by
    item on their own (:func:`new_card_queues`): each template's queue then
    keeps an item's cards apart.  Where an item has more notes than all others
    together, the tail cannot be kept apart.
    """
    by_deck: dict[str, dict[tuple[int, ...], list[NoteSpec]]] = {}
    for note in notes:
        by_deck.setdefault(note.deck, {}).setdefault(new_card_queues(note), []).append(note)
    return [note for kinds in by_deck.values() for same in kinds.values() for note in _interleave(same)]


def new_card_queues(note: NoteSpec) -> tuple[int, ...]:
    """The card templates (by ordinal) a note has: Anki queues new cards template by template."""
    return KINDS[note.note_type].card_ordinals(note.fields)


def _interleave(notes: list[NoteSpec]) -> list[NoteSpec]:
    """Greedy: always the group with most notes left that is not the one just taken."""
    groups: dict[str, list[NoteSpec]] = {}
    for note in notes:
        groups.setdefault(note.item_id, []).append(note)
    if len(groups) < 2:
        return notes
    queues = [list(reversed(members)) for members in groups.values()]
    heap = [(-len(queue), order) for order, queue in enumerate(queues)]
    heapq.heapify(heap)
    ordered: list[NoteSpec] = []
    last = -1
    while heap:
        left, order = heapq.heappop(heap)
        if order == last and heap:
            left, order = heapq.heapreplace(heap, (left, order))
        ordered.append(queues[order].pop())
        if left + 1:
            heapq.heappush(heap, (left + 1, order))
        last = order
    return ordered


def topic_notes(source: Source, topic: Topic) -> Iterator[NoteSpec]:
    """The notes of one topic, in source order: its items' clozes and perspective questions, its comparisons,
    its terms, then what each kind that makes notes of its own (:attr:`CardKind.notes_of`) asks of it."""
    split_by_perspective = len({i.perspective for i in topic.items if i.perspective}) > 1
    groups: list[list[NoteSpec]] = []  # each item's notes (none for context), then each comparison's, each term's
    for item in topic.items:
        deck = topic_deck(source, topic)
        if split_by_perspective and item.perspective:
            deck = f"{deck}::{source.perspective(item.perspective).name}"
        notes = list(_item_clozes(_Maker(source, topic, item, deck), item))
        if item.which_statement:
            notes.append(_perspective_question(source, topic, item))
        groups.append(notes)
    groups += [list(_comparison_notes(source, topic, comparison)) for comparison in topic.comparisons]
    groups += [[_term_note(source, topic, term)] for term in topic.terms]
    groups += [list(kind.notes_of(source, topic)) for kind in KINDS.values() if kind.notes_of is not None]
    shown = _context_homes(topic, groups, figures_only=source.short_backs)
    for group in groups:
        for note in group:
            yield _with_context(note, shown.get(note.guid, ()))


def makes_cards(item: Item) -> bool:
    """True if *item* makes a note: a marked term, or a "which perspective?" question."""
    marked = [item.title, item.explanation, item.conclusion, *(point.text for point in item.points)]
    return bool(item.which_statement) or any(text is not None and text.term_runs for text in marked)


MAX_CONTEXT_WORDS = 120
"""The most words of context (items that make no card) one back shows: with its own text, about a phone screen."""


class _Shown(NamedTuple):
    """A piece of context as a back shows it: a whole item, or the sentences of a long one that fit a back."""

    html: str
    words: int
    media: tuple[str, ...] = ()


def _context_homes(
    topic: Topic, groups: Sequence[Sequence[NoteSpec]], *, figures_only: bool = False
) -> dict[str, list[_Shown]]:
    """Note GUID -> the context its back shows: each context item on the nearest note with room.

    *groups* are the notes of each of the topic's items (in order, none for
    an item of context), then of each comparison and term, then each kind's own.  An item's context
    goes first to the next item that makes a card (the one it introduces),
    else to the nearest others (after before before at one distance), an
    item's notes in order; a topic whose items make no card gives it to its
    comparisons, then its terms.  A back shows at most
    :data:`MAX_CONTEXT_WORDS` words of context: an item longer than that is
    shown in pieces of whole sentences on the nearest backs with room, and
    what no back has room for is on no card (it stays in the source).  While
    a topic's context fits, each item goes where it always went: with the
    first note of the next item that makes a card, or of the last one.
    With *figures_only* (``backs: short``), only the context items that show
    an image or a sound (a figure and its caption) are placed.
    """
    count = len(topic.items)
    asking = [position for position, notes in enumerate(groups[:count]) if notes]
    rest = [notes for notes in groups[count:] if notes]
    shown: dict[str, list[_Shown]] = {}
    used: dict[str, int] = {}
    for position, item in enumerate(topic.items):
        if groups[position] or figures_only and not item.media:
            continue
        after = [q for q in asking if q > position][:1]
        nearest = sorted((q for q in asking if q not in after), key=lambda q: (abs(q - position), q < position))
        homes = [note for q in after + nearest for note in groups[q]] or [note for notes in rest for note in notes]
        for piece in _pieces(item):
            home = next((note for note in homes if used.get(note.guid, 0) + piece.words <= MAX_CONTEXT_WORDS), None)
            if home is None and piece.words > MAX_CONTEXT_WORDS:  # one sentence longer than a back: alone
                home = next((note for note in homes if note.guid not in used), None)
            if home is not None:
                shown.setdefault(home.guid, []).append(piece)
                used[home.guid] = used.get(home.guid, 0) + piece.words
    return shown


def _pieces(item: Item) -> list[_Shown]:
    """*item* as one piece of context, or, beyond :data:`MAX_CONTEXT_WORDS`, as pieces of whole sentences."""
    whole = (
        _title(item.title) + _paragraph(item.explanation) + _listed(_point_rows(item)) + _paragraph(item.conclusion)
    )
    media = media_names(item)
    words = _word_count(whole)
    if words <= MAX_CONTEXT_WORDS:  # a figure and its caption, together
        return [_Shown(f'<div class="also">{whole}{media_html(item.media)}</div>', words, media)]
    parts = [
        *(("body", marked_html(s)) for s, _ in (sentences(item.explanation) if item.explanation else [])),
        *(("row", row) for row in _point_rows(item)),
        *(("body", marked_html(s)) for s, _ in (sentences(item.conclusion) if item.conclusion else [])),
    ]
    pieces: list[list[tuple[str, str]]] = [[]]
    size = _word_count(_title(item.title))
    for part in parts:
        words = _word_count(part[1])
        if pieces[-1] and size + words > MAX_CONTEXT_WORDS:
            pieces.append([])
            size = 0
        pieces[-1].append(part)
        size += words
    shown = []
    for number, piece in enumerate(pieces):
        html_ = (_title(item.title) if number == 0 else "") + _grouped(piece)
        html_ += media_html(item.media) if number == 0 else ""
        shown.append(_Shown(f'<div class="also">{html_}</div>', _word_count(html_), media if number == 0 else ()))
    return shown


def _grouped(parts: Sequence[tuple[str, str]]) -> str:
    """Sentences as paragraphs and rows as lists, in their order."""
    out, kind = "", ""
    run: list[str] = []
    for part_kind, text in [*parts, ("", "")]:
        if part_kind != kind and run:
            out += f'<div class="body">{" ".join(run)}</div>' if kind == "body" else _list(run)
            run = []
        kind = part_kind
        run.append(text)
    return out


_ANY_TAG = re.compile(r"<[^>]+>")


def _word_count(fragment: str) -> int:
    return len(html.unescape(_ANY_TAG.sub(" ", fragment)).split())


def _with_context(note: NoteSpec, context: Sequence[_Shown]) -> NoteSpec:
    """*note*, its back also showing the *context* pieces."""
    if not context:
        return note
    shown = "".join(piece.html for piece in context)
    back = KINDS[note.note_type].field_index(KINDS[note.note_type].back_field)
    fields = tuple(value + shown if number == back else value for number, value in enumerate(note.fields))
    media = tuple(dict.fromkeys((*note.media, *(name for piece in context for name in piece.media))))
    return replace(note, fields=fields, media=media)


class _Maker:
    """Shared context for the notes of one item: tags, deck, context line, source."""

    def __init__(self, source: Source, topic: Topic, item: Item, deck: str) -> None:
        self.source = source
        self.topic = topic
        self.item = item
        self.deck = deck
        perspective = item.perspective
        kind_tag = f"{source.id}::kind::{cloze_kind.CLOZE.name}"
        self.tags = (*_base_tags(source, topic, perspective), *item.tags, kind_tag)
        heading = topic.heading_for(perspective)
        if perspective and not any(pid == perspective for pid, _ in topic.headings):
            heading = f"{heading} · {source.perspective(perspective).name}"
        self.context = to_html(heading)
        self.source_html = to_html(source.title)
        self.media = media_html(item.media)  # on the back, after the item's text

    def cloze_note(self, part: str, text: str, extra: str, label: str, line: int = 0) -> NoteSpec:
        values = {"Text": text, "Context": self.context, "Extra": extra + self.media, "Source": self.source_html}
        item = self.item
        return kind_note(
            cloze_kind.CLOZE, self.source.id, item.id, part, values, tags=self.tags, deck=self.deck,
            topic=self.topic.id, perspective=item.perspective, label=label, file=item.file, line=line or item.line,
            media=media_names(item),
        )


def media_names(item: Item) -> tuple[str, ...]:
    """The packaged names of the media files *item* shows."""
    return tuple(file.name for file in item.media)


def package_media(source: Source, notes: Iterable[NoteSpec]) -> dict[str, bytes]:
    """The media files *notes* show, by packaged name, in name order: what their package must carry."""
    files = source.media_files()
    names = sorted({name for note in notes for name in note.media})
    return {name: files[name].data for name in names}


def _base_tags(source: Source, topic: Topic, perspective: str | None) -> tuple[str, ...]:
    tags = [f"{source.id}::topic::{topic.id}"]
    if perspective:
        tags.append(f"{source.id}::perspective::{perspective}")
    return tuple(tags)


def _item_clozes(maker: _Maker, item: Item) -> Iterator[NoteSpec]:
    """One note per fact the author marked: the title, each marked point, each key term.

    A front shows only what the question needs (the title and the sentence
    asked, or the list's lead and the point asked); the back adds the rest of
    the item, never repeating what the front showed.
    """
    title = _title(item.title)
    rows = _point_rows(item)  # each point and sentence rendered once, whatever the number of backs showing it
    explanation = sentences(item.explanation) if item.explanation else []
    conclusion = sentences(item.conclusion) if item.conclusion else []
    said, closing = _rendered(explanation), _rendered(conclusion)
    lead = explanation[-1] if explanation and explanation[-1][0].plain.rstrip().endswith(":") else None
    body = explanation[:-1] if lead else explanation
    if item.title and item.title.term_runs:
        text = _title(item.title, hide_all=True) + _sentences_html(body)
        extra = _rest(said, set(range(len(body)))) + _listed(rows) + _rest(closing)
        yield maker.cloze_note("title", text, extra, item.title.plain)
    for index, point in enumerate(item.points):
        if point.text.term_runs:
            hidden = marked_html(point.text, hide=range(point.text.term_count))
            asked = f'<ul class="points"><li class="asked">{hidden}</li></ul>'
            text = title + _sentences_html([lead] if lead else []) + asked
            extra = _rest(said, {len(body)} if lead else set()) + _listed(rows, {index}) + _rest(closing)
            yield maker.cloze_note(f"point/{point.key}", text, extra, point.text.plain, point.line)
    for field, parts in (("explanation", explanation), ("conclusion", conclusion)):
        marked = item.explanation if field == "explanation" else item.conclusion
        holding = {term: number for number, (_, terms) in enumerate(parts) for term in terms}
        # once per text, not per key term: each is as long as the text (a label keeps 80 characters)
        all_terms, plain = (marked.terms, " ".join(marked.plain.split())[:80]) if marked else ((), "")
        for term_slug, indexes in _terms(marked).items():
            shown = {holding[term] for term in indexes}
            text = title + _sentences_html([parts[number] for number in sorted(shown)], hide=indexes)
            if maker.source.short_backs:
                extra = _after(said if field == "explanation" else closing, max(shown))
            else:
                extra = (
                    _rest(said, shown if field == "explanation" else set())
                    + _listed(rows)
                    + _rest(closing, shown if field == "conclusion" else set())
                )
            term = all_terms[min(indexes)]
            key_slug = item.released_slug(field, term_slug)  # a term corrected since its release keeps its note
            yield maker.cloze_note(f"term/{field}/{key_slug}", text, extra, f"{term}: {plain}")


def _rendered(parts: Sequence[tuple[Marked, tuple[int, ...]]]) -> list[str]:
    """Each sentence of one text as a back shows it (key terms plain: each is another card's answer)."""
    return [marked_html(marked) for marked, _ in parts]


def _rest(rendered: Sequence[str], shown: AbstractSet[int] = frozenset()) -> str:
    """The sentences of one text that the front did not show (*shown*: their numbers), as a paragraph.

    Beyond MAX_LISTED, those around the first one shown, an ellipsis where sentences are left out.
    """
    chosen, before, after = _window(len(rendered), shown)
    if not chosen:
        return ""
    text = " ".join(rendered[number] for number in chosen)
    return f'<div class="body">{"… " * bool(before)}{text}{" …" * bool(after)}</div>'


SHORT_BACK_WORDS = 50
"""``backs: short``: the most words of the sentences after the one asked that its back shows (see :func:`_after`)."""


def _after(rendered: Sequence[str], asked: int) -> str:
    """The sentences of one text after sentence *asked*, as a short back shows them: whole sentences, at most
    :data:`SHORT_BACK_WORDS` words in all, though the next one alone may be longer (what the asked one leads to)."""
    chosen: list[str] = []
    words = 0
    for sentence in rendered[asked + 1 :]:
        size = _word_count(sentence)
        if chosen and words + size > SHORT_BACK_WORDS or size > 2 * SHORT_BACK_WORDS:
            break
        chosen.append(sentence)
        words += size
    return f'<div class="body">{" ".join(chosen)}</div>' if chosen else ""


def _title(title: Marked | None, hide_all: bool = False) -> str:
    if title is None:
        return ""
    return f'<div class="title">{marked_html(title, hide=range(title.term_count) if hide_all else ())}</div>'


def _sentences_html(parts: list[tuple[Marked, tuple[int, ...]]], hide: set[int] | None = None) -> str:
    """Sentences of one text, its key terms numbered in *hide* as the cloze, the others plain."""
    if not parts:
        return ""
    rendered = []
    for sentence, terms in parts:
        local = {position for position, index in enumerate(terms) if hide and index in hide}
        rendered.append(marked_html(sentence, hide=local))
    return f'<div class="body">{" ".join(rendered)}</div>'


def _point_rows(item: Item) -> list[str]:
    """The item's points as list rows (key terms plain: a bold term on a back points at another card's answer)."""
    return [f"<li>{marked_html(point.text)}</li>" for point in item.points]


def _listed(rows: Sequence[str], asked: AbstractSet[int] = frozenset()) -> str:
    """The item's list for a back: without the point *asked* (the front showed it), at most MAX_LISTED rows.

    Beyond the limit, a point's back lists the points around it, any other
    back the first ones; a row says how many points are left out before and after.
    """
    chosen, before, after = _window(len(rows), asked)
    earlier = [f'<li class="more">… {before:,} earlier point{"s" * (before != 1)}</li>'] if before else []
    later = [f'<li class="more">… {after:,} more point{"s" * (after != 1)}</li>'] if after else []
    return _list(earlier + [rows[number] for number in chosen] + later)


def _window(total: int, shown: AbstractSet[int]) -> tuple[list[int], int, int]:
    """Which of *total* rows (points, sentences) a back lists, never those the front *shown*; how many it leaves out.

    All of them up to MAX_LISTED; beyond, MAX_LISTED around the first one
    shown (or the first ones).  Returns the rows' numbers, and the number of
    rows left out before and after them (the shown ones not counted).
    """
    start = 0
    if total - len(shown) > MAX_LISTED and shown:
        start = max(0, min(min(shown) - MAX_LISTED // 2, total - MAX_LISTED - len(shown)))
    chosen: list[int] = []
    number = start
    while number < total and len(chosen) < MAX_LISTED:
        if number not in shown:
            chosen.append(number)
        number += 1
    before = start - sum(1 for row in shown if row < start)
    after = total - number - sum(1 for row in shown if row >= number)
    return chosen, before, after


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


def _paragraph(marked: Marked | None) -> str:
    if marked is None:
        return ""
    return f'<div class="body">{marked_html(marked)}</div>'


def _list(rows: list[str]) -> str:
    return f'<ul class="points">{"".join(rows)}</ul>' if rows else ""


def _comparison_note(
    source: Source,
    topic: Topic,
    *,
    item_id: str,
    part: str,
    perspective: str | None,
    values: dict[str, str],
    tags: tuple[str, ...],
    label: str,
    file: str,
    line: int,
    media: tuple[str, ...] = (),
) -> NoteSpec:
    kind = comparison_kind.COMPARISON
    return kind_note(
        kind, source.id, item_id, part, values,
        tags=(*_base_tags(source, topic, perspective), f"{source.id}::kind::{kind.name}", *tags),
        deck=topic_deck(source, topic), topic=topic.id, perspective=perspective, label=label, file=file, line=line,
        media=media,
    )


def _perspective_question(source: Source, topic: Topic, item: Item) -> NoteSpec:
    """"Which perspective is this?" for an item that belongs to one perspective."""
    assert item.perspective and item.question and item.which_statement
    label = f"{item.label} ({topic.name})"
    return _comparison_note(
        source,
        topic,
        item_id=item.id,
        part="perspective",
        perspective=item.perspective,
        values={
            "Key": to_html(label),
            "Perspective": to_html(source.perspective(item.perspective).name),
            "Statement": to_html(item.which_statement),
            # The back shows the item; its title too where the front showed a cue instead.
            "Others": (_title(item.title) if item.cue else "")
            + _paragraph(item.explanation)
            + _listed(_point_rows(item))
            + _paragraph(item.conclusion)
            + media_html(item.media),
            # Not the per-perspective heading: it would give the answer away.
            "Context": to_html(topic.heading or topic.name),
            "Question": to_html(item.question),
            "Source": to_html(source.title),
        },
        tags=item.tags, label=label, file=item.file, line=item.line, media=media_names(item),
    )


def _comparison_notes(source: Source, topic: Topic, comparison: Comparison) -> Iterator[NoteSpec]:
    """One note per perspective's side: asks side from perspective and perspective from side."""
    for pid, side in comparison.sides:
        name = source.perspective(pid).name
        others = "".join(
            f"<li><b>{to_html(source.perspective(other).name)}:</b> {_asked_there(source, comparison, pid, other)}"
            f"{to_html(text)}</li>"
            for other, text in comparison.sides
            if other != pid
        )
        prompt = f"<b>{to_html(name)}</b>".join(to_html(part) for part in comparison.forward_parts(pid))
        label = f"{comparison.dimension} · {name}"
        yield _comparison_note(
            source,
            topic,
            item_id=comparison.id,
            part=f"side/{pid}",
            perspective=pid,
            values={
                "Key": to_html(label),
                # An empty Dimension or Question: Anki makes no card of that direction.
                "Dimension": prompt if comparison.ask in (BOTH, SIDE) else "",
                "Perspective": to_html(name),
                "Statement": to_html(side),
                "Others": f'<ul class="others">{others}</ul>' + _origin_html(source, comparison, pid),
                "Context": to_html(topic.heading or topic.name),
                "Question": to_html(comparison.reverse_question) if comparison.ask in (BOTH, PERSPECTIVE) else "",
                "Source": to_html(source.title),
            },
            tags=comparison.tags, label=label, file=comparison.file, line=comparison.line,
        )


def _asked_there(source: Source, comparison: Comparison, here: str, there: str) -> str:
    """The other side's question, where it is not this side's: an answer to another question reads as nonsense alone."""
    if comparison.forward_parts(there) == comparison.forward_parts(here):
        return ""
    name = source.perspective(there).name
    return f'<i class="asked-there">{to_html(name.join(comparison.forward_parts(there)))}</i> '


TERM_QUESTION = "Which term is defined here?"
"""The definition → term card's question."""


def _term_note(source: Source, topic: Topic, term: Term) -> NoteSpec:
    """A glossary entry as one comparison-type note of two cards: the definition from the term, the term from it.

    The comparison note type already asks a statement from a name and a name
    from its statement; a term is that name and its definition that statement,
    so no new note type (a new contract with every collection) is needed.
    """
    name = to_html(term.term)
    forward = to_html(term.question) or f"What is <b>{name}</b>?"
    return _comparison_note(
        source,
        topic,
        item_id=term.id,
        part="definition",
        perspective=None,
        values={
            "Key": to_html(term.term),
            "Dimension": forward if term.ask in (BOTH, "definition") else "",
            "Perspective": name,
            "Statement": to_html(term.definition),
            "Context": to_html(topic.heading or topic.name),
            "Question": TERM_QUESTION if term.ask in (BOTH, "term") else "",
            "Source": to_html(source.title),
        },
        tags=term.tags, label=term.term, file=term.file, line=term.line,
    )
def _origin_html(source: Source, comparison: Comparison, perspective: str) -> str:
    """Where the text states this side (``from:``), for the back: the section a student can reread."""
    item_id = comparison.origin(perspective)
    if item_id is None:
        return ""
    topic, item = source.items_by_id[item_id]
    where = f"{topic.heading_for(item.perspective)}: {item.label}"
    return f'<div class="origin">In the text: {to_html(where)}</div>'


def content_parts(spec: NoteSpec) -> tuple[str, ...]:
    """What a student's copy of the note holds: a change here must reach them."""
    return (spec.note_type, *spec.fields, " ".join(spec.tags))


REMOVED_HELP = (
    "This note was removed from its source; its cards are suspended. In Anki's Browser, search "
    "<b>tag:deckgen::removed</b> and delete the notes you no longer want."
)
NOTICE_KEY = re.compile(r'<span class="deckgen-removed" data-key="([^"<>]*)"></span>')
"""Where a removal notice names its note's key: how ``push`` knows a marked copy whose note came back."""


class Removed(Protocol):
    """What is kept of a removed note (the lock's entry for it): enough to mark students' copies."""

    @property
    def guid(self) -> str: ...
    @property
    def note_type(self) -> NoteKind: ...
    @property
    def label(self) -> str: ...
    @property
    def topic(self) -> str: ...
    @property
    def cards(self) -> int: ...


def removal_notice(key: str, removed: Removed, deck: str) -> NoteSpec:
    """A removed note as it marks a student's copy: same GUID, note type and cards, its text saying so.

    Its cards are in *deck*: Anki never moves an existing card on import, so a
    student's copy keeps its cards where they are, and only a note the
    student never had lands in *deck* (for ``push`` to delete).
    """
    _, item_id, part = key_parts(key)
    return NoteSpec(
        key=key,
        guid=removed.guid,
        note_type=removed.note_type,
        fields=_removed_fields(key, removed),
        tags=(REMOVED_TAG,),
        deck=deck,
        topic=removed.topic,
        perspective=None,
        cards=removed.cards,
        label=removed.label,
        item_id=item_id,
        part=part,
    )


def _removed_fields(key: str, removed: Removed) -> tuple[str, ...]:
    kind = KINDS[removed.note_type]
    marker = f'<span class="deckgen-removed" data-key="{html.escape(key)}"></span>'
    values = kind.removal(removed.label, to_html(removed.label), REMOVED_HELP + marker, removed.cards)
    return kind.field_tuple({kind.context_field: "Removed", **values})


Faced = Sequence[tuple[NoteSpec, tuple[Face, ...]]]
"""Notes, each with its cards' faces as its kind reads them from its fields."""


def with_faces(notes: Iterable[NoteSpec]) -> list[tuple[NoteSpec, tuple[Face, ...]]]:
    """Each note with its cards' faces: read once, as every card check reads them."""
    return [(note, KINDS[note.note_type].faces(note.fields)) for note in notes]
