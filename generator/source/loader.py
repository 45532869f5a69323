"""Load a source folder into validated :class:`~generator.source.content.Source` content.

A source folder holds ``deckgen.yaml`` (the source's id, title, root deck name
and perspectives) and one YAML file per topic.  Every file is read strictly
(:mod:`generator.source.yamlread`) and every problem in every file is collected before
one :class:`~generator.errors.ContentError` is raised.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Literal, NamedTuple

from generator.errors import Problems
from generator.source.content import (
    ASK_CHOICES,
    BOTH,
    PERSPECTIVE,
    PERSPECTIVE_PLACEHOLDER,
    REMOVED_TAG,
    SIDE,
    TERM_ASK_CHOICES,
    Comparison,
    Item,
    Marked,
    MediaFile,
    Origin,
    Perspective,
    Point,
    Source,
    Term,
    Topic,
)
from generator.source.folder import CONFIG_FILE, ID_PATTERN, MAX_FILE_BYTES, MISNAMED_CONFIG, topic_names
from generator.source.guarded import read_regular
from generator.source.keys import COMPARISON, CONFIG, ITEM, TERM, TOPIC
from generator.source.markup import MarkupError, has_markers, parse_marked, slug
from generator.source.media import MEDIA_KINDS, read_media
from generator.source.tree import NO_MAPPING, Mapping, Node
from generator.source.treeread import Reader
from generator.source.words import title_stems
from generator.source.yamlread import read_yaml

PerspectiveIds = set[str] | None
"""The perspective ids a topic may name; None while deckgen.yaml is invalid (references go unchecked)."""
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 100
MAX_DECK_NAME_LENGTH = 2 * MAX_NAME_LENGTH
"""A root deck name's limit: the source's ``deck`` and a custom deck's name."""
DeckNameFault = Literal["parts", "length", "formula"]
_ID_HELP = "use lowercase letters, digits, '-' and '_' (e.g. 'personal-freedom')"
FORMULA_START = "=+-@"
"""Characters a spreadsheet reads as the start of a formula (a CSV export's deck column)."""
WINDOWS_RESERVED = frozenset(
    ["con", "prn", "aux", "nul"] + [f"{port}{n}" for port in ("com", "lpt") for n in range(1, 10)]
)
"""Names Windows will not give a file: a topic id becomes ``<id>.apkg``."""


def slug_id(text: str, limit: int = MAX_ID_LENGTH) -> str:
    """A valid id made of *text*'s ASCII letters and digits ("Café 101" -> "cafe-101"); "" if it has none."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:limit].strip("-")
    return f"x-{slug}" if slug in WINDOWS_RESERVED else slug  # a topic id is also a file name


@dataclass(frozen=True)
class Settings:
    """What ``deckgen.yaml`` says, once every field of it is valid."""

    id: str
    title: str
    deck: str
    perspectives: tuple[Perspective, ...]
    numbered: bool = False
    short_backs: bool = False


@dataclass
class TopicMemo:
    """Validated topics by file and bytes: a build keeps them, so a file it has seen is not parsed again.

    A topic is a function of its file's bytes and of the settings file's (its
    perspectives); the checks across files run on every load.  :meth:`recall`
    gives what an earlier load kept (none here); *seen* is filled by this
    load, for the next.  Topics that declare media are not kept: they depend
    on other files too.
    """

    seen: dict[tuple[str, str], tuple[Topic, int]] = field(default_factory=dict)
    """(path, :func:`memo_key`) → the topic and the line of its name."""

    def recall(self, path: str, key: str) -> tuple[Topic, int] | None:
        """The topic (and its name's line) of the file *path* whose :func:`memo_key` is *key*, if known."""
        return None


def memo_key(settings: bytes, topic_file: bytes) -> str:
    """What a topic file's validated content depends on: its bytes and the settings file's."""
    return hashlib.sha256(hashlib.sha256(settings).digest() + topic_file).hexdigest()


def load_source(directory: str, memo: TopicMemo | None = None) -> Source:
    """Read and validate every file of the source folder *directory*.

    Raises :class:`~generator.errors.ContentError` listing every problem found.
    With a *memo*, a topic file whose bytes it knows is not parsed again.
    """
    problems = Problems()
    if not os.path.isdir(directory):
        problems.add(directory, 1, "", "no such source folder")
        problems.raise_if_any()
    read: dict[str, bytes] = {}  # the bytes the source is built from, by path
    media = MediaFolder(directory, {})
    settings = _read_settings(directory, problems, read)
    # None while deckgen.yaml is invalid: its problems are reported, not one per reference to it
    perspective_ids = {p.id for p in settings.perspectives} if settings else None
    settings_bytes = read.get(os.path.join(directory, CONFIG_FILE)) if memo is not None else None
    remember = _Remember(memo, settings_bytes) if memo is not None and settings_bytes is not None else None
    topics = _read_topics(directory, perspective_ids, problems=problems, read=read, media=media, remember=remember)
    problems.raise_if_any()
    assert settings is not None
    return Source(
        id=settings.id,
        title=settings.title,
        deck=settings.deck,
        perspectives=settings.perspectives,
        topics=topics,
        directory=directory,
        numbered=settings.numbered,
        short_backs=settings.short_backs,
        inputs=_inputs(read, media.seen),
    )


def read_one_topic(directory: str, path: str, read: dict[str, bytes]) -> tuple[Topic, int] | None:
    """The topic file *path* of the source folder *directory*, validated on its own, and its name's line.

    What a load keeps in its memo (see :class:`TopicMemo`): the checks across
    files aside, which every load runs.  None where the file or the settings
    have a problem (a load says what), or the topic declares media (it depends
    on other files).  *read* receives the bytes of both files, as read.
    """
    problems = Problems()
    settings = _read_settings(directory, problems, read)
    if settings is None:
        return None
    perspectives = {p.id for p in settings.perspectives}
    name_lines: dict[str, int] = {}
    media = MediaFolder(directory, {})
    topic = _read_topic(path, perspectives, problems=problems, name_lines=name_lines, read=read, media=media)
    if topic is None or problems.items or topic.media_paths:
        return None
    return topic, name_lines[path]


class MediaFolder(NamedTuple):
    """Where items' media files are looked for (the source folder), and those read so far (by declared path)."""

    directory: str
    seen: dict[str, MediaFile]


def _inputs(read: dict[str, bytes], media: dict[str, MediaFile]) -> tuple[tuple[str, str], ...]:
    """Each file read by name (a media file by its declared path) with the SHA-256 of its bytes."""
    files = {os.path.basename(path): hashlib.sha256(data).hexdigest() for path, data in read.items()}
    files |= {path: file.sha256 for path, file in media.items()}
    return tuple(sorted(files.items()))


def _read_settings(directory: str, problems: Problems, read: dict[str, bytes]) -> Settings | None:
    config_path = os.path.join(directory, CONFIG_FILE)
    misnamed = os.path.join(directory, MISNAMED_CONFIG)
    if os.path.lexists(misnamed):  # read by no one: say so rather than let it be ignored
        problems.add(misnamed, 1, "", f"the source's settings are read from {CONFIG_FILE} only; rename this file")
    if os.path.lexists(config_path):  # lexists: a broken link is reported, not "missing"
        return _read_config(config_path, problems, read)
    if not os.path.lexists(misnamed):
        problems.add(config_path, 1, "", f"missing: a source folder needs a {CONFIG_FILE} (see README)")
    return None


def _read_config(path: str, problems: Problems, read: dict[str, bytes]) -> Settings | None:
    root = read_yaml(path, path, problems, read)
    return None if root is None else settings_from_tree(root, path, problems)


def settings_from_tree(root: Node, file: str, problems: Problems) -> Settings | None:
    """The settings the tree *root* of the file *file* states, or ``None`` after recording its problems.

    The tree is what a reader made of the file (:mod:`generator.source.tree`):
    these checks do not know which format it was written in.
    """
    reader = Reader(file, problems)
    fields = reader.mapping(root, "", CONFIG.required, CONFIG.optional)
    if fields is None:
        return None
    source_id = _ident(reader, fields.get("id"), "id")
    title = _plain_text(reader, fields.get("title"), "title")
    deck = _deck_name(reader, fields.get("deck"), "deck")
    # Optional: a source that compares nothing (a chapter, a glossary) gets clozes and term cards.
    perspectives = _perspectives(reader, fields["perspectives"]) if "perspectives" in fields else ()
    numbered = _choice(reader, fields.get("deck_order"), "deck_order", DECK_ORDERS)
    short_backs = _choice(reader, fields.get("backs"), "backs", BACKS)
    compared = len(perspectives) >= 2 or "perspectives" not in fields
    if source_id and title and deck and compared and numbered is not None and short_backs is not None:
        return Settings(source_id, title, deck, perspectives, numbered, short_backs)
    return None


DECK_ORDERS = {"numbered": True, "by-name": False}
"""``deck_order``: topic decks numbered in the source's order (``2 Foundations``), or by name alone."""
BACKS = {"full": False, "short": True}
"""``backs``: a back shows the item's whole text and the context around it, or only the sentences near the one asked."""
_CHOICES = {
    "deck_order": "numbered (decks listed in the files' order), by-name (Anki sorts the names)",
    "backs": "full (the item's whole text and the context around it), short (the sentences near the one asked)",
}


def _choice(reader: Reader, node: Node | None, key: str, choices: dict[str, bool]) -> bool | None:
    """The setting *key* of a choice between two (False when absent); None (a problem recorded) for another value."""
    if node is None:
        return False
    value = reader.text(node, key)
    if value in choices:
        return choices[value]
    if value is not None:
        reader.problem(node, key, f"{value!r} is not one of {_CHOICES[key]}")
    return None


class _NameOwner(NamedTuple):
    """The first perspective given a name (and the line of that name)."""

    id: str
    name: str
    line: int


def _perspectives(reader: Reader, node: Node) -> tuple[Perspective, ...]:
    pairs = reader.pairs(node, "perspectives")
    owners: dict[str, _NameOwner] = {}  # by case-folded name
    perspectives = tuple(
        perspective
        for pid, key_node, value in pairs or ()
        if (perspective := _perspective(reader, key_node, pid=pid, value=value, owners=owners))
    )
    # counted as given, so a misspelt entry is reported once, as itself
    if isinstance(node, Mapping) and len(node.entries) < 2:
        reader.problem(node, "perspectives", "name at least two perspectives")
    return perspectives


def _perspective(
    reader: Reader, key_node: Node, *, pid: str, value: Node, owners: dict[str, _NameOwner]
) -> Perspective | None:
    """One ``id: name`` entry; *owners* holds the names given so far, to refuse one given twice."""
    where = f"perspectives.{pid}"
    ok_id = _check_ident(reader, key_node, value=pid, where=where)
    name = _name(reader, value, where)
    if name and name.casefold() in owners:  # "what does Tea say?" twice, one subdeck for both
        first = owners[name.casefold()]
        reader.problem(
            value, where,
            f"name {_same_name(name, first.name, f'perspective {first.id!r} (line {first.line})')};"
            " cards and subdecks would not tell them apart",
        )
        return None
    if name:
        owners[name.casefold()] = _NameOwner(pid, name, value.line)
    return Perspective(pid, name, key_node.line, reader.file) if ok_id and name else None


class _Remember(NamedTuple):
    """A memo, and the settings file's bytes its topics depend on."""

    memo: TopicMemo
    settings: bytes

    def recall(self, path: str, read: dict[str, bytes], name_lines: dict[str, int]) -> Topic | None:
        """The topic of *path* if the memo knows its bytes (read into *read*)."""
        data = read_regular(path, MAX_FILE_BYTES)
        if not isinstance(data, bytes):
            return None  # read_yaml says why
        key = memo_key(self.settings, data)
        known = self.memo.recall(path, key)
        if known is None:
            return None
        read[path] = data
        self.memo.seen[path, key] = known
        name_lines[path] = known[1]
        return known[0]

    def keep(self, path: str, read: dict[str, bytes], topic: Topic, name_line: int) -> None:
        if not topic.media_paths:
            self.memo.seen[path, memo_key(self.settings, read[path])] = (topic, name_line)


def _read_topics(
    directory: str, perspectives: PerspectiveIds, *, problems: Problems, read: dict[str, bytes], media: MediaFolder,
    remember: _Remember | None = None,
) -> tuple[Topic, ...]:
    """Every topic file of *directory* that can be read, checked against each other."""
    files = [os.path.join(directory, name) for name in topic_names(directory)]
    if not files:
        problems.add(directory, 1, "", "holds no topic files (*.yaml besides deckgen.yaml)")
    name_lines: dict[str, int] = {}
    topics = [
        topic
        for path in files
        if (
            topic := (remember and remember.recall(path, read, name_lines)) or _read_topic(
                path, perspectives, problems=problems, name_lines=name_lines, read=read, media=media, remember=remember
            )
        )
    ]
    _check_unique_ids(topics, problems)
    _check_origins(topics, problems)
    _check_topic_names(topics, name_lines, problems)
    return tuple(topics)


def _read_topic(
    path: str,
    perspectives: PerspectiveIds,
    *,
    problems: Problems,
    name_lines: dict[str, int],
    read: dict[str, bytes],
    media: MediaFolder,
    remember: _Remember | None = None,
) -> Topic | None:
    """One topic file, or ``None`` after recording why it cannot be read.

    *name_lines* receives the line of the topic's name (by file), *read* the
    file's bytes (by path), *media* the media files its items declare.
    """
    root = read_yaml(path, path, problems, read)
    found = None if root is None else topic_from_tree(root, path, perspectives, problems=problems, media=media)
    if found is None:
        return None
    topic, name_lines[path] = found
    if remember is not None and not problems.items:
        remember.keep(path, read, topic, name_lines[path])
    return topic


def topic_from_tree(
    root: Node, file: str, perspectives: PerspectiveIds, *, problems: Problems, media: MediaFolder
) -> tuple[Topic, int] | None:
    """The topic the tree *root* of the file *file* states, and the line of its name; ``None`` after a problem.

    The tree is what a reader made of the file (:mod:`generator.source.tree`):
    these checks do not know which format it was written in.
    """
    reader = Reader(file, problems)
    fields = reader.mapping(root, "", TOPIC.required, TOPIC.optional)
    if fields is None:
        return None
    topic_id = _topic_id(reader, fields.get("topic"))
    name = _name(reader, fields.get("name"), "name")
    heading = _plain_text(reader, fields.get("heading"), "heading")
    question = _plain_text(reader, fields.get("question"), "question")
    headings = _headings(reader, fields.get("headings", NO_MAPPING), perspectives)
    items = _read_items(reader, fields, perspectives=perspectives, question=question, media=media)
    comparisons = _read_comparisons(reader, fields, perspectives)
    terms = _read_terms(reader, fields)
    if "items" not in fields and "comparisons" not in fields and "terms" not in fields:
        reader.problem(root, "", "a topic needs 'items', 'comparisons' or 'terms'")
    if topic_id is None or name is None:
        return None
    topic = Topic(
        id=topic_id,
        name=name,
        heading=heading,
        headings=headings,
        question=question,
        items=items,
        comparisons=comparisons,
        file=file,
        line=fields["topic"].line,
        terms=terms,
        title_stems=title_stems(item.title.plain for item in items if item.title),
    )
    return topic, fields["name"].line


def _topic_id(reader: Reader, node: Node | None) -> str | None:
    topic_id = _ident(reader, node, "topic")
    if node is not None and topic_id in WINDOWS_RESERVED:  # its package, <id>.apkg, could not be written there
        reader.problem(node, "topic", f"{topic_id!r} is a reserved file name on Windows; choose another topic id")
        return None
    return topic_id


def _headings(reader: Reader, node: Node, perspectives: PerspectiveIds) -> tuple[tuple[str, str], ...]:
    """A topic's ``headings``: (perspective id, heading) pairs."""
    return _texts_by_perspective(reader, node, where="headings", perspectives=perspectives)


def _texts_by_perspective(
    reader: Reader, node: Node, *, where: str, perspectives: PerspectiveIds
) -> tuple[tuple[str, str], ...]:
    """A mapping of perspective ids to plain text, as (id, text) pairs."""
    texts: list[tuple[str, str]] = []
    for pid, key_node, value in reader.pairs(node, where) or ():
        _check_reference(reader, key_node, value=pid, known=perspectives, where=f"{where}.{pid}")
        text = _plain_text(reader, value, f"{where}.{pid}")
        if text:
            texts.append((pid, text))
    return tuple(texts)


def _list(reader: Reader, fields: dict[str, Node], key: str) -> tuple[Node, ...]:
    if key not in fields:
        return ()
    return reader.sequence(fields[key], key) or ()


def _read_items(
    reader: Reader,
    fields: dict[str, Node],
    *,
    perspectives: PerspectiveIds,
    question: str | None,
    media: MediaFolder,
) -> tuple[Item, ...]:
    """A topic's items; its *question* must be asked of one of them."""
    problems_before = len(reader.problems.items)
    items = tuple(
        item
        for index, node in enumerate(_list(reader, fields, "items"))
        if (
            item := _read_item(
                reader, node, where=f"items[{index}]", perspectives=perspectives, topic_question=question, media=media
            )
        )
    )
    unused = question and not any(item.question == question for item in items)
    if unused and len(reader.problems.items) == problems_before:
        reader.problem(
            fields["question"], "question",
            "does nothing: no item of this topic has a perspective and a title or cue to ask it about",
        )
    return items


def _read_comparisons(
    reader: Reader, fields: dict[str, Node], perspectives: PerspectiveIds
) -> tuple[Comparison, ...]:
    return tuple(
        comparison
        for index, node in enumerate(_list(reader, fields, "comparisons"))
        if (comparison := _read_comparison(reader, node, where=f"comparisons[{index}]", perspectives=perspectives))
    )


def _read_item(
    reader: Reader,
    node: Node,
    *,
    where: str,
    perspectives: PerspectiveIds,
    topic_question: str | None,
    media: MediaFolder,
) -> Item | None:
    problems_before = len(reader.problems.items)
    fields = reader.mapping(node, where, ITEM.required, ITEM.optional)
    if fields is None:
        return None
    item_id = _ident(reader, fields.get("id"), f"{where}.id")
    where = f"{where} ({item_id})" if item_id else where
    asks = _item_asks(reader, fields, where=where, perspectives=perspectives, topic_question=topic_question)
    explanation = _marked(reader, fields.get("explanation"), f"{where}.explanation")
    conclusion = _marked(reader, fields.get("conclusion"), f"{where}.conclusion")
    formerly = _formerly(reader, fields, f"{where}.formerly", dict(zip(_TEXTS, (explanation, conclusion), strict=True)))
    points = _points(reader, fields.get("points"), f"{where}.points")
    tags = _tags(reader, fields.get("tags"), f"{where}.tags")
    files = _item_media(reader, fields, where=where, media=media)
    if item_id and len(reader.problems.items) == problems_before:
        _check_states_something(reader, node, where, bool(asks.title or explanation or points or conclusion))
    if item_id is None:
        return None
    return Item(
        id=item_id, perspective=asks.perspective, title=asks.title, explanation=explanation, points=points,
        conclusion=conclusion, tags=tags, file=reader.file, line=node.line, cue=asks.cue, question=asks.question,
        media=files, formerly=formerly,
    )


class _Asks(NamedTuple):
    """What an item's cards show to ask about it: its perspective, its title or cue, its question."""

    perspective: str | None
    title: Marked | None
    cue: str | None
    question: str | None
    """The item's "which perspective?" question, or its topic's where the item can be asked it; else None."""


def _item_asks(
    reader: Reader, fields: dict[str, Node], *, where: str, perspectives: PerspectiveIds, topic_question: str | None
) -> _Asks:
    perspective = _item_perspective(reader, fields.get("perspective"), where=where, perspectives=perspectives)
    title = _marked(reader, fields.get("title"), f"{where}.title")
    cue = _plain_text(reader, fields.get("cue"), f"{where}.cue")
    shows = bool(title or cue)
    question = _item_question(reader, fields.get("question"), where=where, perspective=perspective, shows=shows)
    return _Asks(perspective, title, cue, question or (topic_question if perspective and shows else None))


def _check_states_something(reader: Reader, node: Node, where: str, states: bool) -> None:
    # An item that marks nothing is context: it states the source's content but
    # makes no card (`deckgen check` counts them).  One that states nothing is a slip.
    if not states:
        reader.problem(node, where, "states nothing: give it a title, an explanation, points or a conclusion")


def _item_media(
    reader: Reader, fields: dict[str, Node], *, where: str, media: MediaFolder
) -> tuple[MediaFile, ...]:
    """The item's ``image`` and ``audio`` files that are declared and valid, in that order."""
    return tuple(
        file
        for kind in MEDIA_KINDS
        if kind in fields
        and (
            file := read_media(
                reader, fields[kind], kind=kind, where=f"{where}.{kind}", directory=media.directory, seen=media.seen
            )
        )
    )


def _item_perspective(
    reader: Reader, node: Node | None, *, where: str, perspectives: PerspectiveIds
) -> str | None:
    if node is None:
        return None
    perspective = reader.text(node, f"{where}.perspective")
    if perspective:
        _check_reference(reader, node, value=perspective, known=perspectives, where=f"{where}.perspective")
    return perspective


def _item_question(
    reader: Reader, node: Node | None, *, where: str, perspective: str | None, shows: bool
) -> str | None:
    """An item's own "which perspective?" question, refused where it would ask nothing.

    *shows*: whether the item has a title or a cue, what such a card shows.
    """
    question = _plain_text(reader, node, f"{where}.question")
    if node is None or not question:
        return None
    if not perspective:
        reader.problem(node, f"{where}.question", "does nothing: the item has no perspective to ask for")
        return None
    if not shows:
        reader.problem(node, f"{where}.question", "needs a title or a cue: what the card shows")
        return None
    return question


def _points(reader: Reader, node: Node | None, where: str) -> tuple[Point, ...]:
    if node is None:
        return ()
    points: list[Point] = []
    for key, key_node, value in reader.pairs(node, where) or ():
        ok_key = _check_ident(reader, key_node, value=key, where=f"{where}.{key}")
        text = _marked(reader, value, f"{where}.{key}")
        if ok_key and text:  # a key is one of a few names ("p1", ...): one string each, not one a point
            points.append(Point(sys.intern(key), text, key_node.line))
    if isinstance(node, Mapping) and not node.entries:
        reader.problem(node, where, "is empty; give at least one point")
    return tuple(points)


def _read_comparison(reader: Reader, node: Node, *, where: str, perspectives: PerspectiveIds) -> Comparison | None:
    fields = reader.mapping(node, where, COMPARISON.required, COMPARISON.optional)
    if fields is None:
        return None
    comparison_id = _ident(reader, fields.get("id"), f"{where}.id")
    where = f"{where} ({comparison_id})" if comparison_id else where
    dimension = _plain_text(reader, fields.get("dimension"), f"{where}.dimension")
    sides = _sides(reader, fields.get("sides"), where=f"{where}.sides", perspectives=perspectives)
    tags = _tags(reader, fields.get("tags"), f"{where}.tags")
    questions = _comparison_questions(reader, fields, where)
    ask = _ask(reader, fields, where)
    origins = _origins(reader, fields.get("from"), where=f"{where}.from", sides={pid for pid, _ in sides})
    side_questions = _side_questions(reader, fields, where=where, sides=sides)
    if comparison_id is None or dimension is None:
        return None
    return Comparison(
        id=comparison_id,
        dimension=dimension,
        sides=sides,
        tags=tags,
        file=reader.file,
        line=node.line,
        ask=ask or BOTH,
        origins=origins,
        side_questions=side_questions,
        **questions,
    )


def _origins(reader: Reader, node: Node | None, *, where: str, sides: set[str]) -> tuple[Origin, ...]:
    """``from:``: perspective -> the id of the item that states its side (checked against items once all are read)."""
    if node is None:
        return ()
    origins = []
    for pid, key_node, value in reader.pairs(node, where) or ():
        if pid not in sides:
            reader.problem(key_node, f"{where}.{pid}", f"{pid!r} has no side in this comparison; name a side's item")
            continue
        item_id = _ident(reader, value, f"{where}.{pid}")
        if item_id is not None:
            origins.append(Origin(pid, item_id, value.line))
    return tuple(origins)


def _sides(
    reader: Reader, node: Node | None, *, where: str, perspectives: PerspectiveIds
) -> tuple[tuple[str, str], ...]:
    if node is None:
        return ()
    sides = _texts_by_perspective(reader, node, where=where, perspectives=perspectives)
    if isinstance(node, Mapping) and len(node.entries) < 2:
        reader.problem(node, where, "give at least two perspectives' sides")
    return sides


def _comparison_questions(reader: Reader, fields: dict[str, Node], where: str) -> dict[str, str]:
    """The comparison's ``question`` and ``which_question`` that are given and valid, by key."""
    questions = {}
    for key, must_name in (("question", True), ("which_question", False)):
        if key in fields and (text := _plain_text(reader, fields[key], f"{where}.{key}")):
            if (PERSPECTIVE_PLACEHOLDER in text) != must_name:
                reader.problem(fields[key], f"{where}.{key}", _PLACEHOLDER_HELP[key])
            else:
                questions[key] = text
    return questions


def _side_questions(
    reader: Reader, fields: dict[str, Node], *, where: str, sides: tuple[tuple[str, str], ...]
) -> tuple[tuple[str, str], ...]:
    """``questions:``: a side's own forward question, by perspective id, each naming its perspective."""
    node = fields.get("questions")
    if node is None:
        return ()
    found = []
    named = {pid for pid, _ in sides}
    for pid, key_node, value in reader.pairs(node, f"{where}.questions") or ():
        at = f"{where}.questions.{pid}"
        if pid not in named:
            reader.problem(key_node, at, f"{pid!r} has no side in this comparison; ask a side it has")
        elif (text := _plain_text(reader, value, at)) and PERSPECTIVE_PLACEHOLDER not in text:
            reader.problem(value, at, _PLACEHOLDER_HELP["question"])
        elif text:
            found.append((pid, text))
    if "question" in fields and named and named <= {pid for pid, _ in found}:
        reader.problem(fields["question"], f"{where}.question",
                       "does nothing: every side has its own question under 'questions'")
    return tuple(found)


def _ask(reader: Reader, fields: dict[str, Node], where: str) -> str | None:
    """The comparison's ``ask``, if given and valid."""
    if "ask" not in fields or not (ask := reader.text(fields["ask"], f"{where}.ask")):
        return None
    if ask not in ASK_CHOICES:
        reader.problem(
            fields["ask"], f"{where}.ask",
            f"{ask!r} is not one of {', '.join(ASK_CHOICES)} (both directions, only the sides, only the perspectives)",
        )
    elif ask == SIDE and "which_question" in fields:
        reader.problem(
            fields["which_question"], f"{where}.which_question", "does nothing: 'ask: side' asks no perspective"
        )
    elif ask == PERSPECTIVE and (idle := [key for key in ("question", "questions") if key in fields]):
        for key in idle:
            reader.problem(fields[key], f"{where}.{key}", "does nothing: 'ask: perspective' asks no side")
    else:
        return ask
    return None


_PLACEHOLDER_HELP = {
    "question": "must contain {perspective}, where each card names its perspective",
    "which_question": "may not contain {perspective}: the card asks which perspective it is",
}


def _read_terms(reader: Reader, fields: dict[str, Node]) -> tuple[Term, ...]:
    """A topic's ``terms``: its glossary, each entry checked."""
    return tuple(
        term
        for index, node in enumerate(_list(reader, fields, "terms"))
        if (term := _read_term(reader, node, where=f"terms[{index}]"))
    )


def _read_term(reader: Reader, node: Node, *, where: str) -> Term | None:
    fields = reader.mapping(node, where, TERM.required, TERM.optional)
    if fields is None:
        return None
    term_id = _ident(reader, fields.get("id"), f"{where}.id")
    where = f"{where} ({term_id})" if term_id else where
    term = _plain_text(reader, fields.get("term"), f"{where}.term")
    definition = _plain_text(reader, fields.get("definition"), f"{where}.definition")
    tags = _tags(reader, fields.get("tags"), f"{where}.tags")
    question = _plain_text(reader, fields["question"], f"{where}.question") if "question" in fields else ""
    # A question of the author's own asks the definition; its answer asked back as a "term" would be a label.
    ask = "definition" if question else BOTH
    if "ask" in fields and (given := reader.text(fields["ask"], f"{where}.ask")):
        if given not in TERM_ASK_CHOICES:
            reader.problem(
                fields["ask"], f"{where}.ask",
                f"{given!r} is not one of {', '.join(TERM_ASK_CHOICES)} "
                "(both directions, only the definition from the term, only the term from the definition)",
            )
        elif question and given != "definition":
            reader.problem(
                fields["ask"], f"{where}.ask",
                f"is {given!r}, but a term with its own question asks only the definition: "
                "remove 'ask', or remove 'question' to ask the term",
            )
        else:
            ask = given
    if term_id is None or term is None or definition is None or question is None:
        return None
    return Term(term_id, term, definition, tags, reader.file, node.line, ask, question)


def _ident(reader: Reader, node: Node | None, where: str) -> str | None:
    if node is None:
        return None
    value = reader.text(node, where)
    if value is None or not _check_ident(reader, node, value=value, where=where):
        return None
    return value


def _check_ident(reader: Reader, node: Node, *, value: str, where: str) -> bool:
    if not ID_PATTERN.fullmatch(value):
        reader.problem(node, where, f"{value!r} is not a valid id: {_ID_HELP}")
        return False
    if len(value) > MAX_ID_LENGTH:
        reader.problem(node, where, f"id is {len(value)} characters long; the limit is {MAX_ID_LENGTH}")
        return False
    return True


def _check_reference(reader: Reader, node: Node, *, value: str, known: PerspectiveIds, where: str) -> None:
    if known is not None and value not in known:
        names = f"deckgen.yaml names: {', '.join(sorted(known))}" if known else "deckgen.yaml declares no perspectives"
        reader.problem(node, where, f"unknown perspective {value!r} ({names})")


Renamed = tuple[tuple[str, str, str], ...]
"""An item's ``formerly``: (a text's name, a key term's slug now, the slug its note there was released under)."""

_TEXTS = ("explanation", "conclusion")
"""The texts whose key terms are keyed by their words (a title's and a point's notes are keyed by their place)."""


def _formerly(reader: Reader, fields: dict[str, Node], where: str, texts: dict[str, Marked | None]) -> Renamed:
    """``formerly:`` the words of a key term now -> the words its note was released under (in every text that
    marks it), or -> a mapping of the texts (``explanation``, ``conclusion``) to those words, each kept as slugs
    (see :attr:`Item.formerly`).  Two notes of one text never share a key.
    """
    node = fields.get("formerly")
    if node is None:
        return ()
    if any(fields.get(name) is not None and text is None for name, text in texts.items()):
        return ()  # a text that could not be read has no terms to check against: its own problem says why
    pairs = reader.pairs(node, where)
    if isinstance(node, Mapping) and not node.entries:  # not one whose every key was refused: said already
        reader.problem(node, where, "names no term: give 'words now: words released', or remove it")
    marked = {name: {slug(term) for term in text.terms} if text else set() for name, text in texts.items()}
    renamed: dict[tuple[str, str], str] = {}  # (text, slug now) -> slug then
    seen: set[str] = set()
    for words, key_node, value in pairs or ():
        now = slug(words)
        if has_markers(words) or now in seen:
            reader.problem(key_node, f"{where}.{words}", _MARKERS if has_markers(words) else _SAME_TERM)
            continue
        seen.add(now)
        for name, then, at in _formerly_lines(reader, words, value, f"{where}.{words}", marked):
            problem = _formerly_problem(now, slug(then), marked[name], renamed, name)
            if problem is not None:
                reader.problem(at, f"{where}.{words}", problem)
            else:
                renamed[name, now] = slug(then)
    return tuple((name, now, then) for (name, now), then in renamed.items())


def _formerly_lines(
    reader: Reader, words: str, value: Node, where: str, marked: dict[str, set[str]]
) -> Iterator[tuple[str, str, Node]]:
    """One ``formerly`` line's (text, words released, node) for each text it names, or each text marking *words*.

    A term marked in both texts with a typo corrected in one only names that text: its other note keeps its key.
    """
    if isinstance(value, Mapping):
        for name, key_node, node in reader.pairs(value, where) or ():
            if name not in _TEXTS:
                reader.problem(key_node, f"{where}.{name}", f"is no text of an item; name {' or '.join(_TEXTS)}")
            elif (then := _plain_text(reader, node, f"{where}.{name}")) is not None:
                yield name, then, node
        return
    then = _plain_text(reader, value, where)
    if then is None:
        return
    names = [name for name in _TEXTS if slug(words) in marked[name]]
    if not names:
        reader.problem(value, where, _NOT_MARKED)
    yield from ((name, then, value) for name in names)


def _formerly_problem(
    now: str, then: str, marked: set[str], renamed: dict[tuple[str, str], str], name: str
) -> str | None:
    """What is wrong with keying the note of the term *now* of the text *name* by *then*, if anything."""
    if now not in marked:
        return f"is no key term marked in this item's {name}"
    if then == now:
        return "is the term marked now: its note keeps its identity already"
    if then in marked or any(t == then for (n, _), t in renamed.items() if n == name):
        return "is the key term of another note of this text: two notes would share one identity"
    return None


_SAME_TERM = "is the same term as a line above (its words, in any case and spacing)"
_MARKERS = "'{{' and '}}' mark key terms in a text; here, write the term's words alone"
_NOT_MARKED = (
    "is no key term marked in this item's explanation or conclusion (a title's or a point's marks keep their"
    " notes whatever their words)"
)


def _plain_text(reader: Reader, node: Node | None, where: str) -> str | None:
    if node is None:
        return None
    value = reader.text(node, where)
    if value is not None and has_markers(value):
        reader.problem(
            node,
            where,
            "'{{' and '}}' mark key terms, which only titles, explanations, points and conclusions may have",
        )
        return None
    return _normalise(value) if value is not None else None


def _name(reader: Reader, node: Node | None, where: str) -> str | None:
    """A display name that also becomes part of a deck name."""
    value = _plain_text(reader, node, where)
    if node is None or value is None:
        return None
    if "::" in value or "\n" in value or any(ord(c) < 32 for c in value):
        reader.problem(node, where, f"{value!r} may not contain '::', line breaks or control characters")
        return None
    if len(value) > MAX_NAME_LENGTH:
        reader.problem(node, where, f"is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}")
        return None
    return value


def deck_name_parts(name: str) -> list[str]:
    """The parts of a deck name, between its '::' (Anki's nesting), stripped."""
    return [part.strip() for part in name.split("::")]


def deck_name_faults(name: str) -> list[DeckNameFault]:
    """Which rules of a root deck name *name* breaks: none, or some of, in this order,

    - ``"parts"``: each part between '::' must be non-empty, no character a control character;
    - ``"length"``: at most :data:`MAX_DECK_NAME_LENGTH` characters;
    - ``"formula"``: it may not start like a spreadsheet formula (a CSV export's deck column).

    The source's ``deck`` and a custom deck's name obey the same rules; each
    caller words its own message.
    """
    faults: list[DeckNameFault] = []
    if not all(deck_name_parts(name)) or any(ord(c) < 32 for c in name):
        faults.append("parts")
    if len(name) > MAX_DECK_NAME_LENGTH:
        faults.append("length")
    if name and name[0] in FORMULA_START:
        faults.append("formula")
    return faults


def _deck_name(reader: Reader, node: Node | None, where: str) -> str | None:
    """The source's root deck name; '::' nests it under parent decks."""
    value = _plain_text(reader, node, where)
    if node is None or value is None:
        return None
    faults = deck_name_faults(value)
    if faults:
        reader.problem(node, where, _DECK_NAME_HELP[faults[0]](value))
        return None
    return "::".join(deck_name_parts(value))


_DECK_NAME_HELP: dict[DeckNameFault, Callable[[str], str]] = {
    "parts": lambda value: (
        f"{value!r} is not a valid deck name: parts separated by '::' must be non-empty, without control characters"
    ),
    "length": lambda value: f"is {len(value)} characters long; the limit is {MAX_DECK_NAME_LENGTH}",
    "formula": lambda value: (
        f"{value!r} starts with {value[0]!r}: a spreadsheet opening a CSV export would take it for a formula"
    ),
}


def _marked(reader: Reader, node: Node | None, where: str) -> Marked | None:
    if node is None:
        return None
    value = reader.text(node, where)
    if value is None:
        return None
    try:
        return parse_marked(_normalise(value))
    except MarkupError as exc:
        reader.problem(node, where, str(exc))
        return None


def _normalise(text: str) -> str:
    """Strip each line: folded and literal YAML blocks keep only meaningful breaks."""
    return "\n".join(line.strip() for line in text.strip().splitlines())


def is_reserved_tag(tag: str) -> bool:
    """True for the tag of removed notes and its children, in any case (as Anki's search matches them)."""
    folded, reserved = tag.casefold(), REMOVED_TAG.casefold()
    return folded == reserved or folded.startswith(reserved + "::")


def tag_problem(tag: str) -> str | None:
    """Why *tag* cannot be given to a note (or select one), or ``None`` if it can."""
    if not tag:
        return "a tag may not be empty"
    if any(c.isspace() for c in tag) or tag.startswith(":") or tag.endswith(":"):
        return f"tag {tag!r} may not contain spaces or start or end with ':'"
    if is_reserved_tag(tag):
        return (
            f"tag {tag!r} is reserved: {REMOVED_TAG!r} and its children mark notes removed"
            " from the source, which students delete"
        )
    return None


def _tags(reader: Reader, node: Node | None, where: str) -> tuple[str, ...]:
    if node is None:
        return ()
    tags = []
    for item, tag in reader.text_list(node, where):
        problem = tag_problem(tag)
        if problem:
            reader.problem(item, where, problem)
        else:
            tags.append(tag)
    return tuple(tags)


def _check_origins(topics: list[Topic], problems: Problems) -> None:
    """Each ``from:`` names an item of the source, of the side's perspective."""
    if not any(comparison.origins for topic in topics for comparison in topic.comparisons):
        return  # no item looked up: none indexed
    items = {item.id: item for topic in topics for item in topic.items}
    for topic in topics:
        for index, comparison in enumerate(topic.comparisons):
            for origin in comparison.origins:
                where = f"comparisons[{index}] ({comparison.id}).from.{origin.perspective}"
                item = items.get(origin.item)
                if item is None:
                    problems.add(comparison.file, origin.line, where, f"no item has the id {origin.item!r}")
                elif item.perspective not in (None, origin.perspective):
                    problems.add(
                        comparison.file, origin.line, where,
                        f"item {origin.item!r} ({item.file}:{item.line}) has the perspective {item.perspective!r}, "
                        f"not {origin.perspective!r}: name an item of this side's perspective",
                    )


def _check_unique_ids(topics: list[Topic], problems: Problems) -> None:
    """Ids name notes (and topic ids files) for ever, so they must be unique across every file."""
    _check_unique_topic_ids(topics, problems)
    entries: list[Item | Comparison | Term] = []
    for topic in topics:
        entries += topic.items
        entries += topic.comparisons
        entries += topic.terms
    ids = [entry.id for entry in entries]
    if len(set(ids)) == len(ids):
        return  # the common case, told in C: no place made for each of a large source's ids
    seen: dict[str, str] = {}
    for entry in entries:
        if entry.id in seen:
            message = f"duplicate id {entry.id!r} (first used at {seen[entry.id]})"
            problems.add(entry.file, entry.line, entry.id, message)
        else:
            seen[entry.id] = f"{entry.file}:{entry.line}"


def _check_unique_topic_ids(topics: list[Topic], problems: Problems) -> None:
    seen: dict[str, str] = {}
    for topic in topics:
        if topic.id in seen:
            problems.add(
                topic.file, topic.line, "topic", f"duplicate topic id {topic.id!r} (first used at {seen[topic.id]})"
            )
        seen.setdefault(topic.id, f"{topic.file}:{topic.line}")


def _check_topic_names(topics: list[Topic], name_lines: dict[str, int], problems: Problems) -> None:
    """Anki merges decks whose names differ only in case: each topic needs its own deck."""
    seen: dict[str, Topic] = {}
    for topic in topics:
        first = seen.setdefault(topic.name.casefold(), topic)
        if first is not topic:
            first_line = name_lines.get(first.file, first.line)
            problems.add(
                topic.file, name_lines.get(topic.file, topic.line), "name",
                _same_name(topic.name, first.name, f"topic {first.id!r} ({first.file}:{first_line})")
                + "; Anki would merge their decks",
            )


def _same_name(name: str, first: str, owner: str) -> str:
    """How *name* clashes with *first*, *owner*'s name, which it equals ignoring case (as Anki does)."""
    if name == first:
        return f"{name!r} is already the name of {owner}"
    return f"{name!r} differs only in case from {first!r}, the name of {owner}"
