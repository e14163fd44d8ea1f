"""The status page, its JSON mirror and the calendar feeds, as aiohttp routes.

Routes (mounted on the webhook server's app by :meth:`StatusSite.mount`):

* ``GET /status`` (``?rotation=NAME&week=2026-W49&page=N``): on call now, the week's
  coverage picture of one rotation, the open tickets (most urgent first, 200 a page).
* ``GET /status/ticket/{id}``: one ticket and its timeline (the audit).
* ``GET|POST /status/login``, ``POST /status/logout``: the password form and its cookie.
* ``GET /api/oncall``, ``/api/coverage?rotation=&week=``, ``/api/tickets?offset=&limit=``,
  ``/api/ticket/{id}``, ``/api/people`` (names and last confirmed test page): the same
  data as JSON.
* ``GET /calendar/rotation/{name}.ics?token=T``, ``/calendar/person/{id}.ics?token=T``:
  iCalendar feeds of the shifts from a week back to eight weeks ahead.

Access: every route answers 404 while ``http.status_auth_file`` is not configured. HTML
and ``/api`` need the session cookie set by the login form or ``Authorization: Bearer
SECRET``; without either HTML gets 401 with the login form and ``/api`` gets 401 JSON.
A feed needs its own token (:func:`pager.web.auth.feed_token`), shown on the status page.
No phone number or email address is ever part of a response (see :mod:`pager.web.views`).

Everything reads the config current at the request (a reload takes effect at once), its
own :class:`~pager.core.rotation.RotationResolver` (resolvers are not thread-safe and the
engine's lives on the store thread), and a snapshot of the open tickets read through
:meth:`pager.daemon.service.Service.db` at most once per ``ticket_refresh`` seconds while
tickets change, so a page costs the store thread little however often it is loaded.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup

from pager.cli.schedule import new_calendar, shift_event
from pager.core import coverage as cov
from pager.core.ladder.machine import TicketState
from pager.core.model import Config
from pager.core.rotation import RotationResolver
from pager.daemon import test_pages
from pager.daemon.engine import Engine
from pager.daemon.service import CommitInfo, Service
from pager.web import auth, svg, views

HERE = Path(__file__).parent
#: Seconds between page refreshes (``<meta http-equiv=refresh>``).
REFRESH = 30
PAGE_SIZE = 200
API_LIMIT = 1000
#: Calendar feeds cover this much before and after now.
FEED_BEFORE = timedelta(days=7)
FEED_AFTER = timedelta(days=56)
_FAILED_LOGIN_DELAY = 0.5
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
}


class _Snapshot:
    """The open tickets, sorted, and when they were read."""

    def __init__(self) -> None:
        self.rows: list[views.TicketRow] = []
        #: person id -> when they last confirmed a test page (None: never).
        self.tests: dict[str, datetime | None] = {}
        self.read_at = -1e9
        self.config: Config | None = None
        self.dirty = True


class StatusSite:
    """See the module docstring. ``clock()`` is the only source of ``now``."""

    def __init__(
        self,
        *,
        service: Service,
        clock: Callable[[], datetime],
        ticket_refresh: float = 1.0,
        ticket_max_age: float = 5.0,
    ) -> None:
        self._service = service
        self._clock = clock
        self._refresh = ticket_refresh
        self._max_age = ticket_max_age
        self._snapshot = _Snapshot()
        self._lock = asyncio.Lock()
        self._config: Config | None = None
        self._resolver: RotationResolver | None = None
        self._coverage: dict[tuple[str, datetime], tuple[cov.Coverage, str]] = {}
        self._css = (HERE / "static" / "status.css").read_bytes()
        self._jinja = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        service.on_commit.append(self._on_commit)

    def _on_commit(self, info: CommitInfo) -> None:
        if info.tickets:
            self._snapshot.dirty = True

    def mount(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/status", self._page, name="status")
        r.add_get("/status/ticket/{id}", self._ticket_page, name="status_ticket")
        r.add_get("/status/login", self._login_form, name="status_login")
        r.add_post("/status/login", self._login, name="status_login_post")
        r.add_post("/status/logout", self._logout, name="status_logout")
        r.add_get("/status/static/status.css", self._static_css, name="status_css")
        r.add_get("/api/oncall", self._api_oncall, name="api_oncall")
        r.add_get("/api/coverage", self._api_coverage, name="api_coverage")
        r.add_get("/api/tickets", self._api_tickets, name="api_tickets")
        r.add_get("/api/ticket/{id}", self._api_ticket, name="api_ticket")
        r.add_get("/api/people", self._api_people, name="api_people")
        r.add_get("/calendar/rotation/{name}.ics", self._feed_rotation, name="calendar_rotation")
        r.add_get("/calendar/person/{name}.ics", self._feed_person, name="calendar_person")

    # --- shared state -------------------------------------------------------------------

    def _current(self) -> tuple[Config, RotationResolver]:
        config = self._service.policy.config
        if config is not self._config or self._resolver is None:
            self._config, self._resolver = config, RotationResolver(config.rotations)
            self._coverage = {}
        return config, self._resolver

    def _secret(self) -> str:
        """The status secret; 404 when the page is off."""
        secret = self._service.policy.config.settings.http.status_secret
        if not secret:
            raise web.HTTPNotFound()
        return secret

    def _fresh(self, config: Config) -> bool:
        snap = self._snapshot
        age = time.monotonic() - snap.read_at
        return (
            snap.config is config
            and age < self._max_age
            and (not snap.dirty or age < self._refresh)
        )

    async def _rows(self) -> list[views.TicketRow]:
        config, _ = self._current()
        snap = self._snapshot
        if self._fresh(config):
            return snap.rows
        async with self._lock:
            if self._fresh(config):
                return snap.rows  # another request refreshed it while this one waited
            snap.dirty = False  # a commit from now on marks it dirty again
            people = list(config.people)

            def read(engine: Engine) -> tuple[list[TicketState], dict[str, datetime | None]]:
                tests = {pid: test_pages.last_passed(engine.store, pid) for pid in people}
                return list(engine.store.open_tickets()), tests

            states, snap.tests = await self._service.db(read)
            snap.rows = views.ticket_rows(config, states)
            snap.read_at, snap.config = time.monotonic(), config
        return snap.rows

    def _week(self, request: web.Request, now: datetime) -> datetime:
        text = request.query.get("week")
        if not text:
            return cov.week_of(now)
        try:
            return cov.parse_week(text)
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None

    def _rotation(self, request: web.Request, config: Config) -> str | None:
        name = request.query.get("rotation")
        if name is None:
            return next(iter(config.rotations), None)
        if name not in config.rotations:
            raise web.HTTPNotFound(text=f"unknown rotation {name!r}\n")
        return name

    def _coverage_of(
        self, config: Config, resolver: RotationResolver, rotation: str, week: datetime
    ) -> tuple[cov.Coverage, str]:
        key = (rotation, week)
        found = self._coverage.get(key)
        if found is None:
            data = cov.coverage(config.rotations[rotation], resolver, week)
            picture = svg.render(data, _names(config), svg.colours(config.people))
            if len(self._coverage) >= 64:
                self._coverage.clear()
            found = self._coverage[key] = (data, picture)
        return found

    # --- access -------------------------------------------------------------------------

    def _authorised(self, request: web.Request, secret: str) -> bool:
        token = auth.bearer(request.headers.get("Authorization"))
        if token is not None:
            return auth.password_ok(secret, token)
        return auth.session_ok(secret, request.cookies.get(auth.COOKIE), self._clock())

    def _html_guard(self, request: web.Request) -> web.Response | None:
        """None when the request may see HTML, else the 401 login form."""
        if self._authorised(request, self._secret()):
            return None
        return self._login_response(request.path_qs, "", status=401)

    def _api_guard(self, request: web.Request) -> None:
        if not self._authorised(request, self._secret()):
            raise web.HTTPUnauthorized(
                text=json.dumps({"error": "unauthorized"}),
                content_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="pager"'},
            )

    def _login_response(self, next_url: str, error: str, status: int) -> web.Response:
        return self._html("login.html", status=status, next=_safe_next(next_url), error=error)

    async def _login_form(self, request: web.Request) -> web.Response:
        self._secret()
        return self._login_response(request.query.get("next", "/status"), "", 200)

    async def _login(self, request: web.Request) -> web.Response:
        secret = self._secret()
        form = await request.post()
        password, next_url = form.get("password"), form.get("next")
        target = _safe_next(next_url if isinstance(next_url, str) else "/status")
        if not isinstance(password, str) or not auth.password_ok(secret, password):
            await asyncio.sleep(_FAILED_LOGIN_DELAY)  # slows guessing down
            return self._login_response(target, "Wrong password.", 401)
        response = web.HTTPSeeOther(target)
        response.set_cookie(
            auth.COOKIE,
            auth.session_cookie(secret, self._clock()),
            max_age=int(auth.SESSION.total_seconds()),
            path="/",
            httponly=True,
            samesite="Strict",
            secure=request.secure,
        )
        raise response

    async def _logout(self, request: web.Request) -> web.Response:
        self._secret()
        response = web.HTTPSeeOther("/status/login")
        response.del_cookie(auth.COOKIE, path="/")
        raise response

    async def _static_css(self, request: web.Request) -> web.Response:
        self._secret()
        return web.Response(
            body=self._css, content_type="text/css", headers={"Cache-Control": "max-age=3600"}
        )

    # --- HTML ---------------------------------------------------------------------------

    def _html(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        text = self._jinja.get_template(template).render(refresh=REFRESH, **context)
        return web.Response(
            text=text, status=status, content_type="text/html", headers=dict(_HEADERS)
        )

    async def _page(self, request: web.Request) -> web.Response:
        denied = self._html_guard(request)
        if denied is not None:
            return denied
        now = self._clock()
        config, resolver = self._current()
        rotation = self._rotation(request, config)
        week = self._week(request, now)
        try:
            page = max(int(request.query.get("page", "1")), 1)
        except ValueError:
            raise web.HTTPBadRequest(text="page must be a number\n") from None
        rows = await self._rows()
        shown = rows[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
        picture = ""
        data = None
        if rotation is not None:
            data, picture = self._coverage_of(config, resolver, rotation, week)
            if data.start <= now < data.end:  # the "now" line: not cached
                picture = svg.render(data, _names(config), svg.colours(config.people), now)
        secret = self._secret()
        palette = svg.colours(config.people)
        legend = [
            {"name": views.person_name(config, p), "colour": palette.get(p, "#ccc")}
            for p in (data.people() if data is not None else ())
        ]
        return self._html(
            "status.html",
            now=views.iso(now),
            oncall=views.oncall(config, resolver, now),
            rotations=list(config.rotations),
            rotation=rotation,
            week=cov.week_label(week),
            prev_week=cov.week_label(week - cov.WEEK),
            next_week=cov.week_label(week + cov.WEEK),
            coverage=Markup(picture),
            legend=legend,
            gaps=[views.iso(a) for a, _ in data.gaps] if data is not None else [],
            tickets=[views.ticket_json(config, row, now) for row in shown],
            total=len(rows),
            page=page,
            pages=max((len(rows) + PAGE_SIZE - 1) // PAGE_SIZE, 1),
            rotation_feeds=[
                (name, _feed_url(secret, "rotation", name)) for name in config.rotations
            ],
            people=self._people(config, secret),
        )

    def _people(self, config: Config, secret: str | None) -> list[dict[str, Any]]:
        """Everyone: name, last confirmed test page, and (for HTML) their feed URL."""
        tests = self._snapshot.tests
        return [
            {
                "id": pid,
                "name": views.person_name(config, pid),
                "last_test_passed": views.iso(tests.get(pid)),
                **({"feed": _feed_url(secret, "person", pid)} if secret else {}),
            }
            for pid in config.people
        ]

    async def _ticket_data(self, request: web.Request) -> dict[str, Any]:
        ticket_id = request.match_info["id"]
        config, _ = self._current()
        now = self._clock()

        def read(engine: Engine) -> tuple[Any, Any]:
            return engine.store.get_ticket(ticket_id), engine.store.audit(ticket_id)

        state, entries = await self._service.db(read)
        if state is None:
            raise web.HTTPNotFound(text=f"no ticket {ticket_id!r}\n")
        row = views.TicketRow(state, views.rung_name(config, state))
        return {
            **views.ticket_json(config, row, now),
            "closed": state.closed,
            "timeline": views.timeline(entries),
        }

    async def _ticket_page(self, request: web.Request) -> web.Response:
        denied = self._html_guard(request)
        if denied is not None:
            return denied
        ticket = await self._ticket_data(request)
        return self._html("ticket.html", now=views.iso(self._clock()), ticket=ticket)

    # --- JSON ---------------------------------------------------------------------------

    async def _api_oncall(self, request: web.Request) -> web.Response:
        self._api_guard(request)
        config, resolver = self._current()
        now = self._clock()
        return _json({"now": views.iso(now), "rotations": views.oncall(config, resolver, now)})

    async def _api_coverage(self, request: web.Request) -> web.Response:
        self._api_guard(request)
        config, resolver = self._current()
        rotation = self._rotation(request, config)
        if rotation is None:
            raise web.HTTPNotFound(text="no rotations\n")
        data, _ = self._coverage_of(config, resolver, rotation, self._week(request, self._clock()))
        return _json({"week": cov.week_label(data.start), **views.coverage_json(config, data)})

    async def _api_tickets(self, request: web.Request) -> web.Response:
        self._api_guard(request)
        try:
            offset = max(int(request.query.get("offset", "0")), 0)
            limit = min(max(int(request.query.get("limit", str(PAGE_SIZE))), 0), API_LIMIT)
        except ValueError:
            raise web.HTTPBadRequest(text="offset and limit must be numbers\n") from None
        rows = await self._rows()
        config, _ = self._current()
        now = self._clock()
        return _json(
            {
                "now": views.iso(now),
                "total": len(rows),
                "offset": offset,
                "tickets": [
                    views.ticket_json(config, r, now) for r in rows[offset : offset + limit]
                ],
            }
        )

    async def _api_people(self, request: web.Request) -> web.Response:
        self._api_guard(request)
        await self._rows()
        config, _ = self._current()
        return _json({"people": self._people(config, None)})

    async def _api_ticket(self, request: web.Request) -> web.Response:
        self._api_guard(request)
        return _json(await self._ticket_data(request))

    # --- calendar feeds -----------------------------------------------------------------

    def _feed_guard(self, request: web.Request, kind: str) -> str:
        name = request.match_info["name"]
        if not auth.feed_ok(self._secret(), kind, name, request.query.get("token")):
            raise web.HTTPUnauthorized(text="a valid token is required\n")
        return name

    async def _feed_rotation(self, request: web.Request) -> web.Response:
        name = self._feed_guard(request, "rotation")
        config, resolver = self._current()
        if name not in config.rotations:
            raise web.HTTPNotFound(text="unknown rotation\n")
        now = self._clock()
        calendar = new_calendar(f"On call: {name}")
        for shift in resolver.shifts(name, now - FEED_BEFORE, now + FEED_AFTER):
            if shift.person is not None:
                calendar.add_component(shift_event(resolver, config, name, shift, now))
        return _ics(calendar.to_ical())

    async def _feed_person(self, request: web.Request) -> web.Response:
        person = self._feed_guard(request, "person")
        config, resolver = self._current()
        if person not in config.people:
            raise web.HTTPNotFound(text="unknown person\n")
        now = self._clock()
        calendar = new_calendar(f"On call: {views.person_name(config, person)}")
        for rotation in config.rotations:
            for shift in resolver.shifts(rotation, now - FEED_BEFORE, now + FEED_AFTER):
                # An after_hours shift is the after_hours rotation's own shift too.
                if shift.person == person and shift.source != "after_hours":
                    calendar.add_component(shift_event(resolver, config, rotation, shift, now))
        return _ics(calendar.to_ical())


def _feed_url(secret: str, kind: str, name: str) -> str:
    return f"/calendar/{kind}/{name}.ics?token={auth.feed_token(secret, kind, name)}"


def _names(config: Config) -> dict[str, str]:
    return {pid: views.person_name(config, pid) or pid for pid in config.people}


def _safe_next(target: str) -> str:
    """Only a path on this site (no scheme, no host): an open redirect otherwise."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/status"


def _json(data: Any) -> web.Response:
    return web.json_response(data, headers={"Cache-Control": "no-store"})


def _ics(data: bytes) -> web.Response:
    return web.Response(
        body=data,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )
