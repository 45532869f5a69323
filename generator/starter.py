"""``deckgen new``: a commented starter source that builds as it is."""

from __future__ import annotations

import os

from .errors import DeckgenError
from .notes import slug

CONFIG = """\
# deckgen.yaml: who this source is and which perspectives it compares.
# `id` is part of every note's identity (GUID) and tag: never change it once
# students study the decks.  `title` is shown as the source on every card.
id: {id}
title: "{title}"
# The root deck; topics become its subdecks.  "::" nests it ("Course::{title}").
deck: "{title}"
# Two or more perspectives: id (never change it) -> name shown on cards.
perspectives:
  tea: Tea
  coffee: Coffee
"""

TOPIC = """\
# One topic = one deck package (decks_out/basics.apkg).  Replace the example
# content with your own; `deckgen check --source THIS_FOLDER` explains problems.
topic: basics                  # id: lowercase letters, digits, '-' and '_'
name: Basics                   # deck name part: "<deck>::Basics"
heading: The basics            # optional: shown as the context of each card
question: Whose habit is this?  # optional: the "which perspective?" question
items:
  # An item: a title, an explanation, points, a conclusion.  Each becomes
  # cloze cards (the title; each point; each {{{{key term}}}}).
  - id: morning-cup            # unique across all files; never change it
    perspective: tea           # optional: the perspective it belongs to
    title: The morning cup
    explanation: >-
      Many tea drinkers start the day with {{{{black tea}}}}, often with milk.
      They value:
    points:                    # key -> text; keys are ids, keep them stable
      ritual: The ritual of brewing a pot
      calm: "{{{{Calm}}}} alertness rather than a jolt"   # quote text starting with {{{{
    conclusion: The cup is as much a pause as a drink.

  - id: espresso
    perspective: coffee
    title: Espresso
    explanation: Espresso forces hot water through finely ground coffee under {{{{pressure}}}}.

comparisons:
  # A comparison: one dimension, one statement per perspective.  Cards ask
  # each side from its perspective, and the perspective from each side.
  - id: caffeine
    dimension: Caffeine per cup
    sides:
      tea: About 40 mg
      coffee: About 95 mg
"""


def write_starter(folder: str, title: str | None = None) -> list[str]:
    """Write ``deckgen.yaml`` and ``01-basics.yaml`` into *folder* (new or empty)."""
    if os.path.exists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
        raise DeckgenError(f"{folder}: already exists and is not an empty folder; choose a new name")
    name = title or os.path.basename(os.path.normpath(folder)).replace("_", " ").replace("-", " ").strip()
    if not name or any(c in name for c in '"\\') or any(ord(c) < 32 for c in name):
        raise DeckgenError(f"{name!r} cannot be a title; give one with --title")
    source_id = slug(name)[:64].strip("-_") or "my-source"
    os.makedirs(folder, exist_ok=True)
    files = {
        os.path.join(folder, "deckgen.yaml"): CONFIG.format(id=source_id, title=name),
        os.path.join(folder, "01-basics.yaml"): TOPIC.format(),
    }
    for path, text in files.items():
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(text)
    return list(files)
