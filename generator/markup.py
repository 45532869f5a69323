"""The source text format and the HTML policy.

Source text is *text*: every character a student should see is escaped on its
way into a card.  The only markup the format has is ``{{key term}}``, which is
converted into Anki cloze syntax, never passed through.  So no ``<script>``,
event handler or ``javascript:`` URL written in a source can reach a card.
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection

from .content import Marked

_MARKER = re.compile(r"\{\{|\}\}")
_WORD = re.compile(r"\w")


class MarkupError(ValueError):
    """The ``{{…}}`` markers of a text do not pair up."""


def parse_marked(text: str) -> Marked:
    """Split *text* into plain runs and ``{{key terms}}``; raise MarkupError if malformed."""
    segments: list[tuple[str, bool]] = []
    position = 0
    open_at: int | None = None
    for match in _MARKER.finditer(text):
        if match.group() == "{{":
            if open_at is not None:
                raise MarkupError("a '{{' opens inside another key term; close the first with '}}'")
            if match.start() > position:
                segments.append((text[position : match.start()], False))
            open_at = match.end()
        else:
            if open_at is None:
                raise MarkupError("a '}}' closes a key term that was never opened with '{{'")
            term = text[open_at : match.start()]
            if not term.strip():
                raise MarkupError("a key term '{{}}' is empty")
            if not _WORD.search(term):
                # a term is named by its words (its note's identity): with none,
                # two such terms would be one note
                raise MarkupError(f"the key term '{{{{{term}}}}}' has no letters or digits to ask for")
            segments.append((term, True))
            open_at = None
        position = match.end()
    if open_at is not None:
        raise MarkupError("a '{{' is never closed with '}}'")
    if position < len(text):
        segments.append((text[position:], False))
    return Marked(tuple(segments))


def has_markers(text: str) -> bool:
    """True if *text* contains ``{{`` or ``}}``."""
    return _MARKER.search(text) is not None


def to_html(text: str) -> str:
    """Source text → safe card HTML: escaped, braces neutralised, line breaks kept.

    Braces become entities so that no text can ever form Anki's ``{{…}}``
    template or cloze syntax; they still display as braces.
    """
    escaped = html.escape(text, quote=False)
    escaped = escaped.replace("{", "&#123;").replace("}", "&#125;")
    return escaped.replace("\n", "<br>")


def cloze(text: str, number: int = 1) -> str:
    """*text* as Anki cloze ``number``; colons are entities so ``::`` can't split it."""
    return "{{c%d::%s}}" % (number, to_html(text).replace(":", "&#58;"))


def marked_html(marked: Marked, hide: Collection[int] = (), hide_all: bool = False) -> str:
    """Render *marked* to HTML: the key terms numbered in *hide* (or all) become cloze 1.

    Terms not hidden are shown in bold, so the card still shows what matters.
    """
    parts: list[str] = []
    term_index = 0
    for text, is_term in marked.segments:
        if is_term:
            hidden = hide_all or term_index in hide
            parts.append(cloze(text) if hidden else f"<b>{to_html(text)}</b>")
            term_index += 1
        else:
            parts.append(to_html(text))
    return "".join(parts)
