"""The JSON Schemas an editor checks with agree with what ``deckgen check`` reads.

Files are read for the schema as PyYAML reads them (YAML 1.1, as deckgen
does), so ``no`` and ``1.10`` reach the schema as a boolean and a number.
Every recipe a test loads is held to the recipe schema too (``conftest.py``).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from generator.authoring.editor_schema import (
    CONFIG_SCHEMA,
    RECIPE_SCHEMA,
    TOPIC_SCHEMA,
    schema_texts,
    schemas,
)
from generator.cards.recipe import load_recipe
from generator.cli import main
from generator.errors import ContentError
from generator.source.loader import load_source

from .support import BUNDLED_SOURCE, RECIPES_CHECKED, ROOT, write_source

SCHEMAS = schemas()
CORPUS = ROOT / "tests" / "bad_inputs"


def invoke(*args: str):  # noqa: ANN201 - click's Result
    return CliRunner().invoke(main, list(args))


def schema_errors(path: Path) -> list[str]:
    """What the schema for *path* (deckgen.yaml or a topic file) says is wrong with it."""
    schema = SCHEMAS[CONFIG_SCHEMA if path.name == "deckgen.yaml" else TOPIC_SCHEMA]
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [error.message for error in jsonschema.Draft7Validator(schema).iter_errors(data)]


def assert_folder_validates(folder: Path) -> None:
    files = sorted(folder.glob("*.yaml"))
    assert files
    assert {path.name: schema_errors(path) for path in files} == {path.name: [] for path in files}


def test_the_schemas_are_draft_07_schemas() -> None:
    for schema in SCHEMAS.values():
        jsonschema.Draft7Validator.check_schema(schema)


def test_every_key_has_a_description_and_an_example() -> None:
    def keys(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        found = list(schema.get("properties", {}).items())
        for _, value in list(found):
            found += keys(value.get("items", {}))
        return found

    for schema in SCHEMAS.values():
        for name, value in keys(schema):
            assert value["description"].endswith("."), name
            assert len(value["examples"]) == 1, name
            jsonschema.validate(value["examples"][0], {k: v for k, v in value.items() if k != "examples"})


def test_the_bundled_source_validates() -> None:
    assert_folder_validates(BUNDLED_SOURCE)


@pytest.mark.parametrize("case", ["_valid", *(p.name for p in sorted(CORPUS.glob("accepted-*")))])
def test_the_corpus_sources_that_build_validate(case: str) -> None:
    assert_folder_validates(CORPUS / case)


def test_new_writes_the_schemas_and_names_them_on_each_files_first_line(tmp_path: Path) -> None:
    folder = tmp_path / "course"
    assert invoke("new", str(folder)).exit_code == 0
    assert_folder_validates(folder)
    assert {p.name: p.read_text(encoding="utf-8") for p in (folder / "schema").iterdir()} == schema_texts()
    first_lines = {p.name: p.read_text(encoding="utf-8").splitlines()[0] for p in folder.glob("*.yaml")}
    assert first_lines == {
        "deckgen.yaml": "# yaml-language-server: $schema=schema/deckgen.schema.json",
        "01-basics.yaml": "# yaml-language-server: $schema=schema/topic.schema.json",
        "02-lessons.yaml": "# yaml-language-server: $schema=schema/topic.schema.json",
    }


@pytest.mark.parametrize("text", ["essay.md", "chapter.md"])  # an essay with perspectives; a chapter with a glossary
def test_a_draft_validates_and_names_its_schemas(tmp_path: Path, text: str) -> None:
    folder = tmp_path / "drafted"
    assert invoke("draft", str(ROOT / "tests" / "sources" / text), "--out", str(folder)).exit_code == 0
    assert_folder_validates(folder)
    for path in folder.glob("*.yaml"):
        schema = CONFIG_SCHEMA if path.name == "deckgen.yaml" else TOPIC_SCHEMA
        assert path.read_text(encoding="utf-8").startswith(f"# yaml-language-server: $schema=schema/{schema}\n")
    assert sorted(p.name for p in (folder / "schema").iterdir()) == sorted(schema_texts())


def test_a_source_that_compares_nothing_validates(tmp_path: Path) -> None:
    """No perspectives, and a topic of items and terms (test_concepts builds it into real Anki)."""
    from .test_concepts import CONFIG, TOPIC

    folder = tmp_path / "concepts"
    write_source(folder, TOPIC, CONFIG)
    load_source(str(folder))
    assert_folder_validates(folder)
    only_terms = folder / "glossary.yaml"
    only_terms.write_text(
        "topic: glossary\nname: Glossary\nterms:\n  - id: cue\n    term: Cue\n    definition: A hint.\n", encoding="utf-8"
    )
    load_source(str(folder))
    assert schema_errors(only_terms) == []


@pytest.mark.parametrize(
    ("entry", "found"),
    [
        ("    term: Cue\n    definition: A hint.\n    ask: sideways\n", "'sideways' is not one of ['both', 'definition', 'term']"),
        ("    term: Cue\n", "'definition' is a required property"),
        ("    term: Cue\n    definition: A hint.\n    colour: red\n", "Additional properties are not allowed"),
        ("    term: [Cue]\n    definition: A hint.\n", "['Cue'] is not of type 'string'"),
    ],
)
def test_the_schema_refuses_a_term_check_refuses(tmp_path: Path, entry: str, found: str) -> None:
    (tmp_path / "deckgen.yaml").write_text("id: memory\ntitle: Memory\ndeck: Memory\n", encoding="utf-8")
    topic = tmp_path / "glossary.yaml"
    topic.write_text(f"topic: glossary\nname: Glossary\nterms:\n  - id: cue\n{entry}", encoding="utf-8")
    with pytest.raises(ContentError):
        load_source(str(tmp_path))
    assert any(message.startswith(found) for message in schema_errors(topic)), schema_errors(topic)


def test_schema_writes_the_three_files(tmp_path: Path) -> None:
    out = tmp_path / "editor"
    result = invoke("schema", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.output == "".join(f"wrote {out / name}\n" for name in schema_texts())
    assert {p.name: p.read_text(encoding="utf-8") for p in out.iterdir()} == schema_texts()
    assert json.loads((out / RECIPE_SCHEMA).read_text(encoding="utf-8"))["required"] == ["decks"]


# A sample of the corpus's type errors (and unknown or missing keys): `check` refuses each
# (the case has an expected.txt), and so must the schema, in the file `check` names first.
TYPE_ERRORS = [
    "config-missing-keys", "document-is-a-list", "document-is-a-scalar", "empty-text", "id-is-a-number",
    "id-with-spaces-and-capitals", "items-empty-list", "items-is-a-mapping", "items-is-text", "key-is-a-number",
    "key-term-in-name", "missing-required-key", "null-value", "perspectives-is-a-list", "perspectives-one-entry",
    "points-is-a-list", "sides-is-a-list", "tags-is-text", "title-is-a-list", "topic-name-with-double-colon",
    "unknown-key-comparison", "unknown-key-config", "unknown-key-item", "unknown-key-topic", "yaml11-date",
    "yaml11-null-tilde", "yaml11-sexagesimal", "yaml11-version-number", "yaml11-yes",
]


@pytest.mark.parametrize("case", TYPE_ERRORS)
def test_the_schema_refuses_what_check_refuses(case: str) -> None:
    expected = (CORPUS / case / "expected.txt").read_text(encoding="utf-8").splitlines()
    named = expected[0].split(":", 1)[0]  # the file `check` names first
    assert schema_errors(CORPUS / case / named) != []


# --- the schema's keys are the loader's, both ways -----------------------------------------

_UNKNOWN = re.compile(r"unknown key 'zz' \(expected one of: (.*)\)")
_MISSING = re.compile(r"missing required key '(.*)'")


def loader_keys(problems: list[str]) -> tuple[set[str], set[str]]:
    """The keys the loader's messages name: every allowed one, and the required ones."""
    allowed = {key for p in problems if (m := _UNKNOWN.search(p)) for key in m[1].split(", ")}
    required = {m[1] for p in problems if (m := _MISSING.search(p))}
    return allowed, required


def schema_keys(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    return set(schema["properties"]), set(schema["required"])


def problems_at(error: ContentError, file: Path, where: str) -> list[str]:
    return [p.message for p in error.problems if p.file == str(file) and p.where == where]


def test_the_source_schemas_keys_are_the_loaders(tmp_path: Path) -> None:
    """Mappings holding only an unknown key: the loader names every key it allows and each it requires."""
    (tmp_path / "deckgen.yaml").write_text("zz: x\n", encoding="utf-8")
    (tmp_path / "basics.yaml").write_text(
        "zz: x\nitems:\n  - zz: x\ncomparisons:\n  - zz: x\nterms:\n  - zz: x\n", encoding="utf-8"
    )
    with pytest.raises(ContentError) as raised:
        load_source(str(tmp_path))
    topic = SCHEMAS[TOPIC_SCHEMA]
    config, basics = tmp_path / "deckgen.yaml", tmp_path / "basics.yaml"
    assert loader_keys(problems_at(raised.value, config, "")) == schema_keys(SCHEMAS[CONFIG_SCHEMA])
    assert loader_keys(problems_at(raised.value, basics, "")) == schema_keys(topic)
    assert loader_keys(problems_at(raised.value, basics, "items[0]")) == schema_keys(
        topic["properties"]["items"]["items"]
    )
    assert loader_keys(problems_at(raised.value, basics, "comparisons[0]")) == schema_keys(
        topic["properties"]["comparisons"]["items"]
    )
    assert loader_keys(problems_at(raised.value, basics, "terms[0]")) == schema_keys(
        topic["properties"]["terms"]["items"]
    )


def test_the_recipe_schemas_keys_are_the_loaders(tmp_path: Path) -> None:
    recipe = tmp_path / "course.yaml"
    recipe.write_text("zz: x\ndecks:\n  - zz: x\n", encoding="utf-8")
    with pytest.raises(ContentError) as raised:
        load_recipe(str(recipe))
    schema = SCHEMAS[RECIPE_SCHEMA]
    allowed, _ = loader_keys(problems_at(raised.value, recipe, ""))
    assert loader_keys(problems_at(raised.value, recipe, "decks[0]")) == schema_keys(
        schema["properties"]["decks"]["items"]
    )
    recipe.write_text("zz: x\n", encoding="utf-8")  # a required key is named only when it is missing
    with pytest.raises(ContentError) as raised:
        load_recipe(str(recipe))
    assert (allowed, loader_keys(problems_at(raised.value, recipe, ""))[1]) == schema_keys(schema)


def test_a_recipe_built_in_a_test_is_held_to_the_schema(tmp_path: Path) -> None:
    shutil.copytree(BUNDLED_SOURCE, tmp_path / "source", ignore=shutil.ignore_patterns("*.lock"))
    recipe = tmp_path / "course.yaml"
    first = load_source(str(tmp_path / "source")).topics[0].id  # whichever topics the bundled source has
    recipe.write_text(f"source: source\ndecks:\n  - name: Week 1\n    topics: [{first}]\n", encoding="utf-8")
    result = invoke("build", "--recipe", str(recipe), "--out", str(tmp_path / "out"))
    assert result.exit_code == 0, result.output
    assert RECIPES_CHECKED[-1] == str(recipe)
