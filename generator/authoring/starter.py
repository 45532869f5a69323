"""``deckgen new``: a commented starter source that builds as it is.

Whatever the title, the starter passes ``deckgen check``: the title keeps
what a source's title may hold (:func:`generator.authoring.written.plain`:
no control characters, no ``{{``/``}}`` pair), the deck name is made of it
by the deck-name rules (no ``::`` part empty, no spreadsheet formula start,
at most 200 characters: ``Tea::`` -> ``Tea``, ``=1+1`` -> ``1+1``), and both
are written quoted.  Only a title with nothing left (``" "``) is refused:
a fallback would name the course something its author never wrote.
"""

from __future__ import annotations

import contextlib
import os

from generator.authoring.editor_schema import (
    CONFIG_SCHEMA,
    SCHEMA_FOLDER,
    TOPIC_SCHEMA,
    modeline,
    schema_texts,
)
from generator.authoring.written import deck_name, plain, quoted
from generator.errors import DeckgenError
from generator.pipeline.journal import make_folders, remove_folders
from generator.source.loader import slug_id

CONFIG = """\
# deckgen.yaml: who this source is and which perspectives it compares.
# `id` is part of every note's identity (GUID) and tag: never change it once
# students study the decks.  `title` is shown as the source on every card.
id: {id}
title: {title}
# The root deck; topics become its subdecks.  "::" nests it ("Course::My deck").
deck: {deck}
# Two or more perspectives: id (never change it) -> name shown on cards.
# This example compares three ways of working; put your own here.
perspectives:
  remote: Remote work
  office: Office work
  hybrid: Hybrid work
"""

BASICS = """\
# One topic = one deck package (decks_out/basics.apkg).  Replace the example
# content with your own; `deckgen check --source THIS_FOLDER` explains problems
# and warns about cards that will not teach (`--strict` makes that an error).
#
# The one rule: nothing is asked unless you mark it.  {{A key term}} in a
# title, explanation, point or conclusion becomes one cloze card that hides it;
# unmarked text is context.  Hide a few words that carry the idea, never a
# sentence, and never words the card shows elsewhere.
#
# Quote a text (with "...") when it starts with {{ or another sign YAML reads
# ([ { & * ! | > % @ `), or when it holds ': ' (YAML would read a second key).
topic: basics                  # id: lowercase letters, digits, '-' and '_'
name: Basics                   # deck name part: "<deck>::Basics"
heading: Three ways of working # optional: the small context line of each card
question: Which way of working is this?   # optional: asks it of each item with a perspective

# Definitions are comparisons: one dimension, one statement per perspective
# (every perspective, no two the same).  Cards ask each side from its
# perspective, and the perspective from each side.
comparisons:
  - id: meeting
    dimension: Meeting in person
    question: "{perspective}: how often does the team meet in person?"   # optional; {perspective}: each name
    which_question: Which way of working meets this often?   # optional: the reverse question
    sides:
      remote: Rarely, at planned meetups a few times a year
      office: Every working day, without planning it
      hybrid: On fixed days each week

  - id: core-value
    dimension: Core value
    question: "{perspective}: which value does it put first?"
    which_question: Which way of working puts this value first?
    ask: both                  # optional: both (default), side or perspective
    sides:                     # quoted: each holds ': ', which YAML would read as a second key
      remote: "Autonomy: you choose your place and your hours"
      office: "Presence: everyone together, on one daily rhythm"
      hybrid: "Balance: contact on some days, freedom on the rest"

# A glossary: each term is one note of two cards, "What is X?" -> its
# definition, and the definition -> "Which term is defined here?" (`ask:
# definition` or `ask: term` keeps one).  With `question`, the one card asks
# your own "why" or "how" and shows the definition as its answer.
terms:
  - id: asynchronous
    term: Asynchronous work
    definition: Work that does not need everyone at the same time; each person replies when they can.
  - id: why-write-it-down
    term: Why remote teams write more   # its name in Anki's browser; not asked
    question: Why do remote teams put more of their work in writing than office teams?
    definition: They cannot settle things with a quick word across the desk, so writing is how work stays visible.

# Items state facts of one perspective (or of none).
items:
  - id: deep-focus             # unique across all files; never change it
    perspective: remote        # optional: the perspective it belongs to
    title: Deep focus          # shown above the sentence asked
    cue: No commute, and nobody stops by the desk   # optional: what "Which way ...?" shows
    explanation: >-            # a key term's card shows only its own sentence
      Without a commute or a busy floor, people get long stretches of
      {{uninterrupted time}} for demanding work.

  - id: overhearing
    perspective: office
    title: Learning by overhearing
    cue: Newcomers learn the job by watching the colleagues next to them
    explanation: >-
      Junior staff learn much through {{informal mentoring}}: questions asked in
      passing and conversations they overhear.

  - id: anchor-days
    perspective: hybrid
    title: Anchor days
    cue: Everyone travels in on the same agreed weekdays
    explanation: >-
      Teams agree on shared office days, because a trip to the workplace pays
      off only when {{the people you need}} are there too.
    points:                    # key -> text; keys are ids, keep them stable
      meetings: Meetings and workshops go on the shared days   # not marked: context, on the back
      focus: Focused tasks wait for the other days

  - id: trade-off              # no perspective: asked only through its mark
    explanation: "Every way of working is a trade-off: remote work buys focus at the cost of {{chance conversations}}."

  # An item that marks nothing is context: stated in the source, no card.
  - id: mixing
    explanation: Most people work in more than one of these ways over a career.
"""

LESSONS = """\
# A second topic: what each perspective can learn from the others.
# `headings` gives each perspective's items their own context line: the
# direction of the lesson ("what A can learn from B") shows on their cards.
topic: lessons
name: Lessons
heading: What each can learn from the others
headings:
  remote: What remote teams can learn from the office
  office: What office teams can learn from remote teams
  hybrid: What hybrid teams can learn from both
items:
  - id: rituals
    perspective: remote
    title: Keeping in touch
    explanation: >-
      Remote teams get the contact an office gives for free by scheduling
      {{regular rituals}}.
    points:
      examples: A weekly call, a yearly meetup   # unmarked: shown on the back, not asked

  - id: written-decisions
    perspective: office
    title: Decisions in writing
    explanation: >-
      Office teams can write decisions down, so that {{people who were not in
      the room}} can follow them.

  - id: deliberate-days
    perspective: hybrid
    title: Choosing the day for the task
    explanation: "{{Collaboration}} belongs at the workplace, concentration away from it."   # quoted: starts with {{
"""


def write_starter(folder: str, title: str | None = None) -> list[str]:
    """Write ``deckgen.yaml``, ``01-basics.yaml``, ``02-lessons.yaml`` and ``schema/`` into *folder* (new or empty).

    The files are the worked example of docs/writing.md ("Writing a deck on your own
    subject"), commented so that each shows what every construct does.
    """
    _check_free(folder)
    name = _title(folder, title)
    source_id = slug_id(name) or "my-source"
    config = CONFIG.format(id=quoted(source_id), title=quoted(name), deck=quoted(deck_name(name, fallback="My deck")))
    files = {
        os.path.join(folder, "deckgen.yaml"): modeline(CONFIG_SCHEMA) + config,
        os.path.join(folder, "01-basics.yaml"): modeline(TOPIC_SCHEMA) + BASICS,
        os.path.join(folder, "02-lessons.yaml"): modeline(TOPIC_SCHEMA) + LESSONS,
    }
    # the schemas the first lines name, so an editor checks the files as the author types
    files |= {os.path.join(folder, SCHEMA_FOLDER, name): text for name, text in schema_texts().items()}
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
    """The source's title: *title*, else the folder's name, as a source's title may be (see the module)."""
    if title is not None:
        if not plain(title):
            raise DeckgenError(f"--title {title!r} is blank: give a title with at least one visible character")
        return plain(title)
    name = plain(os.path.basename(os.path.normpath(folder)).replace("_", " ").replace("-", " "))
    if not name:
        raise DeckgenError(f"{folder!r} gives no title; give one with --title")
    return name


def _write_all(folder: str, files: dict[str, str]) -> None:
    """Write *files* (text by path) into *folder*; on failure remove what this call wrote."""
    created: list[str] = []  # folders this call made: removed again if the starter cannot be written
    written: list[str] = []
    try:
        make_folders(os.path.join(folder, SCHEMA_FOLDER), created)
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
