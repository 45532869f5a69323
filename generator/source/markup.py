"""The source text format and the HTML policy.

Source text is *text*: every character a student should see is escaped on its
way into a card.  The only markup the format has is ``{{key term}}``, which is
converted into Anki cloze syntax, never passed through.  So no ``<script>``,
event handler or ``javascript:`` URL written in a source can reach a card, and
neither can Anki's own markup (``[sound:…]``, ``[latex]``, ``[anki:tts]``,
MathJax ``\\(…\\)``): see :func:`to_html`.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

from generator.source.content import Marked, MediaFile
from generator.source.media import IMAGE

_MARKER = re.compile(r"\{*(\{\{)|\}\}")
"""A term's opening, the last two of a run of braces (the others are text: "a{{{b}}" is "a{" and the term "b",
never the term "{b"), or its closing, the first two."""
# A sentence ends at . ! ? (maybe closed by a quote or bracket) before a space, or at a line break.
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)\]]*[ \t]+|\n+")
_WORD = re.compile(r"\w")
_ABBREVIATIONS = frozenset(
    "e.g i.e et al cf vs dr mr mrs ms prof st no fig figs vol pp p ed eds approx ca jr sr mt gen col lt".split()
)
"""Words whose full stop ends no sentence (lower case, without their last '.'): "e.g." is "e.g", "al." is "al"."""
_LAST_WORD = re.compile(r"(\S+)\.[\"'”’)\]]*$")


def _no_end(before: str) -> bool:
    """True if the full stop at the end of *before* belongs to an initial or an abbreviation, not a sentence's end."""
    found = _LAST_WORD.search(before)
    if found is None:
        return False
    word = found[1].lstrip("(\"'“‘[")
    if len(word) == 1 and word.isupper():  # an initial: "H. M.", "J. Smith"
        return True
    return word.lower() in _ABBREVIATIONS or (len(word) == 1 and word.isalpha() and word.islower())


def slug(text: str) -> str:
    """A key term's slug, the last part of its note's key (``term/<field>/<slug>``): lowercase words joined by '-'."""
    return "-".join(re.findall(r"\w+", text.lower())) or "term"


class MarkupError(ValueError):
    """The ``{{…}}`` markers of a text do not pair up."""


def parse_marked(text: str) -> Marked:
    """Split *text* into plain runs and ``{{key terms}}``; raise MarkupError if malformed."""
    segments: list[tuple[str, bool]] = []
    position = 0
    open_at: int | None = None
    for match in _MARKER.finditer(text):
        if match.group(1):
            if open_at is not None:
                raise MarkupError("a '{{' opens inside another key term; close the first with '}}'")
            segments += _plain_run(text[position : match.start(1)])
            open_at = match.end()
        else:
            if open_at is None:
                raise MarkupError("a '}}' closes a key term that was never opened with '{{'")
            segments.append((_term(text[open_at : match.start()]), True))
            open_at = None
        position = match.end()
    if open_at is not None:
        raise MarkupError("a '{{' is never closed with '}}'")
    return Marked.of(segments + _plain_run(text[position:]))


def _plain_run(text: str) -> list[tuple[str, bool]]:
    return [(text, False)] if text else []


def _term(term: str) -> str:
    """*term*, the text between '{{' and '}}', if it can be a key term."""
    if not term.strip():
        raise MarkupError("a key term '{{}}' is empty")
    if not _WORD.search(term):
        # a term is named by its words (its note's identity): with none,
        # two such terms would be one note
        raise MarkupError(f"the key term '{{{{{term}}}}}' has no letters or digits to ask for")
    return term


def has_markers(text: str) -> bool:
    """True if *text* contains ``{{`` or ``}}``."""
    return _MARKER.search(text) is not None


MATH_BREAK = '<b class="nomath"></b>'
"""An empty element: it shows nothing, but MathJax never reads text across it."""

_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", "{": "&#123;", "}": "&#125;", "[": "&#91;", "]": "&#93;"}
)
# A backslash that could open or close MathJax math (``\(`` ``\)`` ``\[`` ``\]``), or that ends
# the text, where the next piece of the card could supply the bracket.
_MATH_DELIMITER = re.compile(r"\\(?=[()]|&#9[13];|\Z)")
_PLAIN = re.compile(r"[^&<>{}\[\]\\\n]*")


def to_html(text: str) -> str:
    r"""Source text → safe card HTML: escaped, Anki's own markup made inert, line breaks kept.

    Every character displays as typed; none can form markup Anki interprets:

    - ``<``, ``>``, ``&`` are escaped, so no tag or entity of the source is HTML;
    - braces become ``&#123;``/``&#125;``, so no text can form Anki's ``{{…}}``
      template or cloze syntax;
    - square brackets become ``&#91;``/``&#93;``, so none of Anki's bracket
      markup, which it finds in a field's HTML (``[sound:…]``, ``[latex]``,
      ``[$]``, ``[$$]``, ``[anki:tts …]``, ``[anki:play:…]``, ``[[type:…]]``),
      can match;
    - a backslash before ``(``, ``)``, ``[`` or ``]`` (or at the end of the
      text) is followed by :data:`MATH_BREAK`, so the card's HTML never holds
      ``\(``, ``\)``, ``\[`` or ``\]`` (Anki then doesn't even load MathJax)
      and MathJax 3, which joins text only across ``<br>``, ``<wbr>`` and
      comments, never sees a delimiter in the card's text.
    """
    if _PLAIN.fullmatch(text):  # most source text: nothing to escape (and translate is slow)
        return text
    escaped = text.translate(_ESCAPES)
    if "\\" in escaped:
        escaped = _MATH_DELIMITER.sub(lambda _: "\\" + MATH_BREAK, escaped)
    return escaped.replace("\n", "<br>")


def cloze(text: str, number: int = 1) -> str:
    """*text* as Anki cloze ``number`` (``{{c1::…}}``), escaped by :func:`to_html`.

    The one place deckgen writes cloze syntax (key terms and removed notes alike).
    Colons become entities, so a ``::`` in the text cannot end the answer and
    start a hint.
    """
    return f"{{{{c{number}::{to_html(text).replace(':', '&#58;')}}}}}"


def media_html(files: Sequence[MediaFile]) -> str:
    """deckgen's own markup for media files an item declares: ``<img src>`` or ``[sound:]``.

    The one place a card gets an image or a sound, and only for files the
    source declares and the loader checked: their packaged names are made of
    ASCII letters, digits, ``-``, ``_`` and ``.`` (:func:`~generator.source.media.packaged_name`),
    so nothing needs escaping.  Source text can never form either (:func:`to_html`).
    """
    if not files:
        return ""
    shown = "".join(f'<img src="{file.name}">' if file.kind == IMAGE else f"[sound:{file.name}]" for file in files)
    return f'<div class="media">{shown}</div>'


def marked_html(marked: Marked, hide: Collection[int] = ()) -> str:
    """Render *marked* to HTML: the key terms numbered in *hide* become cloze 1, the others plain text.

    Never bold: every key term is some card's answer, and a term set apart
    on another card (front or back) is read there instead of recalled.
    """
    if not marked.term_runs:  # one run, the most common text: nothing to split
        return "".join(map(to_html, marked.runs)) if marked.cuts else to_html(marked.plain)
    parts: list[str] = []
    term_index = 0
    for text, is_term in marked.segments:
        if is_term:
            parts.append(cloze(text) if term_index in hide else to_html(text))
            term_index += 1
        else:
            parts.append(to_html(text))
    return "".join(parts)


def sentences(marked: Marked) -> list[tuple[Marked, tuple[int, ...]]]:
    """Split *marked* into sentences, each with the numbers of the key terms it holds.

    A sentence never ends inside a key term.  Used to show a card only the
    sentence it asks about, not the whole paragraph.
    """
    splitter = _SentenceSplitter()
    for text, is_term in marked.segments:
        if is_term:
            splitter.add_term(text)
        else:
            splitter.add_plain(text)
    splitter.close()
    return splitter.result


class _SentenceSplitter:
    """Collects segments into sentences: the current one, and those closed."""

    def __init__(self) -> None:
        self.result: list[tuple[Marked, tuple[int, ...]]] = []
        self.current: list[tuple[str, bool]] = []
        self.terms: list[int] = []
        self.term_count = 0

    def add_term(self, text: str) -> None:
        self.current.append((text, True))
        self.terms.append(self.term_count)
        self.term_count += 1

    def add_plain(self, text: str) -> None:
        """A plain run, which may end sentences (their ends stay with them, the spaces after go)."""
        position = 0
        for match in _SENTENCE_END.finditer(text):
            # Only the last word before the stop matters: the text before it, from its start, made a long
            # paragraph quadratic (a word cut by the window is 200 characters long, no abbreviation).
            before = text[max(0, match.start() - 200) : match.start()]
            if match.group() != "\n" * len(match.group()) and _no_end(before):
                continue  # "H. M.", "e.g.", "et al.": a full stop that ends no sentence
            piece = text[position : match.start()] + match.group().rstrip(" \t\n")
            if piece:
                self.current.append((piece, False))
            self.close()
            position = match.end()
        if position < len(text):
            self.current.append((text[position:], False))

    def close(self) -> None:
        """End the current sentence (one of only spaces is dropped)."""
        if "".join(text for text, _ in self.current).strip():
            self.result.append((Marked.of(self.current), tuple(self.terms)))
        self.current = []
        self.terms = []
