"""The status page, its JSON mirror and the calendar feeds, as aiohttp routes.

Routes (mounted on the webhook server's app by :meth:`StatusSite.mount`):

* ``GET /status`` (``?rotation=NAME&week=2026-W49&page=N``): on call now, the week's
  coverage picture of one rotation, the open tickets (most urgent first, 100 a page).
* ``GET /status/ticket/{id}``: one ticket and its timeline (the audit).
* ``GET /status/people``: everyone's calendar feed and last confirmed test page.
* ``GET /status/report?from=&to=&tier=``, ``GET /api/report?...``: the SLA and on-call
  load report of ``pager report`` (HTML with its charts, or its JSON) over ``[from, to)``,
  by default the last 30 days up to now (:mod:`pager.web.reports`).
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

from aiohttp import web

from pager.web.feeds import Feeds


class StatusSite(Feeds):
    """See the module docstring. ``clock()`` is the only source of ``now``."""

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
        r.add_get("/status/report", self._report_page, name="status_report")
        r.add_get("/api/report", self._api_report, name="api_report")
        r.add_get("/calendar/rotation/{name}.ics", self._feed_rotation, name="calendar_rotation")
        r.add_get("/calendar/person/{name}.ics", self._feed_person, name="calendar_person")
