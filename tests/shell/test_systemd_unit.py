"""systemd/pager.service: the keys SPEC section 9 requires, and `systemd-analyze verify`.

`make test` installs systemd (for `systemd-analyze`) when it is missing, so the verify
test never skips. What cannot be tested without systemd as PID 1 (the unit starting) is
checked as far as the files go: every credential the unit loads comes from one directory
the README's install steps create, the config the README writes reads its secrets from
where the unit puts them, and the Documentation= files exist once installed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from pager.config.load import load_config

REPO = Path(__file__).resolve().parents[2]
UNIT = REPO / "systemd" / "pager.service"
README = REPO / "README.md"
INSTALL_ROOT = "/opt/pager"


def _section(name: str) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    section = ""
    for raw in UNIT.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == name:
            key, _, value = line.partition("=")
            values.setdefault(key, []).append(value)
    return values


def _install_script() -> str:
    """The shell block of README's "Running as a systemd service" section."""
    text = README.read_text()
    section = text.split("## Running as a systemd service", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    assert blocks, "the section has the install steps as a sh block"
    return blocks[0]


def test_unit_has_what_the_spec_requires() -> None:
    service = _section("[Service]")
    assert service["Type"] == ["notify"]
    assert service["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert service["Restart"] == ["on-failure"]
    assert "WatchdogSec" in service
    assert service["DynamicUser"] == ["yes"]
    assert service["StateDirectory"] == ["pager"]
    assert service["ProtectSystem"] == ["strict"]
    assert service["NoNewPrivileges"] == ["yes"]


def test_credentials_come_from_one_directory_so_none_is_fatal_when_absent() -> None:
    # A LoadCredential= naming a missing file fails the unit (243/CREDENTIALS), and
    # systemd 252 has no optional form: one directory, whatever files it holds.
    service = _section("[Service]")
    assert service["LoadCredential"] == ["pager:/etc/credstore/pager"]
    script = _install_script()
    assert re.search(r"install -d -m 0700 .*/etc/credstore/pager\n", script)
    assert "/etc/credstore/pager/twilio" in script


def test_no_pointless_user_under_dynamic_user() -> None:
    assert "useradd" not in _install_script()


def test_documentation_files_exist_once_installed() -> None:
    docs = _section("[Unit]")["Documentation"][0].split()
    assert docs
    for url in docs:
        assert url.startswith(f"file://{INSTALL_ROOT}/"), url
        assert (REPO / url.removeprefix(f"file://{INSTALL_ROOT}/")).is_file(), url
    assert "git clone" in _install_script() and INSTALL_ROOT in _install_script()


def test_the_readme_config_reads_secrets_where_the_unit_puts_them(tmp_path: Path) -> None:
    """The pager.yaml lines the README gives, in the unit's environment, load with every
    secret (Twilio, SMTP, MQTT) read from $CREDENTIALS_DIRECTORY/pager_<file>."""
    section = README.read_text().split("## Running as a systemd service", 1)[1]
    snippet = re.search(r"```yaml\n(.*?)```", section.split("\n## ", 1)[0], re.S)
    assert snippet is not None, "the section shows the pager.yaml settings as a yaml block"
    settings = yaml.safe_load(snippet[1])
    example = yaml.safe_load((REPO / "pager.yaml").read_text())
    for key, value in settings.items():
        if isinstance(value, dict) and isinstance(example.get(key), dict):
            example[key].update(value)
        else:
            example[key] = value
    config_dir = tmp_path / "etc"
    config_dir.mkdir()
    for sub in ("holidays", "rotations", "ladders"):
        (config_dir / sub).symlink_to(REPO / sub)
    (config_dir / "people.yaml").symlink_to(REPO / "people.yaml")
    (config_dir / "pager.yaml").write_text(yaml.safe_dump(example))
    credentials = tmp_path / "run-credentials"
    credentials.mkdir()
    for name in ("twilio", "smtp", "mqtt"):  # as systemd names the directory's files
        (credentials / f"pager_{name}").write_text(f"{name}-secret\n")
    config = load_config(
        config_dir, require_secrets=True, environ={"CREDENTIALS_DIRECTORY": str(credentials)}
    )
    assert config.settings.twilio.auth_token == "twilio-secret"
    assert config.settings.smtp.password == "smtp-secret"
    assert config.settings.mqtt.password == "mqtt-secret"
    assert config.settings.store == "sqlite:/var/lib/pager/pager.db"


def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    pager_bin = Path(sys.executable).parent / "pager"
    assert pager_bin.exists(), "the console script is installed by `make venv`"
    credentials = tmp_path / "credentials"
    credentials.mkdir(mode=0o700)
    (credentials / "twilio").write_text("token\n")
    unit = tmp_path / "pager.service"
    unit.write_text(
        UNIT.read_text()
        .replace("/opt/pager/.venv/bin/pager", str(pager_bin))
        .replace("/etc/credstore/pager", str(credentials))
        .replace("file:///opt/pager/", f"file://{REPO}/")
    )
    proc = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    # Unknown keys only warn (exit 0): anything printed is a problem.
    assert proc.returncode == 0, proc.stderr
    assert (proc.stderr + proc.stdout).strip() == ""
