"""Fixtures shared by the test modules; shared constants and helpers live in support.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import jsonschema
import pytest
import yaml

from generator.authoring.editor_schema import RECIPE_SCHEMA, schemas
from generator.cards import recipe as recipe_module
from generator.cards.recipe import Recipe
from generator.errors import Problem
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import BuildReport, build
from generator.source.content import Source

# Re-exported for test modules that still import them from here; new code imports from .support.
from .support import BUILD_TIME, BUNDLED_SOURCE, DRINKS_CONFIG, RECIPES_CHECKED, ROOT, write_source

__all__ = ["BUILD_TIME", "BUNDLED_SOURCE", "DRINKS_CONFIG", "ROOT", "write_source"]


@pytest.fixture(scope="session")
def bundled_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    """The bundled content built once for the whole session (read-only for tests)."""
    out = tmp_path_factory.mktemp("decks")
    source = tmp_path_factory.mktemp("source") / "cards_source"
    shutil.copytree(BUNDLED_SOURCE, source, ignore=shutil.ignore_patterns("*.lock"))
    return out, build(BuildConfig(str(source), str(out), timestamp=BUILD_TIME))


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled sources that a test may edit."""
    target = tmp_path / "source"
    shutil.copytree(BUNDLED_SOURCE, target, ignore=shutil.ignore_patterns("*.lock"))
    return target


@pytest.fixture(autouse=True)
def _recipes_match_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every recipe a test builds that deckgen accepts is valid by the recipe schema too.

    So an editor never marks a recipe that works, for every recipe any test
    builds, present and future.  A recipe is accepted once the pipeline has
    checked it against the source (``check_recipe`` finds nothing), which the
    pipeline looks up in its module when it builds (imported there only then), so it meets this wrapper.
    """
    check = recipe_module.check_recipe
    schema = schemas()[RECIPE_SCHEMA]

    def checked(loaded: Recipe, source: Source) -> list[Problem]:
        problems = check(loaded, source)
        if not problems:
            with open(loaded.path, encoding="utf-8") as handle:
                jsonschema.validate(yaml.safe_load(handle), schema)
            RECIPES_CHECKED.append(loaded.path)
        return problems

    monkeypatch.setattr(recipe_module, "check_recipe", checked)
