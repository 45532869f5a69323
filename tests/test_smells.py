"""Card smells: located warnings from `check`, `plan` and `build`; errors with --strict."""

from __future__ import annotations

import shutil

from click.testing import CliRunner

from generator.cli import main

from .support import BUNDLED_SOURCE, ROOT

SMELLY = ROOT / "tests" / "sources" / "smelly"

# One line per smell of tests/sources/smelly, as `deckgen check` prints it.
EXPECTED = [
    "basics.yaml:6: leak/term/explanation/green-tea: warning: another card's front (SRC/basics.yaml:27, pair/term/explanation/black) "
    "shows 'green tea': whoever meets that card first reads the answer; "
    "reword one of the two",
    "basics.yaml:6: leak/term/explanation/green-tea: warning: the front already shows 2 of the 2 words asked "
    "(green, tea): it can be answered by reading; "
    "ask words the front does not show, or reword what shows them",
    "basics.yaml:9: long/term/explanation/hand: warning: the front has 49 words; a phone screen holds about 40: "
    "show less of the item",
    "basics.yaml:15: big/term/explanation/a-drink-made-by-pouring-hot-water-over-cured-leaves: warning: the cloze "
    "hides 10 words; hide at most 8: the few words that carry the fact",
    "basics.yaml:15: big/term/explanation/a-drink-made-by-pouring-hot-water-over-cured-leaves: warning: the front "
    "says only a subject and the blank ('Tea is [...].'): many answers fit it; write into the sentence what the "
    "answer means or does, or ask a term of a sentence that says more",
    "basics.yaml:17: named/perspective: warning: another card's front (SRC/basics.yaml:17, named/term/explanation/ritual) "
    "shows the perspective beside its cue: whoever meets that card first reads the answer; "
    "reword one of the two",
    "basics.yaml:17: named/perspective: warning: the front of a which-perspective card shows 'tea', which names "
    "a perspective: give the item a 'cue' that does not",
    "basics.yaml:21: brew-a/term/explanation/boiling: warning: the same front as brew-b/term/explanation/hot "
    "(SRC/basics.yaml:24) asks for another answer ('boiling' here, 'hot' there): "
    "give one a title, cue or question that tells the two apart",
    "basics.yaml:24: brew-b/term/explanation/hot: warning: the same front as brew-a/term/explanation/boiling "
    "(SRC/basics.yaml:21) asks for another answer ('hot' here, 'boiling' there): "
    "give one a title, cue or question that tells the two apart",
    "basics.yaml:27: pair/term/explanation/black: warning: the front shows 'green', which "
    "pair/term/explanation/green asks for: one card gives another's answer away; "
    "put the two in sentences of their own, or mark only one",
    "basics.yaml:27: pair/term/explanation/green: warning: another card's front (SRC/basics.yaml:6, leak/term/explanation/green-tea) "
    "shows 'green': whoever meets that card first reads the answer; "
    "reword one of the two",
    "basics.yaml:27: pair/term/explanation/green: warning: the front shows 'black', which "
    "pair/term/explanation/black asks for: one card gives another's answer away; "
    "put the two in sentences of their own, or mark only one",
    "basics.yaml:30: caffeine: warning: no side for Mate: the comparison leaves a perspective out; "
    "give every perspective a side",
    "basics.yaml:30: caffeine: warning: the sides of tea and coffee are the same: \"which perspective?\" "
    "would have two right answers; write what differs",
    "basics.yaml:30: caffeine/side/coffee: warning: comes up right after caffeine/side/tea in 'Drinks::Basics': "
    "only 1 comparison or item has cards asked the same way there, too few to keep one comparison's sides apart; "
    "give the topic more comparisons asked this way",
    "basics.yaml:30: caffeine/side/coffee: warning: the same front as caffeine/side/tea (SRC/basics.yaml:30) "
    "asks for another answer ('Coffee' here, 'Tea' there): "
    "give one a title, cue or question that tells the two apart",
    "basics.yaml:30: caffeine/side/tea: warning: the same front as caffeine/side/coffee (SRC/basics.yaml:30) "
    "asks for another answer ('Tea' here, 'Coffee' there): "
    "give one a title, cue or question that tells the two apart",
    "deckgen.yaml:7: perspectives.mate: warning: no item or comparison side belongs to 'Mate': "
    "give it items (perspective: mate) or remove it",
]
# What the small sources below get besides: their items belong to no perspective of DRINKS_CONFIG.
UNUSED_DRINKS = [
    "deckgen.yaml:5: perspectives.tea: warning: no item or comparison side belongs to 'Tea': "
    "give it items (perspective: tea) or remove 'perspectives' (a source may compare nothing)",
    "deckgen.yaml:6: perspectives.coffee: warning: no item or comparison side belongs to 'Coffee': "
    "give it items (perspective: coffee) or remove 'perspectives' (a source may compare nothing)",
]


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def smelly(tmp_path):
    return shutil.copytree(SMELLY, tmp_path / "src")


def located(stderr: str, source) -> list[str]:
    prefix = f"{source}/"
    return [
        line.removeprefix(prefix).replace(f"({source}/", "(SRC/")
        for line in stderr.splitlines()
        if line.startswith(prefix)
    ]


def test_check_prints_every_smell_located_and_still_succeeds(tmp_path):
    source = smelly(tmp_path)
    result = run("check", "--source", str(source))
    assert result.exit_code == 0, result.output
    assert located(result.stderr, source) == EXPECTED
    assert result.stdout.endswith(f"; {len(EXPECTED)} warnings\n")


def test_strict_check_makes_smells_errors(tmp_path):
    source = smelly(tmp_path)
    result = run("check", "--strict", "--source", str(source))
    assert result.exit_code == 1
    assert located(result.stderr, source) == EXPECTED
    assert result.stderr.splitlines()[-1] == f"Error: {len(EXPECTED)} problems found."  # check never writes
    assert "Traceback" not in result.output


def test_build_warns_and_builds_but_strict_build_writes_nothing(tmp_path):
    source = smelly(tmp_path)
    out = tmp_path / "out"
    strict = run("build", "--strict", "--source", str(source), "--out", str(out))
    assert strict.exit_code == 1 and not out.exists()
    assert not (source / "deckgen.lock").exists()
    built = run("build", "--source", str(source), "--out", str(out))
    assert built.exit_code == 0 and (out / "basics.apkg").exists()
    assert located(built.stderr, source) == EXPECTED
    # nothing changed: the cached build still shows the smells, and still refuses under --strict
    again = run("build", "-q", "--source", str(source), "--out", str(out))
    assert located(again.stderr, source) == EXPECTED and "0 added, 0 updated" in again.stdout
    assert run("build", "--strict", "--source", str(source), "--out", str(out)).exit_code == 1


def test_plan_shows_the_smells_too(tmp_path):
    source = smelly(tmp_path)
    result = run("plan", "--source", str(source), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0 and located(result.stderr, source) == EXPECTED


def test_fixing_the_content_silences_the_smell(tmp_path):
    source = smelly(tmp_path)
    topic = source / "basics.yaml"
    topic.write_text(topic.read_text(encoding="utf-8").replace("Tea is {{green}} or {{black}}.", "Tea is {{green}} or black."))
    lines = located(run("check", "--source", str(source)).stderr, source)
    # gone: the two sibling warnings, and the black card's front that showed "green tea";
    # kept: the leak card's front still shows green's answer
    assert [line for line in lines if line.split(": ")[1].startswith("pair/")] == [
        line for line in EXPECTED if line.startswith("basics.yaml:27: pair/term/explanation/green: warning: another")
    ]
    assert len(lines) == len(EXPECTED) - 3


def test_a_note_in_two_recipe_decks_is_reported_with_the_deck_that_keeps_it(tmp_path):
    source = shutil.copytree(BUNDLED_SOURCE, tmp_path / "cards_source")
    recipe = tmp_path / "course.yaml"
    recipe.write_text(
        "source: cards_source\n"
        "decks:\n"
        "  - name: Week 1\n"
        "    topics: [foundations, strengths]\n"
        "  - name: Week 2\n"
        "    topics: [strengths]\n",
        encoding="utf-8",
    )
    result = run("build", "--recipe", str(recipe), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    from generator.pipeline.pipeline import check

    _, notes = check(str(source))
    shared = sum(1 for note in notes if note.topic == "strengths")
    assert f"{recipe}:5: decks[1]: warning: {shared} notes are also in 'Week 1': a student who imports both " \
        "gets each once, in the deck imported first ('Week 1' if imported in the recipe's order)" in result.stderr
    assert run("build", "--strict", "--recipe", str(recipe), "--out", str(tmp_path / "strict")).exit_code == 1
    assert not (tmp_path / "strict").exists()


def test_the_bundled_source_passes_strict_check():
    result = run("check", "--strict", "--source", str(BUNDLED_SOURCE))
    assert result.exit_code == 0, result.output
    assert "warning" not in result.output


def test_an_item_alone_in_its_deck_cannot_be_kept_apart(tmp_path):
    from .support import write_source

    source = write_source(tmp_path / "src", (
        "topic: basics\nname: Basics\nitems:\n"
        "  - id: origin\n    explanation: Tea comes from {{China}}. Tea is drunk with {{milk}}.\n"
    ))
    result = run("check", "--source", str(source))
    assert located(result.stderr, source) == [
        "basics.yaml:4: origin/term/explanation/milk: warning: comes up right after origin/term/explanation/china "
        "in 'Drinks::Basics': only 1 item has cards asked the same way there, too few to keep one item's cards apart; "
        "split the item in two, give the deck more items, or mark fewer facts here",
        *UNUSED_DRINKS,
    ]


def test_a_leak_names_the_words_as_written_and_the_context_line_that_shows_them(tmp_path):
    from .support import write_source

    source = write_source(tmp_path / "src", (
        "topic: basics\nname: Basics\nheading: Offices and their plans\nitems:\n"
        "  - id: plans\n    explanation: Many firms moved to open {{offices}} in the 1990s.\n"
    ))
    result = run("check", "--source", str(source))
    assert located(result.stderr, source) == [
        "basics.yaml:5: plans/term/explanation/offices: warning: the front already shows 1 of the 1 words asked "
        "(offices; the context line \"Offices and their plans\" shows office): it can be answered by reading; "
    "ask words the front does not show, or reword what shows them",
        *UNUSED_DRINKS,
    ]


def test_a_recipe_deck_that_selects_nothing_is_a_warning(tmp_path):
    """The command line refuses a selection of nothing; a recipe's deck of nothing is at least said (a review's finding)."""
    shutil.copytree(BUNDLED_SOURCE, tmp_path / "cards_source")
    recipe = tmp_path / "course.yaml"
    recipe.write_text(
        "source: cards_source\ndecks:\n  - name: Week 1\n    topics: [foundations]\n"
        "  - name: Week 2\n    tags: [no-such-tag]\n",
        encoding="utf-8",
    )
    result = run("build", "--recipe", str(recipe), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert f"{recipe}:5: decks[1]: warning: deck 'Week 2' selects no note: no package is written for it" in result.stderr
    assert sorted(p.name for p in (tmp_path / "out").glob("*.apkg")) == ["week-1.apkg"]


# --- deck-wide smells: one card answering another --------------------------------------------

CROSS = """\
topic: limits
name: Limits
heading: The Limitations
items:
  - id: lonely
    perspective: tea
    title: Lonely Brewing
    explanation: Brewing alone can feel like {{failure}}.
  - id: choice
    perspective: coffee
    title: Endless Choice
    points:
      failure: "Every {{bad cup}} feels like personal failure"
  - id: polite
    perspective: tea
    explanation: Tea talk, while {{keeping the peace}}, can hide bad news.
  - id: jitters
    perspective: coffee
    title: Jitters
    question: Whose limitation is this?
    points:
      rates: "{{Higher rates}} of jitters among coffee drinkers"
"""


def test_each_deck_wide_smell_fires_located(tmp_path):
    from .support import write_source

    source = write_source(tmp_path / "src", CROSS, extra={"other.yaml": (
        "topic: other\nname: Other\nitems:\n  - id: calm\n    perspective: tea\n"
        "    title: Keeping the Peace\n    explanation: Tea {{calms}}.\n"
    )})
    result = run("check", "--source", str(source))
    lines = located(result.stderr, source)
    assert (
        "basics.yaml:5: lonely/term/explanation/failure: warning: another card's front "
        "(SRC/basics.yaml:13, choice/point/failure) shows 'failure': whoever meets that card first reads the answer; "
        "reword one of the two"
    ) in lines
    assert (
        "basics.yaml:14: polite/term: warning: the cloze 'keeping the peace' asks the benefit of a trade-off in a "
        "limitation ('Tea talk, while keeping the peace, can hide bad news.'): ask the cost, which is what the "
        "section teaches"
    ) in lines
    assert (  # a title of another topic's item is a front too
        "basics.yaml:14: polite/term/explanation/keeping-the-peace: warning: another card's front "
        "(SRC/other.yaml:4, calm/title) shows 'keeping the peace': whoever meets that card first reads the answer; "
        "reword one of the two"
    ) in lines
    assert (
        "basics.yaml:17: jitters/perspective: warning: another card's front (SRC/basics.yaml:22, jitters/point/rates) "
        "shows the perspective beside its cue: whoever meets that card first reads the answer; "
        "reword one of the two"
    ) in lines
    assert run("check", "--strict", "--source", str(source)).exit_code == 1


def test_the_source_titles_are_indexed_without_a_front_each():
    """Every worker holds the source's title index: it keeps the source's own items and stems, and makes a title's
    front only when a check reads it (a front per title cost each worker of a 50,000-note build about 2 MB)."""
    from generator.quality.crosscard import _Front, _Titles
    from generator.source.loader import load_source

    source = load_source(str(SMELLY))
    titles = _Titles(source)
    items = [item for topic in source.topics for item in topic.items if item.title]
    assert len(titles.items) == len(items) > 1
    assert all(kept is item for kept, item in zip(titles.items, items, strict=True))
    held = [value for value in vars(titles).values() if isinstance(value, list)]
    assert not any(isinstance(element, _Front) for values in held for element in values)
    last = items[-1]
    assert titles.front(len(items) - 1) == _Front(frozenset(titles.words[-1]), f"{last.id}/title", last.file, last.line)
    assert all(number in titles.index[word] for number, words in enumerate(titles.words) for word in words)
    # Every build process holds every title's stems, and the words' bases a worker has met: tuples, not sets
    stems = [words for topic in source.topics for words in topic.title_stems or ()]
    assert stems and all(type(words) is tuple and list(words) == sorted(set(words)) for words in stems)
    from generator.quality.wording import _bases

    assert type(_bases("fuzzy")) is tuple and sorted(_bases("fuzzy")) == ["fuzzi", "fuzzy"]
    assert sorted(_bases("atypical")) == ["atypical", "typical"]


def test_a_back_that_bolds_another_cards_answer_is_a_smell():
    """No back deckgen writes bolds a key term (markup.marked_html); a note given one by hand is caught."""
    from dataclasses import replace

    from generator.cards.notes import CLOZE_FIELDS, build_notes, with_faces
    from generator.quality.crosscard import deck_smells
    from generator.quality.reading import read_cards
    from generator.quality.smells import perspective_stems
    from generator.source.loader import load_source

    source = load_source(str(SMELLY))
    notes = [n for n in build_notes(source) if n.topic == source.topics[0].id]
    assert not any("<b>" in n.field("Extra") for n in notes if n.note_type == "cloze")
    first, second = [n for n in notes if n.note_type == "cloze"][:2]
    answer = second.field("Text").split("{{c1::")[1].split("}}")[0]
    extra = CLOZE_FIELDS.index("Extra")
    bolded = replace(first, fields=tuple(f"<b>{answer}</b>" if i == extra else f for i, f in enumerate(first.fields)))
    stems = perspective_stems(p.name for p in source.perspectives)
    checked = [bolded, *notes[2:], second]
    found = deck_smells(source, source.topics[0], checked, read_cards(with_faces(checked)), stems)
    assert any(p.where == first.local_key and f"sets {answer!r} in bold" in p.message for p in found)


def test_a_comparison_side_that_restates_its_sections_title_is_a_smell(tmp_path):
    from .support import write_source

    source = write_source(tmp_path / "src", (
        "topic: basics\nname: Basics\nitems:\n"
        "  - id: calm\n    perspective: tea\n    title: Calm Focus\n    explanation: Tea has {{L-theanine}}.\n"
        "  - id: kick\n    perspective: coffee\n    title: A Quick Kick\n    explanation: Coffee has more {{caffeine}}.\n"
        "comparisons:\n  - id: gains\n    dimension: What each gains\n    ask: side\n"
        "    from:\n      tea: calm\n      coffee: kick\n"
        "    sides:\n      tea: Calm focus\n      coffee: Alertness within minutes\n"
    ))
    lines = located(run("check", "--source", str(source)).stderr, source)
    assert (
        "basics.yaml:13: gains/side/tea: warning: the side 'Calm focus' restates the title of its section 'calm' "
        "('Calm Focus'), which that section's cards show on their fronts: ask what the title does not say"
    ) in lines
    assert not any("gains/side/coffee" in line and "restates" in line for line in lines)


def test_a_fronts_html_entity_is_read_as_its_character_not_as_a_word(tmp_path):
    """ "R&D" is written "R&amp;D" in a field: a student reads "&", so the front shows no word "amp" to answer by."""
    from .support import write_source

    source = write_source(tmp_path / "src", (
        "topic: basics\nname: Basics\nitems:\n"
        "  - id: labs\n    perspective: tea\n    title: Labs\n    explanation: Firms fund R&D to find {{new products}}.\n"
        "  - id: gear\n    perspective: coffee\n    title: Gear\n    explanation: A guitar needs an {{amp}} to be heard.\n"
    ))
    lines = located(run("check", "--source", str(source)).stderr, source)
    assert not any("shows 'amp'" in line for line in lines), lines


def test_a_word_of_every_perspectives_name_is_no_leak(tmp_path):
    """ "Remote work: … Work calls": "work" is in every perspective's name, so it tells no answer from another."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "deckgen.yaml").write_text(
        'id: work\ntitle: "Work"\ndeck: Work\nperspectives:\n  remote: Remote work\n  office: Office work\n', encoding="utf-8"
    )
    (source / "basics.yaml").write_text(
        "topic: basics\nname: Basics\ncomparisons:\n  - id: meetings\n    dimension: Meetings\n    ask: side\n"
        "    sides:\n      remote: Work calls\n      office: Desk talks\n",
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert result.exit_code == 0, result.output
    assert "already shows" not in result.output
    # The same card with a word no other perspective's name has is a leak, as before.
    (source / "basics.yaml").write_text(
        (source / "basics.yaml").read_text(encoding="utf-8").replace("Work calls", "Remote calls"), encoding="utf-8"
    )
    assert "the front already shows 1 of the 2 words asked (remote)" in CliRunner().invoke(
        main, ["check", "--source", str(source)]
    ).output


def test_a_smell_is_a_problem_of_severity_warning_printed_as_before():
    from generator.errors import Problem

    assert str(Problem("a.yaml", 3, "x/title", "the front is long", "warning")) == (
        "a.yaml:3: x/title: warning: the front is long"
    )
    assert str(Problem("a.yaml", 3, "", "bad")) == "a.yaml:3: bad"


# --- the checks read each front as Anki shows it -----------------------------------------


def _built(tmp_path, name, source):
    from generator.pipeline.config import BuildConfig
    from generator.pipeline.pipeline import build

    return build(BuildConfig(str(source), str(tmp_path / name), lock_path=str(tmp_path / f"{name}.lock")))


def test_every_front_the_checks_read_is_the_front_anki_renders(tmp_path):
    """The smells read a card's front from its note's fields (its kind's faces), not by rendering it: Anki's own
    rendering of every card of three sources (the essay, a comparison source, a drafted chapter) holds them alike."""
    from generator.cards.kinds import KINDS
    from generator.quality.reading import plain

    from .ankitools import import_package, open_collection, rendered_cards

    drafted = tmp_path / "chapter"
    assert run("draft", str(ROOT / "tests" / "sources" / "chapter.md"), "--out", str(drafted)).exit_code == 0
    sources = {"essay": BUNDLED_SOURCE, "schools": ROOT / "tests" / "sources" / "schools", "chapter": drafted}
    col = open_collection(tmp_path / "anki")
    fields = {}
    for name, source in sources.items():
        for deck_file in _built(tmp_path, name, source).files:
            import_package(col, deck_file.path)
    for note_id in col.find_notes(""):
        note = col.get_note(note_id)
        fields[note.guid] = (note.note_type()["name"], tuple(note.fields))
    kinds = {kind.note_type_name: kind for kind in KINDS.values()}
    cards = rendered_cards(col)
    assert len(cards) > 120 and {card.note_type for card in cards} == set(kinds)
    for card in cards:
        note_type, values = fields[card.guid]
        kind = kinds[note_type]
        ordinal = next(index for index, template in enumerate(kind.templates) if template.name == card.template)
        face = next(face for face in kind.faces(values) if face.ordinal == ordinal)
        shown = " ".join(card.question_text.replace("[...]", " ").split())
        assert plain(face.front) == shown, card


def _drinks_comparison(tmp_path, sides: str, ask: str = ""):
    from .support import write_source

    return write_source(tmp_path / "src", (
        "topic: basics\nname: Basics\ncomparisons:\n"
        f"  - id: grown\n    dimension: Where it grows\n{ask}    sides:\n{sides}"
    ))


def test_a_side_that_names_a_perspective_is_told_to_reword_the_side_not_to_give_a_cue(tmp_path):
    # A comparison's side has no 'cue' to give: the way out is other words, or not asking "which perspective?".
    source = _drinks_comparison(tmp_path, "      tea: On tea bushes in the hills\n      coffee: In the tropics\n")
    lines = located(run("check", "--source", str(source)).stderr, source)
    assert "basics.yaml:4: grown/side/tea: warning: the front of a which-perspective card shows 'tea', which names a " \
        "perspective: reword the side, or ask it only from its perspective ('ask: side')" in lines
    assert not [line for line in lines if "'cue'" in line]


def test_two_sides_alike_are_a_smell_only_where_which_perspective_is_asked(tmp_path):
    sides = "      tea: On hillside farms\n      coffee: On hillside farms\n"
    same = "the sides of tea and coffee are the same"
    asked_both = located(run("check", "--source", str(_drinks_comparison(tmp_path / "a", sides))).stderr, "")
    assert any(same in line for line in asked_both)
    side_only = _drinks_comparison(tmp_path / "b", sides, ask="    ask: side\n")
    assert not any(same in line for line in run("check", "--source", str(side_only)).stderr.splitlines())


def test_a_glossary_term_is_asked_as_a_term_not_as_a_perspective(tmp_path):
    from .support import write_source

    source = write_source(tmp_path / "src", (
        "topic: basics\nname: Basics\nterms:\n"
        "  - id: steeping\n    term: Steeping\n    definition: Leaving tea leaves in hot water so they give off flavour.\n"
        "  - id: crema\n    term: Crema\n    definition: The crema is the foam of oils on top of an espresso.\n"
    ))
    lines = located(run("check", "--source", str(source)).stderr, source)
    # A definition may name a perspective ("tea"): the card asks which term, not which perspective.
    assert not [line for line in lines if "steeping/" in line]
    # A definition that shows its own term answers the card.
    assert "basics.yaml:7: crema/definition: warning: the front already shows 1 of the 1 words asked (crema): " \
        "it can be answered by reading; ask words the front does not show, or reword what shows them" in lines
