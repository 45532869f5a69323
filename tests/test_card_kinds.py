"""What each kind of card asks and shows, as the real Anki client renders it.

The author marks what is asked; a front shows only what its question needs
(the title and the one sentence or point asked), the back the whole item.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

from .ankitools import asked_fact, import_package, open_collection, rendered_cards
from .support import write_source

TOPIC = """\
topic: basics
name: Basics
heading: Tea and coffee
question: Which drink is this?
items:
  - id: origin
    perspective: tea
    title: Origin
    cue: Grown on misty hillsides
    explanation: >-
      Tea was first drunk in {{China}}. It spread along trade routes.
      It is grown:
    points:
      assam: On hillsides in {{Assam}}
      kenya: In the highlands of Kenya
    conclusion: Most of it is drunk with {{milk}}.
  - id: roast
    perspective: coffee
    title: "{{Roasting}}"
    explanation: Heat turns green beans brown and brings out their aroma.
comparisons:
  - id: caffeine
    dimension: Caffeine per cup
    question: "How much caffeine is in a cup of {perspective}?"
    which_question: Which drink has this much caffeine per cup?
    sides:
      tea: About 40 mg
      coffee: About 95 mg
"""


def imported_cards(folder: Path, topic: str):
    """*topic* built as a source, imported into a fresh collection; every card as Anki renders it."""
    source = write_source(folder / "src", topic)
    report = build(BuildConfig(str(source), str(folder / "out"), timestamp=1_700_000_000))
    col = open_collection(folder / "col")
    try:
        import_package(col, Path(report.files[0].path))
        rendered = rendered_cards(col)
        assert list(col.get_empty_cards().notes) == []
    finally:
        col.close()
    assert len(rendered) == report.cards
    return rendered


@pytest.fixture(scope="module")
def cards(tmp_path_factory):
    return imported_cards(tmp_path_factory.mktemp("kinds"), TOPIC)


def by_fact(cards, fact, text=""):
    """The one card that asks *fact* and shows *text* on its front."""
    (card,) = [c for c in cards if asked_fact(c) == fact and text in c.question_text]
    return card


def test_only_what_is_marked_is_asked(cards):
    assert Counter(asked_fact(c) for c in cards) == Counter({
        "China": 1, "milk": 1, "Assam": 1, "Roasting": 1,
        "Side from perspective: About 40 mg": 1, "Side from perspective: About 95 mg": 1,
        # each item's "which drink?" card and each side's reverse card
        "Perspective from statement: Tea": 2, "Perspective from statement: Coffee": 2,
    })
    assert not any("Kenya" in c.question_text for c in cards)  # an unmarked point is context


def test_a_key_term_card_shows_only_its_sentence_and_the_back_the_whole_item(cards):
    card = by_fact(cards, "China")
    assert "Tea was first drunk in [...]" in card.question_text
    assert "trade routes" not in card.question_text and "Assam" not in card.question_text
    for text in ("trade routes", "On hillsides in Assam", "In the highlands of Kenya", "drunk with milk"):
        assert text in card.answer_text


def test_a_point_card_shows_the_lead_and_its_point_alone(cards):
    card = by_fact(cards, "Assam")
    assert "Origin It is grown: On hillsides in [...]" in card.question_text
    assert "Kenya" not in card.question_text and "China" not in card.question_text
    assert "In the highlands of Kenya" in card.answer_text and "first drunk in China" in card.answer_text


def test_a_marked_title_is_asked_from_its_explanation(cards):
    card = by_fact(cards, "Roasting")
    assert "[...] Heat turns green beans brown" in card.question_text


def test_which_perspective_shows_the_cue_and_answers_with_the_explanation(cards):
    card = by_fact(cards, "Perspective from statement: Tea", "hillsides")
    assert card.question_text == "Tea and coffee Grown on misty hillsides Which drink is this?"
    assert "Tea" in card.answer_text.split("Which drink is this?", 1)[1]
    assert "first drunk in China" in card.answer_text


def test_comparison_questions_are_the_authors(cards):
    forward = by_fact(cards, "Side from perspective: About 40 mg")
    assert forward.question_text.startswith("Tea and coffee How much caffeine is in a cup of")
    assert "How much caffeine is in a cup of <b>Tea</b>?" in forward.question
    assert "Coffee: About 95 mg" in forward.answer_text


def test_reverse_comparison_front_names_no_perspective(cards):
    reverse = [c for c in cards if c.template == "Perspective from statement" and "mg" in c.question_text]
    assert sorted(c.question_text for c in reverse) == [
        "Tea and coffee About 40 mg Which drink has this much caffeine per cup?",
        "Tea and coffee About 95 mg Which drink has this much caffeine per cup?",
    ]


def test_the_source_is_named_on_the_back_only(cards):
    for card in cards:
        assert "Tea and Coffee" not in card.question_text  # the source's title (conftest)
        assert card.answer_text.endswith("Tea and Coffee")


def test_a_comparison_may_ask_one_direction_only(tmp_path):
    topic = (
        "topic: basics\nname: Basics\ncomparisons:\n"
        "  - id: caffeine\n    dimension: Caffeine\n    ask: side\n    sides:\n      tea: Less\n      coffee: More\n"
        "  - id: colour\n    dimension: Colour\n    ask: perspective\n    sides:\n      tea: Green\n      coffee: Brown\n"
    )
    rendered = imported_cards(tmp_path, topic)
    assert sorted(asked_fact(c) for c in rendered) == [
        "Perspective from statement: Coffee", "Perspective from statement: Tea",  # colour: only "which?"
        "Side from perspective: Less", "Side from perspective: More",  # caffeine: only the sides
    ]
