"""Source text is text: nothing a source says can become markup or script in a card."""

from __future__ import annotations

import re
from pathlib import Path

from generator.build import build
from generator.markup import to_html

from .ankitools import import_package, open_collection, rendered_cards

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
    report = build(str(source), str(tmp_path / "out"), timestamp=1_700_000_000)
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
