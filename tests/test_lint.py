"""The code is held to the rule set in pyproject.toml ([tool.ruff])."""

from __future__ import annotations

import subprocess
import sys

from .support import ROOT


def test_ruff_finds_nothing():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "generator", "tests", "benchmarks"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
