"""Fuzzing inputs for pager's two doors (MQTT events, Twilio webhooks), and an in-process pager.

:class:`Mutator` turns valid ticket events into hostile payloads with the classic
operators: bit flips, truncation, field type swaps, huge strings, awkward Unicode (lone
surrogates, NUL, RTL marks, emoji, a BOM), dropped and unknown fields, nesting bombs,
extreme timestamps and numbers. :meth:`Mutator.webhook` does the same for the webhook
server: garbage forms, signed and unsigned, odd headers, paths and sizes.

:class:`InProcessPager` is the daemon's event and webhook path without the daemon: a real
SQLite store, :class:`~pager.daemon.service.Service`, :class:`~pager.daemon.events_in.Ingest` and
:class:`~pager.adapters.webhooks.WebhookServer` on the test's loop, with dead letters
collected in memory. :class:`LogProbe` records every log line as the daemon's stdout would
write it (strict UTF-8), so a line that cannot be written is a finding too.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import re
import sqlite3
import string
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote_from_bytes

import aiohttp

from pager.adapters.signature import TwilioSignature, compute_signature
from pager.adapters.webhooks import WebhookServer
from pager.config.load import load_config
from pager.core.model import Config
from pager.core.policy import Policy
from pager.daemon.events_in import Ingest
from pager.daemon.metrics import Metrics
from pager.daemon.service import Service
from pager.store.sqlite.store import SqliteStore
from testkit.chaos_rig import PHONES, write_policy
from testkit.daemon import write_settings

EVENT_TYPES = (
    "opened",
    "updated",
    "acknowledged",
    "escalated",
    "status_report",
    "waiting_on_customer",
    "customer_replied",
    "closed",
)
AWKWARD_TEXT = (
    "",
    " ",
    "\x00",
    "\ud800",  # a lone surrogate: valid as a JSON escape, not as Unicode text
    "\udfff\ud800",
    "\u202e\u202dRTL",
    "\ufeffBOM",
    "e\u0301\u0301\u0301",
    "\U0001f4df\U0001f525",
    "\u2028\u2029",
    "'; DROP TABLE tickets; --",
    "{ticket_id}",
    "%s%s%n",
    "../../etc/passwd",
    "\r\nSubject: injected",
    "T-1",
)
AWKWARD_INSTANTS = (
    "9999-12-31T23:59:59-23:59",
    "0001-01-01T00:00:00+01:00",
    "0000-01-01T00:00:00Z",
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-11-23T24:00:00Z",
    "2026-11-23T07:00:00+24:00",
    "2026-11-23T07:00:00.999999999999Z",
    "2026-11-23 07:00:00z",
    "2026-11-23T07:00:00",
    "1970-01-01T00:00:00Z",
    "2038-01-19T03:14:08Z",
)
AWKWARD_NUMBERS: tuple[Any, ...] = (
    0,
    -1,
    5,
    1.0,
    2.5,
    True,
    False,
    10**30,
    -(10**30),
    float("nan"),
    float("inf"),
)
OUTCOMES = frozenset({"applied", "duplicate", "dead-letter", "unchanged"})


def valid_event(
    rng: random.Random, tickets: list[str], *, at: datetime | None = None
) -> dict[str, Any]:
    """A well-formed event; ``opened`` for a new ticket (added to ``tickets``) or any other."""
    when = (at or datetime.now(UTC)) + timedelta(seconds=rng.uniform(-30, 30))
    kind = "opened" if not tickets or rng.random() < 0.35 else rng.choice(EVENT_TYPES)
    if kind == "opened":
        ticket = f"F-{uuid.uuid4().hex[:10]}"
        tickets.append(ticket)
    else:
        ticket = rng.choice(tickets)
    body: dict[str, Any] = {
        "event_id": uuid.uuid4().hex,
        "ticket_id": ticket,
        "type": kind,
        "at": when.isoformat().replace("+00:00", "Z"),
    }
    if kind in ("opened", "updated"):
        body.update(severity=rng.choice((1, 1, 2, 3, 4)), tier="premier")
        body.update(customer=rng.choice(("Acme", "Globex", "Initech")), summary="it broke")
    if kind == "escalated" and rng.random() < 0.5:
        body["rung"] = rng.randint(1, 4)
    if kind in ("acknowledged", "status_report") and rng.random() < 0.7:
        body["by"] = rng.choice(("ana", "bob", "nobody"))
    return body


def _any_json(rng: random.Random, depth: int = 0) -> Any:
    choice = rng.randrange(9 if depth < 3 else 6)
    if choice == 0:
        return None
    if choice == 1:
        return rng.choice(AWKWARD_NUMBERS)
    if choice == 2:
        return rng.choice(AWKWARD_TEXT)
    if choice == 3:
        return "".join(rng.choice(string.printable) for _ in range(rng.randrange(40)))
    if choice == 4:
        return rng.random() < 0.5
    if choice == 5:
        return rng.randint(-5, 10)
    if choice == 6:
        return [_any_json(rng, depth + 1) for _ in range(rng.randrange(4))]
    if choice == 7:
        return {rng.choice(("a", "type", "at", "")): _any_json(rng, depth + 1)}
    return rng.choice(AWKWARD_INSTANTS)


@dataclass
class Mutator:
    """Seeded mutations of valid events and webhook requests (see the module docstring)."""

    rng: random.Random
    tickets: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)

    def event(self) -> bytes:
        """One payload: about one in five is a valid event (so tickets exist to hit)."""
        base = valid_event(self.rng, self.tickets)
        if self.rng.random() < 0.2:
            self._count("valid")
            return json.dumps(base).encode()
        operators: list[Callable[[dict[str, Any]], bytes]] = [
            self.bit_flips,
            self.truncation,
            self.type_swap,
            self.huge_string,
            self.unicode,
            self.drop_or_add_field,
            self.nesting_bomb,
            self.awkward_instant,
            self.awkward_number,
            self.not_an_object,
            self.encodings,
        ]
        operator = self.rng.choice(operators)
        self._count(operator.__name__)
        return operator(base)

    def _count(self, name: str) -> None:
        self.counts[name] = self.counts.get(name, 0) + 1

    # -- operators --

    def bit_flips(self, base: dict[str, Any]) -> bytes:
        data = bytearray(json.dumps(base).encode())
        for _ in range(self.rng.randint(1, 8)):
            i = self.rng.randrange(len(data))
            data[i] ^= 1 << self.rng.randrange(8)
        return bytes(data)

    def truncation(self, base: dict[str, Any]) -> bytes:
        data = json.dumps(base).encode()
        return data[: self.rng.randrange(len(data))]

    def type_swap(self, base: dict[str, Any]) -> bytes:
        key = self.rng.choice(sorted(base))
        base[key] = _any_json(self.rng)
        return json.dumps(base, allow_nan=True).encode()

    def huge_string(self, base: dict[str, Any]) -> bytes:
        key = self.rng.choice(
            ("event_id", "ticket_id", "summary", "customer", "tier", "by", "queue", "region")
        )
        size = self.rng.choice((65, 129, 201, 1000, 30_000, 70_000))
        base[key] = self.rng.choice(("x", "\U0001f4df", "é", "A-")) * size
        return json.dumps(base, ensure_ascii=self.rng.random() < 0.5).encode()

    def unicode(self, base: dict[str, Any]) -> bytes:
        key = self.rng.choice(("event_id", "ticket_id", "summary", "customer", "by", "tier"))
        base[key] = self.rng.choice(AWKWARD_TEXT) + self.rng.choice(AWKWARD_TEXT)
        if self.rng.random() < 0.5:
            return json.dumps(base).encode()  # \\uXXXX escapes, lone surrogates included
        return json.dumps(base, ensure_ascii=False).encode("utf-8", "surrogatepass")

    def drop_or_add_field(self, base: dict[str, Any]) -> bytes:
        if self.rng.random() < 0.5 and base:
            del base[self.rng.choice(sorted(base))]
        else:
            unknown = ("extra", "Type", "event_id ", "\ud800x", "\u202e", "rung", "severity")
            base[self.rng.choice(unknown)] = 1
        text = json.dumps(base)
        if self.rng.random() < 0.3:  # a repeated key: the last one wins in json.loads
            text = text[:-1] + ', "type": "closed"}'
        return text.encode()

    def nesting_bomb(self, base: dict[str, Any]) -> bytes:
        depth = self.rng.choice((50, 1000, 20_000, 60_000))
        if self.rng.random() < 0.5:
            return b"[" * depth + b"]" * depth
        body = json.dumps(base)[:-1] + ', "summary": ' + "[" * depth + "]" * depth + "}"
        return body.encode()[:65_000]

    def awkward_instant(self, base: dict[str, Any]) -> bytes:
        base["at"] = self.rng.choice(AWKWARD_INSTANTS)
        return json.dumps(base).encode()

    def awkward_number(self, base: dict[str, Any]) -> bytes:
        base[self.rng.choice(("severity", "rung"))] = self.rng.choice(AWKWARD_NUMBERS)
        return json.dumps(base, allow_nan=True).encode()

    def not_an_object(self, base: dict[str, Any]) -> bytes:
        return self.rng.choice(
            (b"", b"null", b"[]", b"42", b'"opened"', b"NaN", b"\xff\xfe", b"{", b"}{", b" " * 10)
        )

    def encodings(self, base: dict[str, Any]) -> bytes:
        text = json.dumps(base, ensure_ascii=False)
        return self.rng.choice(
            (
                b"\xef\xbb\xbf" + text.encode(),
                text.encode("utf-16"),
                text.encode("latin-1", "replace") + b"\xe9",
                text.encode() + b"\x00",
            )
        )

    # -- webhooks --

    def webhook(self, signature: TwilioSignature, token: str) -> WebhookRequest:
        """One hostile request for the webhook server."""
        path = self.rng.choice(
            (
                "/twilio/sms",
                "/twilio/sms",
                "/twilio/voice/answer/" + self._token(),
                "/twilio/voice/gather/" + self._token(),
                "/twilio/voice/status/" + self._token(),
                "/twilio/voice/answer/%2e%2e%2f",
                "/twilio/sms?x=1&x=2",
                "/healthz",
                "/metrics",
                "/" + "a" * self.rng.choice((1, 300, 5000)),
            )
        )
        method = self.rng.choice(("POST",) * 6 + ("GET", "PUT", "DELETE", "HEAD", "OPTIONS"))
        form = self._form()
        encoded = "&".join(
            f"{quote_from_bytes(k.encode('utf-8', 'surrogatepass'))}="
            f"{quote_from_bytes(v.encode('utf-8', 'surrogatepass'))}"
            for k, v in form.items()
        ).encode()
        body = encoded
        content_type = "application/x-www-form-urlencoded"
        roll = self.rng.random()
        if roll < 0.1:
            body = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(300)))
        elif roll < 0.15:
            body = b"Body=" + b"x" * self.rng.choice((70_000, 200_000))
        elif roll < 0.2:
            content_type = self.rng.choice(
                ("application/json", "text/plain", "multipart/form-data")
            )
        headers = {"Content-Type": content_type}
        sign = self.rng.random()
        if sign < 0.5:
            try:
                headers["X-Twilio-Signature"] = compute_signature(
                    token, signature.url_for(path), form
                )
            except UnicodeEncodeError:
                headers["X-Twilio-Signature"] = "bad"
        elif sign < 0.7:
            headers["X-Twilio-Signature"] = self.rng.choice(
                ("", "x", "=" * 28, "é" * 10, "a" * 8000, "\t ")
            )
        return WebhookRequest(method, path, body, headers)

    def raw_webhook(self, signature: TwilioSignature, token: str) -> bytes:
        """One raw HTTP/1.1 request with what a client library would not send: non-UTF-8
        header bytes, odd charsets, a body in another encoding."""
        path = self.rng.choice(("/twilio/sms", "/twilio/voice/gather/" + self._token()))
        form = {"From": PHONES["ana"], "Body": "ack", "MessageSid": "SM" + uuid.uuid4().hex}
        body = "&".join(f"{k}={quote_from_bytes(v.encode())}" for k, v in form.items()).encode()
        good = compute_signature(token, signature.url_for(path), form).encode()
        content_type = b"application/x-www-form-urlencoded"
        sig: bytes = good
        choice = self.rng.randrange(6)
        if choice == 0:
            sig = self.rng.choice((b"\xff\xfe", good[:-2] + b"\xc3(", b"\xe9" * 28))
        elif choice == 1:
            content_type += b"; charset=" + self.rng.choice((b"bogus", b"latin-1", b"utf-16", b""))
        elif choice == 2:
            body = "Body=caf\u00e9 ack&From=+1555".encode("latin-1")
        elif choice == 3:
            body = b"From=%FF%FE&Body=%C3%28&MessageSid=%ED%A0%80"
        elif choice == 4:
            body = "Body=\U0001f4df".encode("utf-16")
        else:
            content_type = b"application/x-www-form-urlencoded; boundary=\xff"
        head = (
            b"POST " + path.encode() + b" HTTP/1.1\r\nHost: pager.test\r\n"
            b"Content-Type: " + content_type + b"\r\nX-Twilio-Signature: " + sig + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n"
        )
        return head + body

    def _token(self) -> str:
        return "".join(self.rng.choice(string.ascii_letters + "-_") for _ in range(16))

    def _form(self) -> dict[str, str]:
        form: dict[str, str] = {}
        if self.rng.random() < 0.8:
            form["From"] = self.rng.choice((*PHONES.values(), "+15550000000", "", "ana"))
        if self.rng.random() < 0.8:
            form["MessageSid"] = self.rng.choice(("SM" + uuid.uuid4().hex, "", "\ud800"))
        if self.rng.random() < 0.8:
            form["Body"] = self.rng.choice(
                ("ack", "ACK ALL", "1", "1e", "esc 1", "help", "stop", *AWKWARD_TEXT)
            ) + self.rng.choice(("", " ", "x" * 2000))
        if self.rng.random() < 0.5:
            form["Digits"] = self.rng.choice(("4", "5", "*", "#", "44", "", "\x00"))
        if self.rng.random() < 0.5:
            form["CallStatus"] = self.rng.choice(("completed", "no-answer", "\u202e" * 40))
        if self.rng.random() < 0.2:
            form[self.rng.choice(AWKWARD_TEXT) or "k"] = self.rng.choice(AWKWARD_TEXT)
        return form


@dataclass(frozen=True)
class WebhookRequest:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]


# --- driving a webhook server ---------------------------------------------------------------

#: Answers a webhook server may give a hostile request; anything else (a 500) is a finding.
WEBHOOK_ANSWERS = frozenset({200, 204, 400, 403, 404, 405, 413})


async def fuzz_webhooks(
    base_url: str, signature: TwilioSignature, token: str, count: int, seed: int
) -> tuple[int, list[str]]:
    """Send ``count`` hostile requests (and ``count // 10`` raw ones) to ``base_url``.

    Returns (requests sent, problems): answers outside :data:`WEBHOOK_ANSWERS` grouped by
    route with an example, client errors, and /healthz not 200 afterwards.
    """
    mutator = Mutator(random.Random(seed))
    problems: list[str] = []
    examples: dict[str, str] = {}
    counts: dict[str, int] = {}
    sent = 0

    def bad(key: str, example: str) -> None:
        examples.setdefault(key, example)
        counts[key] = counts.get(key, 0) + 1

    timeout = aiohttp.ClientTimeout(total=15)
    # A connection per request: one odd exchange must not garble the next.
    connector = aiohttp.TCPConnector(force_close=True)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        for _ in range(count):
            request = mutator.webhook(signature, token)
            sent += 1
            try:
                async with session.request(
                    request.method, base_url + request.path, data=request.body,
                    headers=request.headers,
                ) as resp:  # fmt: skip
                    await resp.read()
                    status = resp.status
            except aiohttp.ClientError as exc:
                problems.append(
                    f"{request.method} {request.path[:60]}: {type(exc).__name__}: {exc!s:.120}"
                )
                continue
            if status not in WEBHOOK_ANSWERS:
                path = request.path.split("?")[0]
                route = path.rsplit("/", 1)[0] if "/voice/" in path else path[:30]
                bad(
                    f"{request.method} {route} -> {status}",
                    f"e.g. body {request.body[:60]!r}, headers {sorted(request.headers)}",
                )
        host, port = base_url.removeprefix("http://").rsplit(":", 1)
        for _ in range(count // 10):
            raw = mutator.raw_webhook(signature, token)
            sent += 1
            status = await raw_status(host, int(port), raw)
            if status not in WEBHOOK_ANSWERS:
                path = raw.split(b" ")[1].decode()
                route = path.rsplit("/", 1)[0] if "/voice/" in path else path
                bad(f"raw POST {route} -> {status}", f"e.g. {raw[:300]!r}")
        async with session.get(base_url + "/healthz") as resp:
            if resp.status != 200:
                problems.append(f"/healthz {resp.status} after the fuzzing")
    problems += [f"{counts[key]} x {key} ({example})" for key, example in examples.items()]
    return sent, problems


async def raw_status(host: str, port: int, request: bytes) -> int:
    """Send raw bytes; the answer's status code (0 when the connection closed without one)."""
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(request)
        await writer.drain()
        async with asyncio.timeout(10):
            line = await reader.readline()
    finally:
        writer.close()
    parts = line.split()
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def server_errors(lines: Iterable[str]) -> list[str]:
    """The distinct last lines of the tracebacks in ``lines`` (byte values and positions
    blanked, so one kind of error is listed once)."""
    found: set[str] = set()
    for text in lines:
        if "Traceback" not in text:
            continue
        last = text.strip().splitlines()[-1]
        found.add(re.sub(r"0x[0-9a-f]+|positions? [0-9-]+|'\\u[0-9a-f]+'", "...", last)[:200])
    return sorted(found)


# --- logging --------------------------------------------------------------------------------


class LogProbe(logging.Filter):
    """Takes every record of the loggers it is attached to (as a filter, so the record goes
    no further), formats it as the daemon does and writes it as strict UTF-8 (its stdout).

    ``failures`` holds the records that could not be written: in the daemon they would
    be lost ("--- Logging error ---" on stderr instead of the line).
    """

    def __init__(self) -> None:
        super().__init__()
        self.formatter = logging.Formatter("%(levelname)s %(name)s: %(message)s")
        self.lines: list[str] = []
        self.failures: list[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            text = self.formatter.format(record)
            text.encode("utf-8")
        except Exception as exc:
            self.failures.append(f"{type(exc).__name__}: {exc!s:.200} in {record.msg!r:.200}")
            return False
        self.lines.append(text)
        return False


# --- the in-process pager -------------------------------------------------------------------


def write_config(config_dir: Path) -> Config:
    """The chaos rig's config (people, rotation, ladder) with settings for in-process use."""
    config_dir.mkdir(parents=True, exist_ok=True)
    write_settings(config_dir, mqtt_url="mqtt://127.0.0.1:1", http_port=8025, auth_token="t0ken")
    write_policy(config_dir, ack_within="1h", voice_after="5m")
    return load_config(config_dir, require_secrets=True, environ={})


class InProcessPager:
    """Store + Service + Ingest + WebhookServer, with dead letters kept in ``dead_letters``."""

    def __init__(self, workdir: Path) -> None:
        self.config = write_config(workdir / "config")
        self.metrics = Metrics()
        self.path = workdir / "fuzz.db"
        self.store = SqliteStore(self.path)
        self.service = Service(self.store, Policy(self.config))
        self.published: list[tuple[str, bytes, bool]] = []
        settings = self.config.settings
        self.dead_letter_topic = settings.mqtt.dead_letter_topic
        self.ingest = Ingest(
            service=self.service,
            bridge_publish=self._publish,
            settings=settings.mqtt,
            metrics=self.metrics,
            clock=lambda: datetime.now(UTC),
            tier_known=lambda name: self.config.tier(name) is not None,
        )
        self.token = settings.twilio.auth_token or ""
        self.signature = TwilioSignature([self.token], settings.http.public_url)
        self.webhooks = WebhookServer(
            service=self.service,
            signature=self.signature,
            metrics=self.metrics,
            public_url=settings.http.public_url,
            health=lambda: (self.service.store_ok, self.service.store_error or "ok"),
            clock=lambda: datetime.now(UTC),
        )

    async def _publish(self, topic: str, payload: bytes, retain: bool) -> bool:
        self.published.append((topic, payload, retain))
        return True

    @property
    def dead_letters(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in self.published if t == self.dead_letter_topic]

    async def start(self) -> None:
        await self.service.start()

    async def close(self) -> None:
        await self.service.close()

    def committed(self) -> set[str]:
        """Event ids in the store, read through a connection of its own."""
        with contextlib.closing(
            sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10.0)
        ) as db:
            return {r[0] for r in db.execute("SELECT event_id FROM events")}
