"""What real course Markdown holds besides prose, and how ``deckgen draft`` tells it apart.

Textbook chapters are written for Jekyll, kramdown or Pandoc: YAML front
matter, raw HTML (figures, ``<cite>``), attribute lists (``{: .small}``),
citations (``[@key]``, ``(Smith, 2001)``), reference and objective sections,
glossaries.  None of it is card text.  These helpers remove the markup
*in place* (the text keeps its line numbers, so every drafted item still names
its line), name the sections that are not taught (references, objectives,
questions) and those that are glossaries, and decide which emphasis defines a
term: only that becomes a key term, since an italic example, title or
nonsense syllable asked as a cloze teaches nothing.
"""

from __future__ import annotations

import html
import posixpath
import re

from generator.source.media import FORMATS, IMAGE, MAX_BYTES

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?\n)(?:---|\.\.\.)[ \t]*\n", re.S)
_FRONT_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.M)
_ATTRIBUTES = re.compile(r"[ \t]*\{:[^}\n]*\}|[ \t]*\{[ \t]*[#.][^}\n]*\}")
"""kramdown's ``{: .small}`` and Pandoc's ``{#id .class}``, on their own line or after text."""
_CITATIONS = re.compile(
    r"[ \t]*\[-?@[^\]\n]*\]"  # Pandoc: [@smith2001, p. 3]
    r"|\[\^[^\]\n]*\](?!:)"  # a footnote mark
    r"|[ \t]*\[\d+(?:[,–-]\s*\d+)*\]"  # a numbered reference: [3], [3, 4], [3-5]
    r"|[ \t]*\((?:e\.g\.,?\s*|see\s+)?[A-Z][^()\n]{0,120}?,?\s(?:1[5-9]|20)\d\d[a-z]?(?:,\s*(?:p|pp)\.\s*[\d–-]+)?"
    r"(?:;\s*[A-Z][^()\n]{0,120}?,?\s(?:1[5-9]|20)\d\d[a-z]?)*\)"  # author-year: (Smith & Lee, 2001; Ng, 1999)
)
_FOOTNOTE_TEXT = re.compile(r"^\[\^[^\]\n]*\]:.*$", re.M)

NOT_TAUGHT = re.compile(
    r"^(references?|bibliography|works cited|sources|citations?|further reading|suggested readings?|notes|"
    r"footnotes|endnotes|acknowledge?ments?|learning (objectives|outcomes|goals)|objectives|"
    r"(discussion|review|study|reflection) questions|questions( for (discussion|review))?|exercises|"
    r"outside resources|image (attributions?|credits?|sources?)|credits|attributions?|licen[sc]e|"
    r"about the authors?|authors?|"
    r"how to cite this (chapter|module|section)|check your understanding)$",
    re.I,
)
"""Headings of sections that are about the text, not what it teaches: left as comments."""
ATTRIBUTION = re.compile(r"^(adapted from|this (work|chapter|module|page) is licensed|licensed under)\b", re.I)
"""A paragraph that credits the text's source or states its licence: kept as a comment, never asked."""
GLOSSARY = re.compile(r"^(glossary|vocabulary|key (terms|concepts|vocabulary)|terms|definitions)$", re.I)
"""Headings of sections that define terms: each entry becomes a term ⇄ definition card."""

_DEFINING_BEFORE = re.compile(
    r"(?:\b(?:called|known as|termed|named|dubbed|labell?ed|referred to as|defined as|the term|the word)"
    r"(?:[ \t]+[\w'’-]+){0,4}?"  # "called the category *prototype*", "referred to as a preference for the *…*"
    r"|\b(?:is|are)(?P<article>[ \t]+(?:the|a|an))?)[ \t]*[\"'“‘]?$",
    re.I,
)
_OF_WHAT = r"(?:\s+(?:for|of|in|to|on)\s+[\w'’-]+(?:\s+[\w'’-]+){0,2}?)?"
"""What the term is of or for, before its definition: "the *necessary features* for category membership: what …"."""
_DEFINING_AFTER = re.compile(
    r"^[\"'”’)\]}]*(?:\s*\([^)]{0,60}\))?(?:" + _OF_WHAT + r"\s*[:—–]|\s+-\s|,?\s+(?:is|are|was|were|refers?\s+to|"
    r"means?|describes?|denotes?|involves?|occurs?|happens?|consists?\s+of|is\s+defined\s+as)\b"
    r"|" + _OF_WHAT + r",\s+(?:a|an|the)\s"  # an apposition: "**category**, a set of objects that…"
    r"|\.\s+(?:this|that)\s+means\b|\.\s+in\s+other\s+words\b"  # the next sentence says what it means
    r"|,?\s+(?:in which|whereby)\b|,\s*(?:that is|i\.\s?e\.)|\s*\((?:meaning|i\.\s?e\.|that is)\b)",
    re.I,
)
_IN_PARENTHESES = re.compile(r"\w\s*\($"), re.compile(r"^\)")
"""A term named in parentheses after what it names ("14 more specific names (*subordinates*) used")."""
_NAME = re.compile(r"^[A-Za-z][\w'’-]{3,}(?:\s+[\w'’-]+){0,2}$")
"""A name in parentheses: three words at most, the first of four letters or more (not "*sic*", "*n* = 20")."""
_RELATIVE_AFTER = re.compile(r"^,\s+(?:which|whereby|where)\b", re.I)
"""", which holds that …" after "is *interference*": a relative clause says what a noun is (an adjective has none)."""
_NAMED_CONCEPT = re.compile(
    r"\S\s+(?:theory|theories|effect|principle|approach|hypothesis|model|bias|heuristic|fallacy|law|phenomenon|"
    r"syndrome|paradox|representation|essentialism|amnesia|conditioning)$",
    re.I,
)
"""A phrase that names a concept by its kind ("*family resemblance theory*", "*knowledge approach*")."""
MAX_TERM_WORDS = 5
"""A longer emphasised run is a phrase stressed, not a term named."""


def clean(text: str) -> tuple[str, str | None]:
    """*text* without front matter, attribute lists and citations (line numbers kept), and the front matter's title."""
    title = None
    front = _FRONT_MATTER.match(text)
    if front is not None:
        found = _FRONT_TITLE.search(front[1])
        title = found[1].strip("\"'") if found else None
        text = "\n" * front[0].count("\n") + text[front.end() :]
    text = _FOOTNOTE_TEXT.sub("", text)
    text = _ATTRIBUTES.sub("", text)
    return _CITATIONS.sub("", text), title or None


def section_kind(heading: str) -> str | None:
    """``"skip"`` for a section that is not taught, ``"glossary"`` for one that defines terms, else None."""
    bare = re.sub(r"^[\d.\s]+|[:.\s]+$", "", heading).strip()
    if NOT_TAUGHT.match(bare):
        return "skip"
    if GLOSSARY.match(bare):
        return "glossary"
    return None


def defines(before: str, term: str, after: str) -> bool:
    """True if the emphasised *term*, between *before* and *after* in its paragraph, is being defined.

    "**Decay** is the fading…", "a process called *encoding*", "known as
    *the spacing effect*": yes.  An example ("*dax*, *bap*"), a title or a
    stressed word: no.
    """
    if not term.strip() or len(term.split()) > MAX_TERM_WORDS:
        return False
    if _NAMED_CONCEPT.search(term.strip()) or _DEFINING_AFTER.match(after):
        return True
    if _IN_PARENTHESES[0].search(before) and _IN_PARENTHESES[1].match(after) and _NAME.match(term):
        return True
    found = _DEFINING_BEFORE.search(_clause(before).rstrip())
    if found is None:
        return False
    # "categories are *well-defined*": "is"/"are" and one word with no article predicates an adjective, it
    # names nothing ("is *decay*" is lost with it; "is a *schema*", "is called *decay*" are kept)
    copula = found[0].split()[0].lower() in ("is", "are")
    noun = found["article"] is not None or len(term.split()) > 1 or bool(_RELATIVE_AFTER.match(after))
    return not copula or noun


_NAMED_PLAIN = re.compile(
    r"(?<![{\w])(?P<verb>called|known\s+as|referred\s+to\s+as|termed)\s+(?:(?:the|a|an)\s+)?"
    r"(?P<term>(?!(?:it|them|that|this|for|on|upon|up|off|out|by|in|to)\b)[A-Za-z][\w’'-]{2,}(?:\s+[\w’'-]+){0,3}?)"
    r"(?=\s*[,.;:(]|\s+(?:which|that|and|or|because)\b)",
)
"""A term named in plain text ("a most salient one, called the basic-level category, which …")."""


def mark_named(text: str) -> str:
    """*text* (a drafted paragraph, ``{{…}}`` marks) with a term it names in plain words marked, if it marks none.

    Emphasis is the author's choice of what to define; a paragraph with no
    emphasis that says "called X" or "known as X" still names a term.
    """
    if "{{" in text:
        return text
    found = _NAMED_PLAIN.search(text)
    if found is None or len(found["term"].split()) > MAX_TERM_WORDS - 1:
        return text
    return f"{text[: found.start('term')]}{{{{{found['term']}}}}}{text[found.end('term') :]}"


def _clause(before: str) -> str:
    """The end of *before* after its last punctuation: a defining verb must be in the term's own clause."""
    return re.split(r"[.;:!?,()—–]", before)[-1] if before else before


_TERM_LINE = re.compile(r"^\s*(?:\*\*|__)(?P<term>[^*_\n]{1,80}?)(?:\*\*|__)\s*(?:[:—–]|\s-\s)\s*(?P<definition>\S.*)$")
_DEFINITION_LIST = re.compile(r"^(?P<term>[^:\n][^\n]{0,80})\n:[ \t]+(?P<definition>\S[^\n]*)$", re.M)


_WORD = re.compile(r"\w")


def term_line(source: str) -> tuple[str, str] | None:
    """(term, definition) if the Markdown *source* of a paragraph or list item is a "**Term**: definition" line."""
    found = _TERM_LINE.match(" ".join(source.split()))
    return _entry(found["term"].strip(), found["definition"].strip()) if found else None


def definition_list(source: str) -> list[tuple[str, str]]:
    """The entries of a kramdown/Pandoc definition list (``Term`` then ``: definition``) in a paragraph's source."""
    found = (_entry(m["term"].strip().strip("*_"), m["definition"].strip()) for m in _DEFINITION_LIST.finditer(source))
    return [entry for entry in found if entry is not None]


def _entry(term: str, definition: str) -> tuple[str, str] | None:
    """(term, definition) if both say something: "** ** ::" has the shape of an entry and no word to ask."""
    return (term, definition) if _WORD.search(term) and _WORD.search(definition) else None


def common_word(headings: list[str]) -> str | None:
    """The word that sibling *headings* share at their end or start ("Remote Work", "Office Work" → "work")."""
    if len(headings) < 2:
        return None
    words = [h.lower().split() for h in headings]
    if all(len(w) >= 2 for w in words):
        for position in (-1, 0):
            shared = {w[position] for w in words}
            if len(shared) == 1 and len({" ".join(w) for w in words}) == len(words):
                return shared.pop()
    return None


_FIGCAPTION = re.compile(r"<figcaption\b[^>]*>(.*?)</figcaption\s*>", re.S | re.I)
_IMG_SRC = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+))", re.I)
_HTML_TAG = re.compile(r"<[^>]*>")
_FIGURE_NUMBER = re.compile(r"^\s*(?:figure|fig\.|table|image)\s+\d+[a-z]?[.:]\s*", re.I)
MAX_IMAGE_BYTES = MAX_BYTES[IMAGE]


def figure(block: str) -> tuple[str, str] | None:
    """(caption, image source) of an HTML block holding a ``<figure>`` or an ``<img>``; None for other HTML.

    The caption is plain text ("Figure 1." dropped): it explains the picture,
    so it is context, never a key term.
    """
    caption = _FIGCAPTION.search(block)
    image = _IMG_SRC.search(block)
    if caption is None and image is None:
        return None
    text = html.unescape(_HTML_TAG.sub(" ", caption[1])) if caption else ""
    source = next((group for group in image.groups() if group), "") if image else ""
    text = re.sub(r"\s+([,.;:!?])", r"\1", " ".join(text.split()))  # where a tag or a citation was
    return _FIGURE_NUMBER.sub("", text), html.unescape(source.strip())


def local_image(source: str) -> str | None:
    """*source* as a path relative to the text's folder, if it names a local image deckgen accepts; else None."""
    path = source.split("#")[0].split("?")[0].replace("\\", "/")
    if not path or re.match(r"^[a-z][a-z0-9+.-]*:|^/", path, re.I) or ".." in path.split("/"):
        return None  # a URL, an absolute path or one that leaves the text's folder
    form = FORMATS.get(path.rsplit(".", 1)[-1].lower()) if "." in path else None
    return posixpath.normpath(path) if form is not None and form.kind == IMAGE else None


def is_image(name: str, data: bytes) -> bool:
    """True if *data* is the kind of image *name*'s extension says (the loader refuses anything else)."""
    form = FORMATS.get(name.rsplit(".", 1)[-1].lower())
    return form is not None and form.kind == IMAGE and form.matches(data)


def image_name(path: str) -> str:
    """The name a figure's image gets in the drafted folder: its own, made safe (``images/NAME``)."""
    stem, extension = posixpath.splitext(posixpath.basename(path))
    stem = re.sub(r"[^\w-]+", "-", stem, flags=re.ASCII).strip("-_") or "figure"
    return f"images/{stem}{extension.lower()}"
