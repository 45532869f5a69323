"""Text from outside (a Markdown file, a command line) made into values that ``deckgen check`` accepts.

``deckgen draft`` and ``deckgen new`` promise a source that passes ``check``
as written, whatever text they are given.  So every value they write is made
valid here by the loader's own rules, never guessed at by each writer:

- characters the loader refuses in text (control characters, DEL, C1
  controls, a byte-order mark; :func:`~generator.source.yamlread.without_refused`)
  are dropped, and white space is made single spaces (one line);
- ``{{`` and ``}}`` mark key terms, so text that must not mark any (a name, a
  title, a heading) keeps no such pair;
- a topic name has no ``::`` (it is a part of a deck name) and at most
  :data:`~generator.source.loader.MAX_NAME_LENGTH` characters; a deck name
  obeys :func:`~generator.source.loader.deck_name_faults`;
- every scalar is written double-quoted, with escapes for what YAML would
  read otherwise, and read back with ``yaml.safe_load`` before it is
  written: ``1989``, ``Yes``, ``Null``, ``~``, ``.inf``, dates and ``0x1F``
  stay text.
"""

from __future__ import annotations

import re
import unicodedata

import yaml

from generator.errors import DeckgenError
from generator.source.loader import FORMULA_START, MAX_DECK_NAME_LENGTH, MAX_NAME_LENGTH, deck_name_faults
from generator.source.markup import has_markers
from generator.source.yamlread import without_refused

_COLONS = re.compile(r"::+")


def clean(text: str) -> str:
    """*text* (NFC) without the characters the loader refuses, its white space single spaces, stripped."""
    return " ".join(without_refused(unicodedata.normalize("NFC", text)).split())


def without_markers(text: str) -> str:
    """*text* with every ``{{`` and ``}}`` halved until none is left (``{{x}}`` -> ``{x}``)."""
    while has_markers(text):  # each pass shortens the text: it ends
        text = text.replace("{{", "{").replace("}}", "}")
    return text


def plain(text: str) -> str:
    """Text for a value that may not mark key terms: clean, without markers."""
    return without_markers(clean(text)).strip()


def topic_name(text: str, limit: int = MAX_NAME_LENGTH) -> str:
    """A topic name (a deck name's part) made of *text*: plain, no '::', at most *limit* characters; may be ""."""
    name = _COLONS.sub(":", plain(text)).strip(": ")  # a ':' at an end would join the '::' around the part
    return name[:limit].rstrip(": ")


def deck_name(text: str, fallback: str) -> str:
    """A valid root deck name made of *text* (one part), else *fallback* (itself valid)."""
    name = topic_name(text, MAX_DECK_NAME_LENGTH).lstrip(FORMULA_START + ": ")  # '=1+1': a spreadsheet formula
    name = name or fallback
    if deck_name_faults(name):  # pragma: no cover - the rules above are the loader's; a new one shows here
        raise DeckgenError(f"cannot make a deck name of {text!r}")
    return name


def unique_name(wanted: str, taken: set[str], fallback: str) -> str:
    """*wanted* as a topic name unique ignoring case (as Anki's deck names are), within the length limit.

    A name taken gets " (2)", " (3)"... after as much of it as fits: the
    number grows, so the loop ends however long or repeated the names.
    """
    base = topic_name(wanted) or fallback
    name, number = base, 2
    while name.casefold() in taken:
        suffix = f" ({number})"
        name = f"{base[: MAX_NAME_LENGTH - len(suffix)].rstrip(': ')}{suffix}"
        number += 1
    taken.add(name.casefold())
    return name


def comment(text: str) -> str:
    """*text* safe inside a YAML comment: one line, every character printable."""
    return "".join(c if c.isprintable() else "?" for c in text)


_YAML_PRINTABLE = re.compile("[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
"""What a double-quoted YAML scalar may hold as it is: YAML 1.1's printable characters, without its line
breaks (U+0085, U+2028, U+2029), which a quoted scalar would fold into spaces, and without the tab."""


def quoted(text: str) -> str:
    """*text* as a YAML double-quoted scalar that ``yaml.safe_load`` reads back as exactly *text*."""
    written = '"' + "".join(_escape(c) for c in text) + '"'
    if yaml.safe_load(written) != text:  # pragma: no cover - the escapes above are YAML's; a slip shows here
        raise DeckgenError(f"cannot write {text!r} as YAML text")
    return written


def _escape(char: str) -> str:
    if char in '"\\':
        return "\\" + char
    if _YAML_PRINTABLE.fullmatch(char):
        return char
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
