"""The documentation: the README's commands are what CI runs, and the site documents every command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from generator.cli import main

from .support import ROOT

README = ROOT / "README.md"
DOCS = ROOT / "docs"


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
        options = [opt for param in command.params for opt in param.opts if opt.startswith("--")]
        assert [opt for opt in options if opt not in page] == [], name  # e.g. build's --release, check's --format


def test_the_readme_is_one_screen_or_three_and_links_every_page() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 200
    nav = re.findall(r"^ +- [^:]+: (\S+\.md)$", (ROOT / "mkdocs.yml").read_text(encoding="utf-8"), re.M)
    assert sorted(nav) == sorted(p.name for p in DOCS.glob("*.md"))
    linked = set(re.findall(r"\]\(docs/([a-z-]+\.md)\)", text))
    assert linked >= set(nav) - {"index.md"}


def test_the_readmes_example_checks_and_builds_as_shown(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    from click.testing import CliRunner

    text = README.read_text(encoding="utf-8")
    for block in re.findall(r"```yaml\n# (tea/\S+)\n(.*?)```", text, re.S):
        (tmp_path / block[0]).parent.mkdir(exist_ok=True)
        (tmp_path / block[0]).write_text(f"# {block[0]}\n{block[1]}", encoding="utf-8")  # as the README shows it
    monkeypatch.chdir(tmp_path)
    shown = re.search(r"```console\n(.*?)```", text, re.S)
    assert shown is not None
    session = shown[1]
    for command, output in re.findall(r"^\$ deckgen (.*)\n((?:[^$].*\n)*)", session, re.M):
        result = CliRunner().invoke(main, command.split())
        assert (result.exit_code, result.output) == (0, output), command
    (tmp_path / "tea" / "basics.yaml").write_text(
        (tmp_path / "tea" / "basics.yaml").read_text(encoding="utf-8").replace("title: Calm focus", "title: no"),
        encoding="utf-8",
    )
    refused = CliRunner().invoke(main, ["check", "--source", "tea"])
    assert refused.stderr.startswith("tea/basics.yaml:7: items[0] (tea-calm).title: expected text, found 'no': ")
    assert "`tea/basics.yaml:7: items[0] (tea-calm).title: expected text, found 'no':" in " ".join(text.split())


def test_the_format_pages_name_every_key_the_loader_reads() -> None:
    """The schema's tables are the format: each key is shown in a YAML example of its page."""
    from generator.source import keys

    pages = {"format.md": (keys.CONFIG, keys.TOPIC, keys.ITEM, keys.COMPARISON, keys.TERM), "custom-decks.md": (keys.RECIPE, keys.RECIPE_DECK)}
    for page, tables in pages.items():
        text = (DOCS / page).read_text(encoding="utf-8")
        missing = [(t.title, k.name) for t in tables for k in t.keys if not re.search(rf"^\s*(?:- )?{k.name}:", text, re.M)]
        assert missing == [], page


def test_the_first_commands_shown_output_is_what_the_bundled_build_prints(tmp_path: Path) -> None:
    """The README and Getting started show `deckgen build` on the bundled content: its real lines, "..." for some."""
    import shutil

    from click.testing import CliRunner

    source = tmp_path / "cards_source"
    shutil.copytree(ROOT / "cards_source", source)
    result = CliRunner().invoke(main, ["build", "--source", str(source), "--out", str(tmp_path / "decks_out")])
    assert result.exit_code == 0, result.output
    printed = result.stdout.replace(str(tmp_path) + "/", "").splitlines()
    for page in (README, DOCS / "getting-started.md"):
        shown = re.search(r"&& deckgen build\n```\n\n```text\n(.*?)```", page.read_text(encoding="utf-8"), re.S)
        assert shown is not None, page
        lines = shown[1].splitlines()
        assert lines[0] == printed[0] and lines[-1] == printed[-1], page
        assert [line for line in lines if line != "..."] == [line for line in printed if line in lines], page


def test_the_test_commands_shown_output_counts_what_it_checks() -> None:
    """The README and Getting started show the test command's summary lines: mypy's files and pytest's tests."""
    modules = len(list((ROOT / "generator").rglob("*.py")))  # mypy's files (pyproject: the package only)
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.splitlines()[-1]
    for page in (README, DOCS / "getting-started.md"):
        text = page.read_text(encoding="utf-8")
        assert f"Success: no issues found in {modules} source files" in text, page
        shown = re.search(r"^(\d+) passed, (\d+) skipped in ", text, re.M)
        assert shown is not None, page
        # A fresh clone skips a few (no reference to compare with, root's reads): they count as collected.
        assert collected.startswith(f"{int(shown[1]) + int(shown[2])} tests collected"), (page, collected)
