"""The status site's shared state: config and resolver of the moment, per-minute caches,
templates; the HTML response helper. The routes are layered on
:class:`SiteBase` by concern (:mod:`.login`, :mod:`.pages`, :mod:`.api`, :mod:`.report_pages`,
:mod:`.feeds`) and assembled in :mod:`pager.web.site`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web
from markupsafe import Markup

from pager.core import coverage as cov
from pager.core.model import Config
from pager.core.rotation import RotationResolver
from pager.daemon.service import Service
from pager.web import svg, views
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
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
}


class SiteBase:
    """The state every route reads. ``clock()`` is the only source of ``now``."""

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

    def _html(self, template: str, *, status: int = 200, **context: Any) -> web.Response:
        text = self._jinja.get_template(template).render(refresh=REFRESH, **context)
        return web.Response(
            text=text, status=status, content_type="text/html", headers=dict(_HEADERS)
        )

    def _fragment(self, template: str, **context: Any) -> Markup:
        """A part of a page, rendered once and kept (see :meth:`_per_minute`)."""
        return Markup(self._jinja.get_template(template).render(**context))


def _names(config: Config) -> dict[str, str]:
    return {pid: views.person_name(config, pid) or pid for pid in config.people}
