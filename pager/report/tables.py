"""The report as named tables of strings: shared by the text, CSV and HTML renderers."""

from __future__ import annotations

from dataclasses import dataclass

from pager.report.model import Report


@dataclass(frozen=True, slots=True)
class Table:
    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]


def minutes(seconds: float | None) -> str:
    """A duration for people: ``42s``, ``12m``, ``3h05m``, ``2d04h`` (``-`` for none)."""
    if seconds is None:
        return "-"
    total = round(seconds)
    if total < 60:
        return f"{total}s"
    m = total // 60
    if m < 60:
        return f"{m}m"
    h, m = divmod(m, 60)
    if h < 48:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}%"


def tables(report: Report) -> list[Table]:
    """Every section of the report, in reading order."""
    out: list[Table] = []
    out.append(
        Table(
            "SLA attainment (tickets opened in the period)",
            (
                "tier",
                "sev",
                "respond within",
                "tickets",
                "p50",
                "p90",
                "max",
                "met",
                "breaches",
                "breach %",
                "attained",
                "pending",
                "status on time",
                "status late",
            ),
            [
                (
                    r.tier,
                    str(r.severity),
                    r.respond_within,
                    str(r.tickets),
                    minutes(r.first_response_p50),
                    minutes(r.first_response_p90),
                    minutes(r.first_response_max),
                    str(r.met),
                    str(r.breaches),
                    percent(r.breach_pct),
                    percent(r.attainment_pct),
                    str(r.pending),
                    f"{r.status_on_time} ({percent(r.status_on_time_pct)})",
                    str(r.status_late),
                )
                for r in report.sla
            ],
        )
    )
    out.append(
        Table(
            "Customer escalations per rung",
            ("tier", "sev", "rung", "escalations", "rung deadline met", "breached"),
            [
                (
                    r.tier,
                    str(r.severity),
                    f"{e.rung} {e.name}",
                    str(e.count),
                    str(e.met),
                    str(e.breached),
                )
                for r in report.sla
                for e in r.customer_escalations
            ],
        )
    )
    out.append(
        Table(
            "Escalations by reason (rungs paged in the period)",
            ("reason", "escalations"),
            [(k, str(v)) for k, v in report.escalations_by_reason.items()],
        )
    )
    out.append(
        Table(
            "On-call load per person (pages in the period, their local time)",
            (
                "person",
                "region",
                "pages",
                "tickets",
                "off hours",
                "nights",
                "weekends",
                "holidays",
                "acks",
                "ack p50",
                "ack p90",
                "handoffs taken",
            ),
            [
                (
                    p.person,
                    p.region,
                    str(p.pages),
                    str(p.tickets),
                    str(p.off_hours),
                    str(p.nights),
                    str(p.weekends),
                    str(p.holidays),
                    str(p.acks),
                    minutes(p.ack_p50),
                    minutes(p.ack_p90),
                    str(p.handoffs_taken),
                )
                for p in report.people
            ],
        )
    )
    out.append(
        Table(
            "On-call load per region",
            (
                "region",
                "people",
                "pages",
                "tickets",
                "off hours",
                "acks",
                "ack p50",
                "handoffs taken",
            ),
            [
                (
                    r.region,
                    str(r.people),
                    str(r.pages),
                    str(r.tickets),
                    str(r.off_hours),
                    str(r.acks),
                    minutes(r.ack_p50),
                    str(r.handoffs_taken),
                )
                for r in report.regions
            ],
        )
    )
    out.append(
        Table(
            "Spread across each rotation's members (cv = stdev / mean of pages)",
            ("rotation", "min", "max", "mean", "cv", "pages (off hours) per member"),
            [
                (
                    s.rotation,
                    str(s.min),
                    str(s.max),
                    f"{s.mean:g}",
                    "-" if s.cv is None else f"{s.cv:g}",
                    " ".join(f"{m}={n}({s.off_hours[m]})" for m, n in s.members.items()),
                )
                for s in report.spreads
            ],
        )
    )
    out.append(
        Table(
            "Noisiest tickets",
            ("ticket", "customer", "pages", "escalations"),
            [
                (n.key, n.customer or "-", str(n.pages), str(n.escalations))
                for n in report.noisy_tickets
            ],
        )
    )
    out.append(
        Table(
            "Noisiest customers",
            ("customer", "pages", "escalations"),
            [(n.key, str(n.pages), str(n.escalations)) for n in report.noisy_customers],
        )
    )
    return out
