"""One call from a store connection to a :class:`~pager.report.model.Report`."""

from __future__ import annotations

import gc
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
    # Hundreds of thousands of rows, none in a reference cycle: the cyclic collector
    # would walk them again and again as they are allocated (a third of the time).
    enabled = gc.isenabled()
    gc.disable()
    try:
        tickets, audit = source.tickets(start, end), source.audit(start, end)
        return compute(config, tickets, audit, start, end, tier)
    finally:
        if enabled:
            gc.enable()
