"""cards_source/README.md's table of the essay's 56 sections says what the source really asks.

The table is written by hand (it names the essay's sections, which the
source does not); this test keeps it true as the cards are re-authored: every
item and comparison of the bundled source is in it, each ``[answer]`` is a
term its item marks, "context" items make no card, "which perspective?" items
have one, and a mirror is listed beside a section it restates (``from:``).
"""

from __future__ import annotations

import re

from generator.source.content import Item
from generator.source.loader import load_source

from .support import BUNDLED_SOURCE

_ENTRY = re.compile(r"`([a-z0-9-]+)`(?:\s*\(comparison, \d cards\))?((?:(?!`).)*)")


def _rows() -> list[list[str]]:
    text = (BUNDLED_SOURCE / "README.md").read_text(encoding="utf-8")
    start = text.index("| # | section of the essay |")
    rows = []
    for line in text[start:].splitlines()[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip("|").split("|")])
    return rows


def _items() -> dict[str, Item]:
    return {item.id: item for topic in load_source(BUNDLED_SOURCE).topics for item in topic.items}


def _marked(item: Item) -> set[str]:
    parts = (item.title, item.explanation, item.conclusion, *(point.text for point in item.points))
    return {term for part in parts if part for term in part.terms}


def test_the_table_has_all_56_sections_in_order_and_none_is_without_a_card() -> None:
    rows = _rows()
    assert [int(row[0]) for row in rows] == list(range(1, 57))
    for row in rows:
        asks = [what for _, what in _ENTRY.findall(row[2])]
        assert any("[" in what or "which perspective" in what or not what.strip(" ;") for what in asks), row


def test_every_answer_the_table_names_is_a_term_its_item_marks() -> None:
    items = _items()
    for row in _rows():
        for item_id, what in _ENTRY.findall(row[2]):
            if item_id not in items:
                continue  # a comparison: checked below
            item, said = items[item_id], set(re.findall(r"\[([^\]]+)\]", what))
            assert said <= _marked(item), (row[0], item_id, said, _marked(item))
            if "context (on a back)" in what:
                assert not _marked(item) and not item.question, (row[0], item_id)
            if "which perspective" in what:
                assert item.question, (row[0], item_id)


def test_every_item_and_comparison_of_the_source_is_in_the_table_and_mirrors_sit_beside_their_sections() -> None:
    source = load_source(BUNDLED_SOURCE)
    rows = _rows()
    named = {item_id for row in rows for item_id, _ in _ENTRY.findall(row[2])}
    mirrors_of = {row[0]: set(re.findall(r"`([a-z0-9-]+)`", row[3])) for row in rows}
    comparisons = {c.id: c for topic in source.topics for c in topic.comparisons}
    assert set(_items()) <= named
    listed_mirrors = set().union(*mirrors_of.values())
    assert {cid for cid in comparisons if comparisons[cid].origins} == listed_mirrors
    assert {cid for cid in comparisons if not comparisons[cid].origins} <= named
    for row in rows:
        own = {item_id for item_id, _ in _ENTRY.findall(row[2])}
        for cid in mirrors_of[row[0]]:
            assert own & {origin.item for origin in comparisons[cid].origins}, (row[0], cid)
