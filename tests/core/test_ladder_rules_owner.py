"""SPEC section 5 as amended (issue 11): the owner, the status clock, waiting on the
customer, re-derived policies, handoffs and who gets the closing emails.

Rules 5, 6, 8, 9, 10, 11 at chosen instants with their edges. Policy: factory.seeds()
(caps Sev1 4, Sev2 3, Sev3 2, Sev4 2). The engineers' rotation changes every Monday
00:00 UTC: cai in the week of 2026-11-16, ana from 2026-11-23 00:00.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from pager.core.ladder import Acknowledge, Notify, Rejected, Tick
from pager.core.model import Handoff, Region, Rotation, SeverityPolicy, Target
from tests.core.factory import build, minutes, rotation, seeds, seeds_rungs, t
from tests.core.ladder_helpers import apply, emails, ev, pages, run

S = seeds()


# --- rules 5 and 6: the owner's rung drives overdue pages ----------------------------


def test_overdue_after_the_ticket_climbed_to_rung_3_pages_rung_2_only() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    for at in ("2026-11-20T02:15", "2026-11-20T02:30", "2026-11-20T02:45"):
        s = apply(s, Tick(), at, S).state
    assert s.rung == 3
    s = apply(s, Acknowledge("cai", "sms"), "2026-11-20T02:50", S).state
    assert (s.owner, s.owner_rung, s.rung) == ("cai", 1, 1)
    assert s.status_due == t("2026-11-20T04:50")
    out = apply(s, Tick(), "2026-11-20T04:50", S)
    sent = {(c.action, c.person, c.rung, c.reason) for c in out.commands if isinstance(c, Notify)}
    assert ("overdue", "cai", 1, None) in sent
    assert ("page", "dee", 2, "overdue") in sent
    assert not [x for x in sent if x[1] in ("eve", "fay", "gus")]
    # an overdue page has no deadline: it does not climb
    assert out.state.ack_deadline is None and out.state.rung == 1


def test_overdue_pages_again_at_the_next_due_time_never_higher() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:05", by="cai"),
        until="2026-11-20T09:00",
    )
    assert [(h, r, to, why) for h, r, to, why in pages(lines) if why == "overdue"] == [
        ("04:05", 2, "dee", "overdue"),
        ("06:05", 2, "dee", "overdue"),
        ("08:05", 2, "dee", "overdue"),
    ]
    assert not [p for p in pages(lines) if p[1] > 2]


def test_overdue_at_the_cap_pages_the_owners_rung_without_the_owner() -> None:
    p = build(
        rungs=seeds_rungs(),
        rotations={"eng": rotation("eng", ("cai",))},
        severities={1: SeverityPolicy(minutes(30), "high", "24x7", minutes(60), escalate_to=1)},
    )
    lines = run(
        p,
        ev("opened", "2026-11-20T02:00"),
        ev("acknowledged", "2026-11-20T02:05", by="cai"),
        until="2026-11-20T03:10",
    )
    # min(1 + 1, cap 1) = rung 1, whose only person is the owner: only the owner's SMS
    assert [ln.to for ln in lines if ln.action == "overdue"] == ["cai"]
    assert pages(lines, via=None)[-1][0] == "02:00"


def test_owner_rung_is_the_lowest_rung_they_were_paged_at_without_a_page() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    s = apply(s, Tick(), "2026-11-20T02:15", S).state  # dee paged at rung 2
    s = apply(s, Acknowledge("dee", "cli"), "2026-11-20T02:20", S).state
    assert (s.owner, s.owner_rung, s.rung) == ("dee", 2, 2)


def test_later_ack_changes_the_owner_not_the_status_clock() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    s = apply(s, Acknowledge("cai", "sms"), "2026-11-20T02:05", S).state
    s = apply(s, ev("escalated", "2026-11-20T02:30"), "2026-11-20T02:30", S).state
    s = apply(s, Acknowledge("dee", "sms"), "2026-11-20T02:40", S).state
    assert s.owner == "dee" and s.status_due == t("2026-11-20T04:05")


def test_status_report_with_by_on_an_unowned_ticket_is_an_acknowledgement() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-20T02:00"),
        ev("status_report", "2026-11-20T02:05", by="cai"),
        until="2026-11-20T03:00",
    )
    assert [ln.by for ln in lines if ln.action == "ack"] == ["cai"]
    assert [r for _h, r, _to, _w in pages(lines)] == [1]  # no rung 2 at 02:15


def test_status_report_without_by_on_an_unowned_ticket_is_not_an_ack() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-20T02:00"),
        ev("status_report", "2026-11-20T02:05"),
        until="2026-11-20T02:20",
    )
    assert not [ln for ln in lines if ln.action == "ack"]
    assert ("02:15", 2, "dee", "ack_timeout") in pages(lines)


# --- rule 8: waiting on the customer -------------------------------------------------


def test_waiting_pauses_the_ack_deadline_and_resumes_it_with_the_time_left() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    s = apply(s, ev("waiting_on_customer", "2026-11-20T02:10"), "2026-11-20T02:10", S).state
    assert s.ack_deadline is None and s.ack_left == timedelta(minutes=5)
    assert apply(s, Tick(), "2026-11-20T08:00", S).commands == []  # nothing fires
    s = apply(s, ev("customer_replied", "2026-11-20T03:00"), "2026-11-20T03:00", S).state
    assert s.ack_deadline == t("2026-11-20T03:05")
    assert s.respond_by == t("2026-11-20T03:20")  # 20 minutes were left


def test_waiting_holds_pending_steps_until_the_customer_replies() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-20T02:00"),
        ev("waiting_on_customer", "2026-11-20T02:03"),
        ev("customer_replied", "2026-11-20T02:30"),
        until="2026-11-20T02:40",
    )
    voice = [ln.at for ln in lines if ln.via == "voice"]
    assert voice == [t("2026-11-20T02:32")]  # 2 minutes were left of the 5
    assert ("02:42", 2, "dee", "ack_timeout") not in pages(lines)  # until 02:40 only


def test_waiting_pauses_a_business_rung_deadline_in_business_units() -> None:
    s = apply(None, ev("opened", "2026-11-23T10:00", severity=3), "2026-11-23T10:00", S).state
    s = apply(s, ev("escalated", "2026-11-23T10:00", rung=2), "2026-11-23T10:00", S).state
    assert s.ack_deadline == t("2026-11-23T12:00")
    s = apply(s, ev("waiting_on_customer", "2026-11-23T11:00"), "2026-11-23T11:00", S).state
    s = apply(s, ev("customer_replied", "2026-11-23T22:30"), "2026-11-23T22:30", S).state
    # one business hour left: 30 min before the close, 30 min after Tuesday's opening
    assert s.ack_deadline == t("2026-11-24T09:30")


def test_waiting_holds_the_handoff_until_the_customer_replies() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-22T23:00"),
        ev("acknowledged", "2026-11-22T23:01", by="cai"),
        ev("waiting_on_customer", "2026-11-22T23:30"),
        ev("customer_replied", "2026-11-23T01:00"),
        until="2026-11-23T01:05",
    )
    handoffs = [(ln.at, ln.to) for ln in lines if ln.action == "handoff" and ln.via == "sms"]
    assert handoffs == [(t("2026-11-23T01:00"), "ana")]


def test_escalated_while_waiting_ends_the_wait_first() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    s = apply(s, Acknowledge("cai", "sms"), "2026-11-20T02:05", S).state
    s = apply(s, ev("waiting_on_customer", "2026-11-20T02:30"), "2026-11-20T02:30", S).state
    s = apply(s, ev("escalated", "2026-11-20T03:30"), "2026-11-20T03:30", S).state
    assert not s.paused and s.rung == 2
    assert s.status_due == t("2026-11-20T05:05")  # 1h35m were left at 02:30


# --- rule 9: updated re-derives the policy -------------------------------------------


def test_urgency_rising_pages_now_at_the_current_rung() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-23T10:00", severity=3),
        ev("updated", "2026-11-23T13:30", severity=1),
        until="2026-11-23T14:01",
    )
    # breach at 13:00 paged rung 2 by email; the rise pages rung min(2, 4) = 2 with SMS
    assert pages(lines) == [
        ("13:30", 2, "dee", "urgency_raised"),
        ("14:00", 3, "eve", "ack_timeout"),
    ]


def test_urgency_rising_before_the_calendar_opens_pages_at_once() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-21T10:00", severity=3),
        ev("updated", "2026-11-21T11:00", severity=1),
        until="2026-11-21T11:01",
    )
    assert pages(lines)[0][:3] == ("11:00", 1, "cai")


def test_urgency_falling_keeps_the_page_but_drops_deadline_and_voice() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    s = apply(s, ev("updated", "2026-11-20T02:02", severity=3), "2026-11-20T02:02", S).state
    assert s.pages and s.ack_deadline is None
    assert not [st for st in s.steps if st.via != "email"]
    assert s.respond_by == t("2026-11-20T12:00")  # 3 business hours from Friday 02:00


def test_cap_is_re_derived_but_never_below_the_customers_rung() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00", severity=2), "2026-11-20T02:00", S).state
    s = apply(s, ev("escalated", "2026-11-20T02:01", rung=4), "2026-11-20T02:01", S).state
    s = apply(s, ev("updated", "2026-11-20T02:02", severity=4), "2026-11-20T02:02", S).state
    assert s.customer_rung == 4  # cap max(2, 4) = 4


def _cadence(status1: int, status2: int | None) -> object:
    return build(
        rungs=seeds_rungs(),
        severities={
            1: SeverityPolicy(minutes(30), "high", "24x7", minutes(status1)),
            2: SeverityPolicy(minutes(60), "high", "24x7", minutes(status2) if status2 else None),
        },
    )


def test_status_cadence_follows_a_raised_severity_from_the_last_set() -> None:
    p = _cadence(60, 240)
    s = apply(None, ev("opened", "2026-11-20T02:00", severity=2), "2026-11-20T02:00", p).state
    s = apply(s, Acknowledge("cai", "sms"), "2026-11-20T02:00", p).state
    assert s.status_due == t("2026-11-20T06:00")
    s = apply(s, ev("updated", "2026-11-20T02:30", severity=1), "2026-11-20T02:30", p).state
    assert s.status_due == t("2026-11-20T03:00")


def test_status_cadence_already_past_is_due_now() -> None:
    p = _cadence(60, 240)
    s = apply(None, ev("opened", "2026-11-20T02:00", severity=2), "2026-11-20T02:00", p).state
    s = apply(s, Acknowledge("cai", "sms"), "2026-11-20T02:00", p).state
    s = apply(s, ev("updated", "2026-11-20T03:30", severity=1), "2026-11-20T03:30", p).state
    assert s.status_due == t("2026-11-20T03:30")
    out = apply(s, Tick(), "2026-11-20T03:30", p)
    assert [c.person for c in out.commands if isinstance(c, Notify) and c.action == "overdue"]


def test_status_cadence_lowered_lengthens_the_period() -> None:
    p = _cadence(240, 60)
    s = apply(None, ev("opened", "2026-11-20T02:00", severity=2), "2026-11-20T02:00", p).state
    s = apply(s, Acknowledge("cai", "sms"), "2026-11-20T02:00", p).state
    s = apply(s, ev("updated", "2026-11-20T02:30", severity=1), "2026-11-20T02:30", p).state
    assert s.status_due == t("2026-11-20T06:00")


def test_a_policy_without_status_every_stops_the_clock_and_gaining_it_starts_it() -> None:
    p = _cadence(60, None)
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", p).state
    s = apply(s, Acknowledge("cai", "sms"), "2026-11-20T02:00", p).state
    s = apply(s, ev("updated", "2026-11-20T02:10", severity=2), "2026-11-20T02:10", p).state
    assert s.status_due is None and s.remind_at is None
    s = apply(s, ev("updated", "2026-11-20T02:20", severity=1), "2026-11-20T02:20", p).state
    assert s.status_due == t("2026-11-20T03:20")


def test_respond_by_is_recomputed_less_the_time_spent_waiting() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00", severity=2), "2026-11-20T02:00", S).state
    s = apply(s, ev("waiting_on_customer", "2026-11-20T02:10"), "2026-11-20T02:10", S).state
    s = apply(s, ev("customer_replied", "2026-11-20T02:40"), "2026-11-20T02:40", S).state
    assert s.respond_by == t("2026-11-20T03:30")
    s = apply(s, ev("updated", "2026-11-20T02:50", severity=1), "2026-11-20T02:50", S).state
    assert s.respond_by == t("2026-11-20T03:00")  # opened + 30m + 30m waited


# --- rule 10: handoffs ---------------------------------------------------------------


def test_unacknowledged_handoff_from_an_owner_at_rung_1_pages_rung_2() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-22T23:00"),
        ev("acknowledged", "2026-11-22T23:01", by="cai"),
        until="2026-11-23T00:20",
    )
    assert [(ln.to, ln.via) for ln in lines if ln.action == "handoff"] == [
        ("ana", "sms"),
        ("ana", "email"),
        ("cai", "email"),
    ]
    assert ("00:15", 2, "dee", "handoff_unacked") in pages(lines)


def _duty_rotation_policy(escalate_to: int | None = None) -> object:
    week = Handoff("week", 0, date(2026, 11, 2), 0)
    duty = Rotation("duty", (Region("main", "UTC", ("dee", "bob"), week),))
    return build(
        rungs=seeds_rungs(Target("rotation", "duty")),
        rotations={"eng": rotation("eng", ("ana", "bob", "cai")), "duty": duty},
        severities={
            1: SeverityPolicy(minutes(30), "high", "24x7", escalate_to=escalate_to),
        },
    )


def test_unacknowledged_handoff_from_an_owner_at_rung_2_pages_rung_3() -> None:
    p = _duty_rotation_policy()
    lines = run(
        p,
        ev("opened", "2026-11-22T22:00"),
        ev("escalated", "2026-11-22T22:05", rung=2),
        ev("acknowledged", "2026-11-22T22:10", by="dee"),
        until="2026-11-23T00:20",
    )
    assert [(ln.to, ln.via) for ln in lines if ln.action == "handoff"][:1] == [("bob", "sms")]
    assert ("00:15", 3, "eve", "handoff_unacked") in pages(lines)


def test_unacknowledged_handoff_at_the_cap_sends_the_unacknowledged_email() -> None:
    p = _duty_rotation_policy(escalate_to=2)
    lines = run(
        p,
        ev("opened", "2026-11-22T22:00"),
        ev("escalated", "2026-11-22T22:05", rung=2),
        ev("acknowledged", "2026-11-22T22:10", by="dee"),
        until="2026-11-23T00:20",
    )
    assert not [p_ for p_ in pages(lines) if p_[0] == "00:15"]
    assert emails(lines, "unacknowledged") == {"cai", "mgr", "dee", "bob"}


def test_low_urgency_handoff_is_email_only_without_a_deadline() -> None:
    s = apply(None, ev("opened", "2026-11-20T22:00", severity=3), "2026-11-20T22:00", S).state
    s = apply(s, Acknowledge("cai", "cli"), "2026-11-20T22:10", S).state
    out = apply(s, Tick(), "2026-11-23T00:00", S)
    handoff = [(c.person, c.via) for c in out.commands if isinstance(c, Notify)]
    assert handoff == [("ana", "email"), ("cai", "email")]
    assert out.state.ack_deadline is None and out.state.handoff_to == "ana"


def test_status_report_by_the_incoming_person_takes_the_handoff() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-22T23:00"),
        ev("acknowledged", "2026-11-22T23:01", by="cai"),
        ev("status_report", "2026-11-23T00:05", by="ana"),
        until="2026-11-23T00:30",
    )
    assert [ln.by for ln in lines if ln.action == "ack"] == ["cai", "ana"]
    assert not [p_ for p_ in pages(lines) if p_[3] == "handoff_unacked"]


# --- rules 3 and 11: who gets the emails ---------------------------------------------


def test_closed_emails_go_to_paged_informed_and_owner_only() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-22T23:00"),
        ev("acknowledged", "2026-11-22T23:01", by="cai"),
        ev("closed", "2026-11-23T00:20"),
    )
    # ana was paged by the handoff, dee by its timeout; eve never was
    assert emails(lines, "closed") == {"cai", "mgr", "ana", "dee"}


def test_closed_before_any_page_emails_nobody() -> None:
    lines = run(
        S,
        ev("opened", "2026-11-21T10:00", severity=3),
        ev("closed", "2026-11-21T11:00"),
    )
    assert emails(lines, "closed") == set()


def test_unacknowledged_email_skips_whoever_the_rung_yields_now_but_was_not_paged() -> None:
    # cai is paged on Sunday; at the stop (Monday) the rotation yields ana: not emailed
    lines = run(S, ev("opened", "2026-11-22T22:00", severity=2), until="2026-11-23T02:00")
    assert emails(lines, "unacknowledged") == {"cai", "mgr", "dee", "eve"}


# --- issue 12 item 4: regions ---------------------------------------------------------


def test_region_matches_case_insensitively_and_is_stored_as_configured() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00", region="MAIN"), "2026-11-20T02:00", S).state
    assert s.region == "main"


@pytest.mark.parametrize("region", ["europe", "mainland", ""])
def test_a_region_no_paged_rotation_has_is_rejected(region: str) -> None:
    with pytest.raises(Rejected, match="unknown region"):
        apply(None, ev("opened", "2026-11-20T02:00", region=region), "2026-11-20T02:00", S)
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    with pytest.raises(Rejected, match="unknown region"):
        apply(s, ev("updated", "2026-11-20T02:01", region=region), "2026-11-20T02:01", S)


def test_status_report_by_a_known_person_after_a_desk_ack_takes_ownership() -> None:
    s = apply(None, ev("opened", "2026-11-20T02:00"), "2026-11-20T02:00", S).state
    s = apply(s, ev("acknowledged", "2026-11-20T02:05", by="desk-bot"), "2026-11-20T02:05", S).state
    assert s.responded and s.owner is None
    s = apply(s, ev("status_report", "2026-11-20T02:30", by="cai"), "2026-11-20T02:30", S).state
    assert s.owner == "cai"
