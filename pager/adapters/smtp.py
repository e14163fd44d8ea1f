"""Email through an SMTP relay with aiosmtplib (one connection per message).

A page is rare enough that a fresh connection per message costs nothing that matters and
spares us keeping a connection alive and noticing when the relay drops it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import ssl
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import aiosmtplib

from pager.daemon.outbox.delivery import PermanentFailure, TemporaryFailure

log = logging.getLogger(__name__)


class SmtpMailer:
    """Implements :class:`pager.daemon.outbox.delivery.Mailer`.

    ``starttls`` upgrades the connection before anything else (and fails if the relay
    cannot); ``False`` never upgrades, even when offered. ``tls_context`` replaces the
    system trust store (e.g. a private CA). ``timeout`` bounds the whole send.

    ``send_email`` returns the Message-ID, or raises PermanentFailure for a 5xx reply
    (mailbox or sender refused, authentication refused) and TemporaryFailure for
    anything else: a 4xx reply, a refused or dropped connection, a TLS error, a missing
    extension (e.g. STARTTLS not offered) or the timeout.
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
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
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

    def __repr__(self) -> str:  # never shows the password
        return f"SmtpMailer(host={self._host!r}, port={self._port}, from={self._from!r})"

    def build_message(
        self, to: str, subject: str, body: str, message_key: str = ""
    ) -> EmailMessage:
        """The plain-text UTF-8 message as it will be sent (Message-ID and Date set).

        With a ``message_key`` the Message-ID is derived from it (the same for a resend of
        the same notification); without, it is random.
        """
        message = EmailMessage()
        message["From"] = self._from
        message["To"] = to
        # A header must be one line; a newline in a summary must not inject headers.
        message["Subject"] = " ".join(subject.split())
        message["Date"] = format_datetime(datetime.now(UTC))
        if message_key:
            digest = hashlib.sha256(message_key.encode()).hexdigest()[:32]
            message["Message-ID"] = f"<pager.{digest}@{self._msgid_domain}>"
        else:
            message["Message-ID"] = make_msgid(domain=self._msgid_domain)
        message.set_content(body, charset="utf-8")
        return message

    async def send_email(self, to: str, subject: str, body: str, message_key: str = "") -> str:
        message = self.build_message(to, subject, body, message_key)
        message_id = str(message["Message-ID"])
        try:
            async with asyncio.timeout(self._timeout):
                await aiosmtplib.send(
                    message,
                    hostname=self._host,
                    port=self._port,
                    username=self._username,
                    password=self._password,
                    use_tls=False,
                    start_tls=self._starttls,
                    tls_context=self._tls_context,
                    timeout=self._timeout,
                )
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


def _by_code(code: int, message: str) -> TemporaryFailure | PermanentFailure:
    """SMTP's own rule: 5xx is permanent, anything else (4xx) is worth another try."""
    if 500 <= code < 600:
        return PermanentFailure(message)
    return TemporaryFailure(message)
