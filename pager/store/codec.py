"""Ticket state <-> JSON, exactly (the store round-trips it; a property test checks).

Instants are stored as ISO 8601 UTC strings, durations as seconds (float), nested frozen
records as lists in field order. Unknown keys are ignored and missing keys take their
defaults, so a newer daemon can read an older row.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from pager.core.ladder import Page, PendingStep, TicketState

_DATETIME_FIELDS = frozenset(
    {
        "opened_at",
        "last_event_at",
        "respond_by",
        "ack_deadline",
        "first_page_at",
        "status_due",
        "remind_at",
        "shift_check_at",
    }
)
_TIMEDELTA_FIELDS = frozenset({"respond_left", "status_left"})
_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(TicketState))


def _dt(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _undt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


def encode_state(state: TicketState) -> str:
    """The state as compact JSON text."""
    out: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        value = getattr(state, name)
        if name in _DATETIME_FIELDS:
            value = _dt(value)
        elif name in _TIMEDELTA_FIELDS:
            value = None if value is None else value.total_seconds()
        elif name == "pages":
            value = [[p.person, p.rung, p.kind, _dt(p.at), p.rotation] for p in value]
        elif name == "steps":
            value = [[_dt(st.due), st.person, st.via, st.kind, st.rung] for st in value]
        elif name == "paged":
            value = list(value)
        out[name] = value
    return json.dumps(out, separators=(",", ":"), ensure_ascii=False)


def decode_state(text: str) -> TicketState:
    """Inverse of :func:`encode_state`; raises ValueError on a corrupt row."""
    raw: dict[str, Any] = json.loads(text)
    kwargs: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        if name not in raw:
            continue
        value = raw[name]
        if name in _DATETIME_FIELDS:
            value = _undt(value)
        elif name in _TIMEDELTA_FIELDS:
            value = None if value is None else timedelta(seconds=value)
        elif name == "pages":
            value = tuple(Page(p[0], p[1], p[2], _required(_undt(p[3])), p[4]) for p in value)
        elif name == "steps":
            value = tuple(
                PendingStep(_required(_undt(st[0])), st[1], st[2], st[3], st[4]) for st in value
            )
        elif name == "paged":
            value = tuple(value)
        kwargs[name] = value
    try:
        return TicketState(**kwargs)
    except TypeError as exc:
        raise ValueError(f"corrupt ticket state: {exc}") from None


def _required(value: datetime | None) -> datetime:
    if value is None:
        raise ValueError("corrupt ticket state: missing instant")
    return value
