"""The core stays pure: no asyncio, sockets, SQL, threads, subprocesses or wall clock."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "pager" / "core"
FORBIDDEN_MODULES = {
    "asyncio",
    "socket",
    "sqlite3",
    "threading",
    "subprocess",
    "aiohttp",
    "aiomqtt",
    "aiosmtplib",
    "twilio",
    "time",
    "os",
    "pager.store",
    "pager.adapters",
    "pager.daemon",
    "pager.cli",
    "pager.config",
}
FORBIDDEN_CALLS = {"now", "utcnow", "today"}


def _imports(tree: ast.AST) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CORE.rglob("*.py")), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_is_pure(path: Path) -> None:
    tree = ast.parse(path.read_text(), filename=str(path))
    bad = {
        name
        for name in _imports(tree)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN_MODULES)
    }
    assert not bad, f"{path.name} imports {sorted(bad)}"
    clock_calls = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in FORBIDDEN_CALLS
    ]
    assert not clock_calls, f"{path.name} reads the clock at lines {clock_calls}"
