"""The two note types deckgen writes: their ids, fields, templates and CSS.

Ids, field names and template names are a contract with every collection that
has imported a deck: if they change, Anki imports the note type as a copy
("Name+") and stops updating existing notes.  They are constants here, pinned
by tests; :mod:`generator.build.lock` refuses a build that changes them by accident.
Template *content* and CSS may change freely: Anki updates them in place.

This module imports genanki, so only building imports it (``deckgen --help``
stays fast).
"""

from __future__ import annotations

import genanki

from generator.anki.schema import NoteTypeSchema, content_hash
from generator.cards.notes import CLOZE, CLOZE_FIELDS, COMPARISON, COMPARISON_FIELDS

CLOZE_ID = 1739462201
COMPARISON_ID = 1739462202
CLOZE_NAME = "deckgen Cloze"
COMPARISON_NAME = "deckgen Comparison"

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
hr#answer { border: none; border-top: 1px solid var(--rule); margin: 0.8em 0; }
.source { margin-top: 1em; color: var(--muted); font-size: 0.7em; font-style: italic;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
@media (max-width: 480px) { .card { font-size: 18px; } .deckgen { padding: 0; } }
"""

_CONTEXT = '<div class="context">{{Context}}</div>'
_SOURCE = '<div class="source">{{Source}}</div>'

# The source is named on the back only: on a phone's front it would crowd the question.
CLOZE_TEMPLATES = (
    {
        "name": "Cloze",
        "qfmt": f'<div class="deckgen">{_CONTEXT}<div class="text">{{{{cloze:Text}}}}</div></div>',
        "afmt": (
            f'<div class="deckgen">{_CONTEXT}<div class="text">{{{{cloze:Text}}}}</div>'
            '{{#Extra}}<div class="extra">{{Extra}}</div>{{/Extra}}'
            f"{_SOURCE}</div>"
        ),
    },
)

# Dimension holds the whole forward prompt, the perspective's name set in bold.
_SIDE_FRONT = f'<div class="deckgen">{_CONTEXT}<div class="prompt">{{{{Dimension}}}}</div>'
# The reverse front shows no Dimension: its prompt names the perspective.
_WHICH_FRONT = (
    f'<div class="deckgen">{_CONTEXT}'
    '<div class="statement">{{Statement}}</div><div class="ask">{{Question}}</div>'
)
_OTHERS = '{{#Others}}<div class="extra">{{Others}}</div>{{/Others}}'

COMPARISON_TEMPLATES = (
    {
        # Only comparisons have a Dimension; a lone statement asks only "which perspective?".
        "name": "Side from perspective",
        "qfmt": "{{#Dimension}}" + _SIDE_FRONT + "</div>{{/Dimension}}",
        "afmt": (
            "{{#Dimension}}" + _SIDE_FRONT + '<hr id="answer"><div class="answer">{{Statement}}</div>'
            + _OTHERS + _SOURCE + "</div>{{/Dimension}}"
        ),
    },
    {
        # An empty Question: the author asks only the sides (``ask: side``).
        "name": "Perspective from statement",
        "qfmt": "{{#Question}}" + _WHICH_FRONT + "</div>{{/Question}}",
        "afmt": (
            "{{#Question}}" + _WHICH_FRONT + '<hr id="answer"><div class="answer">{{Perspective}}</div>'
            + _OTHERS + _SOURCE + "</div>{{/Question}}"
        ),
    },
)


def _fields(names: tuple[str, ...]) -> list[dict[str, str]]:
    return [{"name": name} for name in names]


NOTE_TYPES: dict[str, genanki.Model] = {
    CLOZE: genanki.Model(
        CLOZE_ID,
        CLOZE_NAME,
        fields=_fields(CLOZE_FIELDS),
        templates=list(CLOZE_TEMPLATES),
        css=CSS,
        model_type=genanki.Model.CLOZE,
    ),
    COMPARISON: genanki.Model(
        COMPARISON_ID,
        COMPARISON_NAME,
        fields=_fields(COMPARISON_FIELDS),
        templates=list(COMPARISON_TEMPLATES),
        css=CSS,
    ),
}


def note_type_schemas() -> dict[str, NoteTypeSchema]:
    """Each note type's contract and a hash of its look, as recorded in the lock."""
    schemas = {}
    for kind, model in NOTE_TYPES.items():
        templates = tuple(t["name"] for t in model.templates)
        look = content_hash([model.css, *(t["qfmt"] + "\x1e" + t["afmt"] for t in model.templates)])
        fields = tuple(f["name"] for f in model.fields)
        schemas[kind] = NoteTypeSchema(model.model_id, model.name, fields, templates, look)
    return schemas
