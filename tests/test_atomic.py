"""A build that fails or is killed half-way leaves the previous decks and lock as they were."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from generator.build import build

from .conftest import write_source
from .test_regenerate import T1, T2, V1


def snapshot(*folders):
    return {
        str(path): path.read_bytes() for folder in folders for path in sorted(folder.iterdir()) if path.is_file()
    }


@pytest.fixture
def built(tmp_path):
    source = write_source(tmp_path / "src", V1)
    (source / "more.yaml").write_text(V1.replace("basics", "more").replace("id: ", "id: more-"), encoding="utf-8")
    out = tmp_path / "out"
    build(str(source), str(out), timestamp=T1)
    for name in ("basics.yaml", "more.yaml"):
        path = source / name
        path.write_text(path.read_text(encoding="utf-8").replace("Pour {{hot water}}", "Pour {{hot}} water"), encoding="utf-8")
    return source, out, snapshot(source, out)


def test_exception_mid_write_changes_nothing(built, monkeypatch):
    source, out, before = built
    real_fsync = os.fsync
    calls = []

    def failing_fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the first package is staged, the second is being written
            raise OSError(28, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(Exception):
        build(str(source), str(out), timestamp=T2)
    assert len(calls) == 2
    assert snapshot(source, out) == before


def test_killed_process_changes_nothing(built):
    source, out, before = built
    child = textwrap.dedent(
        f"""
        import os, signal
        calls = []
        real_fsync = os.fsync
        def fsync(fd):
            calls.append(fd)
            if len(calls) == 2:
                os.kill(os.getpid(), signal.SIGKILL)
            real_fsync(fd)
        os.fsync = fsync
        os.environ["SOURCE_DATE_EPOCH"] = "{T2}"
        from generator.cli import main
        main(["build", "--source", {str(source)!r}, "--out", {str(out)!r}])
        """
    )
    result = subprocess.run([sys.executable, "-c", child], capture_output=True, check=False)
    assert result.returncode == -signal.SIGKILL
    after = {p: b for p, b in snapshot(source, out).items() if not p.endswith(".tmp")}
    assert after == before
