from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from generator.build.pipeline import BuildReport, build

ROOT = Path(__file__).resolve().parent.parent
BUNDLED_SOURCE = ROOT / "cards_source"
BUILD_TIME = 1_700_000_000


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


DRINKS_CONFIG = """\
id: drinks
title: Tea and Coffee
deck: Drinks
perspectives:
  tea: Tea
  coffee: Coffee
"""


def write_source(folder: Path, topic: str, config: str = DRINKS_CONFIG, extra: dict[str, str] | None = None) -> Path:
    """A small source folder: *config* as deckgen.yaml, *topic* as basics.yaml, and *extra* files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "deckgen.yaml").write_text(config, encoding="utf-8")
    (folder / "basics.yaml").write_text(topic, encoding="utf-8")
    for name, text in (extra or {}).items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder
