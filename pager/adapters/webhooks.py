"""The aiohttp webhook server: Twilio SMS replies and call callbacks, health, metrics.

Routes (SPEC section 7):

* ``POST /twilio/sms`` (form ``From``, ``Body``, ``MessageSid``) -> TwiML ``<Message>``
* ``POST /twilio/voice/answer/{token}`` -> the call's TwiML (script + gather one key)
* ``POST /twilio/voice/gather/{token}`` (form ``Digits``) -> the key's effect, spoken
* ``POST /twilio/voice/status/{token}`` (form ``CallStatus``) -> 204, logged and audited
* ``GET /healthz`` -> 200 ``ok`` / 503 and the reason; ``GET /metrics`` -> Prometheus text

Every Twilio route needs a valid ``X-Twilio-Signature`` over ``http.public_url`` +
path and query; without one the answer is 403 and nothing is read from or written to
the store. Bodies above ``max_body`` get 413. Each request is counted in
``pager_webhooks_total{route, outcome}`` and logged on one line, never with its body
(SMS text, form values) and never with a call token (it grants the keypresses).

Store work runs through :meth:`pager.daemon.service.Service.db`, one transaction per request:
a repeated ``MessageSid`` is recorded and checked in the same transaction that applies
the reply, so a retried webhook is answered but applied once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST
from twilio.twiml.messaging_response import MessagingResponse

from pager.adapters.signature import TwilioSignature
from pager.daemon import replies_in as inbound
from pager.daemon.engine import Engine
from pager.daemon.metrics import Metrics
from pager.daemon.service import Service
from pager.store.types import StoreError

log = logging.getLogger("pager.webhooks")

TWIML = "application/xml"
SIGNATURE_HEADER = "X-Twilio-Signature"
#: Call tokens are ``secrets.token_urlsafe``; anything else is not one of ours.
_TOKEN = r"{token:[A-Za-z0-9_-]{1,128}}"
#: Request keys where handlers leave their outcome label and log details.
_OUTCOME = web.RequestKey("outcome", str)
_DETAIL = web.RequestKey("detail", str)


@dataclass(frozen=True, slots=True)
class _SmsAnswer:
    outcome: str
    person: str | None
    text: str | None


class WebhookServer:
    """Serves the routes above; see the module docstring for the contract.

    ``health()`` returns ``(ok, reason)``; ``clock()`` is the only source of ``now``.
    """

    def __init__(
        self,
        *,
        service: Service,
        signature: TwilioSignature,
        metrics: Metrics,
        public_url: str,
        health: Callable[[], tuple[bool, str]],
        clock: Callable[[], datetime],
        max_body: int = 64 * 1024,
    ) -> None:
        self._service = service
        self._signature = signature
        self._metrics = metrics
        self._public_url = public_url.rstrip("/")
        self._health = health
        self._clock = clock
        self._max_body = max_body
        self._runner: web.AppRunner | None = None
        #: More routes (the status page): each is called with the app before it starts.
        self.mounts: list[Callable[[web.Application], None]] = []

    def update(self, *, signature: TwilioSignature, public_url: str) -> None:
        """Use a reloaded config's signature checker and public URL from the next request."""
        self._signature = signature
        self._public_url = public_url.rstrip("/")

    def app(self) -> web.Application:
        """A new application serving the routes (tests run it with aiohttp's TestServer)."""
        app = web.Application(client_max_size=self._max_body, middlewares=[self._middleware])
        app.router.add_post("/twilio/sms", self._sms, name="sms")
        app.router.add_post(f"/twilio/voice/answer/{_TOKEN}", self._answer, name="voice_answer")
        app.router.add_post(f"/twilio/voice/gather/{_TOKEN}", self._gather, name="voice_gather")
        app.router.add_post(f"/twilio/voice/status/{_TOKEN}", self._status, name="voice_status")
        app.router.add_get("/healthz", self._healthz, name="healthz")
        app.router.add_get("/metrics", self._metrics_page, name="metrics")
        for mount in self.mounts:
            mount(app)
        return app

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port`` (0: any free port); return the bound port.

        Raises OSError when the address cannot be bound.
        """
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        return int(address[1])

    async def stop(self) -> None:
        """Stop listening; requests in flight get a few seconds to finish."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    # --- every request ------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        route = request.match_info.route.name or "other"
        status = 500
        try:
            if request.content_length is not None and request.content_length > self._max_body:
                raise web.HTTPRequestEntityTooLarge(self._max_body, request.content_length)
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:
            status = exc.status
            raise
        except StoreError as exc:
            status = 503
            request[_OUTCOME] = "store_unavailable"
            request[_DETAIL] = str(exc)
            raise web.HTTPServiceUnavailable(text="store unavailable\n") from None
        except Exception:
            request[_OUTCOME] = "error"
            log.exception("webhook %s %s failed", request.method, route)
            raise
        finally:
            outcome = request.get(_OUTCOME) or _outcome_of(status)
            self._metrics.webhooks.labels(route=route, outcome=outcome).inc()
            detail = request.get(_DETAIL, "")
            log.info(
                "webhook %s %s %d %s%s %.1fms",
                request.method,
                route if route != "other" else request.path[:100],
                status,
                outcome,
                f" {detail}" if detail else "",
                (time.perf_counter() - started) * 1000,
            )

    async def _signed_form(self, request: web.Request) -> dict[str, str]:
        """The request's form when its Twilio signature is valid; 403 otherwise."""
        try:
            form = await request.post()
        except (UnicodeError, ValueError, LookupError) as exc:
            # Not UTF-8, a broken multipart body...: not something Twilio sends.
            request[_OUTCOME] = "bad_request"
            raise web.HTTPBadRequest(text=f"unreadable form body: {type(exc).__name__}\n") from None
        fields = {key: value for key, value in form.items() if isinstance(value, str)}
        if len(fields) != len(form) or not self._signature.is_valid(
            request.path_qs, fields, request.headers.get(SIGNATURE_HEADER)
        ):
            request[_OUTCOME] = "forbidden"
            missing = not request.headers.get(SIGNATURE_HEADER)
            request[_DETAIL] = "signature missing" if missing else "signature invalid"
            raise web.HTTPForbidden(text="invalid or missing X-Twilio-Signature\n")
        return fields

    # --- Twilio ---------------------------------------------------------------------------

    async def _sms(self, request: web.Request) -> web.Response:
        form = await self._signed_form(request)
        sender, sid, body = form.get("From", ""), form.get("MessageSid", ""), form.get("Body", "")
        if not sender or not sid:
            request[_OUTCOME] = "bad_request"
            raise web.HTTPBadRequest(text="From and MessageSid are required\n")
        now = self._clock()

        def job(engine: Engine) -> _SmsAnswer:
            person = inbound.person_by_phone(engine.policy.config, sender)
            if person is None:
                return _SmsAnswer("unknown_sender", None, None)
            if engine.inbound_seen(sid):
                return _SmsAnswer("duplicate", person, inbound.ALREADY_HANDLED)
            return _SmsAnswer("ok", person, inbound.handle_sms(engine, person, body, now))

        answer = await self._service.db(job, urgent=True)
        request[_OUTCOME] = answer.outcome
        request[_DETAIL] = f"sid={sid[:40]} from={sender[:20]}" + (
            f" person={answer.person}" if answer.person else ""
        )
        response = MessagingResponse()
        if answer.text is not None:
            response.message(answer.text)
        return _twiml(str(response))

    async def _answer(self, request: web.Request) -> web.Response:
        await self._signed_form(request)
        token, public_url = request.match_info["token"], self._public_url
        twiml = await self._service.db(
            lambda e: inbound.voice_twiml(e, token, public_url), urgent=True
        )
        return _twiml(twiml)

    async def _gather(self, request: web.Request) -> web.Response:
        form = await self._signed_form(request)
        token, public_url = request.match_info["token"], self._public_url
        digits, now = form.get("Digits", ""), self._clock()
        twiml = await self._service.db(
            lambda e: inbound.voice_gather(e, token, digits, now, public_url), urgent=True
        )
        # A keypress is not a secret once applied, and says what the call did.
        request[_DETAIL] = f"digits={digits[:4]!r}"
        return _twiml(twiml)

    async def _status(self, request: web.Request) -> web.Response:
        form = await self._signed_form(request)
        token, now = request.match_info["token"], self._clock()
        status = form.get("CallStatus", "")[:32]
        found = await self._service.db(lambda e: inbound.voice_status(e, token, status, now))
        # ``found`` is "TICKET PERSON": the line names the ticket like every ticket line.
        call = f"ticket={found}" if found else "call=unknown"
        request[_DETAIL] = f"{call} status={status or '?'}"
        return web.Response(status=204)

    # --- operations -------------------------------------------------------------------

    async def _healthz(self, request: web.Request) -> web.Response:
        try:
            ok, reason = self._health()
        except Exception as exc:  # a broken probe is an unhealthy daemon, not a 500
            ok, reason = False, f"health check failed: {exc}"
        if ok:
            return web.Response(text="ok\n")
        request[_OUTCOME] = "unhealthy"
        request[_DETAIL] = reason
        return web.Response(status=503, text=f"{reason}\n")

    async def _metrics_page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self._metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )


def _twiml(text: str) -> web.Response:
    return web.Response(text=text, content_type=TWIML)


def _outcome_of(status: int) -> str:
    if status < 400:
        return "ok"
    return {
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
        503: "unavailable",
    }.get(status, "error" if status >= 500 else "bad_request")
