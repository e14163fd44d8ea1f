"""Ticket state <-> JSON, exactly (the store round-trips it; a property test checks).

The stored form is a JSON array: a format number, then the fields of
:class:`TicketState` in the order :data:`STORED_LAYOUT` spells out. That order is the
stored contract, independent of the dataclass's declaration order (reordering the
dataclass changes nothing on disk). Instants are integer microseconds since the epoch
(UTC), durations integer microseconds, nested records (:class:`Page`,
:class:`PendingStep`) lists in the order written out below. A positional array without
key names and integer instants is several times cheaper to write than an object of ISO
strings, and writing a state is on the path of every event.

**Adding a field** to TicketState: append its name to :data:`STORED_LAYOUT` (one line;
never insert, reorder or remove). Older rows are shorter and take the new field's
default; a row longer than this version knows (from a newer daemon) is refused as
corrupt rather than guessed at. A field that leaves TicketState keeps its place in the
layout (written as null, ignored when read). Importing this module fails while a field
is missing from the layout.

Rows written before format 2 (a JSON object keyed by field name, ISO 8601 instants,
durations as float seconds) are still read.
"""

from __future__ import annotations

import dataclasses
import json
import operator
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pager.core.ladder import Page, PendingStep, TicketState
from pager.core.ladder.state import Draft

FORMAT = 2
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
        "paused_at",
        "status_from",
    }
)
_TIMEDELTA_FIELDS = frozenset({"respond_left", "status_left", "ack_left", "waited"})
#: The stored order of TicketState's fields (format 2). Append-only: see the module
#: docstring. Positions 1.. of a stored array are these names, in this order.
STORED_LAYOUT: tuple[str, ...] = (
    "ticket_id",
    "queue",
    "tier",
    "severity",
    "opened_at",
    "last_event_at",
    "customer",
    "summary",
    "region",
    "closed",
    "rung",
    "repeats",
    "owner",
    "owner_rotation",
    "responded",
    "breached",
    "respond_by",
    "respond_left",
    "ack_deadline",
    "first_page_at",
    "status_due",
    "status_left",
    "remind_at",
    "reminded",
    "paused",
    "shift_check_at",
    "handoff_to",
    "exhausted",
    "seq",
    "pages",
    "steps",
    "paged",
    # issue 11 (the amended ladder); older rows take the dataclass defaults
    "customer_rung",
    "owner_rung",
    "escalation_rung",
    "ack_business",
    "paused_at",
    "ack_left",
    "paged_rungs",
    "status_from",
    "waited",
)

_DATACLASS_FIELDS = frozenset(f.name for f in dataclasses.fields(TicketState))
_unstored = sorted(_DATACLASS_FIELDS - set(STORED_LAYOUT))
if _unstored:  # a new field would silently not be stored: refuse to run
    raise RuntimeError(
        f"TicketState field(s) {_unstored} missing from STORED_LAYOUT in {__name__}: "
        "append them at its end"
    )
if len(set(STORED_LAYOUT)) != len(STORED_LAYOUT):
    raise RuntimeError(f"STORED_LAYOUT in {__name__} names a field twice")
_FIELD_NAMES = STORED_LAYOUT
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
#: One encoder for every state (``json.dumps`` with options builds a new one per call).
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def _us(value: datetime) -> int:
    return (value - _EPOCH) // _MICROSECOND


def _from_us(value: int) -> datetime:
    return _EPOCH + timedelta(microseconds=value)


def _codec(name: str) -> str:
    if name in _DATETIME_FIELDS:
        return "datetime"
    if name in _TIMEDELTA_FIELDS:
        return "timedelta"
    if name == "paged_rungs":
        return "paged"  # a tuple of plain values, stored as a list like ``paged``
    return name if name in ("pages", "steps", "paged") else "plain"


@dataclasses.dataclass(frozen=True, slots=True)
class _Layout:
    """A stored layout as both directions of the codec use it: its field names, the
    fields TicketState still has, read in one call (a slotted dataclass: one ``getattr``
    per field cost more than the JSON encoding), and the positions in the stored array
    (1-based: 0 is the format) of the values that need converting, so that only those
    are visited. A retired field's place holds None. Tuples of plain values (``paged``,
    ``paged_rungs``) are written as JSON writes a tuple (an array) and read back as
    tuples."""

    names: tuple[str, ...]
    read: Callable[[TicketState], tuple[Any, ...]]
    retired: tuple[int, ...]
    datetimes: tuple[int, ...]
    timedeltas: tuple[int, ...]
    tuples: tuple[int, ...]
    pages: tuple[int, ...]
    steps: tuple[int, ...]


def _layout(names: tuple[str, ...]) -> _Layout:
    kinds = [_codec(name) if name in _DATACLASS_FIELDS else "retired" for name in names]

    def at(kind: str) -> tuple[int, ...]:
        return tuple(1 + i for i, k in enumerate(kinds) if k == kind)

    return _Layout(
        names=names,
        read=operator.attrgetter(*(n for n in names if n in _DATACLASS_FIELDS)),
        retired=at("retired"),
        datetimes=at("datetime"),
        timedeltas=at("timedelta"),
        tuples=at("paged"),
        pages=at("pages"),
        steps=at("steps"),
    )


_LAYOUT = _layout(_FIELD_NAMES)


def field_path(name: str) -> str:
    """The JSON path of field ``name`` in a stored state (format 2), for ad-hoc SQL:
    ``json_extract(state, field_path('owner'))``. Raises KeyError for an unknown field."""
    if name not in _FIELD_NAMES:
        raise KeyError(name)
    return f"$[{1 + _FIELD_NAMES.index(name)}]"


def encode_state(state: TicketState) -> str:
    """The state as compact JSON text (format :data:`FORMAT`)."""
    w = _LAYOUT
    out: list[Any] = [FORMAT, *w.read(state)]
    for at in w.retired:  # a retired field keeps its place, as null
        out.insert(at, None)
    for at in w.datetimes:
        if (instant := out[at]) is not None:
            out[at] = _us(instant)
    for at in w.timedeltas:
        if (span := out[at]) is not None:
            out[at] = span // _MICROSECOND
    for at in w.pages:
        # Page stored as [person, rung, kind, at, rotation] (append-only too).
        if (pages := out[at]) is not None:
            out[at] = [[p.person, p.rung, p.kind, _us(p.at), p.rotation] for p in pages]
    for at in w.steps:
        # PendingStep stored as [due, person, via, kind, rung] + [reason] when it has one
        # (appended for issue 11; a row without it reads reason None).
        if (steps := out[at]) is not None:
            out[at] = [
                [_us(st.due), st.person, st.via, st.kind, st.rung]
                + ([st.reason] if st.reason is not None else [])
                for st in steps
            ]
    return _ENCODER.encode(out)


def decode_state(text: str) -> TicketState:
    """Inverse of :func:`encode_state`; raises ValueError on a corrupt row."""
    raw = json.loads(text)
    if isinstance(raw, dict):
        return _decode_legacy(raw)
    if not isinstance(raw, list) or not raw or raw[0] != FORMAT:
        raise ValueError("corrupt ticket state: not a format-2 array")
    r = _LAYOUT
    if len(raw) - 1 > len(r.names):
        raise ValueError("corrupt ticket state: more fields than this version knows")
    size = len(raw)  # an older row is shorter: its missing fields take their defaults
    try:
        for at in r.datetimes:
            if at < size and (value := raw[at]) is not None:
                raw[at] = _from_us(value)
        for at in r.timedeltas:
            if at < size and (value := raw[at]) is not None:
                raw[at] = timedelta(microseconds=value)
        for at in r.tuples:
            if at < size and (value := raw[at]) is not None:
                raw[at] = tuple(value)
        for at in r.pages:
            if at < size and (pages := raw[at]) is not None:
                raw[at] = tuple(_page(p[0], p[1], p[2], _from_us(p[3]), p[4]) for p in pages)
        for at in r.steps:
            if at < size and (steps := raw[at]) is not None:
                raw[at] = tuple(
                    _step(_from_us(st[0]), st[1], st[2], st[3], st[4], *st[5:6]) for st in steps
                )
        kwargs: dict[str, Any] = dict(zip(r.names, raw[1:], strict=False))
        for at in r.retired:
            kwargs.pop(r.names[at - 1], None)
        # Built as a Draft and frozen: the same fields and defaults as TicketState, without
        # the frozen __init__'s one object.__setattr__ per field (a third of a decode).
        return Draft(**kwargs).freeze()
    except (TypeError, IndexError, OverflowError) as exc:
        raise ValueError(f"corrupt ticket state: {exc}") from None


def _page(person: Any, rung: Any, kind: Any, at: datetime, rotation: Any) -> Page:
    """A stored page's positions, by name (independent of Page's field order)."""
    return Page(person=person, rung=rung, kind=kind, at=at, rotation=rotation)


def _step(
    due: datetime, person: Any, via: Any, kind: Any, rung: Any, reason: Any = None
) -> PendingStep:
    """A stored pending step's positions, by name (``reason`` absent in older rows)."""
    return PendingStep(due=due, person=person, via=via, kind=kind, rung=rung, reason=reason)


def _undt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value).astimezone(UTC)


def _decode_legacy(raw: dict[str, Any]) -> TicketState:
    """A row of format 1: an object keyed by field name, ISO instants."""
    kwargs: dict[str, Any] = {}
    for name in _FIELD_NAMES:
        if name not in raw or name not in _DATACLASS_FIELDS:
            continue
        value = raw[name]
        if name in _DATETIME_FIELDS:
            value = _undt(value)
        elif name in _TIMEDELTA_FIELDS:
            value = None if value is None else timedelta(seconds=value)
        elif name == "pages":
            value = tuple(_page(p[0], p[1], p[2], _required(_undt(p[3])), p[4]) for p in value)
        elif name == "steps":
            value = tuple(
                _step(_required(_undt(st[0])), st[1], st[2], st[3], st[4]) for st in value
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
