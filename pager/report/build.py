"""One call from a store connection to a :class:`~pager.report.model.Report`."""

from __future__ import annotations

from datetime import datetime

from pager.core.model import Config
from pager.report.figures import compute
from pager.report.model import Report
from pager.report.source import Connection, Dialect, Source


def build(
    config: Config,
    conn: Connection,
    start: datetime,
    end: datetime,
    tier: str | None = None,
    dialect: Dialect | None = None,
) -> Report:
    """The report over ``[start, end)``; ``tier`` limits it to one tier's tickets."""
    source = Source(conn, dialect)
    return compute(config, source.tickets(start, end), source.audit(start, end), start, end, tier)
