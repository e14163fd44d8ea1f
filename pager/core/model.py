"""The validated, immutable configuration model.

Everything here is plain frozen data produced by :mod:`pager.config.load` from YAML and read
by the pure core. Instants are timezone-aware ``datetime`` objects in UTC; local times of
day are minutes after local midnight (``0..1440``; 1440 is ``"24:00"``, the end of day).
Weekdays are ``0`` (Monday) .. ``6`` (Sunday), as :meth:`datetime.date.weekday` counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Literal

Channel = Literal["sms", "voice", "email"]
Urgency = Literal["high", "low"]
ClockKind = Literal["24x7", "business"]
TargetKind = Literal["rotation", "role", "person"]
HandoffEvery = Literal["day", "week"]


# --- durations -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WallDuration:
    """Elapsed wall time (``30s``, ``15m``, ``2h``, ``1d`` = 24 h)."""

    delta: timedelta


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """``N business hours``: counted only while the tier's calendar is open."""

    hours: float


@dataclass(frozen=True, slots=True)
class BusinessDays:
    """``N business day(s)``: N openings of the tier's calendar (see ``core.sla``)."""

    days: int


Duration = WallDuration | BusinessHours | BusinessDays


# --- calendars, hours ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WeeklyHours:
    """Open from ``start`` to ``end`` (minutes after local midnight) on ``days``.

    Invariant (checked by config): ``0 <= start < end <= 1440``.
    """

    days: frozenset[int]
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Calendar:
    """A business calendar: local opening hours in a zone, minus holidays (local dates)."""

    name: str
    timezone: str
    hours: WeeklyHours
    holidays: frozenset[date] = frozenset()


# --- rotations -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Handoff:
    """When the on-call member of a region changes.

    ``every == "week"``: at local wall time ``at`` (minutes) on weekday ``day``;
    ``every == "day"``: at ``at`` every day (``day`` is None). Handoffs are counted from
    the first handoff instant at or after local ``start`` date + ``at``; before it k counts
    backwards (negative), so ``members[k mod n]`` extends the rotation into the past.
    """

    every: HandoffEvery
    at: int
    start: date
    day: int | None = None


@dataclass(frozen=True, slots=True)
class Region:
    """One follow-the-sun region of a rotation. ``hours is None`` covers every instant."""

    name: str
    timezone: str
    members: tuple[str, ...]
    handoff: Handoff
    hours: WeeklyHours | None = None
    holidays: frozenset[date] = frozenset()


@dataclass(frozen=True, slots=True)
class Override:
    """``person`` replaces ``replaces`` (or whoever the rotation yields) for [start, end)."""

    person: str
    start: datetime
    end: datetime
    replaces: str | None = None


@dataclass(frozen=True, slots=True)
class Rotation:
    name: str
    regions: tuple[Region, ...]
    after_hours: str | None = None
    overrides: tuple[Override, ...] = ()


# --- people --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NotifyStep:
    via: Channel
    after: timedelta


@dataclass(frozen=True, slots=True)
class ShiftNotice:
    """Opt-in shift messages: at a shift's start, and ``lead`` before it (0: no reminder)."""

    via: Channel
    lead: timedelta = timedelta(0)


DEFAULT_NOTIFY: tuple[NotifyStep, ...] = (
    NotifyStep("sms", timedelta(0)),
    NotifyStep("email", timedelta(0)),
    NotifyStep("voice", timedelta(minutes=5)),
)


@dataclass(frozen=True, slots=True)
class Person:
    id: str
    name: str
    phone: str | None = None
    email: str | None = None
    notify: tuple[NotifyStep, ...] = DEFAULT_NOTIFY
    notify_shift: ShiftNotice | None = None


# --- ladders -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SeverityPolicy:
    respond_within: Duration
    urgency: Urgency
    clock: ClockKind
    status_every: Duration | None = None


@dataclass(frozen=True, slots=True)
class Tier:
    name: str
    calendar: str
    severities: Mapping[int, SeverityPolicy]


@dataclass(frozen=True, slots=True)
class Target:
    """``rotation:NAME``, ``role:NAME`` or ``person:ID`` in a rung."""

    kind: TargetKind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}:{self.name}"


@dataclass(frozen=True, slots=True)
class Rung:
    name: str
    page: tuple[Target, ...]
    ack_within: timedelta
    inform: tuple[Target, ...] = ()
    repeat: int = 0


@dataclass(frozen=True, slots=True)
class Ladder:
    name: str
    calendars: Mapping[str, Calendar]
    tiers: Mapping[str, Tier]
    rungs: tuple[Rung, ...]
    status_report_lead: timedelta = timedelta(minutes=15)
    queues: tuple[str, ...] = ()


# --- daemon settings -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``count`` per ``per`` (sliding window)."""

    count: int
    per: timedelta


@dataclass(frozen=True, slots=True)
class MqttSettings:
    url: str = "mqtt://127.0.0.1:1883"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    client_id: str = "pager"
    events_topic: str = "support/tickets/+/events"
    dead_letter_topic: str = "pager/dead-letter"
    state_topic: str = "pager/tickets/{ticket_id}/state"


@dataclass(frozen=True, slots=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = field(default="", repr=False)
    secondary_auth_token: str | None = field(default=None, repr=False)
    from_number: str = ""
    api_base: str = "https://api.twilio.com"
    max_sms_per_second: float = 1.0


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    host: str = "127.0.0.1"
    port: int = 25
    starttls: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    from_address: str = "pager@example.com"


@dataclass(frozen=True, slots=True)
class HttpSettings:
    listen_host: str = "127.0.0.1"
    listen_port: int = 8025
    public_url: str = "http://127.0.0.1:8025"
    #: The status page's token/password (from ``status_auth_file``); None: page off.
    status_secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Limits:
    sms_per_person: Rate = Rate(10, timedelta(minutes=15))
    calls_per_person: Rate = Rate(5, timedelta(minutes=15))


@dataclass(frozen=True, slots=True)
class Settings:
    store: str = "sqlite:///var/lib/pager/pager.db"
    mqtt: MqttSettings = MqttSettings()
    twilio: TwilioSettings = TwilioSettings()
    smtp: SmtpSettings = SmtpSettings()
    http: HttpSettings = HttpSettings()
    limits: Limits = Limits()


@dataclass(frozen=True, slots=True)
class Config:
    """The whole validated configuration directory."""

    settings: Settings
    people: Mapping[str, Person]
    roles: Mapping[str, tuple[str, ...]]
    rotations: Mapping[str, Rotation]
    ladders: Mapping[str, Ladder]

    def ladder_for(self, queue: str | None) -> Ladder:
        """The ladder listing ``queue``, else the single ladder without ``queues``."""
        default: Ladder | None = None
        for ladder in self.ladders.values():
            if queue is not None and queue in ladder.queues:
                return ladder
            if not ladder.queues:
                default = ladder
        if default is None:  # config validation guarantees exactly one default ladder
            raise LookupError("no default ladder")
        return default

    def tier(self, name: str) -> tuple[Ladder, Tier] | None:
        """First ladder defining tier ``name`` (for validating events), else None."""
        for ladder in self.ladders.values():
            if name in ladder.tiers:
                return ladder, ladder.tiers[name]
        return None
