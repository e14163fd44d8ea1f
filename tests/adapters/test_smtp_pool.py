"""SmtpMailer's connection pool against the aiosmtpd harness: many messages over few
connections, a dropped session reconnected without losing the message, a stalled relay
bounded by the timeout and its session not reused."""

from __future__ import annotations

import asyncio

import pytest

from pager.adapters.smtp import SmtpMailer
from pager.daemon.outbox.delivery import TemporaryFailure
from testkit.smtp_server import SmtpServer

FROM = "pager@example.com"


def mailer(server: SmtpServer, **options: object) -> SmtpMailer:
    return SmtpMailer(host=server.host, port=server.port, from_address=FROM, **options)  # type: ignore[arg-type]


async def test_a_burst_goes_over_at_most_the_pool_size_of_connections(
    smtp_server: SmtpServer,
) -> None:
    m = mailer(smtp_server, connections=3, timeout=5.0)
    sends = [m.send_email(f"p{i}@example.com", f"s{i}", f"b{i}") for i in range(200)]
    ids = await asyncio.gather(*sends)
    mails = await smtp_server.wait_for(200)
    assert len(set(ids)) == 200
    assert sorted(m.rcpt_tos[0] for m in mails) == sorted(f"p{i}@example.com" for i in range(200))
    assert smtp_server.connections_opened <= 3
    assert m.connects == smtp_server.connections_opened
    # Sequential sends reuse one session.
    before = smtp_server.connections_opened
    for i in range(20):
        await m.send_email("seq@example.com", "s", f"{i}")
    assert smtp_server.connections_opened == before
    await m.close()


async def test_a_dropped_session_is_reconnected_and_the_message_is_not_lost(
    smtp_server: SmtpServer,
) -> None:
    m = mailer(smtp_server, connections=1, timeout=5.0)
    await m.send_email("a@example.com", "first", "1")
    assert smtp_server.connections_opened == 1
    assert await smtp_server.drop_connections() == 1
    await asyncio.sleep(0.05)  # the client sees the close (or not yet: both must work)

    await m.send_email("a@example.com", "second", "2")
    mails = await smtp_server.wait_for(2)
    assert [x.subject for x in mails] == ["first", "second"]
    assert smtp_server.connections_opened == 2
    await m.close()


async def test_a_drop_the_client_has_not_noticed_yet_is_retried_once(
    smtp_server: SmtpServer,
) -> None:
    m = mailer(smtp_server, connections=1, timeout=5.0)
    await m.send_email("a@example.com", "first", "1")
    await smtp_server.drop_connections()  # no sleep: the next send meets a dead socket
    await m.send_email("a@example.com", "second", "2")
    assert [x.subject for x in await smtp_server.wait_for(2)] == ["first", "second"]
    await m.close()


async def test_a_refusal_keeps_the_session_for_the_next_message(smtp_server: SmtpServer) -> None:
    m = mailer(smtp_server, connections=1, timeout=5.0)
    smtp_server.fail_next(1, code=451, stage="RCPT")
    with pytest.raises(TemporaryFailure, match="451"):
        await m.send_email("a@example.com", "s", "b")
    await m.send_email("a@example.com", "s", "b")
    assert len(await smtp_server.wait_for(1)) == 1
    assert smtp_server.connections_opened == 1
    await m.close()


async def test_a_stalled_relay_times_out_and_its_session_is_not_reused(
    smtp_server: SmtpServer,
) -> None:
    m = mailer(smtp_server, connections=2, timeout=0.3)
    await m.send_email("a@example.com", "warm", "0")
    smtp_server.stall()
    with pytest.raises(TemporaryFailure, match=r"0\.3s"):
        await m.send_email("a@example.com", "stuck", "1")
    smtp_server.resume()
    await m.send_email("a@example.com", "after", "2")
    subjects = [x.subject for x in await smtp_server.wait_for(3)]
    # The stuck DATA completes server-side once resumed; the client gave up on it (a
    # retry of the outbox row may send it again: the duplicate window SPEC section 9 allows).
    assert subjects[0] == "warm" and "after" in subjects
    assert smtp_server.connections_opened == 2
    await m.close()


async def test_close_quits_the_idle_sessions(smtp_server: SmtpServer) -> None:
    m = mailer(smtp_server, connections=2, timeout=5.0)
    await asyncio.gather(*(m.send_email("a@example.com", "s", str(i)) for i in range(4)))
    await m.close()
    await m.send_email("a@example.com", "s", "after close")  # a new session, not an error
    assert len(await smtp_server.wait_for(5)) == 5
    await m.close()


async def test_non_ascii_subject_and_long_lines_arrive_as_written(smtp_server: SmtpServer) -> None:
    m = mailer(smtp_server, timeout=5.0)
    subject = "[SEV1] T-7 Société Générale: paiement refusé — " + "é" * 120
    body = "ligne courte\n" + "x" * 1500 + "\nfin ünïcode\n"
    await m.send_email("a@example.com", subject, body)
    [mail] = await smtp_server.wait_for(1)
    assert mail.subject == subject
    assert mail.text == body
    ascii_body = "plain\n" + "y" * 1200 + "\n"  # a line over SMTP's 998: not sent as 7bit
    await m.send_email("a@example.com", "s", ascii_body)
    assert (await smtp_server.wait_for(2))[1].text == ascii_body
    await m.close()
