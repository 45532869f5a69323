"""The benchmark's bare genanki script writes the very notes deckgen writes for its source.

The benchmark's ratios compare deckgen with that script; they mean something
only if both write the same fields and tags (benchmarks/bench.py warns when
they do not, and this test fails).
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from generator.cli import main as deckgen_main

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench.py"


def _bench():
    spec = importlib.util.spec_from_file_location("deckgen_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _deckgen_build(bench, tmp_path: Path, topics, clean: bool) -> Path:
    """The benchmark's source of *topics* written and built by deckgen: its out folder."""
    bench.write_source(tmp_path / "source", topics, clean)
    out = tmp_path / "deckgen"
    with pytest.raises(SystemExit) as done:
        deckgen_main(
            ["build", "--source", str(tmp_path / "source"), "--out", str(out), "--lock", str(tmp_path / "lock"), "-q"]
        )
    assert done.value.code == 0
    return out


def _genanki_run(bench, tmp_path: Path, topics) -> Path:
    """The benchmark's genanki script for *topics*, written and run: its out folder."""
    script = bench.write_baseline(tmp_path / "baseline", topics)
    # genanki's write_to_file leaves its SQLite file in the temporary folder: one of the test's, not the system's
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    subprocess.run([sys.executable, str(script), str(tmp_path / "genanki")], cwd=script.parent, check=True, env=env)
    return tmp_path / "genanki"


@pytest.mark.parametrize("clean", [True, False], ids=["clean", "smelly"])
def test_baseline_writes_deckgens_notes(tmp_path: Path, clean: bool) -> None:
    bench = _bench()
    topics = bench.make_content(42, 3, clean)  # the last item smaller than the others
    out = _deckgen_build(bench, tmp_path, topics, clean)
    genanki = _genanki_run(bench, tmp_path, topics)

    built, baseline = bench.note_fields(out), bench.note_fields(genanki)
    assert len(built) == 42
    assert built == baseline


def test_the_edited_topics_script_writes_deckgens_notes_of_that_topic_alone(tmp_path: Path) -> None:
    """The floor the benchmark reports under an edit rebuild is the script for the topic the edit changes."""
    bench = _bench()
    topics = bench.make_content(40, 4, True)
    edited = bench.edited_topic(topics)
    out = _deckgen_build(bench, tmp_path, topics, True)
    only = tmp_path / "only"
    only.mkdir()
    os.replace(out / f"{edited.id}.apkg", only / f"{edited.id}.apkg")
    genanki = _genanki_run(bench, tmp_path, [edited])

    assert [path.name for path in genanki.glob("*.apkg")] == [f"{edited.id}.apkg"]
    assert bench.note_fields(only) == bench.note_fields(genanki)
    assert 0 < len(bench.note_fields(only)) < 40


def test_the_clean_source_does_not_smell(tmp_path: Path) -> None:
    """The benchmark's clean source stands for a real one, whose cards do not smell: a smell added to deckgen that
    it trips would time the printing of warnings no real source has."""
    from click.testing import CliRunner

    bench = _bench()
    bench.write_source(tmp_path / "source", bench.make_content(42, 3, True), True)
    result = CliRunner().invoke(deckgen_main, ["check", "--strict", "--source", str(tmp_path / "source")])
    assert result.exit_code == 0, result.output
