"""The report as text, CSV or JSON (HTML: :mod:`pager.report.html`)."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from datetime import date, datetime
from typing import Any

from pager.core.events import format_instant
from pager.report.model import Report
from pager.report.tables import Table, tables


def heading(report: Report) -> str:
    tier = f", tier {report.tier}" if report.tier else ""
    return (
        f"pager report {format_instant(report.start)} .. {format_instant(report.end)}{tier}:"
        f" {report.tickets} ticket(s) opened"
    )


def _text_table(table: Table) -> str:
    widths = [len(h) for h in table.header]
    for row in table.rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = [table.title, "-" * len(table.title)]
    if not table.rows:
        lines.append("(none)")
        return "\n".join(lines)
    for row in (table.header, *table.rows):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return "\n".join(lines)


def text(report: Report) -> str:
    parts = [heading(report), *(_text_table(t) for t in tables(report))]
    return "\n\n".join(parts) + "\n"


def csv_text(report: Report) -> str:
    """Every table in one CSV stream: a ``section`` column names the table."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for table in tables(report):
        writer.writerow(("section", *table.header))
        for row in table.rows:
            writer.writerow((table.title, *row))
        writer.writerow(())
    return out.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def to_json(report: Report) -> dict[str, Any]:
    """The report as JSON-ready data: durations in seconds, percentages 0..100."""
    plain: dict[str, Any] = _plain(dataclasses.asdict(report))
    return plain


def json_text(report: Report) -> str:
    return json.dumps(to_json(report), indent=2) + "\n"
