"""Words as the card checks count them: a text's words, its content words, and their crude stems.

Here, beside the content, because a topic's item titles are read this way
once, when its file is read (:attr:`~generator.source.content.Topic.title_stems`):
every topic's checks read every title of the source (see
:mod:`generator.quality.crosscard`), and a rebuild after an edit reads the
other topics' files from the memo of validated topics, stems and all.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable

_TAG = re.compile(r"<[^>]+>")
WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
"""A word as a reader counts it (letters and digits, joined by an apostrophe or a hyphen)."""
_ASCII_WORD = re.compile(r"[A-Za-z0-9]+(?:['-][A-Za-z0-9]+)*")
""":data:`WORD` in ASCII text (where it finds the same words, a third faster: a set of ranges, not of categories)."""

VOCABULARY = 1 << 13
"""The words a cache of words keeps: a text's working vocabulary is thousands; a larger cache only holds
memory (filled with a 50,000-note source's made-up words, four caches of 65,536 held 60 MB)."""

FUNCTION_WORDS = frozenset(
    """a about after all also an and any are as at be because been before being between both but by can
    could did do does each even every for from had has have how i if in into is it its just may me more
    most my no not of on only or other our out over own same should so some such than that the their them
    then there these they this those through to too under up very was we were what when where which while
    who whom why will with would you your yours""".split()
)
_ENDINGS = ("ically", "ation", "ness", "ment", "ing", "ity", "ies", "ed", "es", "ly", "s", "e")


@functools.lru_cache(maxsize=VOCABULARY)  # a source's words are met millions of times
def stem(word: str) -> str:
    """A crude stem: one form for "preserve", "preserves", "preserving", "preserved"."""
    return _stem_of_lowered(word.lower())


def _stem_of_lowered(word: str) -> str:
    """:func:`stem` of a lowercased *word*, through no cache: :func:`_content_stem` has its own."""
    word = word.replace("’", "'")
    if not word.endswith(_ENDINGS):  # most words, and every number: one test, not one per ending
        return word
    for ending in _ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def find_words(text: str) -> list[str]:
    """``WORD.findall(text)``: the words of *text*, as written."""
    return (_ASCII_WORD if text.isascii() else WORD).findall(text)


def lower_words(text: str) -> list[str]:
    """The words of *text*, lowercased (an ASCII text lowercased first, in one call: for ASCII, lowering makes
    no letter a non-letter; not so for every letter, "İ" lowers to two characters)."""
    if text.isascii():
        return _ASCII_WORD.findall(text.lower())
    return list(map(str.lower, WORD.findall(text)))


def content_stems(text: str) -> frozenset[str]:
    """The stems of *text*'s words that carry meaning (tags aside)."""
    return stems_of(find_words(_TAG.sub(" ", text) if "<" in text else text))


def stems_of(words: Iterable[str]) -> frozenset[str]:
    """The stems of *words* that carry meaning (their case aside)."""
    found = set(map(_content_stem, words))
    found.discard("")
    return frozenset(found)


def title_stems(titles: Iterable[str]) -> tuple[tuple[str, ...], ...]:
    """Each of *titles* as the card checks read it: its :func:`content_stems`, sorted (a topic's
    :attr:`~generator.source.content.Topic.title_stems`; every build process holds every title's, and a
    tuple costs a third of a set's memory)."""
    return tuple(tuple(sorted(content_stems(title))) for title in titles)


@functools.lru_cache(maxsize=VOCABULARY)
def _content_stem(word: str) -> str:
    """*word*'s stem, or "" for a function word."""
    word = word.lower()
    # Not through stem()'s cache: a word missing here is missing there too (stem() is met elsewhere only for
    # a perspective's names), and on a large source's unique words a second cache's miss is its cost again.
    return "" if word in FUNCTION_WORDS else _stem_of_lowered(word)


@functools.lru_cache(maxsize=VOCABULARY)  # a source's vocabulary, met hundreds of thousands of times
def singular(word: str) -> str:
    """*word* without a plural's final 's' ("values" -> "value"): words of three letters or fewer, and those
    ending in "ss" ("class"), are kept as they are."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
