"""systemd/pager.daemon.service: the keys SPEC section 9 requires, and `systemd-analyze verify`."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[2] / "systemd" / "pager.service"


def _service_section() -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    section = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def test_unit_has_what_the_spec_requires() -> None:
    service = _service_section()
    assert service["Type"] == ["notify"]
    assert service["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert service["Restart"] == ["on-failure"]
    assert "WatchdogSec" in service
    assert service["DynamicUser"] == ["yes"]
    assert service["StateDirectory"] == ["pager"]
    assert service["ProtectSystem"] == ["strict"]
    assert service["NoNewPrivileges"] == ["yes"]
    assert len(service["LoadCredential"]) == 3
    assert configparser  # parsed by hand above: systemd allows repeated keys


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not installed")
def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    pager_bin = Path(sys.executable).parent / "pager"
    assert pager_bin.exists(), "the console script is installed by `make venv`"
    unit = tmp_path / "pager.service"
    unit.write_text(UNIT.read_text().replace("/opt/pager/.venv/bin/pager", str(pager_bin)))
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [
        line
        for line in (proc.stderr + proc.stdout).splitlines()
        # verify also checks the credential source files, which only exist once installed
        if line.strip() and "/etc/pager/secrets" not in line
    ]
    assert proc.returncode == 0, proc.stderr
    assert problems == []
