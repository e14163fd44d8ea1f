"""The shell speaks the Store protocol: only the store package itself and the
composition root may import a concrete store implementation."""

from __future__ import annotations

import ast
from pathlib import Path

PAGER = Path(__file__).resolve().parents[2] / "pager"
#: Concrete store packages (a new backend adds its own here).
IMPLEMENTATIONS = ("pager.store.sqlite", "pager.store.postgres")
#: Who may import them: the store package (open_store) and the composition root.
ALLOWED = ("pager/store/", "pager/daemon/app.py")


def imported_modules(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
            found.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def offenders() -> list[str]:
    bad: list[str] = []
    for path in sorted(PAGER.rglob("*.py")):
        rel = path.relative_to(PAGER.parent).as_posix()
        if rel.startswith(ALLOWED):
            continue
        for name in imported_modules(ast.parse(path.read_text(), str(path))):
            if name.startswith(IMPLEMENTATIONS):
                bad.append(f"{rel} imports {name}")
    return bad


def test_only_the_store_package_and_the_composition_root_import_an_implementation() -> None:
    assert offenders() == []


def test_the_check_sees_an_import_of_the_implementation() -> None:
    # The check itself must be able to fail: both import forms are seen.
    tree = ast.parse("import pager.store.sqlite.store\nfrom pager.store import sqlite\n")
    names = imported_modules(tree)
    assert "pager.store.sqlite.store" in names
    assert "pager.store.sqlite" in names
