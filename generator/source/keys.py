"""The keys of every mapping an author writes, and what each one means: one table per mapping.

The loader reads each mapping with its table (``reader.mapping(node, where,
TABLE.required, TABLE.optional)``), and ``deckgen schema`` writes the JSON
Schema an editor checks with from the same tables
(:mod:`generator.authoring.editor_schema`), so the two cannot disagree on
which keys exist or which are required.  A key's *kind* names the shape of
its value; the loader's own code checks the finer rules (an id's pattern, a
deck name's limits) and the schema repeats those JSON Schema can say.  The
descriptions are the format's reference: one sentence and an example each,
shown by an editor as the author types the key.

Recipes (:mod:`generator.cards.recipe`) are tabled here too, beside the
sources: every file an author writes is described in one place.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

from generator.source.media import AUDIO, IMAGE

Kind = Literal[
    "id", "text", "plain", "marked", "name", "deck", "path", "perspectives", "by_perspective", "sides",
    "points", "tags", "ask", "term_ask", "deck_order", "backs", "origins", "items", "comparisons", "terms", "decks",
    "ids", "kinds", "file", "formerly",
]
"""The shape of a key's value (see :mod:`generator.authoring.editor_schema` for each as JSON Schema)."""

JsonValue = str | int | list["JsonValue"] | dict[str, "JsonValue"]
"""An example value, as a YAML file would hold it (and JSON can write it)."""


class Key(NamedTuple):
    """One key of a mapping: its name, the shape of its value, a one-sentence description and an example."""

    name: str
    kind: Kind
    description: str
    example: JsonValue
    required: bool = False


class Table(NamedTuple):
    """The keys of one kind of mapping, required ones first (the order messages list them in)."""

    title: str
    description: str
    keys: tuple[Key, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """The names of the keys a mapping must have."""
        return tuple(key.name for key in self.keys if key.required)

    @property
    def optional(self) -> tuple[str, ...]:
        """The names of the keys a mapping may have."""
        return tuple(key.name for key in self.keys if not key.required)


CONFIG = Table(
    "deckgen.yaml",
    "A source's settings: who it is, its root deck and the perspectives it compares, if it compares any.",
    (
        Key("id", "id", "The source's id, part of every note's identity: never change it once students study.",
            "intro-psych", required=True),
        Key("title", "plain", "The source's title, shown as the source on every card.", "Introduction to psychology",
            required=True),
        Key("deck", "deck", "The root deck; each topic becomes its subdeck, and '::' nests it under parent decks.",
            "Psych 101::Cards", required=True),
        Key("perspectives", "perspectives",
            "The viewpoints the source compares, if any (then two or more): id (never change it) to the name shown"
            " on cards; without them the source makes concept decks of clozes and terms.",
            {"behaviourism": "Behaviourism", "cognitivism": "Cognitivism"}),
        Key("deck_order", "deck_order", "numbered: topic decks start with their place among the topic files, so"
            " Anki lists them in the source's order; by-name (the default): by their names alone.", "numbered"),
        Key("backs", "backs", "short: a key term's back shows its sentence and the few sentences after it, no"
            " other item's text; full (the default): the item's whole text and the context items around it.",
            "short"),
    ),
)

ITEM = Table(
    "item",
    "A fact of one perspective (or of none); only its {{marked}} key terms are asked.",
    (
        Key("id", "id", "The item's id, unique across every file and part of its notes' identity: never change it.",
            "deep-focus", required=True),
        Key("perspective", "plain", "The id of the perspective this item belongs to, if it belongs to one.",
            "remote"),
        Key("title", "marked", "Shown above the sentence asked; may mark key terms with {{...}}.", "Deep focus"),
        Key("cue", "plain", "What a 'which perspective?' card shows instead of the title.",
            "No commute, and nobody stops by the desk"),
        Key("question", "plain", "This item's own 'which perspective?' question (it needs a perspective and a title"
            " or cue).", "Which way of working is this?"),
        Key("explanation", "marked", "The item's text: each {{key term}} becomes a cloze card showing its sentence.",
            "People get long stretches of {{uninterrupted time}}."),
        Key("points", "points", "Named points (id to text), each a line on the back; marked ones are asked.",
            {"meetings": "Meetings go on the {{shared days}}"}),
        Key("conclusion", "marked", "A closing sentence, shown last; may mark key terms.",
            "Focus is {{the first gain}}."),
        Key("formerly", "formerly", "Key terms corrected since a release: the words marked now to the words the"
            " release carried (or to a mapping of 'explanation' or 'conclusion' to them, where only one text was"
            " corrected), so that their notes keep their identity and students' history.",
            {"uninterrupted time": "uninterupted time"}),
        Key("tags", "tags", "Tags given to this item's notes (no spaces; '::' nests them).", ["exam::week-3"]),
        Key(IMAGE, "path", "An image file (PNG, JPEG, GIF or WebP) in the source folder, shown on the cards.",
            "images/desk.png"),
        Key(AUDIO, "path", "An audio file (MP3, Ogg, M4A or WAV) in the source folder, played on the cards.",
            "audio/commute.mp3"),
    ),
)

COMPARISON = Table(
    "comparison",
    "One dimension and what each perspective says about it; cards ask each side and each perspective.",
    (
        Key("id", "id", "The comparison's id, unique across every file and part of its notes' identity.", "meeting",
            required=True),
        Key("dimension", "plain", "What the sides are compared on.", "Meeting in person", required=True),
        Key("sides", "sides", "Each perspective's statement (two or more, no two the same), by perspective id.",
            {"remote": "Rarely, at planned meetups", "office": "Every working day"}, required=True),
        Key("question", "plain", "The question asking a side; {perspective} stands for each perspective's name.",
            "{perspective}: how often does the team meet?"),
        Key("questions", "by_perspective", "A side's own question, by perspective id, where one question cannot"
            " fit every side; each contains {perspective}. Sides not named ask 'question'.",
            {"office": "{perspective}: what does a meeting cost the team?"}),
        Key("which_question", "plain", "The reverse question, asking which perspective says a side.",
            "Which way of working meets this often?"),
        Key("ask", "ask", "What the cards ask: both directions (default), only the sides, or only the perspectives.",
            "both"),
        Key("tags", "tags", "Tags given to this comparison's notes.", ["exam::week-3"]),
        Key("from", "origins", "The item (anywhere in the source) each side restates, by perspective id.",
            {"remote": "deep-focus"}),
    ),
)

TERM = Table(
    "term",
    "A glossary entry: one note whose cards ask the definition from the term and the term from the definition.",
    (
        Key("id", "id", "The term's id, unique across every file and part of its note's identity: never change it.",
            "theanine", required=True),
        Key("term", "plain", "The term, as the front of the card that asks its definition shows it.", "L-theanine",
            required=True),
        Key("definition", "plain", "What the term means, as the front of the card that asks the term shows it.",
            "An amino acid in tea leaves that takes the edge off caffeine.", required=True),
        Key("ask", "term_ask", "What the cards ask: both directions (default), only the definition from the term,"
            " or only the term from the definition.", "both"),
        Key("question", "plain", "A question of your own, asked instead of \"What is <term>?\": a why or how question"
            " whose answer is the definition. Only that card is made (the term is its name in Anki's browser,"
            " not asked back).", "Why does tea calm where coffee jolts?"),
        Key("tags", "tags", "Tags given to this term's note.", ["exam::week-3"]),
    ),
)

TOPIC = Table(
    "topic file",
    "One topic of a source, built into one deck package; it needs items, comparisons, terms or any mix of them.",
    (
        Key("topic", "id", "The topic's id, which names its package (<id>.apkg): never change it.", "basics",
            required=True),
        Key("name", "name", "The topic's deck name part, under the source's deck (no '::').", "Basics",
            required=True),
        Key("heading", "plain", "The small context line shown on each of the topic's cards.",
            "Three ways of working"),
        Key("headings", "by_perspective", "A context line per perspective, by perspective id, instead of the"
            " heading.", {"remote": "What remote teams can learn from the office"}),
        Key("question", "plain", "The 'which perspective?' question asked of each item with a perspective and a"
            " title or cue.", "Which way of working is this?"),
        Key("items", "items", "The topic's facts, each of one perspective or of none.",
            [{"id": "deep-focus", "perspective": "remote", "explanation": "Long stretches of {{focus}}."}]),
        Key("comparisons", "comparisons", "Dimensions on which the perspectives differ, one statement each.",
            [{"id": "meeting", "dimension": "Meeting in person",
              "sides": {"remote": "Rarely", "office": "Every day"}}]),
        Key("terms", "terms", "A glossary: each term is asked from its definition and its definition from the term.",
            [{"id": "theanine", "term": "L-theanine", "definition": "An amino acid in tea leaves."}]),
    ),
)

RECIPE_DECK = Table(
    "recipe deck",
    "One custom deck: the notes it selects (every filter empty selects all) and its root deck name.",
    (
        Key("name", "deck", "The deck's root name; '::' nests it under parent decks.", "Soc 101::Week 3",
            required=True),
        Key("file", "file", "The package's file name without extension (default: a slug of the name).", "week-3"),
        Key("topics", "ids", "Only notes of these topic ids.", ["strengths", "limitations"]),
        Key("perspectives", "ids", "Only notes of these perspective ids.", ["collectivism"]),
        Key("kinds", "kinds", "Only notes of these kinds (the names `--kind` takes).", ["cloze"]),
        Key("tags", "tags", "Only notes with one of these tags or a child of it.", ["exam"]),
        Key("extra_tags", "tags", "Tags added to every note of this deck.", ["soc101::week3"]),
    ),
)

RECIPE = Table(
    "recipe",
    "Several custom decks built at once (deckgen build --recipe FILE), for a course built again each term.",
    (
        Key("decks", "decks", "The custom decks to build, one package each.",
            [{"name": "Soc 101::Week 3", "topics": ["strengths"]}], required=True),
        Key("source", "text", "The source folder, relative to the recipe file (default: --source).",
            "../cards_source"),
    ),
)

NESTED: dict[Kind, Table] = {"items": ITEM, "comparisons": COMPARISON, "terms": TERM, "decks": RECIPE_DECK}
"""The kinds whose value is a list of mappings, and the table of those mappings."""
