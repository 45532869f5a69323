"""Count the instructions of an essay build (or ``--help``) of each deckgen install given: a measure the hour does not move.

This machine's seconds move by a quarter from hour to hour and by a tenth
from run to run; an essay build's instructions, counted by valgrind, are the
same to 0.01 % run after run. A change of a few milliseconds is seen here
before any timing could see it (but not the seconds it costs: an instruction
of SHA-256 or of a system call is not one of the interpreter's).

    python benchmarks/instructions.py OLD/bin/deckgen NEW/bin/deckgen [--help-only]

Each build is of the bundled ``cards_source/`` and its lock, copied to a
temporary folder, into an out folder of its own, ``PYTHONHASHSEED`` fixed.
Needs ``valgrind`` (Debian: ``apt-get install valgrind``); about ten seconds a
count.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def instructions(command: list[str]) -> int:
    """The instructions *command* runs, as callgrind counts them (its children not followed)."""
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    done = subprocess.run(
        ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", *command],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if done.returncode != 0 or found is None:
        raise SystemExit(f"{command[0]} failed under valgrind:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def essay(deckgen: str) -> int:
    """An essay build's instructions: the bundled source and lock copied, a fresh out folder."""
    with tempfile.TemporaryDirectory(prefix="deckgen-instructions-") as work:
        source = Path(work) / "cards_source"
        shutil.copytree(REPO / "cards_source", source)
        lock = source / "deckgen.lock"
        return instructions([deckgen, "build", "-q", "--source", str(source), "--out", f"{work}/out", "--lock", str(lock)])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("deckgen", nargs="+", help="deckgen executables (each installed from a wheel in its own venv)")
    parser.add_argument("--help-only", action="store_true", help="count `deckgen --help` only")
    args = parser.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("needs valgrind")
    first: dict[str, int] = {}
    for deckgen in args.deckgen:
        counts = {"--help": instructions([deckgen, "--help"])}
        if not args.help_only:
            counts["essay build"] = essay(deckgen)
        for name, count in counts.items():
            base = first.setdefault(name, count)
            print(f"{name:12} {count:>15,} instructions  {100 * (count - base) / base:+6.2f} %  {deckgen}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
