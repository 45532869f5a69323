"""The card kinds' table: every module reads it, none switches on a kind's name, and a third kind fits.

genanki's note reads ``self.model.model_type`` and never a note type's name;
deckgen's modules read :data:`generator.cards.kinds.KINDS` the same way.  The
packages these kinds make are pinned byte for byte by tests/test_pipeline.py
(the golden packages) and their identities by tests/test_identity.py.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import genanki
import pytest
from click.testing import CliRunner

import generator.anki.notetypes as notetypes
from generator.anki.package import package_bytes
from generator.anki.render import preview_cards
from generator.cards.kind import CONTEXT_LINE, SOURCE_LINE, CardKind, Face, Template
from generator.cards.kinds import KIND_NAMES, KINDS
from generator.cards.notes import NoteKey, NoteSpec, build_notes, guid_for, kind_note, removal_notice, topic_deck
from generator.cli import main
from generator.pipeline.lock.write import note_lines
from generator.quality.smells import topic_smells
from generator.source.content import Source, Topic
from generator.source.loader import load_source

from .ankitools import import_package, open_collection, rendered_cards
from .support import BUNDLED_SOURCE, write_source

PACKAGE = Path(__file__).resolve().parents[1] / "generator"
KIND_MODULES = {"cards/cloze.py", "cards/comparison.py", "cards/kinds.py"}
"""Where a kind is named: its own module and the table (notes.py keeps the former names as aliases)."""
_KIND_CONSTANTS = {"CLOZE", "COMPARISON", "CLOZE_NAME", "COMPARISON_NAME", "CLOZE_FIELDS", "COMPARISON_FIELDS"}


def _switches(path: Path) -> list[str]:
    """Comparisons with a kind: ``note_type == CLOZE``, ``x if kind == "cloze" else y``, ``in (CLOZE_NAME, ...)``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for operand in operands:
            items = operand.elts if isinstance(operand, ast.Tuple | ast.List | ast.Set) else [operand]
            named = any(isinstance(i, ast.Name) and i.id in _KIND_CONSTANTS for i in items)
            spelled = any(isinstance(i, ast.Constant) and i.value in KIND_NAMES for i in items) and any(
                isinstance(o, ast.Attribute) and o.attr in {"note_type", "kind"} for o in operands
            )
            if named or spelled:
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    return found


def test_no_module_switches_on_a_kind() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if str(p.relative_to(PACKAGE)) not in KIND_MODULES]
    assert [switch for path in modules for switch in _switches(path)] == []


def test_the_table_holds_the_kinds_in_the_order_they_are_listed() -> None:
    assert KIND_NAMES == ("cloze", "comparison")
    assert all(name == kind.name for name, kind in KINDS.items())
    assert {kind.note_type_id for kind in KINDS.values()} == {notetypes.CLOZE_ID, notetypes.COMPARISON_ID}


@pytest.fixture(scope="module")
def bundled_notes() -> list[NoteSpec]:
    return build_notes(load_source(str(BUNDLED_SOURCE)))


def test_each_kind_says_the_cards_genanki_would_make(bundled_notes: list[NoteSpec]) -> None:
    """Packages take a note's cards from its kind: the same cards genanki works out from the templates."""
    removed = [removal_notice(n.key, n, n.deck) for n in bundled_notes]
    for note in [*bundled_notes, *removed]:
        kind = KINDS[note.note_type]
        genanki_note = genanki.Note(model=notetypes.anki_model(note.note_type), fields=list(note.fields))
        assert kind.card_ordinals(note.fields) == tuple(card.ord for card in genanki_note.cards), note.key
        assert len(kind.card_ordinals(note.fields)) == note.cards <= kind.max_cards


def test_each_card_has_one_face(bundled_notes: list[NoteSpec]) -> None:
    """The smells read a card's answer from its kind's face of the template the card was rendered from."""
    for note in bundled_notes:
        faces = KINDS[note.note_type].faces(note.fields)
        cards = preview_cards([note], backs=False)
        assert sorted(face.ordinal for face in faces) == [card.template_ordinal for card in cards], note.key


def test_a_note_key_reads_back() -> None:
    key = NoteKey("soc", "ind-autonomy", "term/explanation/self-reliance")
    assert str(key) == "soc/ind-autonomy/term/explanation/self-reliance"
    assert NoteKey.parse(str(key)) == key
    assert key.aspect == "term"


def test_the_lock_says_the_line_of_each_note() -> None:
    text = (BUNDLED_SOURCE / "deckgen.lock").read_text(encoding="utf-8")
    lines = note_lines(text)
    rows = text.splitlines()
    assert lines and all(rows[number - 1].startswith(f'  "{key}": {{') for key, number in lines.items())
    assert note_lines('{"notes": {\n  "a/b/c": {"cards": 1}\n}}') == {}  # not dump_lock's layout: no lines


# --- a hypothetical third kind: its own module, one entry in the table -------


@dataclass(frozen=True)
class BasicKind(CardKind):
    """A front and a back: what a third kind's module would hold."""

    def card_ordinals(self, fields: tuple[str, ...] | list[str]) -> tuple[int, ...]:
        return (0,)

    def faces(self, fields: tuple[str, ...] | list[str]) -> tuple[Face, ...]:
        values = self.values(fields)
        return (Face(0, values["Context"] + " " + values["Front"], values["Back"]),)

    def report_group(self, aspect: str, template: str) -> str:
        return self.name

    def removal(self, label: str, shown: str, help_html: str, cards: int) -> dict[str, str]:
        return {"Front": f"Removed: {shown}", "Back": help_html}


BASIC = BasicKind(
    name="basic",
    note_type_id=1739462299,
    note_type_name="deckgen Basic",
    fields=("Front", "Back", "Context", "Source"),
    templates=(
        Template(
            "Card",
            f'<div class="deckgen">{CONTEXT_LINE}<div class="prompt">{{{{Front}}}}</div></div>',
            f'<div class="deckgen">{CONTEXT_LINE}<div class="prompt">{{{{Front}}}}</div>'
            f'<hr id="answer"><div class="answer">{{{{Back}}}}</div>{SOURCE_LINE}</div>',
        ),
    ),
    cloze=False,
    back_field="Back",
    max_cards=1,
)


@pytest.fixture
def third_kind(monkeypatch: pytest.MonkeyPatch) -> CardKind:
    """BASIC in the table, as one line in generator/cards/kinds.py would put it (the note types read it at import)."""
    monkeypatch.setitem(KINDS, BASIC.name, BASIC)
    monkeypatch.setitem(notetypes.NOTE_TYPES, BASIC.name, notetypes._note_type(BASIC))
    monkeypatch.setitem(notetypes.RENAMED_FIELDS, BASIC.name, {})
    monkeypatch.setitem(notetypes.RENAMED_TEMPLATES, BASIC.name, {})
    return BASIC


def _basic_note(kind: CardKind) -> NoteSpec:
    key = "drinks/kettle/question"
    return NoteSpec(
        key=key, guid=guid_for(key), note_type=kind.name,
        fields=kind.field_tuple({"Front": "What boils water?", "Back": "A kettle", "Context": "Tea", "Source": "S"}),
        tags=(), deck="Drinks", topic="basics", perspective=None, cards=1, label="kettle",
        item_id="kettle", part="question", file="basics.yaml", line=3,
    )


def test_a_third_kind_is_rendered_smelled_and_imported_by_real_anki(third_kind: CardKind, tmp_path: Path) -> None:
    note = _basic_note(third_kind)
    (card,) = preview_cards([note])
    assert (card.note_type, card.name, card.template_ordinal) == ("deckgen Basic", "Card", 0)
    assert "A kettle" in card.back and "A kettle" not in card.front
    leaky = replace(note, fields=third_kind.field_tuple({"Front": "Is it a kettle?", "Back": "kettle", "Context": ""}))
    source = load_source(str(BUNDLED_SOURCE))
    smells = topic_smells(source, source.topics[0], [leaky])
    assert [p.message for p in smells if "front already shows" in p.message]
    path = tmp_path / "basic.apkg"
    path.write_bytes(package_bytes([note, removal_notice("drinks/gone/question", replace(note, guid="g0ne"), "D")],
                                   1_700_000_000))
    col = open_collection(tmp_path / "col")
    try:
        import_package(col, path)
        rendered = sorted(rendered_cards(col), key=lambda c: c.guid != note.guid)
    finally:
        col.close()
    assert [(c.note_type, c.template) for c in rendered] == [("deckgen Basic", "Card")] * 2
    assert "A kettle" in rendered[0].answer and "Removed" in rendered[1].question


def _term_questions(source: Source, topic: Topic) -> Iterator[NoteSpec]:
    """What the third kind's module would make of a topic: each term asked as a question, its definition the answer."""
    for term in topic.terms:
        yield kind_note(
            BASIC, source.id, term.id, "question",
            {"Front": f"What is {term.term}?", "Back": term.definition, "Context": topic.name, "Source": source.title},
            tags=term.tags, deck=topic_deck(source, topic), topic=topic.id, perspective=None, label=term.term,
            file=term.file, line=term.line, media=(),
        )


def test_a_third_kind_makes_its_own_notes_of_a_source_and_real_anki_imports_them(
    third_kind: CardKind, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The kind's module says what it asks of a topic (``notes_of``): a build makes, checks, packages and locks
    its notes beside the others', with no other module told of it."""
    monkeypatch.setitem(KINDS, third_kind.name, replace(third_kind, notes_of=_term_questions))
    topic = "topic: basics\nname: Basics\nterms:\n  - id: theanine\n    term: L-theanine\n" \
        "    definition: An amino acid in tea leaves.\n"
    source = write_source(tmp_path / "src", topic)
    result = CliRunner().invoke(main, ["build", "-q", "--source", str(source), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert '"drinks/theanine/question": {' in (source / "deckgen.lock").read_text(encoding="utf-8")
    col = open_collection(tmp_path / "col")
    try:
        import_package(col, tmp_path / "out" / "basics.apkg")
        imported = col.card_count()
        col.fix_integrity()  # Tools > Check Database, as a student may: no card added, none in Default
        assert col.card_count() == imported and col.find_cards('"deck:Default"') == []
        basic = [c for c in rendered_cards(col) if c.note_type == "deckgen Basic"]
    finally:
        col.close()
    assert [(c.template, c.guid) for c in basic] == [("Card", guid_for("drinks/theanine/question"))]
    assert "What is L-theanine?" in basic[0].question and "An amino acid" not in basic[0].question
    assert "An amino acid in tea leaves." in basic[0].answer
