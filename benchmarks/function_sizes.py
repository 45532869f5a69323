#!/usr/bin/env python3
"""Function sizes of the package: median, p90 and max lines of each function's body (docstring excluded).

Usage: python benchmarks/function_sizes.py [--top N]
"""

from __future__ import annotations

import argparse
import ast
import statistics
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "generator"


def sizes() -> list[tuple[int, str]]:
    """(body lines, "file:line name") of every function and method, docstring excluded."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                body = node.body
                if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                    body = body[1:] or body  # a function that is only a docstring counts its docstring
                lines = (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1
                found.append((lines, f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}"))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--top", type=int, default=5, help="list the N longest")
    args = parser.parse_args()
    found = sizes()
    lines = sorted(n for n, _ in found)
    p90 = lines[int(0.9 * (len(lines) - 1))]
    print(f"{len(lines)} functions: median {statistics.median(lines):g}, p90 {p90}, max {lines[-1]} lines")
    for n, where in sorted(found, reverse=True)[: args.top]:
        print(f"  {n:3d}  {where}")


if __name__ == "__main__":
    main()
