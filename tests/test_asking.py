"""Which marks a draft keeps (generator/authoring/asking.py): those whose cards pass the smells, with an antecedent."""

from __future__ import annotations

import re

from click.testing import CliRunner

from generator.authoring.draft import draft_source
from generator.cli import main
from generator.pipeline.pipeline import check_cards
from generator.source.loader import load_source


def _draft(tmp_path, body: str, strict: bool = True):
    """The source drafted from a chapter of one ``##`` section holding *body*; it passes ``check`` (``--strict``)."""
    tmp_path.mkdir(parents=True, exist_ok=True)
    text = tmp_path / "chapter.md"
    text.write_text(f"# Concepts\n\n## Categories\n\n{body}\n", encoding="utf-8")
    draft_source(str(text), str(tmp_path / "src"))
    checked = CliRunner().invoke(main, ["check", *["--strict"] * strict, "--source", str(tmp_path / "src")])
    assert checked.exit_code == 0, checked.output
    return load_source(str(tmp_path / "src"))


def _fronts(tmp_path) -> list[str]:
    from generator.anki.render import preview_cards

    notes = check_cards(str(tmp_path / "src")).notes
    return [" ".join(card.front.split()) for card in preview_cards(notes, backs=False)]


def test_a_sentence_pointing_back_carries_the_sentence_before_it_on_its_front(tmp_path):
    _draft(tmp_path, "People prefer one name for a thing. This preference is called the **basic level**.")
    [front] = [f for f in _fronts(tmp_path) if "[...]" in f]
    assert "People prefer one name for a thing; this preference is called the" in front


def test_a_paragraph_opening_with_a_pointer_joins_the_paragraph_it_points_back_to(tmp_path):
    source = _draft(tmp_path, "People prefer one name for a thing.\n\nIt is called the **basic level**, and it was "
                              "first studied by Rosch.")
    [item] = [i for t in source.topics for i in t.items]
    assert item.explanation.plain == (
        "People prefer one name for a thing; it is called the basic level. It was first studied by Rosch."
    )
    assert item.explanation.terms == ("basic level",)


def test_a_pointer_is_not_joined_to_a_sentence_that_asks_or_to_one_too_long_for_a_phone(tmp_path):
    long = "People " + "really " * 30 + "prefer one name."
    source = _draft(tmp_path, f"{long} This preference is called the **basic level** by Rosch and others.")
    texts = [i.explanation.plain for t in source.topics for i in t.items]
    assert texts == [f"{long} This preference is called the basic level by Rosch and others."]
    # (the paragraph is two items, so that its two cards can be kept apart: see the test of that below)
    source = _draft(tmp_path / "2", "A **cluster** is a set of things. It is called a **kind** by some.")
    texts = [i.explanation.plain for t in source.topics for i in t.items]
    assert " ".join(texts) == "A cluster is a set of things. It is called a kind by some."


def test_a_term_whose_sentence_says_only_a_subject_is_left_unasked(tmp_path):
    source = _draft(tmp_path, "Traditionally, it has been assumed that categories are the **classical view**.")
    assert [i.explanation.terms for t in source.topics for i in t.items] == [()]
    assert "# not asked: 'classical view'" in (tmp_path / "src" / "01-categories.yaml").read_text(encoding="utf-8")


def test_a_term_the_title_paraphrases_is_left_unasked_and_a_named_kind_stays_as_a_cue(tmp_path):
    source = _draft(tmp_path, "### Typicality\n\nPenguins are very *atypical* (meaning not typical) birds.\n\n"
                              "### Theories\n\nThe first is called the *prototype theory*: a summary of the category.")
    terms = {i.title.plain: i.explanation.terms for t in source.topics for i in t.items}
    assert terms == {"Typicality": (), "Theories": ("prototype",)}


def test_a_term_named_in_plain_words_is_asked_where_its_paragraph_marks_none(tmp_path):
    source = _draft(tmp_path, "There is usually one we prefer, called the basic rank, which sits in the "
                              "middle.\n\nThe committee called for a vote, and it was held.\n\n"
                              "The **prototype** is the best member, also known as the centre.")
    terms = [i.explanation.terms for t in source.topics for i in t.items]
    # "called for" names nothing; a paragraph with its own emphasis keeps the author's choice, not "centre"
    assert terms == [("basic rank",), (), ("prototype",)]


def test_a_bare_subject_and_term_carries_the_next_sentence_saying_what_it_means(tmp_path):
    source = _draft(tmp_path, "Traditionally, it has been assumed that categories are *clear-cut*. This means "
                              "that you can say what is in and out. Such a rule has two parts.")
    [item] = [i for t in source.topics for i in t.items]
    assert item.explanation.terms == ("clear-cut",)
    assert "categories are clear-cut; this means that you can say what is in and out. Such" in (
        item.explanation.plain
    )


def test_a_term_the_rest_of_its_sentence_echoes_is_left_unasked(tmp_path):
    source = _draft(tmp_path, "Traditionally, it has been assumed that categories are *well-defined*. This means "
                              "that you can give a definition of what is in and out. Such a definition has two parts.")
    [item] = [i for t in source.topics for i in t.items]
    assert item.explanation.terms == ()  # "[...]; you can give a definition" reads "defined" off the front


def test_a_bare_subject_and_term_is_left_unasked_when_no_sentence_says_what_it_means(tmp_path):
    source = _draft(tmp_path, "Traditionally, it has been assumed that categories are *well-defined*. Such a "
                              "definition has two parts.")
    assert [i.explanation.terms for t in source.topics for i in t.items] == [()]


# --- across the deck: one card a fact, no card answering another --------------------------------------

_GLOSSARY = "\n\n## Vocabulary\n\n### Schema\nAn organised unit of knowledge about a kind of thing or event.\n"


def _asked(source) -> list[str]:
    return [term for t in source.topics for i in t.items for m in (i.explanation,) if m for term in m.terms]


def test_a_term_the_glossary_defines_is_asked_by_its_term_card_not_by_a_cloze_too(tmp_path):
    body = ("People prefer one level, called the **basic level of categorization**. A script is called a "
            "**routine** here." + _GLOSSARY + "### Basic-level category\nThe preferred, middle level of naming.\n")
    source = _draft(tmp_path, body)
    # in other words and forms ("categorization", "category"), still the glossary's term, which its card asks
    assert _asked(source) == ["routine"]
    assert [term.term for t in source.topics for term in t.terms] == ["Schema", "Basic-level category"]
    yaml_text = (tmp_path / "src" / "01-categories.yaml").read_text()
    assert "# not asked: 'basic level of categorization' (a term card asks it" in yaml_text


def test_an_answer_another_cards_front_shows_is_not_asked(tmp_path):
    source = _draft(tmp_path, "People store the *prototype*, a summary of the category. Others keep a "
                              "summary, the typical member or prototype, known as the *central tendency*.")
    # the second front shows "prototype": whoever meets it first reads the first card's answer
    assert _asked(source) == ["central tendency"]


def test_a_definition_that_shows_its_term_asks_only_from_the_term(tmp_path):
    source = _draft(tmp_path, "Birds differ." + _GLOSSARY + "### Typicality\nHow typical a member is of its "
                    "category.\n")
    asks = {term.term: term.ask for t in source.topics for term in t.terms}
    assert asks == {"Schema": "definition", "Typicality": "definition"}
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted((tmp_path / "src").glob("*.yaml")))
    # Schema may be asked both ways (the author decides); "How typical …: which term?" would read Typicality off
    assert text.count("# DECIDE: 'both' also asks the term") == 1
    assert text.count("# the definition shows the term: it cannot ask for it") == 1


def test_an_item_holding_most_of_a_topics_clozes_is_split_so_its_cards_can_be_kept_apart(tmp_path):
    source = _draft(tmp_path, "A definition gives the *necessary features* of a category: what all members "
                              "have. A definition also gives *sufficient features*: what makes a member. Philosophers call "
                              "the pair a *classical definition*, a list that fixes membership. Few categories have one.")
    items = [i for t in source.topics for i in t.items]
    assert [_asked_in(i) for i in items] == [["necessary features"], ["sufficient features", "classical definition"]]
    assert items[1].id == "categories-intro-2" and items[1].explanation.plain.endswith("Few categories have one.")


def _asked_in(item) -> list[str]:
    return list(item.explanation.terms) if item.explanation else []


def test_a_step_of_what_the_sentence_before_named_carries_that_sentence(tmp_path):
    _draft(tmp_path, "Such a definition has two parts. First, it provides the *necessary features* for "
                     "membership: what must members have?")
    [front] = [re.sub(r"<[^>]+>", "", f) for f in _fronts(tmp_path) if "[...]" in f]
    assert "Such a definition has two parts; first, it provides the [...] for membership" in front


def test_a_drafted_source_has_short_backs(tmp_path):
    _draft(tmp_path, "Birds fly.")
    assert "\nbacks: short\n" in (tmp_path / "src" / "deckgen.yaml").read_text()
