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

import yaml

from generator.cards.selection import DeckRequest, Selection, custom_request
from generator.errors import DeckgenError, Location, Problem, Problems
from generator.source.content import Source
from generator.source.loader import ID_PATTERN, tag_problem
from generator.source.yamlread import Reader, line_of, read_yaml

_DECK_KEYS = ("file", "topics", "perspectives", "kinds", "tags", "extra_tags")


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
    fields = reader.mapping(root, "", ("decks",), ("source",)) or {}
    source = None
    if "source" in fields:
        value = reader.text(fields["source"], "source")
        if value is not None:
            source = os.path.normpath(os.path.join(os.path.dirname(path), value))
    decks = []
    for index, node in enumerate(reader.sequence(fields["decks"], "decks") or () if "decks" in fields else ()):
        deck = _read_deck(reader, node, f"decks[{index}]")
        if deck is not None:
            decks.append(deck)
    seen: dict[str, int] = {}
    for deck in decks:
        if deck.request.file in seen:
            problems.add(
                path, deck.line, "file",
                f"two decks write {deck.request.file}.* (also line {seen[deck.request.file]}); give one a 'file'",
            )
        seen.setdefault(deck.request.file, deck.line)
    problems.raise_if_any()
    return Recipe(path, source, tuple(decks))


def _read_deck(reader: Reader, node: yaml.Node, where: str) -> RecipeDeck | None:
    fields = reader.mapping(node, where, ("name",), _DECK_KEYS)
    if fields is None:
        return None
    name = reader.text(fields["name"], f"{where}.name") if "name" in fields else None
    values: dict[str, tuple[str, ...]] = {}
    for key in ("topics", "perspectives", "kinds", "tags", "extra_tags"):
        if key in fields:
            entries = list(reader.text_list(fields[key], f"{where}.{key}"))
            if key in ("tags", "extra_tags"):  # a tag with a space matches nothing; the removed tag is deckgen's
                entries = [(item, tag) for item, tag in entries if _tag_ok(reader, item, tag, f"{where}.{key}")]
            values[key] = tuple(text for _, text in entries)
    file = None
    if "file" in fields:
        file = reader.text(fields["file"], f"{where}.file")
        if file is not None and not ID_PATTERN.fullmatch(file):
            reader.problem(
                fields["file"], f"{where}.file",
                f"{file!r} is not a safe file name: use lowercase letters, digits, '-' and '_'",
            )
            file = None
    if name is None:
        return None
    selection = Selection(
        values.get("topics", ()), values.get("perspectives", ()), values.get("kinds", ()), values.get("tags", ())
    )
    try:
        request = custom_request(name, selection, values.get("extra_tags", ()), file)
    except DeckgenError as error:
        reader.problem(fields["name"], f"{where}.name", str(error))
        return None
    lines = tuple((key, line_of(value)) for key, value in fields.items())
    request = replace(request, origin=Location(reader.file, line_of(node), where))
    return RecipeDeck(request, line_of(node), lines)


def _tag_ok(reader: Reader, node: yaml.Node, tag: str, where: str) -> bool:
    problem = f"tag {tag!r} may not contain spaces" if any(c.isspace() for c in tag) else tag_problem(tag)
    if problem:
        reader.problem(node, where, problem)
    return problem is None


def check_recipe(recipe: Recipe, source: Source) -> list[Problem]:
    """Problems where a recipe names topics, perspectives or kinds the source lacks."""
    problems = []
    for index, deck in enumerate(recipe.decks):
        for message in deck.request.selection.unknown(source):
            key = {"topic": "topics", "perspective": "perspectives", "kind": "kinds"}[message.split()[1]]
            problems.append(Problem(recipe.path, deck.line_of(key), f"decks[{index}].{key}", message))
        if deck.request.file in {topic.id for topic in source.topics}:
            key = "file" if any(name == "file" for name, _ in deck.lines) else "name"
            problems.append(Problem(
                recipe.path, deck.line_of(key), f"decks[{index}].{key}",
                f"would be written to {deck.request.file}.apkg, the package of topic {deck.request.file!r}:"
                " choose another name (or file)",
            ))
    return problems
