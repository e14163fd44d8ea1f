"""SPEC section 5 as amended (issue 11): how far and why a ticket climbs.

Rules 2 (low urgency has no ack deadline), 3 and 3a (the cap), 4 (breach), 7 (customer
escalation with the rung's respond_within), at chosen instants with their edges. The
policy is tests.core.factory.seeds(): OPSWAT's rungs; caps Sev1 4, Sev2 3, Sev3 2, Sev4 2.
Calendar: Mon-Fri 09:00-23:00 UTC, holiday 2026-12-25. 2026-11-20 is a Friday.
"""

from __future__ import annotations

from pager.core.ladder import EscalateNow, Record, Tick
from pager.core.model import SeverityPolicy, Target
from tests.core.factory import build, minutes, seeds, seeds_rungs, t
from tests.core.ladder_helpers import apply, emails, ev, pages, run

S = seeds()


# The engineers' rotation yields cai in the week of 2026-11-16 and ana in the week of
# 2026-11-23 (weekly handoff on Monday 00:00 UTC).


# --- rule 3 / 3a: the cap ------------------------------------------------------------


def test_cap_at_the_last_rung_climbs_every_rung_repeats_then_stops() -> None:
    lines = run(S, ev("opened", "2026-11-20T02:00"), until="2026-11-20T12:00")
    assert [
        (h, r, why) for h, r, _to, why in pages(lines) if _to in ("cai", "dee", "eve", "fay")
    ] == [
        ("02:00", 1, "opened"),
        ("02:15", 2, "ack_timeout"),
        ("02:45", 3, "ack_timeout"),
        ("03:15", 4, "ack_timeout"),
        ("03:45", 4, "repeat"),
        ("04:15", 4, "repeat"),
    ]
    # stopped: paged and informed people get one email each, nobody else
    assert emails(lines, "unacknowledged") == {"cai", "mgr", "dee", "eve", "fay", "gus"}


def test_cap_below_the_last_rung_stops_there_and_never_pages_above() -> None:
    lines = run(S, ev("opened", "2026-11-20T02:00", severity=2), until="2026-11-21T12:00")
    assert pages(lines) == [
        ("02:00", 1, "cai", "opened"),
        ("02:15", 2, "dee", "ack_timeout"),
        ("02:45", 3, "eve", "ack_timeout"),
    ]
    assert not {"fay", "gus"} & {ln.to for ln in lines}
    unacked = [ln for ln in lines if ln.action == "unacknowledged"]
    assert {ln.to for ln in unacked} == {"cai", "mgr", "dee", "eve"}
    assert {ln.at for ln in unacked} == {t("2026-11-20T03:15")}


def test_escalate_to_1_never_climbs_and_a_breach_pages_nobody() -> None:
    p = build(
        rungs=seeds_rungs(),
        severities={1: SeverityPolicy(minutes(30), "high", "24x7", escalate_to=1)},
    )
    lines = run(p, ev("opened", "2026-11-20T02:00"), until="2026-11-20T06:00")
    assert pages(lines) == [("02:00", 1, "cai", "opened")]
    assert [ln.kind for ln in lines if ln.action == "breach"] == ["respond_by"]
    assert emails(lines, "unacknowledged") == {"cai", "mgr"}  # at 02:15, nobody else


def test_a_skipped_rung_within_the_cap_pages_the_next_one() -> None:
    p = seeds(duty=Target("person", "ghost"))  # rung 2 yields nobody
    lines = run(p, ev("opened", "2026-11-20T02:00", severity=2), until="2026-11-20T02:20")
    assert pages(lines) == [("02:00", 1, "cai", "opened"), ("02:15", 3, "eve", "ack_timeout")]


def test_a_skip_that_would_land_above_the_cap_stops_paging() -> None:
    p = seeds(duty=Target("person", "ghost"))
    lines = run(
        p, ev("opened", "2026-11-23T10:00", severity=3), until="2026-11-23T14:00"
    )  # Sev 3 cap 2; respond-by 13:00 -> rung 2 yields nobody, rung 3 is above the cap
    assert pages(lines, via=None) == [("10:00", 1, "ana", "opened")]
    assert emails(lines, "unacknowledged") == {"ana", "mgr"}
    assert any(ln.action == "skip" and ln.rung == 2 for ln in lines)


# --- rule 2: urgency low has no ack deadline -----------------------------------------


def test_low_urgency_page_is_email_only_and_has_no_deadline() -> None:
    out = apply(None, ev("opened", "2026-11-23T10:00", severity=3), "2026-11-23T10:00", S)
    assert out.state.ack_deadline is None and out.state.rung == 1
    assert {(c.via, c.person) for c in out.commands if hasattr(c, "via")} == {
        ("email", "ana"),
        ("email", "mgr"),
    }
    assert out.state.respond_by == t("2026-11-23T13:00")


def test_low_urgency_climbs_only_when_respond_by_passes_and_stops_at_rung_2() -> None:
    lines = run(S, ev("opened", "2026-11-23T10:00", severity=3), until="2026-11-27T23:00")
    assert pages(lines, via=None) == [
        ("10:00", 1, "ana", "opened"),
        ("13:00", 2, "dee", "breach"),
    ]
    assert [(ln.at, ln.kind) for ln in lines if ln.action == "breach"] == [
        (t("2026-11-23T13:00"), "respond_by")
    ]


def test_low_urgency_opened_outside_hours_waits_for_the_calendar() -> None:
    lines = run(S, ev("opened", "2026-11-21T10:00", severity=4), until="2026-11-24T23:00")
    # Saturday: nothing until Monday 09:00; respond-by = one business day = Monday 23:00
    assert pages(lines, via=None) == [
        ("09:00", 1, "ana", "calendar_opened"),
        ("23:00", 2, "dee", "breach"),
    ]


def test_low_urgency_with_several_email_steps_sends_each_and_never_sms() -> None:
    lines = run(S, ev("opened", "2026-11-23T10:00", severity=3), until="2026-11-23T12:00")
    assert {ln.via for ln in lines if ln.action in ("page", "inform")} == {"email"}


# --- rule 4: breach ------------------------------------------------------------------


def test_breach_at_rung_2_or_above_records_but_pages_nothing() -> None:
    lines = run(S, ev("opened", "2026-11-20T02:00"), until="2026-11-20T02:40")
    assert [(ln.at, ln.rung, ln.kind) for ln in lines if ln.action == "breach"] == [
        (t("2026-11-20T02:30"), 2, "respond_by")
    ]
    assert ("02:30", 2, "dee", "breach") not in pages(lines)


# --- rule 7: customer escalation -----------------------------------------------------


def test_customer_escalation_pages_above_the_cap_and_raises_it() -> None:
    s = apply(None, ev("opened", "2026-11-23T10:00", severity=3), "2026-11-23T10:00", S).state
    out = apply(s, ev("escalated", "2026-11-23T10:30", rung=4), "2026-11-23T10:30", S)
    sent = [(c.person, c.via, c.reason) for c in out.commands if hasattr(c, "reason")]
    assert ("fay", "email", "customer") in sent and ("gus", "email", "customer") in sent
    assert not [v for _p, v, _r in sent if v != "email"]  # low urgency stays email only
    assert out.state.customer_rung == 4 and out.state.escalation_rung == 4
    assert out.state.ack_deadline == t("2026-11-23T12:30")  # respond_within 2 business h


def test_respond_within_counts_business_hours_across_the_close() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-23T21:30", severity=3),
        ev("escalated", "2026-11-23T22:00", rung=2),
        until="2026-11-25T23:00",
    )
    # 22:00 -> 23:00 (1 h), Tuesday 09:00 -> 10:00 (1 h)
    breaches = [(ln.at, ln.kind) for ln in lines if ln.action == "breach"]
    assert (t("2026-11-24T10:00"), "escalation") in breaches
    # rule 3 continues: rung 3 is above the cap (max(2, 2)): paging stops
    assert [r for _h, r, _to, _why in pages(lines, via=None)] == [1, 2]
    assert emails(lines, "unacknowledged") == {"ana", "mgr", "dee"}


def test_respond_within_skips_a_holiday_and_the_weekend() -> None:
    s = apply(None, ev("opened", "2026-12-24T22:00", severity=3), "2026-12-24T22:00", S).state
    out = apply(s, ev("escalated", "2026-12-24T22:30", rung=2), "2026-12-24T22:30", S)
    # 30 min on Thursday, Friday 25th is a holiday, weekend, Monday 09:00 + 1.5 h
    assert out.state.ack_deadline == t("2026-12-28T10:30")


def test_rung_without_respond_within_uses_its_ack_within() -> None:
    s = apply(None, ev("opened", "2026-11-23T10:00", severity=3), "2026-11-23T10:00", S).state
    out = apply(s, ev("escalated", "2026-11-23T10:10", rung=3), "2026-11-23T10:10", S)
    assert out.state.ack_deadline == t("2026-11-23T10:40")  # leadership: ack_within 30m


def test_escalation_deadline_stops_only_for_someone_at_that_rung_or_later() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    s = apply(s, ev("acknowledged", "2026-11-20T02:01", by="cai"), "2026-11-20T02:01", S).state
    s = apply(s, ev("escalated", "2026-11-20T02:10"), "2026-11-20T02:10", S).state
    assert s.rung == 2 and s.ack_deadline == t("2026-11-20T11:00")  # desk opens 09:00
    # the owner (rung 1) acknowledging again does not stop rung 2's deadline
    s = apply(s, ev("acknowledged", "2026-11-20T02:20", by="cai"), "2026-11-20T02:20", S).state
    assert s.ack_deadline == t("2026-11-20T11:00") and s.owner == "cai"
    # the duty manager does, and takes the ticket at rung 2
    s = apply(s, ev("acknowledged", "2026-11-20T03:00", by="dee"), "2026-11-20T03:00", S).state
    assert s.ack_deadline is None and s.owner == "dee" and s.owner_rung == 2


def test_missed_escalation_records_a_breach_and_climbs_within_the_raised_cap() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:01", by="cai"),
        ev("escalated", "2026-11-20T02:10"),
        until="2026-11-20T11:05",
    )
    assert [(ln.at, ln.rung, ln.kind) for ln in lines if ln.action == "breach"] == [
        (t("2026-11-20T11:00"), 2, "escalation")
    ]
    assert ("11:00", 3, "eve", "escalation_timeout") in pages(lines)


def test_engineer_escalation_uses_ack_within_and_says_engineer() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    out = apply(s, EscalateNow("cai", "sms"), "2026-11-20T02:01", S)
    assert out.state.rung == 2 and out.state.ack_deadline == t("2026-11-20T02:31")
    assert out.state.escalation_rung == 0 and out.state.customer_rung == 0
    assert {c.reason for c in out.commands if hasattr(c, "reason")} == {"engineer"}


def test_customer_escalation_at_the_last_rung_repeats_when_missed() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-23T10:00", severity=3),
        ev("escalated", "2026-11-23T10:30", rung=4),
        until="2026-11-23T23:00",
    )
    # 12:30 missed (kind escalation), then rule 3 at the last rung: repeat (cap raised to 4)
    assert [(ln.at, ln.kind) for ln in lines if ln.action == "breach"] == [
        (t("2026-11-23T12:30"), "escalation"),
        (t("2026-11-23T13:00"), "respond_by"),
    ]
    assert ("12:30", 4, "fay", "repeat") in pages(lines, via="email")


def test_rule12_an_event_at_a_deadline_instant_is_applied_first() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:15", by="cai"),
        until="2026-11-20T03:00",
    )
    assert [r for _h, r, _to, _why in pages(lines)] == [1]
    assert next(ln for ln in lines if ln.action == "page" and ln.via == "voice").at == t(
        "2026-11-20T02:05"
    )


def test_no_record_mentions_a_rung_above_the_cap_for_an_unescalated_sev3() -> None:
    lines = run(S, ev("opened", "2026-11-23T10:00", severity=3), until="2026-11-30T10:00")
    assert max((ln.rung or 0) for ln in lines) <= 2
    s = apply(None, ev("opened", "2026-11-23T10:00", severity=3), "2026-11-23T10:00", S).state
    out = apply(s, Tick(), "2026-11-30T10:00", S)
    assert all(not isinstance(c, Record) or (c.rung or 0) <= 2 for c in out.commands)
