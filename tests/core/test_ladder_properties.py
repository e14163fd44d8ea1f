"""Properties of the ladder over random event sequences (hypothesis)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pager.core.events import TicketEvent
from pager.core.ladder import (
    Acknowledge,
    EventInput,
    Input,
    Notify,
    Outcome,
    Rejected,
    Tick,
    TicketState,
    next_deadline,
    step,
)
from pager.core.policy import Policy
from pager.core.simulation import Simulation
from tests.core.factory import build, seeds, t

P = build()
START = t("2026-11-20T01:00")
TYPES = [
    "updated",
    "acknowledged",
    "escalated",
    "status_report",
    "waiting_on_customer",
    "customer_replied",
    "closed",
]
PEOPLE = ["ana", "bob", "cai", "dee", "eve", "nobody"]


@st.composite
def scripts(draw: st.DrawFn) -> list[TicketEvent]:
    """Random events for up to three tickets, each starting with `opened`."""
    events: list[TicketEvent] = []
    minute = 0
    tickets = draw(st.integers(1, 3))
    for n in range(tickets):
        events.append(
            TicketEvent(
                f"o{n}",
                f"T-{n}",
                "opened",
                START + timedelta(minutes=minute),
                severity=draw(st.integers(1, 4)),
                tier="premier",
            )
        )
    for i in range(draw(st.integers(0, 25))):
        minute += draw(st.integers(0, 240))
        kind = draw(st.sampled_from(TYPES))
        fields: dict[str, object] = {}
        if kind in ("acknowledged", "status_report"):
            fields["by"] = draw(st.sampled_from(PEOPLE))
        if kind == "updated":
            fields["severity"] = draw(st.integers(1, 4))
        if kind == "escalated" and draw(st.booleans()):
            fields["rung"] = draw(st.integers(1, 4))
        ticket = f"T-{draw(st.integers(0, tickets - 1))}"
        # occasionally out of order: `at` before the previous event
        at = START + timedelta(minutes=minute - draw(st.sampled_from([0, 0, 0, 90])))
        events.append(TicketEvent(f"e{i}", ticket, kind, at, **fields))  # type: ignore[arg-type]
    return events


def _simulate(events: list[TicketEvent]) -> tuple[list[tuple[object, ...]], Simulation]:
    sim = Simulation(P)
    lines = [
        (ln.at, ln.ticket, ln.action, ln.rung, ln.to, ln.via, ln.by)
        for ln in sim.run(events, until=START + timedelta(days=3))
    ]
    return lines, sim


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts())
def test_replaying_the_same_events_gives_the_same_timeline(events: list[TicketEvent]) -> None:
    first, _ = _simulate(events)
    second, _ = _simulate(events)
    assert first == second


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts())
def test_nothing_is_sent_for_a_closed_ticket_after_its_close(events: list[TicketEvent]) -> None:
    lines, sim = _simulate(events)
    closed_at: dict[str, object] = {}
    for at, ticket, action, *_ in lines:
        if action == "closed":
            closed_at.setdefault(ticket, at)
        elif ticket in closed_at and action in (
            "page",
            "remind",
            "overdue",
            "handoff",
            "inform",
            "unacknowledged",
        ):
            # a later `opened` would reopen it; our scripts never reopen
            raise AssertionError(
                f"{action} for {ticket} at {at} after close at {closed_at[ticket]}"
            )
    for state in sim.tickets.values():
        if state.closed:
            assert next_deadline(state) is None and not state.pages and not state.steps


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts(), st.integers(0, 600))
def test_every_open_page_has_an_owner_or_an_armed_deadline(
    events: list[TicketEvent], probe: int
) -> None:
    sim = Simulation(P)
    cut = START + timedelta(minutes=probe)
    list(sim.run([e for e in events if e.at <= cut], until=cut))
    for state in sim.tickets.values():
        if state.closed:
            continue
        low = P.ticket_policy(state.queue, state.tier, state.severity).severity.urgency == "low"
        if state.pages:  # someone was asked to acknowledge
            # Rule 2: a low-urgency page has no deadline (it climbs at respond-by);
            # rule 8: a waiting ticket's deadline is paused.
            assert (
                state.ack_deadline is not None
                or state.exhausted
                or state.owner is not None
                or state.responded
                or state.paused
                or low
            )
        assert (
            state.owner is not None
            or state.exhausted
            or next_deadline(state) is not None
            or state.responded
            or state.paused  # rule 8: nothing is due until the customer replies
            or (low and state.breached)  # rule 2/4: a breached low ticket waits
        )


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 4 * 60), st.sampled_from(PEOPLE))
def test_ack_at_any_time_stops_paging_for_good(minute: int, person: str) -> None:
    state: TicketState = step(
        None,
        EventInput(TicketEvent("o", "T-1", "opened", START, severity=1, tier="premier")),
        START,
        P,
    ).state
    now = START
    while True:  # run the ladder up to the ack instant
        due = next_deadline(state)
        if due is None or due > START + timedelta(minutes=minute):
            break
        now = due
        state = step(state, Tick(), now, P).state
    now = START + timedelta(minutes=minute)
    try:
        state = step(state, Acknowledge(person, "cli"), now, P).state
    except Rejected:
        return
    later = step(state, Tick(), now + timedelta(hours=1, minutes=40), P)
    assert not [c for c in later.commands if isinstance(c, Notify) and c.action == "page"]


# --- the amended rules (issue 11) -------------------------------------------------------

SEEDS = seeds()
#: Reasons that may page above the severity's cap: the customer's and an engineer's ask.
ASKED = {"customer", "engineer"}


def _steps(
    events: list[TicketEvent], policy: Policy, until: timedelta = timedelta(days=3)
) -> Iterator[tuple[TicketState | None, Input, datetime, Outcome]]:
    """Every step the simulation would take, per ticket, with the state before it
    (events before the deadlines of their own instant, SPEC 5 rule 12)."""
    states: dict[str, TicketState] = {}
    clock: datetime | None = None

    def fire(ticket: str, before: datetime, inclusive: bool) -> Iterator[Any]:
        while ticket in states:
            due = next_deadline(states[ticket])
            if due is None or due > before or (due == before and not inclusive):
                return
            out = step(states[ticket], Tick(), due, policy)
            yield states[ticket], Tick(), due, out
            states[ticket] = out.state

    for event in events:
        now = event.at if clock is None else max(clock, event.at)
        clock = now
        for ticket in list(states):
            yield from fire(ticket, now, inclusive=False)
        try:
            out = step(states.get(event.ticket_id), EventInput(event), now, policy)
        except Rejected:
            continue
        yield states.get(event.ticket_id), EventInput(event), now, out
        states[event.ticket_id] = out.state
    for ticket in list(states):
        yield from fire(ticket, START + until, inclusive=True)


def _cap(state: TicketState) -> int:
    tp = SEEDS.ticket_policy(state.queue, state.tier, state.severity)
    rungs = len(tp.ladder.rungs)
    return min(rungs, max(tp.severity.cap(rungs), state.customer_rung))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts())
def test_nothing_automatic_ever_pages_above_the_cap(events: list[TicketEvent]) -> None:
    for before, _inp, now, out in _steps(events, SEEDS):
        held = {
            (st.person, st.via, st.rung) for st in (before.steps if before else ()) if st.due <= now
        }
        for c in out.commands:
            if not isinstance(c, Notify) or c.action != "page" or c.reason in ASKED:
                continue
            if (c.person, c.via, c.rung) in held:
                continue  # a step of an earlier page: rule 3 lets scheduled steps go out
            assert c.rung <= _cap(out.state), (c, out.state)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts())
def test_no_email_goes_to_someone_neither_paged_nor_informed_nor_owner(
    events: list[TicketEvent],
) -> None:
    for before, _inp, _now, out in _steps(events, SEEDS):
        owners = {out.state.owner, before.owner if before else None}
        for c in out.commands:
            if isinstance(c, Notify) and c.action in ("unacknowledged", "closed"):
                assert c.person in out.state.paged or c.person in owners, c


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scripts(), st.integers(1, 60 * 24 * 3))
def test_while_waiting_on_the_customer_nothing_fires_and_no_held_step_is_sent(
    events: list[TicketEvent], later: int
) -> None:
    for before, inp, now, out in _steps(events, SEEDS):
        if out.state.paused:
            assert next_deadline(out.state) is None
            # however long the wait, a deadline tick sends nothing
            tick = step(out.state, Tick(), now + timedelta(minutes=later), SEEDS)
            assert tick.commands == [] and tick.state == out.state
        if before is not None and before.paused and isinstance(inp, Tick):
            raise AssertionError("a deadline fired while waiting on the customer")
