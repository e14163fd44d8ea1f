"""A small, fully controlled config for pure core tests (no YAML, no files)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from pager.core.model import (
    BusinessDays,
    BusinessHours,
    Calendar,
    Config,
    Handoff,
    Ladder,
    NotifyStep,
    Person,
    Region,
    Rotation,
    Rung,
    Settings,
    SeverityPolicy,
    Target,
    Tier,
    WallDuration,
    WeeklyHours,
)
from pager.core.policy import Policy

WEEKDAYS = frozenset(range(5))


def t(text: str) -> datetime:
    """``"2026-11-23T07:00"`` -> aware UTC datetime (tests write instants in UTC)."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def minutes(n: float) -> WallDuration:
    return WallDuration(timedelta(minutes=n))


def person(pid: str, *, voice_after: int | None = 5, phone: bool = True) -> Person:
    steps = [NotifyStep("sms", timedelta(0)), NotifyStep("email", timedelta(0))]
    if voice_after is not None:
        steps.append(NotifyStep("voice", timedelta(minutes=voice_after)))
    return Person(
        pid,
        pid.title(),
        f"+1555000{abs(hash(pid)) % 10000:04d}" if phone else None,
        f"{pid}@example.com",
        tuple(steps),
    )


def rotation(
    name: str,
    members: tuple[str, ...],
    *,
    hours: WeeklyHours | None = None,
    tz: str = "UTC",
    after_hours: str | None = None,
) -> Rotation:
    handoff = Handoff("week", 0, date(2026, 11, 2), 0)
    return Rotation(name, (Region("main", tz, members, handoff, hours),), after_hours)


def build(
    *,
    rungs: tuple[Rung, ...] | None = None,
    rotations: dict[str, Rotation] | None = None,
    people: tuple[str, ...] = ("ana", "bob", "cai", "dee", "eve", "fay", "gus", "mgr"),
    severities: dict[int, SeverityPolicy] | None = None,
    lead: int = 15,
) -> Policy:
    """A ladder with four rungs: eng rotation, person:dee, person:eve, role:execs."""
    cal = Calendar(
        "desk", "UTC", WeeklyHours(WEEKDAYS, 9 * 60, 23 * 60), frozenset({date(2026, 12, 25)})
    )
    sevs = severities or {
        1: SeverityPolicy(minutes(30), "high", "24x7", minutes(120)),
        2: SeverityPolicy(minutes(60), "high", "24x7", minutes(120)),
        3: SeverityPolicy(minutes(180), "low", "business"),
        4: SeverityPolicy(BusinessDays(1), "low", "business"),
    }
    ladder = Ladder(
        "support",
        {"desk": cal},
        {"premier": Tier("premier", "desk", sevs)},
        rungs
        or (
            Rung(
                "case-owner",
                (Target("rotation", "eng"),),
                timedelta(minutes=15),
                (Target("role", "managers"),),
            ),
            Rung("duty-manager", (Target("person", "dee"),), timedelta(minutes=30)),
            Rung("leadership", (Target("person", "eve"),), timedelta(minutes=30)),
            Rung("executive", (Target("role", "execs"),), timedelta(minutes=30), (), 2),
        ),
        timedelta(minutes=lead),
    )
    rots = rotations if rotations is not None else {"eng": rotation("eng", ("ana", "bob", "cai"))}
    return Policy(
        Config(
            Settings(),
            {p: person(p) for p in people},
            {"managers": ("mgr",), "execs": ("fay", "gus")},
            rots,
            {"support": ladder},
        )
    )


def seeds_rungs(duty: Target | None = None) -> tuple[Rung, ...]:
    """OPSWAT's four rungs: the duty manager and the executives answer a customer
    escalation within 2 business hours (rung ``respond_within``)."""
    return (
        Rung(
            "case-owner",
            (Target("rotation", "eng"),),
            timedelta(minutes=15),
            (Target("role", "managers"),),
        ),
        Rung(
            "duty-manager",
            (duty or Target("person", "dee"),),
            timedelta(minutes=30),
            respond_within=BusinessHours(2),
        ),
        Rung("leadership", (Target("person", "eve"),), timedelta(minutes=30)),
        Rung(
            "executive",
            (Target("role", "execs"),),
            timedelta(minutes=30),
            (),
            2,
            respond_within=BusinessHours(2),
        ),
    )


def seeds(*, duty: Target | None = None, rotations: dict[str, Rotation] | None = None) -> Policy:
    """The factory ladder with OPSWAT's rungs and caps: Sev 1 climbs to the executives
    (default cap for urgency high), Sev 2 stops at leadership (3), Sev 3 at the duty
    manager (default for urgency low), Sev 4 at the duty manager (written)."""
    return build(
        rungs=seeds_rungs(duty),
        rotations=rotations,
        severities={
            1: SeverityPolicy(minutes(30), "high", "24x7", minutes(120)),
            2: SeverityPolicy(minutes(60), "high", "24x7", minutes(120), escalate_to=3),
            3: SeverityPolicy(minutes(180), "low", "business"),
            4: SeverityPolicy(BusinessDays(1), "low", "business", escalate_to=2),
        },
    )
