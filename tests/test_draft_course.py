"""`deckgen draft` on a textbook chapter as instructors have them (tests/sources/chapter.md).

The chapter is Jekyll/kramdown Markdown: YAML front matter, raw HTML blocks
and inline HTML (``<figure>``, ``<cite>``), attribute lists (``{: .lead}``),
citations (``[@key]``, ``(Loftus & Palmer, 1974)``), learning objectives,
a glossary in three forms, references, discussion questions, initials
("H. M.", "F. I. M. Craik"), "Dr." and "e.g.", and a section of 900 words.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from generator.authoring.course import defines
from generator.cards.notes import TERM_QUESTION
from generator.cli import main
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.source.loader import load_source

from .ankitools import import_package, open_collection, rendered_cards
from .support import BUILD_TIME, ROOT, in_a_child

CHAPTER = ROOT / "tests" / "sources" / "chapter.md"
GLOSSARY = {"Decay", "Interference", "Cue", "Encoding"}
MARKUP = re.compile(r"<|>|\{:|\{#|\[@|\[\^|layout|sidebar|memorynav|\.lead|\.chapter-title|figcaption|curve\.png")


@pytest.fixture(scope="module")
def drafted(tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("chapter") / "source"
    result = CliRunner().invoke(main, ["draft", str(CHAPTER), "--out", str(folder)])
    assert result.exit_code == 0, result.output
    out = folder.parent / "out"
    report = build(BuildConfig(str(folder), str(out), timestamp=BUILD_TIME))
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
        "anterograde amnesia", "retrieval failure",
        "encoding specificity principle", "levels of processing", "spacing effect",
        "repression",  # named in plain words: "a process that Sigmund Freud called repression"
    }  # never the examples dax, bap, rif, nor a journal's name; nor "Encoding failure", whose sentence
    # ("… is the failure to store …") shows half its words on the cloze's front; nor "decay" and
    # "interference", which the text defines too but the Vocabulary's term cards ask


def test_every_glossary_term_is_on_a_term_definition_card(drafted):
    _, source, cards = drafted
    assert {term.term for t in source.topics for term in t.terms} == GLOSSARY
    for term in GLOSSARY:
        assert any(f"What is {term}" in card.question_text for card in cards), term
    # One direction only, as drafted: the reverse card's front is this card's answer (and the other way round),
    # so the instructor opts into both (a DECIDE comment says how).
    assert not any(TERM_QUESTION in card.question_text for card in cards)


def test_the_reverse_direction_of_a_drafted_term_is_one_edit_away(drafted):
    folder, _, _ = drafted
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(Path(folder).glob("*.yaml")))
    assert text.count("ask: definition  # DECIDE: 'both' also asks the term") == len(GLOSSARY)


def test_no_sentence_is_cut_at_initials_or_abbreviations(drafted):
    _, _, cards = drafted
    amnesia = next(card for card in cards if "[...]" in card.question_text and "surgery" in card.question_text)
    assert "The patient H. M. lost the ability" in amnesia.question_text
    levels = next(card for card in cards if "[...]" in card.question_text and "processing" in card.answer_text
                  and "known as the" in card.question_text)
    # the sentence pointing back ("This finding") carries the one it points at (the draft joins them)
    assert "for the same time; this finding is known as the [...] effect." in levels.question_text
    for card in cards:
        assert not re.search(r"(^|\s)(H\.|M\.|Dr\.|e\.g\.|et al\.)\s*$", card.question_text), card


@pytest.mark.parametrize(("before", "term", "after"), [
    ("This set of things can be considered a ", "category", ", a set of objects that can be treated as equivalent."),
    ("This is often called the category ", "prototype", ". Items that are less similar"),
    ("This preference is referred to as a preference for the ", "basic level of categorization", ", and it was"),
    ("researchers often say that categories are ", "fuzzy", ", that is, they have unclear boundaries"),
    ("In contrast, ostriches are very ", "atypical", " (meaning not typical)."),
    ("Many important categories fall into ", "hierarchies", ", in which more concrete categories are nested"),
    ("The best account comes from Rosch and Mervis's ", "family resemblance theory", ". They proposed"),
    # near misses of "is/are + one adjective": an article, a relative clause, two words, a definition after
    ("A second explanation is a ", "decay", "."),
    ("A second explanation is ", "interference", ", which holds that memories compete."),
    ("Such categories are ", "natural kinds", "."),
    ("Categories are ", "well-defined", ": you can say what is in and out."),
])
def test_emphasis_that_defines_by_apposition_a_gloss_or_a_named_kind_is_a_term(before, term, after):
    assert defines(before, term, after)


@pytest.mark.parametrize(("before", "term", "after"), [
    ("North Americans are likely to use names like ", "tree", ", fish, and bird to label natural objects."),
    ("You do this ", "even if you have never seen them", ", because you have concepts."),
    ("The significance of ", "summary", " will become apparent."),
    ("items that differed in how many features were shared with a ", "different", " category."),
    ("It is called, after all, a ", "theory", " of nothing."),  # a kind alone names nothing
    # "is"/"are" and one word, no article, nothing defining after: an adjective predicated, no name
    ("Traditionally, it has been assumed that categories are ", "well-defined", "."),
    ("Robins are ", "typical", " birds."),
])
def test_emphasis_that_only_stresses_or_gives_an_example_is_not_a_term(before, term, after):
    assert not defines(before, term, after)


def _draft(tmp_path, text: str, files: dict[str, bytes] | None = None):
    (tmp_path / "text").mkdir()
    for name, data in (files or {}).items():
        (tmp_path / "text" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "text" / name).write_bytes(data)
    (tmp_path / "text" / "chapter.md").write_text(text, encoding="utf-8")
    folder = tmp_path / "source"
    result = CliRunner().invoke(main, ["draft", str(tmp_path / "text" / "chapter.md"), "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(40))
FIGURES = """# Sleep

## Stages

<figure>
  <img src="figs/stages.png" alt="">
  <figcaption>Figure 2. A night's sleep cycles through <em>four stages</em> [3].</figcaption>
</figure>

Deep sleep is called **slow-wave sleep**. It comes early in the night.

<figure><img src="https://example.org/remote.jpg"><figcaption>A sleeper in a laboratory.</figcaption></figure>

Dreams come mostly in a stage called **REM sleep**.

Adapted from Someone, A. (2020). Sleep. Open textbook. {: .small}

## Image credits
1. [CC0](https://example.org)
"""


def test_a_figure_gives_context_and_its_local_image_the_item_image(tmp_path):
    folder = _draft(tmp_path, FIGURES, {"figs/stages.png": PNG})
    assert (folder / "images" / "stages.png").read_bytes() == PNG
    source = load_source(str(folder))
    items = [item for topic in source.topics for item in topic.items]
    figure = next(item for item in items if item.media)
    assert figure.explanation is not None and figure.explanation.plain == "A night's sleep cycles through four stages."
    assert not figure.explanation.terms  # a caption explains a picture: never asked
    remote = next(item for item in items if item.explanation and "laboratory" in item.explanation.plain)
    assert not remote.media and "example.org" not in (folder / "01-stages.yaml").read_text(encoding="utf-8")
    out = tmp_path / "out"
    report = build(BuildConfig(str(folder), str(out), timestamp=BUILD_TIME))
    col = open_collection(tmp_path / "col")
    try:
        for package in report.files:
            import_package(col, Path(package.path))
        cards = rendered_cards(col)
        backs = [card for card in cards if "four stages" in card.answer_text]
        assert backs and all("four stages" not in card.question_text for card in cards)
        assert len(col.media.check().unused) == 0 and any(n.startswith("stages-") for n in os.listdir(col.media.dir()))
    finally:
        col.close()


def test_credits_and_attributions_are_comments_not_cards(tmp_path):
    folder = _draft(tmp_path, FIGURES, {"figs/stages.png": PNG})
    source = load_source(str(folder))
    assert [topic.name for topic in source.topics] == ["Stages"]
    assert "Adapted from" not in " ".join(i.explanation.plain for t in source.topics for i in t.items if i.explanation)
    assert "#   Adapted from Someone" in (folder / "deckgen.yaml").read_text(encoding="utf-8")
    assert "#   Image credits (line" in (folder / "deckgen.yaml").read_text(encoding="utf-8")


def test_a_missing_or_foreign_local_image_is_left_out(tmp_path):
    folder = _draft(tmp_path, FIGURES.replace("figs/stages.png", "../outside.png"), {"outside.png": PNG})
    assert not (folder / "images").exists()
    assert all(not item.media for topic in load_source(str(folder)).topics for item in topic.items)


def test_a_sentence_asks_one_term_and_none_its_front_shows(tmp_path):
    text = ("# Memory\n\n## Sleep and Memory\n\nSleep is the **sleep** stage of rest.\n\n"
            "The first is called **prototype theory** and the second **exemplar model**. Then comes "
            "the **knowledge approach**: concepts fit what we know.\n")
    source = load_source(str(_draft(tmp_path, text)))
    terms = [term for topic in source.topics for item in topic.items if item.explanation
             for term in item.explanation.terms]
    assert terms == ["prototype theory", "knowledge approach"]


REAL_CHAPTER = ROOT / "examples" / "chapters" / "categories-and-concepts.md"


def test_a_real_chapter_drafts_into_a_source_that_passes_check_strict_as_written(tmp_path):
    folder = tmp_path / "source"
    assert CliRunner().invoke(main, ["draft", str(REAL_CHAPTER), "--out", str(folder)]).exit_code == 0
    result = CliRunner().invoke(main, ["check", "--strict", "--source", str(folder)])
    assert result.exit_code == 0, result.output
    source = load_source(str(folder))
    assert {term.term for topic in source.topics for term in topic.terms} == {
        "Basic-level category", "Category", "Concept", "Exemplar", "Psychological essentialism", "Typicality"}
    asked = {term for t in source.topics for i in t.items for m in (i.explanation,) if m for term in m.terms}
    assert {"family resemblance theory", "differentiated", "jointly sufficient", "subordinates"} <= asked
    # the chapter defines these in its text too; the Vocabulary's term cards ask them, a cloze would ask them again
    assert not asked & {"psychological essentialism", "concepts", "category", "basic level of categorization"}
    assert not asked & {"tree", "fish", "bird", "elm", "trout", "finch", "summary", "different"}


@pytest.mark.parametrize(("before", "term", "after", "expected"), [
    # what the term is of or for, then its definition
    ("First, it provides the ", "necessary features", " for category membership: what must members have?", True),
    ("People have a ", "summary representation", " of the category, a mental description of it.", True),
    ("There is evidence that ", "close similarity", " to old items has a large effect.", False),
    # named in parentheses after what it names
    ("with 14 more specific names (", "subordinates", ") used.", True),
    ("as he wrote (", "sic", ") in his notes.", False),  # too short to name anything
    ("some objects (", "the ones on my desk right now", ") are odd.", False),
])
def test_emphasis_defined_after_what_it_is_of_or_named_in_parentheses(before, term, after, expected):
    assert defines(before, term, after) is expected


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_named_pipe_where_a_figure_is_drafts_the_figure_without_an_image(tmp_path):
    (tmp_path / "text" / "figs").mkdir(parents=True)
    (tmp_path / "text" / "chapter.md").write_text(FIGURES, encoding="utf-8")
    os.mkfifo(tmp_path / "text" / "figs" / "stages.png")
    done = in_a_child(tmp_path, "draft", "text/chapter.md", "--out", "source")
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (tmp_path / "source" / "images").exists()
    assert "four stages" in (tmp_path / "source" / "01-stages.yaml").read_text(encoding="utf-8")


def test_a_long_paragraph_keeps_its_far_defining_terms_and_reads_only_around_each(tmp_path, monkeypatch):
    """A paragraph of 600 sentences with an emphasis each: the one defined 20,000 characters in is still a term,
    the stressed ones are not, and each emphasis and each full stop is judged on a bounded stretch around it
    (the whole paragraph before each made drafting a long one quadratic: 2,000 emphases took 12 s)."""
    import generator.authoring.draft as draft_module
    import generator.source.markup as markup

    filler = " ".join(f"Word{i} is *stressed{i}* here, e.g. in case {i}." for i in range(600))
    text = tmp_path / "long.md"
    text.write_text(f"# Long\n\n## Section\n\n{filler} A trace that fades is called **decay**. {filler}\n", "utf-8")
    seen: list[int] = []
    judge, no_end = draft_module.defines, markup._no_end
    monkeypatch.setattr(draft_module, "defines", lambda b, t, a: seen.append(len(b) + len(a)) or judge(b, t, a))
    monkeypatch.setattr(markup, "_no_end", lambda before: seen.append(len(before)) or no_end(before))
    result = CliRunner().invoke(main, ["draft", str(text), "--out", str(tmp_path / "source")])
    assert result.exit_code == 0, result.output
    drafted = "".join(path.read_text("utf-8") for path in (tmp_path / "source").glob("*.yaml"))
    assert "{{decay}}" in drafted and "{{stressed" not in drafted and "stressed599" in drafted
    assert len(seen) > 2400 and max(seen) <= 2 * draft_module._AROUND
