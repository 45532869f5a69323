"""Smells of a front's wording (generator/quality/wording.py): each fires on a small source, and not on a near miss."""

from __future__ import annotations

import html

import pytest
from click.testing import CliRunner

from generator.authoring.watch import rebuild
from generator.cli import main
from generator.pipeline.pipeline import check_cards

from .support import BUNDLED_SOURCE, write_source

CONCEPTS = """\
id: concepts
title: Concepts
deck: Concepts
"""

WORK = """\
id: work
title: Ways of working
deck: Work
perspectives:
  remote: Remote work
  office: Office work
"""


def _warnings(tmp_path, topic: str, config: str = CONCEPTS) -> list[str]:
    source = write_source(tmp_path / "src", topic, config)
    return [f"{w.where}: {w.message}" for w in check_cards(str(source)).warnings]


def _item(explanation: str, title: str = "") -> str:
    titled = f"    title: {title}\n" if title else ""
    return f"topic: basics\nname: Basics\nitems:\n  - id: one\n{titled}    explanation: {explanation}\n"


# --- a title that paraphrases its cloze ---


@pytest.mark.parametrize(
    ("title", "explanation", "shown"),
    [
        ("Typicality", "Ostriches and penguins are very {{atypical}} birds.", "'typicality' for 'atypical'"),
        ("Differentiation", "Basic-level categories are more {{differentiated}} than others.",
         "'differentiation' for 'differentiated'"),
    ],
)
def test_a_title_in_another_form_of_the_asked_word_is_a_paraphrase(tmp_path, title, explanation, shown):
    found = [w for w in _warnings(tmp_path, _item(explanation, title)) if "paraphrases" in w]
    assert len(found) == 1
    assert found[0].startswith("one/term/explanation/")
    assert shown in found[0]
    assert "retitle the item" in found[0]


@pytest.mark.parametrize(
    ("title", "explanation"),
    [
        ("Birds", "Ostriches and penguins are very {{atypical}} birds."),  # the title says nothing of the answer
        ("Representation", "The theory holds a {{presentation}} of the category."),  # a shared ending, not a form
        ("Typicality", "Typicality is {{the goodness of a member}}."),  # another word asked
    ],
)
def test_a_title_that_shares_no_form_of_the_asked_words_is_no_paraphrase(tmp_path, title, explanation):
    assert not [w for w in _warnings(tmp_path, _item(explanation, title)) if "paraphrases" in w]


def test_a_title_showing_the_asked_word_itself_is_the_leak_not_a_paraphrase(tmp_path):
    found = _warnings(tmp_path, _item("Here birds are {{typical}} ones.", "Typical birds"))
    assert [w for w in found if "it can be answered by reading" in w]
    assert not [w for w in found if "paraphrases" in w]


# --- a front that is only a subject and [...] ---


@pytest.mark.parametrize(
    "explanation",
    [
        "Traditionally, it has been assumed that categories are {{well-defined}}.",
        "It is called {{essentialism}}.",
        "Categories are {{fuzzy}}.",
    ],
)
def test_a_front_of_only_a_subject_and_the_blank_is_a_smell(tmp_path, explanation):
    found = [w for w in _warnings(tmp_path, _item(f'"{explanation}"')) if "only a subject" in w]
    assert len(found) == 1
    assert "write into the sentence what the answer means or does" in found[0]


@pytest.mark.parametrize(
    "explanation",
    [
        "Categories are {{fuzzy}}: they have unclear boundaries that shift.",  # the rest says what it is
        "Hampton found that kitchen categories are {{fuzzy}}.",  # a finding, with its own words to go by
        "The strongest individuals are {{deeply connected}}.",  # a claim's subject: which individuals
    ],
)
def test_a_front_that_says_more_than_its_subject_is_no_smell(tmp_path, explanation):
    assert not [w for w in _warnings(tmp_path, _item(f'"{explanation}"')) if "only a subject" in w]


# --- a which-perspective cue that names its perspective's typical setting ---


def _work(cue: str) -> str:
    return f"""\
topic: limits
name: Limits
question: Whose limitation is this?
items:
  - id: open-plan
    perspective: office
    title: Open-Plan Offices
    explanation: Desks share one {{{{large room}}}}.
  - id: home-desk
    perspective: remote
    title: Kitchen Tables
    explanation: Work happens at {{{{home}}}}.
  - id: noise
    perspective: office
    title: Noise
    cue: {cue}
    explanation: Colleagues' calls break {{{{concentration}}}}.
"""


def test_a_cue_using_a_word_of_its_perspectives_own_headings_names_its_setting(tmp_path):
    found = [w for w in _warnings(tmp_path, _work("Open-plan noise breaks concentration"), WORK) if "headings" in w]
    assert len(found) == 1
    assert found[0].startswith("noise/perspective: the cue shares 'open-plan' with 'Office work'")
    assert "give the item a 'cue' that says what happens in other words" in found[0]


@pytest.mark.parametrize(
    "cue",
    [
        "Colleagues' calls break concentration",  # no word of a heading
        "Noise at home and at the desk",  # 'home' is said of remote work too: it tells nothing apart
    ],
)
def test_a_cue_in_words_no_heading_of_its_own_uses_alone_names_no_setting(tmp_path, cue):
    assert not [w for w in _warnings(tmp_path, _work(cue), WORK) if "headings" in w]


# --- where the three show ---


def test_each_wording_smell_is_a_located_warning_an_error_under_strict_and_on_its_card(tmp_path):
    topic = _work("Open-plan noise breaks concentration").replace(
        "items:\n",
        "items:\n  - id: fuzzy\n    title: Fuzziness\n    explanation: Categories are {{fuzzy}}.\n", 1,
    )
    source = write_source(tmp_path / "src", topic, WORK)
    plain = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert plain.exit_code == 0
    located = [line for line in plain.stderr.splitlines() if line.startswith(f"{source}/basics.yaml:")]
    assert any(":5: fuzzy/term/explanation/fuzzy: warning: the title or context line paraphrases" in x for x in located)
    assert any(":5: fuzzy/term/explanation/fuzzy: warning: the front says only a subject" in x for x in located)
    assert any(": noise/perspective: warning: the cue shares 'open-plan'" in x for x in located)
    strict = CliRunner().invoke(main, ["check", "--strict", "--source", str(source)])
    assert strict.exit_code == 1
    page = rebuild(str(source), str(tmp_path / "out")).page or ""
    notes = {note.local_key: note.guid for note in check_cards(str(source)).notes}
    for warning in check_cards(str(source)).warnings:
        if warning.where in ("fuzzy/term/explanation/fuzzy", "noise/perspective"):
            card = page[page.index(f'data-guid="{html.escape(notes[warning.where])}"'):]
            assert html.escape(warning.message) in card[: card.index("</article>")]


def test_the_bundled_source_has_none_of_these_smells():
    messages = [w.message for w in check_cards(str(BUNDLED_SOURCE)).warnings]
    assert not [m for m in messages if "paraphrases" in m or "only a subject" in m or "own headings" in m]


# --- advice the author can follow ---


@pytest.mark.parametrize(
    ("used", "advice"),
    [
        (("tea", "coffee"), "or remove it"),  # two perspectives stay
        (("tea",), "or remove 'perspectives' and the items' 'perspective' keys (a source may compare nothing)"),
    ],
)
def test_an_unused_perspective_is_told_a_removal_that_leaves_a_valid_source(tmp_path, used, advice):
    config = "id: drinks\ntitle: Drinks\ndeck: Drinks\nperspectives:\n  tea: Tea\n  coffee: Coffee\n  mate: Mate\n"
    items = "".join(
        f"  - id: {pid}-item\n    perspective: {pid}\n    explanation: It is {{{{{pid} leaf}}}} here.\n" for pid in used
    )
    found = [w for w in _warnings(tmp_path, f"topic: basics\nname: Basics\nitems:\n{items}", config)
             if w.startswith("perspectives.mate")]
    assert len(found) == 1 and found[0].endswith(advice)


def test_each_title_is_read_once_per_topic_and_not_kept_after(monkeypatch):
    """An item's cards share one title and context line: it is read once for all of them, and the reading is
    dropped with the topic (a cache kept across a large build's topics cost each worker megabytes)."""
    from generator.cards.notes import topic_notes, with_faces
    from generator.quality import wording
    from generator.quality.smells import perspective_stems
    from generator.source.loader import load_source

    source = load_source(str(BUNDLED_SOURCE))
    read: list[str] = []
    real = wording._title_words
    monkeypatch.setattr(wording, "_title_words", lambda title: read.append(title) or real(title))
    stems = perspective_stems(p.name for p in source.perspectives)
    asked = 0
    for topic in source.topics:
        before = len(read)
        notes = list(topic_notes(source, topic))
        asked += sum(1 for note in notes if note.note_type == "cloze" and note.part != "title")
        wording.wording_smells(source, with_faces(notes), stems)
        titles = read[before:]
        assert len(titles) == len(set(titles))  # once each in a topic
    assert 10 < len(read) < asked  # the probe saw titles read, fewer than the cards showing them
    cached = [name for name, value in vars(wording).items() if hasattr(value, "cache_info")]
    assert [name for name in cached if getattr(wording, name).__module__ == wording.__name__] == ["_bases"]


# --- a front that opens with a pointer at a sentence it does not show ---


@pytest.mark.parametrize(
    ("explanation", "pointer"),
    [
        ("QUIC runs inside UDP. It encrypts even its headers, so that middleboxes cannot {{ossify}} it.", "It"),
        ("Rosch showed people pictures. They found that most names were at the {{basic level}}.", "They"),
        ("A client may send data at once. This means an attacker can {{replay}} it.", "This"),
        ("A definition has two parts. First, it provides the {{necessary features}}.", "it"),
    ],
)
def test_a_key_terms_sentence_opening_with_a_pointer_it_does_not_show_is_a_smell(tmp_path, explanation, pointer):
    found = [w for w in _warnings(tmp_path, _item(explanation, "Transports")) if "points at a sentence" in w]
    assert len(found) == 1 and found[0].startswith("one/term/explanation/")
    assert f"the front opens with {pointer!r}" in found[0] and "join the two sentences" in found[0]


@pytest.mark.parametrize(
    "explanation",
    [
        "It encrypts even its headers, so that middleboxes cannot {{ossify}} it.",  # the first points at the title
        "Children prefer one name. This preference is called the {{basic level}}.",  # it names what it points at
        "QUIC runs inside UDP; it encrypts even its headers, so that middleboxes cannot {{ossify}} it.",  # one sentence
        "Ships carry goods by the {{tonne}}. It is hard work.",  # the pointer asks nothing
    ],
)
def test_a_pointer_the_front_explains_is_no_smell(tmp_path, explanation):
    assert not [w for w in _warnings(tmp_path, _item(explanation, "QUIC")) if "points at a sentence" in w]
