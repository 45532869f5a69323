"""Instructors' custom decks, recipes, CSV export, another subject, `list` and `new`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from anki.collection import ImportCsvRequest
from click.testing import CliRunner

from generator.cards.notes import slug
from generator.cards.selection import Selection, custom_request
from generator.cli import main
from generator.errors import ContentError, DeckgenError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.source.loader import MAX_DECK_NAME_LENGTH, load_source

from .ankitools import import_package, open_collection, rendered_cards
from .support import BUNDLED_SOURCE, ROOT

OTHER_SOURCE = ROOT / "tests" / "sources" / "schools"


@pytest.fixture
def in_project(tmp_path, monkeypatch):
    shutil.copytree(BUNDLED_SOURCE, tmp_path / "cards_source")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def imported_notes(col):
    return {col.get_note(nid).guid: col.get_note(nid) for nid in col.find_notes("")}


def test_selection_and_deck_name(in_project):
    result = invoke(
        "build", "--topic", "strengths", "--perspective", "collectivism", "--kind", "cloze",
        "--deck-name", "Soc 101::Week 3", "--extra-tag", "soc101::week3",
    )
    assert result.exit_code == 0, result.output
    package = in_project / "decks_out" / "soc-101-week-3.apkg"
    assert sorted(p.name for p in (in_project / "decks_out").iterdir()) == [package.name]
    col = open_collection(in_project / "col")
    try:
        log = import_package(col, package)
        notes = {g: (n.note_type()["name"], n.tags) for g, n in imported_notes(col).items()}
        cards = rendered_cards(col)
    finally:
        col.close()
    source = load_source("cards_source")
    strengths = next(t for t in source.topics if t.id == "strengths")
    expected = sum(
        bool(i.title and i.title.terms)
        + sum(bool(p.text.terms) for p in i.points)
        + sum(len({slug(term) for term in t.terms}) for t in (i.explanation, i.conclusion) if t)
        for i in strengths.items if i.perspective == "collectivism"
    )
    assert len(log.new) == len(notes) == expected > 0
    for note_type, tags in notes.values():
        assert note_type == "deckgen Cloze"
        assert "individualism-collectivism::perspective::collectivism" in tags
        assert "individualism-collectivism::topic::strengths" in tags
        assert "soc101::week3" in tags
    assert {c.deck for c in cards} == {"Soc 101::Week 3::3 Strengths::Collectivism"}


def test_the_same_item_in_two_custom_decks_is_one_note(in_project):
    assert invoke("build", "--topic", "strengths", "--deck-name", "Course A").exit_code == 0
    assert invoke("build", "--topic", "strengths", "--kind", "cloze", "--deck-name", "Course B").exit_code == 0
    col = open_collection(in_project / "col")
    try:
        first = import_package(col, in_project / "decks_out" / "course-a.apkg")
        second = import_package(col, in_project / "decks_out" / "course-b.apkg")
        guids = [col.get_note(nid).guid for nid in col.find_notes("")]
        decks = {c.deck.split("::")[0] for c in rendered_cards(col)}
    finally:
        col.close()
    assert len(second.new) == 0 and len(second.duplicate) == second.found_notes > 0
    assert len(guids) == len(set(guids)) == len(first.new)
    assert decks == {"Course A"}  # Anki keeps a note where it first landed


def test_recipe_builds_every_deck(in_project):
    (in_project / "course.yaml").write_text(
        "source: cards_source\n"
        "decks:\n"
        "  - name: Soc 101::Week 1\n"
        "    topics: [foundations]\n"
        "  - name: Soc 101::Week 2\n"
        "    file: week-2\n"
        "    topics: [strengths, limitations]\n"
        "    kinds: [comparison]\n"
        "    extra_tags: [soc101]\n",
        encoding="utf-8",
    )
    result = invoke("build", "--recipe", "course.yaml", "--out", "course_decks")
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (in_project / "course_decks").iterdir()) == ["soc-101-week-1.apkg", "week-2.apkg"]
    col = open_collection(in_project / "col")
    try:
        import_package(col, in_project / "course_decks" / "week-2.apkg")
        notes = [(n.note_type()["name"], n.tags) for n in imported_notes(col).values()]
    finally:
        col.close()
    assert notes and all(kind == "deckgen Comparison" and "soc101" in tags for kind, tags in notes)


@pytest.mark.parametrize(
    "recipe, expected",
    [
        (
            "decks:\n  - name: A\n    topics: [strenghts]\n",
            "course.yaml:3: decks[0].topics: unknown topic 'strenghts' (known: introduction, foundations, strengths, "
            "limitations, lessons, mirrors, integration, practice, bottom-line)",
        ),
        ("decks:\n  - name: A\n    colour: red\n", "course.yaml:3: decks[0]: unknown key 'colour' (expected one of: "
         "name, file, topics, perspectives, kinds, tags, extra_tags)"),
        ("decks:\n  - name: A\n    file: ../evil\n", "course.yaml:3: decks[0].file: '../evil' is not a safe file "
         "name: use lowercase letters, digits, '-' and '_'"),
        ("decks:\n  - name: A\n  - name: A\n", "course.yaml:3: file: two decks write a.* (also line 2); give one a 'file'"),
        ("decks:\n  - name: 'A::::B'\n", "course.yaml:2: decks[0].name: deck name 'A::::B': parts separated by '::' "
         "must be non-empty, without control characters, at most 200 characters"),
        ("decks:\n  - name: A\n    name: B\n", "course.yaml:3: decks[0]: duplicate key 'name' (first given on line 2)"),
        ("decks:\n  - name: no\n", "course.yaml:2: decks[0].name: expected text, found 'no': YAML reads it as "
         "true/false (yes, no, on, off are booleans in YAML 1.1); put it in quotes"),
        ("decks:\n\t- name: A\n", "course.yaml:2: YAML syntax error: found a tab; YAML does not allow tabs for "
         "indentation, use spaces"),
        ("- name: A\n", "course.yaml:1: expected a mapping of keys to values, found a list"),
        ("decks: []\n", "course.yaml:1: decks: is an empty list"),
        ("decks:\n  - name: A\n    kinds: [flashcard]\n", "course.yaml:3: decks[0].kinds: unknown kind "
         "'flashcard' (known: cloze, comparison)"),
        ("decks:\n  - name: A\n    perspectives: [stoicism]\n", "course.yaml:3: decks[0].perspectives: unknown "
         "perspective 'stoicism' (known: individualism, collectivism)"),
        ("decks:\n  - name: &a A\n  - name: *a\n", "course.yaml:2: YAML anchors and aliases (&, *) are not allowed"),
        ("decks:\n  - name: !shout A\n", "course.yaml:2: the YAML tag !shout is not allowed"),
        ("decks:\n  - name: A\n    extra_tags: [a b]\n", "course.yaml:3: decks[0].extra_tags: tag 'a b' may not "
         "contain spaces"),
        ("", "course.yaml:1: the file is empty; expected a mapping of keys to values"),
    ],
)
def test_recipe_errors_are_located(in_project, recipe, expected):
    (in_project / "course.yaml").write_text(recipe, encoding="utf-8")
    result = invoke("build", "--recipe", "course.yaml")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == expected
    assert not (in_project / "decks_out").exists()


def test_selection_errors(in_project):
    result = invoke("build", "--perspective", "stoicism")
    assert result.exit_code == 1
    assert result.stderr == "Error: unknown perspective 'stoicism' (known: individualism, collectivism)\n"
    result = invoke("build", "--tag", "no-such-tag")
    assert result.exit_code == 1
    assert result.stderr == "Error: the selection matches no notes; nothing was written\n"
    assert invoke("build", "--extra-tag", "x").exit_code == 2


def test_tag_selection_matches_children(in_project):
    result = invoke("build", "--tag", "individualism-collectivism::topic", "--deck-name", "All")
    assert result.exit_code == 0
    everything = invoke("list", "--json")
    total = sum(d["notes"] for d in json.loads(everything.output)["decks"])
    assert f"decks_out/all.apkg: {total} notes" in result.output


def test_csv_export_imports_and_reimports_as_updates(in_project, tmp_path):
    result = invoke("build", "--format", "csv")
    assert result.exit_code == 0, result.output
    csv_files = sorted((in_project / "decks_out").glob("*.csv"))
    topics = [t.id for t in load_source("cards_source").topics]
    assert [p.stem for p in csv_files] == sorted(topics)
    assert csv_files[0].read_text(encoding="utf-8").splitlines()[:6] == [
        "#separator:tab", "#html:true", "#notetype column:1", "#deck column:2", "#tags column:3", "#guid column:4",
    ]
    # The same lock, so the same notes: removed items' tombstones are in both.
    lock = shutil.copy(in_project / "cards_source" / "deckgen.lock", tmp_path / "l")
    reference = build(BuildConfig("cards_source", str(tmp_path / "apkg"), timestamp=1_700_000_000, lock_path=str(lock)))
    expected = {}
    ref_col = open_collection(tmp_path / "ref")
    try:
        for f in reference.files:
            import_package(ref_col, Path(f.path))
        expected = {g: (list(n.fields), sorted(n.tags)) for g, n in imported_notes(ref_col).items()}
    finally:
        ref_col.close()
    col = open_collection(tmp_path / "col")
    try:
        # CSV cannot create note types: bring them in with another source's package.
        other = build(BuildConfig(str(OTHER_SOURCE), str(tmp_path / "other"), timestamp=1, lock_path=str(tmp_path / "o")))
        import_package(col, Path(other.files[0].path))
        before = col.note_count()
        for path in csv_files:
            _import_csv(col, path)
        notes = {g: n for g, n in imported_notes(col).items() if g in expected}
        assert col.note_count() - before == len(expected) == len(notes)
        for guid, note in notes.items():
            assert (list(note.fields), sorted(note.tags)) == expected[guid]
        strengths = in_project / "cards_source" / "02-strengths.yaml"
        strengths.write_text(strengths.read_text(encoding="utf-8").replace("monumental", "vast"), encoding="utf-8")
        assert invoke("build", "--format", "csv").exit_code == 0
        log = _import_csv(col, in_project / "decks_out" / "strengths.csv")
        assert col.note_count() - before == len(expected)
        assert not log.new and len(log.updated) > 0
        assert any("vast expansion" in " ".join(n.fields) for n in imported_notes(col).values())
        assert not any("monumental" in " ".join(n.fields) for n in imported_notes(col).values())
    finally:
        col.close()


def _import_csv(col, path: Path):
    metadata = col.get_csv_metadata(str(path), delimiter=None)
    return col.import_csv(ImportCsvRequest(path=str(path), metadata=metadata)).log


def test_another_subject_with_three_perspectives(tmp_path):
    source = tmp_path / "schools"
    shutil.copytree(OTHER_SOURCE, source)
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=1_700_000_000))
    col = open_collection(tmp_path / "col")
    try:
        for f in report.files:
            import_package(col, Path(f.path))
        cards = rendered_cards(col)
        assert list(col.get_empty_cards().notes) == []
    finally:
        col.close()
    assert len(cards) == report.cards > 0
    assert {c.deck for c in cards} >= {
        "Philosophy::Hellenistic Schools::Ethics::Stoicism",
        "Philosophy::Hellenistic Schools::Physics",
    }
    sides = [c for c in cards if c.template == "Side from perspective"]
    assert len(sides) == 3
    for card in sides:
        assert card.answer_text.count(":") >= 2  # the two other schools' sides are listed
        # the source is named on the back only: a phone's front has no room for it
        assert "Three Hellenistic Schools" in card.answer_text
        assert "Three Hellenistic Schools" not in card.question_text


def test_list_shows_every_deck_with_counts(in_project):
    result = invoke("list")
    assert result.exit_code == 0
    data = json.loads(invoke("list", "--json").output)
    for deck in data["decks"]:
        assert any(line.startswith(deck["name"]) and line.split()[-2:] == [str(deck["notes"]), str(deck["cards"])]
                   for line in result.output.splitlines())
    assert [t["id"] for t in data["topics"]] == [t.id for t in load_source("cards_source").topics]
    assert len(data["items"]) == sum(t["items"] + t["comparisons"] for t in data["topics"])


def test_new_writes_a_starter_that_builds(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = invoke("new", "my_course")
    assert result.exit_code == 0
    assert result.output.splitlines()[:3] == [
        "wrote my_course/deckgen.yaml", "wrote my_course/01-basics.yaml", "wrote my_course/02-lessons.yaml"
    ]
    built = invoke("build", "--source", "my_course", "--out", "out")
    assert built.exit_code == 0, built.output
    assert (tmp_path / "out" / "basics.apkg").exists()
    again = invoke("new", "my_course")
    assert again.exit_code == 1
    assert again.stderr == "Error: my_course: already exists and is not an empty folder; choose a new name\n"


def test_unknown_filter_values_are_structured():
    source = load_source(str(BUNDLED_SOURCE))
    selection = Selection(topics=("strengths", "strenghts"), perspectives=("stoicism",), kinds=("flashcard",))
    unknown = selection.unknown_values(source)
    assert [(u.filter, u.option, u.value) for u in unknown] == [
        ("topics", "topic", "strenghts"), ("perspectives", "perspective", "stoicism"), ("kinds", "kind", "flashcard"),
    ]
    assert unknown[1].known == ("individualism", "collectivism")
    assert unknown[2].message == "unknown kind 'flashcard' (known: cloze, comparison)"


def test_one_deck_name_limit_for_sources_and_custom_decks(tmp_path):
    longest = "D" * MAX_DECK_NAME_LENGTH
    assert custom_request(longest, Selection()).deck_name == longest
    with pytest.raises(DeckgenError, match=f"at most {MAX_DECK_NAME_LENGTH} characters"):
        custom_request(longest + "D", Selection())
    shutil.copytree(BUNDLED_SOURCE, tmp_path / "source")
    config = tmp_path / "source" / "deckgen.yaml"
    text = config.read_text(encoding="utf-8")
    deck_line = next(line for line in text.splitlines() if line.startswith("deck:"))
    config.write_text(text.replace(deck_line, f"deck: {longest}"), encoding="utf-8")
    assert load_source(str(tmp_path / "source")).deck == longest
    config.write_text(text.replace(deck_line, f"deck: {longest}D"), encoding="utf-8")
    with pytest.raises(ContentError, match=f"the limit is {MAX_DECK_NAME_LENGTH}"):
        load_source(str(tmp_path / "source"))


def test_new_writes_the_readme_guides_worked_example(tmp_path, monkeypatch):
    """The guide's perspectives and commands are those of the starter `deckgen new` writes."""
    guide = (ROOT / "docs" / "writing.md").read_text(encoding="utf-8")
    perspectives = guide.split("```yaml\n", 1)[1].split("```", 1)[0]
    monkeypatch.chdir(tmp_path)
    assert invoke("new", "work", "--title", "Ways of Working").exit_code == 0
    assert perspectives in (tmp_path / "work" / "deckgen.yaml").read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "work").iterdir()) == ["01-basics.yaml", "02-lessons.yaml", "deckgen.yaml", "schema"]
    result = invoke("check", "--strict", "--source", "work")
    assert result.output == "work: OK: 2 topics, 6 items (1 context only), 2 comparisons -> 18 notes, 19 cards\n"
