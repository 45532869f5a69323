"""Recipe files: several custom decks, for a course that is built again each term.

A recipe is YAML, read as strictly as the sources (:mod:`generator.source.yamlread`)::

    source: ../cards_source        # optional, relative to the recipe file
    decks:
      - name: "Soc 101::Week 3"
        file: week-3               # optional; default: a slug of the name
        topics: [strengths, limitations]
        perspectives: [collectivism]
        kinds: [cloze]
        tags: [some-tag]
        extra_tags: [soc101::week3]
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace

from generator.cards.selection import DeckRequest, Selection, custom_request
from generator.errors import DeckgenError, Location, Problem, Problems
from generator.source.content import Source
from generator.source.folder import ID_PATTERN
from generator.source.keys import RECIPE, RECIPE_DECK
from generator.source.loader import tag_problem
from generator.source.tree import Node
from generator.source.treeread import Reader
from generator.source.yamlread import read_yaml


@dataclass(frozen=True)
class RecipeDeck:
    """One deck of a recipe, with the lines its values came from."""

    request: DeckRequest
    line: int
    lines: tuple[tuple[str, int], ...]

    def line_of(self, key: str) -> int:
        """The line of *key*'s value, or of the deck entry."""
        return dict(self.lines).get(key, self.line)


@dataclass(frozen=True)
class Recipe:
    """A validated recipe file."""

    path: str
    source: str | None
    decks: tuple[RecipeDeck, ...]


def load_recipe(path: str) -> Recipe:
    """Read the recipe at *path*; raise ContentError listing every problem."""
    problems = Problems()
    root = read_yaml(path, path, problems)
    problems.raise_if_any()
    assert root is not None
    reader = Reader(path, problems)
    fields = reader.mapping(root, "", RECIPE.required, RECIPE.optional) or {}
    source = _source_folder(reader, fields.get("source"), path)
    nodes = reader.sequence(fields["decks"], "decks") or () if "decks" in fields else ()
    decks = [deck for index, node in enumerate(nodes) if (deck := _read_deck(reader, node, f"decks[{index}]"))]
    _check_files(decks, reader)
    problems.raise_if_any()
    return Recipe(path, source, tuple(decks))


def _source_folder(reader: Reader, node: Node | None, path: str) -> str | None:
    """The recipe's ``source``, relative to the recipe file."""
    value = reader.text(node, "source") if node is not None else None
    if value is None:
        return None
    return os.path.normpath(os.path.join(os.path.dirname(path), value))


def _check_files(decks: list[RecipeDeck], reader: Reader) -> None:
    """Two decks written to the same file would overwrite each other."""
    seen: dict[str, int] = {}
    for deck in decks:
        if deck.request.file in seen:
            reader.problem(
                deck.line, "file",
                f"two decks write {deck.request.file}.* (also line {seen[deck.request.file]}); give one a 'file'",
            )
        seen.setdefault(deck.request.file, deck.line)


def _read_deck(reader: Reader, node: Node, where: str) -> RecipeDeck | None:
    fields = reader.mapping(node, where, RECIPE_DECK.required, RECIPE_DECK.optional)
    if fields is None:
        return None
    name = reader.text(fields["name"], f"{where}.name") if "name" in fields else None
    values = {key: _deck_values(reader, fields[key], key=key, where=where) for key in _LIST_KEYS if key in fields}
    file = _deck_file(reader, fields.get("file"), where)
    if name is None:
        return None
    selection = Selection(
        topics=values.get("topics", ()),
        perspectives=values.get("perspectives", ()),
        kinds=values.get("kinds", ()),
        tags=values.get("tags", ()),
    )
    try:
        request = custom_request(name, selection, values.get("extra_tags", ()), file=file)
    except DeckgenError as error:
        reader.problem(fields["name"], f"{where}.name", str(error))
        return None
    lines = tuple((key, value.line) for key, value in fields.items())
    request = replace(request, origin=Location(reader.file, node.line, where))
    return RecipeDeck(request, node.line, lines)


_LIST_KEYS = ("topics", "perspectives", "kinds", "tags", "extra_tags")


def _deck_values(reader: Reader, node: Node, *, key: str, where: str) -> tuple[str, ...]:
    """The text list of a deck's *key*; a tag with a space matches nothing, the removed tag is deckgen's."""
    entries = list(reader.text_list(node, f"{where}.{key}"))
    if key in ("tags", "extra_tags"):
        entries = [(item, tag) for item, tag in entries if _tag_ok(reader, item, tag=tag, where=f"{where}.{key}")]
    return tuple(text for _, text in entries)


def _deck_file(reader: Reader, node: Node | None, where: str) -> str | None:
    """A deck's ``file``: a bare, safe file stem."""
    file = reader.text(node, f"{where}.file") if node is not None else None
    if node is not None and file is not None and not ID_PATTERN.fullmatch(file):
        reader.problem(
            node, f"{where}.file", f"{file!r} is not a safe file name: use lowercase letters, digits, '-' and '_'"
        )
        return None
    return file


def _tag_ok(reader: Reader, node: Node, *, tag: str, where: str) -> bool:
    problem = f"tag {tag!r} may not contain spaces" if any(c.isspace() for c in tag) else tag_problem(tag)
    if problem:
        reader.problem(node, where, problem)
    return problem is None


def check_recipe(recipe: Recipe, source: Source) -> list[Problem]:
    """Problems where a recipe names topics, perspectives or kinds the source lacks."""
    problems = []
    for index, deck in enumerate(recipe.decks):
        problems += [
            Problem(recipe.path, deck.line_of(unknown.filter), f"decks[{index}].{unknown.filter}", unknown.message)
            for unknown in deck.request.selection.unknown_values(source)
        ]
        if deck.request.file in {topic.id for topic in source.topics}:
            problems.append(_topic_file_problem(recipe, deck, index))
    return problems


def _topic_file_problem(recipe: Recipe, deck: RecipeDeck, index: int) -> Problem:
    """A deck would overwrite a topic's own package."""
    key = "file" if any(name == "file" for name, _ in deck.lines) else "name"
    return Problem(
        recipe.path, deck.line_of(key), f"decks[{index}].{key}",
        f"would be written to {deck.request.file}.apkg, the package of topic {deck.request.file!r}:"
        " choose another name (or file)",
    )
