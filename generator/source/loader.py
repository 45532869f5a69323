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
import unicodedata

import yaml

from generator.errors import Problems
from generator.source.content import (
    ASK_CHOICES,
    PERSPECTIVE,
    PERSPECTIVE_PLACEHOLDER,
    REMOVED_TAG,
    SIDE,
    Comparison,
    Item,
    Marked,
    Perspective,
    Point,
    Source,
    Topic,
)
from generator.source.markup import MarkupError, has_markers, parse_marked
from generator.source.yamlread import Reader, line_of, read_yaml

CONFIG_FILE = "deckgen.yaml"
MISNAMED_CONFIG = "deckgen.yml"
ID_PATTERN = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
MAX_ID_LENGTH = 64
MAX_NAME_LENGTH = 100
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


def source_files(directory: str) -> list[str]:
    """The topic files of a source folder, in the order their topics are built."""
    # Any case of the extension ("x.YAML" is a topic too); never hidden files such as
    # an editor's lock file ".#x.yaml" or a backup ".x.yaml".
    names = sorted(
        name
        for name in os.listdir(directory)
        if name.lower().endswith((".yaml", ".yml"))
        and not name.startswith(".")
        and name not in (CONFIG_FILE, MISNAMED_CONFIG)
    )
    return [os.path.join(directory, name) for name in names]


def input_files(directory: str) -> list[str]:
    """Every file a build of the source folder *directory* reads (or reports)."""
    settings = [os.path.join(directory, name) for name in (CONFIG_FILE, MISNAMED_CONFIG)]
    return [path for path in settings if os.path.lexists(path)] + source_files(directory)


def load_source(directory: str) -> Source:
    """Read and validate every file of the source folder *directory*.

    Raises :class:`~generator.errors.ContentError` listing every problem found.
    """
    problems = Problems()
    if not os.path.isdir(directory):
        problems.add(directory, 1, "", "no such source folder")
        problems.raise_if_any()
    config_path = os.path.join(directory, CONFIG_FILE)
    misnamed = os.path.join(directory, MISNAMED_CONFIG)
    header = None
    read: dict[str, bytes] = {}  # the bytes the source is built from, by path
    if os.path.lexists(misnamed):  # read by no one: say so rather than let it be ignored
        problems.add(misnamed, 1, "", f"the source's settings are read from {CONFIG_FILE} only; rename this file")
    if os.path.lexists(config_path):  # lexists: a broken link is reported, not "missing"
        header = _read_config(config_path, problems, read)
    elif not os.path.lexists(misnamed):
        problems.add(config_path, 1, "", f"missing: a source folder needs a {CONFIG_FILE} (see README)")
    files = source_files(directory)
    if not files:
        problems.add(directory, 1, "", "holds no topic files (*.yaml besides deckgen.yaml)")
    perspective_ids = {p.id for p in header[3]} if header else set()
    name_lines: dict[str, int] = {}
    topics = [_read_topic(path, perspective_ids, problems, name_lines, read) for path in files]
    _check_unique_ids([t for t in topics if t is not None], problems)
    _check_topic_names([t for t in topics if t is not None], name_lines, problems)
    problems.raise_if_any()
    assert header is not None
    source_id, title, deck, perspectives = header
    return Source(
        id=source_id,
        title=title,
        deck=deck,
        perspectives=perspectives,
        topics=tuple(t for t in topics if t is not None),
        directory=directory,
        inputs=tuple(sorted((os.path.basename(p), hashlib.sha256(d).hexdigest()) for p, d in read.items())),
    )


def _read_config(
    path: str, problems: Problems, read: dict[str, bytes] | None = None
) -> tuple[str, str, str, tuple[Perspective, ...]] | None:
    root = read_yaml(path, path, problems, read)
    if root is None:
        return None
    reader = Reader(path, problems)
    fields = reader.mapping(root, "", ("id", "title", "deck", "perspectives"))
    if fields is None:
        return None
    source_id = _ident(reader, fields.get("id"), "id")
    title = _plain_text(reader, fields.get("title"), "title")
    deck = _deck_name(reader, fields.get("deck"), "deck")
    perspectives: list[Perspective] = []
    if "perspectives" in fields:
        pairs = reader.pairs(fields["perspectives"], "perspectives")
        names: dict[str, tuple[str, str, int]] = {}
        for pid, key_node, value in pairs or ():
            where = f"perspectives.{pid}"
            ok_id = _check_ident(reader, key_node, pid, where)
            name = _name(reader, value, where)
            if name and name.casefold() in names:  # "what does Tea say?" twice, one subdeck for both
                first, first_name, line = names[name.casefold()]
                reader.problem(
                    value, where,
                    f"name {_same_name(name, first_name, f'perspective {first!r} (line {line})')};"
                    " cards and subdecks would not tell them apart",
                )
                name = None
            if name:
                names[name.casefold()] = (pid, name, line_of(value))
            if ok_id and name:
                perspectives.append(Perspective(pid, name))
        # counted as given, so a misspelt entry is reported once, as itself
        if pairs is not None and len(fields["perspectives"].value) < 2:
            reader.problem(fields["perspectives"], "perspectives", "name at least two perspectives")
    if source_id and title and deck and len(perspectives) >= 2:
        return source_id, title, deck, tuple(perspectives)
    return None


def _read_topic(
    path: str,
    perspectives: set[str],
    problems: Problems,
    name_lines: dict[str, int] | None = None,
    read: dict[str, bytes] | None = None,
) -> Topic | None:
    """One topic file, or ``None`` after recording why it cannot be read.

    *name_lines*, if given, receives the line of the topic's name (by file);
    *read* the file's bytes (by path).
    """
    root = read_yaml(path, path, problems, read)
    if root is None:
        return None
    reader = Reader(path, problems)
    fields = reader.mapping(
        root,
        "",
        ("topic", "name"),
        ("heading", "headings", "question", "items", "comparisons"),
    )
    if fields is None:
        return None
    topic_id = _ident(reader, fields.get("topic"), "topic")
    if topic_id is not None:
        if topic_id in WINDOWS_RESERVED:  # its package, <id>.apkg, could not be written there
            reader.problem(
                fields["topic"], "topic", f"{topic_id!r} is a reserved file name on Windows; choose another topic id"
            )
            topic_id = None
    name = _name(reader, fields.get("name"), "name")
    heading = _plain_text(reader, fields["heading"], "heading") if "heading" in fields else None
    question = _plain_text(reader, fields["question"], "question") if "question" in fields else None
    headings: list[tuple[str, str]] = []
    for pid, key_node, value in reader.pairs(fields.get("headings", _EMPTY_MAP), "headings") or ():
        _check_reference(reader, key_node, pid, perspectives, f"headings.{pid}")
        text = _plain_text(reader, value, f"headings.{pid}")
        if text:
            headings.append((pid, text))
    problems_before = len(reader.problems.items)
    items = tuple(
        item
        for index, node in enumerate(_list(reader, fields, "items"))
        if (item := _read_item(reader, node, f"items[{index}]", perspectives, question)) is not None
    )
    unused = question and not any(item.question == question for item in items)
    if unused and len(reader.problems.items) == problems_before:
        reader.problem(
            fields["question"], "question",
            "does nothing: no item of this topic has a perspective and a title or cue to ask it about",
        )
    comparisons = tuple(
        comparison
        for index, node in enumerate(_list(reader, fields, "comparisons"))
        if (comparison := _read_comparison(reader, node, f"comparisons[{index}]", perspectives))
        is not None
    )
    if "items" not in fields and "comparisons" not in fields:
        reader.problem(root, "", "a topic needs 'items' or 'comparisons' (or both)")
    if topic_id is None or name is None:
        return None
    if name_lines is not None:
        name_lines[path] = line_of(fields["name"])
    return Topic(
        id=topic_id,
        name=name,
        heading=heading,
        headings=tuple(headings),
        question=question,
        items=items,
        comparisons=comparisons,
        file=path,
        line=line_of(fields["topic"]),
    )


_EMPTY_MAP = yaml.MappingNode("tag:yaml.org,2002:map", [])


def _list(reader: Reader, fields: dict[str, yaml.Node], key: str) -> list[yaml.Node]:
    if key not in fields:
        return []
    return reader.sequence(fields[key], key) or []


def _read_item(
    reader: Reader, node: yaml.Node, where: str, perspectives: set[str], topic_question: str | None
) -> Item | None:
    problems_before = len(reader.problems.items)
    fields = reader.mapping(
        node,
        where,
        ("id",),
        ("perspective", "title", "cue", "question", "explanation", "points", "conclusion", "tags"),
    )
    if fields is None:
        return None
    item_id = _ident(reader, fields.get("id"), f"{where}.id")
    if item_id:
        where = f"{where} ({item_id})"
    perspective = None
    if "perspective" in fields:
        perspective = reader.text(fields["perspective"], f"{where}.perspective")
        if perspective:
            _check_reference(reader, fields["perspective"], perspective, perspectives, f"{where}.perspective")
    title = _marked(reader, fields.get("title"), f"{where}.title")
    cue = _plain_text(reader, fields["cue"], f"{where}.cue") if "cue" in fields else None
    question = _item_question(reader, fields, where, perspective, title, cue) or (
        topic_question if perspective and (title or cue) else None
    )
    explanation = _marked(reader, fields.get("explanation"), f"{where}.explanation")
    conclusion = _marked(reader, fields.get("conclusion"), f"{where}.conclusion")
    points: list[Point] = []
    if "points" in fields:
        for key, key_node, value in reader.pairs(fields["points"], f"{where}.points") or ():
            point_where = f"{where}.points.{key}"
            ok_key = _check_ident(reader, key_node, key, point_where)
            text = _marked(reader, value, point_where)
            if ok_key and text:
                points.append(Point(key, text, line_of(key_node)))
        if not fields["points"].value and isinstance(fields["points"], yaml.MappingNode):
            reader.problem(fields["points"], f"{where}.points", "is empty; give at least one point")
    tags = _tags(reader, fields.get("tags"), f"{where}.tags")
    # An item that marks nothing is context: it states the source's content but
    # makes no card (`deckgen check` counts them).  One that states nothing is a slip.
    states = title or explanation or points or conclusion
    if item_id and not states and len(reader.problems.items) == problems_before:
        reader.problem(node, where, "states nothing: give it a title, an explanation, points or a conclusion")
    if item_id is None:
        return None
    return Item(
        id=item_id,
        perspective=perspective,
        title=title,
        explanation=explanation,
        points=tuple(points),
        conclusion=conclusion,
        tags=tags,
        file=reader.file,
        line=line_of(node),
        cue=cue,
        question=question,
    )


def _item_question(
    reader: Reader,
    fields: dict[str, yaml.Node],
    where: str,
    perspective: str | None,
    title: Marked | None,
    cue: str | None,
) -> str | None:
    """An item's own "which perspective?" question, refused where it would ask nothing."""
    if "question" not in fields:
        return None
    question = _plain_text(reader, fields["question"], f"{where}.question")
    if question and not perspective:
        reader.problem(fields["question"], f"{where}.question", "does nothing: the item has no perspective to ask for")
        return None
    if question and not (title or cue):
        reader.problem(fields["question"], f"{where}.question", "needs a title or a cue: what the card shows")
        return None
    return question


def _read_comparison(
    reader: Reader, node: yaml.Node, where: str, perspectives: set[str]
) -> Comparison | None:
    fields = reader.mapping(
        node, where, ("id", "dimension", "sides"), ("question", "which_question", "ask", "tags")
    )
    if fields is None:
        return None
    comparison_id = _ident(reader, fields.get("id"), f"{where}.id")
    if comparison_id:
        where = f"{where} ({comparison_id})"
    dimension = _plain_text(reader, fields["dimension"], f"{where}.dimension") if "dimension" in fields else None
    sides: list[tuple[str, str]] = []
    if "sides" in fields:
        for pid, key_node, value in reader.pairs(fields["sides"], f"{where}.sides") or ():
            _check_reference(reader, key_node, pid, perspectives, f"{where}.sides.{pid}")
            text = _plain_text(reader, value, f"{where}.sides.{pid}")
            if text:
                sides.append((pid, text))
        if len(fields["sides"].value) < 2 and isinstance(fields["sides"], yaml.MappingNode):
            reader.problem(fields["sides"], f"{where}.sides", "give at least two perspectives' sides")
    tags = _tags(reader, fields.get("tags"), f"{where}.tags")
    questions = {}
    for key, must_name in (("question", True), ("which_question", False)):
        if key in fields and (text := _plain_text(reader, fields[key], f"{where}.{key}")):
            if (PERSPECTIVE_PLACEHOLDER in text) != must_name:
                reader.problem(fields[key], f"{where}.{key}", _PLACEHOLDER_HELP[key])
            else:
                questions[key] = text
    if "ask" in fields and (ask := reader.text(fields["ask"], f"{where}.ask")):
        if ask not in ASK_CHOICES:
            reader.problem(
                fields["ask"], f"{where}.ask",
                f"{ask!r} is not one of {', '.join(ASK_CHOICES)} "
                "(both directions, only the sides, only the perspectives)",
            )
        elif ask == SIDE and "which_question" in fields:
            reader.problem(
                fields["which_question"], f"{where}.which_question", "does nothing: 'ask: side' asks no perspective"
            )
        elif ask == PERSPECTIVE and "question" in fields:
            reader.problem(fields["question"], f"{where}.question", "does nothing: 'ask: perspective' asks no side")
        else:
            questions["ask"] = ask
    if comparison_id is None or dimension is None:
        return None
    return Comparison(comparison_id, dimension, tuple(sides), tags, reader.file, line_of(node), **questions)


_PLACEHOLDER_HELP = {
    "question": "must contain {perspective}, where each card names its perspective",
    "which_question": "may not contain {perspective}: the card asks which perspective it is",
}


def _ident(reader: Reader, node: yaml.Node | None, where: str) -> str | None:
    if node is None:
        return None
    value = reader.text(node, where)
    if value is None or not _check_ident(reader, node, value, where):
        return None
    return value


def _check_ident(reader: Reader, node: yaml.Node, value: str, where: str) -> bool:
    if not ID_PATTERN.fullmatch(value):
        reader.problem(node, where, f"{value!r} is not a valid id: {_ID_HELP}")
        return False
    if len(value) > MAX_ID_LENGTH:
        reader.problem(node, where, f"id is {len(value)} characters long; the limit is {MAX_ID_LENGTH}")
        return False
    return True


def _check_reference(
    reader: Reader, node: yaml.Node, value: str, known: set[str], where: str
) -> None:
    if known and value not in known:
        choices = ", ".join(sorted(known))
        reader.problem(node, where, f"unknown perspective {value!r} (deckgen.yaml names: {choices})")


def _plain_text(reader: Reader, node: yaml.Node | None, where: str) -> str | None:
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


def _name(reader: Reader, node: yaml.Node | None, where: str) -> str | None:
    """A display name that also becomes part of a deck name."""
    value = _plain_text(reader, node, where)
    if value is None:
        return None
    if "::" in value or "\n" in value or any(ord(c) < 32 for c in value):
        reader.problem(node, where, f"{value!r} may not contain '::', line breaks or control characters")
        return None
    if len(value) > MAX_NAME_LENGTH:
        reader.problem(node, where, f"is {len(value)} characters long; the limit is {MAX_NAME_LENGTH}")
        return None
    return value


def _deck_name(reader: Reader, node: yaml.Node | None, where: str) -> str | None:
    """A root deck name; '::' nests it under parent decks, each part non-empty."""
    value = _plain_text(reader, node, where)
    if value is None:
        return None
    parts = [part.strip() for part in value.split("::")]
    if not all(parts) or any(ord(c) < 32 for c in value):
        reader.problem(
            node,
            where,
            f"{value!r} is not a valid deck name: parts separated by '::' must be non-empty, "
            "without control characters",
        )
        return None
    if len(value) > 2 * MAX_NAME_LENGTH:
        reader.problem(node, where, f"is {len(value)} characters long; the limit is {2 * MAX_NAME_LENGTH}")
        return None
    if value[:1] in FORMULA_START:
        reader.problem(
            node,
            where,
            f"{value!r} starts with {value[0]!r}: a spreadsheet opening a CSV export would take it for a formula",
        )
        return None
    return "::".join(parts)


def _marked(reader: Reader, node: yaml.Node | None, where: str) -> Marked | None:
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


def _tags(reader: Reader, node: yaml.Node | None, where: str) -> tuple[str, ...]:
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


def _check_unique_ids(topics: list[Topic], problems: Problems) -> None:
    """Ids name notes (and topic ids files) for ever, so they must be unique across every file."""
    topic_seen: dict[str, str] = {}
    for topic in topics:
        line = topic.line
        if topic.id in topic_seen:
            problems.add(
                topic.file, line, "topic", f"duplicate topic id {topic.id!r} (first used at {topic_seen[topic.id]})"
            )
        topic_seen.setdefault(topic.id, f"{topic.file}:{line}")
    seen: dict[str, str] = {}
    for topic in topics:
        for entry in (*topic.items, *topic.comparisons):
            if entry.id in seen:
                problems.add(
                    entry.file, entry.line, entry.id, f"duplicate id {entry.id!r} (first used at {seen[entry.id]})"
                )
            else:
                seen[entry.id] = f"{entry.file}:{entry.line}"


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
