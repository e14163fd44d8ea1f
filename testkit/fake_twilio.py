"""A Twilio-compatible REST server that the real ``twilio`` library talks to.

It serves the two endpoints pager uses,
``POST /2010-04-01/Accounts/{Sid}/Messages.json`` and ``.../Calls.json``, checks HTTP
basic auth (account SID : auth token, else 401 like Twilio), validates the form the way
Twilio does (E.164 ``To``, required fields) and answers with Twilio-shaped JSON. Every
request is recorded (arrival on ``time.monotonic()``), including refused ones, and tests
``await fake.wait_for(n, kind=...)``.

Faults are programmable: a queue of next answers (:meth:`FakeTwilio.fail_next`, e.g. 500,
429 with Retry-After, 400 with code 21610 "unsubscribed"), stalls
(:meth:`FakeTwilio.stall_next`) and per-number rules (:meth:`FakeTwilio.refuse`).

Voice: after :meth:`FakeTwilio.answer_calls`, each created call is "answered" (after
``answer_delay``, 50 ms by default): the fake
POSTs to the call's ``Url`` like Twilio (form ``CallSid``, ``From``, ``To``, ``AccountSid``
..., signed with ``X-Twilio-Signature``), reads the TwiML, and at each ``<Gather>`` presses
the next digits of the script by POSTing ``Digits`` to the Gather's ``action`` (relative
URLs resolved against the document's URL). Every document is kept in a :class:`CallFlow`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any, Literal, TypeVar
from urllib.parse import urlencode, urljoin

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from testkit.lifecycle import Served

Kind = Literal["sms", "call"]
_T = TypeVar("_T")

DEFAULT_ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
DEFAULT_AUTH_TOKEN = "fake-auth-token-0000000000000000"
E164 = re.compile(r"^\+[1-9][0-9]{1,14}$")
MAX_CALL_STEPS = 25


@dataclass(frozen=True)
class Fault:
    """How to answer one request instead of accepting it.

    ``status`` None accepts the request normally (after ``delay``); otherwise the answer
    is an error with Twilio's ``code`` and ``message``, as legacy Twilio JSON or, with
    ``problem_details``, an RFC 9457 body (the twilio library raises a different
    exception class for those). ``retry_after`` is sent as the Retry-After header.
    ``kind`` limits a queued fault to SMS or calls. A stalled request is recorded as
    accepted even if its client gives up waiting: like Twilio, the fake may have sent
    what the client believes failed (the ambiguous case behind duplicate pages).
    """

    status: int | None = None
    code: int | None = None
    message: str | None = None
    retry_after: str | None = None
    delay: float = 0.0
    problem_details: bool = False
    kind: Kind | None = None


@dataclass(frozen=True)
class TwilioRequest:
    """One request to a create endpoint, as received, and the status it was answered."""

    at: float
    kind: Kind
    account_sid: str
    form: Mapping[str, str]
    authorized: bool
    status: int
    sid: str | None

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def to(self) -> str | None:
        return self.form.get("To")

    @property
    def from_(self) -> str | None:
        return self.form.get("From")

    @property
    def body(self) -> str | None:
        return self.form.get("Body")

    @property
    def url(self) -> str | None:
        return self.form.get("Url")

    @property
    def status_callback(self) -> str | None:
        return self.form.get("StatusCallback")


@dataclass
class CallStep:
    """One webhook request the fake made during a call, and what came back."""

    url: str
    method: str
    form: dict[str, str]
    status: int
    body: str
    said: list[str] = field(default_factory=list)


@dataclass
class CallFlow:
    """What happened on one answered call: each TwiML fetch, the digits pressed."""

    call_sid: str
    to: str
    answered: bool
    steps: list[CallStep] = field(default_factory=list)
    digits_sent: list[str] = field(default_factory=list)
    status_callback: CallStep | None = None
    error: str | None = None
    done: bool = False

    @property
    def said(self) -> list[str]:
        """Every <Say> text of every document, in order."""
        return [text for step in self.steps for text in step.said]


@dataclass
class _AnswerRule:
    to: str | None
    digits: tuple[str, ...]


class FakeTwilio(Served):
    """The fake server; ``await start()`` on the test's loop, ``await close()`` after."""

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.requests: list[TwilioRequest] = []
        self.flows: list[CallFlow] = []
        self.no_answer_callbacks = False
        # Ringing time before a call is answered: the creating request has its answer
        # (and the caller has stored the call SID) before the first webhook arrives.
        self.answer_delay = 0.05
        self._validator = RequestValidator(auth_token)
        self._faults: list[Fault] = []
        self._number_rules: list[tuple[Callable[[str], bool], Fault]] = []
        self._answer_rules: list[_AnswerRule] = []
        self._serial = itertools.count(1)
        #: Accepted resources by SID, as the list endpoint returns them (newest last).
        self._resources: dict[str, dict[str, Any]] = {}
        #: Query parameters of each GET of the message list, in arrival order.
        self.lookups: list[dict[str, str]] = []
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.port = 0

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._on_message)
        app.router.add_post("/2010-04-01/Accounts/{sid}/Calls.json", self._on_call)
        app.router.add_get("/2010-04-01/Accounts/{sid}/Messages.json", self._on_message_list)
        # A stalled handler is cancelled when its client gives up, and close() does not
        # wait the default 60 s for one.
        self._runner = web.AppRunner(
            app, access_log=None, shutdown_timeout=1.0, handler_cancellation=True
        )
        await self._runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.host, 0))
        self.port = sock.getsockname()[1]
        await web.SockSite(self._runner, sock).start()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close(self) -> None:
        self._closing.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def api_base(self) -> str:
        """What pager.yaml's ``twilio.api_base`` should say to use this server."""
        return f"http://{self.host}:{self.port}"

    # -- what was received -------------------------------------------------------------

    @property
    def messages(self) -> list[TwilioRequest]:
        """Accepted SMS, in arrival order."""
        return [r for r in self.requests if r.kind == "sms" and r.accepted]

    @property
    def calls(self) -> list[TwilioRequest]:
        """Accepted calls, in arrival order."""
        return [r for r in self.requests if r.kind == "call" and r.accepted]

    async def wait_for(
        self,
        count: int,
        *,
        kind: Kind | None = None,
        accepted: bool | None = True,
        timeout: float = 5.0,  # noqa: ASYNC109  (a default every test would otherwise repeat)
    ) -> list[TwilioRequest]:
        """Wait until at least ``count`` matching requests arrived; return all matching.

        ``accepted`` None counts refused and faulted requests too. Raises AssertionError
        listing what did arrive when ``timeout`` passes first.
        """

        def matching() -> list[TwilioRequest]:
            return [
                r
                for r in self.requests
                if (kind is None or r.kind == kind) and (accepted is None or r.accepted == accepted)
            ]

        return await self._wait(
            lambda: matching() if len(matching()) >= count else None,
            timeout,
            lambda: f"{count} {kind or 'request'}(s); got {matching()!r}",
        )

    async def wait_for_flows(
        self,
        count: int,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109  (a default every test would otherwise repeat)
    ) -> list[CallFlow]:
        """Wait until ``count`` call flows have finished; return the finished ones."""

        def finished() -> list[CallFlow]:
            return [f for f in self.flows if f.done]

        return await self._wait(
            lambda: finished() if len(finished()) >= count else None,
            timeout,
            lambda: f"{count} finished call flow(s); got {self.flows!r}",
        )

    # -- faults ------------------------------------------------------------------------

    def push_fault(self, fault: Fault, *, times: int = 1) -> None:
        """Answer the next ``times`` matching requests with ``fault``, after those queued."""
        self._faults.extend([fault] * times)

    def fail_next(
        self,
        status: int,
        *,
        code: int | None = None,
        message: str | None = None,
        retry_after: str | None = None,
        times: int = 1,
        kind: Kind | None = None,
        problem_details: bool = False,
    ) -> None:
        """Answer the next ``times`` requests with HTTP ``status`` and Twilio ``code``."""
        self.push_fault(
            Fault(
                status=status,
                code=code,
                message=message,
                retry_after=retry_after,
                kind=kind,
                problem_details=problem_details,
            ),
            times=times,
        )

    def stall_next(self, seconds: float, *, times: int = 1, kind: Kind | None = None) -> None:
        """Hold the next ``times`` requests for ``seconds`` before accepting them."""
        self.push_fault(Fault(delay=seconds, kind=kind), times=times)

    def add_number_rule(self, match: str | re.Pattern[str], fault: Fault) -> None:
        """Answer every request whose ``To`` equals (or fully matches) ``match`` with ``fault``.

        Number rules are checked before the queue and do not consume it.
        """
        if isinstance(match, str):
            exact = match
            self._number_rules.append((lambda to: to == exact, fault))
        else:
            pattern = match
            self._number_rules.append((lambda to: pattern.fullmatch(to) is not None, fault))

    def refuse(
        self,
        match: str | re.Pattern[str],
        *,
        code: int = 21211,
        status: int = 400,
        message: str | None = None,
    ) -> None:
        """Always refuse ``match``: 21211 invalid number by default, 21610 for STOP."""
        self.add_number_rule(match, Fault(status=status, code=code, message=message))

    def clear_faults(self) -> None:
        self._faults.clear()
        self._number_rules.clear()

    # -- voice -------------------------------------------------------------------------

    def answer_calls(self, digits: Iterable[str] = ("4",), *, to: str | None = None) -> None:
        """Answer calls (to ``to``, or every number) and press ``digits`` at each Gather.

        Each entry is what one Gather receives ("4", "*", "12"); an empty entry, or the
        end of the script, is a Gather left without input (Twilio then goes on with the
        verbs after it). A later rule for the same number wins.
        """
        self._answer_rules.insert(0, _AnswerRule(to, tuple(digits)))

    def stop_answering(self) -> None:
        self._answer_rules.clear()

    def sign(self, url: str, form: Mapping[str, str]) -> str:
        """The X-Twilio-Signature Twilio would send for a POST of ``form`` to ``url``."""
        signature: str = self._validator.compute_signature(url, dict(form))
        return signature

    async def post_webhook(
        self, url: str, form: Mapping[str, str], *, method: str = "POST"
    ) -> tuple[int, str]:
        """Request ``url`` like Twilio does (signed); return (status, body text)."""
        session = self._require_session()
        if method.upper() == "GET":
            target = url + ("&" if "?" in url else "?") + urlencode(form) if form else url
            headers = {"X-Twilio-Signature": self.sign(target, {})}
            async with session.get(target, headers=headers) as resp:
                return resp.status, await resp.text()
        headers = {"X-Twilio-Signature": self.sign(url, form)}
        async with session.post(url, data=dict(form), headers=headers) as resp:
            return resp.status, await resp.text()

    async def send_inbound_sms(
        self,
        url: str,
        *,
        from_: str,
        body: str,
        to: str = "+15550000001",
        message_sid: str | None = None,
    ) -> tuple[int, str]:
        """Deliver an incoming SMS to a webhook at ``url``, signed; return (status, body)."""
        form = {
            "MessageSid": message_sid or self._new_sid("SM"),
            "AccountSid": self.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": "0",
        }
        return await self.post_webhook(url, form)

    # -- handlers ----------------------------------------------------------------------

    async def _on_message(self, request: web.Request) -> web.Response:
        return await self._create(request, "sms")

    async def _on_call(self, request: web.Request) -> web.Response:
        return await self._create(request, "call")

    async def _create(self, request: web.Request, kind: Kind) -> web.Response:
        arrived = time.monotonic()
        path_sid = request.match_info["sid"]
        posted = await request.post()
        form = {key: str(value) for key, value in posted.items()}
        authorized = path_sid == self.account_sid and self._credentials_ok(request)
        fault: Fault | None
        if not authorized:
            fault = Fault(status=401, code=20003, message="Authenticate")
        else:
            fault = self._invalid(kind, form) or self._pick_fault(kind, form.get("To", ""))
        status = fault.status if fault is not None and fault.status is not None else 201
        sid = self._new_sid("SM" if kind == "sms" else "CA") if status == 201 else None
        resource = None if sid is None else self._resource(kind, sid, form)
        if kind == "sms" and resource is not None:
            self._resources[sid] = resource  # accepted now, even if the answer is held back
        await self._record(TwilioRequest(arrived, kind, path_sid, form, authorized, status, sid))
        await self._hold(fault)
        if fault is not None and fault.status is not None:
            return self._error_response(fault)
        assert sid is not None and resource is not None
        if kind == "call":
            self._after_call_created(sid, form)
        return web.json_response(resource, status=201)

    def set_message_status(self, sid: str, status: str) -> None:
        """What the list endpoint reports for message ``sid`` from now on (e.g. failed)."""
        self._resources[sid]["status"] = status

    async def _on_message_list(self, request: web.Request) -> web.Response:
        """GET Messages.json: accepted messages, newest first, filtered by ``To`` and
        ``From``, one page of ``PageSize`` (default 50) as Twilio shapes it."""
        path_sid = request.match_info["sid"]
        query = dict(request.query)
        self.lookups.append(query)
        if not (path_sid == self.account_sid and self._credentials_ok(request)):
            return self._error_response(Fault(status=401, code=20003, message="Authenticate"))
        # A number rule (an outage) answers lookups too; queued faults are left for sends.
        fault = self._number_fault(query.get("To", ""))
        await self._hold(fault)
        if fault is not None and fault.status is not None:
            return self._error_response(fault)
        size = int(query.get("PageSize", "50"))
        found = [
            m
            for m in reversed(self._resources.values())
            if query.get("To") in (None, m["to"]) and query.get("From") in (None, m["from"])
        ][:size]
        uri = f"/2010-04-01/Accounts/{path_sid}/Messages.json?PageSize={size}&Page=0"
        page = {
            "messages": found,
            "page": 0,
            "page_size": size,
            "start": 0,
            "end": max(0, len(found) - 1),
            "uri": uri,
            "first_page_uri": uri,
            "next_page_uri": None,
            "previous_page_uri": None,
        }
        return web.json_response(page)

    def _credentials_ok(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return False
        return decoded == f"{self.account_sid}:{self.auth_token}"

    def _invalid(self, kind: Kind, form: Mapping[str, str]) -> Fault | None:
        to = form.get("To")
        if not to:
            return Fault(status=400, code=21604, message="A 'To' phone number is required.")
        if not E164.match(to):
            return Fault(
                status=400, code=21211, message=f"The 'To' number {to} is not a valid phone number."
            )
        if not form.get("From"):
            return Fault(status=400, code=21603, message="A 'From' phone number is required.")
        if kind == "sms" and not form.get("Body"):
            return Fault(status=400, code=21602, message="Message body is required.")
        if kind == "call" and not (form.get("Url") or form.get("Twiml")):
            return Fault(status=400, code=21205, message="Url parameter is required.")
        return None

    def _number_fault(self, to: str) -> Fault | None:
        """The fault of the first number rule matching ``to``, if any."""
        return next((fault for matches, fault in self._number_rules if matches(to)), None)

    def _pick_fault(self, kind: Kind, to: str) -> Fault | None:
        by_number = self._number_fault(to)
        if by_number is not None:
            return by_number
        for index, fault in enumerate(self._faults):
            if fault.kind is None or fault.kind == kind:
                del self._faults[index]
                return fault
        return None

    async def _hold(self, fault: Fault | None) -> None:
        """Keep the request waiting for the fault's delay (or until the fake closes)."""
        if fault is not None and fault.delay > 0:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(fault.delay):
                    await self._closing.wait()

    def _error_response(self, fault: Fault) -> web.Response:
        assert fault.status is not None
        status = fault.status
        code = fault.code if fault.code is not None else (20429 if status == 429 else 20500)
        message = fault.message or _DEFAULT_MESSAGES.get(code, f"Error {code}")
        headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
        body: dict[str, Any]
        if fault.problem_details:
            body = {
                "type": f"https://www.twilio.com/docs/api/errors/{code}",
                "title": message,
                "status": status,
                "code": code,
                "detail": message,
            }
            return web.json_response(
                body, status=status, headers=headers, content_type="application/problem+json"
            )
        body = {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        }
        return web.json_response(body, status=status, headers=headers)

    def _resource(self, kind: Kind, sid: str, form: Mapping[str, str]) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC))
        collection = "Messages" if kind == "sms" else "Calls"
        common: dict[str, Any] = {
            "sid": sid,
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "date_created": now,
            "date_updated": now,
            "direction": "outbound-api",
            "from": form.get("From"),
            "to": form.get("To"),
            "status": "queued",
            "price": None,
            "price_unit": "USD",
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/{collection}/{sid}.json",
        }
        if kind == "sms":
            common.update(
                body=form.get("Body"),
                num_segments="1",
                num_media="0",
                date_sent=None,
                error_code=None,
                error_message=None,
                messaging_service_sid=None,
            )
        else:
            common.update(
                to_formatted=form.get("To"),
                from_formatted=form.get("From"),
                start_time=None,
                end_time=None,
                duration=None,
                parent_call_sid=None,
                phone_number_sid=None,
                answered_by=None,
            )
        return common

    # -- call flows --------------------------------------------------------------------

    def _after_call_created(self, sid: str, form: Mapping[str, str]) -> None:
        to = form.get("To", "")
        rule = next((r for r in self._answer_rules if r.to in (None, to)), None)
        if rule is None and not (self.no_answer_callbacks and form.get("StatusCallback")):
            return
        flow = CallFlow(call_sid=sid, to=to, answered=rule is not None)
        self.flows.append(flow)
        task = asyncio.create_task(self._run_flow(flow, dict(form), rule))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run_flow(
        self, flow: CallFlow, created: dict[str, str], rule: _AnswerRule | None
    ) -> None:
        params = {
            "CallSid": flow.call_sid,
            "AccountSid": self.account_sid,
            "From": created.get("From", ""),
            "To": created.get("To", ""),
            "Direction": "outbound-api",
            "ApiVersion": "2010-04-01",
        }
        try:
            if self.answer_delay > 0:
                await asyncio.sleep(self.answer_delay)
            if rule is not None:
                await self._converse(flow, created, params, list(rule.digits))
            callback = created.get("StatusCallback")
            if callback:
                final = dict(params, CallStatus="completed" if flow.answered else "no-answer")
                if flow.answered:
                    final["CallDuration"] = "12"
                method = created.get("StatusCallbackMethod", "POST")
                flow.status_callback = await self._request_step(callback, method, final)
        except Exception as exc:  # the flow reports, never crashes the test's loop
            flow.error = f"{type(exc).__name__}: {exc}"
        finally:
            flow.done = True
            async with self._changed:
                self._changed.notify_all()

    async def _converse(
        self,
        flow: CallFlow,
        created: dict[str, str],
        params: dict[str, str],
        script: list[str],
    ) -> None:
        live = dict(params, CallStatus="in-progress")
        inline = created.get("Twiml")
        if inline:
            step = CallStep(url="", method="INLINE", form={}, status=200, body=inline)
        else:
            step = await self._request_step(
                created.get("Url", ""), created.get("Method", "POST"), live
            )
        for _ in range(MAX_CALL_STEPS):
            flow.steps.append(step)
            if step.status != 200:
                return
            following = self._follow(step, live, script, flow)
            if following is None:
                return
            step = await self._request_step(*following)
        flow.error = f"more than {MAX_CALL_STEPS} TwiML documents; gave up"

    def _follow(
        self, step: CallStep, live: dict[str, str], script: list[str], flow: CallFlow
    ) -> tuple[str, str, dict[str, str]] | None:
        """Play ``step``'s TwiML: collect what is said, return the next request or None."""
        for verb in _parse_twiml(step.body):
            if verb.tag == "Say":
                step.said.append(_text(verb))
            elif verb.tag == "Gather":
                step.said.extend(_text(say) for say in verb.iter("Say"))
                digits = script.pop(0) if script else ""
                if digits or verb.get("actionOnEmptyResult") == "true":
                    flow.digits_sent.append(digits)
                    # Without an action Twilio posts the digits back to the same document.
                    action = urljoin(step.url, verb.get("action") or step.url)
                    return action, verb.get("method", "POST"), dict(live, Digits=digits)
                # No input: Twilio goes on with the verbs after the Gather.
            elif verb.tag == "Redirect":
                target = urljoin(step.url, _text(verb))
                return target, verb.get("method", "POST"), live
            elif verb.tag in ("Hangup", "Reject"):
                return None
        return None

    async def _request_step(self, url: str, method: str, form: dict[str, str]) -> CallStep:
        status, body = await self.post_webhook(url, form, method=method)
        return CallStep(url=url, method=method.upper(), form=form, status=status, body=body)

    # -- plumbing ----------------------------------------------------------------------

    def _new_sid(self, prefix: str) -> str:
        return f"{prefix}{next(self._serial):032x}"

    def _require_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            raise RuntimeError("FakeTwilio is not started")
        return self._session

    async def _record(self, request: TwilioRequest) -> None:
        self.requests.append(request)
        async with self._changed:
            self._changed.notify_all()

    async def _wait(
        self,
        ready: Callable[[], _T | None],
        timeout: float,  # noqa: ASYNC109
        describe: Callable[[], str],
    ) -> _T:
        try:
            async with asyncio.timeout(timeout), self._changed:
                while True:
                    result = ready()
                    if result is not None:
                        return result
                    await self._changed.wait()
        except TimeoutError:
            raise AssertionError(f"timed out after {timeout}s waiting for {describe()}") from None


_DEFAULT_MESSAGES = {
    20003: "Authenticate",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    21211: "The 'To' number is not a valid phone number.",
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
}


def _parse_twiml(document: str) -> list[ET.Element]:
    """The verbs of a TwiML <Response>; raises ValueError for anything else."""
    root = ET.fromstring(document)
    if root.tag != "Response":
        raise ValueError(f"TwiML root is <{root.tag}>, not <Response>")
    return list(root)


def _text(element: ET.Element) -> str:
    return "".join(element.itertext()).strip()
