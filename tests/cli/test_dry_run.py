"""`pager run --dry-run` needs no secret and never touches a live daemon's state (SPEC 9).

A real Mosquitto and the real `pager run` child: the dry run is pointed at a config
directory that has no Twilio token at all, while a "live daemon" session (a plain MQTT
client with the config's own `mqtt.client_id` and a persistent session) is connected.
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import yaml

from pager.store.sqlite.store import path_from_url
from testkit.daemon import DaemonProcess, copy_example, write_settings
from testkit.mosquitto import Mosquitto


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    with Mosquitto(tmp_path / "broker") as running:
        yield running


def _config_without_secrets(directory: Path, broker: Mosquitto, http_port: int = 0) -> Path:
    copy_example(directory)
    write_settings(directory, mqtt_url=broker.url, http_port=http_port)  # 0: any free port
    (directory / "twilio.secret").unlink()  # what a new user has: no token anywhere
    settings = yaml.safe_load((directory / "pager.yaml").read_text())
    settings["mqtt"]["client_id"] = "pager-live"
    (directory / "pager.yaml").write_text(yaml.safe_dump(settings))
    return directory


class _Client:
    """A paho client in its own network thread; records messages and disconnections."""

    def __init__(self, broker: Mosquitto, client_id: str, *, clean: bool) -> None:
        self.client = paho.Client(
            paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=clean
        )
        self.messages: list[tuple[str, bytes]] = []
        self.disconnects = 0
        self.session_present: bool | None = None
        self._up = threading.Event()
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = lambda _c, _u, m: self.messages.append((m.topic, m.payload))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert self._up.wait(5), "no CONNACK"

    def _on_connect(self, _c: object, _u: object, flags: object, _rc: object, _p: object) -> None:
        self.session_present = bool(getattr(flags, "session_present", False))
        self._up.set()

    def _on_disconnect(self, *_args: object) -> None:
        self.disconnects += 1

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_dry_run_without_any_secret_pages_and_leaves_the_live_state_alone(
    tmp_path: Path, broker: Mosquitto
) -> None:
    # The live daemon's webhook port is taken: the dry run listens elsewhere.
    live_http = socket.create_server(("127.0.0.1", 0))
    config = _config_without_secrets(tmp_path / "etc", broker, live_http.getsockname()[1])
    live_store = path_from_url(f"sqlite:{config / 'state' / 'pager.db'}")
    live = _Client(broker, "pager-live", clean=False)  # the live daemon's persistent session
    watcher = _Client(broker, f"watcher-{uuid.uuid4().hex[:6]}", clean=True)
    watcher.client.subscribe("pager/#", qos=1)
    daemon = DaemonProcess(config, dry_run=True)
    try:
        daemon.start()  # used to die: "at least one non-empty auth token is needed"
        connected = daemon.wait_for("mqtt: connected")
        dry_id = re.search(r"as '([^']+)'", connected)
        assert dry_id is not None and dry_id[1].startswith("pager-live-dry-run-")
        event = {
            "event_id": str(uuid.uuid4()),
            "ticket_id": "T-DRY",
            "type": "opened",
            "at": datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
            "severity": 1,
            "tier": "premier",
            "customer": "Acme Corp",
            "summary": "gateway down",
        }
        watcher.client.publish("support/tickets/T-DRY/events", json.dumps(event), qos=1)
        daemon.wait_for("DRY-RUN sms", timeout=10)
        time.sleep(0.5)  # a retained state publish would have arrived by now
    finally:
        assert daemon.stop() == 0
    try:
        # The live session was never taken over (same client id: the broker kicks it).
        assert live.disconnects == 0
        # Nothing published under the daemon's topics (retained state, dead letters).
        assert watcher.messages == []
        # The configured store was never created, the temporary one was removed.
        assert not live_store.exists()
        scratch = re.search(r"temporary store in (\S+)", daemon.output())
        assert scratch is not None and not Path(scratch[1]).exists()
        # The dry run left no session on the broker: reconnecting with its id finds none.
        again = _Client(broker, dry_id[1], clean=False)
        assert again.session_present is False
        again.close()
    finally:
        live.close()
        watcher.close()
        live_http.close()


def test_dry_run_store_option_keeps_the_tickets(tmp_path: Path, broker: Mosquitto) -> None:
    config = _config_without_secrets(tmp_path / "etc", broker)
    chosen = tmp_path / "dry" / "pager.db"
    chosen.parent.mkdir()
    daemon = DaemonProcess(config, dry_run=True, extra_args=["--store", f"sqlite:{chosen}"])
    try:
        daemon.start()
    finally:
        assert daemon.stop() == 0
    assert chosen.exists()
    assert not (config / "state" / "pager.db").exists()


def test_store_option_without_dry_run_is_a_usage_error(tmp_path: Path) -> None:
    from pager.cli.main import main

    assert main(["run", "-c", str(tmp_path), "--store", "sqlite:x.db"]) == 2
