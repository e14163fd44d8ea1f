"""DryRunSender prints notifications and never fails."""

from __future__ import annotations

import io

import pytest

from pager.adapters.dryrun import DryRunSender


async def test_lines_and_ids() -> None:
    out = io.StringIO()
    sender = DryRunSender(out)
    assert (
        await sender.send_sms("+40700000001", "SEV1 T-1 Acme: down. Reply 7 to ack") == "dry-sms-1"
    )
    assert await sender.send_sms("+40700000002", "it's two") == "dry-sms-2"
    assert (
        await sender.call("+40700000001", "https://pager.example.com/twilio/voice/p1")
        == "dry-voice-1"
    )
    assert (
        await sender.send_email(
            "razvan@example.com", "[SEV1] T-1 Acme: down", "Line one\nLine two\n"
        )
        == "dry-email-1"
    )
    assert out.getvalue().splitlines() == [
        "DRY-RUN sms to=+40700000001 body='SEV1 T-1 Acme: down. Reply 7 to ack'",
        'DRY-RUN sms to=+40700000002 body="it\'s two"',
        "DRY-RUN voice to=+40700000001 url=https://pager.example.com/twilio/voice/p1",
        "DRY-RUN email to=razvan@example.com subject='[SEV1] T-1 Acme: down'",
        "    Line one",
        "    Line two",
    ]


async def test_voice_status_url_is_shown() -> None:
    out = io.StringIO()
    await DryRunSender(out).call("+1555", "https://p.example.com/a", "https://p.example.com/s")
    assert out.getvalue() == (
        "DRY-RUN voice to=+1555 url=https://p.example.com/a status_url=https://p.example.com/s\n"
    )


async def test_default_stream_is_stdout_at_write_time(capsys: pytest.CaptureFixture[str]) -> None:
    sender = DryRunSender()
    await sender.send_sms("+40700000001", "hello")
    assert capsys.readouterr().out == "DRY-RUN sms to=+40700000001 body='hello'\n"


async def test_a_closed_stream_does_not_fail_the_send() -> None:
    out = io.StringIO()
    out.close()
    sender = DryRunSender(out)
    assert await sender.send_sms("+40700000001", "x") == "dry-sms-1"
    assert await sender.send_email("a@example.com", "s", "b") == "dry-email-1"
