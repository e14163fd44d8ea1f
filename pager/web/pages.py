"""The HTML status pages: ``/status``, ``/status/ticket/{id}``, ``/status/people``."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web
from markupsafe import Markup

from pager.core import coverage as cov
from pager.core.model import Config
from pager.core.rotation import RotationResolver
from pager.daemon.engine import Engine
from pager.web import auth, svg, views
from pager.web.base import PAGE_SIZE, REGIONS_SHOWN, _names
from pager.web.login import Access


class Pages(Access):
    """The HTML pages (their data helpers are shared with the JSON API)."""

    # --- HTML ---------------------------------------------------------------------------

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


def _feed_url(secret: str, kind: str, name: str) -> str:
    return f"/calendar/{kind}/{name}.ics?token={auth.feed_token(secret, kind, name)}"
