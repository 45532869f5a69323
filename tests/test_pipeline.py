"""The per-topic pipeline: the same bytes as the whole-source pipeline it replaced, serial or parallel."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.build import topics
from generator.build.pipeline import build

GOLDEN = Path(__file__).parent / "fixtures" / "pipeline-golden"
GOLDEN_TIME = 1_796_000_000  # the SOURCE_DATE_EPOCH the golden packages were built with


def _digests(out: Path, lock: Path) -> dict[str, str]:
    found = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.glob("*.apkg"))}
    found["deckgen.lock"] = hashlib.sha256(lock.read_bytes()).hexdigest()
    return found


@pytest.fixture
def golden_source(tmp_path: Path) -> Path:
    source = tmp_path / "source"
    shutil.copytree(GOLDEN / "source", source)
    return source


@pytest.mark.parametrize("jobs", [1, 2])
def test_the_bytes_of_the_whole_source_pipeline(
    golden_source: Path, tmp_path: Path, jobs: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    pools: list[int] = []

    class CountedPool(topics.ProcessPoolExecutor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            pools.append(kwargs["max_workers"])
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(topics, "ProcessPoolExecutor", CountedPool)
    monkeypatch.setattr(topics, "PARALLEL_MIN_ITEMS", 0)  # the bundled source is small: fork anyway
    out = tmp_path / "out"
    report = build(str(golden_source), str(out), timestamp=GOLDEN_TIME, jobs=jobs)
    assert pools == ([] if jobs == 1 else [2])
    assert (report.total("updated"), report.total("removed")) == (1, 1)  # the fixture's two edits arrived
    expected = json.loads((GOLDEN / "sha256.json").read_text(encoding="utf-8"))
    assert _digests(out, golden_source / "deckgen.lock") == expected
