"""`deckgen watch`: a rebuild per save, the served page with live reload, in headless Chromium too.

Every wait polls for a condition with a generous deadline (a loaded 2-core
machine may take seconds); no fixed sleep decides a result.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from generator.authoring import watch as watching
from generator.authoring.watch import Console, LivePage, Rebuilt, rebuild, serving, source_filter
from generator.cli import main
from generator.errors import ContentError, DeckgenError
from generator.pipeline.config import BuildConfig
from generator.pipeline.lock.model import REMOVED_RETENTION_SECONDS
from generator.pipeline.lock.times import Changes
from generator.pipeline.pipeline import build, check_cards
from generator.views.preview import write_preview

from .ankitools import import_package, open_collection
from .support import MORE, ROOT, T1, T2, V1, chromium, lock_written_at, write_source

DEADLINE = 60.0
"""Seconds any wait may take before a test fails: generous, as the waits poll."""

EDITED = V1.replace("Tea comes from {{China}}.", "Tea was first grown in {{China}}.")
BROKEN = V1.replace("Tea comes from {{China}}.", "Tea comes from {{China.")


def wait_for(condition: Callable[[], object], what: str, timeout: float = DEADLINE) -> object:
    """Poll *condition* until it is true; return its value (fail after *timeout* seconds)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)


def snapshot(*folders: Path, files: tuple[Path, ...] = ()) -> dict[str, bytes]:
    """The bytes of every file in *folders* and of *files*.

    A commit's own short-lived files (staged, old versions, its journal, the folder's lock) are
    left out: a build that writes the same bytes again makes them for a moment.
    """
    found = [p for folder in folders for p in folder.iterdir() if not _transient(p.name) and p.is_file()]
    return {str(path): path.read_bytes() for path in found + list(files)}


def _transient(name: str) -> bool:
    return name.startswith(".deckgen-") and (
        name.endswith((".tmp", ".old")) or name in (".deckgen-journal.json", ".deckgen-writing")
    )


def problem_lines(source: Path) -> list[str]:
    """The problems of *source* as `deckgen check` prints them."""
    with pytest.raises(ContentError) as error:
        check_cards(str(source))
    return [str(problem) for problem in error.value.problems]


# --- one rebuild ----------------------------------------------------------------------


def test_a_good_save_builds_the_decks_and_the_same_page_preview_writes(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    first = rebuild(str(source), str(out))
    assert first.problems == () and first.report is not None and "Tea comes from" in (first.page or "")
    assert (out / "basics.apkg").is_file() and not (source / "deckgen.lock").exists()  # a look is no release
    (source / "basics.yaml").write_text(EDITED, encoding="utf-8")
    second = rebuild(str(source), str(out))
    # Against the lock (none: nothing was released), every note is still one a build would add.
    assert second.report is not None and second.report.total("added") == second.report.notes
    assert "Tea was first grown in" in (second.page or "") and "Tea comes from" not in (second.page or "")
    write_preview(str(source), str(tmp_path / "preview.html"))
    # The file on disk is the plain page `deckgen preview` writes: no live-reload script in it.
    assert (out / "preview.html").read_bytes() == (tmp_path / "preview.html").read_bytes()
    assert watching.VERSION_PATH not in (out / "preview.html").read_text(encoding="utf-8")


def test_a_watch_makes_again_only_the_topics_a_save_changed_and_shows_the_page_preview_writes(tmp_path, monkeypatch):
    """The preview's notes and cards of a topic made of the same bytes as before are the last preview's."""
    from generator.views import preview

    source, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(ROOT / "cards_source", source)
    made: list[str] = []
    real_notes = preview.studied_notes
    monkeypatch.setattr(preview, "studied_notes", lambda src, topic: made.append(topic.id) or real_notes(src, topic))
    shown = preview.ShownTopics()

    def rebuilt_after(change: Callable[[], object]) -> list[str]:
        """The topics whose notes the preview made after *change*; its page is the one `deckgen preview` writes."""
        change()
        made.clear()
        page = rebuild(str(source), str(out), shown).page
        assert page is not None
        assert page == _plain_page(source, tmp_path)
        return sorted(set(made))

    def edit(name: str, old: str, new: str) -> Callable[[], object]:
        path = source / name
        return lambda: path.write_text(_replaced(path.read_text(encoding="utf-8"), old, new), encoding="utf-8")

    topics = [re.findall(r"^topic: (\S+)$", p.read_text(encoding="utf-8"), re.M)[0] for p in source.glob("0*.yaml")]
    assert rebuilt_after(lambda: None) == sorted(topics)  # the first preview makes every topic
    assert rebuilt_after(lambda: None) == []  # nothing saved: nothing made again
    assert rebuilt_after(edit("01-foundations.yaml", "fundamentally", "deeply")) == ["foundations"]
    # An edited topic is not made again at the next save elsewhere (its build, against a lock the
    # watch never writes, is timed anew each time; its notes are not).
    assert rebuilt_after(edit("00-introduction.yaml", "Imagine two children", "Picture two children")) == [
        "introduction"
    ]
    # A retitled section that a comparison of another topic quotes (its `from:`): both.
    retitled = edit("02-strengths.yaml", "title: Direct Communication", "title: Plain Speaking")
    assert rebuilt_after(retitled) == ["mirrors", "strengths"]
    # The settings every note reads: all of them.
    assert rebuilt_after(edit("deckgen.yaml", "deck: Individualism vs Collectivism", "deck: IvC")) == sorted(topics)
    assert "IvC" in (out / "preview.html").read_text(encoding="utf-8")
    # A topic gone: its cards with it, and the one numbered after it is numbered anew (`deck_order: numbered`).
    assert rebuilt_after((source / "07-practice.yaml").unlink) == ["bottom-line"]


def topics_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the topics the builds from now on make (not reuse), in order: a list the caller clears."""
    from generator.pipeline import topics

    made: list[str] = []
    real_notes = topics.studied_notes
    monkeypatch.setattr(topics, "studied_notes", lambda src, topic: made.append(topic.id) or real_notes(src, topic))
    return made


def test_a_topic_a_watch_made_is_not_made_again_at_a_later_save_elsewhere(tmp_path, monkeypatch):
    """A watch leaves the lock as it was, so an edited topic's notes carry the watch's time, which no lock holds:
    its package is reused at a later save as long as nothing it is made of changed, whenever that save is.
    A build that writes the lock makes it again, timed by its own clock."""
    source, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(ROOT / "cards_source", source)
    made = topics_made(monkeypatch)
    start = lock_written_at(source / "deckgen.lock") + 86_400

    def built(at: int, change: Callable[[], object] = lambda: None, *, watch: bool = True) -> dict[str, Changes]:
        change()
        made.clear()
        report = build(BuildConfig(str(source), str(out), timestamp=at, jobs=1, write_lock=not watch))
        assert report.files
        return {Path(deck.path).stem: deck.changes for deck in report.files}

    def edit(name: str, old: str, new: str) -> Callable[[], object]:
        return lambda: _edited(source / name, old, new)

    built(start, watch=False)
    first = built(start + 10, edit("01-foundations.yaml", "fundamentally", "deeply"))
    assert made == ["foundations"] and first["foundations"].updated == 1
    package = (out / "foundations.apkg").read_bytes()
    later = built(start + 20, edit("00-introduction.yaml", "Imagine two children", "Picture two children"))
    assert made == ["introduction"]  # not foundations again, a save and ten seconds later
    assert later["foundations"] == first["foundations"]  # what importing its package does, as the save before said
    assert (out / "foundations.apkg").read_bytes() == package
    built(start + 30, watch=False)
    assert sorted(made) == ["foundations", "introduction"]  # the lock now holds their notes, at this build's time
    lock = json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))["notes"]
    assert sorted(note["topic"] for note in lock.values() if note["mod"] == start + 30) == ["foundations", "introduction"]


def test_a_watch_before_any_lock_makes_again_only_the_topic_a_save_changed_and_anki_takes_each_save(
    tmp_path, monkeypatch
):
    """A new source watched before any build wrote its lock: the lock times no note type, so each save gives them
    the time the first save gave them (this very code's), not its own clock's, which would change every package.
    A save makes again only the topic it changed, whenever it is; Anki takes the packages of the last save into
    the collection the first save's went into: the edited notes updated, no other, no note type copied."""
    source, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(ROOT / "cards_source", source)
    (source / "deckgen.lock").unlink()
    made = topics_made(monkeypatch)

    def saved(at: int, name: str = "", old: str = "", new: str = "") -> dict[Path, int]:
        """The packages of a save (its notes, by path) after *name*'s *old* text is replaced by *new*."""
        if name:
            _edited(source / name, old, new)
        made.clear()
        report = build(BuildConfig(str(source), str(out), timestamp=at, jobs=1, write_lock=False))
        return {Path(deck.path): deck.notes for deck in report.files}

    col = open_collection(tmp_path / "anki")
    try:
        first = saved(T2)
        assert len(made) == len(first) > 2
        for package in first:
            import_package(col, package)
        notes = col.note_count()
        saved(T2 + 10, "01-foundations.yaml", "fundamentally", "deeply")
        assert made == ["foundations"]
        last = saved(T2 + 20, "00-introduction.yaml", "Imagine two children", "Picture two children")
        assert made == ["introduction"]  # not foundations again, nor any other: a save and ten seconds later
        assert not (source / "deckgen.lock").exists()
        updated = {entry.id.nid for package in last for entry in import_package(col, package).updated}
        edited = set(col.find_notes('"*deeply defined*" or "*Picture two children*"'))
        assert len(edited) >= 2 and edited <= updated
        # A topic made again with no lock cannot tell which of its notes changed: each has the save's time.
        assert len(updated) == sum(count for path, count in last.items() if path.stem in ("foundations", "introduction"))
        assert col.note_count() == notes and not any(m["name"].endswith("+") for m in col.models.all())
    finally:
        col.close()


@pytest.mark.parametrize("same_code", [True, False])
def test_a_watch_gives_a_note_type_the_lock_times_otherwise_the_first_saves_time_and_a_build_its_own(
    tmp_path, monkeypatch, same_code
):
    """A note type that looks otherwise than the lock's (a field renamed): every save gives it the time the first
    save did, newer than the lock's, so the save after reuses the topics it did not change; a build that writes
    the lock gives it that build's own time.  A save by another deckgen (whose note types may look otherwise
    again) gives it its own time."""
    from generator.anki import notetypes
    from generator.pipeline import pipeline

    source, out = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE}), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=1))
    monkeypatch.setitem(notetypes.RENAMED_FIELDS["cloze"], "Extra", "Notes")
    made = topics_made(monkeypatch)
    for at, milk in ((T2, "{{lemon}}"), (T2 + 10, "{{honey}}")):
        _edited(source / "more.yaml", "{{milk}}" if at == T2 else "{{lemon}}", milk)
        if at > T2 and not same_code:
            monkeypatch.setattr(pipeline, "code_digest", lambda: "another deckgen's")
        made.clear()
        build(BuildConfig(str(source), str(out), timestamp=at, jobs=1, write_lock=False))
    # basics as the first save made it, with the note type's time of then; or anew, by another deckgen
    assert made == (["more"] if same_code else ["basics", "more"])
    build(BuildConfig(str(source), str(out), timestamp=T2 + 20, jobs=1))
    locked = json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))["note_types"]["cloze"]
    assert (locked["mod"], "Notes" in locked["fields"]) == (T2 + 20, True)


@pytest.mark.parametrize("kept", [T2 + 5, T2 + 100_000])
def test_a_watch_takes_no_note_type_time_to_come_from_its_cache(tmp_path, kept):
    """A time the cache holds for a note type but no save gave (a hand edit: later than the save's own) is not
    taken: imported, it would keep every later look of the type out of Anki."""
    source, out = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE}), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T2, jobs=1, write_lock=False))  # no lock yet
    cache = json.loads((out / ".deckgen-cache.json").read_text(encoding="utf-8"))
    assert cache["type_times"] == {"cloze": T2, "comparison": T2}
    cache["type_times"]["cloze"] = kept
    (out / ".deckgen-cache.json").write_text(json.dumps(cache), encoding="utf-8")
    _edited(source / "more.yaml", "{{milk}}", "{{lemon}}")
    build(BuildConfig(str(source), str(out), timestamp=T2 + 10, jobs=1, write_lock=False))
    written = json.loads((out / ".deckgen-cache.json").read_text(encoding="utf-8"))["type_times"]
    assert written == {"cloze": kept if kept <= T2 + 10 else T2 + 10, "comparison": T2}


def test_a_watch_trusts_the_lock_it_read_and_a_build_that_writes_it_is_never_skipped_for_a_watchs(
    tmp_path, monkeypatch
):
    """The lock a watch's build read and left in place is trusted by the next build (not checked again), and a
    save that changed nothing rebuilds nothing; but a build that writes the lock after it writes the notes the
    watch timed."""
    from generator.pipeline.lock import read
    from generator.source import loader

    source, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(ROOT / "cards_source", source)
    checked, loaded = [], []
    real_checked, real_load = read._checked, loader.load_source
    monkeypatch.setattr(read, "_checked", lambda path, data: checked.append(path) or real_checked(path, data))
    monkeypatch.setattr(loader, "load_source", lambda *args: loaded.append(args) or real_load(*args))
    start = lock_written_at(source / "deckgen.lock") + 86_400
    def built(at: int, *, watch: bool = True) -> dict[str, Changes]:
        checked.clear()
        loaded.clear()
        report = build(BuildConfig(str(source), str(out), timestamp=at, jobs=1, write_lock=not watch))
        return {Path(deck.path).stem: deck.changes for deck in report.files}

    built(start, watch=False)  # a build that wrote the lock
    _edited(source / "01-foundations.yaml", "fundamentally", "deeply")
    saved = built(start + 10)
    assert checked == [] and loaded  # the lock the first build left, unchanged
    assert built(start + 20) == saved and saved["foundations"].updated == 1  # what importing each package does
    assert checked == [] and loaded == []  # nothing saved since: the last report stands
    lock = (source / "deckgen.lock").read_bytes()
    built(start + 30, watch=False)
    assert checked == [] and loaded
    assert (source / "deckgen.lock").read_bytes() != lock
    notes = json.loads((source / "deckgen.lock").read_text(encoding="utf-8"))["notes"].values()
    assert [note["topic"] for note in notes if note["mod"] == start + 30] == ["foundations"]


def _label_moved_last(lock: Path, topic: str) -> None:
    """The first line of a note of *topic* in the lock with its label moved to the end: the same JSON, laid out as
    no deckgen writes it."""
    lines = lock.read_text(encoding="utf-8").split("\n")
    at = next(i for i, line in enumerate(lines) if f'"topic": "{topic}"' in line)
    label = re.search(r'"label": "(?:[^"\\]|\\.)*", ', lines[at])
    assert label is not None
    entry, end = lines[at].replace(label.group(0), "").rsplit("}", 1)
    moved = f"{entry}, {label.group(0)[:-2]}}}{end}"
    assert json.loads("{" + moved.rstrip(",") + "}") == json.loads("{" + lines[at].rstrip(",") + "}")
    lines[at] = moved
    lock.write_text("\n".join(lines), encoding="utf-8")


def _edited(path: Path, old: str, new: str) -> None:
    path.write_text(_replaced(path.read_text(encoding="utf-8"), old, new), encoding="utf-8")


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda src: _label_moved_last(src / "deckgen.lock", "basics"), id="a lock laid out by hand"),
        pytest.param(lambda src: _edited(src / "basics.yaml", V1[V1.index("  - id: storage") :].split("comparisons:")[0],
                                         ""), id="a note removed"),
        pytest.param(lambda src: _edited(src / "basics.yaml", "name: Basics", "name: Basic drinks"), id="a deck renamed"),
    ],
)
def test_a_build_after_watch_saves_writes_what_a_build_into_a_fresh_folder_writes(tmp_path, change):
    """Whatever a watch's saves made and kept, the build that writes the lock after them writes the same lock and
    packages as the same build from nothing, with the same source and lock."""
    source, out = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE}), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=1, release=True))  # a removed note leaves a tombstone
    change(source)
    build(BuildConfig(str(source), str(out), timestamp=T1 + 10, jobs=1, write_lock=False))
    _edited(source / "more.yaml", "{{milk}}", "{{lemon}}")  # a save elsewhere
    build(BuildConfig(str(source), str(out), timestamp=T1 + 20, jobs=1, write_lock=False))
    before = {path.name: path.read_bytes() for path in source.iterdir()}
    builds = []
    for folder in (out, tmp_path / "fresh"):
        for name, data in before.items():
            (source / name).write_bytes(data)
        report = build(BuildConfig(str(source), str(folder), timestamp=T1 + 30, jobs=1))
        packages = {Path(deck.path).name: (Path(deck.path).read_bytes(), deck.changes) for deck in report.files}
        builds.append((packages, (source / "deckgen.lock").read_bytes()))
    assert builds[0] == builds[1]


def test_a_watch_save_after_the_lock_is_deleted_reports_what_a_save_into_a_fresh_folder_reports(tmp_path):
    """A save that changed no source file but whose lock is gone (or another) is no save of nothing."""
    source, out = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE}), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=1))
    _label_moved_last(source / "deckgen.lock", "basics")  # checked, not trusted, by the save
    build(BuildConfig(str(source), str(out), timestamp=T1 + 10, jobs=1, write_lock=False))
    (source / "deckgen.lock").unlink()
    reports = [
        build(BuildConfig(str(source), str(folder), timestamp=T1 + 20, jobs=1, write_lock=False)).files
        for folder in (out, tmp_path / "fresh")
    ]
    saved, fresh = ({Path(deck.path).name: deck.changes for deck in report} for report in reports)
    assert saved == fresh and all(changes.added > 0 for changes in saved.values())


_MOVED = '  - id: moved\n    title: Moved\n    explanation: "It is {{a moved item}}."\n'
_STAYS = 'topic: a\nname: A\nitems:\n  - id: a1\n    title: A1\n    explanation: "A one is {{alpha}}."\n'
_OTHER = 'topic: b\nname: B\nitems:\n  - id: b1\n    title: B1\n    explanation: "B one is {{beta}}."\n'


def _moved_then_older_lock(tmp_path: Path, steps: Callable[[Path, Path], None]) -> tuple[dict, dict]:
    """A source of topics a and b, built; *steps* (source, out) move an item between them; then a watch save, the
    lock put back as the first build wrote it, and the next save, in place and into an empty folder: each one's
    package by name, with its changes and bytes."""
    source, out = write_source(tmp_path / "src", _STAYS, extra={"b.yaml": _OTHER}), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=1, release=True))
    older = (source / "deckgen.lock").read_bytes()  # before the item was written
    steps(source, out)
    build(BuildConfig(str(source), str(out), timestamp=T1 + 30, jobs=1, write_lock=False))
    (source / "deckgen.lock").write_bytes(older)
    reports = [
        build(BuildConfig(str(source), str(folder), timestamp=T1 + 40, jobs=1, write_lock=False)).files
        for folder in (out, tmp_path / "fresh")
    ]
    saved, fresh = ({Path(deck.path).name: (deck.changes, Path(deck.path).read_bytes()) for deck in r} for r in reports)
    return saved, fresh


def test_a_watch_save_reads_the_lock_entry_of_a_note_moved_into_its_topic(tmp_path):
    """An item moved to another topic keeps its lock entry under the topic it left until a build writes the lock:
    the topic it moved to reads that entry, so an older lock put back is no save of nothing there."""

    def moved(source: Path, out: Path) -> None:
        (source / "basics.yaml").write_text(_STAYS + _MOVED, encoding="utf-8")
        build(BuildConfig(str(source), str(out), timestamp=T1 + 10, jobs=1))
        (source / "basics.yaml").write_text(_STAYS, encoding="utf-8")
        (source / "b.yaml").write_text(_OTHER + _MOVED, encoding="utf-8")  # its entry stays under a

    saved, fresh = _moved_then_older_lock(tmp_path, moved)
    assert saved == fresh and saved["b.apkg"][0] == Changes(added=1, updated=0, unchanged=1, removed=0)


def test_a_watch_save_reads_the_tombstone_of_a_note_brought_back_in_another_topic(tmp_path):
    """A released note removed from one topic keeps its tombstone there; brought back in another topic, it is made
    against that tombstone until a build writes the lock, so an older lock put back is no save of nothing there."""

    def brought_back(source: Path, out: Path) -> None:
        (source / "basics.yaml").write_text(_STAYS + _MOVED, encoding="utf-8")
        build(BuildConfig(str(source), str(out), timestamp=T1 + 10, jobs=1, release=True))
        (source / "basics.yaml").write_text(_STAYS, encoding="utf-8")
        build(BuildConfig(str(source), str(out), timestamp=T1 + 20, jobs=1))  # its tombstone, under a
        (source / "b.yaml").write_text(_OTHER + _MOVED.replace("It is", "It is surely"), encoding="utf-8")

    saved, fresh = _moved_then_older_lock(tmp_path, brought_back)
    assert saved == fresh and saved["b.apkg"][0] == Changes(added=1, updated=0, unchanged=1, removed=0)


def test_a_watch_save_removes_a_note_that_moved_away_once_no_topic_makes_it(tmp_path):
    """A released note whose item moved to another topic is left out of the topic it left while the other makes
    it; when the other stops making it (its cloze changed), the topic it left marks it removed at the next save."""
    source, out = write_source(tmp_path / "src", _STAYS + _MOVED, extra={"b.yaml": _OTHER}), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=1, release=True))
    (source / "basics.yaml").write_text(_STAYS, encoding="utf-8")
    (source / "b.yaml").write_text(_OTHER + _MOVED, encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T1 + 10, jobs=1, write_lock=False))
    (source / "b.yaml").write_text(_OTHER + _MOVED.replace("{{a moved item}}", "{{another cloze}}"), encoding="utf-8")
    reports = [
        build(BuildConfig(str(source), str(folder), timestamp=T1 + 20, jobs=1, write_lock=False)).files
        for folder in (out, tmp_path / "fresh")
    ]
    saved, fresh = ({Path(deck.path).name: deck.changes for deck in r} for r in reports)
    assert saved == fresh and saved["a.apkg"].removed == 1


def _removed_then_expired(tmp_path: Path) -> tuple[Path, Path, bytes, int]:
    """Topics a and b, built as a release; a note released, then removed from a (its tombstone there); the
    source, the out folder, the lock from before the note was written, and a time past the tombstone's retention."""
    source, out = write_source(tmp_path / "src", _STAYS, extra={"b.yaml": _OTHER}), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=1, release=True))
    older = (source / "deckgen.lock").read_bytes()
    (source / "basics.yaml").write_text(_STAYS + _MOVED, encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T1 + 10, jobs=1, release=True))
    (source / "basics.yaml").write_text(_STAYS, encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T1 + 20, jobs=1))
    return source, out, older, T1 + 20 + REMOVED_RETENTION_SECONDS + 100


@pytest.mark.parametrize(("back_in", "package"), [("basics.yaml", "a.apkg"), ("b.yaml", "b.apkg")])
def test_a_watch_save_reads_the_tombstone_past_its_retention_a_note_brought_back_is_made_against(
    tmp_path, back_in, package
):
    """A tombstone past its retention stays in the lock until a build writes it, and a note brought back (in its
    topic or another) is made against it ("updated"): an older lock put back without it is no save of nothing."""
    source, out, older, later = _removed_then_expired(tmp_path)
    home = _STAYS if back_in == "basics.yaml" else _OTHER
    (source / back_in).write_text(home + _MOVED.replace("It is", "It is surely"), encoding="utf-8")
    first = build(BuildConfig(str(source), str(out), timestamp=later, jobs=1, write_lock=False)).files
    assert {Path(deck.path).name: deck.changes.updated for deck in first}[package] == 1
    (source / "deckgen.lock").write_bytes(older)
    reports = [
        build(BuildConfig(str(source), str(folder), timestamp=later + 10, jobs=1, write_lock=False)).files
        for folder in (out, tmp_path / "fresh")
    ]
    saved, fresh = ({Path(deck.path).name: (deck.changes, Path(deck.path).read_bytes()) for deck in r} for r in reports)
    assert saved == fresh and saved[package][0].added == 1


def test_a_topic_whose_tombstone_expired_is_reused_and_so_is_it_after_the_build_that_drops_it(tmp_path, monkeypatch):
    """A tombstone past its retention is dropped by the next build that writes the lock: that build reuses its
    topic (nothing it is made of changed) and fingerprints the lines it writes, so the build after reuses it too."""
    source, out, _, later = _removed_then_expired(tmp_path)
    made = topics_made(monkeypatch)
    for at in (later, later + 10):
        made.clear()
        build(BuildConfig(str(source), str(out), timestamp=at, jobs=1))
        assert made == []
    assert b'"removed": null' in (source / "deckgen.lock").read_bytes()  # the lock's two live notes alone
    assert (source / "deckgen.lock").read_bytes().count(b'"removed": ') == 2
    fresh = tmp_path / "fresh"
    build(BuildConfig(str(source), str(fresh), timestamp=later + 10, jobs=1, write_lock=False))
    assert {p.name: p.read_bytes() for p in out.glob("*.apkg")} == {p.name: p.read_bytes() for p in fresh.glob("*.apkg")}


def test_a_topic_an_item_moved_into_without_its_point_is_reused_by_the_build_after(tmp_path, monkeypatch):
    """The point's released note, left under the topic the item was in, becomes a tombstone there in the lock the
    build writes: the topic the item moved to fingerprints that line, not the live one the build read."""
    point = '    points:\n      p1: "{{a point}} of it"\n'
    source, out = write_source(tmp_path / "src", _STAYS + _MOVED + point, extra={"b.yaml": _OTHER}), tmp_path / "out"
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=1, release=True))
    (source / "basics.yaml").write_text(_STAYS, encoding="utf-8")
    (source / "b.yaml").write_text(_OTHER + _MOVED, encoding="utf-8")
    build(BuildConfig(str(source), str(out), timestamp=T1 + 10, jobs=1, release=True))
    made = topics_made(monkeypatch)
    report = build(BuildConfig(str(source), str(out), timestamp=T1 + 20, jobs=1, release=True))
    assert made == [] and {Path(deck.path).name: deck.changes.unchanged for deck in report.files} == {"a.apkg": 1, "b.apkg": 2}


class _LockReads:
    """How the builds from now on read the lock: the paths they checked in full, and the places each split of it
    into its lines was given (None: the lines found anew)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, source: Path) -> None:
        from generator.pipeline.lock import read

        self.source = source
        self.checked: list[str] = []
        self.split: list[object] = []
        real_checked, real_split = read._checked, read.split_lock
        monkeypatch.setattr(read, "_checked", lambda path, data: self.checked.append(path) or real_checked(path, data))
        monkeypatch.setattr(
            read, "split_lock", lambda path, data, **how: self.split.append(how.get("places")) or real_split(path, data, **how)
        )

    def saved(self, folder: Path, at: int, old: str = "", new: str = "") -> tuple[int, int]:
        """A watch's save into *folder* (its more.yaml's *old* text made *new*, if given): how often it checked the
        lock, and split it into its lines."""
        self.checked.clear()
        self.split.clear()
        if old:
            _edited(self.source / "more.yaml", old, new)
        build(BuildConfig(str(self.source), str(folder), timestamp=at, jobs=1, write_lock=False))
        return len(self.checked), len(self.split)


def test_a_lock_a_watch_only_checked_is_trusted_by_this_very_code_alone_and_read_in_full(tmp_path, monkeypatch):
    """A lock laid out by hand: the first save checks it, the next trust it, parsed in full (never as lines this
    code would write); a cache another deckgen wrote trusts it no more (a check added since is not skipped)."""
    source, out = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE}), tmp_path / "out"
    reads = _LockReads(monkeypatch, source)
    build(BuildConfig(str(source), str(out), timestamp=T1, jobs=1))
    _label_moved_last(source / "deckgen.lock", "basics")

    assert reads.saved(out, T1 + 10, "{{milk}}", "{{tea}}") == (1, 0)
    assert reads.saved(out, T1 + 20, "{{tea}}", "{{milk}}") == (0, 0)
    cache = out / ".deckgen-cache.json"
    cache.write_text(re.sub(r'"code":"[0-9a-f]+"', '"code":"another"', cache.read_text(encoding="utf-8")), "utf-8")
    assert reads.saved(out, T1 + 30, "{{milk}}", "{{tea}}") == (1, 0)


def test_a_lock_a_watch_checked_as_this_code_lays_it_out_is_read_as_its_lines_at_the_next_save(tmp_path, monkeypatch):
    """A watch into an out folder no build that wrote the lock has used (the decks built elsewhere): its first
    build checks the lock in full and finds it laid out as this code writes it, so every save after it reads the
    lock as its lines, where the first build found them, not parsed in full again; its packages are those a save
    into a fresh folder writes."""
    from generator.pipeline.lock import places

    monkeypatch.setattr(places, "PLACES_MIN_LINES", 1)  # a lock this small is kept without them
    source, out = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE}), tmp_path / "out"
    reads = _LockReads(monkeypatch, source)
    build(BuildConfig(str(source), str(tmp_path / "decks"), timestamp=T1, jobs=1))

    assert reads.saved(out, T1 + 10) == (1, 0)  # the watch's first build
    for at, old, new in ((T1 + 20, "{{milk}}", "{{tea}}"), (T1 + 30, "{{tea}}", "{{lemon}}")):
        assert reads.saved(out, at, old, new) == (0, 1) and reads.split[0] is not None  # its lines' places: not looked for
    assert reads.saved(tmp_path / "fresh", T1 + 30) == (1, 0)
    assert {p.name: p.read_bytes() for p in out.glob("*.apkg")} == {
        p.name: p.read_bytes() for p in (tmp_path / "fresh").glob("*.apkg")
    }


def test_a_save_between_a_watchs_build_and_its_page_shows_the_file_as_the_page_read_it(tmp_path):
    """The page's cards are made of the source the page read, whatever the build before it read."""
    from generator.views.preview import ShownTopics

    source, out = tmp_path / "src", tmp_path / "out"
    shutil.copytree(ROOT / "cards_source", source)
    shown = ShownTopics()
    assert rebuild(str(source), str(out), shown).page is not None
    edited = source / "01-foundations.yaml"
    before = edited.read_text(encoding="utf-8")
    report = build(BuildConfig(str(source), str(out), jobs=1, write_lock=False))
    edited.write_text(_replaced(before, "fundamentally", "ESSENTIALLY"), encoding="utf-8")  # saved meanwhile
    write_preview(str(source), str(out / "preview.html"), None, report.warnings, shown)
    assert "ESSENTIALLY" in (out / "preview.html").read_text(encoding="utf-8")
    edited.write_text(before, encoding="utf-8")  # and undone: the next build reads what the last one read
    page = rebuild(str(source), str(out), shown).page
    assert page is not None and "ESSENTIALLY" not in page
    assert page == _plain_page(source, tmp_path)


def _plain_page(source: Path, tmp_path: Path) -> str:
    """The page `deckgen preview` writes of *source*: every card made anew."""
    write_preview(str(source), str(tmp_path / "plain.html"))
    return (tmp_path / "plain.html").read_text(encoding="utf-8")


def _replaced(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


def test_a_rebuild_shows_each_warning_on_the_card_it_concerns(tmp_path):
    source = tmp_path / "src"
    shutil.copytree(ROOT / "tests" / "sources" / "smelly", source)
    warnings = check_cards(str(source)).warnings
    assert warnings
    page = rebuild(str(source), str(tmp_path / "out")).page or ""
    checked = check_cards(str(source)).notes
    notes = {(note.file, note.local_key): note.guid for note in checked}
    articles = {guid: page[page.index(f'data-guid="{html.escape(guid)}"'):] for guid in notes.values()}
    for warning in warnings:
        message = html.escape(warning.message)
        guid = notes.get((warning.file, warning.where))
        if guid is None:  # of no one card (a comparison's sides): above the decks
            assert message in page[: page.index('<section class="pv-deck"')]
        else:  # inside its card's article, before the card's front
            card = articles[guid]
            assert message in card[: card.index("</article>")].split('data-side="front"')[0], warning
    concerned = {notes[(w.file, w.where)] for w in warnings if (w.file, w.where) in notes}
    # every card of a concerned note shows its warnings; a card with no smell shows none
    assert page.count('class="pv-warn"') == sum(note.cards for note in checked if note.guid in concerned)


def test_a_watch_through_several_edits_leaves_the_lock_byte_identical(tmp_path):
    source = write_source(tmp_path / "src", V1)
    build(BuildConfig(str(source), str(tmp_path / "released"), timestamp=T1, release=True))
    lock = source / "deckgen.lock"
    before = lock.read_bytes()
    out = tmp_path / "out"
    added = V1.replace("comparisons:", "  - id: tea-new\n    title: A {{new}} item\ncomparisons:")
    for text in (EDITED, added, added.replace("A {{new}} item", "A {{newer}} item"), V1, BROKEN, V1):
        (source / "basics.yaml").write_text(text, encoding="utf-8")
        rebuild(str(source), str(out))
        assert lock.read_bytes() == before
    # The decks watch wrote are a look at the source; the next build settles against the lock as it was.
    assert build(BuildConfig(str(source), str(tmp_path / "again"), timestamp=T2)).total("unchanged") > 0
    assert lock.read_bytes() == before


def test_a_bad_save_reports_located_problems_and_writes_nothing(tmp_path):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    rebuild(str(source), str(out))
    before = snapshot(out)
    (source / "basics.yaml").write_text(BROKEN, encoding="utf-8")
    result = rebuild(str(source), str(out))
    assert (result.page, result.report) == (None, None)
    check = CliRunner().invoke(main, ["check", "--source", str(source)])
    assert check.exit_code == 1
    assert list(result.problems) == check.stderr.splitlines()[:-1]  # the same lines, before check's count
    assert result.problems[0].startswith(f"{source / 'basics.yaml'}:")
    assert snapshot(out) == before


def test_an_unwritable_output_is_a_problem_not_a_crash(tmp_path):
    source = write_source(tmp_path / "src", V1)
    (tmp_path / "file").write_text("", encoding="utf-8")
    result = rebuild(str(source), str(tmp_path / "file"))
    assert result.page is None and len(result.problems) == 1 and "file" in result.problems[0]


def test_a_rebuild_is_printed_as_check_and_build_print(tmp_path):
    source = write_source(tmp_path / "src", BROKEN)
    said: list[str] = []
    warned: list[str] = []
    live = LivePage()
    result = watching.on_change(str(source), str(tmp_path / "out"), live, Console(said.append, warned.append))
    assert warned == problem_lines(source) == list(result.problems)
    assert said[-1].endswith("1 problem found; nothing was written")
    assert not (tmp_path / "out").exists()


# --- the served page -----------------------------------------------------------------------


def test_the_live_page_shows_problems_over_the_last_good_cards_and_then_the_cards_again(tmp_path):
    source = write_source(tmp_path / "src", V1)
    live = LivePage()
    good = rebuild(str(source), str(tmp_path / "out"))
    live.show(good)
    version, page = live.current()
    text = page.decode("utf-8")
    assert f'var shown = "{version}"' in text and "Tea comes from" in text and "dg-problems" not in text
    live.show(Rebuilt(None, ("a.yaml:3: item 'x': <b>bad</b>",)))
    broken_version, broken = live.current()
    assert broken_version != version
    assert "a.yaml:3: item &#x27;x&#x27;: &lt;b&gt;bad&lt;/b&gt;" in broken.decode("utf-8")
    assert "Tea comes from" in broken.decode("utf-8")  # the last good cards, below the problems
    live.show(good)
    assert "dg-problems" not in live.current()[1].decode("utf-8")


def test_a_first_build_with_problems_shows_them_alone():
    live = LivePage()
    live.show(Rebuilt(None, ("x.yaml:1: bad",)))
    page = live.current()[1].decode("utf-8")
    assert "x.yaml:1: bad" in page and "No build has succeeded yet." in page
    assert page.index("<body") < page.index("dg-problems") < page.index("</body>")


def get(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=DEADLINE) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), b""


def test_the_server_serves_the_page_and_its_version_uncached():
    live = LivePage()
    with serving(live, 0) as server:
        url = watching.url_of(server)
        status, headers, body = get(url)
        assert (status, headers["Content-Type"], headers["Cache-Control"]) == (200, "text/html; charset=utf-8", "no-store")
        assert body == live.current()[1]
        live.show(Rebuilt("<html><body>new</body></html>"))
        assert get(url + watching.VERSION_PATH.lstrip("/"))[2].decode("ascii") == live.current()[0]
        assert get(url + "preview.html")[2] == live.current()[1]
        assert get(url + "../etc/passwd")[0] == 404


def test_a_taken_port_is_an_error_and_the_default_falls_back_to_a_free_one(monkeypatch):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(DeckgenError, match=f"cannot serve on port {port}: "):
            watching.open_server(LivePage(), port)
        monkeypatch.setattr(watching, "DEFAULT_PORT", port)
        server = watching.open_server(LivePage(), None)
        try:
            assert server.server_address[1] not in (port, 0)
        finally:
            server.server_close()


def ask(port: int, host: str | None) -> int:
    """The status of GET / on the server at *port* with the Host header *host* (None: no Host header at all)."""
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEADLINE)
    try:
        connection.putrequest("GET", "/", skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def test_the_server_answers_only_its_own_host_names():
    """DNS rebinding: a page of another site, its name pointed at 127.0.0.1, sends its own name as the Host."""
    with serving(LivePage(), 0) as server:
        port = server.server_address[1]
        hosts = [f"127.0.0.1:{port}", f"localhost:{port}", "localhost", "127.0.0.1", f"LocalHost:{port}",
                 f"evil.example:{port}", "evil.example", f"127.0.0.1.evil.example:{port}", f"localhost:{port + 1}",
                 f"localhost:{port}@evil.example", "", None]
        assert {host: ask(port, host) for host in hosts} == {
            **{host: 200 for host in hosts[:5]}, **{host: 421 for host in hosts[5:10]}, "": 400, None: 400,
        }


def unanswered(connection: socket.socket) -> bool:
    """Whether the server closed *connection* without a byte (a reset too: it closed with the request unread)."""
    try:
        return connection.recv(100) == b""
    except ConnectionResetError:
        return True


def test_idle_connections_time_out_and_are_capped(monkeypatch):
    monkeypatch.setattr(watching, "MAX_CONNECTIONS", 3)
    monkeypatch.setattr(watching._Handler, "timeout", 1.0)
    with serving(LivePage(), 0) as server:
        address = ("127.0.0.1", server.server_address[1])
        idle = [socket.create_connection(address, timeout=DEADLINE) for _ in range(3)]
        try:
            started = time.monotonic()
            with socket.create_connection(address, timeout=DEADLINE) as fourth:
                fourth.sendall(b"GET / HTTP/1.0\r\nHost: localhost\r\n\r\n")
                assert unanswered(fourth)  # every slot is held
            assert [connection.recv(100) for connection in idle] == [b""] * 3  # each closed after its timeout
            assert time.monotonic() - started < DEADLINE
        finally:
            for connection in idle:
                connection.close()
        wait_for(lambda: ask(address[1], "localhost") == 200, "a slot again once the idle connections are gone")


def test_a_client_that_hangs_up_mid_page_is_silent(capfd):
    live = LivePage()
    live.show(Rebuilt("<html><body>" + "x" * (8 << 20) + "</body></html>"))  # far more than a socket buffers
    with serving(live, 0) as server:
        done = threading.Event()
        close = server.shutdown_request

        def closed(request: socket.socket) -> None:
            close(request)
            done.set()

        server.shutdown_request = closed  # type: ignore[method-assign]
        with socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=DEADLINE) as client:
            client.sendall(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
            assert client.recv(100).startswith(b"HTTP/1.0 200")
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")  # reset, as a closed tab does
        assert done.wait(DEADLINE)
    assert capfd.readouterr().err == ""


# --- the watch loop ----------------------------------------------------------------------


def test_the_filter_passes_only_the_files_a_build_reads(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    wanted = source_filter(str(source))
    folder = os.path.realpath(source)
    assert wanted(None, os.path.join(folder, "basics.yaml")) and wanted(None, os.path.join(folder, "X.YML"))
    for name in ("deckgen.lock", ".#basics.yaml", ".deckgen-x.tmp", "notes.md", "sub/basics.yaml"):
        assert not wanted(None, os.path.join(folder, name)), name


def test_every_save_rebuilds_until_stopped(tmp_path):
    source = write_source(tmp_path / "src", V1)
    said: list[str] = []
    stop = threading.Event()
    console = Console(said.append, lambda line: None)
    args = (str(source), str(tmp_path / "out"), console)
    thread = threading.Thread(target=watching.watch, args=args, kwargs={"serve": False, "stop": stop})
    thread.start()
    try:
        wait_for(lambda: any(line.startswith("Watching") for line in said), "the first build")
        (source / "basics.yaml").write_text(EDITED, encoding="utf-8")
        wait_for(lambda: sum(" built " in line for line in said) >= 2, "a rebuild after the save")
    finally:
        stop.set()
        thread.join(DEADLINE)
    assert not thread.is_alive()
    assert "Tea was first grown in" in (tmp_path / "out" / "preview.html").read_text(encoding="utf-8")


def test_without_watchfiles_it_says_which_extra_to_install(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "watchfiles", None)  # as if not installed: importing it fails
    result = CliRunner().invoke(main, ["watch", "--source", str(tmp_path), "--no-serve"])
    assert result.exit_code == 1
    assert result.stderr == "Error: deckgen watch needs the watchfiles package: pip install 'deckgen-yaml[watch]'\n"


def test_a_missing_source_folder_is_said_as_check_says_it(tmp_path):
    result = CliRunner().invoke(main, ["watch", "--source", str(tmp_path / "nowhere"), "--no-serve"])
    assert result.exit_code == 1
    assert result.stderr.splitlines()[0] == f"{tmp_path / 'nowhere'}:1: no such source folder"


# --- the command, as a process -------------------------------------------------------------


# `python -m generator`, with Ctrl-C handled as Python handles it from a terminal: a test run started as a
# shell's background job ignores SIGINT, and a process started so keeps ignoring it (the watch would not end).
_CTRL_C_REACHES = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'deckgen'; runpy.run_module('generator', run_name='__main__', alter_sys=True)"
)


class WatchProcess:
    """``deckgen watch`` in a subprocess, its output gathered by threads so that waiting never blocks."""

    def __init__(self, source: Path, out: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.process = subprocess.Popen(
            [sys.executable, "-c", _CTRL_C_REACHES, "watch", "--source", str(source), "--out", str(out), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True, env=env,
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self.readers = [
            threading.Thread(target=lambda s=stream, out=lines: out.extend(s), daemon=True)
            for stream, lines in ((self.process.stdout, self.stdout), (self.process.stderr, self.stderr))
        ]
        for reader in self.readers:
            reader.start()

    def url(self) -> str:
        """The page's address, once the first build is done."""
        line = wait_for(lambda: next((x for x in self.stdout if "http://" in x), None), "the served URL")
        assert isinstance(line, str)
        return line[line.index("http://") :].split()[0]

    def interrupt(self) -> int:
        """Ctrl-C; the exit status."""
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(DEADLINE)

    def close(self) -> None:
        """Kill it if it still runs; close its pipes once read to the end."""
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(DEADLINE)
        for reader in self.readers:
            reader.join(DEADLINE)
        for stream in (self.process.stdout, self.process.stderr):
            assert stream is not None
            stream.close()


@pytest.fixture
def watch_process(tmp_path):
    source = write_source(tmp_path / "src", V1)
    process = WatchProcess(source, tmp_path / "out")
    yield process
    process.close()


def test_the_command_serves_the_page_and_stops_cleanly_on_ctrl_c(watch_process):
    status, _, body = get(watch_process.url())
    assert status == 200 and b"Tea comes from" in body and watching.VERSION_PATH.encode() in body
    assert watch_process.interrupt() == 0
    watch_process.close()
    assert watch_process.stdout[-1] == "Stopped.\n"
    assert "Traceback" not in "".join(watch_process.stderr)


# --- in a real browser: headless Chromium, driven over the DevTools protocol -----------------

CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--hide-scrollbars", "--mute-audio", "--window-size=1280,1000",
    "--remote-debugging-port=0",  # Chromium picks a free port and writes it to DevToolsActivePort
)


class DevTools:
    """A minimal client of Chromium's DevTools protocol over one WebSocket (RFC 6455), stdlib only.

    It sends masked text frames and reads the replies (unmasked, possibly
    fragmented); events it did not ask for are skipped.
    """

    def __init__(self, ws_url: str) -> None:
        parts = urlsplit(ws_url)
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=DEADLINE)
        key = base64.b64encode(os.urandom(16)).decode("ascii")
        self.socket.sendall(
            f"GET {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode("ascii")
        )
        self.buffer = bytearray()
        while b"\r\n\r\n" not in self.buffer:
            self._fill()
        head, _, rest = bytes(self.buffer).partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        self.buffer = bytearray(rest)
        self.next_id = 0

    def _fill(self) -> None:
        chunk = self.socket.recv(1 << 16)
        if not chunk:
            raise ConnectionError("DevTools closed the connection")
        self.buffer += chunk

    def _take(self, size: int) -> bytes:
        while len(self.buffer) < size:
            self._fill()
        data = bytes(self.buffer[:size])
        del self.buffer[:size]
        return data

    def _send(self, text: str) -> None:
        payload = text.encode("utf-8")
        size = len(payload)
        length = bytes([0x80 | size]) if size < 126 else bytes([0x80 | 126]) + size.to_bytes(2, "big")
        if size >= 1 << 16:
            length = bytes([0x80 | 127]) + size.to_bytes(8, "big")
        mask = os.urandom(4)  # a client's frames must be masked
        self.socket.sendall(b"\x81" + length + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))

    def _receive(self) -> dict:
        message = b""
        while True:
            first, second = self._take(2)
            size = second & 0x7F
            if size >= 126:
                size = int.from_bytes(self._take(2 if size == 126 else 8), "big")
            data = self._take(size)
            opcode = first & 0x0F
            if opcode == 8:
                raise ConnectionError("DevTools closed the connection")
            if opcode in (0, 1):
                message += data
                if first & 0x80:
                    return json.loads(message)

    def call(self, method: str, **params: object) -> dict:
        """Send one command; its reply (``result`` or ``error``)."""
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        while True:
            reply = self._receive()
            if reply.get("id") == self.next_id:
                return reply

    def evaluate(self, expression: str) -> object:
        """The value of a JavaScript expression in the page; None while the page is (re)loading."""
        reply = self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        result = reply.get("result", {})
        if "error" in reply or "exceptionDetails" in result:
            return None  # e.g. no execution context between a reload's unload and its new document
        return result.get("result", {}).get("value")

    def screenshot(self, path: Path) -> None:
        """The viewport as a PNG file, once the page's current content is painted."""
        # Chromium keeps the old page on screen until a reloaded one paints: wait for two frames.
        frames = "new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))"
        self.call("Runtime.evaluate", expression=frames, awaitPromise=True)
        reply = self.call("Page.captureScreenshot", format="png")
        path.write_bytes(base64.b64decode(reply["result"]["data"]))

    def close(self) -> None:
        self.socket.close()


class Browser:
    """Headless Chromium with a fresh profile, and a DevTools session on its one page."""

    def __init__(self, binary: str, profile: Path) -> None:
        profile.mkdir()
        self.log = (profile.parent / "chromium.log").open("wb")
        # Its singleton's folder (a socket in it: a short path) is left when it is stopped: in one removed after.
        self.temporary = tempfile.mkdtemp(prefix="deckgen-chromium-")
        self.process = subprocess.Popen(
            [binary, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, "TMPDIR": self.temporary},
        )
        active = profile / "DevToolsActivePort"
        wait_for(lambda: active.is_file() and active.read_text().count("\n") >= 1, "Chromium's DevTools port")
        port = int(active.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=DEADLINE) as response:
            pages = [t for t in json.load(response) if t["type"] == "page"]
        self.target = pages[0]["id"]
        self.page = DevTools(pages[0]["webSocketDebuggerUrl"])

    def text(self) -> str:
        """What the page shows, as the user reads it ('' while it loads)."""
        value = self.page.evaluate("document.readyState === 'complete' ? document.body.innerText : ''")
        return value if isinstance(value, str) else ""

    def close(self) -> None:
        self.page.close()
        self.process.terminate()
        try:
            self.process.wait(DEADLINE)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(DEADLINE)
        self.log.close()
        shutil.rmtree(self.temporary, ignore_errors=True)


@pytest.fixture
def browser(tmp_path):
    opened = Browser(chromium(), tmp_path / "profile")
    yield opened
    opened.close()


def keep_screenshot(browser: Browser, tmp_path: Path, name: str) -> None:
    """A screenshot of the page, copied into $DECKGEN_WATCH_SHOTS when it is set."""
    shot = tmp_path / f"watch-{name}.png"
    browser.page.screenshot(shot)
    assert shot.read_bytes().startswith(b"\x89PNG")
    if keep := os.environ.get("DECKGEN_WATCH_SHOTS"):
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, Path(keep) / shot.name)


def test_the_open_page_follows_every_save_in_chromium(tmp_path, browser):
    source = write_source(tmp_path / "src", V1)
    out = tmp_path / "out"
    watch_process = WatchProcess(source, out)
    try:
        browser.page.call("Page.navigate", url=watch_process.url())  # the only load the test makes
        wait_for(lambda: "Tea comes from" in browser.text(), "the first page")
        keep_screenshot(browser, tmp_path, "before")

        saved = time.monotonic()
        (source / "basics.yaml").write_text(EDITED, encoding="utf-8")
        wait_for(lambda: "Tea was first grown in" in browser.text(), "the edit on the open page")
        print(f"\nthe edit showed {time.monotonic() - saved:.2f} s after the save")
        keep_screenshot(browser, tmp_path, "after")
        # The same tab, reloaded by its own script: the test navigated once.
        navigation = "performance.getEntriesByType('navigation')[0].type"
        assert browser.page.evaluate(navigation) == "reload"
        assert browser.page.evaluate("location.href") == watch_process.url()

        before = snapshot(out)
        assert any(name.endswith(".apkg") for name in before)
        (source / "basics.yaml").write_text(BROKEN, encoding="utf-8")
        expected = problem_lines(source)
        wait_for(lambda: all(line in browser.text() for line in expected), "the problems on the open page")
        keep_screenshot(browser, tmp_path, "problems")
        in_view = "(r => r.top >= 0 && r.top < innerHeight)(document.querySelector('[role=alert]').getBoundingClientRect())"
        assert browser.page.evaluate(in_view) is True  # wherever the reload left the reader's scroll position
        assert expected[0].startswith(f"{source / 'basics.yaml'}:")
        assert snapshot(out) == before  # a refused build wrote nothing

        (source / "basics.yaml").write_text(V1, encoding="utf-8")
        wait_for(lambda: "Tea comes from" in (t := browser.text()) and expected[0] not in t, "the cards again")
        assert watch_process.interrupt() == 0
    finally:
        watch_process.close()
    assert not (source / "deckgen.lock").exists()
    assert "Traceback" not in "".join(watch_process.stderr)
