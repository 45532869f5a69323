"""``deckgen new``: a commented starter source that builds as it is."""

from __future__ import annotations

import contextlib
import os

from generator.build.journal import make_folders, remove_folders
from generator.errors import DeckgenError
from generator.source.loader import slug_id

CONFIG = """\
# deckgen.yaml: who this source is and which perspectives it compares.
# `id` is part of every note's identity (GUID) and tag: never change it once
# students study the decks.  `title` is shown as the source on every card.
id: "{id}"
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
# content with your own; `deckgen check --source THIS_FOLDER` explains problems
# and warns about cards that will not teach (`--strict` makes that an error).
#
# The one rule: nothing is asked unless you mark it.  {{A key term}} in a
# title, explanation, point or conclusion becomes one cloze card that hides it;
# unmarked text is context.  Hide a few words that carry the idea, never a
# sentence, and never words the card shows elsewhere.
topic: basics                  # id: lowercase letters, digits, '-' and '_'
name: Basics                   # deck name part: "<deck>::Basics"
heading: The basics            # optional: the small context line of each card
question: Whose habit is this?  # optional: asks it of each item with a perspective
items:
  - id: morning-cup            # unique across all files; never change it
    perspective: tea           # optional: the perspective it belongs to
    title: The morning cup     # shown above the sentence asked
    cue: A pot brewed slowly before work   # optional: what "Whose habit is this?" shows
    explanation: >-            # a key term's card shows only its own sentence
      Many tea drinkers start the day with a strong black tea, often with milk.
      They value:
    points:                    # key -> text; keys are ids, keep them stable
      ritual: The ritual of brewing a pot      # not marked: context, on the back
      calm: "{{Calm}} alertness rather than a jolt"   # marked: one card; quote text starting with {{

  - id: chanoyu
    perspective: tea
    title: A ceremony of hospitality
    explanation: In Japan, the way of preparing and serving it is called {{chanoyu}}.

  - id: espresso
    perspective: coffee
    title: Espresso
    explanation: Espresso forces hot water through finely ground coffee under {{pressure}}.

  - id: coffee-origin
    perspective: coffee
    title: Where it began
    explanation: Its beans were first brewed as a drink in {{Yemen}}.

  # An item that marks nothing is context: stated in the source, no card.
  - id: both-daily
    explanation: Both drinks are part of daily life for billions of people.

comparisons:
  # One dimension, one statement per perspective (all of them, none the same).
  # Cards ask each side from its perspective, and the perspective from each side.
  - id: caffeine
    dimension: Caffeine per cup
    question: "How much caffeine is in a cup of {perspective}?"   # optional; {perspective} is each name
    which_question: Which drink has this much caffeine?            # optional: the reverse question
    sides:
      tea: About 40 mg
      coffee: About 95 mg

  - id: top-producer
    dimension: Largest producer
    ask: both                  # optional: both (default), side or perspective
    sides:
      tea: China
      coffee: Brazil
"""


def write_starter(folder: str, title: str | None = None) -> list[str]:
    """Write ``deckgen.yaml`` and ``01-basics.yaml`` into *folder* (new or empty)."""
    _check_free(folder)
    name = _title(folder, title)
    source_id = slug_id(name) or "my-source"
    files = {
        os.path.join(folder, "deckgen.yaml"): CONFIG.format(id=source_id, title=name),
        os.path.join(folder, "01-basics.yaml"): TOPIC,
    }
    _write_all(folder, files)
    return list(files)


def _check_free(folder: str) -> None:
    """Refuse a *folder* that exists and is not an empty folder: the starter never overwrites."""
    try:
        taken = os.path.exists(folder) and (not os.path.isdir(folder) or bool(os.listdir(folder)))
    except OSError as error:  # a folder that cannot be listed
        raise DeckgenError(f"cannot write {folder}: {error.strerror or error}") from None
    if taken:
        raise DeckgenError(f"{folder}: already exists and is not an empty folder; choose a new name")


def _title(folder: str, title: str | None) -> str:
    """The source's title: *title*, else the folder's name; it goes into a double-quoted YAML string."""
    name = title or os.path.basename(os.path.normpath(folder)).replace("_", " ").replace("-", " ").strip()
    if not name or any(c in name for c in '"\\') or any(ord(c) < 32 for c in name):
        raise DeckgenError(f"{name!r} cannot be a title; give one with --title")
    return name


def _write_all(folder: str, files: dict[str, str]) -> None:
    """Write *files* (text by path) into *folder*; on failure remove what this call wrote."""
    created: list[str] = []  # folders this call made: removed again if the starter cannot be written
    written: list[str] = []
    try:
        make_folders(folder, created)
        for path, text in files.items():
            with open(path, "x", encoding="utf-8") as handle:
                written.append(path)
                handle.write(text)
    except OSError as error:
        for path in written:
            with contextlib.suppress(OSError):
                os.remove(path)
        remove_folders(created)
        raise DeckgenError(f"cannot write {folder}: {error.strerror or error}") from None
