"""The JSON API under ``/api``: the status pages' data without HTML."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from pager.core import coverage as cov
from pager.web import views
from pager.web.base import API_LIMIT, PAGE_SIZE
from pager.web.pages import Pages


class Api(Pages):
    """``/api/oncall``, ``/api/coverage``, ``/api/tickets``, ``/api/ticket/{id}``,
    ``/api/people``."""

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


def _json(data: Any) -> web.Response:
    return web.json_response(data, headers={"Cache-Control": "no-store"})
