"""A source that compares nothing: no perspectives, clozes and term ⇄ definition cards (``terms:``), in real Anki."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.cards.notes import TERM_QUESTION, build_notes
from generator.cli import main
from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.source.loader import load_source

from .ankitools import import_package, open_collection, rendered_cards
from .support import T1

CONFIG = 'id: memory\ntitle: "Forgetting"\ndeck: Memory\n'
TOPIC = """\
topic: forgetting
name: Forgetting
items:
  - id: curve
    title: The forgetting curve
    explanation: Ebbinghaus found that memories fade fastest in the {{first hours}} after learning.
terms:
  - id: decay
    term: Decay
    definition: The fading of a memory trace with the passage of time.
  - id: interference
    term: Interference
    definition: Other memories getting in the way of recalling the one wanted.
    ask: definition
"""


def _concepts(folder: Path) -> Path:
    folder.mkdir()
    (folder / "deckgen.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / "forgetting.yaml").write_text(TOPIC, encoding="utf-8")
    return folder


def test_a_source_without_perspectives_passes_check_strict(tmp_path):
    source = _concepts(tmp_path / "src")
    result = CliRunner().invoke(main, ["check", "--strict", "--source", str(source)])
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_a_source_without_perspectives_imports_into_real_anki(tmp_path):
    source = _concepts(tmp_path / "src")
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, strict=True))
    assert report.cards == 4  # a cloze; decay both ways; interference from its term only
    col = open_collection(tmp_path / "col")
    for deck_file in report.files:
        import_package(col, Path(deck_file.path))
    cards = rendered_cards(col)
    assert {card.deck for card in cards} == {"Memory::Forgetting"}
    fronts = {card.question_text for card in cards}
    assert any("What is Decay" in front for front in fronts)
    assert any("What is Interference" in front for front in fronts)
    assert any(TERM_QUESTION in front and "fading of a memory trace" in front for front in fronts)
    assert not any(TERM_QUESTION in front and "Other memories" in front for front in fronts)
    backs = {card.answer_text for card in cards}
    assert any("What is Decay" in back and "fading of a memory trace" in back for back in backs)
    col.close()


def test_a_term_is_identified_by_its_id():
    """A glossary entry's GUID comes from its id, like an item's: its words may change."""
    source = load_source_text()
    keys = {note.key for note in build_notes(source)}
    assert {"memory/decay/definition", "memory/interference/definition"} <= keys


def load_source_text():
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        return load_source(str(_concepts(Path(folder) / "src")))


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ("perspectives:\n  a: A\n", "perspectives: name at least two perspectives"),
    ],
)
def test_perspectives_when_given_are_still_two_or_more(tmp_path, config, message):
    source = _concepts(tmp_path / "src")
    (source / "deckgen.yaml").write_text(CONFIG + config, encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_source(str(source))
    assert any(message in str(problem) for problem in error.value.problems)


def _problems(source: Path, topic: str) -> list[str]:
    """What loading *source* with *topic* as its topic file reports, one line each."""
    (source / "forgetting.yaml").write_text(topic, encoding="utf-8")
    with pytest.raises(ContentError) as error:
        load_source(str(source))
    return [str(problem) for problem in error.value.problems]


def test_a_bad_term_is_located(tmp_path):
    source = _concepts(tmp_path / "src")
    assert _problems(source, TOPIC.replace("ask: definition", "ask: sideways")) == [
        f"{source / 'forgetting.yaml'}:14: terms[1] (interference).ask: 'sideways' is not one of both, definition, term "
        "(both directions, only the definition from the term, only the term from the definition)"
    ]


def test_a_perspective_named_where_none_is_declared_is_located(tmp_path):
    """Found by the property test: the build used to crash (StopIteration) on such an item."""
    source = _concepts(tmp_path / "src")
    topic = TOPIC.replace("    title: The forgetting curve\n", "    perspective: ebbinghaus\n    title: The forgetting curve\n")
    (source / "forgetting.yaml").write_text(topic, encoding="utf-8")
    with pytest.raises(ContentError) as error:
        build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    assert [str(p) for p in error.value.problems] == [
        f"{source / 'forgetting.yaml'}:5: items[0] (curve).perspective: unknown perspective 'ebbinghaus' "
        "(deckgen.yaml declares no perspectives)"
    ]
    assert not (tmp_path / "out").exists()


WHY = """\
  - id: why-spacing
    term: Why spacing works
    question: "Per Ebbinghaus, why does a review spread over days hold longer than one crammed in an hour?"
    definition: Each review comes as the memory fades, and recalling what is fading strengthens it most.
"""


def test_a_term_with_its_own_question_asks_it_and_only_it_in_real_anki(tmp_path):
    """A why-question is a card of its own: its question on the front, its answer on the back, nothing asked back."""
    source = _concepts(tmp_path / "src")
    (source / "forgetting.yaml").write_text(TOPIC + WHY, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--strict", "--source", str(source)])
    assert result.exit_code == 0 and "warning" not in result.output, result.output
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, strict=True))
    col = open_collection(tmp_path / "col")
    for deck_file in report.files:
        import_package(col, Path(deck_file.path))
    asking = [card for card in rendered_cards(col) if "crammed" in card.question_text or "strengthens it most" in card.answer_text]
    assert len(asking) == 1, asking  # the question's card only: no "Which term is defined here?" card
    card = asking[0]
    assert "Why spacing works" not in card.question_text and "What is" not in card.question_text
    assert "recalling what is fading strengthens it most" not in card.question_text
    assert "recalling what is fading strengthens it most" in card.answer_text
    col.close()
    assert "memory/why-spacing/definition" in {note.key for note in build_notes(load_source(str(source)))}


@pytest.mark.parametrize("ask", ["term", "both"])
def test_a_term_with_its_own_question_cannot_be_asked_back(tmp_path, ask):
    source = _concepts(tmp_path / "src")
    assert _problems(source, TOPIC + WHY + f"    ask: {ask}\n") == [
        f"{source / 'forgetting.yaml'}:19: terms[2] (why-spacing).ask: is '{ask}', but a term with its own question "
        "asks only the definition: remove 'ask', or remove 'question' to ask the term"
    ]


def test_an_answer_on_its_questions_front_is_a_leak(tmp_path):
    source = _concepts(tmp_path / "src")
    leaking = WHY.replace("hold longer than one crammed in an hour?", "strengthen it most, as the memory fades?")
    (source / "forgetting.yaml").write_text(TOPIC + leaking, encoding="utf-8")
    result = CliRunner().invoke(main, ["check", "--strict", "--source", str(source)])
    assert result.exit_code == 1 and "why-spacing" in result.output and "answered by reading" in result.output
