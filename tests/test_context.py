"""Where a topic's context (items that make no card) is shown: on the nearest backs, at most MAX_CONTEXT_WORDS each."""

from __future__ import annotations

import html
import re

from click.testing import CliRunner

from generator.cards.notes import MAX_CONTEXT_WORDS, topic_notes
from generator.cli import main
from generator.source.loader import load_source

from .support import write_source

CONFIG = "id: c\ntitle: Concepts\ndeck: Concepts\n"


def _sentences(tag: str, count: int, words: int = 10) -> str:
    """*count* sentences of *words* words each, every one naming *tag* and its number (to find it on a back)."""
    return " ".join(f"{tag}{n} " + " ".join(["word"] * (words - 2)) + " end." for n in range(count))


def _backs(tmp_path, items: list[tuple[str, str]]) -> dict[str, str]:
    """item id -> the plain text of its first note's back, for a topic of *items* (id, explanation)."""
    body = "".join(f"  - id: {item}\n    explanation: \"{text}\"\n" for item, text in items)
    source = load_source(str(write_source(tmp_path / "src", f"topic: t\nname: T\nitems:\n{body}", CONFIG)))
    backs: dict[str, str] = {}
    for note in topic_notes(source, source.topics[0]):
        backs.setdefault(note.item_id, html.unescape(re.sub(r"<[^>]+>", " ", note.field("Extra"))))
    return backs


def _context_words(back: str, tags: tuple[str, ...]) -> int:
    return sum(1 for word in back.split() if word.startswith(tags)) * 10  # each sentence: 10 words, one tagged


def test_context_that_fits_goes_with_the_next_item_that_asks(tmp_path):
    backs = _backs(tmp_path, [
        ("intro", _sentences("intro", 2)), ("one", "A {{first}} fact."),
        ("middle", _sentences("middle", 2)), ("two", "A {{second}} fact."), ("tail", _sentences("tail", 1)),
    ])
    assert "intro0" in backs["one"] and "intro1" in backs["one"]
    assert "middle0" in backs["two"] and "tail0" in backs["two"]  # after the last card: the nearest before
    assert "middle0" not in backs["one"]


def test_no_back_shows_more_context_than_a_phone_screen_and_the_rest_goes_to_the_nearest_back_with_room(tmp_path):
    # 20 sentences of 10 words before the first card: 200 words, more than one back holds
    backs = _backs(tmp_path, [
        ("intro", _sentences("intro", 20)), ("one", "A {{first}} fact."),
        ("two", "A {{second}} fact."), ("three", "A {{third}} fact."),
    ])
    tags = ("intro",)
    assert all(_context_words(back, tags) <= MAX_CONTEXT_WORDS for back in backs.values())
    assert _context_words(backs["one"], tags) == MAX_CONTEXT_WORDS  # whole sentences, as many as fit
    assert "intro0" in backs["one"] and "intro12" in backs["two"]  # in order: the next card, then the nearest
    assert all(f"intro{n} " in " ".join(backs.values()) for n in range(20))  # two backs hold all 200 words
    assert "intro" not in backs["three"]


def test_context_no_back_has_room_for_is_on_no_card_and_stays_in_the_source(tmp_path):
    backs = _backs(tmp_path, [("intro", _sentences("intro", 30)), ("one", "A {{first}} fact.")])
    assert _context_words(backs["one"], ("intro",)) == MAX_CONTEXT_WORDS
    assert "intro11" in backs["one"] and "intro12" not in backs["one"]


# --- backs: short: a back shows the sentence asked and the few after it ---------------------------------


def _short_backs(tmp_path, items: list[tuple[str, str]], config: str = CONFIG + "backs: short\n") -> dict[str, str]:
    body = "".join(f"  - id: {item}\n    explanation: \"{text}\"\n" for item, text in items)
    source = load_source(str(write_source(tmp_path / "src", f"topic: t\nname: T\nitems:\n{body}", config)))
    return {note.item_id: html.unescape(re.sub(r"<[^>]+>", " ", note.field("Extra")))
            for note in topic_notes(source, source.topics[0])}


def test_a_short_back_shows_the_sentences_after_the_one_asked_up_to_a_few_lines_and_no_context(tmp_path):
    paragraph = f"{_sentences('before', 2)} A {{{{first}}}} fact. {_sentences('after', 8)}"
    backs = _short_backs(tmp_path, [("intro", _sentences("intro", 2)), ("one", paragraph)])
    assert "after0" in backs["one"] and "after4" in backs["one"] and "after5" not in backs["one"]  # 50 words
    assert "before" not in backs["one"] and "intro" not in backs["one"]
    full = _short_backs(tmp_path / "full", [("intro", _sentences("intro", 2)), ("one", paragraph)], CONFIG)
    assert "before0" in full["one"] and "after7" in full["one"] and "intro0" in full["one"]  # the default


def test_backs_takes_full_or_short_and_says_so(tmp_path):
    folder = write_source(tmp_path / "src", "topic: t\nname: T\nitems:\n  - id: a\n    explanation: A {{b}}.\n",
                          CONFIG + "backs: brief\n")
    result = CliRunner().invoke(main, ["check", "--source", str(folder)])
    assert result.exit_code == 1
    assert result.output == (f"{folder}/deckgen.yaml:4: backs: 'brief' is not one of full (the item's whole text "
                             "and the context around it), short (the sentences near the one asked)\nError: 1 problem "
                             "found.\n")
