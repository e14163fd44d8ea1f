"""A config directory (the shipped example plus a rotation with a gap and the status
secret), a Service over a temporary store, and the status site at a fixed instant."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from pager.adapters.signature import TwilioSignature
from pager.adapters.webhooks import WebhookServer
from pager.config.load import load_config
from pager.core.events import parse_event
from pager.core.model import Config
from pager.core.policy import Policy
from pager.daemon.metrics import Metrics
from pager.daemon.service import Service
from pager.store.sqlite.store import SqliteStore
from pager.web.site import StatusSite

REPO = Path(__file__).resolve().parents[2]
SECRET = "correct horse battery staple"
#: Wednesday of ISO week 2026-W49, 10:00 UTC (Bucharest 12:00, Ho Chi Minh 17:00,
#: New York 05:00). By hand from rotations/*.yaml: support-engineers' EMEA window
#: (08:30-17:30 Bucharest = 06:30-15:30 UTC) is the only one open, and the week of
#: 2026-11-30 is the fifth handoff since 2026-11-02 for EMEA's [razvan, ana, andrei]:
#: k=4, 4 mod 3 = 1 -> ana. duty-managers: APJ (06:00-18:00 HCM = 23:00-11:00 UTC)
#: and EMEA (08:00-20:00 Bucharest = 06:00-18:00 UTC) are open; EMEA's window began
#: later (06:00 > 23:00 the day before), so EMEA's member takes pages:
#: [ioana, mihai] from 2026-11-02, k=4 -> ioana.
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)
#: Monday to Friday 09:00-17:00 UTC, no after_hours: a gap every night and weekend.
GAPPY = """\
name: gappy
regions:
  office:
    timezone: UTC
    hours: {days: mon-fri, from: "09:00", to: "17:00"}
    members: [dung]
"""


def make_config_dir(tmp: Path, *, secret: bool = True) -> Path:
    """A copy of the shipped example config (secret files and store in ``tmp``)."""
    cfg = tmp / "config"
    cfg.mkdir(parents=True)
    shutil.copy(REPO / "people.yaml", cfg)
    shutil.copytree(REPO / "holidays", cfg / "holidays")
    shutil.copytree(REPO / "rotations", cfg / "rotations")
    shutil.copytree(REPO / "ladders", cfg / "ladders")
    (cfg / "rotations" / "gappy.yaml").write_text(GAPPY)
    text = (REPO / "pager.yaml").read_text()
    if secret:
        text = text.replace(
            "  public_url: http://127.0.0.1:8025\n",
            "  public_url: http://127.0.0.1:8025\n  status_auth_file: status.secret\n",
        )
        (cfg / "status.secret").write_text(SECRET + "\n")
    (cfg / "pager.yaml").write_text(text)
    (cfg / "twilio.secret").write_text("test-token\n")
    return cfg


def load(cfg: Path) -> Config:
    return load_config(cfg, require_secrets=True, environ={"PAGER_STORE": "sqlite::memory:"})


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def build(config: Config, store_path: Path, clock: Clock) -> tuple[Service, WebhookServer]:
    """The service and the webhook server with the status site mounted (not started)."""
    service = Service(SqliteStore(store_path), Policy(config))
    server = WebhookServer(
        service=service,
        signature=TwilioSignature(["test-token"], config.settings.http.public_url),
        metrics=Metrics(),
        public_url=config.settings.http.public_url,
        health=lambda: (True, "ok"),
        clock=clock,
    )
    site = StatusSite(service=service, clock=clock, tests_every=0.0)
    server.mounts.append(site.mount)
    return service, server


def opened(ticket_id: str, *, at: datetime = NOW, severity: int = 1, summary: str = "down") -> str:
    return (
        f'{{"event_id": "{ticket_id}-open", "ticket_id": "{ticket_id}", "type": "opened", '
        f'"at": "{at:%Y-%m-%dT%H:%M:%SZ}", "severity": {severity}, "tier": "premier", '
        f'"customer": "Acme", "summary": "{summary}"}}'
    )


async def open_ticket(service: Service, ticket_id: str, **kwargs: object) -> None:
    payload = opened(ticket_id, **kwargs)  # type: ignore[arg-type]
    result = await service.ingest(parse_event(payload), NOW, payload)
    assert result.status == "applied", result
