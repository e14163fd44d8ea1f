"""SPEC section 5, rule by rule, at chosen instants (pure: no store, no sockets, no sleeps)."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta

import pytest

from pager.core.ladder import (
    Acknowledge,
    EscalateNow,
    EventInput,
    Notify,
    Record,
    Rejected,
    Tick,
    TicketState,
    next_deadline,
    step,
)
from pager.core.model import Rung, SeverityPolicy, Target
from pager.core.simulation import Line, Simulation
from tests.core.factory import build, minutes, rotation, t
from tests.core.ladder_helpers import ev, run


def brief(
    lines: list[Line], *actions: str
) -> list[tuple[str, str, int | None, str | None, str | None]]:
    """(HH:MM, action, rung, to, via) for the chosen actions, to compare timelines compactly."""
    wanted = set(actions) or {
        "page",
        "inform",
        "remind",
        "overdue",
        "handoff",
        "breach",
        "unacknowledged",
        "closed",
        "ack",
    }
    return [
        (ln.at.strftime("%H:%M"), ln.action, ln.rung, ln.to or ln.by, ln.via)
        for ln in lines
        if ln.action in wanted
    ]


P = build()


# --- rule 1 and 2: opening and paging ------------------------------------------------------


def test_rule1_high_urgency_pages_rung1_at_once_with_each_notify_step() -> None:
    lines = run(P, ev("opened", "2026-11-20T02:00"), until="2026-11-20T02:10")
    assert brief(lines) == [
        ("02:00", "page", 1, "cai", "sms"),
        ("02:00", "page", 1, "cai", "email"),
        ("02:00", "inform", 1, "mgr", "email"),
        ("02:05", "page", 1, "cai", "voice"),
    ]


def test_rule1_low_urgency_outside_hours_waits_for_calendar_and_uses_email_only() -> None:
    # Saturday 10:00: the desk calendar (mon-fri 09-23) opens Monday 09:00.
    lines = run(P, ev("opened", "2026-11-21T10:00", severity=3), until="2026-11-23T09:01")
    assert brief(lines, "page") == [("09:00", "page", 1, "ana", "email")]
    assert lines[-1].at == t("2026-11-23T09:00")


def test_rule1_low_urgency_inside_hours_pages_now_email_only() -> None:
    lines = run(P, ev("opened", "2026-11-20T10:00", severity=3), until="2026-11-20T10:14")
    assert brief(lines, "page") == [("10:00", "page", 1, "cai", "email")]


def test_rule2_empty_rung_is_skipped_at_once() -> None:
    empty = build(
        rotations={"eng": rotation("eng", ("ana",), hours=None)},
        people=("bob", "dee", "eve", "fay", "gus", "mgr"),
    )
    lines = run(empty, ev("opened", "2026-11-20T02:00"), until="2026-11-20T02:01")
    assert [ln.action for ln in lines if ln.action in ("skip", "page")][:2] == ["skip", "page"]
    assert brief(lines, "page")[0] == ("02:00", "page", 2, "dee", "sms")


def test_repeated_event_id_changes_nothing() -> None:
    opened = ev("opened", "2026-11-20T02:00")
    sim = Simulation(P)
    first = list(sim.run([opened, opened], until=t("2026-11-20T02:01")))
    assert len(brief(first, "page")) == 2  # sms + email once, not twice


# --- rule 3: ack deadlines, repeat, exhaustion -------------------------------------------


def test_rule3_no_ack_climbs_every_rung_then_repeats_then_stops() -> None:
    lines = run(P, ev("opened", "2026-11-20T02:00"), until="2026-11-21T00:00")
    pages = [(h, r) for h, a, r, _to, via in brief(lines, "page") if via == "sms"]
    # rung 1 at 02:00 (15m), breach at 02:30 is after rung 2 already paged at 02:15
    assert pages == [
        ("02:00", 1),
        ("02:15", 2),
        ("02:45", 3),
        ("03:15", 4),
        ("03:15", 4),
        ("03:45", 4),
        ("03:45", 4),
        ("04:15", 4),
        ("04:15", 4),
    ]
    unacked = brief(lines, "unacknowledged")
    # Rule 3 (amended): everyone paged OR informed (mgr, rung 1's inform), nobody else.
    assert {to for _h, _a, _r, to, _v in unacked} == {"cai", "dee", "eve", "fay", "gus", "mgr"}
    assert {h for h, *_ in unacked} == {"04:45"}
    assert lines[-1].at <= t("2026-11-20T04:45")  # nothing after: paging stopped


def test_rule3_ack_one_second_before_deadline_stops_escalation() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    acked = step(s, Acknowledge("cai", "sms"), t("2026-11-20T02:14:59"), P).state
    after = step(acked, Tick(), t("2026-11-20T02:15:00"), P)
    assert not any(isinstance(c, Notify) and c.action == "page" for c in after.commands)
    assert acked.rung == 1 and acked.owner == "cai"


def test_rule3_ack_one_second_after_deadline_comes_after_rung2_page() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    fired = step(s, Tick(), t("2026-11-20T02:15:00"), P)
    assert fired.state.rung == 2
    acked = step(fired.state, Acknowledge("cai", "sms"), t("2026-11-20T02:15:01"), P).state
    assert acked.owner == "cai" and acked.ack_deadline is None


# --- rule 4: respond-by breach -------------------------------------------------------------


def test_rule4_breach_pages_rung2_when_below_it() -> None:
    slow_rung1 = build(
        rungs=(
            Rung("case-owner", (Target("rotation", "eng"),), timedelta(hours=1)),
            Rung("duty-manager", (Target("person", "dee"),), timedelta(minutes=30)),
        )
    )
    lines = run(slow_rung1, ev("opened", "2026-11-20T02:00"), until="2026-11-20T02:31")
    assert ("02:30", "breach", 1, None, None) in brief(lines)
    assert ("02:30", "page", 2, "dee", "sms") in brief(lines)


def test_rule4_no_breach_after_ack() -> None:
    lines = run(
        P,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:10", by="cai"),
        until="2026-11-20T03:00",
    )
    assert brief(lines, "breach") == []


def test_breach_recorded_in_state() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    for minute in ("02:15", "02:30"):
        s = step(s, Tick(), t(f"2026-11-20T{minute}"), P).state
    assert s.breached


# --- rule 5: acknowledgement ---------------------------------------------------------------


def test_rule5_ack_cancels_pending_voice_and_starts_status_clock() -> None:
    lines = run(
        P,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:03", by="cai"),
        until="2026-11-20T04:30",
    )
    assert ("02:05", "page", 1, "cai", "voice") not in brief(lines)
    # status every 2h from 02:03, reminder 15 minutes before
    assert brief(lines, "remind") == [
        ("03:48", "remind", 1, "cai", "sms"),
        ("03:48", "remind", 1, "cai", "email"),
    ]
    assert ("04:03", "overdue", 1, "cai", "sms") in brief(lines)


def test_rule5_ack_by_person_not_paged_via_sms_is_rejected_state_unchanged() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    before = copy.deepcopy(s)
    with pytest.raises(Rejected):
        step(s, Acknowledge("bob", "sms"), t("2026-11-20T02:01"), P)
    assert s == before


def test_rule5_later_ack_changes_owner_not_status_clock() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    s = step(s, Acknowledge("cai", "sms"), t("2026-11-20T02:05"), P).state
    due = s.status_due
    s = step(s, EventInput(ev("escalated", "2026-11-20T02:30")), t("2026-11-20T02:30"), P).state
    assert s.owner == "cai" and s.rung == 2  # owner keeps it until rung 2 acks (rule 7)
    s = step(s, Acknowledge("dee", "sms"), t("2026-11-20T02:40"), P).state
    assert s.owner == "dee" and s.status_due == due


def test_step_never_mutates_its_input() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    snapshot = copy.deepcopy(s)
    step(s, Tick(), t("2026-11-20T03:00"), P)
    step(s, Acknowledge("cai", "sms"), t("2026-11-20T02:01"), P)
    assert s == snapshot


# --- rule 6: status reports ----------------------------------------------------------------


def test_rule6_status_report_exactly_at_due_time_is_not_overdue() -> None:
    lines = run(
        P,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:00", by="cai"),
        ev("status_report", "2026-11-20T04:00"),
        until="2026-11-20T05:00",
    )
    assert brief(lines, "overdue") == []
    assert brief(lines, "remind")[0][0] == "03:45"


def test_rule6_overdue_pages_rung_above_and_sets_next_due() -> None:
    lines = run(
        P,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:00", by="cai"),
        until="2026-11-20T06:01",
    )
    assert ("04:00", "overdue", 1, "cai", "sms") in brief(lines)
    assert ("04:00", "page", 2, "dee", "sms") in brief(lines)
    # next due = 04:00 + 2h
    assert [(h, to) for h, _a, _r, to, _v in brief(lines, "overdue")] == [
        ("04:00", "cai"),
        ("06:00", "cai"),
    ]


def test_rule6_status_report_resets_due_from_its_own_time() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    s = step(s, Acknowledge("cai", "sms"), t("2026-11-20T02:00"), P).state
    s = step(s, EventInput(ev("status_report", "2026-11-20T03:10")), t("2026-11-20T03:10"), P).state
    assert s.status_due == t("2026-11-20T05:10")


# --- rule 7: customer escalation -----------------------------------------------------------


def test_rule7_escalated_pages_requested_rung() -> None:
    lines = run(
        P,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:01", by="cai"),
        ev("escalated", "2026-11-20T02:20", rung=3),
        until="2026-11-20T02:21",
    )
    assert ("02:20", "page", 3, "eve", "sms") in brief(lines)


def test_rule7_escalate_defaults_to_one_above_and_caps_at_last() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    s = step(s, EscalateNow("cai", "sms"), t("2026-11-20T02:01"), P).state
    assert s.rung == 2
    for _ in range(5):
        s = step(s, EventInput(ev("escalated", "2026-11-20T02:02")), t("2026-11-20T02:02"), P).state
    assert s.rung == 4


# --- rule 8: waiting on customer ------------------------------------------------------------


def test_rule8_pause_and_resume_keep_the_time_left() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    s = step(
        s, EventInput(ev("waiting_on_customer", "2026-11-20T02:10")), t("2026-11-20T02:10"), P
    ).state
    assert s.respond_by is None and s.respond_left == timedelta(minutes=20)
    s = step(
        s, EventInput(ev("customer_replied", "2026-11-20T05:00")), t("2026-11-20T05:00"), P
    ).state
    assert s.respond_by == t("2026-11-20T05:20")


def test_rule8_pause_spanning_a_calendar_close_on_business_clock() -> None:
    # severity 3: 3 business hours; opened Friday 21:00 (2h left in the day at 21:00).
    s = step(
        None, EventInput(ev("opened", "2026-11-20T21:00", severity=3)), t("2026-11-20T21:00"), P
    ).state
    assert s.respond_by == t("2026-11-23T10:00")
    s = step(
        s, EventInput(ev("waiting_on_customer", "2026-11-20T22:00")), t("2026-11-20T22:00"), P
    ).state
    s = step(
        s, EventInput(ev("customer_replied", "2026-11-23T12:00")), t("2026-11-23T12:00"), P
    ).state
    assert s.respond_by == t("2026-11-23T14:00")  # 2 business hours were left


def test_business_day_across_weekend_and_holiday() -> None:
    # severity 4: 1 business day (one 14h opening). Thursday 2026-12-24 22:00, then the
    # 25th is a holiday and the weekend follows: 1h on the 24th + 13h on Monday the 28th.
    s = step(
        None, EventInput(ev("opened", "2026-12-24T22:00", severity=4)), t("2026-12-24T22:00"), P
    ).state
    assert s.respond_by == t("2026-12-28T22:00")


def test_status_clock_paused_while_waiting() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    s = step(s, Acknowledge("cai", "sms"), t("2026-11-20T02:00"), P).state
    s = step(
        s, EventInput(ev("waiting_on_customer", "2026-11-20T03:00")), t("2026-11-20T03:00"), P
    ).state
    assert next_deadline(s) is None or next_deadline(s) != t("2026-11-20T04:00")
    s = step(
        s, EventInput(ev("customer_replied", "2026-11-20T10:00")), t("2026-11-20T10:00"), P
    ).state
    assert s.status_due == t("2026-11-20T11:00")


# --- rule 9: updates ------------------------------------------------------------------------


def test_rule9_severity_rise_pages_now_and_recomputes_respond_by_from_opened() -> None:
    s = step(
        None, EventInput(ev("opened", "2026-11-21T10:00", severity=3)), t("2026-11-21T10:00"), P
    ).state
    assert s.rung == 0  # Saturday: waiting for the calendar
    out = step(
        s, EventInput(ev("updated", "2026-11-21T10:20", severity=1)), t("2026-11-21T10:20"), P
    )
    assert out.state.respond_by == t("2026-11-21T10:30")
    assert out.state.rung == 1
    assert any(
        isinstance(c, Notify) and c.via == "sms" and c.action == "page" for c in out.commands
    )


def test_rule9_unknown_tier_rejected() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    with pytest.raises(Rejected):
        step(
            s, EventInput(ev("updated", "2026-11-20T02:01", tier="gold")), t("2026-11-20T02:01"), P
        )


# --- rule 10: follow-the-sun handoff ---------------------------------------------------------


def test_rule10_owner_off_shift_hands_off_to_incoming_person() -> None:
    # Weekly handoff Monday 00:00: cai (week of Nov 16) -> ana (week of Nov 23).
    lines = run(
        P,
        ev("opened", "2026-11-22T23:00"),
        ev("acknowledged", "2026-11-22T23:01", by="cai"),
        ev("status_report", "2026-11-22T23:50"),
        until="2026-11-23T00:20",
    )
    assert brief(lines, "handoff") == [
        ("00:00", "handoff", 1, "ana", "sms"),
        ("00:00", "handoff", 1, "ana", "email"),
        ("00:00", "handoff", 1, "cai", "email"),
    ]
    # unacknowledged handoff escalates like a rung-1 page
    assert ("00:15", "page", 2, "dee", "sms") in brief(lines)


def test_rule10_incoming_ack_takes_ownership() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-22T23:00")), t("2026-11-22T23:00"), P).state
    s = step(s, Acknowledge("cai", "sms"), t("2026-11-22T23:01"), P).state
    assert s.shift_check_at == t("2026-11-23T00:00")
    s = step(s, Tick(), t("2026-11-23T00:00"), P).state
    assert s.handoff_to == "ana" and s.owner == "cai"
    s = step(s, Acknowledge("ana", "sms"), t("2026-11-23T00:05"), P).state
    assert s.owner == "ana" and s.handoff_to is None and s.ack_deadline is None


def test_handoff_while_reminder_pending_reminds_current_owner() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-22T22:00")), t("2026-11-22T22:00"), P).state
    s = step(
        s, Acknowledge("cai", "sms"), t("2026-11-22T22:10"), P
    ).state  # due 00:10, remind 23:55
    s = step(s, Tick(), t("2026-11-22T23:55"), P).state
    assert s.reminded
    out = step(s, Tick(), t("2026-11-23T00:00"), P)
    assert out.state.handoff_to == "ana"
    overdue = step(out.state, Tick(), t("2026-11-23T00:10"), P)
    assert [
        c.person for c in overdue.commands if isinstance(c, Notify) and c.action == "overdue"
    ] == ["cai"]


# --- rule 11 and 12 --------------------------------------------------------------------------


def test_rule11_close_cancels_everything_and_emails_everyone_paged_once() -> None:
    lines = run(
        P,
        ev("opened", "2026-11-20T02:00"),
        ev("closed", "2026-11-20T02:20"),
        until="2026-11-20T06:00",
    )
    closed = brief(lines, "closed")
    assert sorted(to for _h, _a, _r, to, _v in closed) == ["cai", "dee", "mgr"]
    assert all(via == "email" for *_x, via in closed)
    assert max(ln.at for ln in lines) == t("2026-11-20T02:20")


def test_rule11_no_input_but_reopen_applies_to_closed_ticket() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    s = step(s, EventInput(ev("closed", "2026-11-20T02:01")), t("2026-11-20T02:01"), P).state
    assert next_deadline(s) is None
    with pytest.raises(Rejected):
        step(s, Acknowledge("cai", "cli"), t("2026-11-20T02:02"), P)
    reopened = step(s, EventInput(ev("opened", "2026-11-20T03:00")), t("2026-11-20T03:00"), P).state
    assert not reopened.closed and reopened.rung == 1


def test_rule12_out_of_order_event_still_applies_and_past_deadline_fires_at_once() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    s = step(s, Acknowledge("cai", "sms"), t("2026-11-20T02:01"), P).state
    # a status report from before the ack arrives late: due = 00:30 + 2h = 02:30... still future
    s2 = step(
        s, EventInput(ev("status_report", "2026-11-20T00:00")), t("2026-11-20T02:05"), P
    ).state
    assert s2.status_due == t("2026-11-20T02:00")
    assert next_deadline(s2) is not None and next_deadline(s2) <= t("2026-11-20T02:05")
    fired = step(s2, Tick(), t("2026-11-20T02:05"), P)
    assert any(isinstance(c, Notify) and c.action == "overdue" for c in fired.commands)


def test_unknown_ticket_rejected() -> None:
    with pytest.raises(Rejected):
        step(None, EventInput(ev("escalated", "2026-11-20T02:00")), t("2026-11-20T02:00"), P)


def test_acknowledged_event_from_unknown_desk_person_stops_escalation_without_owner() -> None:
    s = step(None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P).state
    out = step(
        s,
        EventInput(ev("acknowledged", "2026-11-20T02:05", by="desk-42")),
        t("2026-11-20T02:05"),
        P,
    )
    assert out.state.owner is None and out.state.ack_deadline is None and out.state.responded
    assert any(isinstance(c, Record) and c.action == "ack" for c in out.commands)


def test_deadline_set_is_complete() -> None:
    s: TicketState = step(
        None, EventInput(ev("opened", "2026-11-20T02:00")), t("2026-11-20T02:00"), P
    ).state
    assert next_deadline(s) == t("2026-11-20T02:05")  # the voice step comes first


def test_severity_without_policy_rejected_on_open() -> None:
    only_sev1 = build(severities={1: SeverityPolicy(minutes(30), "high", "24x7")})
    with pytest.raises(Rejected):
        step(
            None,
            EventInput(ev("opened", "2026-11-20T02:00", severity=2)),
            t("2026-11-20T02:00"),
            only_sev1,
        )


def _unused(x: datetime) -> None:  # keep datetime import used for type clarity
    del x
