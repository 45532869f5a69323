"""A build's packages and memo wait for the commit in a spool folder, not in memory, and the folder goes with it."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Any

import pytest

import generator.pipeline.pipeline as pipeline
from generator.errors import ContentError
from generator.pipeline.config import BuildConfig
from generator.pipeline.memo import TOPICS_NAME
from generator.pipeline.pipeline import build
from generator.pipeline.spool import Spool, Spooled

from .support import T1, V1, write_source

MORE = V1.replace("basics", "more").replace("Basics", "More").replace("id: ", "id: m-")


def test_a_spooled_file_reads_back_as_its_bytes_and_goes_with_the_spool() -> None:
    with Spool() as spool:
        assert spool.folder is not None
        one = spool.keep("one", b"x" * 3_000_000)
        pieces = spool.keep("pieces", (b"ab", b"", b"cd" * 700_000))
        assert isinstance(one, Spooled) and isinstance(pieces, Spooled)
        assert b"".join(one) == b"x" * 3_000_000 and list(one)[0] == b"x" * (1024 * 1024)  # read a chunk at a time
        assert (b"".join(pieces), pieces.size) == (b"ab" + b"cd" * 700_000, 1_400_002)
        folder = spool.folder
    assert not Path(folder).exists()


def test_bytes_stay_in_memory_where_the_spool_cannot_write(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with Spool() as spool:
        assert spool.folder is not None
        shutil.rmtree(spool.folder)  # the temporary space gone under it
        assert spool.keep("one", b"data") == b"data"
        assert spool.keep("two", (b"da", b"ta")) == (b"da", b"ta")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no such folder"))
    with Spool() as spool:
        assert spool.folder is None and spool.keep("one", b"data") == b"data"


def _commits(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What each commit of a build is given to write, by file name."""
    seen: list[dict[str, Any]] = []
    real = pipeline.commit

    def commit(files: Any, journal_dir: str, follow: Any = ()) -> None:
        seen.append({Path(path).name: data for path, data in files.items()})
        real(files, journal_dir, follow)

    monkeypatch.setattr(pipeline, "commit", commit)
    return seen


@pytest.mark.parametrize("jobs", [1, 2])
def test_packages_and_memo_are_written_from_the_spool_which_is_then_gone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, jobs: int
) -> None:
    import generator.pipeline.topics as topics

    monkeypatch.setattr(topics, "PARALLEL_MIN_ITEMS", 0)  # a small source: fork anyway
    spools = tmp_path / "tmp"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    source = write_source(tmp_path / "src", V1, extra={"more.yaml": MORE})
    spooled, in_memory = tmp_path / "spooled", tmp_path / "in-memory"
    commits = _commits(monkeypatch)

    build(BuildConfig(str(source), str(spooled), lock_path=str(tmp_path / "a.lock"), timestamp=T1, jobs=jobs))

    (written,) = commits
    assert {name for name, data in written.items() if isinstance(data, Spooled)} == {
        "basics.apkg", "more.apkg", TOPICS_NAME
    }
    assert list(spools.iterdir()) == []
    # Without temporary space: the same files, from memory.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "no such folder"))
    build(BuildConfig(str(source), str(in_memory), lock_path=str(tmp_path / "b.lock"), timestamp=T1, jobs=jobs))
    assert not any(isinstance(data, Spooled) for data in commits[1].values())
    for name in ("basics.apkg", "more.apkg"):
        assert (spooled / name).read_bytes() == (in_memory / name).read_bytes()
    assert (tmp_path / "a.lock").read_bytes() == (tmp_path / "b.lock").read_bytes()


def test_a_build_that_stops_leaves_no_spool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    spools = tmp_path / "tmp"
    spools.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spools))
    source = write_source(tmp_path / "src", V1.replace("{{Origin}}", "{{Origin}"))  # a marker left open
    with pytest.raises(ContentError):
        build(BuildConfig(str(source), str(tmp_path / "out"), timestamp=T1))
    assert list(spools.iterdir()) == [] and not (tmp_path / "out").exists()
