"""Random sequences of `watch` saves, builds and releases: what the build cache keeps never shows.

A watch's build leaves the lock as it was and keeps the packages it made
(see ``reuse.Timed``); the next builds reuse them, trust the lock it read, or
take its report.  Whatever happened before, a watch's report says what a
watch into an empty folder says, and the build that writes the lock writes
the same lock and packages as the same build into an empty folder.  The
sequences are drawn from fixed seeds, so a failure replays (a reviewer's
fuzzer found two faults this way).
"""

from __future__ import annotations

import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.pipeline import BuildReport, build

from .support import MORE, T1, V1, write_source

_STORAGE = V1[V1.index("  - id: storage") :].split("comparisons:")[0]


def _toggle(name: str, one: str, other: str) -> Callable[[Path], None]:
    """An edit of file *name* that swaps *one* for *other*, or back."""

    def edit(source: Path) -> None:
        path = source / name
        if path.exists():
            text = path.read_text(encoding="utf-8")
            path.write_text(text.replace(one, other, 1) if one in text else text.replace(other, one, 1), "utf-8")

    return edit


def _item_gone_or_back(source: Path) -> None:
    """The topic's last item removed (a tombstone where it was released), or put back where it was."""
    path = source / "basics.yaml"
    text = path.read_text(encoding="utf-8")
    changed = text.replace(_STORAGE, "") if _STORAGE in text else text.replace("comparisons:", _STORAGE + "comparisons:")
    path.write_text(changed, encoding="utf-8")


def _toggle_file(name: str, text: str) -> Callable[[Path], None]:
    """The file *name* deleted, or written back as *text*."""

    def change(source: Path) -> None:
        path = source / name
        if path.exists():
            path.unlink()
        else:
            path.write_text(text, encoding="utf-8")

    return change


def _lock_line_endings(source: Path) -> None:
    path = source / "deckgen.lock"
    if path.exists():
        data = path.read_bytes()
        path.write_bytes(data.replace(b"\r\n", b"\n") if b"\r\n" in data else data.replace(b"\n", b"\r\n"))


def _lock_gone_or_back(source: Path) -> None:
    path, kept = source / "deckgen.lock", source.parent / "kept.lock"
    if path.exists():
        shutil.move(path, kept)
    elif kept.exists():
        shutil.move(kept, path)


def _lock_as_first_built(source: Path) -> None:
    """The lock put back as the first build wrote it (a checkout of an older commit): checked, not trusted."""
    shutil.copy(source.parent / "first.lock", source / "deckgen.lock")


def _lock_laid_out_by_hand(source: Path) -> None:
    """The lock's first note line with its fields in another order: the same JSON, as no deckgen writes it."""
    path = source / "deckgen.lock"
    if path.exists():
        lines = path.read_text(encoding="utf-8").split("\n")
        at = next(i for i, line in enumerate(lines) if line.startswith('  "') and '"cards": ' in line)
        key, fields = lines[at].split(": ", 1)
        entry = json.loads(fields.rstrip(","))
        ending = "," if fields.endswith(",") else ""
        lines[at] = f"{key}: {json.dumps(dict(reversed(entry.items())), ensure_ascii=False)}{ending}"
        path.write_text("\n".join(lines), encoding="utf-8")


_CHANGES = [
    _toggle("basics.yaml", "Tea comes from {{China}}.", "Tea comes from {{Yunnan}}."),
    _toggle("more.yaml", "{{milk}}", "{{lemon}}"),
    _item_gone_or_back,
    _toggle("basics.yaml", "name: Basics", "name: Basic drinks"),  # its deck renamed
    _toggle("deckgen.yaml", "deck: Drinks", "deck: Hot drinks"),  # every deck renamed
    _toggle_file("more.yaml", MORE),
    _lock_line_endings,
    _lock_gone_or_back,
    _lock_as_first_built,
    _lock_laid_out_by_hand,
]


def _built(source: Path, out: Path, at: int, *, watch: bool, release: bool = False) -> BuildReport:
    return build(BuildConfig(str(source), str(out), timestamp=at, jobs=1, write_lock=not watch, release=release))


def _changes(report: BuildReport) -> dict[str, object]:
    return {Path(deck.path).name: deck.changes for deck in report.files}


def _as_from_nothing(tmp_path: Path, source: Path, out: Path, at: int, *, watch: bool) -> tuple[object, object]:
    """The build at *at* into *out*, and the same build, from the same files, into an empty folder."""
    before = {path.name: path.read_bytes() for path in source.iterdir()}
    results = []
    for folder in (out, tmp_path / f"empty-{at}"):
        for path in source.iterdir():
            path.unlink()
        for name, data in before.items():
            (source / name).write_bytes(data)
        report = _built(source, folder, at, watch=watch)
        packages = {Path(deck.path).name: Path(deck.path).read_bytes() for deck in report.files}
        lock = source / "deckgen.lock"
        results.append((_changes(report), packages if not watch else None, lock.read_bytes() if lock.exists() else None))
    return results[0], results[1]


@pytest.mark.parametrize("seed", range(40))
def test_after_any_sequence_of_saves_and_builds_a_build_is_a_build_from_nothing(tmp_path, seed):
    draw = random.Random(seed)
    source, out = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE}), tmp_path / "out"
    _built(source, out, T1, watch=False, release=True)
    shutil.copy(source / "deckgen.lock", tmp_path / "first.lock")
    at = T1
    for _ in range(draw.randint(4, 10)):
        at += draw.choice([1, 10, 3_600, 86_400, 61 * 86_400])  # the last, past a tombstone's retention
        step = draw.choice(["change", "change", "watch", "watch", "build", "release"])
        if step == "change":
            draw.choice(_CHANGES)(source)
            continue
        try:
            if step == "watch":
                kept, fresh = _as_from_nothing(tmp_path, source, out, at, watch=True)
                assert kept == fresh, (seed, at)  # what importing each package does, and the lock left alone
            else:
                _built(source, out, at, watch=False, release=step == "release")
        except ContentError:
            pass  # e.g. every topic gone: nothing is written, as from nothing
    kept, fresh = _as_from_nothing(tmp_path, source, out, at + 1, watch=False)
    assert kept == fresh, seed
