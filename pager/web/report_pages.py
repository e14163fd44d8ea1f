"""The SLA and on-call load report as a page and as JSON (:mod:`pager.web.reports`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from pager.web import views
from pager.web.api import Api
from pager.web.base import _HEADERS

if TYPE_CHECKING:
    from pager.web import reports

# The report modules (matplotlib, the report's jinja2 templates) are imported by the
# handlers at the first report request, not at daemon start: they doubled the daemon's
# RSS and start-up time while most daemons never serve a report.


class ReportPages(Api):
    """``/status/report`` and ``/api/report``."""

    # --- the report -----------------------------------------------------------------

    def _report_query(self, request: web.Request) -> reports.Query:
        """The request's period and tier; 400 with the one-line reason when unusable."""
        from pager.web import reports

        config, _ = self._current()
        try:
            return reports.parse_query(request.query, config, self._clock())
        except ValueError as exc:
            raise web.HTTPBadRequest(text=f"{exc}\n") from None

    async def _report_page(self, request: web.Request) -> web.Response:
        from pager.report import render as report_render
        from pager.report.html import inline as inline_charts
        from pager.report.tables import tables as report_tables
        from pager.web import reports

        denied = self._html_guard(request)
        if denied is not None:
            return denied
        config, _ = self._current()
        now = self._clock()
        tiers = sorted({t for ladder in config.ladders.values() for t in ladder.tiers})
        page: dict[str, Any] = {
            "now": views.iso(now),
            "tiers": tiers,
            "error": "",
            "report_heading": "",
            "json_url": "/api/report",
            "charts": [],
            "tables": [],
        }
        try:
            query = reports.parse_query(request.query, config, now)
        except ValueError as exc:
            form = {k: request.query.get(k, "") for k in ("from", "to", "tier")}
            return self._report_html(400, {**page, "form": form, "error": str(exc)})
        try:
            report, drawn = await reports.run(config, query, draw=True)
        except LookupError as exc:
            raise web.HTTPServiceUnavailable(text=f"{exc}\n") from None
        page |= {
            "form": query.form(),
            "report_heading": report_render.heading(report),
            "json_url": "/api/report?" + urlencode(query.form()),
            "charts": inline_charts(drawn),
            "tables": report_tables(report),
        }
        return self._report_html(200, page)

    def _report_html(self, status: int, context: dict[str, Any]) -> web.Response:
        response = self._html("report.html", status=status, **context)
        # matplotlib's SVG styles its shapes with style attributes and a <style> element,
        # and the heat map is a data: PNG inside it: inline styles and data: images (never
        # scripts) are allowed on this page only.
        response.headers["Content-Security-Policy"] = (
            _HEADERS["Content-Security-Policy"]
            .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
            .replace("img-src 'self'", "img-src 'self' data:")
        )
        return response

    async def _api_report(self, request: web.Request) -> web.Response:
        from pager.report import render as report_render
        from pager.web import reports

        self._api_guard(request)
        config, _ = self._current()
        query = self._report_query(request)
        try:
            report, _ = await reports.run(config, query, draw=False)
        except LookupError as exc:
            raise web.HTTPServiceUnavailable(text=f"{exc}\n") from None
        return web.Response(
            text=report_render.json_text(report),
            content_type="application/json",
            headers={"Cache-Control": "no-store"},
        )
