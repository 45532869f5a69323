"""A marked text (content.Marked, kept as its plain text, cut positions and term bits) behaves as the runs it was
made of: its segments, runs, terms and plain text, equality, pickling, HTML and sentences, for any text the
markup reads, against a reference that keeps the runs themselves (what Marked held before it was made flat).
"""

from __future__ import annotations

import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from generator.source.content import Marked
from generator.source.markup import MarkupError, cloze, marked_html, parse_marked, sentences, to_html

# Pieces a text is drawn from: markers, sentence ends, abbreviations, spaces, line breaks, non-ASCII letters
# (a character of several UTF-8 bytes is one position of a str), and characters the HTML escapes.
PIECES = st.sampled_from([
    "{{", "}}", "a", "Bé", "日本", "😀", "x y", ". ", "! ", "? ", "\n\n", "e.g. ", "Dr. ", "J. ", " ", "&", "<",
    "{", "}", "\\", "[", "1", ".", "wörd", "\u0301",
])
TEXTS = st.lists(PIECES, max_size=24).map("".join)


def _reference_segments(text: str) -> list[tuple[str, bool]] | None:
    """The runs of *text* read without markup.py: None where its markers do not pair up or a term asks nothing.

    A run of braces opens a term with its last two; the ones before are text."""
    segments: list[tuple[str, bool]] = []
    opened = 0
    inside = False
    for part in re.split(r"(\{*\{\{|\}\})", text):
        if part.endswith("{{") and set(part) == {"{"}:
            if inside:
                return None
            inside, opened = True, opened + 1
            _plain(segments, part[:-2])
        elif part == "}}":
            if not inside:
                return None
            inside = False
        elif inside:
            if part:
                segments.append((part, True))
        else:
            _plain(segments, part)
    if inside:
        return None
    # An empty term, or one with no letter or digit, is refused (markup._term); a "{{}}" leaves no run.
    if opened != sum(1 for _, term in segments if term):
        return None
    if any(term and not re.search(r"\w", t) for t, term in segments):
        return None
    return segments


def _plain(segments: list[tuple[str, bool]], text: str) -> None:
    """Add *text* as plain, to the plain run before it if there is one (a run of text is one run)."""
    if text and segments and not segments[-1][1]:
        segments[-1] = (segments[-1][0] + text, False)
    elif text:
        segments.append((text, False))


def _parsed(text: str) -> Marked | None:
    try:
        return parse_marked(text)
    except MarkupError:
        return None


@settings(max_examples=400, deadline=None)
@given(TEXTS)
def test_a_marked_text_reads_as_the_runs_it_was_made_of(text):
    reference = _reference_segments(text)
    marked = _parsed(text)
    assert (marked is None) == (reference is None)
    if marked is None or reference is None:
        return
    assert marked.segments == tuple(reference)
    assert marked.runs == tuple(t for t, _ in reference)
    assert marked.terms == tuple(t for t, term in reference if term)
    assert marked.plain == "".join(t for t, _ in reference)
    assert Marked.of(reference) == marked and hash(Marked.of(reference)) == hash(marked)
    again = pickle.loads(pickle.dumps(marked, pickle.HIGHEST_PROTOCOL))
    assert again == marked and again.segments == marked.segments


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.text(min_size=1, max_size=4), st.booleans()), max_size=8),
       st.lists(st.tuples(st.text(min_size=1, max_size=4), st.booleans()), max_size=8))
def test_two_marked_texts_are_equal_where_their_runs_are(first, second):
    # Runs are never empty (the markup makes none): equal plain text cut elsewhere, or a run's term bit, differs.
    assert (Marked.of(first) == Marked.of(second)) == (first == second)
    assert Marked.of(first).segments == tuple(first)


@settings(max_examples=300, deadline=None)
@given(TEXTS, st.sets(st.integers(0, 6)))
def test_a_marked_texts_html_is_its_runs_html(text, hide):
    reference = _reference_segments(text)
    marked = _parsed(text)
    if marked is None or reference is None:
        return
    expected, number = [], 0
    for run, term in reference:
        expected.append(cloze(run) if term and number in hide else to_html(run))
        number += term
    assert marked_html(marked, hide) == "".join(expected)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_a_marked_texts_sentences_keep_its_terms_and_their_numbers(text):
    marked = _parsed(text)
    if marked is None:
        return
    found = sentences(marked)
    numbers = [number for _, held in found for number in held]
    assert numbers == sorted(set(numbers))
    for sentence, held in found:
        assert sentence.terms == tuple(marked.terms[number] for number in held)
        assert Marked.of(sentence.segments) == sentence
        assert sentence.plain.strip()  # a sentence of only spaces is dropped
        assert sentence.plain in marked.plain  # runs joined whole: a sentence is a piece of the text


def test_a_run_of_braces_opens_a_term_with_its_last_two_the_others_text():
    """"{{{China}}}" (a brace too many) asks "China", not "{China": the extra braces show as typed."""
    marked = parse_marked("Tea is from {{{China}}}.")
    assert marked.terms == ("China",) and marked.plain == "Tea is from {China}."
    assert parse_marked("a{{{b}}").terms == ("b",)
    with pytest.raises(MarkupError, match="opens inside another key term"):
        parse_marked("{{South {{{China}}}}")
