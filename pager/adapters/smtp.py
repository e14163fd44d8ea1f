"""Email through an SMTP relay with aiosmtplib, over a small pool of reused connections.

During an incident wave the daemon sends hundreds of emails a second; a handshake per
message (TCP, greeting, EHLO, STARTTLS, AUTH) would cost more than the messages. Up to
``connections`` sessions stay open and each sends message after message; a session the
relay dropped (idle timeout, restart) is noticed on its next use and the message is sent
again over a fresh connection, so a drop never loses a message.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import ssl
import time
from datetime import UTC, datetime
from email.header import Header
from email.utils import format_datetime, make_msgid

import aiosmtplib

from pager.daemon.outbox.delivery import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)

#: Sessions open at once (each sends one message at a time: SMTP is sequential).
POOL_SIZE = 8
#: A session idle longer than this is closed rather than reused: relays drop idle
#: clients after a few minutes (RFC 5321 suggests 5), and a stale session costs a retry.
MAX_IDLE = 60.0


class _Session:
    """One open SMTP connection and when it last finished a message."""

    def __init__(self, client: aiosmtplib.SMTP) -> None:
        self.client = client
        self.used = time.monotonic()


class SmtpMailer:
    """Implements :class:`pager.daemon.outbox.delivery.Mailer`.

    ``starttls`` upgrades the connection before anything else (and fails if the relay
    cannot); ``False`` never upgrades, even when offered. ``tls_context`` replaces the
    system trust store (e.g. a private CA). ``timeout`` bounds the whole send, waiting for
    a free session included. ``connections`` is the pool size.

    ``send_email`` returns the Message-ID, or raises PermanentFailure for a 5xx reply
    (mailbox or sender refused, authentication refused) and TemporaryFailure for
    anything else: a 4xx reply, a refused or dropped connection, a TLS error, a missing
    extension (e.g. STARTTLS not offered) or the timeout. :meth:`close` ends the sessions.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        from_address: str,
        starttls: bool = False,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
        connections: int = POOL_SIZE,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if connections < 1:
            raise ValueError("connections must be at least 1")
        self._host = host
        self._port = port
        self._from = from_address
        self._starttls = starttls
        self._username = username
        self._password = password
        self._timeout = timeout
        self._tls_context = tls_context
        # make_msgid() would otherwise ask DNS for our FQDN on every message.
        self._msgid_domain = from_address.rpartition("@")[2] or "pager.invalid"
        self._idle: list[_Session] = []
        self._slots = asyncio.Semaphore(connections)
        #: Connections opened so far (a figure for tests and the benchmark).
        self.connects = 0

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpMailer(host={self._host!r}, port={self._port}, from={self._from!r})"

    def build_message(
        self, to: str, subject: str, body: str, message_key: str = ""
    ) -> tuple[bytes, str]:
        """The plain-text UTF-8 message as it will be sent, and its Message-ID.

        With a ``message_key`` the Message-ID is derived from it (the same for a resend of
        the same notification); without, it is random. Formatted directly rather than
        through :class:`email.message.EmailMessage`, whose header machinery cost ~0.8 ms
        per message (more than the rest of a send) at the email rate of an incident wave:
        ASCII text goes as 7bit, anything else as base64; a non-ASCII subject as an
        RFC 2047 encoded word.
        """
        if message_key:
            digest = hashlib.sha256(message_key.encode()).hexdigest()[:32]
            message_id = f"<pager.{digest}@{self._msgid_domain}>"
        else:
            message_id = make_msgid(domain=self._msgid_domain)
        # A header must be one line; a newline in a summary must not inject headers.
        subject = " ".join(subject.split())
        if not subject.isascii():
            subject = Header(subject, "utf-8").encode(linesep="\r\n")
        lines = body.splitlines()
        if body.isascii() and all(len(line) <= 998 for line in lines):
            encoding, payload = "7bit", ("\r\n".join(lines) + "\r\n").encode("ascii")
        else:  # line ends inside base64 as the email package writes them ("\n")
            text = "\n".join(lines) + "\n"
            encoding = "base64"
            payload = base64.encodebytes(text.encode()).replace(b"\n", b"\r\n")
        head = (
            f"From: {_one_line(self._from)}\r\n"
            f"To: {_one_line(to)}\r\n"
            f"Subject: {subject}\r\n"
            f"Date: {format_datetime(datetime.now(UTC))}\r\n"
            f"Message-ID: {message_id}\r\n"
            "MIME-Version: 1.0\r\n"
            'Content-Type: text/plain; charset="utf-8"\r\n'
            f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
        )
        return head.encode("ascii") + payload, message_id

    async def send_email(self, to: str, subject: str, body: str, message_key: str = "") -> str:
        message, message_id = self.build_message(to, subject, body, message_key)
        try:
            async with asyncio.timeout(self._timeout), self._slots:
                await self._send(to, message)
        except aiosmtplib.SMTPRecipientsRefused as exc:
            raise _by_code(
                min((r.code for r in exc.recipients), default=550),
                f"smtp to {to}: refused: "
                + "; ".join(f"{r.code} {r.message}" for r in exc.recipients),
            ) from exc
        except aiosmtplib.SMTPResponseException as exc:
            raise _by_code(exc.code, f"smtp to {to}: {exc.code} {exc.message}") from exc
        except TimeoutError as exc:  # includes SMTPTimeoutError
            raise TemporaryFailure(f"smtp to {to}: no answer within {self._timeout:g}s") from exc
        except (aiosmtplib.SMTPException, OSError) as exc:  # OSError includes ssl.SSLError
            raise TemporaryFailure(f"smtp to {to}: {type(exc).__name__}: {exc}") from exc
        log.debug("smtp to %s accepted as %s", to, message_id)
        return message_id

    async def _send(self, to: str, message: bytes) -> None:
        """Send over an idle session, or a fresh one; a reused session that turns out
        dropped is replaced once (the message goes over the new connection)."""
        session = self._take_idle()
        if session is not None:
            try:
                await session.client.sendmail(self._from, [to], message)
            except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                log.debug("smtp session dropped by the relay; reconnecting")
                _discard(session)
            except BaseException as exc:
                self._after_error(session, exc)
                raise
            else:
                self._put_back(session)
                return
        session = await self._connect()
        try:
            await session.client.sendmail(self._from, [to], message)
        except BaseException as exc:
            self._after_error(session, exc)
            raise
        self._put_back(session)

    def _take_idle(self) -> _Session | None:
        now = time.monotonic()
        while self._idle:
            session = self._idle.pop()
            if session.client.is_connected and now - session.used < MAX_IDLE:
                return session
            _discard(session)
        return None

    def _after_error(self, session: _Session, exc: BaseException) -> None:
        """A refusal leaves the session reset (aiosmtplib sends RSET) and usable; any other
        error (timeout, cancellation, TLS) leaves it in an unknown state: close it."""
        if isinstance(exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused):
            self._put_back(session)
        else:
            _discard(session)

    def _put_back(self, session: _Session) -> None:
        """Keep a session that is still connected."""
        if session.client.is_connected:
            session.used = time.monotonic()
            self._idle.append(session)
        else:
            _discard(session)

    async def _connect(self) -> _Session:
        client = aiosmtplib.SMTP(
            hostname=self._host,
            port=self._port,
            username=self._username,
            password=self._password,
            use_tls=False,
            start_tls=self._starttls,
            tls_context=self._tls_context,
            timeout=self._timeout,
        )
        self.connects += 1
        try:
            await client.connect()
        except BaseException:
            client.close()
            raise
        return _Session(client)

    async def close(self) -> None:
        """QUIT every idle session (at shutdown; a send in flight keeps its own)."""
        sessions, self._idle = self._idle, []
        for session in sessions:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(1.0):
                    await session.client.quit()
            _discard(session)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _discard(session: _Session) -> None:
    with contextlib.suppress(Exception):
        session.client.close()


def _by_code(code: int, message: str) -> TemporaryFailure | PermanentFailure:
    """SMTP's own rule: 5xx is permanent, anything else (4xx) is worth another try."""
    if 500 <= code < 600:
        return PermanentFailure(message)
    return TemporaryFailure(message)
