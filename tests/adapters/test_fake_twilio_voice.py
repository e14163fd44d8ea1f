"""The fake Twilio's voice behaviour: answering calls, signed webhooks, TwiML and Gather.

A tiny aiohttp app plays pager's part: it checks every X-Twilio-Signature with
TwilioSignature and answers TwiML with a Gather, so this also proves that what the fake
signs is what a webhook server verifies.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import aiohttp
import pytest
from aiohttp import web

from pager.adapters.signature import TwilioSignature
from pager.adapters.twilio import TwilioSender
from pager.daemon.outbox.delivery import TemporaryFailure
from testkit.fake_twilio import FakeTwilio

TO = "+40700000001"
PROMPT = "SEV1 T-1 Acme. Press 4 to acknowledge, 5 to escalate, star to repeat."


@dataclass
class VoiceApp:
    base_url: str
    checker: TwilioSignature
    seen: list[tuple[str, dict[str, str], bool]] = field(default_factory=list)

    async def verify(self, request: web.Request) -> dict[str, str]:
        form = {k: str(v) for k, v in (await request.post()).items()}
        valid = self.checker.is_valid(
            request.rel_url.raw_path_qs, form, request.headers.get("X-Twilio-Signature")
        )
        self.seen.append((request.rel_url.raw_path_qs, form, valid))
        if not valid:
            raise web.HTTPForbidden()
        return form

    async def answer(self, request: web.Request) -> web.Response:
        await self.verify(request)
        page = request.query["page"]
        return twiml(
            f'<Gather numDigits="1" action="gather?page={page}" method="POST">'
            f"<Say>{PROMPT}</Say></Gather><Say>Goodbye.</Say>"
        )

    async def gather(self, request: web.Request) -> web.Response:
        form = await self.verify(request)
        page = request.query["page"]
        digits = form.get("Digits")
        if digits == "4":
            return twiml("<Say>Acknowledged. You own T-1.</Say>")
        if digits == "5":
            return twiml("<Say>Escalated.</Say><Hangup/>")
        return twiml(f"<Redirect>answer?page={page}</Redirect>")

    async def status(self, request: web.Request) -> web.Response:
        await self.verify(request)
        return web.Response(status=204)

    async def sms(self, request: web.Request) -> web.Response:
        await self.verify(request)
        return twiml("<Message>Acked T-1</Message>")


def twiml(verbs: str) -> web.Response:
    return web.Response(
        text=f'<?xml version="1.0" encoding="UTF-8"?><Response>{verbs}</Response>',
        content_type="text/xml",
    )


@pytest.fixture
async def voice_app(fake_twilio: FakeTwilio) -> AsyncIterator[VoiceApp]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    app_state = VoiceApp(base, TwilioSignature([fake_twilio.auth_token], base))
    app = web.Application()
    app.router.add_post("/voice/answer", app_state.answer)
    app.router.add_post("/voice/gather", app_state.gather)
    app.router.add_post("/voice/status", app_state.status)
    app.router.add_post("/sms", app_state.sms)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        yield app_state
    finally:
        await runner.cleanup()


async def test_answered_call_presses_4(
    fake_twilio: FakeTwilio, voice_app: VoiceApp, twilio_sender: TwilioSender
) -> None:
    fake_twilio.answer_calls(["4"])
    sid = await twilio_sender.call(
        TO, f"{voice_app.base_url}/voice/answer?page=p1", f"{voice_app.base_url}/voice/status"
    )
    [flow] = await fake_twilio.wait_for_flows(1)

    assert flow.error is None and flow.answered and flow.call_sid == sid
    assert [step.url for step in flow.steps] == [
        f"{voice_app.base_url}/voice/answer?page=p1",
        f"{voice_app.base_url}/voice/gather?page=p1",  # relative action resolved
    ]
    first = flow.steps[0].form
    assert first["CallSid"] == sid and first["To"] == TO and first["From"] == "+15550000001"
    assert first["AccountSid"] == fake_twilio.account_sid
    assert flow.steps[1].form["Digits"] == "4"
    assert flow.digits_sent == ["4"]
    assert flow.said == [PROMPT, "Acknowledged. You own T-1."]
    assert flow.status_callback is not None
    assert flow.status_callback.status == 204
    assert flow.status_callback.form["CallStatus"] == "completed"
    # Every request the fake made carried a signature the app accepted.
    assert [valid for _, _, valid in voice_app.seen] == [True, True, True]


async def test_star_repeats_then_5_escalates(
    fake_twilio: FakeTwilio, voice_app: VoiceApp, twilio_sender: TwilioSender
) -> None:
    fake_twilio.answer_calls(["*", "5"], to=TO)
    await twilio_sender.call(TO, f"{voice_app.base_url}/voice/answer?page=p2")
    [flow] = await fake_twilio.wait_for_flows(1)

    assert flow.error is None
    assert flow.digits_sent == ["*", "5"]
    assert [step.url.rsplit("/", 1)[1] for step in flow.steps] == [
        "answer?page=p2",
        "gather?page=p2",
        "answer?page=p2",
        "gather?page=p2",
    ]
    assert flow.said == [PROMPT, PROMPT, "Escalated."]
    assert flow.status_callback is None


async def test_no_digit_goes_on_after_the_gather(
    fake_twilio: FakeTwilio, voice_app: VoiceApp, twilio_sender: TwilioSender
) -> None:
    fake_twilio.answer_calls([])
    await twilio_sender.call(TO, f"{voice_app.base_url}/voice/answer?page=p3")
    [flow] = await fake_twilio.wait_for_flows(1)
    assert flow.digits_sent == []
    assert len(flow.steps) == 1
    assert flow.said == [PROMPT, "Goodbye."]


async def test_unanswered_call(
    fake_twilio: FakeTwilio, voice_app: VoiceApp, twilio_sender: TwilioSender
) -> None:
    fake_twilio.answer_calls(["4"], to="+40700000099")  # someone else answers
    await twilio_sender.call(TO, f"{voice_app.base_url}/voice/answer?page=p4")
    assert fake_twilio.flows == []  # nobody picked up, nothing reported

    fake_twilio.no_answer_callbacks = True
    await twilio_sender.call(
        TO, f"{voice_app.base_url}/voice/answer?page=p5", f"{voice_app.base_url}/voice/status"
    )
    [flow] = await fake_twilio.wait_for_flows(1)
    assert not flow.answered and flow.steps == []
    assert flow.status_callback is not None
    assert flow.status_callback.form["CallStatus"] == "no-answer"
    assert [path for path, _, _ in voice_app.seen] == ["/voice/status"]


async def test_forbidden_webhook_ends_the_flow(
    fake_twilio: FakeTwilio, voice_app: VoiceApp, twilio_sender: TwilioSender
) -> None:
    voice_app.checker = TwilioSignature(["a-different-token"], voice_app.base_url)
    fake_twilio.answer_calls(["4"])
    await twilio_sender.call(TO, f"{voice_app.base_url}/voice/answer?page=p6")
    [flow] = await fake_twilio.wait_for_flows(1)
    assert [step.status for step in flow.steps] == [403]
    assert flow.digits_sent == [] and flow.error is None


async def test_inbound_sms_is_signed(fake_twilio: FakeTwilio, voice_app: VoiceApp) -> None:
    status, body = await fake_twilio.send_inbound_sms(
        f"{voice_app.base_url}/sms", from_=TO, body="ack 7"
    )
    assert status == 200 and "<Message>Acked T-1</Message>" in body
    [(path, form, valid)] = voice_app.seen
    assert (path, valid) == ("/sms", True)
    assert form["Body"] == "ack 7" and form["From"] == TO and form["MessageSid"].startswith("SM")

    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{voice_app.base_url}/sms", data={"Body": "ack 7"}) as resp,
    ):
        assert resp.status == 403


async def test_sign_matches_what_the_app_verifies(fake_twilio: FakeTwilio) -> None:
    checker = TwilioSignature([fake_twilio.auth_token], "https://pager.example.com")
    form = {"From": TO, "Body": "7"}
    signature = fake_twilio.sign("https://pager.example.com/twilio/sms", form)
    assert checker.is_valid("/twilio/sms", form, signature)


async def test_kind_specific_faults_and_wait_timeout(
    fake_twilio: FakeTwilio, twilio_sender: TwilioSender
) -> None:
    fake_twilio.fail_next(500, kind="call")
    await twilio_sender.send_sms(TO, "not affected")
    assert [r.status for r in fake_twilio.requests] == [201]
    with pytest.raises(AssertionError, match="2 sms"):
        await fake_twilio.wait_for(2, kind="sms", timeout=0.05)
    with pytest.raises(TemporaryFailure):
        await twilio_sender.call(TO, "https://pager.example.com/voice")
    [refused] = await fake_twilio.wait_for(1, kind="call", accepted=None)
    assert refused.status == 500 and refused.sid is None
