"""`deckgen draft`: a Markdown text in, a source that checks, builds and reaches real Anki."""

from __future__ import annotations

import os
import re
import shutil
import stat
from pathlib import Path

from click.testing import CliRunner

from generator.build.pipeline import build

from .ankitools import import_package, open_collection, rendered_cards
from .support import BUILD_TIME, ESSAY_HEADINGS, ROOT

ESSAY = ROOT / "tests" / "sources" / "essay.md"


def run(*args: str):
    from generator.cli import main

    return CliRunner().invoke(main, list(args))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_the_essay_drafts_into_a_source_that_checks_builds_and_shows_every_heading(tmp_path):
    folder = tmp_path / "drafted"
    result = run("draft", str(ESSAY), "--out", str(folder))
    assert result.exit_code == 0, result.output
    assert run("check", "--source", str(folder)).exit_code == 0
    report = build(str(folder), str(tmp_path / "out"), timestamp=BUILD_TIME)
    col = open_collection(tmp_path / "col")
    try:
        for package in report.files:
            import_package(col, Path(package.path))
        cards = rendered_cards(col)
        assert list(col.get_empty_cards().notes) == []
    finally:
        col.close()
    # one card per key term the draft marked: every item's explanation has one
    marks = sum(
        line.count("{{") for path in folder.glob("*.yaml") for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    )
    assert len(cards) == report.cards == marks
    seen = " \n ".join(f"{c.question_text} \n {c.answer_text}" for c in cards)
    assert [heading for heading in ESSAY_HEADINGS if heading not in seen] == []
    assert "What Integrated Wisdom Looks Like" in seen  # the one heading the bundled source has no card for


def test_drafting_twice_gives_the_same_bytes(tmp_path):
    assert run("draft", str(ESSAY), "--out", str(tmp_path / "a")).exit_code == 0
    assert run("draft", str(ESSAY), "--out", str(tmp_path / "b")).exit_code == 0
    assert snapshot(tmp_path / "a") == snapshot(tmp_path / "b")


def test_ids_survive_reordered_sections_and_every_item_names_its_line(tmp_path):
    text = ESSAY.read_text(encoding="utf-8")
    run("draft", str(ESSAY), "--out", str(tmp_path / "a"))
    # swap two sections of the essay
    first = text.index("### 1. Personal Freedom and Autonomy")
    second = text.index("### 2. Innovation and Creativity")
    third = text.index("### 3. Meritocracy")
    swapped = text[:first] + text[second:third] + text[first:second] + text[third:]
    moved = tmp_path / "moved.md"
    moved.write_text(swapped, encoding="utf-8")
    run("draft", str(moved), "--out", str(tmp_path / "b"))

    def ids(folder: Path) -> set[str]:
        return {m for p in folder.glob("*.yaml") for m in re.findall(r"^  - id: (\S+)$", p.read_text(encoding="utf-8"), re.M)}

    assert ids(tmp_path / "a") == ids(tmp_path / "b") and len(ids(tmp_path / "a")) > 40
    lines = ESSAY.read_text(encoding="utf-8").splitlines()
    for path in (tmp_path / "a").glob("[0-9]*.yaml"):
        text = path.read_text(encoding="utf-8")
        for line, item_title in re.findall(r"# from essay\.md:(\d+)\n.*\n  - id: \S+\n    title: \"(.*)\"", text):
            assert item_title.split(": ")[-1] in lines[int(line) - 1], (path.name, line, item_title)


def test_draft_never_overwrites_a_folder(tmp_path):
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine", encoding="utf-8")
    result = run("draft", str(ESSAY), "--out", str(folder))
    assert result.exit_code == 1 and "already exists and is not an empty folder" in result.output
    assert snapshot(folder) == {"notes.txt": b"mine"}
    assert [p.name for p in tmp_path.iterdir()] == ["course"]  # no staging folder left behind


def test_the_perspectives_are_left_for_the_author(tmp_path):
    shutil.copy(ESSAY, tmp_path / "essay.md")
    assert run("draft", str(tmp_path / "essay.md")).exit_code == 0
    config = (tmp_path / "essay_source" / "deckgen.yaml").read_text(encoding="utf-8")
    assert "DECIDE" in config and "first: First perspective" in config
    assert all("perspective: " not in line for line in config.splitlines() if not line.startswith("#"))


def test_a_drafted_folder_has_the_permissions_of_any_new_folder(tmp_path):
    """The draft is staged in a private temporary folder; the folder it becomes is not private (a trial's finding)."""
    previous = os.umask(0o022)
    try:
        result = run("draft", str(ESSAY), "--out", str(tmp_path / "drafted"))
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(os.stat(tmp_path / "drafted").st_mode) == 0o755
