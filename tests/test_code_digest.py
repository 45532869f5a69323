"""The code digest: any change to deckgen's code or to the genanki that writes the packages makes the caches stale.

The digest is what the build cache's fingerprint and the kept topics are keyed
by (generator/pipeline/cache.py); these tests change a copy of the code and
ask it again (``code_digest.__wrapped__``: the process keeps its first answer).
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator.pipeline import cache

from .support import ROOT


def _genanki_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the installed genanki's folder, which _library_version then finds instead."""
    spec = importlib.util.find_spec("genanki")
    assert spec is not None and spec.submodule_search_locations
    copy = tmp_path / "genanki"
    shutil.copytree(spec.submodule_search_locations[0], copy, ignore=shutil.ignore_patterns("__pycache__"))
    found = importlib.machinery.ModuleSpec("genanki", None, is_package=True)
    found.submodule_search_locations = [str(copy)]
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: found if name == "genanki" else None)
    return copy


def test_a_pyyaml_that_is_no_folder_of_modules_is_told_by_its_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import version

    found = cache._library_version("yaml", "PyYAML")
    assert len(found) == 64  # PyYAML's modules, hashed where an import finds them
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert cache._library_version("yaml", "PyYAML") == version("PyYAML") != found


def test_an_edit_to_genankis_code_or_version_changes_the_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    copy = _genanki_copy(tmp_path, monkeypatch)
    first = cache._library_version("genanki", "genanki")
    assert cache._library_version("genanki", "genanki") == first  # the same code: the same digest
    (copy / "version.py").write_text("__version__ = '0.13.2'\n", encoding="utf-8")
    second = cache._library_version("genanki", "genanki")
    assert second != first
    with (copy / "model.py").open("a", encoding="utf-8") as module:
        module.write("# patched\n")
    assert cache._library_version("genanki", "genanki") not in (first, second)


def test_a_genanki_that_is_no_folder_of_modules_is_told_by_its_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib.metadata import version

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    assert cache._library_version("genanki", "genanki") == version("genanki")


def test_an_edit_to_any_module_of_deckgen_or_a_new_one_changes_the_digest(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code = tmp_path / "generator"
    shutil.copytree(cache._PACKAGE_ROOT, code, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(cache, "_PACKAGE_ROOT", code)
    first = cache.code_digest.__wrapped__()
    assert cache.code_digest.__wrapped__() == first
    with (code / "anki" / "render.py").open("a", encoding="utf-8") as module:
        module.write("# a comment is a change too\n")
    second = cache.code_digest.__wrapped__()
    assert second != first
    (code / "views" / "new.py").write_text("", encoding="utf-8")  # a module that nothing imports yet
    assert cache.code_digest.__wrapped__() not in (first, second)


def test_the_digest_is_the_same_in_every_process() -> None:
    """Two builds of the same code agree (or no cache would ever be used)."""
    ask = "from generator.pipeline.cache import code_digest; print(code_digest())"
    answers = {subprocess.run([sys.executable, "-c", ask], cwd=ROOT, capture_output=True, text=True, check=True).stdout
               for _ in range(2)}
    assert answers == {cache.code_digest() + "\n"}
