"""Smells across the cards of a deck: one card answering another.

A per-card check sees one front at a time.  A student meets a deck's cards
in some order, so a card whose answer stands on *another* card's front (its
title, its context line, its cloze sentence) is read, not recalled, by whoever
meets that other card first.  These checks read every card of one topic (a
topic is a package and its decks) together, from the notes' fields: the
front of a cloze note is its context line and text with the cloze hidden, of
a comparison note its context line, prompt or statement, and question.

Words are compared by a crude stem ("preserving", "preserves" and "preserved"
are one word), function words aside: a leak is an answer whose every content
word is on the other front.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import NamedTuple

from generator.cards.kinds import KINDS
from generator.cards.notes import NoteSpec
from generator.errors import Problem
from generator.quality.reading import Card
from generator.source.content import Item, Source, Topic
from generator.source.markup import sentences
from generator.source.words import content_stems, stem, stems_of, title_stems

_TAG = re.compile(r"<[^>]+>")
_BOLD = re.compile(r"<(b|strong)>(.*?)</\1>", re.S | re.I)
_CONCESSION = re.compile(
    r"\b(?:while|although|though|even as|despite)\b|,\s*but\b|\bat the (?:cost|expense) of\b", re.I
)
CUE_SHARE = 0.5
"""A front gives a "which perspective?" card away when it names the perspective and this share of the cue."""
_LIMITATION = re.compile(r"\b(?:limitation|weakness|drawback|cost|downside|doesn't work|does not work)", re.I)


class _Face(NamedTuple):  # one per card of a topic: a tuple is made three times faster than a frozen dataclass
    """One card of a note as these checks read it."""

    note: NoteSpec
    which: bool
    front: frozenset[str]
    answer: str
    answer_stems: frozenset[str]
    cue: str = ""
    """What a "which perspective?" card's front gives as the cue (its kind's ``Face.cue``)."""


def deck_smells(
    source: Source, topic: Topic, notes: Sequence[NoteSpec], cards: Sequence[Card], naming: Mapping[str, str]
) -> list[Problem]:
    """The cross-card smells of one topic's *notes* (their *cards*, as :mod:`~generator.quality.reading` reads
    them), as located warnings.

    *naming* maps the stems of words that name a perspective to its name
    (:func:`generator.quality.smells.perspective_stems`).  Besides the topic's
    own fronts, every item title of the source counts as a front for answers
    of two words or more: a title is what a student reads first, in any deck.
    """
    faces = [_face(card) for card in cards]
    fronts = _Fronts(faces, _title_fronts(source), topic.id)
    problems = list(_answered_elsewhere(faces, fronts, naming))
    problems += _bold_answers(notes, faces, set(naming.values()))
    problems += _benefit_of_a_limitation(topic, notes)
    problems += _side_is_its_sections_title(source, topic, notes)
    return problems


class _Titles:
    """Every item title of a source (a front for every topic's checks), with its topic's id, and the index of
    their words.

    A title's front is made only when a check reads it (a few per topic): the
    titles are kept as the source's own items and stems, which every worker
    inherits, so each worker adds only the index.
    """

    def __init__(self, source: Source) -> None:
        self.topics: list[str] = []
        self.items: list[Item] = []
        self.words: list[Collection[str]] = []
        for topic in source.topics:
            titled = [item for item in topic.items if item.title]
            stems = topic.title_stems
            if stems is None:  # a topic made otherwise than read from its file
                stems = title_stems(item.title.plain for item in titled if item.title)
            self.topics += [topic.id] * len(titled)
            for item, words in zip(titled, stems, strict=True):  # a title's words stay with its place
                self.items.append(item)
                self.words.append(words)
        self.index = _index(self.words)

    def front(self, number: int) -> _Front:
        """Title *number* (in the source's order) as a front."""
        item = self.items[number]
        return _Front(frozenset(self.words[number]), f"{item.id}/title", item.file, item.line)


_TITLES: list[tuple[Source, _Titles]] = []
"""The last source's item titles: every topic of a build reads them all, their index is made once."""


def forget_titles() -> None:
    """Drop the last source's title index (and the source it holds)."""
    _TITLES.clear()


def _title_fronts(source: Source) -> _Titles:
    """Every item title of *source*, indexed (see :class:`_Titles`)."""
    if not _TITLES or _TITLES[0][0] is not source:
        _TITLES[:] = [(source, _Titles(source))]
    return _TITLES[0][1]


_Postings = tuple[int, ...] | frozenset[int]
"""The numbers of the fronts showing a word: a few as a tuple, many as a set.

Most title words are on one title: a tuple of one number costs a quarter of
a set's memory, and every worker holds the source's whole index.
"""
_FEW = 8


def _index(fronts: Iterable[Collection[str]]) -> dict[str, _Postings]:
    """Word -> the numbers of the fronts (their words) showing it."""
    found: dict[str, int | list[int]] = {}  # most words are on one front: a number, a list once on two
    for number, words in enumerate(fronts):
        for word in words:
            seen = found.get(word)
            if seen is None:
                found[word] = number
            elif isinstance(seen, int):
                found[word] = [seen, number]
            else:
                seen.append(number)
    return {word: _postings(numbers) for word, numbers in found.items()}


def _own_index(fronts: Sequence[_Face]) -> dict[str, list[int] | frozenset[int]]:
    """:func:`_index` of a topic's own fronts, a few numbers as a list: kept only while its checks run, its
    memory is no worker's for long, and a list per word is made in half the time of a number made a tuple.
    Many are a set: an answer's fronts are found by intersecting its words' (a common word's are thousands)."""
    found: dict[str, list[int] | frozenset[int]] = {}
    for number, front in enumerate(fronts):
        for word in front.front:
            seen = found.get(word)
            if seen is None:
                found[word] = [number]
            else:
                seen.append(number)  # type: ignore[union-attr]  # all lists until the loop below
    for word, numbers in found.items():
        if len(numbers) >= _FEW:
            found[word] = frozenset(numbers)
    return found


def _postings(numbers: int | list[int]) -> _Postings:
    if isinstance(numbers, int):
        return (numbers,)
    return tuple(numbers) if len(numbers) < _FEW else frozenset(numbers)


class _Fronts:
    """The fronts an answer may stand on, numbered: a topic's own cards, then the titles of the other topics.

    Fronts are looked up through an index of their words, so a topic of N
    cards does not cost N² comparisons; the titles' index is the source's,
    made once, and a topic's own titles are skipped where it is read.
    """

    def __init__(self, own: Sequence[_Face], titles: _Titles, topic_id: str) -> None:
        self.own = own  # a card's front is made only where a check reads it, as a title's is
        self.own_index = _own_index(own)
        self.made: dict[int, _Front] = {}
        self.titles = titles
        self.topic_id = topic_id

    def __getitem__(self, number: int) -> _Front:
        count = len(self.own)
        if number >= count:
            return self.titles.front(number - count)
        front = self.made.get(number)
        if front is None:  # a front answering many (a smelly topic's) is made once
            front = self.made[number] = _own_front(self.own[number])
        return front

    def holding(self, wanted: frozenset[str]) -> list[int]:
        """The fronts holding every word of *wanted*, in order."""
        return sorted(_holding(self.own_index, wanted)) + self._other_titles(_holding(self.titles.index, wanted))

    def counts(self, words: Iterable[str]) -> dict[int, int]:
        """Front -> how many of *words* it shows (fronts showing none left out)."""
        counts: dict[int, int] = {}
        for word in words:
            for number in self.own_index.get(word, ()):
                counts[number] = counts.get(number, 0) + 1
            for number in self._other_titles(self.titles.index.get(word, ())):
                counts[number] = counts.get(number, 0) + 1
        return counts

    def _other_titles(self, numbers: Iterable[int]) -> list[int]:
        """Titles (by their number in the source's) of other topics, by their number here, in order."""
        count, topics = len(self.own), self.titles.topics
        return [count + number for number in sorted(numbers) if topics[number] != self.topic_id]


def _own_front(face: _Face) -> _Front:
    """A card of the topic as a front."""
    note = face.note
    cloze_of = note.item_id if KINDS[note.note_type].hides_in_item_text else ""
    return _Front(face.front, note.local_key, note.file, note.line, note.guid, cloze_of)


def _side_is_its_sections_title(source: Source, topic: Topic, notes: Sequence[NoteSpec]) -> Iterable[Problem]:
    """A comparison side (``from:``) that restates its section's title: every card of that section shows it.

    The title is on the front of the section's own cards (and the heading a
    student rereads), so the side is read there before it is recalled here.
    """
    by_key = {note.local_key: note for note in notes}
    for comparison in topic.comparisons:
        for pid, side in comparison.sides:
            item_id = comparison.origin(pid)
            note = by_key.get(f"{comparison.id}/side/{pid}")
            if item_id is None or note is None or not note.field("Dimension"):
                continue
            title = source.items_by_id[item_id][1].title
            heading = title.plain if title else ""
            asked = content_stems(side)
            if asked and len(asked & content_stems(heading)) >= CUE_SHARE * len(asked):
                yield _warn(
                    note,
                    f"the side {side!r} restates the title of its section {item_id!r} ({heading!r}), "
                    "which that section's cards show on their fronts: ask what the title does not say",
                )


def _face(card: Card) -> _Face:
    """A card as these checks read it: its front's words as stems; a perspective asked is its bare name."""
    face, which = card.face, card.which
    answer = _TAG.sub("", face.answer) if which else face.answer
    return _Face(card.note, which, stems_of(card.front_words), answer, content_stems(answer), face.cue)


class _Front(NamedTuple):  # one per card of a topic while its checks run: a tuple is made three times faster
    """A front's words and where it is: a card of the topic, or the title of another topic's item."""

    words: frozenset[str]
    where: str
    file: str
    line: int
    guid: str = ""
    """Its note's GUID ("" for a title of another topic)."""
    cloze_of: str = ""
    """The item whose cloze card it is, if it is one."""


def _answered_elsewhere(faces: Sequence[_Face], fronts: _Fronts, naming: Mapping[str, str]) -> Iterable[Problem]:
    """A card whose answer stands on another card's front (or on any item's title).

    A "which perspective?" card is answered by a front that names its
    perspective beside most of its cue.
    """
    held: dict[frozenset[str], list[int]] = {}  # answers repeat (a term asked twice): each is looked up once
    for face in faces:
        if face.which:
            holders = _naming_cue(face, fronts, naming)
        elif face.answer_stems not in held:
            holders = held[face.answer_stems] = fronts.holding(face.answer_stems)
        else:
            holders = held[face.answer_stems]
        if not holders:  # most answers are on no other front
            continue
        # One word of the text's own vocabulary ("belonging") in another topic's title is the
        # text speaking, not a giveaway: only the topic's own fronts count for it.
        own_only = not face.which and len(face.answer_stems) < 2
        # In order, the first that counts: most holders count, so few are tested.
        first = next((n for n in holders if _counts(face, fronts[n], own_only)), None)
        if first is not None:
            other = fronts[first]
            shown = "the perspective beside its cue" if face.which else repr(face.answer)
            yield _warn(
                face.note,
                f"another card's front ({other.file}:{other.line}, {other.where}) shows {shown}: "
                "whoever meets that card first reads the answer; reword one of the two",
            )


def _counts(face: _Face, front: _Front, own_only: bool) -> bool:
    """True if *front* gives *face*'s answer away: another note's, not its sibling's (of the topic, if *own_only*)."""
    return front.guid != face.note.guid and (front.guid != "" or not own_only) and not _siblings(face, front)


def _siblings(face: _Face, front: _Front) -> bool:
    """Two clozes of one item: :func:`generator.quality.smells._sibling_answers` reports those, once."""
    return KINDS[face.note.note_type].hides_in_item_text and front.cloze_of == face.note.item_id


def _naming_cue(face: _Face, fronts: _Fronts, naming: Mapping[str, str]) -> list[int]:
    """The fronts that name *face*'s perspective and show at least :data:`CUE_SHARE` of its cue's words, in order."""
    # Words of the cue that name the perspective are the per-card check's (smells._named_perspective).
    statement = content_stems(face.cue)
    cue = frozenset(word for word in statement if not _names(frozenset({word}), face.answer, naming))
    return sorted(
        number for number, count in fronts.counts(cue).items()
        if count >= CUE_SHARE * len(cue) and _names(fronts[number].words, face.answer, naming)
    )


def _names(words: frozenset[str], perspective: str, naming: Mapping[str, str]) -> bool:
    """True if *words* hold a word naming *perspective* ("individualistic" names Individualism)."""
    stems = [stem(s) for s, name in naming.items() if name == perspective]  # *words* hold stems too
    return any(word == s or (len(s) >= 5 and word.startswith(s)) for word in words for s in stems)


def _holding(index: Mapping[str, Sequence[int] | frozenset[int]], wanted: frozenset[str]) -> set[int]:
    """The faces whose front holds every word of *wanted* (rarest word first)."""
    if len(wanted) < 2:  # most answers are a word or two: a word's fronts are those holding it
        return set(index.get(next(iter(wanted)), ())) if wanted else set()
    postings = sorted((index.get(word, ()) for word in wanted), key=len)
    return set(postings[0]).intersection(*postings[1:])


def _bold_answers(notes: Sequence[NoteSpec], faces: Sequence[_Face], names: set[str]) -> Iterable[Problem]:
    """A back that sets in bold what another card asks for."""
    answers: dict[frozenset[str], _Face] = {}
    for face in faces:
        if not face.which and face.answer_stems:
            answers.setdefault(face.answer_stems, face)
    perspectives = {content_stems(name) for name in names}
    for note in notes:
        back = note.field(KINDS[note.note_type].back_field)
        for _, bold in _BOLD.findall(back):
            found = content_stems(bold)
            other = answers.get(found)
            if found and found not in perspectives and other is not None and other.note.guid != note.guid:
                yield _warn(
                    note,
                    f"the back sets {bold!r} in bold, which {other.note.local_key} asks for: "
                    "show it plain, or the student reads that answer before recalling it",
                )


def _benefit_of_a_limitation(topic: Topic, notes: Sequence[NoteSpec]) -> Iterable[Problem]:
    """A trade-off sentence of a limitation whose cloze hides the benefit, not the cost it teaches."""
    # A limitation is known by its topic's words ("The Limitations") or its question ("Whose limitation?").
    names = " ".join(filter(None, (topic.name, topic.heading, topic.question, *dict(topic.headings).values())))
    if _LIMITATION.search(names):
        items = list(topic.items)
    else:
        items = [item for item in topic.items if item.question and _LIMITATION.search(item.question)]
    keys = {note.item_id: note for note in notes}
    for item in items:
        for marked in filter(None, (item.explanation, item.conclusion)):
            for sentence, _terms in sentences(marked):
                plain = sentence.plain
                concession = _CONCESSION.search(plain)
                if concession is None:
                    continue
                conceded = _conceded_part(plain, concession)
                for term in sentence.terms:
                    if term in conceded and item.id in keys:
                        yield _warn(
                            keys[item.id],
                            f"the cloze {term!r} asks the benefit of a trade-off in a limitation "
                            f"({plain.strip()!r}): ask the cost, which is what the section teaches",
                            where=f"{item.id}/term",
                            line=item.line,
                        )


def _conceded_part(sentence: str, concession: re.Match[str]) -> str:
    """The part of a trade-off sentence that concedes the benefit (the clause *concession* opens)."""
    word = concession.group(0).lower()
    if "but" in word:
        return sentence[: concession.start()]
    rest = sentence[concession.end() :]
    clause_end = rest.find(",")
    if concession.start() > 0 and clause_end == -1:
        return rest  # "X can obscure information while preserving harmony"
    return rest[: clause_end if clause_end != -1 else len(rest)]


def _warn(note: NoteSpec, message: str, *, where: str | None = None, line: int | None = None) -> Problem:
    return Problem(note.file, line or note.line, where or note.local_key, message, "warning")
