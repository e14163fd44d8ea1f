"""Fuzzing the event door in-process: parse_event, then the whole Ingest path.

Contract under test (SPEC section 2): bad input never stops the daemon and never loses
the good events around it. Every payload is either an event or an InvalidEvent (never
another exception); through :class:`~pager.daemon.events_in.Ingest` every payload ends applied /
duplicate / unchanged (committed) or dead-lettered with a reason, never as an "internal
error", and every log line about it can be written.

Inputs: hypothesis-generated payloads and seeded mutations of valid events
(testkit/chaos_fuzz.py). ``PAGER_FUZZ_SEED`` replays the mutation runs.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pager.core.events import InvalidEvent, TicketEvent, parse_event
from testkit.chaos_fuzz import OUTCOMES, InProcessPager, LogProbe, Mutator, valid_event

SEED = int(os.environ.get("PAGER_FUZZ_SEED") or 20261123)
PARSE_MUTATIONS = 6000
INGEST_MUTATIONS = 3000
FIELDS = ("event_id", "ticket_id", "type", "at", "severity", "tier", "customer", "summary",
          "queue", "region", "rung", "by")  # fmt: skip

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=80),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
plausible = st.one_of(
    st.sampled_from(["opened", "closed", "updated", "escalated", "acknowledged", "premier"]),
    st.sampled_from(
        ["2026-11-23T07:00:00Z", "2026-11-23T07:00:00+02:00", "9999-12-31T23:59:59-23:59"]
    ),
    st.integers(min_value=-2, max_value=6),
    st.text(alphabet="AZaz09._:-", min_size=0, max_size=70),
    json_values,
)
event_like = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=10), plausible, max_size=len(FIELDS) + 2
)


def check_parse(payload: bytes) -> TicketEvent | None:
    """parse_event's contract: an event or InvalidEvent; an event is valid Unicode text."""
    try:
        event = parse_event(payload)
    except InvalidEvent as exc:
        assert str(exc), "an InvalidEvent must say why"
        return None
    # The payload is UTF-8 JSON (SPEC section 2): whatever was accepted can be stored,
    # logged and republished as UTF-8.
    try:
        json.dumps(event.to_json(), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise AssertionError(f"accepted an event that is not Unicode text ({exc.reason})") from None
    if event.type == "opened":
        assert event.severity is not None and event.tier is not None, (
            f"accepted an opened event without severity or tier: {event}"
        )
    return event


@settings(max_examples=1200, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])  # fmt: skip
@given(event_like)
def test_parse_event_survives_event_like_objects(data: dict[str, Any]) -> None:
    check_parse(json.dumps(data, allow_nan=True).encode("utf-8", "surrogatepass"))


@settings(max_examples=1500, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])  # fmt: skip
@given(st.binary(max_size=400) | json_values.map(lambda v: json.dumps(v).encode()))
def test_parse_event_survives_arbitrary_bytes(payload: bytes) -> None:
    check_parse(payload)


VALID_OPENED = {
    "event_id": "e-1",
    "ticket_id": "T-1",
    "type": "opened",
    "at": "2026-11-23T07:00:00Z",
    "severity": 1,
    "tier": "premier",
    "customer": "Acme",
    "summary": "down",
}


@settings(max_examples=800, deadline=None, database=None)
@given(st.sampled_from(sorted(VALID_OPENED)), json_values)
def test_parse_event_survives_one_field_swaps(name: str, value: Any) -> None:
    """A valid ``opened`` event with one field replaced by any JSON value."""
    check_parse(json.dumps({**VALID_OPENED, name: value}).encode("utf-8", "surrogatepass"))


def test_parse_event_survives_mutations() -> None:
    mutator = Mutator(random.Random(SEED))
    crashes: list[str] = []
    for _ in range(PARSE_MUTATIONS):
        payload = mutator.event()
        try:
            check_parse(payload)
        except Exception as exc:
            crashes.append(f"{type(exc).__name__}: {exc!s:.100} <- {payload[:120]!r}")
    assert not crashes, (
        f"{len(crashes)} of {PARSE_MUTATIONS} payloads crashed parse_event:\n"
        + "\n".join(_distinct(crashes))
    )


async def test_ingest_survives_mutations(pager: InProcessPager, log_probe: LogProbe) -> None:
    rng = random.Random(SEED + 1)
    mutator = Mutator(rng)
    total = INGEST_MUTATIONS
    outcomes: dict[str, int] = {}
    crashes: list[str] = []
    expected_committed: set[str] = set()
    for _ in range(total):
        payload = mutator.event()
        ticket = _ticket_of(payload) or rng.choice(("FUZZ", "T-1", "+"))
        topic = f"support/tickets/{ticket}/events"
        try:
            outcome = await pager.ingest.handle(topic, payload)
        except Exception as exc:
            crashes.append(f"{type(exc).__name__}: {exc!s:.100} <- {payload[:100]!r}")
            continue
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
        assert outcome in OUTCOMES
        if outcome != "dead-letter":
            expected_committed.add(parse_event(payload).event_id)

    problems: list[str] = []
    if crashes:
        problems.append(f"{len(crashes)} payloads crashed Ingest.handle (no dead letter):")
        problems += _distinct(crashes)
    dead = pager.dead_letters
    if len(dead) != outcomes.get("dead-letter", 0):
        problems.append(
            f"{outcomes.get('dead-letter', 0)} dead-letter outcomes, {len(dead)} published"
        )
    if not all(letter.get("reason") for letter in dead):
        problems.append("a dead letter without a reason")
    internal = [d["reason"] for d in dead if d["reason"].startswith("internal error")]
    if internal:
        problems.append(f"{len(internal)} events hit a bug (dead-lettered as internal error):")
        problems += _distinct(internal)
    missing = expected_committed - pager.committed()
    if missing:
        problems.append(f"{len(missing)} events reported applied are not in the store")
    if log_probe.failures:
        problems.append(f"{len(log_probe.failures)} log lines cannot be written as UTF-8:")
        problems += _distinct(log_probe.failures)
    if outcomes.get("applied", 0) < total // 10:
        problems.append(f"too few events applied to mean anything: {outcomes}")
    # Still healthy: a fresh valid event is applied.
    fresh = valid_event(rng, [])
    topic = f"support/tickets/{fresh['ticket_id']}/events"
    if (
        not pager.service.store_ok
        or await pager.ingest.handle(topic, json.dumps(fresh).encode()) != "applied"
    ):
        problems.append("a valid event after the fuzzing was not applied")
    assert not problems, f"outcomes {outcomes}; mutations {mutator.counts}\n" + "\n".join(problems)


def _distinct(messages: list[str], limit: int = 8) -> list[str]:
    """One example per kind of message (its text up to the first digit or quote)."""
    seen: dict[str, str] = {}
    for message in messages:
        kind = message.split("<-")[0][:60]
        seen.setdefault(kind, message)
    return ["  " + m for m in list(seen.values())[:limit]]


def _ticket_of(payload: bytes) -> str | None:
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    ticket = data.get("ticket_id") if isinstance(data, dict) else None
    return ticket if isinstance(ticket, str) and ticket and "/" not in ticket else None
