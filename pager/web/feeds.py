"""The iCalendar feeds of rotations and people, each behind its own token."""

from __future__ import annotations

from aiohttp import web

from pager.cli.schedule import ical_feed, new_calendar, shift_event
from pager.web import auth, views
from pager.web.base import FEED_AFTER, FEED_BEFORE
from pager.web.report_pages import ReportPages


class Feeds(ReportPages):
    """``/calendar/rotation/{name}.ics`` and ``/calendar/person/{name}.ics``."""

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
        shifts = resolver.shifts(name, now - FEED_BEFORE, now + FEED_AFTER)
        return _ics(ical_feed(resolver, config, name, shifts, now))

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


def _ics(data: bytes) -> web.Response:
    return web.Response(
        body=data,
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "no-cache"},
    )
