"""The package's layers, as docs/how-it-works.md draws them: every import points down (or within a layer)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "generator"
# Lowest first.  A module may import its own layer and those below it, never one above.
LAYERS = ("errors", "source", "cards", "anki", "quality", "pipeline", "views", "authoring", "connect", "cli")


def _layer(module: str) -> int:
    """The layer of a module named like ``generator.cards.notes`` (or the package itself)."""
    parts = module.split(".")
    if parts == ["generator"] or parts[1] in {"__init__", "__version__"}:
        return -1  # the package's version, readable from anywhere
    if parts[1] == "__main__":
        return len(LAYERS)  # ``python -m generator``: above the CLI it runs
    return LAYERS.index(parts[1])


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, module) of every deckgen import in a file, at any depth (functions too)."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] if node.module != "generator" else [f"generator.{a.name}" for a in node.names]
            found += [(node.lineno, name) for name in names if name.startswith("generator")]
        elif isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names if a.name.startswith("generator")]
        elif isinstance(node, ast.ImportFrom) and node.level:
            found.append((node.lineno, "relative"))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_only_point_down(path: Path) -> None:
    name = ".".join(("generator", *path.relative_to(PACKAGE).with_suffix("").parts))
    own = _layer(name)
    upward = [
        f"{path.name}:{line}: imports {module}"
        for line, module in _imports(path)
        if module == "relative" or _layer(module) > max(own, 0)
    ]
    assert upward == []


def test_every_module_is_in_a_layer() -> None:
    for path in MODULES:
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        assert parts[0] in LAYERS or parts[0] in {"__init__", "__main__"}, path


def test_only_the_cli_imports_click() -> None:
    users = [p.name for p in MODULES if any(m == "click" for m in _all_imports(p))]
    assert users == ["cli.py"]


def test_only_the_anki_layer_imports_genanki() -> None:
    users = {p.relative_to(PACKAGE).parts[0] for p in MODULES if "genanki" in _all_imports(p)}
    assert users == {"anki"}


def _all_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    names |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    return names


