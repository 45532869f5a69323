"""What a run imports: `deckgen --help`, a rebuild with nothing to do and commands that write no package load
none of the modules they do not need.

Each is run in a fresh process, as a user runs it; the modules it imported
are read from ``sys.modules`` at exit (the times are benchmarks/bench.py's).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from .support import BUNDLED_SOURCE, ROOT

_RUN = """\
import atexit, sys
from generator.cli import main
atexit.register(lambda: print("\\n".join(sorted(sys.modules)), file=sys.stderr))
main(sys.argv[1:])
"""


def _imported(*args: str) -> set[str]:
    """The modules a process running ``deckgen ARGS`` has imported when it exits (successfully)."""
    done = subprocess.run([sys.executable, "-c", _RUN, *args], cwd=ROOT, capture_output=True, text=True, check=True)
    return set(done.stderr.split())


def test_help_imports_only_the_command_line() -> None:
    imported = _imported("--help")
    assert "click" in imported  # the probe sees what was imported
    heavy = {"genanki", "asyncio", "yaml", "importlib.metadata", "generator.views.findings", "generator.pipeline.pipeline"}
    assert imported & heavy == set()


def test_a_rebuild_with_nothing_to_do_imports_neither_genanki_nor_package_metadata(tmp_path: Path) -> None:
    source = tmp_path / "source"
    shutil.copytree(BUNDLED_SOURCE, source)
    build = ("build", "-q", "--source", str(source), "--out", str(tmp_path / "out"))
    first = _imported(*build)
    assert "genanki" in first  # the first build writes packages
    assert "generator.cards.selection" not in first  # no selection option given
    assert first & {"asyncio", "cached_property"} == set()  # genanki's import stood in for (genanki_import)
    again = _imported(*build)
    assert "generator.pipeline.pipeline" in again
    assert again & {"genanki", "asyncio", "importlib.metadata", "generator.cards.selection"} == set()


def test_a_rebuild_with_nothing_to_do_reads_no_yaml_and_makes_no_card(tmp_path: Path) -> None:
    """It hashes the files and reads the cache: neither the YAML reader and loader, nor what makes and checks cards,
    nor the memo of topics is imported (together a third of such a rebuild's time on a small source)."""
    source = tmp_path / "source"
    shutil.copytree(BUNDLED_SOURCE, source)
    build = ("build", "-q", "--source", str(source), "--out", str(tmp_path / "out"))
    first = _imported(*build)
    heavy = {"yaml", "generator.source.loader", "generator.source.content", "generator.cards.notes",
             "generator.quality.smells", "generator.pipeline.memo"}
    assert heavy <= first  # the probe sees them where a build needs them
    assert _imported(*build) & heavy == set()


def test_commands_that_write_no_package_import_no_genanki(tmp_path: Path) -> None:
    """Checking, planning, previewing and CSV read the note types, but only a package needs genanki (and asyncio)."""
    source = tmp_path / "source"
    shutil.copytree(BUNDLED_SOURCE, source)
    for args in (
        ("check", "--source", str(source)),
        ("plan", "--source", str(source)),
        ("preview", "--source", str(source), "--out", str(tmp_path / "preview")),
        ("build", "-q", "--source", str(source), "--out", str(tmp_path / "csv"), "--format", "csv",
         "--lock", str(tmp_path / "csv.lock")),
    ):
        imported = _imported(*args)
        assert "generator.cards.notes" in imported, args  # the probe sees the command at work
        assert imported & {"genanki", "asyncio"} == set(), args


def test_genanki_keeps_a_cached_property_package_imported_before_it() -> None:
    """The stand-in is only for genanki's own import: where the package was imported first, genanki has it."""
    probe = (
        "import cached_property, sys\n"
        "from generator.anki.genanki_import import genanki\n"
        "import genanki.model\n"
        "assert genanki.model.cached_property is cached_property.cached_property\n"
        "print(sys.modules['cached_property'].__file__)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip().endswith("cached_property.py")


def test_genanki_imported_alone_has_the_standard_librarys_cached_property() -> None:
    probe = (
        "import functools, sys\n"
        "from generator.anki.genanki_import import genanki\n"
        "import genanki.model, genanki.note\n"
        "assert genanki.model.cached_property is functools.cached_property\n"
        "assert genanki.note.cached_property is functools.cached_property\n"
        "assert 'cached_property' not in sys.modules and 'asyncio' not in sys.modules\n"
        "model = genanki.Model(1, 'M', fields=[{'name': 'A'}], templates=[{'name': 'C', 'qfmt': '{{A}}', 'afmt': 'x'}])\n"
        "print(model._req)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[[0, 'all', [0]]]"
