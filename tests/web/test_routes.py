"""Every status route over aiohttp's test server with a real Service and store."""

from __future__ import annotations

import asyncio
import re
from datetime import datetime, timedelta
from pathlib import Path

import icalendar
from aiohttp.test_utils import TestClient, TestServer

from pager.core.events import parse_event
from pager.core.policy import Policy
from pager.daemon.engine import Engine
from pager.daemon.service import Service
from pager.store.sqlite.store import SqliteStore
from pager.web import auth
from tests.web.conftest import Client
from tests.web.rig import (
    NOW,
    SECRET,
    Clock,
    build,
    load,
    make_config_dir,
    open_ticket,
    opened,
)

BEARER = {"Authorization": f"Bearer {SECRET}"}
HTML_ROUTES = ["/status", "/status/ticket/T-1", "/status/people"]
API_ROUTES = ["/api/oncall", "/api/coverage", "/api/tickets", "/api/ticket/T-1", "/api/people"]
#: What must never leave the server: the example people's phone numbers and emails.
PEOPLE = (Path(__file__).resolve().parents[2] / "people.yaml").read_text()
SECRETS = re.findall(r'phone: "([^"]+)"', PEOPLE) + re.findall(r"email: (\S+)", PEOPLE)


def assert_no_contact(text: str) -> None:
    assert SECRETS, "the example people have phones and emails"
    for value in SECRETS:
        assert value not in text
    assert "@example.com" not in text


async def test_without_credentials_everything_is_refused(rig: tuple[Client, Service]) -> None:
    client, service = rig
    await open_ticket(service, "T-1")
    for path in HTML_ROUTES:
        response = await client.get(path)
        assert response.status == 401, path
        text = await response.text()
        assert '<form class="login"' in text and "T-1" not in text.split("next")[0]
    for path in API_ROUTES:
        response = await client.get(path)
        assert response.status == 401, path
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert await response.json() == {"error": "unauthorized"}
    wrong = {"Authorization": "Bearer nope"}
    assert (await client.get("/api/oncall", headers=wrong)).status == 401
    forged = {"Cookie": f"{auth.COOKIE}=9999999999.deadbeef"}
    assert (await client.get("/status", headers=forged)).status == 401


async def test_login_sets_an_http_only_cookie(rig: tuple[Client, Service]) -> None:
    client, _ = rig
    bad = await client.post("/status/login", data={"password": "guess", "next": "/status"})
    assert bad.status == 401 and "Wrong password" in await bad.text()
    good = await client.post(
        "/status/login",
        data={"password": SECRET, "next": "https://evil.example/"},
        allow_redirects=False,
    )
    assert good.status == 303
    assert good.headers["Location"] == "/status"  # no open redirect
    cookie = good.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and SECRET not in cookie
    page = await client.get("/status")
    assert page.status == 200
    api = await client.get("/api/oncall")  # the cookie works for the JSON too
    assert api.status == 200
    out = await client.post("/status/logout", allow_redirects=False)
    assert out.status == 303
    client.session.cookie_jar.clear()
    assert (await client.get("/status")).status == 401


async def test_status_page_shows_oncall_coverage_and_tickets(rig: tuple[Client, Service]) -> None:
    client, service = rig
    await open_ticket(service, "T-1", summary="call +1 555 010 0101 or ops@example.org")
    response = await client.get("/status", headers=BEARER)
    assert response.status == 200
    text = await response.text()
    assert '<meta http-equiv="refresh" content="30">' in text
    # rig.NOW's answers, derived by hand in tests/web/rig.py.
    row = text[text.index('data-rotation="support-engineers"') :]
    assert "Ana Dobre" in row[: row.index("</tr>")]
    row = text[text.index('data-rotation="duty-managers"') :]
    assert "Ioana Marin" in row[: row.index("</tr>")]
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="coverage"' in text
    assert 'data-ticket="T-1"' in text and "[phone]" in text and "[email]" in text
    assert "Content-Security-Policy" in response.headers
    assert_no_contact(text)


async def test_api_shapes(rig: tuple[Client, Service]) -> None:
    client, service = rig
    await open_ticket(service, "T-1")
    oncall = await (await client.get("/api/oncall", headers=BEARER)).json()
    assert oncall["now"] == "2026-12-02T10:00:00Z"
    by_name = {r["rotation"]: r for r in oncall["rotations"]}
    assert set(by_name) == {"duty-managers", "support-engineers", "weekend-oncall", "gappy"}
    se = by_name["support-engineers"]
    assert se["person"] == {"id": "ana", "name": "Ana Dobre"}
    assert se["region"] == "emea" and se["override"] is False
    # EMEA closes at 15:30 UTC; AMER (13:00-23:00 UTC) opened at 13:00: maria (k=4 of
    # [john, maria, kevin] -> 4 mod 3 = 1) takes new pages from 13:00.
    assert se["next_handoff"] == "2026-12-02T13:00:00Z"
    assert se["next_person"] == {"id": "maria", "name": "Maria Santos"}
    regions = {g["region"]: g for g in se["regions"]}
    assert regions["emea"]["covers"] and not regions["amer"]["covers"]
    assert regions["apj"]["local_time"] == "Wed 17:00 +07"

    coverage = await (
        await client.get("/api/coverage?rotation=gappy&week=2026-W49", headers=BEARER)
    ).json()
    assert coverage["week"] == "2026-W49" and coverage["start"] == "2026-11-30T00:00:00Z"
    assert [lane["region"] for lane in coverage["lanes"]] == ["office"]
    assert coverage["gaps"][0] == {"start": "2026-11-30T00:00:00Z", "end": "2026-11-30T09:00:00Z"}
    assert len(coverage["gaps"]) == 6  # before Monday, 4 nights, Friday 17:00 to the end
    assert (await client.get("/api/coverage?week=2026-W99", headers=BEARER)).status == 400
    assert (await client.get("/api/coverage?rotation=nope", headers=BEARER)).status == 404

    tickets = await (await client.get("/api/tickets", headers=BEARER)).json()
    assert tickets["total"] == 1
    (t,) = tickets["tickets"]
    assert t["id"] == "T-1" and t["severity"] == 1 and t["tier"] == "premier"
    assert t["customer"] == "Acme" and t["rung"] == 1 and t["rung_name"]
    assert t["respond_by"] is not None and t["respond_in"].startswith("in ")
    assert t["breached"] is False

    ticket = await (await client.get("/api/ticket/T-1", headers=BEARER)).json()
    assert ticket["id"] == "T-1" and ticket["timeline"]
    texts = [e["text"] for e in ticket["timeline"]]
    assert "opened: severity 1" in texts[0]
    assert "page to ana by sms (rung 1) - ticket opened" in texts
    assert (await client.get("/api/ticket/T-404", headers=BEARER)).status == 404
    for path in API_ROUTES:
        assert_no_contact(await (await client.get(path, headers=BEARER)).text())


async def test_countdown_turns_into_a_breach(rig: tuple[Client, Service], clock: Clock) -> None:
    client, service = rig
    await open_ticket(service, "T-1")
    before = await (await client.get("/api/ticket/T-1", headers=BEARER)).json()
    respond_by = datetime.fromisoformat(before["respond_by"])
    assert respond_by > NOW
    clock.now = respond_by + timedelta(minutes=1)
    after = await (await client.get("/api/tickets", headers=BEARER)).json()
    (t,) = after["tickets"]
    assert t["breached"] is True and t["respond_in"].endswith("overdue")
    page = await (await client.get("/status", headers=BEARER)).text()
    assert 'class="ticket breached"' in page


async def test_ticket_page_shows_the_timeline(rig: tuple[Client, Service]) -> None:
    client, service = rig
    await open_ticket(service, "T-1")
    text = await (await client.get("/status/ticket/T-1", headers=BEARER)).text()
    assert '<ol class="timeline">' in text and "opened" in text
    assert_no_contact(text)


async def test_calendar_feeds(rig: tuple[Client, Service]) -> None:
    client, _ = rig
    token = auth.feed_token(SECRET, "rotation", "support-engineers")
    url = f"/calendar/rotation/support-engineers.ics?token={token}"
    assert (await client.get("/calendar/rotation/support-engineers.ics")).status == 401
    assert (await client.get(url.replace(token, "x" * 32))).status == 401
    other = auth.feed_token(SECRET, "rotation", "duty-managers")
    assert (
        await client.get(f"/calendar/rotation/support-engineers.ics?token={other}")
    ).status == 401
    first = await client.get(url)
    assert first.status == 200 and first.content_type == "text/calendar"
    body = await first.read()
    calendar = icalendar.Calendar.from_ical(body)
    events = list(calendar.walk("VEVENT"))
    assert events and any("Ana Dobre" in str(e["summary"]) for e in events)
    uids = [str(e["uid"]) for e in events]
    assert len(set(uids)) == len(uids)
    again = icalendar.Calendar.from_ical(await (await client.get(url)).read())
    assert [str(e["uid"]) for e in again.walk("VEVENT")] == uids  # stable ids
    assert_no_contact(body.decode())

    person = f"/calendar/person/ana.ics?token={auth.feed_token(SECRET, 'person', 'ana')}"
    mine = icalendar.Calendar.from_ical(await (await client.get(person)).read())
    summaries = [str(e["summary"]) for e in mine.walk("VEVENT")]
    assert summaries and all("Ana Dobre" in s for s in summaries)
    assert (await client.get("/calendar/person/ana.ics?token=" + token)).status == 401


async def test_page_is_off_without_a_status_secret(tmp_path: Path) -> None:
    config = load(make_config_dir(tmp_path, secret=False))
    assert config.settings.http.status_secret is None
    service, server = build(config, tmp_path / "pager.db", Clock())
    await service.start()
    async with TestClient(TestServer(server.app())) as client:
        for path in [*HTML_ROUTES, *API_ROUTES, "/status/login", "/calendar/person/ana.ics"]:
            assert (await client.get(path, headers=BEARER)).status == 404, path
        assert (await client.get("/healthz")).status == 200  # its own rules, unchanged
        assert (await client.get("/metrics")).status == 200
    await service.close()


async def test_webhook_rules_unchanged_with_the_page_on(rig: tuple[Client, Service]) -> None:
    client, _ = rig
    # A Twilio webhook without a signature is still 403, bearer or not.
    response = await client.post("/twilio/sms", data={"From": "+1", "Body": "x"}, headers=BEARER)
    assert response.status == 403
    assert (await client.get("/healthz")).status == 200


async def test_ticket_list_follows_commits_and_other_processes(
    rig: tuple[Client, Service], tmp_path: Path
) -> None:
    client, service = rig

    async def listed() -> list[str]:
        body = await (await client.get("/api/tickets", headers=BEARER)).json()
        return [t["id"] for t in body["tickets"]]

    assert await listed() == []  # the first read: the whole store
    await open_ticket(service, "T-1")
    await open_ticket(service, "T-2", severity=2)
    assert await listed() == ["T-1", "T-2"]  # through the commit hook: nearest clock first
    closed = (
        '{"event_id": "T-1-close", "ticket_id": "T-1", "type": "closed",'
        ' "at": "2026-12-02T10:00:00Z"}'
    )
    assert (await service.ingest(parse_event(closed), NOW, closed)).status == "applied"
    assert await listed() == ["T-2"]
    # Another process (like `pager ack`) commits to the same store: seen via data_version.
    other = SqliteStore(service.store.path)
    engine = Engine(other, Policy(load(make_config_dir(tmp_path / "other"))))
    with other.transaction():
        payload = opened("T-3", severity=3)
        engine.ingest(parse_event(payload), NOW, payload)
    other.close()
    for _ in range(50):  # looked at every 2 s while the page is used
        if "T-3" in await listed():
            break
        await asyncio.sleep(0.1)
    assert await listed() == ["T-2", "T-3"]
