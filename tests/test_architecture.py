"""Dependencies point inward: domain imports no transport and no ml; ml imports no transport."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "domain": {"ml", "api", "web", "cli", "regwatch_app", "strawberry", "starlette", "typer", "uvicorn"},
    "ml": {"api", "web", "cli", "regwatch_app", "strawberry", "starlette", "typer", "uvicorn"},
}


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports_point_inward(layer):
    offenders = {
        str(path.relative_to(ROOT)): sorted(imported_roots(path) & FORBIDDEN[layer])
        for path in (ROOT / layer).rglob("*.py")
        if imported_roots(path) & FORBIDDEN[layer]
    }
    assert offenders == {}
