"""The SLA and on-call load report (``pager report``) for the status page.

:func:`parse_query` reads ``from``, ``to`` and ``tier`` of a request the way the CLI
reads its options (:func:`pager.cli.common.parse_when`, so the same texts are accepted);
:func:`run` builds the report from a read-only connection to the store
(:func:`pager.store.reading.connect`) in a worker thread, so neither the event loop nor
the daemon's store thread waits while it runs. Nothing is cached: a report is asked for
now and then, by a person, and must show what is stored at that moment.

The report names people by id and name only (:mod:`pager.report.model` holds no phone
number or email address), so its pages need no scrubbing.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.cli.common import parse_when
from pager.core.events import format_instant
from pager.core.model import Config
from pager.report import charts as charts_mod
from pager.report.build import build
from pager.report.charts import Chart
from pager.report.model import Report
from pager.store.reading import connect

#: The period shown when the request names none: the last 30 days up to now.
DEFAULT_PERIOD = timedelta(days=30)
#: The longest period the status page reports on (``pager report`` has no limit): a
#: year, so one request cannot keep a core busy for minutes.
MAX_PERIOD = timedelta(days=366)

#: matplotlib's caches (fonts, text layout) are not documented as thread-safe: two
#: requests draw their charts one after the other.
_DRAWING = threading.Lock()


@dataclass(frozen=True, slots=True)
class Query:
    """A report's period ``[start, end)`` and tier (None: every tier)."""

    start: datetime
    end: datetime
    tier: str | None

    def form(self) -> dict[str, str]:
        """The values to show in the page's form (what a reload would ask again)."""
        return {
            "from": format_instant(self.start),
            "to": format_instant(self.end),
            "tier": self.tier or "",
        }


def parse_query(query: Mapping[str, str], config: Config, now: datetime) -> Query:
    """``from`` (default ``to`` - 30 days), ``to`` (default ``now``), ``tier`` (empty or
    absent: all). Raises ``ValueError`` with a one-line reason for anything unusable."""
    end = _when(query, "to", now) or now
    start = _when(query, "from", now) or end - DEFAULT_PERIOD
    if end <= start:
        raise ValueError("'to' must be after 'from'")
    if end - start > MAX_PERIOD:
        raise ValueError(
            f"the period is longer than {MAX_PERIOD.days} days; use `pager report` for longer"
        )
    tier = query.get("tier", "").strip() or None
    if tier is not None and config.tier(tier) is None:
        raise ValueError(f"unknown tier {tier!r}")
    return Query(start, end, tier)


def _when(query: Mapping[str, str], name: str, now: datetime) -> datetime | None:
    text = query.get(name, "").strip()
    if not text:
        return None
    try:
        return parse_when(text, now=now)
    except ValueError as exc:
        raise ValueError(f"{name}: {_one_line(str(exc))}") from None


def _one_line(text: str) -> str:
    return " ".join(text.split())


async def run(config: Config, query: Query, *, draw: bool) -> tuple[Report, list[Chart]]:
    """The report (and its charts when ``draw``), computed in a worker thread. Raises
    ``LookupError`` when the store cannot be opened."""
    return await asyncio.to_thread(_run, config, query, draw)


def _run(config: Config, query: Query, draw: bool) -> tuple[Report, list[Chart]]:
    conn = connect(config.settings.store)
    try:
        report = build(config, conn, query.start, query.end, query.tier)
    finally:
        conn.close()
    if not draw:
        return report, []
    with _DRAWING:
        return report, charts_mod.charts(report)
