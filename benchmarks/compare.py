"""Compare two deckgen installs side by side: the same builds, alternating run by run, on the same minutes.

This machine's speed moves from minute to minute, so two bench runs an hour
apart cannot tell a 5 % change from the hour's. Here each edit rebuild of the
old code is next to one of the new, in turns, from the same state (each its
own version's full build of the same 50,000-note source, ``SOURCE_DATE_EPOCH``
fixed), and the medians of wall time, CPU time and peak memory are printed.

    python benchmarks/compare.py OLD_DECKGEN NEW_DECKGEN --rounds 21 --full-rounds 5 --essay-rounds 31

Each DECKGEN is a ``deckgen`` executable: install each version from a wheel
into its own venv (``python -m venv v && v/bin/pip install <checkout>``).
Needs GNU ``/usr/bin/time``. Writes into a temporary folder, deleted after.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench  # noqa: E402 - beside this script

REPO = Path(__file__).resolve().parent.parent
OLD_TIME = 946_684_800  # the unchanged files' times: older than any build


def _run(deckgen: str, args: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak MB of one ``deckgen build -q``."""
    os.sync()
    time.sleep(0.2)  # the copies just made are written out, not during the build
    before, start = bench.children_cpu(), time.perf_counter()
    done = subprocess.run(
        ["/usr/bin/time", "-f", "%M", deckgen, "build", "-q", *args],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False,
    )
    wall, cpu = time.perf_counter() - start, bench.children_cpu() - before
    if done.returncode != 0:
        raise SystemExit(f"{deckgen} build failed:\n{done.stderr[-2000:]}")
    return wall, cpu, int(done.stderr.split()[-1]) / 1024


def _source(root: Path, kind: str) -> tuple[Path, str, str]:
    """A synthetic 50,000-note source of *kind*, the edited text of one of its files, and that file's name."""
    topics = bench.make_content(50_000, 20, clean=kind == "clean")
    bench.write_source(root / kind / "source", topics, kind == "clean")
    edited = bench.edited_topic(topics)
    return root / kind / "source", bench.topic_yaml(edited, edited=True), f"{edited.id}.yaml"


def _edit_state(folder: Path, source: Path, edited: str | None = None, name: str = "") -> None:
    """*folder*'s ``src`` as *source*, its files old, and *name* holding *edited* if given."""
    shutil.rmtree(folder / "src", ignore_errors=True)
    shutil.copytree(source, folder / "src")
    for path in (folder / "src").iterdir():
        os.utime(path, (OLD_TIME, OLD_TIME))
    if edited is not None:
        (folder / "src" / name).write_text(edited, encoding="utf-8")


def _edits(root: Path, versions: dict[str, str], rounds: int, full_rounds: int, env: dict[str, str]) -> dict[tuple, list]:
    """Each version's edit rebuilds (*rounds*) and full builds (*full_rounds*) of a clean and a smelly source."""
    samples: dict[tuple, list] = {}
    for kind in ("clean", "smelly"):
        source, edited, name = _source(root, kind)
        for version, deckgen in versions.items():
            folder = root / kind / version
            _edit_state(folder, source)  # a smelly source's warnings name its folder: the same one each round
            _run(deckgen, ["--source", str(folder / "src"), "--out", str(folder / "base"), "--lock", str(folder / "base.lock")], env)
        for turn in range(rounds):
            for version in sorted(versions, reverse=turn % 2 == 1):
                folder = root / kind / version
                _edit_state(folder, source, edited, name)
                shutil.rmtree(folder / "out", ignore_errors=True)
                shutil.copytree(folder / "base", folder / "out")
                shutil.copy(folder / "base.lock", folder / "edit.lock")
                args = ["--source", str(folder / "src"), "--out", str(folder / "out"), "--lock", str(folder / "edit.lock")]
                samples.setdefault(("edit one", kind, version), []).append(_run(versions[version], args, env))
        for turn in range(full_rounds):
            for version in sorted(versions, reverse=turn % 2 == 1):
                folder = root / kind / version
                shutil.rmtree(folder / "full", ignore_errors=True)
                (folder / "full.lock").unlink(missing_ok=True)
                args = ["--source", str(source), "--out", str(folder / "full"), "--lock", str(folder / "full.lock")]
                samples.setdefault(("full", kind, version), []).append(_run(versions[version], args, env))
    return samples


def _essay(root: Path, versions: dict[str, str], rounds: int, env: dict[str, str]) -> dict[tuple, list]:
    """Each version's builds of the bundled essay into an empty folder."""
    samples: dict[tuple, list] = {}
    for turn in range(rounds + 1):  # the first turn warms the caches, and is not counted
        for version in sorted(versions, reverse=turn % 2 == 1):
            folder = root / "essay" / version
            shutil.rmtree(folder, ignore_errors=True)
            shutil.copytree(REPO / "cards_source", folder / "src")
            args = ["--source", str(folder / "src"), "--out", str(folder / "out"), "--lock", str(folder / "src" / "deckgen.lock")]
            sample = _run(versions[version], args, env)
            if turn:
                samples.setdefault(("essay", "", version), []).append(sample)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("old", help="the deckgen executable of the code before")
    parser.add_argument("new", help="the deckgen executable of the code after")
    parser.add_argument("--rounds", type=int, default=11, help="edit rebuilds of each version per source")
    parser.add_argument("--full-rounds", type=int, default=0, help="full builds of each version per source")
    parser.add_argument("--essay-rounds", type=int, default=0, help="builds of the bundled essay of each version")
    args = parser.parse_args()
    versions = {"old": args.old, "new": args.new}
    env = dict(os.environ, SOURCE_DATE_EPOCH="1796000000")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    root = Path(tempfile.mkdtemp(prefix="deckgen-compare-"))
    env["PYTHONPYCACHEPREFIX"] = str(root / "pyc")  # each process finds the modules compiled
    try:
        samples = _edits(root, versions, args.rounds, args.full_rounds, env) if args.rounds or args.full_rounds else {}
        samples |= _essay(root, versions, args.essay_rounds, env)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    for (scenario, kind, version), found in sorted(samples.items()):
        wall, cpu, rss = ([sample[i] for sample in found] for i in range(3))
        print(
            f"{scenario:8s} {kind:6s} {version}: n={len(found):3d}  wall median {statistics.median(wall):.3f} s"
            f" (min {min(wall):.3f})  cpu median {statistics.median(cpu):.3f} s  peak {statistics.median(rss):.1f} MB"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
