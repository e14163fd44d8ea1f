"""The status page, its JSON mirror and the calendar feeds, served on the daemon's
aiohttp app (see :mod:`pager.web.site`)."""
