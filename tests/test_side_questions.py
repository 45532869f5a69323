"""``questions:``: a comparison side with its own question, checked by the loader and shown by real Anki."""

from __future__ import annotations

import re
from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

from .ankitools import import_package, open_collection, rendered_cards
from .support import T1, write_source

TOPIC = """\
topic: basics
name: Basics
comparisons:
  - id: evening
    dimension: In the evening
    question: "{perspective} in the evening: what does it do to sleep?"
    questions:
      tea: "{perspective} in the evening: which kind is caffeine-free?"
    ask: side
    sides:
      tea: Chamomile
      coffee: It delays it
"""


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def test_each_side_asks_its_own_question_in_real_anki(tmp_path: Path) -> None:
    source = write_source(tmp_path / "src", TOPIC)
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    col = open_collection(tmp_path / "col")
    for deck_file in report.files:
        import_package(col, Path(deck_file.path))
    questions = sorted(_plain(card.question) for card in rendered_cards(col))
    assert len(questions) == 2
    assert any("Tea in the evening: which kind is caffeine-free?" in q for q in questions), questions
    assert any("Coffee in the evening: what does it do to sleep?" in q for q in questions), questions
    assert not any("Tea in the evening: what does it do to sleep?" in q for q in questions), questions
    # The back gives the other side's answer with its own question: alone, "Chamomile" would answer the wrong one.
    backs = {_plain(card.question): _plain(card.answer) for card in rendered_cards(col)}
    coffee_back = next(back for front, back in backs.items() if "Coffee in the evening" in front)
    assert "Tea: Tea in the evening: which kind is caffeine-free? Chamomile" in coffee_back, coffee_back


def _check(tmp_path: Path, topic: str) -> list[str]:
    source = write_source(tmp_path / "src", topic)
    result = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert result.exit_code != 0
    return [line for line in result.output.splitlines() if line.startswith(str(source))]


def test_a_side_question_for_no_side_without_its_name_or_making_question_idle_is_refused(tmp_path: Path) -> None:
    topic = TOPIC.replace(
        '      tea: "{perspective} in the evening: which kind is caffeine-free?"\n',
        '      tea: "Which kind is caffeine-free?"\n'
        '      coffee: "{perspective} in the evening: what does it do?"\n'
        '      mate: "{perspective}: what?"\n',
    )
    lines = _check(tmp_path, topic)
    text = "\n".join(lines)
    assert re.search(r"basics\.yaml:8: .*questions\.tea: must contain \{perspective\}", text), text
    assert re.search(r"basics\.yaml:10: .*questions\.mate: 'mate' has no side", text), text
    assert len(lines) == 2, text  # tea is refused, so 'question' still asks it: not idle


def test_naming_every_side_makes_the_shared_question_an_error(tmp_path: Path) -> None:
    topic = TOPIC.replace(
        '      tea: "{perspective} in the evening: which kind is caffeine-free?"\n',
        '      tea: "{perspective} in the evening: which kind is caffeine-free?"\n'
        '      coffee: "{perspective} in the evening: what does it do?"\n',
    )
    text = "\n".join(_check(tmp_path, topic))
    assert re.search(r"basics\.yaml:6: .*\.question: does nothing: every side has its own question", text), text


def test_side_questions_with_ask_perspective_are_refused(tmp_path: Path) -> None:
    topic = TOPIC.replace("    ask: side\n", "    ask: perspective\n").replace(
        '    question: "{perspective} in the evening: what does it do to sleep?"\n', ""
    )
    text = "\n".join(_check(tmp_path, topic))
    assert re.search(r"basics\.yaml:\d+: .*questions: does nothing: 'ask: perspective' asks no side", text), text
