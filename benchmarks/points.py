#!/usr/bin/env python3
"""One item with N marked points: ``deckgen build`` as a whole process, timed with /usr/bin/time -v.

Issue 16 found such an item cost N² (3 s at 2,000 points, 20 s at 5,000, over
300 s and 13 GB at 20,000): every back listed every other point, and the card
smells compared every pair of the item's cards.  This prints the wall clock
and the peak memory per N, which should grow about linearly.  A script, not a
test: ``tests/test_hardening.py::test_an_item_of_many_marked_points_is_linear_work``
decides by counting work, not time.  Standard library only.

Usage::

    python benchmarks/points.py [--sizes 2000,5000,20000] [--deckgen PATH]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TIME = "/usr/bin/time"
CONFIG = "id: points\ntitle: Points\ndeck: Points\nperspectives:\n  a: A\n  b: B\n"


def write_source(folder: Path, count: int) -> None:
    """A source of one topic of one item with *count* marked points."""
    folder.mkdir()
    (folder / "deckgen.yaml").write_text(CONFIG, encoding="utf-8")
    points = "".join(f"      p{i}: Point number {i} is about {{{{term {i}}}}} here\n" for i in range(count))
    topic = f'topic: many\nname: Many\nitems:\n  - id: big\n    title: "{{{{Big}}}}"\n    points:\n{points}'
    (folder / "many.yaml").write_text(topic, encoding="utf-8")


def measure(deckgen: str, folder: Path) -> tuple[float, int]:
    """Seconds and peak resident kilobytes of one ``deckgen build`` of *folder*."""
    command = [TIME, "-v", deckgen, "build", "--source", str(folder / "src"), "--out", str(folder / "out")]
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"deckgen build failed:\n{result.stderr[-2000:]}")
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", result.stderr)
    return seconds, int(peak.group(1)) if peak else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="2000,5000,20000", help="points per item, comma-separated")
    parser.add_argument("--deckgen", default=shutil.which("deckgen") or "deckgen", help="the deckgen executable")
    args = parser.parse_args()
    print(f"{'points':>8} {'seconds':>8} {'peak MB':>8}")
    for size in (int(n) for n in args.sizes.split(",")):
        with tempfile.TemporaryDirectory(prefix="deckgen-points-") as scratch:
            folder = Path(scratch)
            write_source(folder / "src", size)
            seconds, peak = measure(args.deckgen, folder)
        print(f"{size:>8} {seconds:>8.2f} {peak / 1024:>8.0f}")


if __name__ == "__main__":
    main()
