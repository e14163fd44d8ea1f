"""The report on the status page (/status/report, /api/report) over a real Service and
store: the same figures as :func:`pager.report.build.build`, behind the status login."""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from pager.config.load import load_config
from pager.core.events import parse_event
from pager.core.model import Config
from pager.daemon.service import Service
from pager.report import render
from pager.report.build import build
from pager.store.reading import connect
from pager.web import reports
from tests.web.conftest import Client
from tests.web.rig import NOW, Clock, make_config_dir, opened
from tests.web.rig import build as build_site
from tests.web.test_routes import BEARER, assert_no_contact

Rig = tuple[Client, Service, Config]


@pytest.fixture
async def report_rig(tmp_path: Path) -> AsyncIterator[Rig]:
    """The web rig with the config's ``store`` naming the service's own store file (the
    report opens it read-only, as the daemon's would be)."""
    store = tmp_path / "pager.db"
    config = load_config(
        make_config_dir(tmp_path), require_secrets=True, environ={"PAGER_STORE": f"sqlite:{store}"}
    )
    service, server = build_site(config, store, Clock())
    await service.start()
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    yield client, service, config
    await client.close()
    await service.close()


async def _apply(service: Service, payload: str, now: datetime) -> None:
    result = await service.ingest(parse_event(payload), now, payload)
    assert result.status == "applied", result


async def _history(service: Service) -> None:
    """Three premier tickets in the last days: one acknowledged 5 minutes after its page,
    two left to run their ladders (pages, escalations, a breach) until NOW."""
    start = NOW - timedelta(days=2)
    for n, severity in ((1, 1), (2, 1), (3, 2)):
        at = start + timedelta(hours=n)
        await _apply(service, opened(f"T-{n}", at=at, severity=severity), at)
    await service.fire_due(start + timedelta(hours=1, minutes=1))
    result = await service.acknowledge("T-1", "ana", "sms", start + timedelta(hours=1, minutes=5))
    assert result.status == "applied", result
    at = start
    while at < NOW:  # the deadlines loop, every ten minutes
        at += timedelta(minutes=10)
        await service.fire_due(at)


def _expected(config: Config, start: datetime, end: datetime, tier: str | None = None) -> object:
    conn = connect(config.settings.store)
    try:
        return json.loads(render.json_text(build(config, conn, start, end, tier)))
    finally:
        conn.close()


async def test_report_needs_the_status_login(report_rig: Rig) -> None:
    client, _, _ = report_rig
    page = await client.get("/status/report")
    assert page.status == 401 and '<form class="login"' in await page.text()
    api = await client.get("/api/report")
    assert api.status == 401 and await api.json() == {"error": "unauthorized"}
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.get("/api/report", headers=wrong)).status == 401
    assert (await client.get("/status/report", headers=wrong)).status == 401


async def test_json_matches_the_report_builder(report_rig: Rig) -> None:
    client, service, config = report_rig
    await _history(service)
    # Default: the last 30 days up to the site's clock (NOW).
    response = await client.get("/api/report", headers=BEARER)
    assert response.status == 200
    assert response.headers["Cache-Control"] == "no-store"
    got = await response.json()
    want = _expected(config, NOW - timedelta(days=30), NOW)
    assert got == want
    # The figures are not empty: the three tickets, their pages, T-1's acknowledgement.
    assert got["tickets"] == 3
    assert sum(p["pages"] for p in got["people"]) >= 3
    assert sum(p["acks"] for p in got["people"]) == 1
    assert got["escalations_by_reason"], "the unacknowledged tickets escalated"
    assert_no_contact(await response.text())

    # An explicit period (dates, times with an offset) and a tier.
    query = "from=2026-11-30&to=2026-12-01T12:00:00%2B02:00&tier=premier"
    got = await (await client.get(f"/api/report?{query}", headers=BEARER)).json()
    start = datetime.fromisoformat("2026-11-30T00:00:00+00:00")
    assert got == _expected(config, start, NOW - timedelta(hours=24), "premier")
    assert got["tier"] == "premier" and got["tickets"] == 3
    assert got["start"] == "2026-11-30T00:00:00Z" and got["end"] == "2026-12-01T10:00:00Z"


async def test_html_has_the_charts_inside_the_status_page(report_rig: Rig) -> None:
    client, service, _ = report_rig
    await _history(service)
    response = await client.get("/status/report?tier=premier", headers=BEARER)
    assert response.status == 200
    text = await response.text()
    assert '<link rel="stylesheet" href="/status/static/status.css">' in text  # the look
    assert text.count("<svg") == 3 and "<?xml" not in text  # three charts, inline
    assert 'id="chart-pages-by-hour"' in text and "Escalations by reason" in text
    assert '<form class="report"' in text and 'value="2026-11-02T10:00:00Z"' in text
    assert '<option value="premier" selected>' in text
    assert "SLA attainment" in text and "3 ticket(s) opened" in text
    # matplotlib's SVG needs inline styles; scripts stay forbidden.
    csp = response.headers["Content-Security-Policy"]
    assert "style-src 'self' 'unsafe-inline'" in csp and "img-src 'self' data:" in csp
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert_no_contact(text)
    # The status page links to the report.
    status = await (await client.get("/status", headers=BEARER)).text()
    assert '<a href="/status/report">' in status


@pytest.mark.parametrize(
    ("query", "reason"),
    [
        ("from=yesterdayish", "from: not a time: 'yesterdayish'"),
        ("to=2026-13-01", "to: not a time: '2026-13-01'"),
        ("from=2026-12-02&to=2026-12-01", "'to' must be after 'from'"),
        ("from=2020-01-01&to=2026-01-01", "longer than 366 days"),
        ("tier=gold-plated", "unknown tier 'gold-plated'"),
    ],
)
async def test_bad_input_is_a_400_with_the_reason(report_rig: Rig, query: str, reason: str) -> None:
    client, _, _ = report_rig
    api = await client.get(f"/api/report?{query}", headers=BEARER)
    assert api.status == 400
    text = await api.text()
    assert reason in text and text.count("\n") == 1 and "Traceback" not in text
    page = await client.get(f"/status/report?{query}", headers=BEARER)
    assert page.status == 400
    html = await page.text()
    assert '<p class="error">' in html and "Traceback" not in html
    assert reason.replace("'", "&#39;") in html
    assert '<form class="report"' in html and "<svg" not in html


async def test_report_runs_off_the_event_loop(
    report_rig: Rig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The build runs in a worker thread, so the loop (and the store thread) go on."""
    client, _, _ = report_rig
    threads: list[int] = []
    real = reports.build

    def spy(*args: Any, **kwargs: Any) -> Any:
        threads.append(threading.get_ident())
        return real(*args, **kwargs)

    monkeypatch.setattr(reports, "build", spy)
    assert (await client.get("/api/report", headers=BEARER)).status == 200
    assert threads and threads[0] != threading.get_ident()


async def test_report_reads_a_read_only_connection(report_rig: Rig) -> None:
    """The report cannot write to the store it reads."""
    _, _, config = report_rig
    conn = connect(config.settings.store)
    try:
        with pytest.raises(sqlite3.OperationalError, match="readonly"):
            conn.execute("DELETE FROM audit")
    finally:
        conn.close()


async def test_report_is_off_with_the_status_page(tmp_path: Path) -> None:
    """Without ``http.status_auth_file`` the report routes answer 404 like the others."""
    store = tmp_path / "pager.db"
    config = load_config(
        make_config_dir(tmp_path, secret=False),
        require_secrets=True,
        environ={"PAGER_STORE": f"sqlite:{store}"},
    )
    service, server = build_site(config, store, Clock())
    await service.start()
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    try:
        for path in ("/status/report", "/api/report"):
            assert (await client.get(path, headers=BEARER)).status == 404, path
    finally:
        await client.close()
        await service.close()


async def test_a_store_the_report_cannot_open_is_a_503(rig: tuple[Client, Service]) -> None:
    """The conftest rig's config names ``sqlite::memory:``: no file to read the report from."""
    client, _ = rig
    for path in ("/api/report", "/status/report"):
        response = await client.get(path, headers=BEARER)
        assert response.status == 503, path
        text = await response.text()
        assert text.startswith("no store at") and text.count("\n") == 1
