"""The report's figures as plain data (what every renderer reads).

Durations are seconds (``None`` when there is nothing to measure); percentages are
0..100 (``None`` when the denominator is zero).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime


@dataclass(slots=True)
class RungEscalations:
    """Customer escalations to one rung; ``met`` = no escalation breach followed."""

    rung: int
    name: str
    count: int = 0
    met: int = 0
    breached: int = 0


@dataclass(slots=True)
class SlaRow:
    """SLA attainment of the tickets of one tier and severity opened in the period."""

    tier: str
    severity: int
    respond_within: str
    tickets: int = 0
    responded: int = 0
    pending: int = 0
    met: int = 0
    breaches: int = 0
    breach_pct: float | None = None
    attainment_pct: float | None = None
    first_response_p50: float | None = None
    first_response_p90: float | None = None
    first_response_max: float | None = None
    status_on_time: int = 0
    status_late: int = 0
    status_on_time_pct: float | None = None
    customer_escalations: list[RungEscalations] = field(default_factory=list)


@dataclass(slots=True)
class PersonLoad:
    """Pages one person received in the period, seen from their own local day."""

    person: str
    name: str
    region: str
    timezone: str
    pages: int = 0
    tickets: int = 0
    off_hours: int = 0
    nights: int = 0
    weekends: int = 0
    holidays: int = 0
    acks: int = 0
    ack_p50: float | None = None
    ack_p90: float | None = None
    handoffs_taken: int = 0
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)


@dataclass(slots=True)
class RegionLoad:
    region: str
    people: int = 0
    pages: int = 0
    tickets: int = 0
    off_hours: int = 0
    acks: int = 0
    ack_p50: float | None = None
    handoffs_taken: int = 0


@dataclass(slots=True)
class Spread:
    """How evenly a rotation's members were paged (``cv``: stdev / mean of pages)."""

    rotation: str
    members: dict[str, int]
    off_hours: dict[str, int]
    min: int
    max: int
    mean: float
    cv: float | None


@dataclass(slots=True)
class Noisy:
    """A ticket or customer with its pages and escalations in the period."""

    key: str
    pages: int
    escalations: int
    customer: str | None = None


@dataclass(slots=True)
class TierDay:
    """Attainment of one tier's tickets opened on one UTC day."""

    tier: str
    day: date
    decided: int
    met: int
    attainment_pct: float | None


@dataclass(slots=True)
class Report:
    start: datetime
    end: datetime
    tier: str | None
    tickets: int = 0
    sla: list[SlaRow] = field(default_factory=list)
    escalations_by_reason: dict[str, int] = field(default_factory=dict)
    people: list[PersonLoad] = field(default_factory=list)
    regions: list[RegionLoad] = field(default_factory=list)
    spreads: list[Spread] = field(default_factory=list)
    noisy_tickets: list[Noisy] = field(default_factory=list)
    noisy_customers: list[Noisy] = field(default_factory=list)
    sla_over_time: list[TierDay] = field(default_factory=list)
