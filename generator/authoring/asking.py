"""Which of a drafted text's marks to keep: those whose card passes the smells.

``deckgen draft`` marks the terms a text defines; a mark whose card a smell
would flag makes a source that fails ``check --strict``, so the draft leaves
it plain and says so in a comment.  The rules are the smells' own
(:mod:`generator.quality.smells`, :mod:`generator.quality.wording`), read on the
text before any card exists:

- a term the title or the context line shows (half its words or more, as
  the leak smell counts them), or shows in another form (the paraphrase
  smell); a named kind the front shows ("Theories of …" over "prototype
  theory") stays as a cue and only the rest is asked ("{{prototype}} theory");
- a second term of one sentence (the first one's card would show it), and a
  term whose words the rest of its sentence shows or echoes ("defined" beside
  "definition");
- a term whose sentence says only a subject before it ("categories are
  {{well-defined}}.": the only-subject smell);
- across the deck (:func:`across_deck`), a term the glossary defines (its
  term card asks it) and one whose words another card's front shows (the
  cross-card smell, read on every topic, not only the term's own).

A sentence whose subject only points back ("This preference is referred to
as …", "It is called …") is joined to the sentence before it ("…; this
preference is referred to as …"), so its card's front shows what it points
at: a card shows the sentence holding its term, and a pointer with nothing to
point at asks a riddle.  It is joined only where the two fit a phone screen
with the title and context line, and the sentence before asks nothing (one
term a sentence).  Likewise, a sentence that says only a subject before its
term is joined to the next one where that one says what it means
("categories are {{well-defined}}; this means that you can give a definition
…").
"""

from __future__ import annotations

import os
import re

from generator.authoring.written import without_markers
from generator.quality.smells import LEAK_SHARE, MAX_FRONT_WORDS
from generator.quality.wording import forms_of_one_word, only_subject, opens_with_pointer, paraphrased
from generator.source.content import Marked
from generator.source.markup import MarkupError, parse_marked, sentences
from generator.source.words import FUNCTION_WORDS, content_stems

_MARK = re.compile(r"\{\{(.*?)\}\}")
_KINDS = frozenset(
    "theory theories effect principle approach hypothesis model bias heuristic fallacy law paradox".split()
)
"""The last words of a named concept that a front may show as a cue: what is asked is the name before them."""


_POINTER = re.compile(
    r"^(?:(?:first|second|third|next|then|finally|also|thus),\s+)?"  # "First, it provides …": a step of the last
    r"(?:it|they|this|these|that|those|such)\b(?:\s+[\w'’-]+){0,2}?\s+"
    r"(?:is|are|was|were|has been|have been|can be|may be|will be|must be|becomes?|provides?|gives?|has|have)\b",
    re.I,
)
"""A sentence whose subject is only a pointer ("It is called", "This preference is referred to as", "First, it
provides")."""


def points_back(text: str) -> bool:
    """True if the marked *text* (a paragraph) starts with a sentence that asks a term and whose subject points back."""
    try:
        split = sentences(parse_marked(text))
    except MarkupError:
        return False
    return bool(split) and bool(split[0][1]) and bool(_POINTER.match(split[0][0].plain))


def with_antecedents(text: str, front: str) -> str:
    """*text* with each asking sentence whose subject points back joined to the sentence before it (see above)."""
    try:
        split = sentences(parse_marked(text))
    except MarkupError:
        return text
    room = MAX_FRONT_WORDS - len(front.split())
    joined: list[tuple[str, bool]] = []  # each sentence as source text, and whether it asks
    for sentence, terms in split:
        written = "".join("{{" + part + "}}" if is_term else part for part, is_term in sentence.segments)
        if terms and joined and (_POINTER.match(sentence.plain) or opens_with_pointer(sentence.plain)):
            before, asks = joined[-1]
            asked, rest = _clauses(written)
            if not asks and before.endswith(".") and len(before.split()) + len(asked.split()) <= room:
                joined[-1] = (f"{before[:-1]}; {asked[0].lower()}{asked[1:]}", True)
                if rest:
                    joined.append((rest, False))
                continue
        elif joined and joined[-1][1] and _EXPLAINS.match(sentence.plain) and not terms:
            before, _ = joined[-1]
            if _says_only_subject(before) and len(before.split()) + len(written.split()) <= room:
                joined[-1] = (f"{before[:-1]}; {written[0].lower()}{written[1:]}", True)
                continue
        joined.append((written, bool(terms)))
    return " ".join(written for written, _ in joined)


_EXPLAINS = re.compile(r"^(?:this|that)\s+means\b|^in\s+other\s+words\b", re.I)
"""A sentence that says what the one before means: "categories are *well-defined*. This means that …"."""


def _says_only_subject(sentence: str) -> bool:
    """True if the marked *sentence* ends with its term after only a subject ("categories are {{well-defined}}.")."""
    before, _, rest = sentence.partition("{{")
    after = rest.partition("}}")[2]
    return sentence.endswith(".") and only_subject(before, after)


_NEXT_CLAUSE = re.compile(r",\s+and\s+(it|they|this|these|he|she)\s+(?=[^{}]*$)")
"""", and it was first studied …" after the term: a clause of its own, which may be a sentence of its own."""


def _clauses(sentence: str) -> tuple[str, str]:
    """*sentence* as (the clause asking its term, the clause after it made a sentence), or (*sentence*, "")."""
    found = _NEXT_CLAUSE.search(sentence)
    if found is None or "}}" not in sentence[: found.start()]:
        return sentence, ""
    return sentence[: found.start()] + ".", sentence[found.start(1)].upper() + sentence[found.start(1) + 1 :]


def gives_away(term: str, front: str) -> bool:
    """True if *front* shows *term*: half its words or more (the leak smell), or in another form (the paraphrase
    smell: "Typicality" on a front saying "the most typical")."""
    words = _content_words(term)
    return bool(words) and (
        len(words & _content_words(front)) >= LEAK_SHARE * len(words) or bool(paraphrased(term, front))
    )


def unask(text: str, front: str, unasked: list[str]) -> str:
    """*text* without the marks its cards' fronts would give away; each mark left out is added to *unasked*.

    *front* is what every card of the item shows besides its sentence: its title and context line.
    """

    def keep(match: re.Match[str]) -> str:
        term = match[1]
        if not gives_away(term, front):
            return match[0]
        *name, kind = term.split()
        if name and kind.lower() in _KINDS and not gives_away(" ".join(name), front):
            return "{{" + " ".join(name) + "}} " + kind  # the kind the front shows is a cue, not the answer
        unasked.append(repr(term))
        return term

    return _one_term_a_sentence(with_antecedents(checked(_MARK.sub(keep, text)), front), unasked)


def checked(text: str) -> str:
    """*text* if its marks parse as the loader parses them; else its words without marks.

    An emphasised "*" has no word to ask; a brace of the text beside a mark
    ("a{" then *b*) would change where the mark is read.
    """
    try:
        parse_marked(text)
    except MarkupError:
        return without_markers(text.replace("{{", "").replace("}}", ""))
    return text


def _stem(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def _content_words(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"\w+", text.lower())} - FUNCTION_WORDS


ECHO_LETTERS = 5
"""A word of the sentence that begins as the term's word does, for this many letters and all but
:data:`ECHO_SLACK` of the term's word, shows it to a student: "defined" is read off "definition" beside it.
Looser than the paraphrase smell's forms on purpose: a draft leaves a doubtful cloze as context, where an
author's own card is only warned about."""
ECHO_SLACK = 3


def _echoed(word: str, among: set[str]) -> bool:
    """True if a word of *among* begins as *word* does (:data:`ECHO_LETTERS`), bar its last few letters."""
    for other in among:
        shared = len(os.path.commonprefix((word, other)))
        if other != word and shared >= max(ECHO_LETTERS, len(word) - ECHO_SLACK):
            return True
    return False


def _asks_well(sentence: Marked) -> bool:
    """True if the first key term of *sentence* makes a card: the rest of the sentence neither shows half its
    words nor says only a subject before it."""
    first = next(index for index, (_, is_term) in enumerate(sentence.segments) if is_term)
    words = _content_words(sentence.segments[first][0])
    rest = _content_words(" ".join(text for index, (text, _) in enumerate(sentence.segments) if index != first))
    if words and len(words & rest) >= LEAK_SHARE * len(words):
        return False
    if any(_echoed(word, rest) for word in words):  # "categories are [...]: you can give a definition"
        return False
    before = "".join(text for text, _ in sentence.segments[:first])
    after = "".join(text for text, _ in sentence.segments[first + 1 :])
    return not only_subject(before, after)


def _one_term_a_sentence(text: str, unasked: list[str]) -> str:
    """*text* with only the first key term of each sentence marked (a cloze of one shows the others), and only
    where that term asks well (:func:`_asks_well`) and its sentence does not open by pointing at the one before
    (its card would show it alone); a term left out for its sentence is added to *unasked*."""
    try:
        split = sentences(parse_marked(text))
    except MarkupError:
        return text
    kept: set[int] = set()
    for index, (sentence, numbers) in enumerate(split):
        # A pointer left unjoined (no room, or the sentence before asks) would open its card's front alone.
        if numbers and _asks_well(sentence) and not (index and opens_with_pointer(sentence.plain)):
            kept.add(numbers[0])
        elif numbers:
            unasked.append(repr(sentence.terms[0]))
    return checked(_only_marks(text, kept))


# --- across the deck: one card a term, and no card whose answer another one shows ----------------


def same_term(one: str, other: str) -> bool:
    """True if *one* and *other* name one term: *one* holds all of *other* (:func:`holds`), and half of *one*'s
    content words are *other*'s ("basic level of categorization", "Basic-level category")."""
    others = _content_words(other)
    matched = sum(_found(word, others) for word in _content_words(one))
    return holds(one, other) and matched >= LEAK_SHARE * len(_content_words(one))


def holds(text: str, term: str) -> bool:
    """True if every content word of *term* is in *text*, as it is or in another form ("typical", "Typicality")."""
    words, within = _content_words(term), _content_words(text)
    return bool(words) and all(_found(word, within) for word in words)


def _found(word: str, among: set[str]) -> bool:
    return word in among or any(forms_of_one_word(word, candidate) for candidate in among)


def across_deck(texts: list[tuple[str, str]], glossary: list[str]) -> tuple[list[str], list[list[str]]]:
    """Each marked text of the deck (with what its cards' fronts show besides: title, context line) without
    the marks another card asks or gives away; and, for each text, the terms left plain.

    - a term the *glossary* defines (its terms, each the front of a "What is …?" card): its term card asks it
      better, and one fact asked twice (a cloze and a term card) is learned as two;
    - a term whose every content word stands on another card's front (another cloze's sentence, a glossary
      term): whoever meets that card first reads the answer.  Terms are taken in the text's
      order, and a term left plain no longer makes a front.
    """
    asked: list[tuple[int, int, str, frozenset[str]]] = []  # (text, mark, answer, front) of each cloze
    for number, (text, shown) in enumerate(texts):
        try:
            split = sentences(parse_marked(text))
        except MarkupError:
            continue
        for sentence, marks in split:
            if not marks:
                continue
            first = next(index for index, (_, is_term) in enumerate(sentence.segments) if is_term)
            rest = "".join(part for index, (part, _) in enumerate(sentence.segments) if index != first)
            after = "".join(part for part, _ in sentence.segments[first + 1 :]).split()
            kind = after[0] if after and after[0].lower() in _KINDS else ""  # "{{prototype}} theory" asks the theory
            answer = f"{sentence.segments[first][0]} {kind}".strip()
            asked.append((number, marks[0], answer, content_stems(f"{shown} {rest}")))
    defined = [(term, content_stems(term)) for term in glossary]
    fronts = {(number, mark): front for number, mark, _, front in asked}
    dropped: list[list[str]] = [[] for _ in texts]
    for number, mark, answer, _ in asked:
        wanted = content_stems(answer)
        others = [front for key, front in fronts.items() if key != (number, mark)] + [f for _, f in defined]
        if any(same_term(answer, term) for term, _ in defined) or (wanted and any(wanted <= f for f in others)):
            del fronts[(number, mark)]
            dropped[number].append(answer)
    kept = [_only_marks(text, {mark for n, mark in fronts if n == number}) for number, (text, _) in enumerate(texts)]
    return kept, dropped


def _only_marks(text: str, kept: set[int]) -> str:
    """*text* with only its marks numbered in *kept* left marked."""
    counter = iter(range(len(_MARK.findall(text))))
    return _MARK.sub(lambda match: match[0] if next(counter) in kept else match[1], text)
