"""Which marks a draft keeps (generator/authoring/asking.py): those whose cards pass the smells, with an antecedent."""

from __future__ import annotations

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
    # two cards of one paragraph come up back to back in a deck of one item: a warning, not this test's
    source = _draft(tmp_path / "2", "A **cluster** is a set of things. It is called a **kind** by some.", strict=False)
    texts = [i.explanation.plain for t in source.topics for i in t.items]
    assert texts == ["A cluster is a set of things. It is called a kind by some."]


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
    source = _draft(tmp_path, "Traditionally, it has been assumed that categories are *well-defined*. This means "
                              "that you can give a definition of what is in and out. Such a definition has two parts.")
    [item] = [i for t in source.topics for i in t.items]
    assert item.explanation.terms == ("well-defined",)
    assert "categories are well-defined; this means that you can give a definition of what is in and out. Such" in (
        item.explanation.plain
    )


def test_a_bare_subject_and_term_is_left_unasked_when_no_sentence_says_what_it_means(tmp_path):
    source = _draft(tmp_path, "Traditionally, it has been assumed that categories are *well-defined*. Such a "
                              "definition has two parts.")
    assert [i.explanation.terms for t in source.topics for i in t.items] == [()]
