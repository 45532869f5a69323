#!/usr/bin/env python3
"""Where a large build's CPU time goes, phase by phase, beside the bare genanki script's.

``bench.py`` says how long a build takes; this says what in it takes the time,
so that a target's miss can be argued from figures anyone can make again.  It
writes bench.py's synthetic source (``--size`` notes in ``--files`` topic
files, clean or smelly) and its genanki script, then runs, each in a process
of its own:

* the genanki script, once unmeasured (Python compiles its data module, as
  bench.py's warm-up does), then three times: the median of its CPU time as
  the operating system counts it;
* ``deckgen build -j 1`` into an empty folder: one process, so each phase's
  CPU time is counted where it runs (with workers, a phase's time is spread
  over processes the parent cannot see);
* ``deckgen build -j 1`` again after one item of the file bench.py edits is
  edited (bench.py's edit rebuild, in one process too).

In the deckgen processes a small driver wraps the functions each phase is
(named below, by module) and adds up the CPU time spent in each; what no phase
holds is "the rest of the build"; what the process does before the build
(start-up, imports, click) and after it (the summary, the warnings printed)
have rows of their own.  The driver imports the wrapped modules before the
build starts, so their import time is counted before it, not in it.  A
wrapped function that no longer exists, or that neither build calls, stops
the script: the table is never of phases the code has stopped having.

    python benchmarks/phases.py [--size 50000] [--files 20] [--source clean|smelly]

Run it with a Python that imports deckgen and genanki: a venv deckgen is
installed in from a wheel, as bench.py measures (the development venv's
editable install works too, but where PYTHONDONTWRITEBYTECODE is set its
modules are compiled on every start, which the row before the build shows).
The seconds move with the machine's hour as bench.py's do; the shares and
ratios much less.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import children_cpu, edited_topic, make_content, topic_yaml, write_baseline, write_source  # noqa: E402

PHASES = (
    ("reading and validating the sources", "generator.source.loader", "load_source"),
    ("making the notes", "generator.pipeline.topics", "studied_notes"),
    ("checking the cards (smells)", "generator.pipeline.topics", "smell_topic"),
    ("packaging (note times, SQLite, zip)", "generator.pipeline.topics", "_package"),
    ("reading the memo of validated topics", "generator.pipeline.memo", "read_memo"),
    ("writing the memo of validated topics", "generator.pipeline.pipeline", "_memo_file"),
    ("reading the build cache", "generator.pipeline.pipeline", "read_cache"),
    ("reading the lock", "generator.pipeline.pipeline", "_read_lock"),
    ("which packages can stay (reuse checks)", "generator.pipeline.topics", "_reuse"),
    ("the new lock's text", "generator.pipeline.pipeline", "_topics_lock"),
    ("writing the files and the cache's entry", "generator.pipeline.pipeline", "_write"),
)

INNER = ("of which the topic files the memo does not hold", "generator.source.loader", "_read_topic")
"""A part of the first phase, timed beside it (not added to the sums): an edit rebuild's own file."""

BUILD = ("the whole build", "generator.pipeline.pipeline", "_build")
"""What the driver also times, around the phases (the last it is given): its start and end too."""

DRIVER = r'''
import functools, importlib, json, os, sys, time
phases, out, argv = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3:]
BUILD = phases[-1][0]  # the build, around the others
edges = []  # the build's start and end
spent = {label: 0.0 for label, _, _ in phases}
calls = {label: 0 for label, _, _ in phases}
parent = os.getpid()

def wrap(label, module, name):
    found = importlib.import_module(module)
    function = getattr(found, name)  # AttributeError: the phase is gone; the table would lie

    @functools.wraps(function)
    def timed(*args, **kwargs):
        start = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            if os.getpid() == parent:
                end = time.process_time()
                spent[label] += end - start
                calls[label] += 1
                if label == BUILD:
                    edges.append((start, end))

    setattr(found, name, timed)

for label, module, name in phases:
    wrap(label, module, name)
from generator.cli import main
sys.argv = ["deckgen", *argv]
try:
    main()
except SystemExit as exit:
    if exit.code:
        raise
with open(out, "w", encoding="utf-8") as handle:
    total = time.process_time()
    json.dump({"total": total, "phases": spent, "calls": calls, "before": edges[0][0], "after": total - edges[-1][1]}, handle)
'''


def script_environment() -> dict[str, str]:
    """The script's environment: its data module byte-compiled beside it, in the temporary folder, even where
    PYTHONDONTWRITEBYTECODE is set (as bench.py runs it), so that it is compiled once, not on every run."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}


def genanki_cpu(python: str, script: Path) -> float:
    """The median CPU seconds (user and system, as the OS counts them) of three runs of the genanki script,
    after one unmeasured run in which Python compiles its data module (megabytes of lists), as bench.py's
    warm-up does."""
    seconds = []
    for _ in range(4):
        before = children_cpu()
        subprocess.run(
            [python, str(script), str(script.parent / "out")],
            env=script_environment(), check=True, stdout=subprocess.DEVNULL,
        )
        seconds.append(children_cpu() - before)
    return statistics.median(seconds[1:])


def deckgen_phases(python: str, work: Path, label: str, *build_args: str) -> dict[str, object]:
    """One deckgen build in a process of its own, with each phase's CPU seconds."""
    result = work / f"{label}.json"
    spec = json.dumps([list(phase) for phase in (*PHASES, INNER, BUILD)])
    done = subprocess.run(  # in the temporary folder: `-c` puts the working folder first on the import path
        [python, "-c", DRIVER, spec, str(result), "build", "-q", *build_args],
        cwd=work, env={name: value for name, value in os.environ.items() if name != "SOURCE_DATE_EPOCH"},
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the {label} build failed:\n{done.stderr[-2000:]}")
    return json.loads(result.read_text(encoding="utf-8"))


def table(genanki: float, full: dict, edit: dict) -> str:
    rows = [
        "| phase | full build, CPU s | share | edit rebuild, CPU s |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, seconds, edit_seconds in _rows(full, edit):
        rows.append(f"| {label} | {seconds:.2f} | {100 * seconds / full['total']:.0f} % | {edit_seconds:.2f} |")
    rows.append(f"| **all** | **{full['total']:.2f}** | | **{edit['total']:.2f}** |")
    total, checks = full["total"], full["phases"]["checking the cards (smells)"]
    return "\n".join(rows) + (
        f"\n\nThe genanki script: {genanki:.2f} CPU s.  The build's CPU is {total / genanki:.2f}x the script's; "
        f"without the card checks, {(total - checks) / genanki:.2f}x.  On two cores a build's wall time is at least "
        f"half its CPU time: at best {total / 2 / genanki:.2f}x the script's CPU time, "
        f"{(total - checks) / 2 / genanki:.2f}x without the card checks."
    )


def _rows(*runs: dict) -> list[tuple[str, ...]]:
    """Each phase's seconds in each run, then the build's rest and what came before and after the build."""
    rows = [(label, *(run["phases"][label] for run in runs)) for label, _, _ in PHASES]
    rows.insert(1, (f"... {INNER[0]}", *(run["phases"][INNER[0]] for run in runs)))
    rows.append(("the rest of the build (the no-change check, note types and lock owners, checks across files, ...)", *(
        run["phases"][BUILD[0]] - sum(run["phases"][label] for label, _, _ in PHASES) for run in runs
    )))
    rows.append(("before the build: start-up, imports, click, holding the folders", *(run["before"] for run in runs)))
    rows.append(("after the build: the summary, the warnings printed", *(run["after"] for run in runs)))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=50_000, help="notes in the synthetic source")
    parser.add_argument("--files", type=int, default=20, help="topic files")
    parser.add_argument("--source", choices=("clean", "smelly"), default="clean")
    parser.add_argument("--python", default=sys.executable, help="a Python that imports deckgen and genanki")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="deckgen-phases-") as folder:
        work = Path(folder)
        topics = make_content(args.size, args.files, clean=args.source == "clean")
        write_source(work / "source", topics, clean=args.source == "clean")
        script = write_baseline(work / "genanki", topics)
        genanki = genanki_cpu(args.python, script)
        paths = ("--source", str(work / "source"), "--out", str(work / "out"), "--lock", str(work / "deckgen.lock"))
        full = deckgen_phases(args.python, work, "full", *paths, "-j", "1")
        edited = edited_topic(topics)
        (work / "source" / f"{edited.id}.yaml").write_text(topic_yaml(edited, edited=True), encoding="utf-8")
        edit = deckgen_phases(args.python, work, "edit", *paths, "-j", "1")
    uncalled = [label for label, _, _ in (*PHASES, INNER) if not full["calls"][label] + edit["calls"][label]]
    if uncalled:
        raise SystemExit(f"no build called the function of: {', '.join(uncalled)}; the phases are out of date")
    print(f"{args.size} notes in {args.files} files, {args.source} source; {os.cpu_count()} CPUs\n")
    print(table(genanki, full, edit))
    return 0


if __name__ == "__main__":
    sys.exit(main())
