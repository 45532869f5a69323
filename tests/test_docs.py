"""The documentation: the README's commands are what CI runs, and the site documents every command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from generator.cli import main

from .support import ROOT

README = ROOT / "README.md"


def sh_blocks(path: Path) -> list[str]:
    return re.findall(r"```sh\n(.*?)\n```", path.read_text(encoding="utf-8"), re.S)


def test_ci_runs_exactly_the_readmes_test_command() -> None:
    setup_and_build, setup_and_test = sh_blocks(README)[:2]
    assert setup_and_build.endswith("pip install -e . && deckgen build")
    last = (ROOT / ".ci" / "run").read_text(encoding="utf-8").rstrip("\n").splitlines()[-1]
    assert last == setup_and_test
    assert "mkdocs build --strict" in setup_and_test


def test_the_site_has_a_reference_section_for_every_command(tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-f", str(ROOT / "mkdocs.yml"), "-d", str(site)],
        check=True, cwd=ROOT,
    )
    page = (site / "commands" / "index.html").read_text(encoding="utf-8")
    assert sorted(re.findall(r'<h\d id="deckgen-([a-z-]+)"', page)) == sorted(main.commands)
    for name, command in main.commands.items():
        first_line = (command.help or "").split("\n", 1)[0]
        assert first_line.split("`")[0][:40] in page, name
