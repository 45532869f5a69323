"""The preview page: every card of a source, front and back, on one self-contained HTML page.

Cards are rendered by :mod:`generator.anki.render` with the note types' own
templates and CSS; the page groups them by deck and has a light/night switch
(Anki's ``nightMode`` class).  The page has no external resources: the
media files cards show are embedded once each, as ``data:`` URIs that a
script gives every ``<img>`` and ``<audio>`` showing them.  Open it
with ``#night`` (or ``?night=1``) to start in night mode, ``#light`` (or
``?night=0``) for light mode; otherwise it follows the system's colour scheme.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace

from generator.anki.render import PreviewCard, note_type_css, preview_cards
from generator.cards.notes import NoteSpec, studied_notes
from generator.errors import DeckgenError, Problem, counted
from generator.pipeline.journal import commit, make_folders, recover, remove_folders
from generator.pipeline.memo import StoredMemo
from generator.pipeline.pipeline import check_cards, load
from generator.pipeline.reuse import made_of
from generator.source.content import MediaFile, Source

# --- the page ----------------------------------------------------------------

_PAGE_CSS = """\
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body.pv {
  --pv-bg: #eef1f4; --pv-fg: #1f2328; --pv-muted: #59636e; --pv-line: #d1d9e0;
  --pv-bar: rgba(238, 241, 244, 0.92); --pv-chip: #ffffff; --pv-accent: #0b5cad;
  margin: 0; background: var(--pv-bg); color: var(--pv-fg); color-scheme: light;
  font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
}
body.pv.nightMode {
  --pv-bg: #0d1117; --pv-fg: #e6edf3; --pv-muted: #9198a1; --pv-line: #30363d;
  --pv-bar: rgba(13, 17, 23, 0.92); --pv-chip: #161b22; --pv-accent: #79c0ff;
  color-scheme: dark;
}
.pv-top { position: sticky; top: 0; z-index: 2; background: var(--pv-bar);
  border-bottom: 1px solid var(--pv-line); -webkit-backdrop-filter: blur(6px); backdrop-filter: blur(6px); }
.pv-bar, .pv-intro, .pv-main { max-width: 1240px; margin: 0 auto; padding-left: 20px; padding-right: 20px;
  box-sizing: border-box; }
.pv-bar { display: flex; align-items: center; gap: 12px; padding-top: 10px; padding-bottom: 10px; }
.pv-bar h1 { flex: 1 1 auto; min-width: 0; margin: 0; font-size: 17px; font-weight: 650; line-height: 1.3;
  display: -webkit-box; -webkit-box-orient: vertical; -webkit-line-clamp: 2; overflow: hidden; }
.pv-switch { flex: none; display: inline-flex; align-items: center; gap: 8px; padding: 6px 12px 6px 8px;
  border: 1px solid var(--pv-line); border-radius: 999px; background: var(--pv-chip); color: var(--pv-fg);
  font: inherit; font-size: 14px; cursor: pointer; }
.pv-switch:focus-visible { outline: 2px solid var(--pv-accent); outline-offset: 2px; }
.pv-track { position: relative; width: 30px; height: 18px; border-radius: 9px; background: var(--pv-line); }
.pv-track::after { content: ""; position: absolute; top: 2px; left: 2px; width: 14px; height: 14px;
  border-radius: 50%; background: #ffffff; box-shadow: 0 1px 2px rgba(0, 0, 0, 0.3); }
.pv-switch[aria-checked="true"] .pv-track { background: var(--pv-accent); }
.pv-switch[aria-checked="true"] .pv-track::after { left: 14px; }
.pv-intro { padding-top: 16px; color: var(--pv-muted); }
.pv-intro p { margin: 0 0 10px; }
.pv-toc { display: flex; flex-wrap: wrap; gap: 8px; margin: 0; padding: 0; list-style: none; }
.pv-toc li { display: inline-flex; flex-wrap: wrap; border: 1px solid var(--pv-line); border-radius: 999px;
  background: var(--pv-chip); overflow: hidden; }
.pv-toc a { display: inline-flex; gap: 6px; padding: 3px 10px; color: var(--pv-fg); text-decoration: none;
  font-size: 13px; }
.pv-toc a:first-child { font-weight: 600; }
.pv-toc a + a { border-left: 1px solid var(--pv-line); }
.pv-toc a:hover { background: var(--pv-line); }
.pv-toc .pv-n { color: var(--pv-muted); font-variant-numeric: tabular-nums; }
.pv-main { padding-bottom: 40px; }
.pv-deck { scroll-margin-top: 56px; }
.pv-deck > h2 { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 10px;
  margin: 28px 0 12px; font-size: 20px; font-weight: 650; line-height: 1.3; }
.pv-path { color: var(--pv-muted); font-size: 0.8em; font-weight: 400; }
.pv-sep { margin: 0 0.3em; }
.pv-count { margin-left: auto; color: var(--pv-muted); font-size: 14px; font-weight: 400;
  font-variant-numeric: tabular-nums; }
article.card { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); margin: 0 0 16px;
  border: 1px solid var(--rule); border-radius: 10px; overflow: hidden;
  box-shadow: 0 1px 2px rgba(31, 35, 40, 0.06); }
.pv-meta { grid-column: 1 / -1; padding: 6px 16px;
  border-bottom: 1px solid var(--rule); background: var(--panel); color: var(--muted);
  font: 12px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.pv-meta b { color: var(--fg); font-weight: 600; }
.pv-side { min-width: 0; padding: 10px 16px 18px; }
.pv-side + .pv-side { border-left: 1px solid var(--rule); }
.pv-label { margin-bottom: 8px; padding: 0 10px; color: var(--muted);
  font: 600 11px/1.2 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  letter-spacing: 0.08em; text-transform: uppercase; }
.pv-empty { color: var(--pv-muted); }
.pv-warn { grid-column: 1 / -1; margin: 0; padding: 6px 16px 6px 34px; list-style: "⚠  ";
  border-bottom: 1px solid var(--rule); background: #fff8c5; color: #3b2300;
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.pv-warn code { font: 12px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; overflow-wrap: anywhere; }
.pv-warnings { margin: 12px 0 0; padding: 10px 16px; border: 1px solid #d4a72c; border-radius: 8px;
  background: #fff8c5; color: #3b2300; }
.pv-warnings ul { margin: 6px 0 0; padding-left: 20px; }
.media img { max-width: 100%; height: auto; }
.media audio { display: block; max-width: 100%; margin-top: 0.4em; }
@media (max-width: 760px) {
  article.card { grid-template-columns: minmax(0, 1fr); }
  .pv-side + .pv-side { border-left: 0; border-top: 1px dashed var(--rule); }
}
@media (max-width: 480px) {
  .pv-bar, .pv-intro, .pv-main { padding-left: 10px; padding-right: 10px; }
  .pv-bar h1 { font-size: 14px; }
  .pv-toc { display: grid; gap: 6px; }
  .pv-toc li { display: flex; border-radius: 8px; }
  .pv-toc a { flex: 1 1 auto; justify-content: center; padding: 5px 6px; }
  .pv-toc a:first-child { flex: 1.2 1 auto; }
  .pv-deck > h2 { font-size: 17px; margin-top: 22px; }
  .pv-side { padding: 8px 12px 14px; }
  .pv-label { padding: 0; }
  .pv-meta { padding: 6px 12px; }
  article.card { border-radius: 8px; margin-bottom: 12px; }
}
"""

# Night mode as Anki sets it (classes on the body around the .card), chosen by
# #night / ?night=1, #light / ?night=0, else the system's colour scheme.
_PAGE_JS = """\
(function () {
  var body = document.body, button = document.getElementById("pv-night");
  function set(on) {
    body.classList.toggle("nightMode", on);
    body.classList.toggle("night_mode", on);
    button.setAttribute("aria-checked", on ? "true" : "false");
  }
  var query = new URLSearchParams(location.search).get("night"), hash = location.hash;
  var night = hash === "#night" || query === "1" ? true : hash === "#light" || query === "0" ? false
    : !!(window.matchMedia && window.matchMedia("(prefers-color-scheme: dark)").matches);
  set(night);
  button.addEventListener("click", function () { set(!body.classList.contains("nightMode")); });
})();
"""


# deckgen's own markup for a declared file (markup.media_html); source text can never form it.
_IMAGE = re.compile(r'<img src="([^"<>]+)">')
_SOUND = re.compile(r"\[sound:([^\]<>\[]+)\]")
# Each file is in the page once; every element showing it gets it from there.
_MEDIA_JS = """\
(function () {
  var media = JSON.parse(document.getElementById("pv-media").textContent);
  document.querySelectorAll("[data-media]").forEach(function (element) {
    element.src = media[element.getAttribute("data-media")];
  });
})();
"""


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _deck_order(cards: Sequence[PreviewCard]) -> list[str]:
    """Decks as a tree in source order: each deck is followed by its subdecks, in order of appearance."""
    first: dict[str, int] = {}
    for index, card in enumerate(cards):
        parts = card.deck.split("::")
        for depth in range(1, len(parts) + 1):
            first.setdefault("::".join(parts[:depth]), index)
    decks = list(dict.fromkeys(card.deck for card in cards))

    def key(deck: str) -> tuple[int, ...]:
        parts = deck.split("::")
        return tuple(first["::".join(parts[:depth])] for depth in range(1, len(parts) + 1))

    return sorted(decks, key=key)


def _toc(decks: Sequence[str], counts: Mapping[str, int]) -> str:
    """Links to every deck; a subdeck is a segment of its parent's pill, so equal names stay apart."""
    root = _common_root(decks)
    groups: dict[str, list[str]] = {}
    for index, deck in enumerate(decks, 1):
        parts = deck.split("::")
        top = "::".join(parts[: root + 1])
        if deck == top:
            label = parts[-1]
        else:  # a subdeck: its path below the group, or below the root if its group has no cards
            label = " › ".join(parts[root + 1 :] if top in groups else parts[root:])
        groups.setdefault(top, []).append(
            f'<a href="#deck-{index}">{_esc(label)} <span class="pv-n">{counts[deck]}</span></a>'
        )
    return "".join(f'<li>{"".join(links)}</li>' for links in groups.values())


def _common_root(decks: Sequence[str]) -> int:
    """How many leading deck-name parts all *decks* share (at most one less than the shortest)."""
    split = [deck.split("::") for deck in decks]
    if not split:
        return 0
    depth = 0
    while depth < min(len(p) for p in split) - 1 and len({tuple(p[: depth + 1]) for p in split}) == 1:
        depth += 1
    return depth


def _deck_heading(deck: str, count: int) -> str:
    *path, last = deck.split("::")
    crumbs = "".join(f'{_esc(part)}<span class="pv-sep">›</span>' for part in path)
    lead = f'<span class="pv-path">{crumbs}</span>' if path else ""
    return f'<h2>{lead}<span>{_esc(last)}</span><span class="pv-count">{counted(count, "card")}</span></h2>'


def _card_html(card: PreviewCard, number: int, warnings: Sequence[Problem] = ()) -> str:
    return (
        f'<article class="card card{card.ordinal}" data-deck="{_esc(card.deck)}"'
        f' data-note-type="{_esc(card.note_type)}" data-template="{_esc(card.template)}"'
        f' data-guid="{_esc(card.guid)}" data-ordinal="{card.ordinal}">'
        f'<div class="pv-meta">#{number} · {_esc(card.note_type)} · <b>{_esc(card.name)}</b></div>'
        f"{_warnings_html(warnings)}"
        f'<div class="pv-side"><div class="pv-label">Front</div><div data-side="front">{card.front}</div></div>'
        f'<div class="pv-side"><div class="pv-label">Back</div><div data-side="back">{card.back}</div></div>'
        "</article>"
    )


def _warnings_html(warnings: Sequence[Problem]) -> str:
    """A card's smells, on the card, as ``deckgen check`` words them (where it is, then what is wrong)."""
    if not warnings:
        return ""
    rows = "".join(f"<li><code>{_esc(f'{w.file}:{w.line}')}</code> {_esc(w.message)}</li>" for w in warnings)
    return f'<ul class="pv-warn" role="note">{rows}</ul>'


class _Warnings:
    """A source's warnings by the card they concern (a note's file and key); those of no card apart."""

    def __init__(self, warnings: Iterable[Problem], notes: Sequence[NoteSpec]) -> None:
        keys = {(note.file, note.local_key): note.guid for note in notes}
        self.by_guid: dict[str, list[Problem]] = {}
        self.other: list[Problem] = []
        for warning in warnings:
            guid = keys.get((warning.file, warning.where))
            if guid is None:
                self.other.append(warning)
            else:
                self.by_guid.setdefault(guid, []).append(warning)

    def banner(self) -> str:
        """The warnings of no one card (a comparison, a perspective), above the decks."""
        if not self.other:
            return ""
        rows = "".join(f"<li><code>{_esc(str(w))}</code></li>" for w in self.other)
        count = counted(len(self.other), "warning")
        return f'<div class="pv-warnings" role="note">{count} of no one card:<ul>{rows}</ul></div>'


def _page(cards: Sequence[PreviewCard], title: str, scripts: str = "", warnings: _Warnings | None = None) -> str:
    decks = _deck_order(cards)
    by_deck: dict[str, list[PreviewCard]] = {deck: [] for deck in decks}
    for card in cards:
        by_deck[card.deck].append(card)
    toc = _toc(decks, {deck: len(by_deck[deck]) for deck in decks})
    summary = f"{counted(len(cards), 'card')} in {counted(len(decks), 'deck')}"
    body = _sections(by_deck, warnings) or '<p class="pv-empty">No cards.</p>'
    if warnings is not None:
        body = warnings.banner() + body
    return _page_html(title, body, cards=len(cards), summary=summary, toc=toc, scripts=scripts)


def _sections(by_deck: Mapping[str, Sequence[PreviewCard]], warnings: _Warnings | None = None) -> str:
    """A section per deck, in order: its heading, then its cards, numbered across the whole page."""
    sections = []
    number = 0
    for index, (deck, cards) in enumerate(by_deck.items(), 1):
        smells = warnings.by_guid if warnings is not None else {}
        rendered = "".join(
            _card_html(card, number + offset, smells.get(card.guid, ())) for offset, card in enumerate(cards, 1)
        )
        number += len(cards)
        sections.append(
            f'<section class="pv-deck" id="deck-{index}" data-deck="{_esc(deck)}">'
            f"{_deck_heading(deck, len(cards))}{rendered}</section>"
        )
    return "".join(sections)


def _page_html(title: str, body: str, *, cards: int, summary: str, toc: str, scripts: str = "") -> str:
    styles = "".join(f"<style>\n{css}</style>\n" for css in note_type_css())
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)} · card preview</title>\n"
        f"{styles}<style>\n{_PAGE_CSS}</style>\n</head>\n"
        f'<body class="pv" data-cards="{cards}">\n'
        '<header class="pv-top"><div class="pv-bar">'
        f"<h1>{_esc(title)}</h1>"
        '<button type="button" class="pv-switch" id="pv-night" role="switch" aria-checked="false">'
        '<span class="pv-track" aria-hidden="true"></span>Night mode</button>'
        "</div></header>\n"
        f'<div class="pv-intro"><p>{summary}, front and back, with the decks\' own templates and CSS.</p>'
        f'<ul class="pv-toc">{toc}</ul></div>\n'
        f'<main class="pv-main">\n{body}\n</main>\n'
        f"<script>\n{_PAGE_JS}</script>\n{scripts}</body>\n</html>\n"
    )


def _with_media(cards: Sequence[PreviewCard], files: Mapping[str, MediaFile]) -> list[PreviewCard]:
    """*cards* with each media file they show as an element that the page's media script fills."""
    return [
        replace(card, front=_media_elements(card.front, files), back=_media_elements(card.back, files))
        for card in cards
    ]


def _media_elements(side: str, files: Mapping[str, MediaFile]) -> str:
    """*side* with ``<img src>`` and ``[sound:]`` of declared files as page elements (Anki shows a play button)."""
    side = _IMAGE.sub(lambda m: f'<img data-media="{_esc(m[1])}" alt="">' if m[1] in files else m[0], side)
    return _SOUND.sub(
        lambda m: f'<audio controls preload="none" data-media="{_esc(m[1])}"></audio>' if m[1] in files else m[0], side
    )


def _media_script(files: Mapping[str, MediaFile]) -> str:
    """The page's media: each file once, as a ``data:`` URI by name, and the script that shows them."""
    uris = {name: f"data:{file.mime};base64,{base64.b64encode(file.data).decode()}" for name, file in files.items()}
    data = json.dumps(uris, sort_keys=True).replace("</", "<\\/")
    return f'<script type="application/json" id="pv-media">{data}</script>\n<script>\n{_MEDIA_JS}</script>\n'


def _page_with_media(
    cards: Sequence[PreviewCard], title: str, files: Mapping[str, MediaFile], warnings: _Warnings | None = None
) -> str:
    """The page; with media files, they are embedded after the cards (a page without is as it was)."""
    if not files:
        return _page(cards, title, warnings=warnings)
    return _page(_with_media(cards, files), title, _media_script(files), warnings)


_ShownTopic = tuple[tuple[str, str], list[NoteSpec], list[PreviewCard]]
"""A topic as a preview made it: what its notes are made of (and its file), its notes, their cards."""


class ShownTopics:
    """The notes and cards a preview made of each topic, kept for the next preview of one ``watch``.

    A topic whose notes are made of the same bytes (:func:`made_of`: its file,
    the settings, the sections its comparisons quote, its media, the code) is
    shown as it was; a save makes and renders again only the topics it changed.
    """

    def __init__(self) -> None:
        self._topics: dict[str, _ShownTopic] = {}

    def notes_and_cards(self, source: Source) -> tuple[list[NoteSpec], list[PreviewCard]]:
        """Every note of *source* and its cards, in source order; a topic not shown before, or changed, made now."""
        kept: dict[str, _ShownTopic] = {}
        notes: list[NoteSpec] = []
        cards: list[PreviewCard] = []
        for topic in source.topics:
            key = (made_of(source, topic), topic.file)  # its file's path is on each note (warnings find it there)
            known = self._topics.get(topic.id)
            if known is None or known[0] != key:
                made = studied_notes(source, topic)
                known = (key, made, preview_cards(made))
            kept[topic.id] = known
            notes += known[1]
            cards += known[2]
        self._topics = kept  # a topic gone from the source is forgotten
        return notes, cards


def write_preview(
    source_dir: str, path: str, memo: StoredMemo | None = None, warnings: Iterable[Problem] | None = None,
    shown: ShownTopics | None = None,
) -> int:
    """Write the preview page of the source in *source_dir* to *path*; return the card count.

    Each card's smells (the warnings ``deckgen check`` prints) are shown on
    the card they concern, where the author sees what the student will.
    *memo*: the topics the last build kept (``watch`` builds first), so that unchanged files are not parsed;
    *warnings*: that build's warnings (those of every card, as ``deckgen check`` finds them), so that the
    cards of unchanged topics are not checked again; *shown*: the topics the last preview made (see
    :class:`ShownTopics`), shown again where nothing they are made of changed.
    """
    if warnings is None:
        checked = check_cards(source_dir, memo=memo)
        source, notes, warnings = checked.source, checked.notes, checked.warnings
        cards = preview_cards(notes)
    else:
        source = load(source_dir, memo)
        notes, cards = (shown or ShownTopics()).notes_and_cards(source)
    shown_warnings = _Warnings(warnings, notes)
    data = _page_with_media(cards, source.title, source.media_files(), shown_warnings).encode("utf-8")
    folder = os.path.dirname(os.path.abspath(path))
    recover(folder)  # a preview killed while writing: finished or undone first
    created: list[str] = []  # folders made for the page, removed again if it cannot be written
    try:
        make_folders(os.path.dirname(path), created)
        commit({path: data}, folder)
    except OSError as error:  # the page is staged and renamed: a failure leaves no part of it
        remove_folders(created)
        raise DeckgenError(f"cannot write {path}: {error.strerror or error}") from None
    return len(cards)
