"""SMS and voice calls through Twilio's REST API, with the official async client.

Three things the library does not do as pager needs, fixed by :class:`_RebasedHttpClient`:

- it has no base-URL setting: every request's scheme and host are rewritten to
  ``api_base`` (a regional edge, a proxy, or a local Twilio-compatible server);
- it passes ``auth=`` to aiohttp, which is deprecated there: we send the Authorization
  header ourselves;
- its own retries would re-POST a message after an ambiguous failure and page twice: the
  outbox owns retries, so there are none here.

The library also ignores its timeout, so every call runs under ``asyncio.timeout``.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from pager.daemon.outbox.delivery import PermanentFailure, TemporaryFailure, sms_digest

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_API_BASE = "https://api.twilio.com"
#: How many of a number's newest messages :meth:`TwilioSender.find_sms` looks through
#: (a person's SMS limit keeps far fewer than this in the minutes around a crash).
LOOKUP_DEPTH = 20
#: Message states in which Twilio will not deliver: such a message was not sent.
_NOT_SENT = frozenset({"failed", "undelivered", "canceled"})


@dataclass
class _LastResponse:
    """Filled by the HTTP client for the send running in the same task."""

    status: int | None = None
    retry_after: float | None = None


_last_response: contextvars.ContextVar[_LastResponse | None] = contextvars.ContextVar(
    "pager_twilio_last_response", default=None
)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date), or None.

    ``now`` (UTC-aware) is compared with an HTTP-date (default: the current time); a date
    in the past gives 0. Unparseable values give None.
    """
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000": UTC with no source zone (RFC 5322)
        when = when.replace(tzinfo=UTC)
    current = datetime.now(UTC) if now is None else now
    return max(0.0, (when - current).total_seconds())


class _RebasedHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """The library's async HTTP client, sending every request to ``api_base`` instead.

    ``api_base`` replaces scheme, host and port; a path in it (a proxy prefix) is put
    before the request's path; the query is kept.
    """

    def __init__(self, api_base: str, timeout: float) -> None:
        # No pooled session from the base class: ours is made here, inside the loop.
        super().__init__(pool_connections=False, timeout=timeout)
        base = urlsplit(api_base)
        if base.scheme not in ("http", "https") or not base.netloc:
            raise ValueError(f"api_base must be an http(s) URL, got {api_base!r}")
        self._scheme = base.scheme
        self._netloc = base.netloc
        self._prefix = base.path.rstrip("/")
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout))
        # Every page goes to the same few URLs with the same credentials: rebase and
        # encode them once (this is on the path of every SMS and call).
        self._rebased: dict[str, str] = {}

    def rebase(self, url: str) -> str:
        found = self._rebased.get(url)
        if found is None:
            parts = urlsplit(url)
            found = urlunsplit(
                (self._scheme, self._netloc, self._prefix + parts.path, parts.query, "")
            )
            if len(self._rebased) < 64:
                self._rebased[url] = found
        return found

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109  (the library's signature)
        allow_redirects: bool = False,
    ) -> Response:
        """One HTTP request, no retries; raises aiohttp.ClientError / TimeoutError."""
        sent_headers = dict(headers or {})
        if auth is not None:
            sent_headers["Authorization"] = _basic_auth(*auth)
        extra: dict[str, Any] = {}
        if timeout:
            extra["timeout"] = aiohttp.ClientTimeout(total=timeout)
        body: bytes | None = None
        form = _flatten(data)
        if form is not None:
            # Encoded here: aiohttp's FormData machinery costs more than the request.
            body = urlencode(form).encode()
            sent_headers["Content-Type"] = "application/x-www-form-urlencoded"
        async with self._session.request(
            method.upper(),
            self.rebase(url),
            params=_flatten(params),
            data=body,
            headers=sent_headers,
            allow_redirects=allow_redirects,
            **extra,
        ) as resp:
            text = await resp.text()
            seen = _last_response.get()
            if seen is not None:
                seen.status = resp.status
                seen.retry_after = parse_retry_after(resp.headers.get("Retry-After"))
            return Response(resp.status, text, resp.headers)

    async def close(self) -> None:
        await self._session.close()


@functools.lru_cache(maxsize=4)
def _basic_auth(user: str, password: str) -> str:
    """The Authorization header of one account (encoded once, not per request)."""
    return str(aiohttp.encode_basic_auth(user, password))


def _flatten(values: dict[str, object] | None) -> list[tuple[str, str]] | None:
    """The library's form dict (values may be lists) as aiohttp form pairs."""
    if not values:
        return None
    pairs: list[tuple[str, str]] = []
    for key, value in values.items():
        items = value if isinstance(value, list) else [value]
        pairs.extend((key, str(item)) for item in items)
    return pairs


class TwilioSender:
    """Implements :class:`~pager.daemon.outbox.delivery.SmsSender` and
    :class:`~pager.daemon.outbox.delivery.VoiceCaller`.

    The HTTP session is created on first use, inside the running loop; ``close()`` it.
    Every send either returns the Twilio SID or raises TemporaryFailure (429, 5xx,
    timeout, connection errors; ``retry_after`` from the Retry-After header) or
    PermanentFailure (any other 4xx, e.g. 21610 the person texted STOP, 21211/21614 bad
    number), with Twilio's error code in the message.
    """

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        from_number: str,
        api_base: str = DEFAULT_API_BASE,
        timeout: float = 10.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._from = from_number
        self._api_base = api_base
        self._timeout = timeout
        self._http: _RebasedHttpClient | None = None
        self._client: Client | None = None

    def __repr__(self) -> str:  # never shows the token
        return f"TwilioSender(account_sid={self._account_sid!r}, api_base={self._api_base!r})"

    def _twilio(self) -> Client:
        if self._client is None:
            self._http = _RebasedHttpClient(self._api_base, self._timeout)
            # environment={}: TWILIO_EDGE/TWILIO_REGION in our environment must not
            # change where requests go; api_base alone decides.
            self._client = Client(
                self._account_sid,
                self._auth_token,
                account_sid=self._account_sid,
                http_client=self._http,
                environment={},
            )
        return self._client

    async def send_sms(self, to: str, body: str) -> str:
        client = self._twilio()
        return await self._create(
            "sms", to, lambda: client.messages.create_async(to=to, from_=self._from, body=body)
        )

    async def find_sms(self, to: str, digest: str, since: datetime) -> str | None:
        """See :meth:`pager.daemon.outbox.delivery.SmsSender.find_sms`: the newest messages from our
        number to ``to`` (Twilio lists newest first), matched by text and creation time."""
        client = self._twilio()
        messages = await self._request(
            "lookup of sms",
            to,
            lambda: client.messages.list_async(to=to, from_=self._from, limit=LOOKUP_DEPTH),
        )
        for message in messages:
            created = message.date_created
            if (
                created is not None
                and created >= since
                and message.status not in _NOT_SENT
                and message.body is not None
                and sms_digest(message.body) == digest
            ):
                return str(message.sid)
        return None

    async def call(self, to: str, answer_url: str, status_url: str | None = None) -> str:
        client = self._twilio()
        extra: dict[str, Any] = {}
        if status_url is not None:
            extra = {"status_callback": status_url, "status_callback_method": "POST"}
        return await self._create(
            "call",
            to,
            lambda: client.calls.create_async(
                to=to, from_=self._from, url=answer_url, method="POST", **extra
            ),
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._http = None
        self._client = None

    async def _request(self, kind: str, to: str, request: Callable[[], Awaitable[T]]) -> T:
        """``request()`` under the timeout, its failures as Temporary/PermanentFailure."""
        seen = _LastResponse()
        token = _last_response.set(seen)
        try:
            async with asyncio.timeout(self._timeout):
                return await request()
        except TwilioException as exc:
            raise _classify(exc, seen, kind, to) from exc
        except TimeoutError as exc:
            raise TemporaryFailure(
                f"twilio {kind} to {to}: no answer within {self._timeout:g}s"
            ) from exc
        except (aiohttp.ClientError, OSError) as exc:
            raise TemporaryFailure(f"twilio {kind} to {to}: {type(exc).__name__}: {exc}") from exc
        finally:
            _last_response.reset(token)

    async def _create(self, kind: str, to: str, request: Callable[[], Awaitable[Any]]) -> str:
        started = time.monotonic()
        resource = await self._request(kind, to, request)
        sid = getattr(resource, "sid", None)
        if not sid:
            raise TemporaryFailure(f"twilio {kind} to {to}: accepted without a sid")
        log.debug(
            "twilio %s to %s accepted as %s in %.3fs", kind, to, sid, time.monotonic() - started
        )
        return str(sid)


def _classify(
    exc: TwilioException, seen: _LastResponse, kind: str, to: str
) -> TemporaryFailure | PermanentFailure:
    """429, 408 and 5xx are worth retrying; any other 4xx is the request's own fault."""
    status = getattr(exc, "status", None) or seen.status
    code = getattr(exc, "code", None)
    text = getattr(exc, "msg", None) or getattr(exc, "detail", None) or getattr(exc, "title", "")
    message = f"twilio {kind} to {to}: HTTP {status} code {code}: {text}".rstrip(": ")
    if isinstance(status, int) and 400 <= status < 500 and status not in (408, 429):
        return PermanentFailure(message)
    return TemporaryFailure(message, retry_after=seen.retry_after)
