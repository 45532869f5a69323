"""Work on speed changes no byte: the code as it was and as it is build the same files.

The bundled source (and a small synthetic one of every kind of note) is built
twice at a fixed time: by deckgen's code at a reference commit (``git archive``
of ``generator/`` into a temporary folder, run with the same Python and
libraries) and by the code of this checkout.  Every file both write (the
packages, CSV files and the lock) must be the same bytes: a note's identity,
its fields, its times, and the package around them.  The reference is the
merge base with ``main`` (the commit this branch started from, or once
``main`` is merged in, the ``main`` commit last merged: its code must build
what this branch builds), or ``DECKGEN_REFERENCE_REF``; where it is this very code (on ``main``), or
there is no git history, there is nothing to compare and the test is skipped.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import pytest

from tests.support import BUILD_TIME, BUNDLED_SOURCE, DRINKS_CONFIG, ROOT, V1


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout.strip()


def _reference() -> str:
    """The commit whose code builds the expected bytes (skips where there is none to compare with)."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("no git checkout: no reference code to build with")
    ref = os.environ.get("DECKGEN_REFERENCE_REF")
    try:
        commit = _git("rev-parse", "--verify", f"{ref}^{{commit}}") if ref else _git("merge-base", "HEAD", "main")
        same = _git("rev-parse", f"{commit}:generator") == _tree_of_worktree_generator()
    except subprocess.CalledProcessError as error:
        pytest.skip(f"no reference commit ({error.stderr.strip()})")
    if same:
        pytest.skip(f"the reference {commit[:7]} has this very code: nothing to compare")
    return commit


def _tree_of_worktree_generator() -> str:
    """The git tree id ``generator/`` would have if committed as it is now (edits included)."""
    index = Path(tempfile.mkdtemp()) / "index"  # a scratch index: the checkout's own is left alone
    env = {**os.environ, "GIT_INDEX_FILE": str(index)}
    try:
        subprocess.run(["git", "-C", str(ROOT), "read-tree", "HEAD"], env=env, check=True, capture_output=True)
        subprocess.run(["git", "-C", str(ROOT), "add", "-A", "generator"], env=env, check=True, capture_output=True)
        done = subprocess.run(
            ["git", "-C", str(ROOT), "write-tree", "--prefix=generator/"], env=env, check=True, capture_output=True,
            text=True,
        )
        return done.stdout.strip()
    finally:
        shutil.rmtree(index.parent, ignore_errors=True)


@pytest.fixture(scope="module")
def reference_code(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding the reference commit's ``generator`` package."""
    commit = _reference()
    folder = tmp_path_factory.mktemp("reference")
    archive = folder / "generator.tar"
    with archive.open("wb") as handle:
        subprocess.run(["git", "-C", str(ROOT), "archive", commit, "generator"], stdout=handle, check=True)
    with tarfile.open(archive) as tar:
        tar.extractall(folder, filter="data")
    archive.unlink()
    return folder


# Through the command line, the interface both codes share (the library's signatures and modules may move).
_BUILD = """\
import sys
import generator
from generator.cli import main
assert generator.__file__.startswith(sys.argv[1]), generator.__file__
source, out, lock, fmt, jobs = sys.argv[2:7]
main(["build", "-q", "--source", source, "--out", out, "--lock", lock, "--format", fmt, "--jobs", jobs])
"""


def _build(code: Path | None, source: Path, out: Path, file_format: str, jobs: int) -> dict[str, bytes]:
    """Build a copy of *source* (and its lock) with the code in *code* (None: this checkout's); every file written."""
    work = out.parent / f"{out.name}-source"
    shutil.copytree(source, work)
    lock = work / "deckgen.lock"
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    root = str(code if code is not None else ROOT)
    env["PYTHONPATH"] = root
    env["SOURCE_DATE_EPOCH"] = str(BUILD_TIME)
    subprocess.run(
        [sys.executable, "-c", _BUILD, root, str(work), str(out), str(lock), file_format, str(jobs)],
        env=env, check=True, capture_output=True, cwd=out.parent,
    )
    files = {path.name: path.read_bytes() for path in sorted(out.iterdir()) if not path.name.startswith(".")}
    if lock.exists():
        files["deckgen.lock"] = lock.read_bytes()
    return files


def _drinks(folder: Path) -> Path:
    folder.mkdir()
    (folder / "deckgen.yaml").write_text(DRINKS_CONFIG, encoding="utf-8")
    (folder / "basics.yaml").write_text(V1, encoding="utf-8")
    return folder


@pytest.mark.parametrize("file_format", ["apkg", "csv"])
@pytest.mark.parametrize("jobs", [1, 2])
def test_the_bundled_source_builds_the_same_bytes_as_the_reference_code(
    reference_code: Path, tmp_path: Path, file_format: str, jobs: int
) -> None:
    before = _build(reference_code, BUNDLED_SOURCE, tmp_path / "before", file_format, jobs)
    after = _build(None, BUNDLED_SOURCE, tmp_path / "after", file_format, jobs)
    assert sorted(after) == sorted(before)
    assert len([name for name in after if name.endswith(f".{file_format}")]) == 9
    for name in before:
        assert after[name] == before[name], f"{name} differs from the reference build"


def test_a_source_of_every_kind_of_note_builds_the_same_bytes(reference_code: Path, tmp_path: Path) -> None:
    source = _drinks(tmp_path / "drinks")
    before = _build(reference_code, source, tmp_path / "before", "apkg", 1)
    after = _build(None, source, tmp_path / "after", "apkg", 1)
    assert before.keys() == after.keys() and "basics.apkg" in after
    assert after == before
