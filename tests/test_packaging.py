"""The wheel, not the working tree: what `pip install` gets must build the bundled decks."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

from .support import BUNDLED_SOURCE, ROOT


def test_the_wheel_holds_every_module_and_builds_the_bundled_decks(tmp_path):
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = wheels.glob("deckgen_yaml-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    modules = {
        str(path.relative_to(ROOT)).replace(os.sep, "/")
        for path in (ROOT / "generator").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert modules and modules <= names, sorted(modules - names)
    # Installed from the wheel alone (its dependencies come from this environment), away from the tree.
    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
        check=True, capture_output=True,
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-c", "import generator, sys; from generator.cli import main; "
         "assert generator.__file__.startswith(sys.argv[1]), generator.__file__; main(sys.argv[2:])",
         str(target), "build", "-q", "--source", str(BUNDLED_SOURCE), "--out", str(tmp_path / "out"),
         "--lock", str(tmp_path / "deckgen.lock")],
        capture_output=True, text=True, env=env, cwd=tmp_path, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.stem for p in (tmp_path / "out").glob("*.apkg"))
