"""The per-topic pipeline: the same bytes as the whole-source pipeline it replaced, serial or parallel."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from generator.pipeline import topics
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import build
from generator.source.loader import load_source

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
    real_pool = topics.fork_pool

    def counted_pool(jobs: int) -> Any:
        pools.append(jobs)
        return real_pool(jobs)

    monkeypatch.setattr(topics, "fork_pool", counted_pool)
    monkeypatch.setattr(topics, "PARALLEL_MIN_ITEMS", 0)  # the bundled source is small: fork anyway
    out = tmp_path / "out"
    report = build(BuildConfig(str(golden_source), str(out), timestamp=GOLDEN_TIME, jobs=jobs))
    assert pools == ([] if jobs == 1 else [2])
    # the fixture's two edits arrived; 18 more: backs show their topic's context, and no bold key term
    assert (report.total("updated"), report.total("removed")) == (1 + 18, 1)
    expected = json.loads((GOLDEN / "sha256.json").read_text(encoding="utf-8"))
    assert _digests(out, golden_source / "deckgen.lock") == expected


def test_an_edit_rebuilds_its_topic_alone_with_the_bytes_of_a_full_build(
    golden_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build(BuildConfig(str(golden_source), str(out), timestamp=GOLDEN_TIME, jobs=1))
    edited = golden_source / "03-limitations.yaml"
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("creates significant problems", "creates real problems"), encoding="utf-8")
    untouched = {p.name: p.stat().st_ino for p in out.glob("*.apkg") if p.name != "limitations.apkg"}
    lock_before = (golden_source / "deckgen.lock").read_bytes()
    built: list[str] = []
    real = topics._build_one
    monkeypatch.setattr(topics, "_build_one", lambda context, name, **kw: built.append(name) or real(context, name, **kw))

    report = build(BuildConfig(str(golden_source), str(out), timestamp=GOLDEN_TIME + 60, jobs=1))

    assert built == ["limitations"]
    assert {p.name: p.stat().st_ino for p in out.glob("*.apkg") if p.name != "limitations.apkg"} == untouched
    (limitations,) = [f for f in report.files if f.path == str(out / "limitations.apkg")]
    assert (limitations.changes.updated, limitations.changes.added, report.total("updated")) == (1, 0, 1)
    # The same source and lock built from nothing: the same bytes everywhere.
    fresh_source = tmp_path / "fresh"
    shutil.copytree(golden_source, fresh_source)
    (fresh_source / "deckgen.lock").write_bytes(lock_before)
    monkeypatch.setattr(topics, "_build_one", real)
    build(BuildConfig(str(fresh_source), str(tmp_path / "fresh-out"), timestamp=GOLDEN_TIME + 60, jobs=1))
    assert _digests(out, golden_source / "deckgen.lock") == _digests(tmp_path / "fresh-out", fresh_source / "deckgen.lock")


def test_an_edit_after_a_release_rebuilds_its_topic_alone(
    golden_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A release writes every live note released: the topics it reused or made are read that way by the next
    build, which reuses them while their files stay as they are."""
    out = tmp_path / "out"
    (golden_source / "deckgen.lock").unlink()  # every note new: in no release yet
    build(BuildConfig(str(golden_source), str(out), timestamp=GOLDEN_TIME, jobs=1))
    edited = golden_source / "04-lessons.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("Lessons", "Lessons learned", 1), encoding="utf-8")
    build(BuildConfig(str(golden_source), str(out), timestamp=GOLDEN_TIME + 30, jobs=1, release=True))
    edited = golden_source / "03-limitations.yaml"
    text = edited.read_text(encoding="utf-8")
    edited.write_text(text.replace("creates significant problems", "creates real problems"), encoding="utf-8")
    built: list[str] = []
    real = topics._build_one
    monkeypatch.setattr(topics, "_build_one", lambda context, name, **kw: built.append(name) or real(context, name, **kw))
    build(BuildConfig(str(golden_source), str(out), timestamp=GOLDEN_TIME + 60, jobs=1))
    assert built == ["limitations"]


def test_a_copied_source_folder_still_reuses_its_unchanged_topics(
    golden_source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    first = build(BuildConfig(str(golden_source), str(out), timestamp=GOLDEN_TIME, jobs=1))
    moved = tmp_path / "moved"
    shutil.copytree(golden_source, moved)
    (moved / "07-bottom-line.yaml").write_text(
        (moved / "07-bottom-line.yaml").read_text(encoding="utf-8") + "# a comment\n", encoding="utf-8"
    )
    built: list[str] = []
    real = topics._build_one
    monkeypatch.setattr(topics, "_build_one", lambda context, name, **kw: built.append(name) or real(context, name, **kw))
    again = build(BuildConfig(str(moved), str(out), timestamp=GOLDEN_TIME + 60, jobs=1))
    # Except those whose warnings' text names a file of the first folder ("another card's front (…:48, …)"):
    # only a warning's place can be moved, so they are made again, naming the files where they are now.
    naming = {Path(w.file).name for w in first.warnings if f"{golden_source}/" in w.message}
    topic_files = {Path(t.file).name: t.id for t in load_source(str(moved)).topics}
    assert naming and set(built) == {"bottom-line"} | {topic_files[name] for name in naming}
    assert not any(f"{golden_source}/" in w.message for w in again.warnings)


def test_an_item_back_in_another_topic_is_no_longer_re_emitted_as_removed(tmp_path: Path) -> None:
    """The removed note's topic is rebuilt when another topic makes the note again (a review's finding)."""
    from generator.authoring.starter import write_starter

    source, out = tmp_path / "src", tmp_path / "out"
    write_starter(str(source), "Ways of Working")
    lessons, basics = source / "02-lessons.yaml", source / "01-basics.yaml"
    text = lessons.read_text(encoding="utf-8")
    start = text.index("  - id: deliberate-days")
    item = text[start:]
    build(BuildConfig(str(source), str(out), timestamp=GOLDEN_TIME, jobs=1, release=True))
    lessons.write_text(text.replace("items:\n" + item, ""), encoding="utf-8")  # its only item
    assert build(BuildConfig(str(source), str(out), timestamp=GOLDEN_TIME + 60, jobs=1)).total("removed") == 1
    lock_before = (source / "deckgen.lock").read_bytes()
    basics.write_text(basics.read_text(encoding="utf-8") + item, encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=GOLDEN_TIME + 120, jobs=1))
    fresh = tmp_path / "fresh"
    shutil.copytree(source, fresh)
    (fresh / "deckgen.lock").write_bytes(lock_before)
    build(BuildConfig(str(fresh), str(tmp_path / "fresh-out"), timestamp=GOLDEN_TIME + 120, jobs=1))
    assert _digests(out, source / "deckgen.lock") == _digests(tmp_path / "fresh-out", fresh / "deckgen.lock")
