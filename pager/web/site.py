"""The status page, its JSON mirror and the calendar feeds, as aiohttp routes.

Routes (mounted on the webhook server's app by :meth:`StatusSite.mount`):

* ``GET /status`` (``?rotation=NAME&week=2026-W49&page=N``): on call now, the week's
  coverage picture of one rotation, the open tickets (most urgent first, 100 a page).
* ``GET /status/ticket/{id}``: one ticket and its timeline (the audit).
* ``GET /status/people``: everyone's calendar feed and last confirmed test page.
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
engine's lives on the store thread), and the open tickets kept current from the daemon's
commits (:mod:`pager.web.tickets`), so a page costs the store thread nothing however
often it is loaded. Parts of pages and JSON are kept per minute shown (countdowns show
minutes).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup

from pager.cli.schedule import new_calendar, shift_event
from pager.core import coverage as cov
from pager.core.model import Config
from pager.core.rotation import RotationResolver
from pager.daemon.engine import Engine
from pager.daemon.service import Service
from pager.web import auth, svg, views
from pager.web.tickets import OpenTickets

HERE = Path(__file__).parent
#: Seconds between page refreshes (``<meta http-equiv=refresh>``).
REFRESH = 30
PAGE_SIZE = 100
#: Regions listed per rotation in the HTML table (all of them in /api/oncall).
REGIONS_SHOWN = 8
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


class StatusSite:
    """See the module docstring. ``clock()`` is the only source of ``now``."""

    def __init__(
        self,
        *,
        service: Service,
        clock: Callable[[], datetime],
        tests_every: float = 30.0,
    ) -> None:
        self._service = service
        self._clock = clock
        self.tickets = OpenTickets(service, tests_every=tests_every)
        self._oncall: tuple[Config, datetime, datetime, list[dict[str, Any]]] | None = None
        #: The last on-call view and "now" picture, per wall-clock minute they show.
        self._views: dict[str, tuple[tuple[Any, ...], Any]] = {}
        #: Bumped whenever a cached computation is replaced (config, on-call facts): part
        #: of the per-minute keys, so a view never outlives what it was made from.
        self._generation = 0
        self._config: Config | None = None
        self._resolver: RotationResolver | None = None
        self._coverage: dict[tuple[str, datetime], tuple[cov.Coverage, str]] = {}
        self._coverage_json: dict[tuple[str, datetime], bytes] = {}
        self._rows_html: dict[str, tuple[views.TicketRow, datetime, Markup]] = {}
        self._css = (HERE / "static" / "status.css").read_bytes()
        self._jinja = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            auto_reload=False,
        )

    def mount(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/status", self._page, name="status")
        r.add_get("/status/ticket/{id}", self._ticket_page, name="status_ticket")
        r.add_get("/status/people", self._people_page, name="status_people")
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
            self._coverage, self._coverage_json = {}, {}
            self._generation += 1
        return config, self._resolver

    def _secret(self) -> str:
        """The status secret; 404 when the page is off."""
        secret = self._service.policy.config.settings.http.status_secret
        if not secret:
            raise web.HTTPNotFound()
        return secret

    async def _rows(self) -> list[views.TicketRow]:
        config, _ = self._current()
        return await self.tickets.rows(config)

    def _oncall_now(self, config: Config, resolver: RotationResolver, now: datetime) -> Any:
        """:func:`views.oncall`: the facts computed again only when some answer may have
        changed, their view (local times, countdowns) once per minute shown."""
        cached = self._oncall
        if cached is None or cached[0] is not config or not cached[1] <= now < cached[2]:
            facts = views.oncall_facts(config, resolver, now)
            cached = self._oncall = (config, now, views.valid_until(resolver, now), facts)
        return self._per_minute(
            "oncall", (id(cached), now), lambda: views.oncall_view(cached[3], now)
        )

    def _per_minute(self, kind: str, key: tuple[Any, ...], make: Callable[[], Any]) -> Any:
        """``make()``, kept while ``key`` (its last item an instant, cut to the minute)
        stays the same: pages show minutes, so one computation serves a minute of loads."""
        minute = key[-1].replace(second=0, microsecond=0)
        whole = (*key[:-1], minute)
        found = self._views.get(kind)
        if found is None or found[0] != whole:
            found = self._views[kind] = (whole, make())
        return found[1]

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
        week_label = cov.week_label(week)

        def coverage_section() -> Markup:
            picture, data = "", None
            if rotation is not None:
                data, picture = self._coverage_of(config, resolver, rotation, week)
                if data.start <= now < data.end:  # with the "now" line
                    picture = svg.render(data, _names(config), svg.colours(config.people), now)
            palette = svg.colours(config.people)
            return self._fragment(
                "_coverage.html",
                rotations=list(config.rotations),
                rotation=rotation,
                week=week_label,
                prev_week=cov.week_label(week - cov.WEEK),
                next_week=cov.week_label(week + cov.WEEK),
                coverage=Markup(picture),
                legend=[
                    {"name": views.person_name(config, p), "colour": palette.get(p, "#ccc")}
                    for p in (data.people() if data is not None else ())
                ],
                gaps=[views.iso(a) for a, _ in data.gaps] if data is not None else [],
            )

        covered = self._per_minute(
            "coverage_section", (self._generation, rotation, week, now), coverage_section
        )
        secret = self._secret()
        oncall = self._oncall_html(config, resolver, now)
        feeds = {name: _feed_url(secret, "rotation", name) for name in config.rotations}
        oncall_table = self._per_minute(
            "oncall_table",
            (self._generation, now),
            lambda: self._fragment("_oncall.html", oncall=oncall, rotation_feeds=feeds),
        )
        pages = max((len(rows) + PAGE_SIZE - 1) // PAGE_SIZE, 1)
        tickets_table = self._per_minute(
            "tickets_table",
            (self.tickets.version, page, rotation, week_label, now),
            lambda: self._fragment(
                "_tickets.html",
                rows=[self._row_html(config, row, now) for row in shown],
                page=page,
                pages=pages,
                rotation=rotation,
                week=week_label,
            ),
        )
        return self._html(
            "status.html",
            now=views.iso(now),
            oncall_table=oncall_table,
            tickets_table=tickets_table,
            coverage_section=covered,
            total=len(rows),
        )

    def _row_html(self, config: Config, row: views.TicketRow, now: datetime) -> Markup:
        """One ticket's table row, kept until the ticket changes or the minute shown does
        (at 100 events a second the list changes all the time, its rows seldom)."""
        minute = now.replace(second=0, microsecond=0)
        found = self._rows_html.get(row.state.ticket_id)
        if found is not None and found[0] is row and found[1] == minute:
            return found[2]
        html = self._fragment("_ticket_row.html", t=views.ticket_json(config, row, now))
        if len(self._rows_html) >= 4 * PAGE_SIZE:
            self._rows_html.clear()
        self._rows_html[row.state.ticket_id] = (row, minute, html)
        return html

    def _fragment(self, template: str, **context: Any) -> Markup:
        """A part of a page, rendered once and kept (see :meth:`_per_minute`)."""
        return Markup(self._jinja.get_template(template).render(**context))

    def _oncall_html(
        self, config: Config, resolver: RotationResolver, now: datetime
    ) -> list[dict[str, Any]]:
        """The on-call view with at most REGIONS_SHOWN regions a rotation (open ones
        first): a fan-out rotation may have hundreds."""
        full = self._oncall_now(config, resolver, now)

        def make() -> list[dict[str, Any]]:
            out = []
            for entry in full:
                regions = entry["regions"]
                ordered = [g for g in regions if g["covers"]] + [
                    g for g in regions if not g["covers"]
                ]
                shown = ordered[:REGIONS_SHOWN]
                out.append({**entry, "regions": shown, "more": len(regions) - len(shown)})
            return out

        shown: list[dict[str, Any]] = self._per_minute("oncall_html", (self._generation, now), make)
        return shown

    async def _people_page(self, request: web.Request) -> web.Response:
        denied = self._html_guard(request)
        if denied is not None:
            return denied
        await self._rows()
        config, _ = self._current()
        return self._html(
            "people.html",
            now=views.iso(self._clock()),
            people=self._people(config, self._secret()),
        )

    def _people(self, config: Config, secret: str | None) -> list[dict[str, Any]]:
        """Everyone: name, last confirmed test page, and (for HTML) their feed URL."""
        tests = self.tickets.tests
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
            return engine.ticket(ticket_id), engine.audit(ticket_id)

        state, entries = await self._service.db(read)
        if state is None:
            raise web.HTTPNotFound(text=f"no ticket {ticket_id!r}\n")
        row = views.ticket_row(config, state)
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
        rotations = self._oncall_now(config, resolver, now)
        return _json({"now": views.iso(now), "rotations": rotations})

    async def _api_coverage(self, request: web.Request) -> web.Response:
        self._api_guard(request)
        config, resolver = self._current()
        rotation = self._rotation(request, config)
        if rotation is None:
            raise web.HTTPNotFound(text="no rotations\n")
        week = self._week(request, self._clock())
        body = self._coverage_json.get((rotation, week))
        if body is None:
            data, _ = self._coverage_of(config, resolver, rotation, week)
            doc = {"week": cov.week_label(data.start), **views.coverage_json(config, data)}
            if len(self._coverage_json) >= 64:
                self._coverage_json.clear()
            body = self._coverage_json[(rotation, week)] = json.dumps(doc).encode()
        return web.Response(
            body=body, content_type="application/json", headers={"Cache-Control": "no-store"}
        )

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

        def make() -> bytes:
            doc = {
                "now": views.iso(now),
                "total": len(rows),
                "offset": offset,
                "tickets": [
                    views.ticket_json(config, r, now) for r in rows[offset : offset + limit]
                ],
            }
            return json.dumps(doc).encode()

        # Countdowns show minutes: one rendering serves a minute of requests.
        body = self._per_minute(
            "api_tickets", (self._generation, self.tickets.version, offset, limit, now), make
        )
        return web.Response(
            body=body, content_type="application/json", headers={"Cache-Control": "no-store"}
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
