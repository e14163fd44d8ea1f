"""Ticket events from the support desk (SPEC section 2): parsing and validation.

:func:`parse_event` turns one MQTT payload into a frozen :class:`TicketEvent` or raises
:class:`InvalidEvent` whose message says what is wrong, for the dead-letter topic. It is
pure: whether the ticket exists or the tier is known is checked by the caller, which
knows the config and the store.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, cast

EventType = Literal[
    "opened",
    "updated",
    "acknowledged",
    "escalated",
    "status_report",
    "waiting_on_customer",
    "customer_replied",
    "closed",
]
EVENT_TYPES: Final[frozenset[str]] = frozenset(EventType.__args__)  # type: ignore[attr-defined]
MAX_PAYLOAD_BYTES: Final = 64 * 1024
TICKET_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})")
_KNOWN_FIELDS: Final = frozenset(
    {
        "event_id",
        "ticket_id",
        "type",
        "at",
        "severity",
        "tier",
        "customer",
        "summary",
        "queue",
        "region",
        "rung",
        "by",
    }
)


class InvalidEvent(ValueError):
    """The payload is not a valid ticket event; ``str()`` is the reason.

    ``event_id``/``ticket_id`` are filled in when they could be read, for the log line.
    """

    def __init__(
        self, reason: str, *, event_id: str | None = None, ticket_id: str | None = None
    ) -> None:
        super().__init__(reason)
        self.event_id = event_id
        self.ticket_id = ticket_id


@dataclass(frozen=True, slots=True)
class TicketEvent:
    event_id: str
    ticket_id: str
    type: EventType
    at: datetime
    severity: int | None = None
    tier: str | None = None
    customer: str | None = None
    summary: str | None = None
    queue: str | None = None
    region: str | None = None
    rung: int | None = None
    by: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The event as a JSON-ready dict (``at`` in RFC 3339 UTC), omitting absent fields."""
        out: dict[str, Any] = {
            "event_id": self.event_id,
            "ticket_id": self.ticket_id,
            "type": self.type,
            "at": format_instant(self.at),
        }
        for name in ("severity", "tier", "customer", "summary", "queue", "region", "rung", "by"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value
        return out


def format_instant(t: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, seconds precision unless sub-second."""
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    # isoformat() shows microseconds only when there are some, and ends in "+00:00".
    return t.isoformat()[:-6] + "Z"


def format_instant_seconds(t: datetime) -> str:
    """:func:`format_instant` cut to whole seconds (the ladder's timeline notes)."""
    if t.tzinfo is not UTC:
        t = t.astimezone(UTC)
    # isoformat(timespec="seconds") costs twice this (every opening note has one).
    return "%04d-%02d-%02dT%02d:%02d:%02dZ" % (  # noqa: UP031 (an f-string is slower still)
        t.year,
        t.month,
        t.day,
        t.hour,
        t.minute,
        t.second,
    )


def parse_instant(text: str) -> datetime:
    """Parse an RFC 3339 timestamp *with* an offset into an aware UTC datetime.

    Raises ValueError for anything else (naive times are refused: the desk must say
    which instant it means).
    """
    if not _RFC3339.fullmatch(text):
        raise ValueError(f"not an RFC 3339 timestamp with offset: {text!r}")
    try:
        parsed = datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
        return parsed.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"not a valid instant: {text!r} ({exc})") from None


def parse_event(payload: bytes | str) -> TicketEvent:
    """Validate one payload (SPEC section 2) and return the event; raise InvalidEvent."""
    raw = payload.encode() if isinstance(payload, str) else payload
    if len(raw) > MAX_PAYLOAD_BYTES:
        raise InvalidEvent(f"payload is {len(raw)} bytes, more than {MAX_PAYLOAD_BYTES}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InvalidEvent(f"payload is not UTF-8: {exc.reason} at byte {exc.start}") from None
    except json.JSONDecodeError as exc:
        raise InvalidEvent(f"payload is not JSON: {exc.msg} at line {exc.lineno}") from None
    except RecursionError:
        raise InvalidEvent("payload is nested too deeply") from None
    if not isinstance(data, dict):
        raise InvalidEvent(f"payload must be a JSON object, not {type(data).__name__}")
    return event_from_dict(cast(dict[str, Any], data))


def event_from_dict(data: dict[str, Any]) -> TicketEvent:
    """Validate a decoded JSON object as an event; raise InvalidEvent with every problem."""
    problems: list[str] = []
    event_id = _string(data, "event_id", 1, 128, problems, required=True)
    ticket_id = _string(data, "ticket_id", 1, 64, problems, required=True)
    if ticket_id is not None and not TICKET_ID.fullmatch(ticket_id):
        problems.append(f"ticket_id {ticket_id!r} may only contain A-Z a-z 0-9 . _ : -")
        ticket_id = None
    kind = data.get("type")
    if kind is None:
        problems.append("type is required")
    elif not isinstance(kind, str) or kind not in EVENT_TYPES:
        problems.append(f"unknown type {kind!r} (expected one of {', '.join(sorted(EVENT_TYPES))})")
        kind = None
    at: datetime | None = None
    raw_at = data.get("at")
    if raw_at is None:
        problems.append("at is required")
    elif not isinstance(raw_at, str):
        problems.append("at must be an RFC 3339 string")
    else:
        try:
            at = parse_instant(raw_at)
        except ValueError as exc:
            problems.append(f"at: {exc}")
    severity = _int(data, "severity", 1, 4, problems)
    rung = _int(data, "rung", 1, 4, problems)
    tier = _string(data, "tier", 1, 64, problems)
    customer = _string(data, "customer", 0, 200, problems)
    summary = _string(data, "summary", 0, 200, problems)
    queue = _string(data, "queue", 1, 64, problems)
    region = _string(data, "region", 1, 64, problems)
    by = _string(data, "by", 1, 64, problems)
    if kind == "opened":
        # absent and null are both missing; a wrong type was reported by its parser
        if data.get("severity") is None:
            problems.append("severity is required on opened")
        if data.get("tier") is None:
            problems.append("tier is required on opened")
    if rung is not None and kind not in (None, "escalated"):
        problems.append("rung is only allowed on escalated")
    unknown = sorted(set(data) - _KNOWN_FIELDS)
    if unknown:
        problems.append(f"unknown field(s): {', '.join(map(repr, unknown))}")
    if problems:
        raise InvalidEvent("; ".join(problems), event_id=event_id, ticket_id=ticket_id)
    assert event_id is not None and ticket_id is not None and kind is not None and at is not None
    return TicketEvent(
        event_id=event_id,
        ticket_id=ticket_id,
        type=cast(EventType, kind),
        at=at,
        severity=severity,
        tier=tier,
        customer=customer,
        summary=summary,
        queue=queue,
        region=region,
        rung=rung,
        by=by,
    )


def _string(
    data: dict[str, Any],
    name: str,
    shortest: int,
    longest: int,
    problems: list[str],
    *,
    required: bool = False,
) -> str | None:
    value = data.get(name)
    if value is None:
        if required:
            problems.append(f"{name} is required")
        return None
    if not isinstance(value, str):
        problems.append(f"{name} must be a string, not {type(value).__name__}")
        return None
    if not shortest <= len(value) <= longest:
        problems.append(f"{name} must be {shortest}-{longest} characters, not {len(value)}")
        return None
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800") decodes from JSON but is no text
        problems.append(f"{name} contains an invalid character (a lone UTF-16 surrogate)")
        return None
    return value


def _int(
    data: dict[str, Any], name: str, lowest: int, highest: int, problems: list[str]
) -> int | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{name} must be an integer {lowest}-{highest}, not {value!r}")
        return None
    if not lowest <= value <= highest:
        problems.append(f"{name} must be {lowest}-{highest}, not {value}")
        return None
    return value
