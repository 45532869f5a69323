"""Every card of a note, rendered as Anki renders it.

Anki is not needed to read a deck: this module carries a tiny renderer for the
part of Anki's template language that deckgen's note types use (``{{Field}}``,
``{{#Field}}…{{/Field}}``, ``{{^Field}}…{{/Field}}``, ``{{cloze:Field}}`` and
``{{FrontSide}}``) and decides which cards a note has the way Anki does.  The
card smells (:mod:`generator.quality.smells`) read its cards, and the preview page
(:mod:`generator.views.preview`) lays them out.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from generator.anki.notetypes import NOTE_TYPES, NoteType, is_cloze
from generator.cards.kinds import KINDS
from generator.cards.notes import NoteSpec

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
            if name is None or name != tag[1:].strip():
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
    template: str, fields: Mapping[str, str], *, ordinal: int = 1, question: bool = True, front_side: str = ""
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
    kind: str  # the note's kind: a name in generator.cards.kinds.KINDS
    template: str
    ordinal: int  # Anki's card number: the cloze number, or the template's position + 1
    front: str
    back: str
    template_ordinal: int = 0  # the template's position in the note type (a card kind's Face.ordinal)
    cloze: bool = False  # its note type is Anki's cloze type: its ordinal is a cloze number

    @property
    def name(self) -> str:
        """The card's name as Anki's browser shows it: "Cloze 1" for a card of a cloze note type, else the template."""
        return f"{self.template} {self.ordinal}" if self.cloze else self.template


def preview_cards(notes: Sequence[NoteSpec], backs: bool = True) -> list[PreviewCard]:
    """Every card of *notes*, as Anki would generate and render it, in note order.

    Without *backs*, each card's back is left empty (the smells read only fronts).
    """
    return [card for spec in notes for card in _note_cards(spec, backs)]


def _note_cards(spec: NoteSpec, backs: bool) -> Iterator[PreviewCard]:
    model = NOTE_TYPES[spec.note_type]
    fields = KINDS[spec.note_type].values(spec.fields)
    for template, ordinal in _card_plan(model, fields):
        front, shows_a_field = render(template["qfmt"], fields, ordinal=ordinal, question=True)
        if not shows_a_field:
            continue  # Anki generates no card whose front shows no non-empty field
        back = render(template["afmt"], fields, ordinal=ordinal, question=False, front_side=front)[0] if backs else ""
        yield PreviewCard(
            spec.guid, spec.deck, model.name, spec.note_type, template["name"], ordinal, front, back,
            model.templates.index(template), is_cloze(model),
        )


def _card_plan(model: NoteType, fields: Mapping[str, str]) -> list[tuple[dict[str, Any], int]]:
    """(template, ordinal) of each card Anki may make: one per cloze number, else one per template.

    As Anki and genanki do, by the note type's type, never by its name.
    """
    templates = model.templates
    if not is_cloze(model):
        return [(template, index + 1) for index, template in enumerate(templates)]
    template = templates[0]
    ordinals = sorted(set().union(*(cloze_ordinals(fields[n]) for n in _cloze_fields(template["qfmt"]))))
    return [(template, ordinal) for ordinal in ordinals]


@functools.lru_cache(maxsize=64)  # a handful of templates, read for every card
def _cloze_fields(qfmt: str) -> frozenset[str]:
    """The fields a cloze template's front shows through the ``cloze`` filter: their numbers are its cards."""
    return frozenset(n.name for n in _walk(parse_template(qfmt)) if isinstance(n, _Field) and "cloze" in n.filters)


def _walk(nodes: Iterable[_Node]) -> Iterable[_Node]:
    for node in nodes:
        yield node
        if isinstance(node, _Section):
            yield from _walk(node.children)


def note_type_css() -> list[str]:
    """The distinct stylesheets of deckgen's note types."""
    return list(dict.fromkeys(model.css for model in NOTE_TYPES.values()))
