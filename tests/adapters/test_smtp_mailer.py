"""SmtpMailer with aiosmtplib against the aiosmtpd harness server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from pager.adapters.smtp import SmtpMailer
from pager.daemon.outbox.delivery import PermanentFailure, TemporaryFailure
from testkit.mosquitto import free_port
from testkit.smtp_server import SmtpServer

FROM = "pager@example.com"
TO = "razvan@example.com"
SUBJECT = "[SEV1] T-1042 Acme: gateway down"
BODY = "Ticket T-1042 (Acme), severity 1.\nRespond by 03:45Z.\nPaginé à 03:15 — ünïcode ok.\n"


def plain_mailer(server: SmtpServer, **options: object) -> SmtpMailer:
    return SmtpMailer(
        host=server.host,
        port=server.port,
        from_address=FROM,
        timeout=float(options.pop("timeout", 5.0)),  # type: ignore[arg-type]
        **options,  # type: ignore[arg-type]
    )


@pytest.fixture
async def tls_server() -> AsyncIterator[SmtpServer]:
    async with SmtpServer(starttls=True, username="pager", password="mail-pass") as server:
        yield server


async def test_plain_send(smtp_server: SmtpServer) -> None:
    message_id = await plain_mailer(smtp_server).send_email(TO, SUBJECT, BODY)

    [mail] = await smtp_server.wait_for(1)
    assert mail.mail_from == FROM
    assert mail.rcpt_tos == (TO,)
    assert mail.subject == SUBJECT
    assert mail.message["Message-ID"] == message_id
    assert message_id.endswith("@example.com>")
    assert mail.message["From"] == FROM and mail.message["To"] == TO
    assert mail.message["Date"] is not None
    assert mail.message.get_content_type() == "text/plain"
    assert mail.message.get_content_charset() == "utf-8"
    assert mail.text == BODY
    assert not mail.tls and mail.login is None


async def test_subject_newlines_cannot_inject_headers(smtp_server: SmtpServer) -> None:
    await plain_mailer(smtp_server).send_email(TO, "[SEV1] T-1\r\nBcc: evil@example.com", "b")
    [mail] = await smtp_server.wait_for(1)
    assert mail.subject == "[SEV1] T-1 Bcc: evil@example.com"
    assert mail.message["Bcc"] is None
    assert mail.rcpt_tos == (TO,)


async def test_starttls_and_auth(tls_server: SmtpServer) -> None:
    mailer = SmtpMailer(
        host=tls_server.host,
        port=tls_server.port,
        from_address=FROM,
        starttls=True,
        username="pager",
        password="mail-pass",
        tls_context=tls_server.client_tls_context(),
        timeout=5.0,
    )
    await mailer.send_email(TO, SUBJECT, BODY)
    [mail] = await tls_server.wait_for(1)
    assert mail.tls
    assert mail.login == "pager"
    assert mail.text == BODY


async def test_wrong_password_is_permanent(tls_server: SmtpServer) -> None:
    mailer = SmtpMailer(
        host=tls_server.host,
        port=tls_server.port,
        from_address=FROM,
        starttls=True,
        username="pager",
        password="wrong",
        tls_context=tls_server.client_tls_context(),
        timeout=5.0,
    )
    with pytest.raises(PermanentFailure, match="535"):
        await mailer.send_email(TO, SUBJECT, BODY)
    assert tls_server.auth_failures >= 1  # aiosmtplib tries PLAIN, then LOGIN
    assert tls_server.messages == []


async def test_untrusted_certificate_is_temporary(tls_server: SmtpServer) -> None:
    # The system trust store does not know the test's self-signed certificate.
    mailer = SmtpMailer(
        host=tls_server.host,
        port=tls_server.port,
        from_address=FROM,
        starttls=True,
        username="pager",
        password="mail-pass",
        timeout=5.0,
    )
    with pytest.raises(TemporaryFailure):
        await mailer.send_email(TO, SUBJECT, BODY)


async def test_server_requiring_starttls_refuses_plain_mail(tls_server: SmtpServer) -> None:
    with pytest.raises(PermanentFailure, match="530"):
        await plain_mailer(tls_server).send_email(TO, SUBJECT, BODY)


async def test_starttls_against_a_server_without_it_is_temporary(
    smtp_server: SmtpServer,
) -> None:
    # Never falls back to plain text; only a 5xx reply is permanent.
    with pytest.raises(TemporaryFailure, match="STARTTLS"):
        await plain_mailer(smtp_server, starttls=True).send_email(TO, SUBJECT, BODY)


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
async def test_451_is_temporary(smtp_server: SmtpServer, stage: str) -> None:
    smtp_server.fail_next(code=451, stage=stage)  # type: ignore[arg-type]
    with pytest.raises(TemporaryFailure, match="451"):
        await plain_mailer(smtp_server).send_email(TO, SUBJECT, BODY)
    # The failure was used up: the next transaction goes through.
    await plain_mailer(smtp_server).send_email(TO, SUBJECT, BODY)
    assert len(await smtp_server.wait_for(1)) == 1


@pytest.mark.parametrize("stage", ["MAIL", "RCPT", "DATA"])
async def test_550_is_permanent(smtp_server: SmtpServer, stage: str) -> None:
    smtp_server.fail_next(code=550, stage=stage)  # type: ignore[arg-type]
    with pytest.raises(PermanentFailure, match="550"):
        await plain_mailer(smtp_server).send_email(TO, SUBJECT, BODY)
    assert smtp_server.messages == []


async def test_connection_refused_is_temporary() -> None:
    mailer = SmtpMailer(host="127.0.0.1", port=free_port(), from_address=FROM, timeout=2.0)
    with pytest.raises(TemporaryFailure):
        await mailer.send_email(TO, SUBJECT, BODY)


async def test_silent_server_times_out_as_temporary() -> None:
    hung_up = asyncio.Event()

    async def never_greet(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # say nothing until the client gives up
        writer.close()
        await writer.wait_closed()
        hung_up.set()

    server = await asyncio.start_server(never_greet, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        mailer = SmtpMailer(host="127.0.0.1", port=port, from_address=FROM, timeout=0.3)
        with pytest.raises(TemporaryFailure, match=r"0\.3s"):
            await mailer.send_email(TO, SUBJECT, BODY)
        async with asyncio.timeout(2):
            await hung_up.wait()
    finally:
        server.close()
        await server.wait_closed()


def test_repr_hides_the_password() -> None:
    mailer = SmtpMailer(
        host="smtp.example.com", port=587, from_address=FROM, username="u", password="pw-123"
    )
    assert "pw-123" not in repr(mailer)


async def test_auth_without_tls() -> None:
    async with SmtpServer(username="pager", password="pw") as server:
        await plain_mailer(server, username="pager", password="pw").send_email(TO, "s", "b")
        [mail] = await server.wait_for(1)
        assert mail.login == "pager" and not mail.tls
        with pytest.raises(PermanentFailure, match="530"):
            await plain_mailer(server).send_email(TO, "s", "b")


async def test_failures_last_the_given_number_of_transactions(smtp_server: SmtpServer) -> None:
    smtp_server.fail_next(2, code=421, stage="RCPT")
    mailer = plain_mailer(smtp_server)
    for _ in range(2):
        with pytest.raises(TemporaryFailure, match="421"):
            await mailer.send_email(TO, "s", "b")
    await mailer.send_email(TO, "s", "b")
    assert len(smtp_server.messages) == 1


async def test_close_drops_idle_client_connections() -> None:
    server = SmtpServer()
    await server.start()
    reader, writer = await asyncio.open_connection(server.host, server.port)
    try:
        assert (await reader.readline()).startswith(b"220 ")
        await server.close()
        async with asyncio.timeout(2):
            assert await reader.read() == b""
    finally:
        writer.close()
        await writer.wait_closed()


async def test_a_resend_of_one_notification_keeps_its_message_id(smtp_server: SmtpServer) -> None:
    mailer = plain_mailer(smtp_server)
    first = await mailer.send_email(TO, SUBJECT, BODY, message_key="T-1#3")
    again = await mailer.send_email(TO, SUBJECT, BODY, message_key="T-1#3")
    other = await mailer.send_email(TO, SUBJECT, BODY, message_key="T-1#4")
    unkeyed = {await mailer.send_email(TO, SUBJECT, BODY) for _ in range(2)}
    assert first == again != other
    assert first.startswith("<pager.") and first.endswith("@example.com>")
    assert len(unkeyed) == 2 and first not in unkeyed
    mails = await smtp_server.wait_for(5)
    assert [m.message["Message-ID"] for m in mails[:3]] == [first, again, other]
