"""No function of the package is longer than a screen: MAX_LINES, counted as :func:`_length` says.

A function's length is its lines from ``def`` to its last line, its signature,
comments and nested functions included: what a reader has to hold at once.
Not counted: blank lines, and the docstring, which explains and should never
be cut short to fit.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "generator"
MAX_LINES = 40

Function = ast.FunctionDef | ast.AsyncFunctionDef


def _length(function: Function, lines: list[str]) -> int:
    first = function.body[0]
    is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
    docstring = range(first.lineno, first.end_lineno + 1) if is_doc and first.end_lineno else range(0)
    span = range(function.lineno, (function.end_lineno or function.lineno) + 1)
    return sum(1 for number in span if number not in docstring and lines[number - 1].strip())


def _long_functions(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    return [
        f"{path.relative_to(PACKAGE.parent)}:{node.lineno}: {node.name} has {length} lines (at most {MAX_LINES})"
        for node in ast.walk(ast.parse(text))
        if isinstance(node, Function) and (length := _length(node, lines)) > MAX_LINES
    ]


def test_no_function_is_longer_than_a_screen() -> None:
    assert [found for path in sorted(PACKAGE.rglob("*.py")) for found in _long_functions(path)] == []


def test_the_count_leaves_out_the_docstring_and_blank_lines() -> None:
    text = 'def f(\n    a,\n):\n    """Doc.\n\n    More.\n    """\n\n    # why\n    return a\n'
    function = ast.parse(text).body[0]
    assert isinstance(function, ast.FunctionDef)
    assert _length(function, text.splitlines()) == 5  # three of signature, the comment, the return
