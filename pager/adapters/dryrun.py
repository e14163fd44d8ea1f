"""``pager run --dry-run``: notifications are printed instead of sent.

One line per SMS or call, and for an email a line with the subject followed by the body
indented by four spaces, e.g.::

    DRY-RUN sms to=+40700000001 body='SEV1 T-1 Acme: gateway down. Reply 7 to ack'
    DRY-RUN voice to=+40700000001 url=https://pager.example.com/twilio/voice/...
    DRY-RUN email to=razvan@example.com subject='[SEV1] T-1 Acme: gateway down'
        Ticket T-1 ...

A dry run never touches a live daemon's state (it may be started with the production
config directory): it keeps its tickets in a :class:`ScratchStore` (``--store URL``
chooses one instead), and its MQTT session is its own (see ``MqttBridge(dry_run=True)``).
It needs no secret: without a Twilio auth token, webhook signatures are checked against an
:func:`unguessable_token`, i.e. every webhook request is refused.
"""

from __future__ import annotations

import itertools
import logging
import secrets
import shutil
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TextIO

log = logging.getLogger(__name__)


class DryRunSender:
    """Implements SmsSender, VoiceCaller and Mailer; never fails.

    Writes to ``stream`` (default: whatever ``sys.stdout`` is at the time of writing),
    flushing after each notification, and returns ids ``dry-sms-N``, ``dry-voice-N`` and
    ``dry-email-N`` (N counts per kind from 1). A stream that cannot be written is logged
    at debug level and otherwise ignored.
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream
        self._counters = {kind: itertools.count(1) for kind in ("sms", "voice", "email")}

    async def send_sms(self, to: str, body: str) -> str:
        self._write(f"DRY-RUN sms to={to} body={body!r}\n")
        return self._next_id("sms")

    async def find_sms(self, to: str, digest: str, since: datetime) -> str | None:
        """Nothing a dry run printed was sent: every interrupted SMS is printed again."""
        return None

    async def call(self, to: str, answer_url: str, status_url: str | None = None) -> str:
        status = f" status_url={status_url}" if status_url else ""
        self._write(f"DRY-RUN voice to={to} url={answer_url}{status}\n")
        return self._next_id("voice")

    async def send_email(self, to: str, subject: str, body: str, message_key: str = "") -> str:
        indented = "".join(f"    {line}\n" for line in body.splitlines())
        self._write(f"DRY-RUN email to={to} subject={subject!r}\n{indented}")
        return self._next_id("email")

    def _next_id(self, kind: str) -> str:
        return f"dry-{kind}-{next(self._counters[kind])}"

    def _write(self, text: str) -> None:
        stream = self._stream if self._stream is not None else sys.stdout
        try:
            stream.write(text)
            stream.flush()
        except (OSError, ValueError) as exc:  # closed stream, broken pipe
            log.debug("dry-run output lost: %s", exc)


class ScratchStore:
    """The store of a dry run: ``url`` when given, else a new temporary SQLite file.

    :meth:`open` returns the store URL to use; :meth:`close` deletes the temporary
    directory (a given ``url`` is left alone). Never the ``store:`` of the config.
    """

    def __init__(self, url: str | None = None) -> None:
        self._url = url
        self._directory: Path | None = None

    def open(self) -> str:
        if self._url is not None:
            log.info("dry-run: store %s (--store)", self._url)
            return self._url
        self._directory = Path(tempfile.mkdtemp(prefix="pager-dry-run-"))
        log.info("dry-run: temporary store in %s, deleted at exit", self._directory)
        return f"sqlite:{self._directory / 'pager.db'}"

    def close(self) -> None:
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None


def unguessable_token() -> str:
    """A Twilio auth token nobody knows: signatures checked against it never match."""
    return secrets.token_hex(32)
