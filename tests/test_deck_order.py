"""``deck_order: numbered``: Anki lists topic decks in the source's order, as its deck list shows them."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from generator.cli import main
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build

from .ankitools import import_package, open_collection
from .support import DRINKS_CONFIG, T1, T2, V1, write_source

NUMBERED = DRINKS_CONFIG + "deck_order: numbered\n"


def _topic(topic_id: str, name: str) -> str:
    return V1.replace("topic: basics", f"topic: {topic_id}").replace("name: Basics", f"name: {name}").replace(
        "id: ", f"id: {topic_id}-"
    ).replace(f"topic: {topic_id}-", "topic: ")


# Files sort into the teaching order; names alone would sort Zebra, then Apples, then Middle the wrong way round.
FILES = {"1-zebra.yaml": _topic("zebra", "Zebra"), "2-apples.yaml": _topic("apples", "Apples"),
         "3-middle.yaml": _topic("middle", "Middle")}


def _source(folder: Path, config: str = NUMBERED) -> Path:
    source = write_source(folder, FILES["1-zebra.yaml"], config, {k: v for k, v in FILES.items() if k != "1-zebra.yaml"})
    (source / "basics.yaml").rename(source / "1-zebra.yaml")
    return source


def _deck_list(col) -> list[str]:
    """The topic decks in the order Anki's deck list shows them (its deck tree, depth first)."""
    names: list[str] = []

    def walk(node, path: list[str]) -> None:
        for child in node.children:
            names.append("::".join([*path, child.name]))
            walk(child, [*path, child.name])

    walk(col.sched.deck_due_tree(), [])
    return [n for n in names if n.count("::") == 1]


def _listed_after_import(tmp_path: Path, source: Path, **options: str) -> list[str]:
    """Build *source*, import every package into a fresh collection, and read the deck list Anki shows."""
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1, **options))
    col = open_collection(tmp_path / "col")
    try:
        for f in report.files:
            import_package(col, Path(f.path))
        return _deck_list(col)
    finally:
        col.close()


def test_anki_lists_numbered_topic_decks_in_the_sources_order(tmp_path):
    listed = _listed_after_import(tmp_path, _source(tmp_path / "src"))
    assert listed == ["Drinks::1 Zebra", "Drinks::2 Apples", "Drinks::3 Middle"]


def test_by_name_is_the_default_and_anki_sorts_the_names(tmp_path):
    listed = _listed_after_import(tmp_path, _source(tmp_path / "src", DRINKS_CONFIG))
    assert listed == ["Drinks::Apples", "Drinks::Middle", "Drinks::Zebra"]


def test_a_topic_inserted_before_others_renumbers_their_decks(tmp_path):
    source = _source(tmp_path / "src")
    out = tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1))
    (source / "0-first.yaml").write_text(_topic("first", "First"), encoding="utf-8")
    report = build(BuildConfig(str(source), str(out), timestamp=T2))  # the other topics' files did not change
    assert sorted(d for f in report.files for d in f.decks if d.count("::") == 1) == [
        "Drinks::1 First", "Drinks::2 Zebra", "Drinks::3 Apples", "Drinks::4 Middle"
    ]


def test_a_student_of_unnumbered_decks_keeps_their_cards_where_they_are(tmp_path):
    """Anki never moves a card on import: studied cards stay in the old decks, new ones go to the numbered."""
    source = _source(tmp_path / "src", DRINKS_CONFIG)
    out = tmp_path / "out"
    col = open_collection(tmp_path / "col")
    for f in build(BuildConfig(str(source), str(out), timestamp=T1)).files:
        import_package(col, Path(f.path))
    before = {cid: col.decks.name(col.get_card(cid).did) for cid in col.find_cards("")}
    (source / "deckgen.yaml").write_text(NUMBERED, encoding="utf-8")
    (source / "2-apples.yaml").write_text(FILES["2-apples.yaml"].replace("Pour {{hot water}}", "Pour {{boiling water}}"))
    report = build(BuildConfig(str(source), str(out), timestamp=T2))
    assert report.total("updated") >= 1
    for f in report.files:
        import_package(col, Path(f.path))
    after = {cid: col.decks.name(col.get_card(cid).did) for cid in col.find_cards("")}
    assert after == before  # every card where it was, also the updated notes' cards
    result = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert result.exit_code == 0, result.output


def test_an_unknown_deck_order_is_one_located_line(tmp_path):
    source = _source(tmp_path / "src", DRINKS_CONFIG + "deck_order: alphabetical\n")
    result = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == (
        f"{source}/deckgen.yaml:7: deck_order: 'alphabetical' is not one of numbered (decks listed in the files' "
        "order), by-name (Anki sorts the names)"
    )


def test_the_bundled_essays_decks_are_listed_in_the_essays_order(tmp_path):
    from generator.source.loader import load_source

    from .support import BUNDLED_SOURCE

    source = load_source(str(BUNDLED_SOURCE))
    listed = _listed_after_import(tmp_path, BUNDLED_SOURCE, lock_path=str(tmp_path / "deckgen.lock"))
    assert listed == [f"{source.deck}::{n} {t.name}" for n, t in enumerate(source.topics, start=1)]
    assert listed[0].endswith("1 Introduction")
