"""``deckgen draft``: a Markdown text in, a first source folder out.

Instructors start from prose, not YAML.  The draft maps the text's structure
onto the source format and leaves every judgement to the author:

- ``#`` names the source; each ``##`` is a topic (its heading the cards'
  context line); each deeper heading is an item (titled by it, and by the
  heading above it when that one has no text of its own);
- a section's paragraphs are the item's explanation, its list the points,
  paragraphs after the list the conclusion; text under a ``##`` before any
  sub-heading is an item of its own;
- *emphasis* (or **strong**) that defines marks a key term: the only thing
  that is asked, and only where its card asks well (:mod:`asking`); an item
  holding most of a topic's clozes is split so that they can be kept apart;
- ``backs: short``: a paragraph is an item, and a back that showed it whole
  (and the paragraphs around it) would be a page;
- ids are slugs of the headings (and point keys of the points' first words),
  so re-drafting a revised text keeps them where its headings stay;
- every item says in a comment which line of the text it came from; what
  the text cannot say (the perspectives, which item belongs to which) is
  left as placeholders and comments, never guessed.

The folder passes ``deckgen check`` as written, whatever the text: every
value is made valid by :mod:`generator.authoring.written` (characters the
loader refuses dropped, names and the deck name made valid and unique, every
scalar quoted so that YAML reads it as text), and a ``{{`` or ``}}`` that the
text itself holds never becomes a key term's mark.  markdown-it-py parses the
Markdown (CommonMark).
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from generator.authoring import course
from generator.authoring.asking import across_deck, holds, points_back
from generator.authoring.asking import checked as _checked
from generator.authoring.asking import unask as _unask
from generator.authoring.course import clean, common_word, defines, definition_list, section_kind, term_line
from generator.authoring.editor_schema import CONFIG_SCHEMA, SCHEMA_FOLDER, TOPIC_SCHEMA, modeline, schema_texts
from generator.authoring.written import comment, deck_name, plain, quoted, unique_name, without_markers
from generator.errors import DeckgenError
from generator.source.guarded import NotUtf8, Refused, decode_utf8, read_regular
from generator.source.loader import MAX_ID_LENGTH, slug_id
from generator.source.markup import parse_marked, sentences
from generator.source.yamlread import without_refused

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
    image: str = ""
    """A figure's local image, by its path inside the drafted folder."""
    figure: bool = False
    """A figure's caption: context, never what a paragraph after it points back to."""
    unasked: list[str] = field(default_factory=list)
    """Terms left plain because its own cards would give them away (see :func:`_ask`)."""
    elsewhere: list[str] = field(default_factory=list)
    """Terms left plain because another card asks them or shows them (see :func:`_ask`)."""


@dataclass
class _Term:
    term: str
    definition: str
    line: int
    id: str = ""
    ask: str = ""
    """``definition`` where the definition shows the term: only "What is <term>?" is asked."""


@dataclass
class _Topic:
    name: str
    line: int
    items: list[_Item] = field(default_factory=list)
    id: str = ""
    terms: list[_Term] = field(default_factory=list)
    headings: list[tuple[int, str, int]] = field(default_factory=list)
    """Its item headings: (level, heading, line), to propose perspectives from parallel siblings."""


def draft_source(markdown_path: str, folder: str) -> list[str]:
    """Write a source folder drafted from the Markdown file *markdown_path*; return the files written.

    Never overwrites: *folder* must not exist, or be empty.
    """
    if os.path.lexists(folder) and (not os.path.isdir(folder) or os.listdir(folder)):
        raise DeckgenError(f"{folder}: already exists and is not an empty folder; choose a new one")
    text, front_title = clean(_read_text(markdown_path))
    images: dict[str, bytes] = {}
    title, topics, skipped = _structure(text, _ImageReader(os.path.dirname(os.path.abspath(markdown_path)), images))
    title = title or front_title
    if not topics:  # a source needs a topic file: a folder of only deckgen.yaml would fail `check`
        raise DeckgenError(f"{markdown_path}: no heading or paragraph to draft an item from; nothing was written")
    _ask(topics)
    shown = comment(os.path.basename(markdown_path))
    title = title or plain(os.path.splitext(os.path.basename(markdown_path))[0]) or "Draft"
    files = {"deckgen.yaml": modeline(CONFIG_SCHEMA) + _config(title, shown, topics, skipped)}
    for number, topic in enumerate(topics, start=1):
        files[f"{number:02d}-{topic.id}.yaml"] = modeline(TOPIC_SCHEMA) + _topic_yaml(topic, shown)
    # the schemas the first lines name, so an editor checks the draft as the author revises it
    files |= {f"{SCHEMA_FOLDER}/{name}": text for name, text in schema_texts().items()}
    return _write_folder(folder, files, images)


MAX_MARKDOWN_BYTES = 32 * 1024 * 1024
"""A whole textbook in one file drafts; a file this big is not a text (and would take minutes)."""

_NOT_READ = {
    "directory": "is a folder; give the Markdown file in it",
    "special": "is not a regular file (a pipe, a device or a socket); give a Markdown file",
    "too_big": f"is larger than {MAX_MARKDOWN_BYTES // (1024 * 1024)} MiB; split it into chapters",
}


def _read_text(path: str) -> str:
    # Through the guarded reader: a named pipe or /dev/zero given as the text would block or never end.
    data = read_regular(path, MAX_MARKDOWN_BYTES)
    if isinstance(data, Refused):
        raise DeckgenError(f"cannot read {path}: {data.detail or _NOT_READ[data.reason]}")
    text = decode_utf8(data.removeprefix(b"\xef\xbb\xbf"))  # a byte-order mark is dropped, as editors hide it
    if isinstance(text, NotUtf8):
        raise DeckgenError(f"{path}:{text.line}: is not UTF-8 text; save it as UTF-8")
    # Line breaks first (a lone CR is one), then what the loader refuses: a BOM would hide the first heading.
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return without_refused(unicodedata.normalize("NFC", text))


# --- from Markdown tokens to topics and items --------------------------------------------


def _structure(text: str, images: _ImageReader | None = None) -> tuple[str | None, list[_Topic], list[str]]:
    """The text's title (its first ``#``), its topics with their items and ids, and the sections not taught."""
    tokens = _tokens(text)
    outline = _Outline()
    images = images or _ImageReader("", {})
    list_depth = 0
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            heading = plain(_NUMBERING.sub("", _plain(tokens[index + 1])))
            outline.heading(int(token.tag[1:]), heading, _line(token))
            index += 3
            continue
        list_depth += _LIST_DEPTH.get(token.type, 0)
        if token.type == "html_block" and (figure := course.figure(token.content)) is not None:
            outline.figure(figure[0], images.read(figure[1]), _line(token))
        if token.type == "inline" and tokens[index - 1].type == "paragraph_open":
            line = _line(tokens[index - 1])
            if not outline.special(token.content, _unmarked(without_markers(_text_of(token))), line):
                outline.paragraph(_marked(token), line, in_list=list_depth > 0)
        index += 1
    for topic in outline.topics:  # an empty heading ("###", or only characters dropped) states nothing
        topic.items = [item for item in topic.items if item.title or item.explanation or item.points]
    topics = [topic for topic in outline.topics if topic.items or topic.terms]
    _assign_ids(topics)
    return outline.title, topics, outline.skipped


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
    section: tuple[str, int] | None = None
    """A section not drafted as items ("skip": references, objectives; "glossary"), and its heading's level."""
    term: _Term | None = None
    """A glossary's term heading waiting for its definition."""
    skipped: list[str] = field(default_factory=list)
    """The sections not taught, as comment lines."""

    def heading(self, level: int, heading: str, line: int) -> None:
        """``#`` titles the source (once), ``##`` starts a topic, deeper headings items."""
        if self.section is not None and level <= self.section[1]:
            self.section = None
        if self.section is not None and self.section[0] == "glossary":
            self.term = _Term(heading, "", line)  # a term heading: its definition follows
            return
        if self.section is not None:
            self.skipped.append(f"  {heading}")
            return
        kind = section_kind(heading)
        if kind is not None and level > 1:
            self.section = (kind, level)
            if kind == "skip":
                self.skipped.append(f"{heading} (line {line}):")
            elif level <= 2:
                self.topics.append(_Topic(heading, line))
            self.item, self.group = None, None
            return
        if level == 1 and self.title is None:
            self.title = heading or None
        elif level <= 2:
            self.topics.append(_Topic(heading, line))
            self.item, self.group = None, None
        else:
            self._topic(line).headings.append((level, heading, line))
            self._item_heading(level, heading, line)

    def special(self, source: str, text: str, line: int) -> bool:
        """True if a paragraph is not an item's text: a glossary entry, or in a section that is not taught."""
        if self.section is not None and self.section[0] == "skip":
            self.skipped.append(f"  {text[:200]}")
            return True
        if course.ATTRIBUTION.match(text):  # "Adapted from …", "This work is licensed …": credit, not content
            self.skipped.append(f"{text[:200]} (line {line})")
            return True
        entries = definition_list(source) or ([found] if (found := term_line(source)) else [])
        if self.section is not None and self.term is not None and not entries:
            entries = [(self.term.term, text)]
        self.term = None
        if not entries:
            return self.section is not None and bool(text)  # other text of a glossary: its introduction
        topic = self._topic(line)
        topic.terms += [_Term(plain(term), plain(definition), line) for term, definition in entries]
        return True

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
        """A paragraph's text: a point in a list, else an item of its own (one idea a paragraph)."""
        if not text:  # nothing left once what the loader refuses is dropped
            return
        topic = self._topic(line)
        if self.item is None:
            self.item = _Item(None, line)
            topic.items.append(self.item)
        elif not in_list and (before := self._pointed_at(topic)) is not None and _continues(before, text):
            self.item = before  # a paragraph opening "This preference is called {{…}}" joins the one it points back to
        elif not in_list and (self.item.explanation or self.item.points):
            # The section's next paragraph: its own item, under the section's title (the card's cue).
            previous = self.item
            self.item = _Item(previous.title, line, previous.level)
            topic.items.append(self.item)
        _add(self.item, text, in_list)

    def _pointed_at(self, topic: _Topic) -> _Item | None:
        """The section's last paragraph before a figure or none (a caption is no antecedent), if it has no list."""
        current = self.item
        for item in reversed(topic.items):
            if current is None or item.title != current.title:
                return None
            if not item.figure:
                return item if item.explanation and not item.points else None
        return None

    def figure(self, caption: str, image: str, line: int) -> None:
        """A figure: its caption an item of context under the section's title, its local image that item's ``image``.

        The caption explains a picture: it is never asked, and is shown on the
        back of the section's next card.  The section's next paragraph is an
        item of its own, as after any paragraph.
        """
        caption = _checked(without_markers(plain(caption)))
        if self.section is not None or not (caption or image):
            return
        current = self.item
        self.item = _Item(
            current.title if current else None, line, current.level if current else 0, image=image, figure=True
        )
        if caption:
            self.item.explanation.append(caption)
        self._topic(line).items.append(self.item)

    def _topic(self, line: int) -> _Topic:
        """The current topic; text before the first ``##`` gets one of its own (the text's overview)."""
        if not self.topics:
            self.topics.append(_Topic("Overview", line))
        return self.topics[-1]


def _continues(item: _Item, text: str) -> bool:
    """True if *text* asks in a sentence that points back, and *item* (the paragraph before) asks nothing."""
    return "{{" not in " ".join(item.explanation) and points_back(text)


def _add(item: _Item, text: str, in_list: bool) -> None:
    if in_list:
        item.points.append(text)
    elif item.points:
        item.conclusion.append(text)
    else:
        item.explanation.append(text)


def _text_of(inline: Token) -> str:
    """An inline token's words as a reader sees them: no markup, no HTML."""
    return " ".join(
        child.content for child in inline.children or () if child.type in ("text", "code_inline", "softbreak")
    )


def _plain(inline: Token) -> str:
    return " ".join("".join(child.content for child in inline.children or () if child.type != "softbreak").split())


_OPEN, _CLOSE = "\x00", "\x01"  # emphasis, while the text's own braces are halved: _read_text drops both


def _marked(inline: Token) -> str:
    """An inline token as source text: emphasis becomes {{key term}}, the rest plain.

    The text's own ``{{`` and ``}}`` are halved first, so only emphasis marks.
    """
    parts: list[str] = []
    depth = 0
    hidden = 0  # inside <sup>, <script>, <style>: a footnote number or code, no text of the card
    for child in inline.children or ():
        if child.type == "html_inline":  # a tag never reaches a card; <cite>'s text stays as context
            tag = _TAG.match(child.content)
            if tag and tag[2].lower() in _HIDDEN_TAGS:
                hidden = max(0, hidden + (-1 if tag[1] else 1))
        elif hidden or child.type == "image":
            continue
        elif child.type in ("em_open", "strong_open"):
            parts.append(_OPEN if depth == 0 else "")
            depth += 1
        elif child.type in ("em_close", "strong_close"):
            depth -= 1
            parts.append(_CLOSE if depth == 0 else "")
        else:
            parts.append(" " if child.type in ("softbreak", "hardbreak") else child.content)
    # A space left before punctuation where a tag or a citation was ("a recording <cite>…</cite>, and").
    text = _defining_only(_BEFORE_PUNCTUATION.sub(r"\1", " ".join(without_markers("".join(parts)).split())))
    return _checked(course.mark_named(text.replace(_OPEN, "{{").replace(_CLOSE, "}}")))


_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9-]*)")
_BEFORE_PUNCTUATION = re.compile(r"\s+([,.;:!?])")
_HIDDEN_TAGS = frozenset({"sup", "script", "style", "figure", "figcaption"})
_EMPHASIS = re.compile(f"{_OPEN}([^{_OPEN}{_CLOSE}]*){_CLOSE}")


_AROUND = 1000
"""How much of the paragraph either side of an emphasis :func:`course.defines` reads: its patterns look a
few words before and after, and reading the whole paragraph for each emphasis made a long one quadratic."""


def _defining_only(text: str) -> str:
    """*text* keeping the emphasis marks of terms it defines (see :func:`course.defines`); the others plain."""
    plain = _EMPHASIS.sub(r"\1", text)  # once: the k-th emphasis starts 2k characters earlier in it
    pieces, done = [], 0
    for number, match in enumerate(_EMPHASIS.finditer(text)):
        start, end = match.start() - 2 * number, match.end() - 2 * (number + 1)
        before = plain[max(0, start - _AROUND) : start]
        if start > _AROUND:  # cut at a space, so no word is cut in two (a word's start is a \b)
            before = before[len(before.split(maxsplit=1)[0]) :] if before[:1].strip() else before
        after = plain[end : end + _AROUND]
        pieces += [text[done : match.start()], match[0] if defines(before, match[1], after) else match[1]]
        done = match.end()
    return "".join(pieces) + text[done:]


def _unique(wanted: str, taken: set[str]) -> str:
    """The id *wanted*, or with "-2", "-3"... after as much of it as fits (a cut id may not end in '-')."""
    wanted = wanted[:MAX_ID_LENGTH].rstrip("-_")  # a long topic id and "-intro"
    candidate, number = wanted, 2
    while candidate in taken:
        suffix = f"-{number}"
        candidate = f"{wanted[: MAX_ID_LENGTH - len(suffix)].rstrip('-_')}{suffix}"
        number += 1
    taken.add(candidate)
    return candidate


def _assign_ids(topics: list[_Topic]) -> None:
    """Slugs of the headings, made unique without depending on the sections' order where possible."""
    topic_ids: set[str] = set()
    names: set[str] = set()
    for topic in topics:
        topic.id = _unique(slug_id(topic.name) or "topic", topic_ids)
        topic.name = unique_name(topic.name, names, fallback="Topic")
    taken = set(topic_ids)
    _assign_item_ids(topics, taken=taken)
    for topic in topics:
        for term in topic.terms:
            term.id = _unique(slug_id(f"term {term.term}") or "term", taken)


def _assign_item_ids(topics: list[_Topic], *, taken: set[str]) -> None:
    bases = [
        (topic, item, slug_id(item.title) if item.title else f"{topic.id}-intro")
        for topic in topics
        for item in topic.items
    ]
    # A section's later paragraphs: its id and a number, stable while the section keeps its heading.
    counters: Counter[tuple[int, str]] = Counter()
    for position, (topic, item, base) in enumerate(bases):
        counters[(id(topic), base)] += 1
        if counters[(id(topic), base)] > 1:
            number = counters[(id(topic), base)]
            bases[position] = (topic, item, f"{base}-{number}" if base else f"{topic.id}-{number}")
    counts = Counter(base for _, _, base in bases)
    for topic, item, base in bases:
        # a heading used in two sections is told apart by its section, not by its order
        wanted = base if counts[base] == 1 else slug_id(f"{topic.id} {base}")
        item.id = _unique(wanted or "item", taken)


@dataclass(frozen=True)
class _ImageReader:
    """Reads a figure's local image (beside the Markdown file) into *found*, by its path in the drafted folder."""

    folder: str
    found: dict[str, bytes]

    def read(self, src: str) -> str:
        """The path to write as the figure's ``image:``, or "" for a remote, missing or unsupported image."""
        name = course.local_image(src)
        if name is None or not self.folder:
            return ""
        data = read_regular(os.path.join(self.folder, *name.split("/")), course.MAX_IMAGE_BYTES)
        if isinstance(data, Refused) or not course.is_image(name, data):
            return ""
        target = course.image_name(name)
        if self.found.get(target, data) != data:  # two images of one name in different folders
            stem, ext = target.rsplit(".", 1)
            target = f"{stem}-{len(self.found) + 1}.{ext}"
        self.found[target] = data
        return target


# --- writing ---------------------------------------------------------------------------------


_q = quoted  # every scalar written: YAML 1.1 reads 1989, Yes, Null, ~ or 2001-01-01 unquoted as no text


def _config(title: str, shown: str, topics: list[_Topic], skipped: list[str]) -> str:
    name = deck_name(title, fallback="Draft")
    source_id = slug_id(title) or "my-source"
    lines = [
        f"# Drafted by `deckgen draft` from {shown}. Read every file, then: deckgen check --source THIS_FOLDER",
        "# `id` is part of every note's identity: keep it once students study the decks.",
        f"id: {_q(source_id)}",
        f"title: {_q(title)}",
        f"deck: {_q(name)}",
        "# A card's back shows its sentence and the few after it; `full` shows the whole paragraph and the",
        "# paragraphs around it (the items that ask nothing) too.",
        "backs: short",
    ]
    proposed = _proposed_perspectives(topics)
    if proposed:
        lines += [
            "# DECIDE: these sibling headings look like the things this text compares.  To ask",
            "# \"which one is this?\" and compare them side by side, uncomment (ids are identity):",
            "# perspectives:",
            *(f"#   {comment(pid)}: {comment(heading)}" for pid, heading in proposed),
        ]
    else:
        lines.append("# No perspectives: the text compares nothing, so its decks are clozes and term cards.")
    if skipped:
        lines.append("# Not drafted (about the text, not what it teaches); kept here for reference:")
        lines += [f"#   {comment(line)}" for line in skipped]
    return "\n".join(lines) + "\n"


def _perspective_id(heading: str, shared: str) -> str:
    """"Individualism: The Autonomous Self" → ``individualism``; "Remote Work" (sharing "work") → ``remote``."""
    named = heading.split(":")[0] if ":" in heading else " ".join(w for w in heading.split() if w.lower() != shared)
    return slug_id(named) or slug_id(heading) or "perspective"


def _proposed_perspectives(topics: list[_Topic]) -> list[tuple[str, str]]:
    """Sibling item headings of one topic that share a word ("Remote Work", "Office Work"), as (id, name)."""
    for topic in topics:
        by_level: dict[int, list[str]] = {}
        for level, heading, _ in topic.headings:
            by_level.setdefault(level, []).append(heading)
        for headings in by_level.values():
            word = common_word(headings)
            if word is not None and len(headings) <= 6:
                return [(_perspective_id(h, word), h) for h in headings]
    return []


def _topic_yaml(topic: _Topic, shown: str) -> str:
    lines = [
        f"# From {shown}:{topic.line}.  Only {{{{marked}}}} text is asked; unmarked items are context.",
        f"topic: {_q(topic.id)}",
        f"name: {_q(topic.name)}",
        f"heading: {_q(topic.name)}",
    ]
    lines += _proposed_comparisons(topic)
    if topic.items:
        lines.append("items:")
    for item in topic.items:
        lines += _item_yaml(item, shown)
    if topic.terms:
        lines.append("terms:  # each: \"What is <term>?\" -> the definition")
    for term in topic.terms:
        lines += [
            f"  # from {shown}:{term.line}",
            f"  - id: {_q(term.id)}",
            f"    term: {_q(_unmarked(term.term))}",
            f"    definition: {_q(_unmarked(term.definition))}",
        ]
        if term.ask:
            lines.append(f"    ask: {term.ask}  # the definition shows the term: it cannot ask for it")
        else:
            # Both directions of one term make two cards each showing the other's answer on its front.
            lines.append("    ask: definition  # DECIDE: 'both' also asks the term from its definition;"
                         " then whichever card comes first answers the other")
    return "\n".join(lines) + "\n"


_LABEL = re.compile(r"^([A-Z][\w ]{2,40}?):\s+\S")


def _proposed_comparisons(topic: _Topic) -> list[str]:
    """The same "Label:" opening a paragraph under two or more items: a comparison to decide, as comments."""
    found: dict[str, list[tuple[str, str]]] = {}
    for item in topic.items:
        for text in item.explanation + item.conclusion:
            opening = _LABEL.match(_unmarked(text))
            if opening and item.title:
                found.setdefault(opening[1], []).append((item.title, _unmarked(text)[opening.end() - 1 :]))
    lines = []
    for label, sides in found.items():
        if len({title for title, _ in sides}) >= 2:
            lines += [
                f"# DECIDE: {comment(label)} is said of {len(sides)} sections; with perspectives, compare them:",
                "# comparisons:",
                f"#   - id: {comment(slug_id(label) or 'dimension')}",
                f"#     dimension: {comment(label)}",
                "#     sides:",
                *(f"#       <{comment(title)}>: {comment(text[:100])}" for title, text in sides),
            ]
    return lines


def _ask(topics: list[_Topic]) -> None:
    """Leave plain, in every item's texts, the marks whose cards would not ask well.

    First each card on its own (:func:`asking.unask`: its title, context line
    or sentence shows the term), then across the deck
    (:func:`asking.across_deck`: a glossary term, or an answer another card's
    front shows).
    """
    texts: list[tuple[_Item, str, int]] = []  # each text of each item: its item, its field, its place in the field
    for topic in topics:
        for item in topic.items:
            front = f"{_unmarked(item.title) if item.title else ''} {topic.name}"  # what every card of it shows
            if item.explanation:
                item.explanation = [_unask(" ".join(item.explanation), front, item.unasked)]
            item.points = [_unask(point, front, item.unasked) for point in item.points]
            if item.conclusion:
                item.conclusion = [_unask(" ".join(item.conclusion), front, item.unasked)]
            texts += [(item, name, place) for name in _TEXTS for place in range(len(getattr(item, name)))]
    shown = {id(item): f"{_unmarked(item.title) if item.title else ''} {topic.name}" for topic in topics
             for item in topic.items}
    for term in (term for topic in topics for term in topic.terms):
        if holds(term.definition, term.term):  # "the most typical …: which term?" reads "Typicality" off
            term.ask = "definition"
    # Fronts: "What is <term>?" only; a definition is on a front only if the author opts into 'ask: both'.
    glossary = [t.term for topic in topics for t in topic.terms]
    kept, dropped = across_deck([(getattr(i, name)[place], shown[id(i)]) for i, name, place in texts], glossary)
    for (item, name, place), text, answers in zip(texts, kept, dropped, strict=True):
        getattr(item, name)[place] = text
        item.elsewhere += answers
    taken = {item.id for topic in topics for item in topic.items} | {t.id for topic in topics for t in topic.terms}
    for topic in topics:
        _keep_apart(topic, taken)


def _keep_apart(topic: _Topic, taken: set[str]) -> None:
    """Split the item that holds most of a topic's clozes at a sentence, while its clozes outnumber the others'
    by two or more: a deck can then never keep them apart, and a student would meet one right after its sibling.

    The second part is an item of its own under the same title (its id the first's with a number).
    """
    while True:
        counts = [(_MARKS.findall(" ".join(item.explanation)), item) for item in topic.items]
        marks, item = max(counts, key=lambda pair: len(pair[0]), default=([], None))
        if item is None or len(marks) <= sum(len(m) for m, _ in counts) - len(marks) + 1 or item.points:
            return
        split = sentences(parse_marked(item.explanation[0]))
        asking = [number for number, (_, terms) in enumerate(split) if terms]
        cut = asking[len(asking) // 2]
        written = ["".join("{{" + part + "}}" if is_term else part for part, is_term in s.segments) for s, _ in split]
        later = _Item(item.title, item.line, item.level, [" ".join(written[cut:])], conclusion=item.conclusion)
        later.id = _unique(f"{item.id}-{len(marks) // 2 + 1}", taken)
        item.explanation, item.conclusion = [" ".join(written[:cut])], []
        topic.items.insert(topic.items.index(item) + 1, later)


_MARKS = re.compile(r"\{\{.*?\}\}")


_TEXTS = ("explanation", "points", "conclusion")


def _item_yaml(item: _Item, shown: str) -> list[str]:
    lines = [
        f"  # from {shown}:{item.line}",
        f"  - id: {_q(item.id)}",
    ]
    if item.title:
        lines.append(f"    title: {_q(_unmarked(item.title))}")
    if item.explanation:
        lines.append(f"    explanation: {_q(item.explanation[0])}")
    if item.points:
        lines.append("    points:")
        keys: set[str] = set()
        for point in item.points:
            words = " ".join(_unmarked(point).split()[:4])
            key = _unique(slug_id(words, 40) or "point", keys)
            lines.append(f"      {_q(key)}: {_q(point)}")
    if item.conclusion:
        lines.append(f"    conclusion: {_q(item.conclusion[0])}")
    if item.image:
        lines.append(f"    image: {_q(item.image)}  # the figure's image, copied beside this file")
    if item.elsewhere:
        terms = comment(", ".join(dict.fromkeys(map(repr, item.elsewhere))))
        lines.insert(2, f"  # not asked: {terms} (a term card asks it, or another card's front shows it)")
    if item.unasked:  # said where the author looks: the mark is left out, not lost silently
        terms = comment(", ".join(dict.fromkeys(item.unasked)))
        lines.insert(2, f"  # not asked: {terms} (the title, the context line or the sentence's other term "
                        "shows it, its sentence says only a subject, or it opens with a pointer such as 'It' "
                        "at the sentence before)")
    return lines


def _unmarked(text: str) -> str:
    return text.replace("{{", "").replace("}}", "")


def _umask() -> int:
    """The process's umask (it can only be read by setting it)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_folder(folder: str, files: dict[str, str], images: dict[str, bytes] | None = None) -> list[str]:
    """Write *files* (and *images*, by path) into a new folder beside *folder*, then rename it into place."""
    parent = os.path.dirname(os.path.abspath(folder))
    try:
        os.makedirs(parent, exist_ok=True)
        staging = tempfile.mkdtemp(prefix=".deckgen-draft-", dir=parent)
    except OSError as error:
        raise DeckgenError(f"cannot write {folder}: {error.strerror or error}") from None
    try:
        os.mkdir(os.path.join(staging, SCHEMA_FOLDER))
        for name, text in files.items():
            with open(os.path.join(staging, name), "w", encoding="utf-8") as handle:
                handle.write(text)
        for name, data in (images or {}).items():
            os.makedirs(os.path.dirname(os.path.join(staging, name)), exist_ok=True)
            with open(os.path.join(staging, name), "wb") as handle:
                handle.write(data)
        os.chmod(staging, 0o777 & ~_umask())  # mkdtemp makes it private; a source folder is like any other
        if os.path.isdir(folder):
            os.rmdir(folder)  # empty (checked above): the staged folder takes its place
        os.rename(staging, folder)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise DeckgenError(f"cannot write {folder}: {error.strerror or error}") from None
    return [os.path.join(folder, name) for name in [*files, *(images or {})]]
