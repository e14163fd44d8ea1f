"""What the status page shows, as JSON-ready dicts (the HTML and ``/api`` share them).

Functions of the config, a resolver, store rows and ``now``; no I/O. People appear by
display name and id only: no phone number or email address is ever put in a view, and
free text from tickets and the audit goes through :func:`redact` first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pager.core.coverage import Coverage
from pager.core.hours import zone
from pager.core.ladder.machine import TicketState
from pager.core.model import Config
from pager.core.rotation import RotationResolver
from pager.daemon.engine import describe
from pager.store.types import AuditEntry

#: How far ahead the next handoff is looked for.
HANDOFF_HORIZON = timedelta(days=35)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
#: E.164-like numbers (a leading +) and North American 3-3-4 groups; dates do not match.
_PHONE = re.compile(r"\+\d[\d ().-]{5,}\d|\b\d{3}[ .-]?\d{3}[ .-]?\d{4}\b")


def redact(text: str) -> str:
    """``text`` with anything shaped like an email address or phone number replaced."""
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def countdown(until: datetime | None, now: datetime) -> str:
    """``in 1h 05m`` / ``12m overdue`` / ``-``."""
    if until is None:
        return "-"
    seconds = int((until - now).total_seconds())
    left = abs(seconds)
    days, rest = divmod(left, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        text = f"{days}d {hours:02d}h"
    elif hours:
        text = f"{hours}h {minutes:02d}m"
    else:
        text = f"{minutes}m" if minutes else f"{left}s"
    return f"in {text}" if seconds >= 0 else f"{text} overdue"


def person_name(config: Config, person: str | None) -> str | None:
    if person is None:
        return None
    known = config.people.get(person)
    return known.name if known is not None and known.name else person


def _person(config: Config, person: str | None) -> dict[str, Any] | None:
    return None if person is None else {"id": person, "name": person_name(config, person)}


# --- on call now ----------------------------------------------------------------------


def oncall_facts(config: Config, resolver: RotationResolver, now: datetime) -> list[dict[str, Any]]:
    """Every rotation: who takes pages, each region's member, the next handoff and who
    takes over (instants as datetimes; :func:`oncall_view` makes them JSON)."""
    out: list[dict[str, Any]] = []
    for name, rotation in config.rotations.items():
        answer = resolver.oncall(name, now)
        change = resolver.shift_end(name, now, HANDOFF_HORIZON)
        after = resolver.oncall(name, change) if change is not None else None
        regions = []
        for region in rotation.regions:
            member = resolver.oncall_in_region(name, region.name, now)
            regions.append(
                {
                    "region": region.name,
                    "timezone": region.timezone,
                    "covers": resolver.covers(name, region.name, now),
                    "person": _person(config, member.person),
                    "override": member.source == "override",
                }
            )
        out.append(
            {
                "rotation": name,
                "person": _person(config, answer.person),
                "region": answer.region,
                "source": answer.source,
                "override": answer.source == "override",
                "next_handoff": change,
                "next_person": _person(config, after.person) if after is not None else None,
                "next_source": after.source if after is not None else None,
                "regions": regions,
            }
        )
    return out


def valid_until(resolver: RotationResolver, now: datetime) -> datetime:
    """Until when :func:`oncall_facts` at ``now`` stay true: the earliest instant where
    any rotation's answer, region coverage or member may change."""
    found = now + timedelta(minutes=10)
    for name in resolver.rotations:
        change = resolver.next_change(name, now)
        if change is not None and change < found:
            found = change
    return found


def oncall_view(facts: list[dict[str, Any]], now: datetime) -> list[dict[str, Any]]:
    """``facts`` for ``now``: regions' local times, the handoff's countdown, JSON instants."""
    out = []
    for fact in facts:
        change = fact["next_handoff"]
        regions = []
        for region in fact["regions"]:
            local = now.astimezone(zone(region["timezone"]))
            regions.append(
                {**region, "local_time": local.strftime("%a %H:%M ") + (local.tzname() or "")}
            )
        out.append(
            {
                **fact,
                "next_handoff": iso(change),
                "next_handoff_in": countdown(change, now) if change is not None else None,
                "regions": regions,
            }
        )
    return out


def oncall(config: Config, resolver: RotationResolver, now: datetime) -> list[dict[str, Any]]:
    """Who is on call at ``now``, every rotation (JSON-ready)."""
    return oncall_view(oncall_facts(config, resolver, now), now)


# --- coverage -------------------------------------------------------------------------


def coverage_json(config: Config, cov: Coverage) -> dict[str, Any]:
    def seg(start: datetime, end: datetime) -> dict[str, str | None]:
        return {"start": iso(start), "end": iso(end)}

    return {
        "rotation": cov.rotation,
        "start": iso(cov.start),
        "end": iso(cov.end),
        "lanes": [
            {
                "region": lane.region,
                "timezone": lane.timezone,
                "segments": [
                    {
                        **seg(s.start, s.end),
                        "person": _person(config, s.person),
                        "override": s.source == "override",
                    }
                    for s in lane.segments
                ],
            }
            for lane in cov.lanes
        ],
        "pages": [
            {**seg(s.start, s.end), "person": _person(config, s.person), "source": s.source}
            for s in cov.pages
        ],
        "overlaps": [seg(a, b) for a, b in cov.overlaps],
        "after_hours": [seg(a, b) for a, b in cov.after_hours],
        "gaps": [seg(a, b) for a, b in cov.gaps],
        "holidays": [
            {"region": h.region, "date": h.day.isoformat(), **seg(h.start, h.end)}
            for h in cov.holidays
        ],
        "overrides": [
            {
                "person": _person(config, o.person),
                "replaces": _person(config, o.replaces),
                **seg(o.start, o.end),
            }
            for o in cov.overrides
        ],
    }


# --- tickets --------------------------------------------------------------------------


_FAR = datetime.max.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class TicketRow:
    """One open ticket, ready for the list, with its place in it (``key``, ascending:
    breached first, then by nearest clock, then severity)."""

    state: TicketState
    rung_name: str | None
    key: tuple[bool, datetime, int, str]


def due(state: TicketState) -> datetime | None:
    """The nearer of the open clocks (respond-by until responded, then status-due)."""
    clocks = [c for c in (None if state.responded else state.respond_by, state.status_due) if c]
    return min(clocks) if clocks else None


def rung_name(config: Config, state: TicketState) -> str | None:
    if state.rung <= 0:
        return None
    try:
        rungs = config.ladder_for(state.queue).rungs
    except (KeyError, ValueError, LookupError):
        return None
    return rungs[state.rung - 1].name if state.rung <= len(rungs) else None


def ticket_row(config: Config, state: TicketState) -> TicketRow:
    key = (not state.breached, due(state) or _FAR, state.severity, state.ticket_id)
    return TicketRow(state, rung_name(config, state), key)


def ticket_rows(config: Config, states: Iterable[TicketState]) -> list[TicketRow]:
    """Open tickets, most urgent first (see :class:`TicketRow`)."""
    return sort_rows([ticket_row(config, s) for s in states])


def sort_rows(rows: Iterable[TicketRow]) -> list[TicketRow]:
    return sorted(rows, key=lambda row: row.key)


def ticket_json(config: Config, row: TicketRow, now: datetime) -> dict[str, Any]:
    s = row.state
    respond_by = None if s.responded else s.respond_by
    breached = s.breached or (respond_by is not None and respond_by <= now)
    if s.exhausted:
        status = "exhausted"
    elif s.paused:
        status = "paused"
    elif s.owner is not None:
        status = "owned"
    elif s.responded:
        status = "responded"
    else:
        status = "paging"
    return {
        "id": s.ticket_id,
        "severity": s.severity,
        "tier": s.tier,
        "customer": redact(s.customer) if s.customer else None,
        "summary": redact(s.summary) if s.summary else None,
        "region": s.region,
        "rung": s.rung,
        "rung_name": row.rung_name,
        "owner": _person(config, s.owner),
        "status": status,
        "opened_at": iso(s.opened_at),
        "respond_by": iso(respond_by),
        "respond_in": countdown(respond_by, now) if respond_by else None,
        "status_due": iso(s.status_due),
        "status_in": countdown(s.status_due, now) if s.status_due else None,
        "status_overdue": s.status_due is not None and s.status_due <= now,
        "breached": breached,
    }


def timeline(entries: Sequence[AuditEntry]) -> list[dict[str, Any]]:
    return [
        {"at": iso(e.at), "action": e.action, "text": redact(describe(e.action, e.detail))}
        for e in entries
    ]
