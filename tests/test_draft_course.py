"""`deckgen draft` on a textbook chapter as instructors have them (tests/sources/chapter.md).

The chapter is Jekyll/kramdown Markdown: YAML front matter, raw HTML blocks
and inline HTML (``<figure>``, ``<cite>``), attribute lists (``{: .lead}``),
citations (``[@key]``, ``(Loftus & Palmer, 1974)``), learning objectives,
a glossary in three forms, references, discussion questions, initials
("H. M.", "F. I. M. Craik"), "Dr." and "e.g.", and a section of 900 words.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.build.pipeline import build
from generator.cards.notes import TERM_QUESTION
from generator.cli import main
from generator.source.loader import load_source

from .ankitools import import_package, open_collection, rendered_cards
from .support import BUILD_TIME, ROOT

CHAPTER = ROOT / "tests" / "sources" / "chapter.md"
GLOSSARY = {"Decay", "Interference", "Cue", "Encoding"}
MARKUP = re.compile(r"<|>|\{:|\{#|\[@|\[\^|layout|sidebar|memorynav|\.lead|\.chapter-title|figcaption|curve\.png")


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("chapter") / "source"
    result = CliRunner().invoke(main, ["draft", str(CHAPTER), "--out", str(folder)])
    assert result.exit_code == 0, result.output
    out = folder.parent / "out"
    report = build(str(folder), str(out), timestamp=BUILD_TIME)
    col = open_collection(folder.parent / "col")
    try:
        for package in report.files:
            import_package(col, Path(package.path))
        yield folder, load_source(str(folder)), rendered_cards(col)
    finally:
        col.close()


def test_the_drafted_chapter_passes_check(drafted):
    folder, _, _ = drafted
    result = CliRunner().invoke(main, ["check", "--source", str(folder)])
    assert result.exit_code == 0, result.output


def test_no_markup_or_front_matter_reaches_a_card(drafted):
    _, _, cards = drafted
    assert cards
    for card in cards:
        assert not MARKUP.search(card.question_text + card.answer_text), card


def test_citations_are_gone_and_their_sentences_stay(drafted):
    _, source, cards = drafted
    text = " ".join(i.explanation.plain for t in source.topics for i in t.items if i.explanation)
    assert "nickerson" not in text and "1974" not in text and "(Schacter" not in text
    assert "memory is not a recording, and most of what we experience" in text


def test_references_objectives_and_questions_are_comments_not_topics(drafted):
    folder, source, cards = drafted
    assert [t.name for t in source.topics] == ["Why We Forget", "Causes of Forgetting", "Vocabulary"]
    config = (folder / "deckgen.yaml").read_text(encoding="utf-8")
    for kept in ("#   Learning Objectives (line", "#   References (line", "Houghton Mifflin", "#   Discussion Questions"):
        assert kept in config
    seen = " ".join(card.question_text + card.answer_text for card in cards)
    assert "Houghton" not in seen and "Journal of Verbal" not in seen and "matters most in everyday" not in seen


def test_one_item_per_paragraph_even_in_a_900_word_section(drafted):
    _, source, _ = drafted
    lines = CHAPTER.read_text(encoding="utf-8").split("## Causes of Forgetting\n")[1].split("## Vocabulary")[0]
    paragraphs = [p for p in lines.split("\n\n") if p.strip()]
    assert len(" ".join(paragraphs).split()) >= 900
    causes = next(t for t in source.topics if t.name == "Causes of Forgetting")
    assert len(causes.items) == len(paragraphs) == 9
    assert all(len(item.explanation.plain.split()) < 150 for item in causes.items if item.explanation)


def test_only_emphasis_that_defines_is_asked(drafted):
    _, source, _ = drafted
    terms = {term for t in source.topics for i in t.items for m in (i.explanation,) if m for term in m.terms}
    assert terms == {
        "Encoding failure", "anterograde amnesia", "decay", "interference", "retrieval failure",
        "encoding specificity principle", "levels of processing", "spacing effect",
    }  # never the examples dax, bap, rif, nor a journal's name


def test_every_glossary_term_is_on_a_term_definition_card(drafted):
    _, source, cards = drafted
    assert {term.term for t in source.topics for term in t.terms} == GLOSSARY
    for term in GLOSSARY:
        assert any(f"What is {term}" in card.question_text for card in cards), term
        assert any(TERM_QUESTION in card.question_text and card.answer_text.endswith(f"{term} Vocabulary")
                   or TERM_QUESTION in card.question_text and f" {term} " in card.answer_text for card in cards), term


def test_no_sentence_is_cut_at_initials_or_abbreviations(drafted):
    _, _, cards = drafted
    amnesia = next(card for card in cards if "[...]" in card.question_text and "surgery" in card.question_text)
    assert "The patient H. M. lost the ability" in amnesia.question_text
    levels = next(card for card in cards if "[...]" in card.question_text and "processing" in card.answer_text
                  and "known as the" in card.question_text)
    assert "This finding is known as the [...] effect." in levels.question_text
    for card in cards:
        assert not re.search(r"(^|\s)(H\.|M\.|Dr\.|e\.g\.|et al\.)\s*$", card.question_text), card
