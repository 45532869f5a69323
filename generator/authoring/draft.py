"""``deckgen draft``: a Markdown text in, a first source folder out.

Instructors start from prose, not YAML.  The draft maps the text's structure
onto the source format and leaves every judgement to the author:

- ``#`` names the source; each ``##`` is a topic (its heading the cards'
  context line); each deeper heading is an item (titled by it, and by the
  heading above it when that one has no text of its own);
- a section's paragraphs are the item's explanation, its list the points,
  paragraphs after the list the conclusion; text under a ``##`` before any
  sub-heading is an item of its own;
- *emphasis* (or **strong**) marks a key term: the only thing that is asked;
- ids are slugs of the headings (and point keys of the points' first words),
  so re-drafting a revised text keeps them where its headings stay;
- every item says in a comment which line of the text it came from; what
  the text cannot say (the perspectives, which item belongs to which) is
  left as placeholders and comments, never guessed.

The folder passes ``deckgen check`` as written.  markdown-it-py parses the
Markdown (CommonMark).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.errors import DeckgenError
from generator.source.loader import MAX_DECK_NAME_LENGTH, MAX_ID_LENGTH, MAX_NAME_LENGTH, slug_id
from generator.source.markup import MarkupError, parse_marked

if TYPE_CHECKING:  # markdown-it-py is optional (the 'draft' extra): imported where it runs
    from markdown_it.token import Token

_NUMBERING = re.compile(r"^\s*\d+[.)]\s+")


@dataclass
class _Item:
    title: str | None
    line: int
    level: int = 0
    explanation: list[str] = field(default_factory=list)
    points: list[str] = field(default_factory=list)
    conclusion: list[str] = field(default_factory=list)
    id: str = ""


@dataclass
class _Topic:
    name: str
    line: int
    items: list[_Item] = field(default_factory=list)
    id: str = ""


def draft_source(markdown_path: str, folder: str) -> list[str]:
    """Write a source folder drafted from the Markdown file *markdown_path*; return the files written.

    Never overwrites: *folder* must not exist, or be empty.
    """
    if os.path.lexists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
        raise DeckgenError(f"{folder}: already exists and is not an empty folder; choose a new one")
    title, topics = _structure(_read_text(markdown_path))
    shown = os.path.basename(markdown_path)
    title = title or os.path.splitext(shown)[0]
    files = {"deckgen.yaml": _config(title, shown)}
    for number, topic in enumerate(topics, start=1):
        files[f"{number:02d}-{topic.id}.yaml"] = _topic_yaml(topic, shown)
    return _write_folder(folder, files)


def _read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return unicodedata.normalize("NFC", handle.read())
    except (OSError, UnicodeDecodeError) as error:
        raise DeckgenError(f"cannot read {path}: {getattr(error, 'strerror', None) or error}") from None


# --- from Markdown tokens to topics and items --------------------------------------------


def _structure(text: str) -> tuple[str | None, list[_Topic]]:
    """The text's title (its first ``#``) and its topics, with their items and ids."""
    tokens = _tokens(text)
    outline = _Outline()
    list_depth = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            heading = _NUMBERING.sub("", _plain(tokens[index + 1])).strip()
            outline.heading(int(token.tag[1:]), heading, _line(token))
            index += 3
            continue
        list_depth += _LIST_DEPTH.get(token.type, 0)
        if token.type == "inline" and tokens[index - 1].type == "paragraph_open":
            outline.paragraph(_marked(token), _line(tokens[index - 1]), in_list=list_depth > 0)
        index += 1
    topics = [topic for topic in outline.topics if topic.items]
    _assign_ids(topics)
    return outline.title, topics


_LIST_DEPTH = {"bullet_list_open": 1, "ordered_list_open": 1, "bullet_list_close": -1, "ordered_list_close": -1}


def _tokens(text: str) -> list[Token]:
    try:
        from markdown_it import MarkdownIt  # optional, and only this command needs it
    except ImportError:
        raise DeckgenError("deckgen draft needs markdown-it-py: pip install 'deckgen-yaml[draft]'") from None
    return MarkdownIt("commonmark").parse(text)


def _line(token: Token) -> int:
    """The 1-based line a block token starts on."""
    return token.map[0] + 1 if token.map else 1


@dataclass
class _Outline:
    """The topics and items drafted so far, and where the next text goes."""

    title: str | None = None
    topics: list[_Topic] = field(default_factory=list)
    item: _Item | None = None
    group: _Item | None = None  # a heading with no text of its own, above the items that follow

    def heading(self, level: int, heading: str, line: int) -> None:
        """``#`` titles the source (once), ``##`` starts a topic, deeper headings items."""
        if level == 1 and self.title is None:
            self.title = heading
        elif level <= 2:
            self.topics.append(_Topic(heading, line))
            self.item, self.group = None, None
        else:
            self._item_heading(level, heading, line)

    def _item_heading(self, level: int, heading: str, line: int) -> None:
        topic = self._topic(line)
        if self.group is not None and level <= self.group.level:
            self.group = None
        item = self.item
        empty = item is not None and not (item.explanation or item.points or item.conclusion)
        if empty and item is not None and item.title and item.level < level:
            topic.items.remove(item)  # a heading that only groups the ones below it
            self.group = item
        self.item = _Item(f"{self.group.title}: {heading}" if self.group else heading, line, level)
        topic.items.append(self.item)

    def paragraph(self, text: str, line: int, *, in_list: bool) -> None:
        """A paragraph's text: a point in a list, else explanation, or conclusion after the points."""
        topic = self._topic(line)
        if self.item is None:
            self.item = _Item(None, line)
            topic.items.append(self.item)
        _add(self.item, text, in_list)

    def _topic(self, line: int) -> _Topic:
        """The current topic; text before the first ``##`` gets one of its own."""
        if not self.topics:
            self.topics.append(_Topic("Introduction", line))
        return self.topics[-1]


def _add(item: _Item, text: str, in_list: bool) -> None:
    if in_list:
        item.points.append(text)
    elif item.points:
        item.conclusion.append(text)
    else:
        item.explanation.append(text)


def _plain(inline: Token) -> str:
    return " ".join("".join(child.content for child in inline.children or () if child.type != "softbreak").split())


def _marked(inline: Token) -> str:
    """An inline token as source text: emphasis becomes {{key term}}, the rest plain."""
    parts: list[str] = []
    depth = 0
    for child in inline.children or ():
        if child.type in ("em_open", "strong_open"):
            parts.append("{{" if depth == 0 else "")
            depth += 1
        elif child.type in ("em_close", "strong_close"):
            depth -= 1
            parts.append("}}" if depth == 0 else "")
        else:
            parts.append(" " if child.type in ("softbreak", "hardbreak") else child.content)
    text = " ".join("".join(parts).split())
    try:
        parse_marked(text)
    except MarkupError:  # e.g. an emphasised "*" with no word in it: keep the words, drop the marks
        text = text.replace("{{", "").replace("}}", "")
    return text


def _unique(wanted: str, taken: set[str]) -> str:
    candidate, number = wanted, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = f"{wanted[: MAX_ID_LENGTH - len(suffix)]}{suffix}"
        number += 1
    taken.add(candidate)
    return candidate


def _assign_ids(topics: list[_Topic]) -> None:
    """Slugs of the headings, made unique without depending on the sections' order where possible."""
    topic_ids: set[str] = set()
    names: set[str] = set()
    for topic in topics:
        topic.id = _unique(slug_id(topic.name) or "topic", topic_ids)
        topic.name = _unique_name(topic.name, names)
    _assign_item_ids(topics, taken=set(topic_ids))


def _unique_name(wanted: str, taken: set[str]) -> str:
    """A topic name, a deck name's part: short enough, without '::', unique ignoring case (as Anki's are)."""
    name = wanted[:MAX_NAME_LENGTH].replace("::", ":")
    while name.casefold() in taken:
        name = f"{name[: MAX_NAME_LENGTH - 4]} (2)"
    taken.add(name.casefold())
    return name


def _assign_item_ids(topics: list[_Topic], *, taken: set[str]) -> None:
    bases = [
        (topic, item, slug_id(item.title) if item.title else f"{topic.id}-intro")
        for topic in topics
        for item in topic.items
    ]
    counts = Counter(base for _, _, base in bases)
    for topic, item, base in bases:
        # a heading used in two sections is told apart by its section, not by its order
        wanted = base if counts[base] == 1 else slug_id(f"{topic.id} {base}")
        item.id = _unique(wanted or "item", taken)


# --- writing ---------------------------------------------------------------------------------


def _q(text: str) -> str:
    """*text* as a YAML double-quoted scalar (a JSON string is one), so nothing is read as a number or date."""
    return json.dumps(text, ensure_ascii=False)


def _config(title: str, shown: str) -> str:
    name = title.replace("::", ":")[:MAX_DECK_NAME_LENGTH]
    source_id = slug_id(title) or "my-source"
    return (
        f"# Drafted by `deckgen draft` from {shown}. Read every file, then: deckgen check --source THIS_FOLDER\n"
        "# `id` is part of every note's identity: keep it once students study the decks.\n"
        f"id: {_q(source_id)}\n"
        f"title: {_q(title)}\n"
        f"deck: {_q(name)}\n"
        "# DECIDE: the perspectives this text compares (two or more: id -> name).  The\n"
        "# text cannot say; these placeholders only let the draft pass `deckgen check`.\n"
        "perspectives:\n"
        "  first: First perspective\n"
        "  second: Second perspective\n"
    )


def _topic_yaml(topic: _Topic, shown: str) -> str:
    lines = [
        f"# From {shown}:{topic.line}.  Only {{{{marked}}}} text is asked; unmarked items are context.",
        f"topic: {topic.id}",
        f"name: {_q(topic.name)}",
        f"heading: {_q(topic.name)}",
        "items:",
    ]
    for item in topic.items:
        lines += _item_yaml(item, shown)
    return "\n".join(lines) + "\n"


def _item_yaml(item: _Item, shown: str) -> list[str]:
    title = _unmarked(item.title) if item.title else ""
    unasked: list[str] = []
    lines = [
        f"  # from {shown}:{item.line}",
        "  # DECIDE: `perspective: <id>` if this item belongs to one perspective",
        f"  - id: {item.id}",
    ]
    if title:
        lines.append(f"    title: {_q(title)}")
    if item.explanation:
        lines.append(f"    explanation: {_q(_unask(' '.join(item.explanation), title, unasked))}")
    if item.points:
        lines.append("    points:")
        keys: set[str] = set()
        for point in item.points:
            words = " ".join(_unmarked(point).split()[:4])
            lines.append(f"      {_unique(slug_id(words, 40) or 'point', keys)}: {_q(_unask(point, title, unasked))}")
    if item.conclusion:
        lines.append(f"    conclusion: {_q(_unask(' '.join(item.conclusion), title, unasked))}")
    if unasked:  # said where the author looks: the mark is left out, not lost silently
        terms = ", ".join(dict.fromkeys(unasked))
        lines.insert(2, f"  # not asked: {terms} (the title shows it: a card would give it away)")
    return lines


_MARK = re.compile(r"\{\{(.*?)\}\}")


def _unask(text: str, title: str, unasked: list[str]) -> str:
    """*text* without the marks of terms the title already shows (emphasis that repeats a heading)."""
    shown = set(re.findall(r"\w+", title.lower()))

    def keep(match: re.Match[str]) -> str:
        if shown and set(re.findall(r"\w+", match[1].lower())) <= shown:
            unasked.append(repr(match[1]))
            return match[1]
        return match[0]

    return _MARK.sub(keep, text)


def _unmarked(text: str) -> str:
    return text.replace("{{", "").replace("}}", "")


def _umask() -> int:
    """The process's umask (it can only be read by setting it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_folder(folder: str, files: dict[str, str]) -> list[str]:
    """Write *files* into a new folder beside *folder*, then rename it into place: all or nothing."""
    parent = os.path.dirname(os.path.abspath(folder))
    try:
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".deckgen-draft-", dir=parent)
    except OSError as error:
        raise DeckgenError(f"cannot write {folder}: {error.strerror or error}") from None
    try:
        for name, text in files.items():
            with open(os.path.join(staging, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; a source folder is like any other
        if os.path.isdir(folder):
            os.rmdir(folder)  # empty (checked above): the staged folder takes its place
        os.rename(staging, folder)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise DeckgenError(f"cannot write {folder}: {error.strerror or error}") from None
    return [os.path.join(folder, name) for name in files]
