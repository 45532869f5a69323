"""JSON Schemas for the files an author writes, so an editor completes keys and marks mistakes as they type.

The schemas are made from :mod:`generator.source.keys`, the tables the loader
validates with: a key the loader reads is in the schema, and a key it refuses
is not (``additionalProperties: false``).  Draft-07 is the JSON Schema
version the YAML language server (VS Code, Neovim, JetBrains' plugin) has
supported longest.

A file opts in with its first line, ``# yaml-language-server:
$schema=schema/topic.schema.json``: the path is relative to the YAML file,
and ``deckgen new`` and ``deckgen draft`` write the schemas into the source
folder's ``schema/`` beside it.  A relative file was chosen over an https
URL: it works offline, needs no site to host it, and is the schema of the
deckgen that wrote it, not of whatever version a URL serves today.

The schema cannot say everything ``deckgen check`` does (unique ids across
files, references to perspectives, card smells); it says the shape.  A
value that YAML 1.1 reads as no text (``no``, ``1.10``, a date) is refused
by the schema only when the editor reads YAML as 1.1, as deckgen does
(the YAML extension's ``yaml.yamlVersion`` setting).
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from generator.cards.selection import KINDS
from generator.errors import DeckgenError
from generator.source.content import ASK_CHOICES, TERM_ASK_CHOICES
from generator.source.keys import CONFIG, NESTED, RECIPE, TOPIC, Key, Kind, Table
from generator.source.loader import BACKS, DECK_ORDERS, MAX_DECK_NAME_LENGTH, MAX_ID_LENGTH, MAX_NAME_LENGTH

Schema = dict[str, Any]

SCHEMA_FOLDER = "schema"
"""Where ``deckgen new`` and ``deckgen draft`` write the schemas: a folder of the source folder."""
CONFIG_SCHEMA, TOPIC_SCHEMA, RECIPE_SCHEMA = "deckgen.schema.json", "topic.schema.json", "recipe.schema.json"
_DRAFT = "http://json-schema.org/draft-07/schema#"

_ID: Schema = {"type": "string", "pattern": "^[a-z0-9]+(?:[-_][a-z0-9]+)*$", "maxLength": MAX_ID_LENGTH}
_TEXT: Schema = {"type": "string", "pattern": r"\S"}  # YAML's empty or blank text is no text to the loader
_PLAIN: Schema = {**_TEXT, "not": {"pattern": r"\{\{|\}\}"}}  # '{{' and '}}' mark key terms, which it may not have
_TAG: Schema = {"type": "string", "pattern": r"^[^\s:](?:\S*[^\s:])?$"}


def _mapping_of(values: Schema, minimum: int = 0) -> Schema:
    """A mapping whose keys are ids and whose values are *values*."""
    schema: Schema = {"type": "object", "propertyNames": _ID, "additionalProperties": values}
    return {**schema, "minProperties": minimum} if minimum else schema


def _list_of(values: Schema) -> Schema:
    return {"type": "array", "minItems": 1, "items": values}


_KINDS: dict[Kind, Schema] = {
    "id": _ID,
    "file": {"type": "string", "pattern": _ID["pattern"]},
    "text": _TEXT,
    "path": _TEXT,
    "plain": _PLAIN,
    "marked": _TEXT,
    "name": {**_PLAIN, "maxLength": MAX_NAME_LENGTH, "not": {"pattern": r"\{\{|\}\}|::|[\n\r\t]"}},
    "deck": {**_PLAIN, "maxLength": MAX_DECK_NAME_LENGTH},
    "perspectives": _mapping_of({**_PLAIN, "maxLength": MAX_NAME_LENGTH}, 2),
    "by_perspective": _mapping_of(_PLAIN),
    "sides": _mapping_of(_PLAIN, 2),
    "points": _mapping_of(_TEXT, 1),
    "tags": _list_of(_TAG),
    "ask": {"enum": list(ASK_CHOICES)},
    "term_ask": {"enum": list(TERM_ASK_CHOICES)},
    "deck_order": {"enum": list(DECK_ORDERS)},
    "backs": {"enum": list(BACKS)},
    "origins": _mapping_of(_ID),
    "formerly": {  # keys: a term's words; values: its words released, in every text or by text
        "type": "object", "minProperties": 1,
        "additionalProperties": {"oneOf": [_PLAIN, {
            "type": "object", "minProperties": 1, "propertyNames": {"enum": ["explanation", "conclusion"]},
            "additionalProperties": _PLAIN,
        }]},
    },
    "ids": _list_of(_TEXT),
    "kinds": _list_of({"enum": list(KINDS)}),
}


def _value(key: Key) -> Schema:
    """The schema of *key*'s value, with its description and example."""
    nested = NESTED.get(key.kind)
    value = _list_of(_object(nested)) if nested else dict(_KINDS[key.kind])
    return {"description": key.description, **value, "examples": [key.example]}


def _object(table: Table) -> Schema:
    """A mapping with exactly *table*'s keys."""
    return {
        "type": "object",
        "title": table.title,
        "description": table.description,
        "properties": {key.name: _value(key) for key in table.keys},
        "required": list(table.required),
        "additionalProperties": False,
    }


def _document(table: Table, file_title: str) -> Schema:
    return {"$schema": _DRAFT, **_object(table), "title": file_title}


def schemas() -> dict[str, Schema]:
    """Each schema by its file name: ``deckgen.yaml``'s, a topic file's and a recipe's."""
    topic = _document(TOPIC, "deckgen topic file")
    # the loader's own rule, not a key's: a topic asks nothing without one of them
    topic["anyOf"] = [{"required": [key]} for key in ("items", "comparisons", "terms")]
    return {
        CONFIG_SCHEMA: _document(CONFIG, "deckgen.yaml (a deckgen source's settings)"),
        TOPIC_SCHEMA: topic,
        RECIPE_SCHEMA: _document(RECIPE, "deckgen recipe"),
    }


def schema_texts() -> dict[str, str]:
    """Each schema's file text by file name: indented JSON, keys in the tables' order, one final newline."""
    return {name: json.dumps(schema, indent=2, ensure_ascii=False) + "\n" for name, schema in schemas().items()}


def modeline(schema_file: str, folder: str = SCHEMA_FOLDER) -> str:
    """The first line that points the YAML language server at *schema_file* in *folder* (relative to the YAML)."""
    return f"# yaml-language-server: $schema={folder}/{schema_file}\n"


def write_schemas(folder: str) -> list[str]:
    """Write the schemas into *folder* (made if missing, files replaced); return the paths written."""
    written = []
    try:
        os.makedirs(folder, exist_ok=True)
        for name, text in schema_texts().items():
            path = os.path.join(folder, name)
            staged = path + ".tmp"
            try:
                with open(staged, "w", encoding="utf-8") as handle:
                    handle.write(text)
                os.replace(staged, path)  # an editor reading it meanwhile sees the old schema or the new one
            finally:
                with contextlib.suppress(OSError):  # gone once replaced; a failed write leaves no stray file
                    os.remove(staged)
            written.append(path)
    except OSError as error:
        raise DeckgenError(f"cannot write {folder}: {error.strerror or error}") from None
    return written
