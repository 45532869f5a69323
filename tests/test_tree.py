"""The seam between reading a source and checking it: the tree of located values.

The loader checks a tree (:mod:`generator.source.tree`), not YAML: a tree
built by hand, as a reader of another format would build it, gives the same
topic, and the same problems at the same lines and columns, as the YAML text
it mirrors.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from generator.errors import ContentError, Problem, Problems
from generator.source.content import Topic
from generator.source.loader import MediaFolder, load_source, settings_from_tree, topic_from_tree
from generator.source.tree import Mapping, Node, Scalar, ScalarKind, Sequence
from generator.source.yamlread import read_yaml

SETTINGS = "id: tea-notes\ntitle: Tea notes\ndeck: Tea\n"


def text(value: str, line: int, column: int, kind: ScalarKind = "text") -> Scalar:
    return Scalar(value, line, column, kind)


def mapping(line: int, column: int, *entries: tuple[Node, Node], flow: bool = False) -> Mapping:
    return Mapping(tuple(entries), line, column, flow)


def key(name: str, line: int, column: int) -> Scalar:
    return text(name, line, column)


GOOD_TOPIC = """\
topic: tea
name: Tea
items:
  - id: steeping
    title: "Steep {{green tea}} at 80 °C"
    points:
      leaves: Loose {{leaves}} unfurl
    tags: [drinks, hot]
terms:
  - id: tannin
    term: Tannin
    definition: |
      A bitter compound
"""
GOOD_TREE = mapping(
    1, 1,
    (key("topic", 1, 1), text("tea", 1, 8)),
    (key("name", 2, 1), text("Tea", 2, 7)),
    (key("items", 3, 1), Sequence((
        mapping(
            4, 5,
            (key("id", 4, 5), text("steeping", 4, 9)),
            (key("title", 5, 5), text("Steep {{green tea}} at 80 °C", 5, 12)),
            (key("points", 6, 5), mapping(7, 7, (key("leaves", 7, 7), text("Loose {{leaves}} unfurl", 7, 15)))),
            (key("tags", 8, 5), Sequence((text("drinks", 8, 12), text("hot", 8, 20)), 8, 11, flow=True)),
        ),
    ), 4, 3)),
    (key("terms", 9, 1), Sequence((
        mapping(
            10, 5,
            (key("id", 10, 5), text("tannin", 10, 9)),
            (key("term", 11, 5), text("Tannin", 11, 11)),
            (key("definition", 12, 5), text("A bitter compound\n", 12, 17)),
        ),
    ), 10, 3)),
)

BAD_TOPIC = """\
topic: tea
name: Tea
name: Tea again
items:
  - id: Steeping
    title: yes
    points: {}
    cue: 3:30
"""
BAD_TREE = mapping(
    1, 1,
    (key("topic", 1, 1), text("tea", 1, 8)),
    (key("name", 2, 1), text("Tea", 2, 7)),
    (key("name", 3, 1), text("Tea again", 3, 7)),
    (key("items", 4, 1), Sequence((
        mapping(
            5, 5,
            (key("id", 5, 5), text("Steeping", 5, 9)),
            (key("title", 6, 5), text("yes", 6, 12, "bool")),  # YAML 1.1's boolean: what the reader says it is
            (key("points", 7, 5), mapping(7, 13, flow=True)),
            (key("cue", 8, 5), text("3:30", 8, 10, "int")),
        ),
    ), 5, 3)),
)


def _source(tmp_path: Path, topic: str) -> Path:
    (tmp_path / "deckgen.yaml").write_text(SETTINGS, encoding="utf-8")
    (tmp_path / "tea.yaml").write_text(topic, encoding="utf-8")
    return tmp_path


def _from_tree(tmp_path: Path, tree: Node) -> tuple[Topic | None, list[Problem]]:
    """The topic (or None) and the problems the loader's checks find in *tree*, as a file tea.yaml."""
    problems = Problems()
    found = topic_from_tree(
        tree, str(tmp_path / "tea.yaml"), set(), problems=problems, media=MediaFolder(str(tmp_path), {})
    )
    return (found[0] if found else None), sorted(set(problems.items))


@pytest.mark.parametrize(("yaml_text", "tree"), [(GOOD_TOPIC, GOOD_TREE), (BAD_TOPIC, BAD_TREE)], ids=["good", "bad"])
def test_yaml_reads_into_the_tree_built_by_hand(tmp_path: Path, yaml_text: str, tree: Node) -> None:
    path = _source(tmp_path, yaml_text) / "tea.yaml"
    assert read_yaml(str(path), str(path), Problems()) == tree


def test_a_tree_built_by_hand_gives_the_topic_its_yaml_gives(tmp_path: Path) -> None:
    (from_yaml,) = load_source(str(_source(tmp_path, GOOD_TOPIC))).topics
    topic, problems = _from_tree(tmp_path, GOOD_TREE)
    assert problems == []
    assert topic == from_yaml
    assert topic.items[0].points[0].line == 7  # located from the tree, as from the file


def test_a_tree_built_by_hand_gives_the_problems_its_yaml_gives(tmp_path: Path) -> None:
    with pytest.raises(ContentError) as raised:
        load_source(str(_source(tmp_path, BAD_TOPIC)))
    _, problems = _from_tree(tmp_path, BAD_TREE)
    assert problems == raised.value.problems
    assert [(p.line, p.column) for p in problems] == [(3, 1), (5, 9), (6, 12), (7, 13), (8, 10)]


def test_only_the_reader_says_what_is_not_text(tmp_path: Path) -> None:
    """'yes' is text to a format without booleans: the checks take a scalar's kind from its reader."""
    entry = mapping(
        4, 5, (key("id", 4, 5), text("steeping", 4, 9)), (key("title", 5, 5), text("Tea, {{yes}}", 5, 12))
    )
    tree = mapping(
        1, 1,
        (key("topic", 1, 1), text("tea", 1, 8)),
        (key("name", 2, 1), text("yes", 2, 7)),  # kind "text": as a Markdown heading would give it
        (key("items", 3, 1), Sequence((entry,), 4, 3)),
    )
    topic, problems = _from_tree(tmp_path, tree)
    assert problems == []
    assert topic is not None and topic.name == "yes"


def test_settings_from_a_tree_built_by_hand(tmp_path: Path) -> None:
    tree = mapping(
        1, 1,
        (key("id", 1, 1), text("tea-notes", 1, 5)),
        (key("title", 2, 1), text("Tea notes", 2, 8)),
        (key("deck", 3, 1), text("Tea", 3, 7)),
    )
    path = _source(tmp_path, GOOD_TOPIC) / "deckgen.yaml"
    problems = Problems()
    settings = settings_from_tree(tree, str(path), problems)
    source = load_source(str(tmp_path))
    assert problems.items == []
    assert settings is not None and (settings.id, settings.title, settings.deck) == (source.id, source.title, source.deck)
    assert read_yaml(str(path), str(path), Problems()) == tree
