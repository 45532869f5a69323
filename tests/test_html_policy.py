"""Source text is text: nothing a source says can become markup or script in a card."""

from __future__ import annotations

import json
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.source.loader import load_source
from generator.source.markup import MATH_BREAK, cloze, to_html

from .ankitools import import_package, open_collection, rendered_cards, visible_text

CONFIG = """\
id: xss
title: "<b>Bold</b> & <script>alert('title')</script>"
deck: Attack
perspectives:
  a: "<i>A</i>"
  b: B
"""

TOPIC = """\
topic: attack
name: Attack
items:
  - id: evil
    perspective: a
    title: "<script>alert(1)</script>"
    explanation: "Click <a href='javascript:alert(2)'>here</a> or {{<img src=x onerror=alert(3)>}}"
    points:
      one: "<svg onload=alert(4)>"
      two: "{{c2::sneaky}} :: {cloze} {{<style>body{display:none}</style>}}"
    conclusion: "&lt;b&gt; stays text & so does <!-- a comment -->"
comparisons:
  - id: cmp
    dimension: "<iframe src=javascript:alert(5)>"
    sides:
      a: "<body onload=alert(6)>"
      b: "{#Source}{Source}{/Source} }"
"""


ALLOWED_TAGS = {"div", "span", "b", "ul", "li", "hr", "br"}


def test_to_html_escapes_everything():
    assert to_html("<a href='javascript:x'>&{{") == "&lt;a href='javascript:x'&gt;&amp;&#123;&#123;"


def test_no_markup_from_a_source_reaches_a_rendered_card(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    (source / "deckgen.yaml").write_text(CONFIG, encoding="utf-8")
    (source / "attack.yaml").write_text(TOPIC, encoding="utf-8")
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=1_700_000_000))
    col = open_collection(tmp_path / "col")
    try:
        for deck_file in report.files:
            import_package(col, Path(deck_file.path))
        cards = rendered_cards(col)
    finally:
        col.close()
    assert len(cards) == report.cards > 0
    for card in cards:
        for html in (card.question, card.answer):
            without_css = re.sub(r"<style>.*?</style>", "", html, flags=re.S)
            for tag in re.findall(r"<[^>]*>", without_css):
                name = re.match(r"</?\s*([a-zA-Z0-9]+)", tag)
                assert name and name.group(1).lower() in ALLOWED_TAGS, (tag, card)
                attributes = re.findall(r"\s([a-zA-Z-]+)\s*=", tag)
                assert all(a in ("class", "id") or a.startswith("data-") for a in attributes), tag
    texts = " ".join(c.answer_text for c in cards)
    assert "<script>alert(1)</script>" in texts  # shown to the student as text
    assert "c2::sneaky" in texts and ":: {cloze}" in texts and "{#Source}{Source}{/Source} }" in texts
    assert "&lt;b&gt; stays text" in texts


# --- Anki's own markup: bracket tags, sounds, TTS, LaTeX and MathJax stay text ------------

ANKI_FORMS = (
    r"[latex]\href{javascript:alert(1)}{L}[/latex]",
    "[$]a^2[/$]",
    "[$$]b^2[/$$]",
    "[sound:evil.mp3]",
    "[anki:tts lang=en_US]spoken[/anki:tts]",
    "[anki:play:q:0]",
    r"\(\href{javascript:alert(2)}{M}\)",
    r"\[c^2\]",
    "[[type:Text]]",  # Anki's reviewer turns this into a type-in box
)
ALL_FORMS = " ".join(ANKI_FORMS)
KEY_TERMS = (
    "[sound:x.mp3]",
    r"[latex]\frac{1}{d}[/latex]",
    "[$]e^2[/$]",
    "[$$]f^2[/$$]",
    "[anki:tts lang=en_US]said[/anki:tts]",
    "[anki:play:a:1] g",
    r"\(\href{javascript:alert(3)}{h}\)",
    r"\[k^2\]",
)
MATHJAX_DELIMITERS = ("\\(", "\\)", "\\[", "\\]")
ANKI_BRACKET_MARKUP = ("[sound:", "[latex]", "[/latex]", "[$]", "[$$]", "[anki:", "[[type:")


# a backslash ends a plain run and "(" starts the next key term: a front shows them side by side
CONCLUSION_END = r". {{alpha}} then \{{(beta)}} and y\) end."


def _q(text: str) -> str:
    """*text* as a YAML double-quoted scalar (JSON's string syntax is YAML's)."""
    return json.dumps(text)


def _anki_markup_source(folder: Path) -> Path:
    terms = " ".join(f"Term {{{{{term}}}}} here." for term in KEY_TERMS)
    config = f"""\
id: anki-markup
title: {_q("Source " + ALL_FORMS)}
deck: Markup
perspectives:
  a: A
  b: B
"""
    topic = f"""\
topic: markup
name: Markup
items:
  - id: forms
    perspective: a
    title: {_q("Title " + ALL_FORMS)}
    cue: {_q("Cue " + ALL_FORMS)}
    question: {_q("Whose? " + ALL_FORMS)}
    explanation: {_q("Explanation " + ALL_FORMS + ". " + terms)}
    points:
      plain: {_q("Point " + ALL_FORMS)}
      marked: {_q("{{" + KEY_TERMS[0] + "}} in a point")}
    conclusion: {_q("Conclusion " + ALL_FORMS + CONCLUSION_END)}
comparisons:
  - id: cmp
    dimension: {_q("Dimension " + ALL_FORMS)}
    sides:
      a: {_q("Side A " + ALL_FORMS)}
      b: {_q("Side B " + ALL_FORMS)}
"""
    folder.mkdir()
    (folder / "deckgen.yaml").write_text(config, encoding="utf-8")
    (folder / "markup.yaml").write_text(topic, encoding="utf-8")
    return folder


_EMPTY_ELEMENT = re.compile(r"<(b|span)\b[^>]*></\1>")
_CLOZE_SHOWN = re.compile(r'<span class="cloze"[^>]*>(.*?)</span>', re.S)


def shown(rendered: str) -> str:
    """What a browser displays: an empty inline element is nothing, any other tag a space."""
    return visible_text(_EMPTY_ELEMENT.sub("", rendered))


class MathJaxStrings(HTMLParser):
    """The strings MathJax 3 searches for delimiters (its HTMLDomStrings).

    Adjacent text nodes are joined, across ``<br>`` (as a line break), ``<wbr>``
    and comments; any other element starts a new string.  ``<style>`` and
    ``<script>`` are skipped, as MathJax skips them.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.strings: list[str] = [""]
        self._skip = 0

    def _break(self) -> None:
        self.strings.append("")

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag == "br":
            self.strings[-1] += "\n"
        elif tag != "wbr":
            self._break()
            self._skip += tag in ("style", "script")

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("br", "wbr"):
            self._break()
            self._skip -= tag in ("style", "script")

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.strings[-1] += data


def mathjax_strings(rendered: str) -> list[str]:
    parser = MathJaxStrings()
    parser.feed(rendered)
    parser.close()
    return parser.strings


def test_to_html_makes_anki_markup_inert():
    assert to_html("[sound:a.mp3]") == "&#91;sound:a.mp3&#93;"
    assert to_html(r"\(x\) \[y\]") == (
        f"\\{MATH_BREAK}(x\\{MATH_BREAK}) \\{MATH_BREAK}&#91;y\\{MATH_BREAK}&#93;"
    )
    # a backslash at the end: the next piece of a card may start with the bracket
    assert to_html("a \\") + to_html("(b)") == f"a \\{MATH_BREAK}(b)"
    assert to_html(r"C:\dir\file \\ x") == r"C:\dir\file \\ x"  # other backslashes are untouched
    assert cloze("[sound:x.mp3]") == "{{c1::&#91;sound&#58;x.mp3&#93;}}"
    assert mathjax_strings("a \\<b></b>(x\\)") == ["a \\", "", "(x\\)"]  # the model is MathJax's


def test_anki_markup_in_a_source_is_shown_never_interpreted(tmp_path):
    source = _anki_markup_source(tmp_path / "src")
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=1_700_000_000))
    col = open_collection(tmp_path / "col")
    try:
        for deck_file in report.files:
            import_package(col, Path(deck_file.path))
        sides = []
        for card_id in col.find_cards(""):
            card = col.get_card(card_id)
            output = card.render_output(reload=True)
            assert list(output.question_av_tags) == [] and list(output.answer_av_tags) == [], card_id
            name = f"{card.note().note_type()['name']}/{card.template()['name']}/{card.ord}"
            sides += [(name, "front", output.question_text), (name, "back", output.answer_text)]
        cards = rendered_cards(col)
    finally:
        col.close()
    assert len(cards) == report.cards and len(sides) == 2 * report.cards
    for name, side, rendered in sides:
        where = (name, side, rendered)
        assert "<img" not in rendered.lower() and "latex" not in re.sub(r"[^<]*", "", rendered), where
        for markup in (*MATHJAX_DELIMITERS, *ANKI_BRACKET_MARKUP):
            assert markup not in rendered, (markup, where)
        for string in mathjax_strings(rendered):
            assert not any(d in string for d in MATHJAX_DELIMITERS), (string, where)
        for tag in re.findall(r"<[^>]*>", re.sub(r"<style>.*?</style>", "", rendered, flags=re.S)):
            assert re.match(r"</?([a-z]+)", tag).group(1) in ALLOWED_TAGS, (tag, where)

    def backs(kind: str) -> str:
        return " ".join(shown(r) for name, side, r in sides if side == "back" and name.startswith(kind))

    cloze_backs, comparison_backs = backs("deckgen Cloze"), backs("deckgen Comparison")
    for label in ("Source", "Title", "Explanation", "Point", "Conclusion"):
        assert f"{label} {ALL_FORMS}" in cloze_backs, label
    for label in ("Source", "Cue", "Whose?", "Dimension", "Side A", "Side B"):
        assert f"{label} {ALL_FORMS}" in comparison_backs, label
    assert r"\(beta) and y\) end." in cloze_backs

    # every key term is a cloze that hides and then shows exactly what was typed
    answers = []
    for card in cards:
        if card.note_type.endswith("Cloze"):
            assert "[...]" in card.question_text
            answers.append(" | ".join(shown(m) for m in _CLOZE_SHOWN.findall(card.answer)))
    assert sorted(answers) == sorted([*KEY_TERMS, KEY_TERMS[0], "alpha", "(beta)"])


# --- media: deckgen's own <img> and [sound:] for the files a source declares, nothing else --------

MEDIA_SOURCE = Path(__file__).resolve().parent / "sources" / "media"


def test_only_declared_media_reach_a_card_as_deckgen_writes_them(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(MEDIA_SOURCE, source, ignore=shutil.ignore_patterns("*.lock"))
    declared = load_source(str(source)).media_files()
    report = build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=1_700_000_000))
    col = open_collection(tmp_path / "col")
    try:
        for deck_file in report.files:
            import_package(col, Path(deck_file.path))
        sounds = []
        for card_id in col.find_cards(""):
            output = col.get_card(card_id).render_output(reload=True)
            assert list(output.question_av_tags) == []  # nothing plays on a front
            sounds += [tag.filename for tag in output.answer_av_tags]
        cards = rendered_cards(col)
    finally:
        col.close()
    images = []
    for card in cards:
        for html in (card.question, card.answer):
            for tag in re.findall(r"<[^>]*>", re.sub(r"<style>.*?</style>", "", html, flags=re.S)):
                name = re.match(r"</?([a-z]+)", tag).group(1)
                assert name in ALLOWED_TAGS | {"img"}, tag
                if name == "img":
                    assert html is card.answer, card  # on the back only
                    images += re.fullmatch(r'<img src="([A-Za-z0-9_.-]+)">', tag).groups()
    assert images and sounds and set(images) | set(sounds) == set(declared)


@pytest.mark.parametrize(
    "value",
    [
        "'x.png\" onerror=\"alert(1)'",
        "'[sound:evil.mp3]'",
        "'javascript:alert(1).png'",
        "'images/<b>.png'",
    ],
)
def test_a_media_value_is_a_path_never_markup(tmp_path, value):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "deckgen.yaml").write_text(CONFIG, encoding="utf-8")
    (folder / "attack.yaml").write_text(
        f"topic: attack\nname: Attack\nitems:\n  - id: evil\n    title: Evil\n    image: {value}\n", encoding="utf-8"
    )
    with pytest.raises(ContentError) as raised:
        build(BuildConfig(str(folder), str(tmp_path / "out"), timestamp=1_700_000_000))
    assert [p.where for p in raised.value.problems] == ["items[0] (evil).image"]
    assert not (tmp_path / "out").exists()
