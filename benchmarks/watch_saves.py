#!/usr/bin/env python3
"""What one save costs ``watch``'s build, for a source that has been built (its lock written) and for one not yet.

``watch`` builds in its own process after each save, never writing the lock
(:func:`generator.authoring.watch.rebuild`); ``bench.py``'s watch scenario
times a save to the reloaded page for a source that has been built.  This
times the build alone, called as ``watch`` calls it, after a save of one
topic file of bench.py's clean source (the file its edit rebuild edits,
edited and put back in turns, each save at least a second after the last,
as an author saves): for the source built into the watch's out folder, built
into another one (``deckgen build`` into ``decks_out``, ``deckgen watch --out
my_decks``), and not built yet, with no lock (a new source: ``deckgen new``
then ``deckgen watch``).

    python benchmarks/watch_saves.py [--size 5000] [--files 20] [--saves 6]

Run it with a Python that imports deckgen (a venv it is installed in).
Prints the median seconds of each, and each save's.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import edited_topic, make_content, topic_yaml, write_source  # noqa: E402

from generator.pipeline.config import BuildConfig  # noqa: E402
from generator.pipeline.pipeline import build  # noqa: E402

BUILT = {
    "built (lock written) into the watch's out folder": "out",
    "built into another out folder": "decks",
    "no lock yet": None,
}
"""How the source was built before the watch: into which folder (under the temporary one), or not at all."""


def saves(root: Path, size: int, files: int, count: int, *, built: str | None) -> list[float]:
    """Seconds of ``watch``'s build after each of *count* saves; *built*: the folder the lock's build used."""
    topics = make_content(size, files, clean=True)
    edited = edited_topic(topics)
    source, out = root / "source", root / "out"
    name = next(file for file in write_source(source, topics, clean=True) if edited.id in file)
    if built is not None:  # the lock a `deckgen build` leaves, and its out folder
        build(BuildConfig(str(source), str(root / built)))
    watch = BuildConfig(str(source), str(out), jobs=1, write_lock=False)  # as `watch` builds
    build(watch)  # its first build, as it starts
    seconds = []
    for number in range(count):
        time.sleep(1.05)  # a later second: a build's own time changes, as between an author's saves
        (source / name).write_text(topic_yaml(edited, edited=number % 2 == 0), encoding="utf-8")
        start = time.perf_counter()
        build(watch)
        seconds.append(time.perf_counter() - start)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=5000, help="notes (default 5000)")
    parser.add_argument("--files", type=int, default=20, help="topic files (default 20)")
    parser.add_argument("--saves", type=int, default=6, help="saves timed of each (default 6)")
    args = parser.parse_args()
    for label, built in BUILT.items():
        with tempfile.TemporaryDirectory(prefix="deckgen-watch-saves-") as folder:
            seconds = saves(Path(folder), args.size, args.files, args.saves, built=built)
        each = " ".join(f"{value:.3f}" for value in seconds)
        print(f"{args.size} notes, {label}: median {statistics.median(seconds):.3f} s ({each})")


if __name__ == "__main__":
    main()
