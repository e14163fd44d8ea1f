"""What the outbox relay needs from a provider: the sending protocols and their errors.

A sender either returns the provider's id for the accepted message, or raises
:class:`TemporaryFailure` (worth retrying: HTTP 429/5xx, timeouts, connection and SMTP
transient errors) or :class:`PermanentFailure` (never retried: invalid number, the person
texted STOP, mailbox rejected). Any other exception is a bug and is treated as temporary.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Protocol


class DeliveryError(Exception):
    """A provider did not accept a message."""


class TemporaryFailure(DeliveryError):
    """Retry later; ``retry_after`` (seconds) is the provider's hint when it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentFailure(DeliveryError):
    """Do not retry; fall back to the person's other channels."""


def sms_digest(body: str) -> str:
    """A short fingerprint of an SMS text: stored when a send is claimed, compared with
    the provider's record of what it accepted (the text itself need not be kept twice)."""
    return hashlib.sha256(body.encode()).hexdigest()[:32]


class SmsSender(Protocol):
    async def send_sms(self, to: str, body: str) -> str:
        """Send one SMS to E.164 ``to``; return the provider's message id."""
        ...

    async def find_sms(self, to: str, digest: str, since: datetime) -> str | None:
        """The id of an SMS to ``to`` whose text has ``digest`` (:func:`sms_digest`) that
        the provider accepted at or after ``since`` and has not reported failed; None if
        there is none. Raises :class:`DeliveryError` when the provider cannot say.

        Asked at start-up about sends a dead process left unrecorded, so that what went
        out is not sent again.
        """
        ...


class VoiceCaller(Protocol):
    async def call(self, to: str, answer_url: str, status_url: str | None = None) -> str:
        """Place a call to ``to`` whose TwiML is fetched from ``answer_url``; return its id."""
        ...


class Mailer(Protocol):
    async def send_email(self, to: str, subject: str, body: str, message_key: str = "") -> str:
        """Send a plain-text email; return the Message-ID.

        ``message_key`` names the notification: a resend of it (after a crash in the
        duplicate window of SPEC section 9) carries the same Message-ID, which mail
        clients use to show one message.
        """
        ...
