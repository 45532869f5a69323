"""Everything the source states reaches a card, and a comparison names the sections its sides come from.

Built, imported into real Anki and rendered with Anki's renderer.
"""

from __future__ import annotations

from pathlib import Path

from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

from .ankitools import import_package, open_collection, rendered_cards
from .support import T1, write_source

TOPIC = """\
topic: basics
name: Basics
items:
  - id: intro
    explanation: People have argued over tea and coffee for four centuries.
  - id: origin
    perspective: tea
    title: Where Tea Began
    explanation: Tea comes from {{China}}.
  - id: brewing
    perspective: coffee
    title: Brewing
    explanation: Coffee is brewed from {{roasted beans}}.
  - id: coda
    title: A Closing Word
    explanation: Most people drink both.
comparisons:
  - id: first-step
    dimension: The first step
    question: "What is the first thing {perspective} asks of you?"
    ask: side
    from:
      tea: origin
      coffee: brewing
    sides:
      tea: Find leaves from China
      coffee: Roast the beans
"""


def _cards(tmp_path: Path, topic: str = TOPIC) -> list:
    source = write_source(tmp_path / "src", topic)
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    col = open_collection(tmp_path / "col")
    for f in report.files:
        import_package(col, Path(f.path))
    cards = rendered_cards(col)
    col.close()
    return cards


def test_context_only_items_are_shown_on_a_back_of_their_topic(tmp_path):
    cards = _cards(tmp_path)
    for text in ("argued over tea and coffee for four centuries", "A Closing Word", "Most people drink both"):
        backs = [c for c in cards if text in c.answer_text]
        assert len(backs) == 1, text  # once, not on every card
        assert text not in backs[0].question_text  # a back, never a front
    # the introduction goes with the item it introduces, the closing word with the last one
    assert "four centuries" in next(c.answer_text for c in cards if "China" in c.answer_text)
    assert "drink both" in next(c.answer_text for c in cards if "roasted beans" in c.answer_text)


def test_a_topic_of_context_and_comparisons_shows_its_context_with_a_comparison(tmp_path):
    only_context = TOPIC.replace("{{China}}", "China").replace("{{roasted beans}}", "roasted beans")
    cards = _cards(tmp_path, only_context)
    assert cards and all(c.note_type.endswith("Comparison") for c in cards)
    assert sum("four centuries" in c.answer_text for c in cards) == 1


def test_a_comparison_side_names_the_section_it_comes_from(tmp_path):
    cards = _cards(tmp_path)
    tea = next(c for c in cards if "What is the first thing Tea asks" in c.question_text)
    coffee = next(c for c in cards if "What is the first thing Coffee asks" in c.question_text)
    assert "In the text: Basics: Where Tea Began" in tea.answer_text
    assert "In the text: Basics: Brewing" in coffee.answer_text
    assert "In the text" not in tea.question_text + coffee.question_text
