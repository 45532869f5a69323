"""Fixtures shared by the test modules; shared constants and helpers live in support.py."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.build.pipeline import BuildReport, build

# Re-exported for test modules that still import them from here; new code imports from .support.
from .support import BUILD_TIME, BUNDLED_SOURCE, DRINKS_CONFIG, ROOT, write_source

__all__ = ["BUILD_TIME", "BUNDLED_SOURCE", "DRINKS_CONFIG", "ROOT", "write_source"]


@pytest.fixture(scope="session")
def bundled_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, BuildReport]:
    """The bundled content built once for the whole session (read-only for tests)."""
    out = tmp_path_factory.mktemp("decks")
    source = tmp_path_factory.mktemp("source") / "cards_source"
    shutil.copytree(BUNDLED_SOURCE, source, ignore=shutil.ignore_patterns("*.lock"))
    return out, build(str(source), str(out), timestamp=BUILD_TIME)


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """A private copy of the bundled sources that a test may edit."""
    target = tmp_path / "source"
    shutil.copytree(BUNDLED_SOURCE, target, ignore=shutil.ignore_patterns("*.lock"))
    return target
