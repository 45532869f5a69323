"""A self-contained HTML preview of every card, rendered as Anki renders it.

Anki is not needed to read a deck: this module carries a tiny renderer for the
part of Anki's template language that deckgen's note types use (``{{Field}}``,
``{{#Field}}…{{/Field}}``, ``{{^Field}}…{{/Field}}``, ``{{cloze:Field}}`` and
``{{FrontSide}}``), decides which cards a note has the way Anki does, and lays
every card's front and back out on one page, grouped by deck, with the note
types' own CSS and a light/night switch (Anki's ``nightMode`` class).

The page has no external resources.  Open it with ``#night`` (or
``?night=1``) to start in night mode, ``#light`` (or ``?night=0``) for light
mode; otherwise it follows the system's colour scheme.
"""

from __future__ import annotations

import functools
import html
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .errors import DeckgenError
from .notes import CLOZE, CLOZE_FIELDS, COMPARISON_FIELDS, NoteSpec

# --- the template renderer ---------------------------------------------------

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)
# Anki's rule (rslib template.rs, field_is_empty): only whitespace and empty <br>/<div> tags.
_EMPTY_FIELD = re.compile(r"^(?:\s|</?(?:br|div) ?/?>)*$", re.I | re.S)
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.S)


class TemplateError(ValueError):
    """A template uses syntax this renderer does not know, or does not close a section."""


@dataclass(frozen=True)
class _Field:
    name: str
    filters: tuple[str, ...]


@dataclass(frozen=True)
class _Section:
    name: str
    negated: bool
    children: tuple[_Node, ...]


_Node = str | _Field | _Section


def field_is_empty(text: str) -> bool:
    """True if Anki treats a field as empty (for sections and card generation)."""
    return _EMPTY_FIELD.match(text) is not None


@functools.lru_cache(maxsize=64)  # a handful of templates, rendered for every card
def parse_template(template: str) -> tuple[_Node, ...]:
    """Parse *template* into text, field replacements and (negated) sections."""
    stack: list[tuple[str | None, bool, list[_Node]]] = [(None, False, [])]
    position = 0
    for match in _TAG.finditer(template):
        if match.start() > position:
            stack[-1][2].append(template[position : match.start()])
        position = match.end()
        tag = match.group(1).strip()
        if tag[:1] in ("#", "^"):
            stack.append((tag[1:].strip(), tag[0] == "^", []))
        elif tag[:1] == "/":
            name, negated, children = stack.pop() if len(stack) > 1 else (None, False, [])
            if name != tag[1:].strip():
                raise TemplateError(f"{{{{{tag}}}}} closes {name or 'no section'!r}")
            stack[-1][2].append(_Section(name, negated, tuple(children)))
        else:
            *filters, name = tag.split(":")
            stack[-1][2].append(_Field(name.strip(), tuple(f.strip() for f in filters)))
    if len(stack) > 1:
        raise TemplateError(f"section {stack[-1][0]!r} is never closed")
    if position < len(template):
        stack[0][2].append(template[position:])
    return tuple(stack[0][2])


def render_cloze(text: str, ordinal: int, question: bool) -> str:
    """Anki's ``cloze:`` filter: cloze *ordinal* as ``[...]`` (or its hint) or as its answer."""

    def replace(match: re.Match[str]) -> str:
        number, answer, hint = int(match.group(1)), match.group(2), match.group(3)
        if number != ordinal:
            return f'<span class="cloze-inactive" data-ordinal="{number}">{answer}</span>'
        shown = f"[{hint or '...'}]" if question else answer
        return f'<span class="cloze" data-ordinal="{number}">{shown}</span>'

    return _CLOZE.sub(replace, text)


def cloze_ordinals(text: str) -> set[int]:
    """The cloze numbers that occur in *text* (each is one card of a cloze note)."""
    return {max(int(m.group(1)), 1) for m in _CLOZE.finditer(text)}


@dataclass
class _Context:
    fields: Mapping[str, str]
    ordinal: int
    question: bool
    front_side: str
    used: set[str]  # non-empty fields the output shows: Anki's test for a non-empty card


def _render_nodes(nodes: Iterable[_Node], context: _Context) -> str:
    out: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            out.append(node)
        elif isinstance(node, _Section):
            value = context.fields.get(node.name)
            if value is None:
                raise TemplateError(f"unknown field {node.name!r} in a section")
            if field_is_empty(value) == node.negated:
                out.append(_render_nodes(node.children, context))
        elif node.name == "FrontSide" and not node.filters:
            out.append(context.front_side)
        else:
            value = context.fields.get(node.name)
            if value is None:
                raise TemplateError(f"unknown field {node.name!r}")
            for name in reversed(node.filters):
                if name != "cloze":
                    raise TemplateError(f"unsupported filter {name!r} on {node.name!r}")
                value = render_cloze(value, context.ordinal, context.question)
            if not field_is_empty(value):
                context.used.add(node.name)
            out.append(value)
    return "".join(out)


def render(
    template: str, fields: Mapping[str, str], ordinal: int = 1, question: bool = True, front_side: str = ""
) -> tuple[str, bool]:
    """Render one side of a card; also say whether it shows any non-empty field."""
    context = _Context(fields, ordinal, question, front_side, set())
    text = _render_nodes(parse_template(template), context)
    return text, bool(context.used)


# --- the cards of a note -----------------------------------------------------


@dataclass(frozen=True)
class PreviewCard:
    """One card of one note, both sides rendered."""

    guid: str
    deck: str
    note_type: str  # the note type's name, e.g. "deckgen Cloze"
    template: str
    ordinal: int  # Anki's card number: the cloze number, or the template's position + 1
    front: str
    back: str


def preview_cards(notes: Sequence[NoteSpec], backs: bool = True) -> list[PreviewCard]:
    """Every card of *notes*, as Anki would generate and render it, in note order."""
    from .notetypes import NOTE_TYPES  # genanki only when previewing

    cards: list[PreviewCard] = []
    for spec in notes:
        model = NOTE_TYPES[spec.note_type]
        names = CLOZE_FIELDS if spec.note_type == CLOZE else COMPARISON_FIELDS
        fields = dict(zip(names, spec.fields, strict=True))
        if spec.note_type == CLOZE:
            template = model.templates[0]
            nodes = _walk(parse_template(template["qfmt"]))
            cloze_fields = {n.name for n in nodes if isinstance(n, _Field) and "cloze" in n.filters}
            ordinals = sorted(set().union(*(cloze_ordinals(fields[n]) for n in cloze_fields)))
            plan = [(template, ordinal) for ordinal in ordinals]
        else:
            plan = [(template, index + 1) for index, template in enumerate(model.templates)]
        for template, ordinal in plan:
            front, shows_a_field = render(template["qfmt"], fields, ordinal, question=True)
            if not shows_a_field:
                continue  # Anki generates no card whose front shows no non-empty field
            back = render(template["afmt"], fields, ordinal, question=False, front_side=front)[0] if backs else ""
            cards.append(
                PreviewCard(spec.guid, spec.deck, model.name, template["name"], ordinal, front, back)
            )
    return cards


def _walk(nodes: Iterable[_Node]) -> Iterable[_Node]:
    for node in nodes:
        yield node
        if isinstance(node, _Section):
            yield from _walk(node.children)


def note_type_css() -> list[str]:
    """The distinct stylesheets of deckgen's note types."""
    from .notetypes import NOTE_TYPES

    return list(dict.fromkeys(model.css for model in NOTE_TYPES.values()))


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


def _esc(text: str) -> str:
    return html.escape(text, quote=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


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
    return f'<h2>{lead}<span>{_esc(last)}</span><span class="pv-count">{_plural(count, "card")}</span></h2>'


def _card_name(card: PreviewCard) -> str:
    """The card's name as Anki's browser shows it: "Cloze 1" for a cloze, else the template."""
    return f"{card.template} {card.ordinal}" if card.note_type.endswith("Cloze") else card.template


def _card_html(card: PreviewCard, number: int) -> str:
    return (
        f'<article class="card card{card.ordinal}" data-deck="{_esc(card.deck)}"'
        f' data-note-type="{_esc(card.note_type)}" data-template="{_esc(card.template)}"'
        f' data-guid="{_esc(card.guid)}" data-ordinal="{card.ordinal}">'
        f'<div class="pv-meta">#{number} · {_esc(card.note_type)} · <b>{_esc(_card_name(card))}</b></div>'
        f'<div class="pv-side"><div class="pv-label">Front</div><div data-side="front">{card.front}</div></div>'
        f'<div class="pv-side"><div class="pv-label">Back</div><div data-side="back">{card.back}</div></div>'
        "</article>"
    )


def preview_html(notes: Sequence[NoteSpec], title: str) -> str:
    """One self-contained page showing every card of *notes*, front and back, by deck."""
    return _page(preview_cards(notes), title)


def _page(cards: Sequence[PreviewCard], title: str) -> str:
    decks = _deck_order(cards)
    by_deck: dict[str, list[PreviewCard]] = {deck: [] for deck in decks}
    for card in cards:
        by_deck[card.deck].append(card)
    toc = _toc(decks, {deck: len(by_deck[deck]) for deck in decks})
    sections = []
    number = 0
    for index, deck in enumerate(decks, 1):
        rendered = []
        for card in by_deck[deck]:
            number += 1
            rendered.append(_card_html(card, number))
        sections.append(
            f'<section class="pv-deck" id="deck-{index}" data-deck="{_esc(deck)}">'
            f'{_deck_heading(deck, len(by_deck[deck]))}{"".join(rendered)}</section>'
        )
    summary = f"{_plural(len(cards), 'card')} in {_plural(len(decks), 'deck')}"
    styles = "".join(f"<style>\n{css}</style>\n" for css in note_type_css())
    body = "".join(sections) or '<p class="pv-empty">No cards.</p>'
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_esc(title)} · card preview</title>\n"
        f"{styles}<style>\n{_PAGE_CSS}</style>\n</head>\n"
        f'<body class="pv" data-cards="{len(cards)}">\n'
        '<header class="pv-top"><div class="pv-bar">'
        f"<h1>{_esc(title)}</h1>"
        '<button type="button" class="pv-switch" id="pv-night" role="switch" aria-checked="false">'
        '<span class="pv-track" aria-hidden="true"></span>Night mode</button>'
        "</div></header>\n"
        f'<div class="pv-intro"><p>{summary}, front and back, with the decks\' own templates and CSS.</p>'
        f'<ul class="pv-toc">{toc}</ul></div>\n'
        f'<main class="pv-main">\n{body}\n</main>\n'
        f"<script>\n{_PAGE_JS}</script>\n</body>\n</html>\n"
    )


def write_preview(source_dir: str, path: str) -> int:
    """Write the preview page of the source in *source_dir* to *path*; return the card count."""
    from .build import check

    source, notes = check(source_dir)
    cards = preview_cards(notes)
    data = _page(cards, source.title).encode("utf-8")
    from .journal import commit, make_folders, recover, remove_folders

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
