"""The bundled decks, imported into a fresh collection with the real Anki client."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from generator.cards.notes import build_notes, guid_for, slug, topic_deck
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.source.loader import load_source

from .ankitools import asked_fact, import_package, open_collection, rendered_cards
from .support import BUILD_TIME, BUNDLED_SOURCE, ESSAY_HEADINGS, ROOT


@pytest.fixture(scope="module")
def imported(bundled_build, tmp_path_factory):
    out, report = bundled_build
    col = open_collection(tmp_path_factory.mktemp("collection"))
    logs = {f.path: import_package(col, Path(f.path)) for f in report.files}
    yield col, report, logs, rendered_cards(col)
    col.close()


def test_one_package_per_topic(bundled_build):
    out, report = bundled_build
    topics = [t.id for t in load_source(str(BUNDLED_SOURCE)).topics]
    assert sorted(p.name for p in out.glob("*.apkg")) == sorted(f"{t}.apkg" for t in topics)
    assert [Path(f.path).stem for f in report.files] == topics


def test_every_note_arrives_in_its_deck(imported):
    col, report, logs, cards = imported
    for deck_file in report.files:
        log = logs[deck_file.path]
        assert len(log.new) == deck_file.notes == log.found_notes
        assert not (log.updated or log.duplicate or log.conflicting)
    assert col.note_count() == report.notes
    assert col.card_count() == report.cards == len(cards)
    source = load_source(str(BUNDLED_SOURCE))
    deck_names = set(d.name for d in col.decks.all_names_and_ids())
    for topic in source.topics:
        assert topic_deck(source, topic) in deck_names
        perspectives = {i.perspective for i in topic.items if i.perspective}
        with_clozes = {i.perspective for i in topic.items if i.perspective and _marks(i)}
        for pid in with_clozes if len(perspectives) > 1 else ():
            assert f"{topic_deck(source, topic)}::{source.perspective(pid).name}" in deck_names


def _marks(item) -> bool:
    texts = (item.title, item.explanation, item.conclusion, *(p.text for p in item.points))
    return any(text and text.terms for text in texts)


def test_each_item_asks_what_its_author_marked(imported):
    """Counted from the source independently of the note builder: marks, "which?" cards, sides."""
    col, report, logs, cards = imported
    source = load_source(str(BUNDLED_SOURCE))
    expected_cloze = 0
    expected_comparison = 0
    for topic in source.topics:
        for item in topic.items:
            expected_cloze += bool(item.title and item.title.terms)
            expected_cloze += sum(bool(point.text.terms) for point in item.points)
            for text in (item.explanation, item.conclusion):
                expected_cloze += len({slug(t) for t in text.terms}) if text else 0
            expected_comparison += bool(item.perspective and item.question and (item.cue or item.title))
        expected_comparison += sum(len(c.sides) * (2 if c.ask == "both" else 1) for c in topic.comparisons)
        expected_comparison += sum(2 if term.ask == "both" else 1 for term in topic.terms)
    kinds = Counter(card.note_type for card in cards)
    assert kinds == {"deckgen Cloze": expected_cloze, "deckgen Comparison": expected_comparison}


def test_every_card_renders_a_question_and_a_different_answer(imported):
    col, report, logs, cards = imported
    assert cards
    for card in cards:
        assert card.question_text, card
        assert card.answer_text and card.answer_text != card.question_text, card
        for rendered in (card.question, card.answer):
            assert "{{" not in rendered and "}}" not in rendered, card
        assert "Collectivism vs. Individualism: What We Can Learn From Both" in card.answer_text


def test_every_cloze_card_shows_a_blank_and_its_answer(imported):
    col, report, logs, cards = imported
    clozes = [c for c in cards if c.note_type == "deckgen Cloze"]
    assert clozes
    for card in clozes:
        blanks = col.get_note(card.note_id)["Text"].count("{{c1::")  # every mark of the one key term asked
        assert blanks, card
        assert card.question.count('class="cloze"') == blanks and "[...]" in card.question_text, card
        assert "[...]" not in card.answer_text, card


def test_comparison_cards_ask_the_directions_their_author_chose(imported):
    col, report, logs, cards = imported
    by_guid: dict[str, set[str]] = {}
    for card in cards:
        if card.note_type == "deckgen Comparison":
            by_guid.setdefault(card.guid, set()).add(card.template)
    source = load_source(str(BUNDLED_SOURCE))
    expected = {}
    directions = {"both": {SIDE, WHICH}, "side": {SIDE}, "perspective": {WHICH}}
    for topic in source.topics:
        for comparison in topic.comparisons:
            for pid, _ in comparison.sides:
                expected[guid_for(f"{source.id}/{comparison.id}/side/{pid}")] = directions[comparison.ask]
        for item in topic.items:
            if item.perspective and item.question:
                expected[guid_for(f"{source.id}/{item.id}/perspective")] = {WHICH}
        for term in topic.terms:
            expected[guid_for(f"{source.id}/{term.id}/definition")] = TERM_DIRECTIONS[term.ask]
    assert by_guid == expected and expected


SIDE, WHICH = "Side from perspective", "Perspective from statement"
TERM_DIRECTIONS = {"both": {SIDE, WHICH}, "definition": {SIDE}, "term": {WHICH}}


def test_anki_finds_no_empty_cards(imported):
    col, report, logs, cards = imported
    assert list(col.get_empty_cards().notes) == []


def test_every_essay_heading_is_stated_and_every_asked_one_reaches_a_card(imported):
    """The source states the whole essay; a card shows every heading of what it asks."""
    col, report, logs, cards = imported
    source = load_source(str(BUNDLED_SOURCE))
    stated = set()
    asked = set()
    groups = {note.item_id for note in build_notes(source)}
    for topic in source.topics:
        stated |= {topic.name, topic.heading or "", *(heading for _, heading in topic.headings)}
        if any(item.id in groups for item in topic.items) or topic.comparisons:
            asked |= {topic.heading or "", *(heading for _, heading in topic.headings)}
        for item in topic.items:
            if item.title:
                stated.add(item.title.plain)
                if item.id in groups:
                    asked.add(item.title.plain)
    assert [heading for heading in ESSAY_HEADINGS if heading not in stated] == []
    seen = " \n ".join(f"{c.question_text} \n {c.answer_text}" for c in cards)
    shown = [heading for heading in ESSAY_HEADINGS if heading in seen]
    assert [heading for heading in ESSAY_HEADINGS if heading in asked and heading not in shown] == []
    assert len(shown) >= len(ESSAY_HEADINGS) // 2


def test_every_sentence_of_the_essay_reaches_a_card(imported):
    """Nothing the essay says disappears: each sentence is on some card, front or back.

    The source restates a few sentences (a cloze sentence names what "That" is), so a
    sentence counts as on a card when one card holds four in five of its words.
    """
    col, report, logs, cards = imported
    texts = [_content_words(card.question_text + " " + card.answer_text) for card in cards]
    essay = (ROOT / "tests" / "sources" / "essay.md").read_text(encoding="utf-8")
    missing = []
    for line in essay.splitlines():
        for sentence in re.split(r"(?<=[.!?])\s+", line.strip().lstrip("#*- ")):
            words = _content_words(sentence)
            if len(words) >= 2 and max(len(words & text) / len(words) for text in texts) < 0.8:
                missing.append(sentence)
    assert missing == []


def test_an_edit_updates_the_same_note_in_place(source_copy, tmp_path):
    strengths = next(source_copy.glob("*strengths.yaml"))
    text = strengths.read_text(encoding="utf-8")
    assert "monumental expansion" in text
    first = build(BuildConfig(str(source_copy), str(tmp_path / "v1"), timestamp=BUILD_TIME))
    strengths.write_text(text.replace("monumental expansion", "vast expansion"), encoding="utf-8")
    second = build(BuildConfig(str(source_copy), str(tmp_path / "v2"), timestamp=BUILD_TIME + 60))
    col = open_collection(tmp_path / "col")
    try:
        path = next(f.path for f in first.files if Path(f.path).stem == "strengths")
        import_package(col, Path(path))
        before = {c.note_id: c for c in rendered_cards(col)}
        edited = [nid for nid, c in before.items() if "monumental expansion" in c.answer_text]
        assert edited
        log = import_package(col, Path(path.replace("v1", "v2")))
        after = {c.note_id: c for c in rendered_cards(col)}
        strengths_notes = next(f.notes for f in second.files if Path(f.path).stem == "strengths")
        assert set(after) == set(before) and col.note_count() == strengths_notes
        assert not log.new
        assert set(edited) <= {int(n.id.nid) for n in log.updated}
        for nid in edited:
            assert "vast expansion" in after[nid].answer_text
    finally:
        col.close()


# --- what a student meets: measured on Anki's rendering, not on deckgen's ---------------

_FUNCTION_WORDS = frozenset(
    "a an and are as at be by for from in is it its of on or that the their this to we with you your".split()
)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:['’-][a-z0-9]+)*", text.lower())


def _content_words(text: str) -> set[str]:
    return {w for w in _words(text) if w not in _FUNCTION_WORDS} or set(_words(text))


def test_every_front_fits_a_phone_and_asks_one_short_fact(imported):
    col, report, logs, cards = imported
    long_fronts = [c.question_text for c in cards if len(c.question_text.split()) > 40]
    assert long_fronts == []
    clozes = [asked_fact(c) for c in cards if c.note_type == "deckgen Cloze"]
    assert clozes and [fact for fact in clozes if len(fact.split()) > 8] == []


def test_at_most_two_percent_of_cards_show_their_answer_on_the_front(imported):
    col, report, logs, cards = imported
    leaks = []
    for card in cards:
        fact = asked_fact(card).split(": ", 1)[-1] if card.note_type != "deckgen Cloze" else asked_fact(card)
        asked = _content_words(fact)
        front = set(_words(card.question_text.replace("[...]", " ")))
        if len(asked & front) * 2 >= len(asked):
            leaks.append((card.question_text, fact))
    assert len(leaks) <= 0.02 * len(cards), leaks


def test_no_front_asks_for_two_different_answers(imported):
    col, report, logs, cards = imported
    answers: dict[str, set[str]] = {}
    for card in cards:
        answers.setdefault(card.question_text.casefold(), set()).add(asked_fact(card).casefold())
    assert {front: found for front, found in answers.items() if len(found) > 1} == {}


def test_one_items_cards_never_come_up_back_to_back(imported):
    """Anki's own new-card queue, every deck at once: neighbours ask about different items."""
    col, report, logs, cards = imported
    source = load_source(str(BUNDLED_SOURCE))
    group = {note.guid: note.item_id for note in build_notes(source)}
    for config in col.decks.all_config():
        config["new"]["perDay"] = 9999
        col.decks.update_config(config)
    col.decks.select(col.decks.id_for_name(source.deck))
    queue = col.sched.get_queued_cards(fetch_limit=5000).cards
    assert len(queue) == len(cards)
    order = [group[col.get_note(col.get_card(q.card.id).nid).guid] for q in queue]
    neighbours = [(a, b) for a, b in zip(order, order[1:], strict=False) if a == b]
    assert neighbours == []


def test_check_database_changes_nothing_a_student_sees_in_the_bundled_decks(bundled_build, tmp_path):
    """Tools > Check Database, as a student may run it after importing: no card added or lost, none moved to
    Default, no note left without a card, and every card renders as it did."""
    _, report = bundled_build
    col = open_collection(tmp_path / "collection")
    try:
        for deck_file in report.files:
            import_package(col, Path(deck_file.path))
        before = [(c.guid, c.template, c.deck, c.question, c.answer) for c in rendered_cards(col)]
        col.fix_integrity()
        after = [(c.guid, c.template, c.deck, c.question, c.answer) for c in rendered_cards(col)]
        assert sorted(after) == sorted(before) and len(after) == report.cards
        assert col.find_cards('"deck:Default"') == [] and col.note_count() == report.notes
        assert col.db.scalar("select count() from notes where id not in (select nid from cards)") == 0
    finally:
        col.close()
