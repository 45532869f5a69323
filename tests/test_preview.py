"""The preview page: every card as Anki renders it, checked against real Anki and in Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from generator.anki.render import TemplateError, preview_cards, render
from generator.cards.notes import CLOZE, CLOZE_FIELDS, COMPARISON, COMPARISON_FIELDS, NoteSpec
from generator.pipeline.pipeline import check
from generator.views.preview import write_preview

from .ankitools import import_package, open_collection, rendered_cards
from .support import BUNDLED_SOURCE, chromium, write_source

# --- reading the page ----------------------------------------------------------

_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class PageReader(HTMLParser):
    """The page's deck sections and cards, with each side's visible text and raw HTML.

    Text is gathered as ankitools.visible_text reads HTML (a tag is a space,
    entities decoded, whitespace collapsed).  Every end tag must close the
    element it should: the page and every card side are well-formed.
    """

    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", page)]
        self._side_start = 0
        self.cards: list[dict] = []
        self.sections: list[dict] = []
        self._stack: list[tuple[str, str | None]] = []
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        role = None
        if tag == "article" and "card" in values.get("class", "").split():
            self.cards.append({"attrs": values, "front": [], "back": [], "section": len(self.sections) - 1})
            role = "card"
        elif values.get("data-side") in ("front", "back"):
            assert self._stack and any(r == "card" for _, r in self._stack), "a side outside a card"
            role = values["data-side"]
            self._side_start = self._offset() + len(self.get_starttag_text() or "")
        elif tag == "section" and "data-deck" in values:
            self.sections.append({"deck": values["data-deck"], "heading": []})
        elif tag == "h2" and self.sections:
            role = "heading"
        self._text(" ")
        if tag not in _VOID:
            self._stack.append((tag, role))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._text(" ")

    def handle_endtag(self, tag: str) -> None:
        assert self._stack, f"</{tag}> closes nothing"
        opened, role = self._stack.pop()
        assert opened == tag, f"</{tag}> closes <{opened}>"
        if role in ("front", "back"):
            self.cards[-1][role + "_html"] = self.page[self._side_start : self._offset()]
        self._text(" ")

    def _offset(self) -> int:
        line, column = self.getpos()
        return self._line_starts[line - 1] + column

    def handle_data(self, data: str) -> None:
        self._text(data)

    def _text(self, text: str) -> None:
        for _, role in reversed(self._stack):
            if role in ("front", "back"):
                self.cards[-1][role].append(text)
                return
            if role == "heading":
                self.sections[-1]["heading"].append(text)
                return


def read_page(page: str) -> PageReader:
    reader = PageReader(page)
    reader.feed(page)
    reader.close()
    assert not [tag for tag, _ in reader._stack if tag not in ("html", "body")], "unclosed elements"
    return reader


def text_of(chunks: list[str]) -> str:
    return " ".join("".join(chunks).replace("\xa0", " ").split())


# --- the bundled source: the preview shows exactly the cards Anki has ------------


@pytest.fixture(scope="module")
def anki_cards(bundled_build, tmp_path_factory):
    """Every card of the bundled build, imported into a fresh collection and rendered by Anki."""
    out, report = bundled_build
    col = open_collection(tmp_path_factory.mktemp("preview-collection"))
    try:
        for deck_file in report.files:
            import_package(col, Path(deck_file.path))
        yield rendered_cards(col)
    finally:
        col.close()


@pytest.fixture(scope="module")
def bundled_preview(tmp_path_factory) -> tuple[Path, int, str]:
    path = tmp_path_factory.mktemp("preview") / "preview.html"
    count = write_preview(str(BUNDLED_SOURCE), str(path))
    return path, count, path.read_text(encoding="utf-8")


def test_the_preview_shows_every_card_as_anki_renders_it(anki_cards, bundled_preview):
    path, count, page = bundled_preview
    reader = read_page(page)
    anki = {(c.guid, c.template): c for c in anki_cards}
    assert len(anki) == len(anki_cards), "two Anki cards share a note and template"
    shown = {}
    for card in reader.cards:
        key = (card["attrs"]["data-guid"], card["attrs"]["data-template"])
        assert key not in shown, f"card shown twice: {key}"
        shown[key] = card
    assert count == len(reader.cards) == len(anki_cards)
    assert set(shown) == set(anki)
    mismatches = []
    for key, expected in anki.items():
        card = shown[key]
        got = (card["attrs"]["data-deck"], card["attrs"]["data-note-type"], text_of(card["front"]),
               text_of(card["back"]))
        want = (expected.deck, expected.note_type, expected.question_text, expected.answer_text)
        if got != want:
            mismatches.append((key, want, got))
    assert mismatches == []
    # Stronger: the very HTML Anki renders, so the CSS meets the same elements and classes.
    # (Anki also puts the hidden answer in a data-cloze attribute of a blank; the preview doesn't.)
    different_html = [
        key
        for key, expected in anki.items()
        if (_DATA_CLOZE.sub("", expected.question), _DATA_CLOZE.sub("", expected.answer))
        != (shown[key]["front_html"], shown[key]["back_html"])
    ]
    assert different_html == []


_DATA_CLOZE = re.compile(r' data-cloze="[^"]*"')


def test_cards_are_grouped_by_deck_with_counts(anki_cards, bundled_preview):
    path, count, page = bundled_preview
    reader = read_page(page)
    decks = [section["deck"] for section in reader.sections]
    assert len(decks) == len(set(decks)), "a deck has two sections"
    per_deck = Counter(c.deck for c in anki_cards)
    assert set(decks) == set(per_deck)
    for card in reader.cards:
        assert reader.sections[card["section"]]["deck"] == card["attrs"]["data-deck"]
    for section in reader.sections:
        heading = text_of(section["heading"])
        number = per_deck[section["deck"]]
        assert heading.endswith(f"{number} card" if number == 1 else f"{number} cards"), heading
        assert heading.startswith(" › ".join(section["deck"].split("::"))), heading
    source, _ = check(str(BUNDLED_SOURCE))
    topic_order = [source.topic_decks[t.id].split("::")[1] for t in source.topics]
    first_seen = list(dict.fromkeys(deck.split("::")[1] for deck in decks))
    assert first_seen == topic_order, "decks are not in source order"


def test_the_page_is_self_contained(bundled_preview):
    path, count, page = bundled_preview
    assert page.startswith("<!DOCTYPE html>")
    assert re.search(r"\b(?:src|srcset|action)\s*=", page, re.I) is None
    assert re.search(r"@import|url\(|https?://|//cdn", page, re.I) is None
    hrefs = re.findall(r'href="([^"]*)"', page)
    assert hrefs and all(h.startswith("#deck-") for h in hrefs)
    assert page.count("<script") == 1
    # The note types' own CSS, with Anki's night-mode selectors.
    assert ".card.nightMode" in page and ".nightMode .card" in page and ".cloze" in page


def test_write_preview_replaces_the_file_atomically(anki_cards, tmp_path):
    target = tmp_path / "preview.html"
    target.write_text("old", encoding="utf-8")
    count = write_preview(str(BUNDLED_SOURCE), str(target))
    assert count == len(anki_cards) == target.read_text(encoding="utf-8").count('<article class="card ')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["preview.html"]


# --- the renderer ------------------------------------------------------------------


def test_renderer_fields_sections_and_front_side():
    fields = {"A": "x", "B": " <br> ", "C": "<b>c</b>"}
    assert render("{{A}}-{{C}}", fields) == ("x-<b>c</b>", True)
    assert render("{{#B}}shown{{/B}}{{^B}}empty{{/B}}", fields) == ("empty", False)  # Anki: <br> is empty
    assert render("{{#A}}[{{^B}}{{A}}{{/B}}]{{/A}}", fields) == ("[x]", True)
    assert render("{{B}}", fields) == (" <br> ", False)
    assert render("{{FrontSide}}<hr>{{C}}", fields, front_side="F") == ("F<hr><b>c</b>", True)
    for bad in ("{{Nope}}", "{{#A}}open", "{{#A}}x{{/C}}", "{{text:A}}", "{{/A}}"):
        with pytest.raises(TemplateError):
            render(bad, fields)


def test_renderer_clozes_like_anki():
    fields = {"Text": "a {{c1::b}} c {{c2::d::hint}} {{c1::e}}"}
    front, _ = render("{{cloze:Text}}", fields, ordinal=1, question=True)
    back, _ = render("{{cloze:Text}}", fields, ordinal=1, question=False)
    assert front == (
        'a <span class="cloze" data-ordinal="1">[...]</span> c '
        '<span class="cloze-inactive" data-ordinal="2">d</span> <span class="cloze" data-ordinal="1">[...]</span>'
    )
    assert back.count('<span class="cloze" data-ordinal="1">') == 2 and ">b</span>" in back and ">e</span>" in back
    front2, _ = render("{{cloze:Text}}", fields, ordinal=2, question=True)
    assert '<span class="cloze" data-ordinal="2">[hint]</span>' in front2


def _spec(note_type: str, deck: str, **values: str) -> NoteSpec:
    names = CLOZE_FIELDS if note_type == CLOZE else COMPARISON_FIELDS
    return NoteSpec(
        key=f"k/{deck}/{sorted(values.items())}",
        guid="g/" + deck + "/" + "/".join(values.values()),
        note_type=note_type,
        fields=tuple(values.get(name, "") for name in names),
        tags=(),
        deck=deck,
        topic="t",
        perspective=None,
        cards=1,
        label="test note",
    )


def test_cards_exist_as_anki_generates_them():
    lone = _spec(COMPARISON, "D", Statement="s", Perspective="P", Question="Q?")
    pair = _spec(COMPARISON, "D", Dimension="dim", Statement="s", Perspective="P", Question="Q?")
    cloze = _spec(CLOZE, "D", Text="{{c1::x}} and {{c1::y}}")
    templates = [(c.guid, c.template) for c in preview_cards([lone, pair, cloze])]
    assert templates == [
        (lone.guid, "Perspective from statement"),
        (pair.guid, "Side from perspective"),
        (pair.guid, "Perspective from statement"),
        (cloze.guid, "Cloze"),
    ]


ODD_CONFIG = """\
id: odd
title: 'Title <script>alert("x")</script>'
deck: R & <i>D</i>
perspectives:
  tea: Tea
  coffee: Coffee
"""
# Topic B's first cards are in its perspectives' subdecks (it has two), its comparison's in B itself.
TOPIC_B = """\
topic: b
name: B
items:
  - id: one
    perspective: tea
    explanation: Tea is {{one}}.
  - id: two
    perspective: coffee
    explanation: Coffee is {{two}}.
comparisons:
  - id: three
    dimension: Three
    ask: side
    sides:
      tea: Less
      coffee: More
"""
TOPIC_A = """\
topic: a
name: A
items:
  - id: four
    explanation: This is {{four}}.
"""


def test_deck_names_and_title_are_escaped_and_subdecks_follow_their_parent(tmp_path):
    """`deckgen preview`'s page for a small source whose title and deck name are HTML look-alikes."""
    source = write_source(tmp_path / "src", TOPIC_A, config=ODD_CONFIG, extra={"b.yaml": TOPIC_B})
    (source / "basics.yaml").rename(source / "c.yaml")  # after b.yaml: topic B comes first
    page_path = tmp_path / "preview.html"
    count = write_preview(str(source), str(page_path))
    page = page_path.read_text(encoding="utf-8")
    assert "<i>D</i>" not in page and "R &amp; &lt;i&gt;D&lt;/i&gt;" in page
    assert "<script>alert" not in page and "Title &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    reader = read_page(page)
    assert [s["deck"] for s in reader.sections] == [
        "R & <i>D</i>::B", "R & <i>D</i>::B::Tea", "R & <i>D</i>::B::Coffee", "R & <i>D</i>::A"
    ]
    # each section holds its own deck's cards: the comparison's two "which side?" cards in B, one cloze elsewhere
    assert count == len(reader.cards) == 5
    assert [(c["attrs"]["data-deck"].split("::", 1)[1], c["attrs"]["data-template"]) for c in reader.cards] == [
        ("B", "Side from perspective"),
        ("B", "Side from perspective"),
        ("B::Tea", "Cloze"),
        ("B::Coffee", "Cloze"),
        ("A", "Cloze"),
    ]
    for card, fact in zip(reader.cards[2:], ["Tea is one", "Coffee is two", "This is four"], strict=True):
        assert fact in text_of(card["back"]), card


# --- Chromium: the page renders, in light and night mode, at desktop and phone width ---

CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
)
SHOTS = {  # name: (width, height, fragment)
    "desktop-light": (1280, 1000, "#light"),
    "desktop-night": (1280, 1000, "#night"),
    "phone-light": (390, 844, "?night=0"),
    "phone-night": (390, 844, "?night=1"),
}


def run_chromium(binary: str, profile: Path, *args: str) -> str:
    """Run headless Chromium with a fresh profile; return what it printed on stdout."""
    profile.mkdir(parents=True)
    result = subprocess.run(
        [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def pixel_stats(image: Image.Image) -> tuple[float, int]:
    """Mean luminance (0-255, ITU-R 601 weights) and number of distinct colours of a screenshot."""
    rgb = image.convert("RGB")
    width, height = rgb.size
    luminance = ImageStat.Stat(rgb.convert("L")).mean[0]
    return luminance, len(rgb.getcolors(maxcolors=width * height))


def test_chromium_renders_the_cards_in_light_and_night_mode(anki_cards, tmp_path):
    binary = chromium()
    page = tmp_path / "preview.html"
    count = write_preview(str(BUNDLED_SOURCE), str(page))
    assert count == len(anki_cards)
    url = page.as_uri()

    for mode, fragment in (("light", "#light"), ("night", "?night=1")):  # #night: the screenshots
        dom = run_chromium(binary, tmp_path / f"profile-dom-{mode}", "--dump-dom", url + fragment)
        body = re.search(r"<body([^>]*)>", dom)
        assert body, dom[:500]
        classes = re.search(r'class="([^"]*)"', body.group(1)).group(1).split()
        assert ("nightMode" in classes) == (mode == "night"), (fragment, classes)
        checked = str(mode == "night").lower()
        assert re.search(rf'id="pv-night"[^>]*aria-checked="{checked}"', dom)
        reader = read_page(dom[dom.index("<html") :])
        assert len(reader.cards) == count
        assert Counter(c["attrs"]["data-template"] for c in reader.cards) == Counter(c.template for c in anki_cards)
        assert all(text_of(c["front"]) and text_of(c["back"]) for c in reader.cards)

    keep = os.environ.get("DECKGEN_PREVIEW_SHOTS")  # a folder to copy the screenshots into
    for name, (width, height, fragment) in SHOTS.items():
        shot = tmp_path / f"{name}.png"
        run_chromium(
            binary, tmp_path / f"profile-{name}", f"--window-size={width},{height}", f"--screenshot={shot}", url + fragment
        )
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(shot, Path(keep) / shot.name)
        with Image.open(shot) as image:
            assert (image.format, image.size) == ("PNG", (width, height)), name
            luminance, colours = pixel_stats(image)
        # Text, cards and their borders: many colours; a blank or failed page is one or two.
        assert colours > 100, (name, colours)
        if name.endswith("night"):
            assert luminance < 90, (name, luminance)
        else:
            assert luminance > 180, (name, luminance)
