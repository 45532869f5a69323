"""The per-topic pipeline: the same bytes as the whole-source pipeline it replaced, serial or parallel."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest

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
def test_the_bytes_of_the_whole_source_pipeline(golden_source: Path, tmp_path: Path, jobs: int) -> None:
    out = tmp_path / "out"
    report = build(str(golden_source), str(out), timestamp=GOLDEN_TIME, jobs=jobs)
    assert (report.total("updated"), report.total("removed")) == (1, 1)  # the fixture's two edits arrived
    expected = json.loads((GOLDEN / "sha256.json").read_text(encoding="utf-8"))
    assert _digests(out, golden_source / "deckgen.lock") == expected
