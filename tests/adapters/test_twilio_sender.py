"""TwilioSender with the real twilio library against the fake Twilio server."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from pager.adapters.twilio import TwilioSender, parse_retry_after
from pager.daemon.outbox.delivery import PermanentFailure, TemporaryFailure, sms_digest
from testkit.fake_twilio import FakeTwilio, Fault
from testkit.mosquitto import free_port
from tests.conftest import TWILIO_FROM

FROM = TWILIO_FROM  # the twilio_sender fixture's number
TO = "+40700000001"


async def test_sms_reaches_the_server_with_basic_auth(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    sid = await twilio_sender.send_sms(TO, "SEV1 T-1042 Acme: gateway down. Reply 7 to ack")

    [request] = fake_twilio.requests
    assert request.kind == "sms"
    assert request.authorized and request.accepted
    assert request.account_sid == fake_twilio.account_sid
    assert (request.to, request.from_) == (TO, FROM)
    assert request.body == "SEV1 T-1042 Acme: gateway down. Reply 7 to ack"
    assert sid == request.sid and sid.startswith("SM")


async def test_call_posts_answer_url_and_status_callback(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    sid = await twilio_sender.call(
        TO, "https://pager.example.com/twilio/voice/p1", "https://pager.example.com/twilio/status"
    )

    [request] = fake_twilio.calls
    assert sid == request.sid and sid.startswith("CA")
    assert request.url == "https://pager.example.com/twilio/voice/p1"
    assert request.form["Method"] == "POST"
    assert request.status_callback == "https://pager.example.com/twilio/status"
    assert (request.to, request.from_) == (TO, FROM)


async def test_call_without_status_callback(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    await twilio_sender.call(TO, "https://pager.example.com/twilio/voice/p2")
    [request] = fake_twilio.calls
    assert "StatusCallback" not in request.form


async def test_wrong_token_is_refused_permanently(fake_twilio: FakeTwilio) -> None:
    twilio_sender = TwilioSender(
        account_sid=fake_twilio.account_sid,
        auth_token="not-the-token",
        from_number=FROM,
        api_base=fake_twilio.api_base,
    )
    try:
        with pytest.raises(PermanentFailure, match=r"401.*20003"):
            await twilio_sender.send_sms(TO, "x")
    finally:
        await twilio_sender.close()
    assert not fake_twilio.requests[0].authorized


@pytest.mark.parametrize(
    ("status", "code", "problem_details"),
    [(500, 20500, False), (503, 20503, True), (502, None, False)],
)
async def test_server_errors_are_temporary(
    twilio_sender: TwilioSender,
    fake_twilio: FakeTwilio,
    status: int,
    code: int | None,
    problem_details: bool,
) -> None:
    fake_twilio.fail_next(status, code=code, problem_details=problem_details)
    with pytest.raises(TemporaryFailure, match=f"HTTP {status}"):
        await twilio_sender.send_sms(TO, "x")
    # No retries inside the adapter: a retried POST could page twice.
    assert len(fake_twilio.requests) == 1


async def test_429_is_temporary_with_retry_after(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.fail_next(429, code=20429, retry_after="7")
    with pytest.raises(TemporaryFailure) as caught:
        await twilio_sender.send_sms(TO, "x")
    assert caught.value.retry_after == 7.0
    assert "20429" in str(caught.value)


@pytest.mark.parametrize(
    ("code", "problem_details"), [(21610, False), (21614, False), (21610, True)]
)
async def test_client_errors_are_permanent_with_code(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio, code: int, problem_details: bool
) -> None:
    fake_twilio.fail_next(400, code=code, problem_details=problem_details)
    with pytest.raises(PermanentFailure, match=str(code)):
        await twilio_sender.send_sms(TO, "x")


async def test_unsubscribed_number_rule_and_invalid_number(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.refuse("+15550000009", code=21610)
    with pytest.raises(PermanentFailure, match="21610"):
        await twilio_sender.send_sms("+15550000009", "x")
    with pytest.raises(PermanentFailure, match="21211"):
        await twilio_sender.send_sms("0700 000 001", "x")
    # The rule is per number: others still go through, and it is not used up.
    assert (await twilio_sender.send_sms(TO, "x")).startswith("SM")
    with pytest.raises(PermanentFailure):
        await twilio_sender.call("+15550000009", "https://pager.example.com/v")


async def test_stall_times_out_as_temporary(fake_twilio: FakeTwilio) -> None:
    twilio_sender = TwilioSender(
        account_sid=fake_twilio.account_sid,
        auth_token=fake_twilio.auth_token,
        from_number=FROM,
        api_base=fake_twilio.api_base,
        timeout=0.3,
    )
    fake_twilio.stall_next(30)
    started = time.monotonic()
    try:
        with pytest.raises(TemporaryFailure, match=r"0\.3s"):
            await twilio_sender.send_sms(TO, "x")
        elapsed = time.monotonic() - started
        assert 0.25 < elapsed < 2.0
        # The session is still usable after a timed-out request.
        assert (await twilio_sender.send_sms(TO, "after")).startswith("SM")
    finally:
        await twilio_sender.close()


async def test_connection_refused_is_temporary() -> None:
    twilio_sender = TwilioSender(
        account_sid="AC" + "1" * 32,
        auth_token="t",
        from_number=FROM,
        api_base=f"http://127.0.0.1:{free_port()}",
        timeout=2.0,
    )
    try:
        with pytest.raises(TemporaryFailure, match="twilio sms"):
            await twilio_sender.send_sms(TO, "x")
    finally:
        await twilio_sender.close()


async def test_api_base_rewrites_host_and_keeps_prefix_and_query(
    fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An edge/region in the environment must not send requests elsewhere.
    monkeypatch.setenv("TWILIO_EDGE", "sydney")
    monkeypatch.setenv("TWILIO_REGION", "au1")
    twilio_sender = TwilioSender(
        account_sid=fake_twilio.account_sid,
        auth_token=fake_twilio.auth_token,
        from_number=FROM,
        api_base=fake_twilio.api_base + "/",
    )
    try:
        assert (await twilio_sender.send_sms(TO, "via base")).startswith("SM")
        http = twilio_sender._http
        assert http is not None
        assert (
            http.rebase("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?a=1")
            == f"{fake_twilio.api_base}/2010-04-01/Accounts/AC1/Messages.json?a=1"
        )
    finally:
        await twilio_sender.close()

    proxied = TwilioSender(
        account_sid="AC1",
        auth_token="t",
        from_number=FROM,
        api_base="https://proxy.example.com:8443/twilio/",
    )
    try:
        await proxied.close()  # closing an unused twilio_sender is fine
        proxied._twilio()
        assert proxied._http is not None
        assert (
            proxied._http.rebase("https://messaging.twilio.com/v1/Services?PageSize=5")
            == "https://proxy.example.com:8443/twilio/v1/Services?PageSize=5"
        )
    finally:
        await proxied.close()


def test_bad_api_base_and_timeout_are_rejected() -> None:
    with pytest.raises(ValueError, match="timeout"):
        TwilioSender(account_sid="AC1", auth_token="t", from_number=FROM, timeout=0)


async def test_bad_api_base_is_rejected_on_first_use() -> None:
    twilio_sender = TwilioSender(
        account_sid="AC1", auth_token="t", from_number=FROM, api_base="ftp://x"
    )
    with pytest.raises(ValueError, match="api_base"):
        await twilio_sender.send_sms(TO, "x")
    await twilio_sender.close()


async def test_close_then_send_again(twilio_sender: TwilioSender, fake_twilio: FakeTwilio) -> None:
    await twilio_sender.send_sms(TO, "one")
    await twilio_sender.close()
    await twilio_sender.send_sms(TO, "two")
    assert [r.body for r in fake_twilio.messages] == ["one", "two"]


def test_repr_hides_the_token() -> None:
    twilio_sender = TwilioSender(
        account_sid="AC1", auth_token="very-secret-token", from_number=FROM, api_base="http://x"
    )
    assert "very-secret-token" not in repr(twilio_sender)


async def test_fake_checks_basic_auth_header_itself(fake_twilio: FakeTwilio) -> None:
    url = f"{fake_twilio.api_base}/2010-04-01/Accounts/{fake_twilio.account_sid}/Messages.json"
    good = base64.b64encode(f"{fake_twilio.account_sid}:{fake_twilio.auth_token}".encode())
    form = {"To": TO, "From": FROM, "Body": "hi"}
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=form) as resp:
            assert resp.status == 401
        async with session.post(
            url, data=form, headers={"Authorization": "Basic " + good.decode()}
        ) as resp:
            assert resp.status == 201
            payload = await resp.json()
    assert payload["status"] == "queued" and payload["sid"].startswith("SM")
    assert [r.authorized for r in fake_twilio.requests] == [False, True]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("7", 7.0),
        (" 1.5 ", 1.5),
        ("-3", 0.0),
        ("Wed, 21 Oct 2015 07:28:10 GMT", 10.0),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 0.0),
        ("soon", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    now = datetime.fromtimestamp(1445412480.0, UTC)  # 2015-10-21T07:28:00Z
    assert parse_retry_after(value, now=now) == expected


# --- find_sms: asking Twilio whether an interrupted send went out -------------------------


def _a_minute_ago() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=1)


async def test_find_sms_finds_the_message_with_that_text(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    first = await twilio_sender.send_sms(TO, "SEV1 T-1 Acme: gateway down. Reply 1 to ack")
    second = await twilio_sender.send_sms(TO, "SEV2 T-2 Globex: slow. Reply 2 to ack")
    await twilio_sender.send_sms("+40700000002", "SEV2 T-2 Globex: slow. Reply 2 to ack")

    since = _a_minute_ago()
    assert (
        await twilio_sender.find_sms(
            TO, sms_digest("SEV1 T-1 Acme: gateway down. Reply 1 to ack"), since
        )
        == first
    )
    assert (
        await twilio_sender.find_sms(TO, sms_digest("SEV2 T-2 Globex: slow. Reply 2 to ack"), since)
        == second
    )
    # The request filtered by recipient and our number, newest first, a bounded page.
    assert fake_twilio.lookups[-1]["To"] == TO
    assert fake_twilio.lookups[-1]["From"] == FROM
    assert int(fake_twilio.lookups[-1]["PageSize"]) <= 20


async def test_find_sms_none_for_other_text_number_or_an_older_message(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    await twilio_sender.send_sms(TO, "SEV1 T-1 Acme: gateway down. Reply 1 to ack")
    digest = sms_digest("SEV1 T-1 Acme: gateway down. Reply 1 to ack")

    assert await twilio_sender.find_sms(TO, sms_digest("something else"), _a_minute_ago()) is None
    assert await twilio_sender.find_sms("+40700000009", digest, _a_minute_ago()) is None
    # Created before the claim (minus skew) it asks about: an earlier message, not this one.
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert await twilio_sender.find_sms(TO, digest, later) is None


async def test_find_sms_ignores_a_message_twilio_reports_failed(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    sid = await twilio_sender.send_sms(TO, "SEV1 T-1 Acme: gateway down. Reply 1 to ack")
    fake_twilio.set_message_status(sid, "undelivered")

    digest = sms_digest("SEV1 T-1 Acme: gateway down. Reply 1 to ack")
    assert await twilio_sender.find_sms(TO, digest, _a_minute_ago()) is None


async def test_find_sms_raises_temporary_failure_when_twilio_cannot_answer(
    twilio_sender: TwilioSender, fake_twilio: FakeTwilio
) -> None:
    fake_twilio.add_number_rule(TO, Fault(status=503, code=20500))

    with pytest.raises(TemporaryFailure, match="lookup of sms"):
        await twilio_sender.find_sms(TO, sms_digest("x"), _a_minute_ago())
