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
# sentence, and never words the card shows elsewhere.  State each fact once:
# a fact two cards state is the answer of one on the front of the other.
#
# Quote a text (with "...") when it starts with {{ or another sign YAML reads
# ([ { & * ! | > % @ `), or when it holds ': ' (YAML would read a second key).
topic: basics                  # id: lowercase letters, digits, '-' and '_'
name: Basics                   # deck name part: "<deck>::Basics"
heading: Three ways of working # optional: the small context line of each card
question: Which way of working is this?   # optional: asks it of each item with a perspective

# Definitions are comparisons: one dimension, one statement per perspective
# (every perspective, no two the same).  Cards ask each side from its
# perspective and, by default (`ask: both`), the perspective from each side
# (`which_question` words that card).  Where a side's own words name its
# perspective ("two or three days a week" is plainly hybrid), ask only the
# sides: the reverse card would be answered by plain meaning, and would show
# the forward card's answer beside it.
comparisons:
  - id: meeting
    dimension: Meeting in person
    question: "{perspective}: how often does the team meet in person?"   # optional; {perspective}: each name
    ask: side                  # optional: both (default), side or perspective
    sides:
      remote: A few times a year, at planned meetups
      office: Every working day, without anyone arranging it
      hybrid: Two or three fixed days a week

  - id: core-value
    dimension: Core value
    question: "{perspective}: which value does it put first?"
    ask: side
    sides:                     # quoted: each holds ': ', which YAML would read as a second key
      remote: "Autonomy: you choose your place and your hours"
      office: "Presence: everyone together, on one daily rhythm"
      hybrid: "Balance: the office's contact and home's quiet in the same week"

# A glossary: each term is one note of two cards, "What is X?" -> its
# definition, and the definition -> "Which term is defined here?" (`ask:
# definition` or `ask: term` keeps one).  With `question`, the one card asks
# your own "why" or "how" and shows the definition as its answer: the card
# to write when a cloze's own sentence would give its answer away.
terms:
  - id: asynchronous
    term: Asynchronous work
    definition: Work that does not need everyone at the same time; each person replies when they can.
  - id: why-write-it-down
    term: Why remote teams write more   # its name in Anki's browser; not asked
    question: Why do remote teams put more of their work in writing than office teams?
    definition: They cannot settle things with a quick word across the desk, so writing is how work stays visible.

# Items state facts of one perspective (or of none).  An item with a
# perspective and a title is also asked "Which way of working is this?": its
# cue (or else its title) is the prompt.  Its cloze shows the perspective's
# name beside its sentence, so the cue states another fact, in other words.
items:
  - id: deep-focus             # unique across all files; never change it
    perspective: remote        # optional: the perspective it belongs to
    title: Deep focus          # shown above the sentence asked
    cue: Every meeting is a video call, even between two people in the same city
    explanation: >-            # a key term's card shows only its own sentence
      Working from home spares people most interruptions, and each costs more
      than it seems: getting back into a demanding task takes
      {{over twenty minutes}}.

  - id: open-plan
    perspective: office
    title: The open-plan paradox
    cue: The company rents a whole floor, with a desk for every person, and no one on the team works from home
    explanation: >-
      When companies moved staff into open-plan offices, face-to-face
      conversation fell by about {{70 %}}: people put on headphones and wrote
      messages instead.

  - id: proximity-bias
    perspective: hybrid
    title: Who gets noticed
    cue: In most meetings some faces are in the room and some on a screen
    explanation: >-
      Managers tend to rate the people they see at their desks above those
      working elsewhere, a {{proximity bias}} that hybrid teams must watch for.
    points:                    # key -> text; keys are ids, keep them stable
      results: Judge work by its results, not by who is seen doing it   # not marked: context, on the back
      meetings: Run meetings as if everyone were remote, one screen each

  - id: first-word             # no perspective: asked only through its mark
    explanation: >-
      In 1973 the engineer Jack Nilles coined the word {{telecommuting}} for
      working from home instead of driving to the office.

  # An item that marks nothing is context: stated in the source, no card.
  - id: mixing
    explanation: Most people work in more than one of these ways over a career.
"""

LESSONS = """\
# A second topic: what each perspective can learn from the others.  Where a
# cloze would hide a word anyone could guess from its own sentence (a
# whiteboard, an agenda), ask the lesson as a question of your own.
# `headings` gives a perspective's items their own context line: the
# direction of the lesson ("what A can learn from B") shows on their cards.
topic: lessons
name: Lessons
heading: What each can learn from the others
headings:
  hybrid: What hybrid teams can learn from both
terms:
  - id: whiteboard-on-calls
    term: A whiteboard on calls    # its name in Anki's browser; not asked
    question: When a remote team plans a project on a call, which office tool should it bring in, and in what form?
    definition: The whiteboard, as one shared online canvas that everyone draws on.
  - id: agenda-first
    term: An agenda before meetings
    question: What can office teams borrow from remote teams before every meeting, and why?
    definition: An agenda sent ahead, so that everyone comes prepared.
items:
  - id: deliberate-days
    perspective: hybrid
    title: A full office
    # quoted: it starts with {{
    explanation: "{{Anchor days}}, when the whole team comes in, keep a hybrid office from standing half empty."
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
