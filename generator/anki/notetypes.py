"""deckgen's note types as genanki writes them: one per card kind, and their CSS.

Ids, field names and template names are a contract with every collection that
has imported a deck.  Anki matches an imported note type by its id, and its
fields and templates one by one, in order: by their ids, or by name where
either side has none.  If they do not match, Anki imports the note type as a
copy ("Name+") and stops updating existing notes.  So every field and template
has a stable id (:func:`stable_id`: a hash of the note type's id and of the
part's *key*, the name it was first released under), and a field or template
is renamed by :data:`RENAMED_FIELDS` or :data:`RENAMED_TEMPLATES` alone:
Anki then renames it in place.  Adding, removing or reordering one cannot be
done in place; :mod:`generator.pipeline.lock.guard` refuses a build that would.
Template *content* and CSS may change freely: Anki updates them in place.

:data:`NOTE_TYPES` holds each note type under its keys, as deckgen renders
and checks cards; :func:`anki_model` is the note type as packages carry it.
Both are made from the card kinds' table (:mod:`generator.cards.kinds`), where
each kind declares its id, name, fields and templates: nothing here names a kind.

Note types are held as :class:`NoteType`, genanki's model under the same
names; genanki itself is imported only to write a package (:func:`anki_model`,
through :mod:`generator.anki.genanki_import`): checking, previewing and
planning never need it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from generator.anki.schema import NoteTypeSchema, content_hash
from generator.cards.cloze import CLOZE
from generator.cards.comparison import COMPARISON
from generator.cards.kind import CardKind
from generator.cards.kinds import KINDS
from generator.errors import DeckgenError

if TYPE_CHECKING:
    import genanki

FRONT_BACK, CLOZE_TYPE = 0, 1
"""A note type's ``model_type``: a card per template, or Anki's cloze type (genanki's ``FRONT_BACK``, ``CLOZE``)."""


# Compared as genanki's models are, by identity: a note type is one object, which tests may change in place.
@dataclasses.dataclass(eq=False)
class NoteType:
    """A note type as genanki's ``Model`` holds it, under the same names (so a genanki model in :data:`NOTE_TYPES`,
    as tests put one, is read alike), without genanki; ``None`` for LaTeX is genanki's default."""

    model_id: int
    name: str
    fields: list[dict[str, Any]]
    templates: list[dict[str, Any]]
    css: str
    model_type: int
    latex_pre: str | None = None
    latex_post: str | None = None
    sort_field_index: int = 0


# The pinned identities under the names callers and tests use (tests/test_identity.py): the kinds declare them.
CLOZE_ID = CLOZE.note_type_id
COMPARISON_ID = COMPARISON.note_type_id
CLOZE_NAME = CLOZE.note_type_name
COMPARISON_NAME = COMPARISON.note_type_name

RENAMED_FIELDS: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
"""Fields Anki shows under a new name, by note kind: ``{key: new name}``.

A field's key is its name in the kind's ``fields``
(:class:`generator.cards.kind.CardKind`), which deckgen's code uses and which
never changes; its id hashes the key.  Renaming a field is one entry here
(``{"cloze": {"Extra": "Notes"}}``): the packages' templates follow, and a re-import renames the
field in students' note types, their notes' content and history kept.  Only
once a build that gave the field its id has been imported (the lock records
ids; :func:`generator.pipeline.lock.guard.check_note_types` refuses it before).
"""
RENAMED_TEMPLATES: dict[str, dict[str, str]] = {kind: {} for kind in KINDS}
"""Templates Anki shows under a new name, by note kind: ``{key: new name}``, a key being a "name" below."""


def stable_id(note_type_id: int, part: str, key: str) -> int:
    """The id of a field or template (*part*) of note type *note_type_id*: a hash of its key, never of its shown name.

    It is below 2**53, so any JSON reader (JavaScript too) keeps it exact.
    """
    digest = hashlib.sha256(f"deckgen-{part}\x1f{note_type_id}\x1f{key}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % (2**53 - 1)


CSS = """\
.card {
  --fg: #1f2328; --muted: #656d76; --accent: #0b5cad; --rule: #d0d7de;
  --panel: #f6f8fa; --bg: #ffffff;
  font-family: -apple-system, BlinkMacSystemFont, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-size: 20px; line-height: 1.5; text-align: left;
  color: var(--fg); background-color: var(--bg);
}
.card.nightMode, .nightMode .card, .night_mode .card {
  --fg: #e6edf3; --muted: #9198a1; --accent: #79c0ff; --rule: #3d444d;
  --panel: #262c36; --bg: #1c2128;
}
.deckgen { max-width: 36em; margin: 0 auto; padding: 0.25em 0.5em; overflow-wrap: break-word; }
.context { color: var(--muted); font-size: 0.7em; letter-spacing: 0.04em; text-transform: uppercase;
  margin-bottom: 0.8em; }
.title { font-size: 1.15em; font-weight: 600; margin-bottom: 0.4em; }
.body { margin: 0.4em 0; }
.points, .others { margin: 0.4em 0; padding-left: 1.6em; }
.points li, .others li { margin: 0.2em 0; }
.points li.asked { list-style-type: "\\2192  "; }
.points li.asked::marker { color: var(--accent); font-weight: 700; }
.cloze { color: var(--accent); font-weight: 700; }
.prompt { font-size: 1.15em; font-weight: 600; }
.statement { font-size: 1.1em; margin: 0.5em 0; padding: 0.5em 0.75em; border-left: 4px solid var(--accent);
  background: var(--panel); border-radius: 4px; }
.ask { margin-top: 0.6em; color: var(--fg); }
.ask b { color: var(--fg); }
.answer { font-size: 1.1em; font-weight: 700; color: var(--accent); margin: 0.4em 0; }
.extra { margin-top: 0.6em; padding-top: 0.4em; border-top: 1px solid var(--rule); }
.extra b { color: var(--accent); }
.answer + .extra { border-top: 0; padding-top: 0; }
.also, .origin { margin-top: 0.8em; padding-top: 0.4em; border-top: 1px dashed var(--rule); color: var(--muted);
  font-size: 0.9em; }
.also .title { font-size: 1em; }
.extra > .also:first-child { margin-top: 0; padding-top: 0; border-top: 0; }
hr#answer { border: none; border-top: 1px solid var(--rule); margin: 0.8em 0; }
.source { margin-top: 1em; color: var(--muted); font-size: 0.7em; font-style: italic;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
@media (max-width: 480px) { .card { font-size: 18px; } .deckgen { padding: 0; } }
"""

CLOZE_TEMPLATES = tuple(template.as_anki() for template in CLOZE.templates)
COMPARISON_TEMPLATES = tuple(template.as_anki() for template in COMPARISON.templates)
"""The kinds' templates as genanki holds them, under the names callers and tests use."""


def _fields(names: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"name": name} for name in names]


CLOZE_FIELD_IDS = {key: stable_id(CLOZE_ID, "field", key) for key in CLOZE.fields}
COMPARISON_FIELD_IDS = {key: stable_id(COMPARISON_ID, "field", key) for key in COMPARISON.fields}
CLOZE_TEMPLATE_IDS = {t.name: stable_id(CLOZE_ID, "template", t.name) for t in CLOZE.templates}
COMPARISON_TEMPLATE_IDS = {t.name: stable_id(COMPARISON_ID, "template", t.name) for t in COMPARISON.templates}
"""The ids of each note type's fields and templates, by key (pinned by tests/test_identity.py)."""


def _note_type(kind: CardKind) -> NoteType:
    """The note type of *kind* under its keys (a cloze kind is Anki's cloze type, as genanki's ``model_type``)."""
    return NoteType(
        kind.note_type_id,
        kind.note_type_name,
        fields=_fields(kind.fields),
        templates=[template.as_anki() for template in kind.templates],
        css=CSS,
        model_type=CLOZE_TYPE if kind.cloze else FRONT_BACK,
    )


NOTE_TYPES: dict[str, NoteType] = {name: _note_type(kind) for name, kind in KINDS.items()}
"""Each kind's note type by kind name (tests replace one to change a note type)."""


def is_cloze(model: NoteType) -> bool:
    """True if *model* is Anki's cloze type: its cards are its first template's cloze numbers, not its templates."""
    return model.model_type == CLOZE_TYPE


def anki_model(kind: str) -> genanki.Model:
    """``NOTE_TYPES[kind]`` as packages carry it, as genanki's model: each field and template under its shown name,
    with its id.  A new object each time: NOTE_TYPES' models may change (tests change them)."""
    from generator.anki.genanki_import import genanki  # only to write a package

    model = shown_note_type(kind)
    given = {field.name: getattr(model, field.name) for field in dataclasses.fields(model)}
    return genanki.Model(**{name: value for name, value in given.items() if value is not None})


def shown_note_type(kind: str) -> NoteType:
    """``NOTE_TYPES[kind]`` as packages carry it: each field and template under its shown name, with its id."""
    model, renamed_fields, renamed_templates = NOTE_TYPES[kind], RENAMED_FIELDS[kind], RENAMED_TEMPLATES[kind]
    _check_keys(renamed_fields, model.fields, "field")
    _check_keys(renamed_templates, model.templates, "template")
    return NoteType(
        model.model_id,
        model.name,
        fields=[_part(model.model_id, "field", f, renamed_fields) for f in model.fields],
        templates=[_template(model.model_id, t, renamed_templates, renamed_fields) for t in model.templates],
        css=model.css,
        model_type=model.model_type,
        latex_pre=model.latex_pre,
        latex_post=model.latex_post,
        sort_field_index=model.sort_field_index,
    )


def _check_keys(renames: Mapping[str, str], entries: list[dict[str, Any]], part: str) -> None:
    """A rename of a key the note type does not have is a mistake, never a silent no-op; so is a name Anki changes."""
    unknown = sorted(set(renames) - {entry["name"] for entry in entries})
    if unknown:
        raise DeckgenError(f"RENAMED_{part.upper()}S names no {part} {unknown}: rename a {part} by its key")
    names = [renames.get(entry["name"], entry["name"]) for entry in entries]
    for name in names:
        if _BAD_NAME.search(name) or name != name.strip() or not name:
            raise DeckgenError(
                f"RENAMED_{part.upper()}S: {part} name {name!r} cannot be used: Anki changes or refuses an empty name, "
                "one with ':', '{', '}' or '\"', or one that starts with '#', '/' or '^'"
            )
    folded = [name.casefold() for name in names]
    if len(set(folded)) != len(folded):
        raise DeckgenError(f"RENAMED_{part.upper()}S: two {part}s would be named alike ({names}): Anki would add '+'")


_BAD_NAME = re.compile(r'[:{}"]|^[#/^]')
"""What Anki strips from a field or template name, or refuses in one (rslib notetype/schema11, fields.rs)."""


def _part(note_type_id: int, part: str, entry: Mapping[str, Any], renames: Mapping[str, str]) -> dict[str, Any]:
    """A field or template entry of genanki under its shown name, with its id (from its key, *entry*'s name)."""
    key = entry["name"]
    return {**entry, "name": renames.get(key, key), "id": stable_id(note_type_id, part, key)}


def _template(
    note_type_id: int, entry: Mapping[str, Any], renames: Mapping[str, str], fields: Mapping[str, str]
) -> dict[str, Any]:
    """A template entry under its shown name, with its id, its references naming the fields' shown names."""
    renamed = _part(note_type_id, "template", entry, renames)
    return {**renamed, "qfmt": _references(entry["qfmt"], fields), "afmt": _references(entry["afmt"], fields)}


_REFERENCE = r"\{\{([#^/]?)((?:[^{}:]*:)*)([^{}:]+)\}\}"  # compiled (by re, once) where a field is renamed
"""A field reference of a template: ``{{Name}}``, ``{{#Name}}``, ``{{/Name}}``, ``{{^Name}}``, ``{{cloze:Name}}``."""


def _references(template: str, renames: Mapping[str, str]) -> str:
    """*template* with each reference to a renamed field naming its new name."""
    if not renames:
        return template
    return re.sub(_REFERENCE, lambda m: "{{" + m[1] + m[2] + renames.get(m[3], m[3]) + "}}", template)


def note_type_schemas() -> dict[str, NoteTypeSchema]:
    """Each note type's contract as packages carry it, and a hash of its look, as recorded in the lock."""
    return {kind: _schema(shown_note_type(kind)) for kind in NOTE_TYPES}


def _schema(model: NoteType) -> NoteTypeSchema:
    look = content_hash([model.css, *(t["qfmt"] + "\x1e" + t["afmt"] for t in model.templates)])
    return NoteTypeSchema(
        id=model.model_id,
        name=model.name,
        fields=tuple(f["name"] for f in model.fields),
        field_ids=tuple(f.get("id") for f in model.fields),
        templates=tuple(t["name"] for t in model.templates),
        template_ids=tuple(t.get("id") for t in model.templates),
        hash=look,
    )
