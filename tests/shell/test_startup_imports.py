"""What ``pager run`` loads at start on a SQLite config: not the libraries it only needs
for another command or another store (each costs megabytes of resident memory for the
daemon's whole life: matplotlib ~45 MiB, psycopg ~9 MiB, pendulum with dateutil ~3 MiB)."""

from __future__ import annotations

import json
import subprocess
import sys

#: Loaded only by the report (matplotlib), the PostgreSQL store (psycopg) and the CLI's
#: time options (pendulum).
NOT_AT_START = ("matplotlib", "psycopg", "pendulum", "dateutil")


def _loaded_after(imports: str) -> list[str]:
    """Which of NOT_AT_START a fresh interpreter holds after ``import {imports}``."""
    probe = (
        f"import json, sys\nimport {imports}\n"
        f"print(json.dumps([m for m in {NOT_AT_START!r} if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], check=True, capture_output=True, text=True
    ).stdout
    return list(json.loads(out))


def test_the_daemon_entry_points_do_not_load_optional_libraries() -> None:
    assert _loaded_after("pager.cli.main, pager.cli.run, pager.daemon.app") == []


def test_the_probe_sees_a_library_that_is_loaded() -> None:
    """The check above can fail: a module that imports pendulum is seen."""
    assert "pendulum" in _loaded_after("pager.cli.main, pendulum")
