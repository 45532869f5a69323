"""Card smells: what a program can tell about a card that will not teach.

Each card is read as a student reads it, on a phone
(:mod:`generator.quality.reading`): is the answer already on the front, does
the front fit a screen, does a cloze hide one fact or a sentence, does a
"which perspective?" card name a perspective, do two cards ask the same thing
with different answers.  The rules and their thresholds are those of
``LEARNING.md`` (Wozniak's twenty rules, Matuschak's prompt properties).

Smells are warnings, located like content errors; ``--strict`` makes them
errors.  They never change what is built.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from generator.cards.cloze import CLOZE
from generator.cards.kinds import KINDS
from generator.cards.notes import NoteSpec, aspect_of, new_card_queues, with_faces
from generator.errors import PROBLEM_ORDER, Problem
from generator.quality.crosscard import deck_smells
from generator.quality.reading import Card, plain, read_cards, words
from generator.quality.wording import SettingLookup, wording_smells
from generator.quality.wording import setting_answers as _setting_answers
from generator.source.content import BOTH, PERSPECTIVE, Source, Topic
from generator.source.words import FUNCTION_WORDS, singular

MAX_FRONT_WORDS = 40
"""About one phone screen of card text, context line included."""
MAX_CLOZE_WORDS = CLOZE.max_answer_words
"""A cloze hides a few words that matter, never a sentence (the cloze kind's limit, under its former name)."""
LEAK_SHARE = 0.5
"""A card leaks when at least this share of the asked words is on its front."""

_SUFFIXES = ("istic", "ists", "ism", "ist", "ity", "s")

_UNNAMING = {
    "perspective": "give the item a 'cue' that does not",
    "side": "reword the side, or ask it only from its perspective ('ask: side')",
}
"""How to keep a which-perspective front from naming its answer, by what the note asks (its part's aspect):
an item's card shows its cue (or its title), a comparison's its side, which has no cue; a kind's own notes
are told to reword."""


def card_smells(source: Source, notes: Sequence[NoteSpec]) -> list[Problem]:
    """Every smell of *source*'s cards, topic by topic (*notes* are the source's, in study order), and of the source."""
    by_topic: dict[str, list[NoteSpec]] = {topic.id: [] for topic in source.topics}
    for note in notes:
        by_topic[note.topic].append(note)
    problems = [p for topic in source.topics for p in topic_smells(source, topic, by_topic[topic.id])]
    return _in_order(problems + source_smells(source))


def _in_order(problems: Sequence[Problem]) -> list[Problem]:
    """``sorted(set(problems), key=PROBLEM_ORDER)``: each once, in their order, told apart by their order's key
    (all of a problem's fields: the same key, the same problem), a tuple hashed in C, not by the dataclass's
    ``__hash__``, a Python call per problem (a topic of the smelly 50k source has 5,600).  Of equal ones the
    first is kept, as a set keeps it: read backwards, the first is the last written."""
    backwards = problems[::-1]
    keyed = dict(zip(map(PROBLEM_ORDER, backwards), backwards, strict=True))
    return [keyed[key] for key in sorted(keyed)]


def source_smells(source: Source) -> list[Problem]:
    """A perspective that no item and no comparison side belongs to: no card would ever show it.

    A drafted source starts with placeholder perspectives; this keeps it from
    passing ``check --strict`` before the author has decided them.
    """
    used = {item.perspective for topic in source.topics for item in topic.items}
    used |= {pid for topic in source.topics for comparison in topic.comparisons for pid, _ in comparison.sides}
    # Advice the author can follow: a source declares two perspectives or none, so removing the unused ones
    # works only while two used ones stay; else the way out is to compare nothing.
    kept = len(used & {p.id for p in source.perspectives})
    remove = (
        "remove it" if kept >= 2
        else "remove 'perspectives' (a source may compare nothing)" if kept == 0
        else "remove 'perspectives' and the items' 'perspective' keys (a source may compare nothing)"
    )
    return [
        Problem(p.file, p.line, f"perspectives.{p.id}", f"no item or comparison side belongs to {p.name!r}: "
                "give it items (perspective: " + p.id + ") or " + remove, "warning")
        for p in source.perspectives
        if p.id not in used
    ]


def topic_smells(source: Source, topic: Topic, notes: Sequence[NoteSpec]) -> list[Problem]:
    """Every smell of one topic's cards (*notes*, in study order) and of its comparisons, as warnings.

    A topic is a package and its own decks: the same front with two answers
    is looked for within it, as a student studies it.
    """
    return smell_topic(source, topic, notes)[0]


def smell_topic(
    source: Source, topic: Topic, notes: Sequence[NoteSpec]
) -> tuple[list[Problem], tuple[SettingLookup, ...]]:
    """:func:`topic_smells`, and the look-ups its which-perspective cues made in the source's setting words
    (what a rebuild hashes to reuse the topic, see :func:`setting_answers`)."""
    faced = with_faces(notes)
    cards = read_cards(faced)
    problems: list[Problem] = []
    stems = perspective_stems(p.name for p in source.perspectives)
    shared = _shared_name_words(source)
    for card in cards:
        problems.extend(_card_problems(card, stems, shared))
    problems.extend(_same_prompt(cards))
    problems.extend(_sibling_answers(cards))
    problems.extend(_back_to_back(notes))
    problems.extend(_comparison_sides(source, topic))
    problems.extend(deck_smells(source, topic, notes, cards, stems))  # one card answering another
    worded, lookups = wording_smells(source, faced, stems)  # a front paraphrasing, saying too little, naming a setting
    return _in_order(problems + worded), lookups


def _content_words(found: Sequence[str]) -> set[str]:
    """Words that carry meaning (function words dropped, a plural 's' ignored)."""
    content = {singular(w) for w in found if w not in FUNCTION_WORDS}
    return content or {singular(w) for w in found}


def setting_answers(source: Source, lookups: Sequence[SettingLookup]) -> str:
    """What a topic's which-perspective cues (*lookups*, :func:`setting_lookups`) find in *source*'s setting words.

    The one smell of a topic that reads what other topics say of a
    perspective: a reused topic's warnings stand while these answers do.
    """
    if not lookups:
        return ""
    return _setting_answers(source, perspective_stems(p.name for p in source.perspectives), lookups)


def perspective_stems(names: Iterable[str]) -> dict[str, str]:
    """Stem -> perspective name: the words that name a perspective, and their derived forms.

    "Individualism" gives "individual" (so "individualist" and "individual"
    count); a word that every name shares (the "work" of "remote work" and
    "office work") names none of them.
    """
    names = list(names)
    name_words = [set(words(name)) for name in names]
    shared = set.intersection(*name_words) if len(name_words) > 1 else set()
    stems = {}
    for name, found in zip(names, name_words, strict=True):
        for word in found - shared - FUNCTION_WORDS:
            stem = word
            for suffix in _SUFFIXES:
                if word.endswith(suffix) and len(word) - len(suffix) >= 4:
                    stem = word[: -len(suffix)]
                    break
            stems[stem] = name
    return stems


def _named_perspective(found: Sequence[str], stems: dict[str, str]) -> str | None:
    for word in found:
        for stem in stems:
            if word == stem or singular(word) == stem or (len(stem) >= 5 and word.startswith(stem)):
                return word
    return None


def _shared_name_words(source: Source) -> frozenset[str]:
    """Words in every perspective's name ("work" of "Remote work", "Office work"): on a front, they tell nothing."""
    names = [{singular(w) for w in words(p.name)} for p in source.perspectives]
    return frozenset(set.intersection(*names)) if len(names) >= 2 else frozenset()


def _question_words(card: Card) -> set[str]:
    """The words of a card's own question: asking in them gives no answer away."""
    return set(map(singular, words(card.question)))


def _card_problems(card: Card, stems: dict[str, str], shared: frozenset[str] = frozenset()) -> Iterable[Problem]:
    note = card.note
    front_words = len(card.front.split())
    if front_words > MAX_FRONT_WORDS:
        yield _warn(
            note, card.where(),
            f"the front has {front_words} words; a phone screen holds about {MAX_FRONT_WORDS}: show less of the item",
        )
    if card.which:
        named = _named_perspective(card.front_words, stems)
        if named:
            yield _warn(
                note, card.where(),
                f"the front of a which-perspective card shows {named!r}, which names a perspective: "
                + _UNNAMING.get(aspect_of(note.part), "reword what shows it"),
            )
        return
    limit = KINDS[note.note_type].max_answer_words
    hidden = len(card.answer.split())
    if limit is not None and hidden > limit:
        yield _warn(
            note, card.where(),
            f"the {note.note_type} hides {hidden} words; hide at most {limit}: the few words that carry the fact",
        )
    # Words every perspective's name has, or the question's own, are no leak: they tell no answer from another.
    asked = _content_words(card.answer_words) - shared
    if card.question:  # most cards have none: no words to read
        asked -= _question_words(card)
    shown = _shown(asked, card.front_words)
    if asked and len(shown) >= LEAK_SHARE * len(asked):
        yield _warn(
            note, card.where(),
            f"the front already shows {len(shown)} of the {len(asked)} words asked ({_shown_where(card, shown)}): "
            "it can be answered by reading; ask words the front does not show, or reword what shows them",
        )


def _shown(asked: set[str], front_words: Sequence[str]) -> set[str]:
    """The words of *asked* (each as :func:`singular` reads it) that one of *front_words* is, read so.

    A word *w* reads as itself or, a plural, as *w* without its 's': each asked word is looked for as
    both, not every word of the front read (a front's words are mostly a source's rarest, read once).
    """
    if not asked:
        return asked
    front = set(front_words)
    return {w for w in asked if (w in front and singular(w) == w) or (w + "s" in front and singular(w + "s") == w)}


def _shown_where(card: Card, shown: set[str]) -> str:
    """The answer's words the front shows, as the author wrote them, and whether the context line shows them."""
    written = sorted({w for w in card.answer_words if singular(w) in shown})
    context = plain(card.note.field(KINDS[card.note.note_type].context_field))
    in_context = shown & {singular(w) for w in words(context)}
    where = f'; the context line "{context}" shows {", ".join(sorted(in_context))}' if in_context else ""
    return ", ".join(written) + where


def _same_prompt(cards: Sequence[Card]) -> Iterable[Problem]:
    """Two cards with the same front and different answers: one of them is marked wrong."""
    by_front: dict[str, list[Card]] = {}
    for card in cards:
        by_front.setdefault(card.front.casefold(), []).append(card)
    for group in by_front.values():
        if len(group) < 2:  # most fronts are one card's
            continue
        answers = {card.answer.casefold() for card in group}
        if len(answers) < 2:
            continue
        for card in group:
            other = next(c for c in group if c.answer.casefold() != card.answer.casefold())
            yield _warn(
                card.note, card.where(),
                f"the same front as {other.where()} ({other.note.file}:{other.note.line}) "
                f"asks for another answer ({card.answer!r} here, {other.answer!r} there): "
                "give one a title, cue or question that tells the two apart",
            )


def _sibling_answers(cards: Sequence[Card]) -> Iterable[Problem]:
    """A cloze front that shows what another card of the same item asks for.

    Answers are looked up by the runs of the front's words, not each answer
    searched in each front: an item of N marked points would cost N².
    """
    by_group: dict[str, list[Card]] = {}
    for card in cards:
        if KINDS[card.note.note_type].hides_in_item_text:
            by_group.setdefault(card.note.item_id, []).append(card)
    for group in by_group.values():
        askers: dict[tuple[str, ...], list[Card]] = {}
        for asker in group:
            if asker.answer_words:
                askers.setdefault(asker.answer_words, []).append(asker)
        lengths = sorted({len(answer) for answer in askers})
        firsts = {answer[0] for answer in askers}
        for card in group:
            for answer in _runs_in(card.front_words, lengths, askers, firsts):
                # the first other card asking it: of N cards asking one answer, all N would be N² warnings
                other = next((o for o in askers[answer] if o.note is not card.note), None)
                if other is not None:
                    yield _warn(
                        card.note, card.where(),
                        f"the front shows {other.answer!r}, which {other.where()} asks for: "
                        "one card gives another's answer away; put the two in sentences of their own, "
                        "or mark only one",
                    )


def _runs_in(
    found: Sequence[str], lengths: Sequence[int], wanted: dict[tuple[str, ...], list[Card]], firsts: set[str]
) -> list[tuple[str, ...]]:
    """The runs of words of *found*, of the given *lengths*, that are keys of *wanted* (whose first words are
    *firsts*), each once, in order."""
    if firsts.isdisjoint(found):  # most fronts show no answer of their item's other cards
        return []
    starts = [start for start, word in enumerate(found) if word in firsts]  # most words begin no answer
    runs: dict[tuple[str, ...], None] = {}
    for length in lengths:
        for start in starts:
            run = tuple(found[start : start + length])
            if len(run) == length and run in wanted:
                runs.setdefault(run)
    return list(runs)


def _back_to_back(notes: Sequence[NoteSpec]) -> Iterable[Problem]:
    """Two cards of one item next in a deck's new-card queue (notes are in study order)."""
    previous: dict[tuple[str, int], NoteSpec] = {}
    items = _items_by_queues(notes)  # counted once: per warning, it cost a pass over every note
    for note in notes:
        for ordinal in new_card_queues(note):  # Anki: template by template, then in note order
            queue = (note.deck, ordinal)
            before = previous.get(queue)
            if before is not None and before.item_id == note.item_id:
                count = len(items[note.deck, new_card_queues(note)])
                yield _warn(
                    note, note.local_key,
                    f"comes up right after {before.local_key} in {note.deck!r}: " + _kept_apart(note, count),
                )
            previous[queue] = note


def _kept_apart(note: NoteSpec, count: int) -> str:
    """Why two cards of *note*'s item (or comparison) meet in study, and what the author can do, as they wrote it."""
    has = "has" if count == 1 else "have"
    if aspect_of(note.part) == "side":  # a comparison has no facts to mark fewer of: its sides are its cards
        return (
            f"only {count} comparison{'' if count == 1 else 's'} or item{'' if count == 1 else 's'} {has} cards "
            "asked the same way there, too few to keep one comparison's sides apart; give the topic more "
            "comparisons asked this way"
        )
    return (
        f"only {count} item{'' if count == 1 else 's'} {has} cards asked the same way there, too few to keep "
        "one item's cards apart; split the item in two, give the deck more items, or mark fewer facts here"
    )


def _items_by_queues(notes: Sequence[NoteSpec]) -> dict[tuple[str, tuple[int, ...]], set[str]]:
    """The items with notes in each deck and of each set of card templates, which study order interleaves."""
    items: dict[tuple[str, tuple[int, ...]], set[str]] = {}
    for note in notes:
        items.setdefault((note.deck, new_card_queues(note)), set()).add(note.item_id)
    return items


def _comparison_sides(source: Source, topic: Topic) -> Iterable[Problem]:
    """Every perspective's side, and no two the same where "which perspective?" is asked: else a card has no or
    two right answers."""
    for comparison in topic.comparisons:
        given = {pid for pid, _ in comparison.sides}
        missing = [p.name for p in source.perspectives if p.id not in given]
        if missing:
            yield Problem(
                comparison.file, comparison.line, comparison.id,
                f"no side for {', '.join(missing)}: the comparison leaves a perspective out; "
                "give every perspective a side", "warning",
            )
        if comparison.ask not in (BOTH, PERSPECTIVE):
            continue  # two perspectives may well share a fact: only "which perspective?" would have two answers
        seen: dict[str, str] = {}
        for pid, side in comparison.sides:
            text = " ".join(words(side))
            if text in seen:
                yield Problem(
                    comparison.file, comparison.line, comparison.id,
                    f"the sides of {seen[text]} and {pid} are the same: "
                    "\"which perspective?\" would have two right answers; write what differs", "warning",
                )
            seen.setdefault(text, pid)


def _warn(note: NoteSpec, where: str, message: str) -> Problem:
    return Problem(note.file, note.line, where, message, "warning")
