"""The aiohttp webhook server with a real Service over a temporary SQLite store."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from twilio.request_validator import RequestValidator

from pager.adapters.signature import TwilioSignature
from pager.adapters.webhooks import WebhookServer
from pager.core.events import parse_event
from pager.core.policy import Policy
from pager.daemon.metrics import Metrics
from pager.daemon.service import Service
from pager.store.sqlite.store import SqliteStore
from tests.shell.test_inbound import ALICE_PHONE, NOW, PUBLIC_URL, event_payload, make_config

TOKEN = "twilio-test-auth-token"
SECOND_TOKEN = "twilio-rotated-auth-token"


class Rig:
    """The server under test, its service and metrics, and a signing client."""

    def __init__(
        self,
        service: Service,
        server: WebhookServer,
        client: TestClient[web.Request, web.Application],
        metrics: Metrics,
    ):
        self.service = service
        self.server = server
        self.client = client
        self.metrics = metrics
        self.healthy: tuple[bool, str] = (True, "ok")

    async def open(self, ticket_id: str) -> None:
        payload = event_payload(ticket_id)
        result = await self.service.ingest(parse_event(payload), NOW, payload)
        assert result.status == "applied"

    async def post(
        self,
        path: str,
        form: dict[str, str],
        *,
        token: str = TOKEN,
        signature: str | None = None,
        sign: bool = True,
    ) -> aiohttp.ClientResponse:
        headers = {}
        if sign:
            headers["X-Twilio-Signature"] = signature or RequestValidator(token).compute_signature(
                PUBLIC_URL + path, form
            )
        return await self.client.post(path, data=form, headers=headers)

    async def sms(self, body: str, sid: str, sender: str = ALICE_PHONE) -> aiohttp.ClientResponse:
        return await self.post("/twilio/sms", {"From": sender, "Body": body, "MessageSid": sid})

    async def owner(self, ticket_id: str) -> str | None:
        state = await self.service.db(lambda e: e.ticket(ticket_id))
        assert state is not None
        return state.owner

    async def rung(self, ticket_id: str) -> int:
        state = await self.service.db(lambda e: e.ticket(ticket_id))
        assert state is not None
        return state.rung

    async def voice_token(self, ticket_id: str) -> str:
        rows = await self.service.db(lambda e: e.outbox.pending_for("alice", "voice"))
        tokens = [r.token for r in rows if r.ticket_id == ticket_id]
        assert tokens
        return tokens[0]

    def count(self, route: str, outcome: str) -> float:
        value = self.metrics.registry.get_sample_value(
            "pager_webhooks_total", {"route": route, "outcome": outcome}
        )
        return value or 0.0


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    service = Service(SqliteStore(tmp_path / "pager.db"), Policy(make_config()))
    await service.start()
    metrics = Metrics()
    holder: list[Rig] = []
    server = WebhookServer(
        service=service,
        signature=TwilioSignature([TOKEN, SECOND_TOKEN], PUBLIC_URL),
        metrics=metrics,
        public_url=PUBLIC_URL,
        health=lambda: holder[0].healthy,
        clock=lambda: NOW,
        max_body=4096,
    )
    client = TestClient(TestServer(server.app()))
    await client.start_server()
    rig = Rig(service, server, client, metrics)
    holder.append(rig)
    try:
        yield rig
    finally:
        await client.close()
        await service.close()


def message(text: str) -> str | None:
    root = ET.fromstring(text)
    assert root.tag == "Response"
    return root.findtext("Message")


def says(text: str) -> list[str]:
    return [el.text or "" for el in ET.fromstring(text).iter("Say")]


# --- SMS --------------------------------------------------------------------------------


async def test_signed_sms_acknowledges(rig: Rig) -> None:
    await rig.open("T-1")

    response = await rig.sms("1", "SM0001")

    assert response.status == 200
    assert response.content_type == "application/xml"
    assert message(await response.text()) == (
        "Acked T-1 (SEV1 Acme). You own it. Status report due 05:00Z"
    )
    assert await rig.owner("T-1") == "alice"
    assert rig.count("sms", "ok") == 1


async def test_sms_signed_with_the_second_token_is_accepted(rig: Rig) -> None:
    await rig.open("T-1")
    response = await rig.post(
        "/twilio/sms",
        {"From": ALICE_PHONE, "Body": "1", "MessageSid": "SM0002"},
        token=SECOND_TOKEN,
    )
    assert response.status == 200
    assert await rig.owner("T-1") == "alice"


async def test_forged_signature_is_refused_and_changes_nothing(rig: Rig) -> None:
    await rig.open("T-1")
    form = {"From": ALICE_PHONE, "Body": "1", "MessageSid": "SM0003"}

    forged = RequestValidator("not-the-token").compute_signature(PUBLIC_URL + "/twilio/sms", form)
    response = await rig.post("/twilio/sms", form, signature=forged)

    assert response.status == 403
    assert await rig.owner("T-1") is None
    assert rig.count("sms", "forbidden") == 1
    # The refused request did not consume its MessageSid: the genuine one still applies.
    assert (await rig.sms("1", "SM0003")).status == 200
    assert await rig.owner("T-1") == "alice"


async def test_signature_over_another_url_or_altered_form_is_refused(rig: Rig) -> None:
    await rig.open("T-1")
    form = {"From": ALICE_PHONE, "Body": "1", "MessageSid": "SM0004"}
    wrong_url = RequestValidator(TOKEN).compute_signature(
        "https://elsewhere.example.com/twilio/sms", form
    )
    assert (await rig.post("/twilio/sms", form, signature=wrong_url)).status == 403
    signed = RequestValidator(TOKEN).compute_signature(PUBLIC_URL + "/twilio/sms", form)
    altered = {**form, "Body": "1e"}
    assert (await rig.post("/twilio/sms", altered, signature=signed)).status == 403
    assert await rig.owner("T-1") is None and await rig.rung("T-1") == 1


async def test_missing_signature_is_refused(rig: Rig) -> None:
    await rig.open("T-1")
    form = {"From": ALICE_PHONE, "Body": "1", "MessageSid": "SM0005"}
    response = await rig.post("/twilio/sms", form, sign=False)
    assert response.status == 403
    assert await rig.owner("T-1") is None


async def test_unknown_sender_gets_empty_twiml_and_is_logged(
    rig: Rig, caplog: pytest.LogCaptureFixture
) -> None:
    await rig.open("T-1")
    caplog.set_level(logging.INFO, logger="pager.webhooks")

    response = await rig.sms("1", "SM0006", sender="+15550009999")

    assert response.status == 200
    text = await response.text()
    assert ET.fromstring(text).tag == "Response" and len(ET.fromstring(text)) == 0
    assert await rig.owner("T-1") is None
    assert rig.count("sms", "unknown_sender") == 1
    assert any("unknown_sender" in r.getMessage() for r in caplog.records)
    # The SMS text itself is never logged.
    assert not any("Body" in r.getMessage() for r in caplog.records)


async def test_repeated_message_sid_is_answered_but_applied_once(rig: Rig) -> None:
    await rig.open("T-1")
    await rig.open("T-2")

    first = await rig.sms("1e", "SM0007")
    again = await rig.sms("1e", "SM0007")

    assert message(await first.text()) == "Escalated T-1 to rung 2 (duty-manager)"
    assert again.status == 200
    assert message(await again.text()) == "Already handled."
    assert await rig.rung("T-1") == 2
    audit = await rig.service.db(lambda e: e.audit("T-1"))
    assert sum(1 for a in audit if a.action == "escalate") == 1
    assert rig.count("sms", "duplicate") == 1


async def test_missing_fields_are_a_bad_request(rig: Rig) -> None:
    response = await rig.post("/twilio/sms", {"Body": "1", "MessageSid": "SM0008"})
    assert response.status == 400


async def test_oversized_chunked_body_is_refused(rig: Rig) -> None:
    await rig.open("T-1")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"From=%2B15550000101&MessageSid=SM0011&Body=1"
        for _ in range(10):
            yield b"+" * 1000

    # No Content-Length: the limit is enforced while reading the body.
    response = await rig.client.post(
        "/twilio/sms",
        data=chunks(),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": "irrelevant",
        },
    )
    assert response.status == 413
    assert await rig.owner("T-1") is None


async def test_oversized_body_is_refused(rig: Rig) -> None:
    await rig.open("T-1")
    form = {"From": ALICE_PHONE, "Body": "1" + " " * 10_000, "MessageSid": "SM0009"}

    response = await rig.post("/twilio/sms", form)

    assert response.status == 413
    assert await rig.owner("T-1") is None
    assert rig.count("sms", "too_large") == 1


# --- voice ------------------------------------------------------------------------------


async def test_voice_answer_and_key_4_acknowledges(rig: Rig) -> None:
    await rig.open("T-1")
    token = await rig.voice_token("T-1")

    answer = await rig.post(f"/twilio/voice/answer/{token}", {"CallSid": "CA1"})
    assert answer.status == 200
    root = ET.fromstring(await answer.text())
    gather = root.find("Gather")
    assert gather is not None
    assert gather.get("action") == f"{PUBLIC_URL}/twilio/voice/gather/{token}"

    pressed = await rig.post(f"/twilio/voice/gather/{token}", {"CallSid": "CA1", "Digits": "4"})

    assert pressed.status == 200
    assert says(await pressed.text())[0].startswith("Acknowledged. You own ticket T 1.")
    assert await rig.owner("T-1") == "alice"
    assert rig.count("voice_gather", "ok") == 1


async def test_voice_key_5_escalates(rig: Rig) -> None:
    await rig.open("T-1")
    token = await rig.voice_token("T-1")
    pressed = await rig.post(f"/twilio/voice/gather/{token}", {"Digits": "5"})
    assert says(await pressed.text()) == ["Escalated ticket T 1 to rung 2, duty-manager. Goodbye."]
    assert await rig.rung("T-1") == 2


async def test_voice_star_repeats(rig: Rig) -> None:
    await rig.open("T-1")
    token = await rig.voice_token("T-1")
    answer = await rig.post(f"/twilio/voice/answer/{token}", {})
    repeat = await rig.post(f"/twilio/voice/gather/{token}", {"Digits": "*"})
    assert await repeat.text() == await answer.text()
    assert await rig.owner("T-1") is None and await rig.rung("T-1") == 1


async def test_voice_routes_need_a_signature(rig: Rig) -> None:
    await rig.open("T-1")
    token = await rig.voice_token("T-1")
    for route in ("answer", "gather", "status"):
        response = await rig.post(f"/twilio/voice/{route}/{token}", {"Digits": "4"}, sign=False)
        assert response.status == 403, route
    assert await rig.owner("T-1") is None


async def test_voice_status_callback(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    await rig.open("T-1")
    token = await rig.voice_token("T-1")
    caplog.set_level(logging.INFO, logger="pager.webhooks")

    response = await rig.post(
        f"/twilio/voice/status/{token}", {"CallSid": "CA1", "CallStatus": "no-answer"}
    )

    assert response.status == 204
    assert await rig.owner("T-1") is None
    lines = [r.getMessage() for r in caplog.records if r.name == "pager.webhooks"]
    assert any("status=no-answer" in line and "T-1 alice" in line for line in lines)
    assert not any(token in line for line in lines)  # the call token is a capability


# --- operations ---------------------------------------------------------------------------


async def test_healthz(rig: Rig) -> None:
    ok = await rig.client.get("/healthz")
    assert ok.status == 200 and (await ok.text()).strip() == "ok"

    rig.healthy = (False, "not connected to the broker")
    bad = await rig.client.get("/healthz")

    assert bad.status == 503
    assert "not connected to the broker" in await bad.text()
    assert rig.count("healthz", "unhealthy") == 1


async def test_metrics_page(rig: Rig) -> None:
    await rig.client.get("/healthz")
    response = await rig.client.get("/metrics")
    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    text = await response.text()
    assert 'pager_webhooks_total{outcome="ok",route="healthz"} 1.0' in text


async def test_unknown_path_is_404_and_counted(rig: Rig) -> None:
    response = await rig.client.get("/nope")
    assert response.status == 404
    assert rig.count("other", "not_found") == 1


async def test_update_swaps_token_and_public_url(rig: Rig) -> None:
    await rig.open("T-1")
    new_url = "https://pager2.example.com"
    rig.server.update(signature=TwilioSignature(["new-token"], new_url), public_url=new_url)
    form = {"From": ALICE_PHONE, "Body": "ack 1", "MessageSid": "SM0010"}

    old = await rig.post("/twilio/sms", form)
    assert old.status == 403

    signed = RequestValidator("new-token").compute_signature(new_url + "/twilio/sms", form)
    new = await rig.post("/twilio/sms", form, signature=signed)
    assert new.status == 200
    assert await rig.owner("T-1") == "alice"


async def test_start_on_a_free_port_and_stop(tmp_path: Path) -> None:
    service = Service(SqliteStore(tmp_path / "pager.db"), Policy(make_config()))
    server = WebhookServer(
        service=service,
        signature=TwilioSignature([TOKEN], PUBLIC_URL),
        metrics=Metrics(),
        public_url=PUBLIC_URL,
        health=lambda: (True, "ok"),
        clock=lambda: NOW,
    )
    port = await server.start("127.0.0.1", 0)
    try:
        assert port > 0
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            assert response.status == 200
    finally:
        await server.stop()
        await service.close()
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session:
            await session.get(f"http://127.0.0.1:{port}/healthz")
