"""The lanes' bookkeeping (pager.daemon.outbox.lanes): what is claimed, what waits, who wakes."""

from __future__ import annotations

from pager.daemon.outbox.lanes import CLAIM_LIMIT, MAIL, MAX_HOLD, URGENT, Claim, Lanes


def make() -> tuple[Lanes, list[int]]:
    woken: list[int] = []
    return Lanes(lambda: woken.append(1)), woken


def test_both_lanes_claim_their_free_slots_urgent_first() -> None:
    lanes, _ = make()
    urgent, mail = lanes.lanes
    assert lanes.limits() == [
        Claim(urgent, min(CLAIM_LIMIT, URGENT.concurrency)),
        Claim(mail, min(CLAIM_LIMIT, MAIL.concurrency)),
    ]
    assert lanes.of("sms") is lanes.of("voice") is lanes.lanes[0]
    assert lanes.of("email") is lanes.lanes[1]


def test_a_claim_never_exceeds_the_free_slots() -> None:
    lanes, _ = make()
    for _ in range(10):
        lanes.start("email")
    limits = {c.lane.spec.name: c.limit for c in lanes.limits()}
    assert limits["email"] == MAIL.concurrency - 10


def test_emails_wait_while_the_urgent_lane_drains_a_backlog() -> None:
    lanes, _ = make()
    urgent, mail = lanes.lanes
    assert lanes.claimed(urgent, True)  # full: more due
    for _ in range(10):
        lanes.start("sms")
    assert [(c.lane, c.lag) for c in lanes.limits()] == [(urgent, 0.0), (mail, MAX_HOLD)]
    # The urgent lane caught up: emails are claimed as soon as due again.
    lanes.claimed(urgent, False)
    assert [(c.lane, c.lag) for c in lanes.limits()] == [(urgent, 0.0), (mail, 0.0)]


def test_emails_wait_while_events_are_queued_for_the_store() -> None:
    lanes, _ = make()
    urgent, mail = lanes.lanes
    assert [(c.lane, c.lag) for c in lanes.limits(behind=True)] == [
        (urgent, 0.0),  # pages never wait
        (mail, MAX_HOLD),
    ]


def test_a_saturated_urgent_lane_holds_no_email_back() -> None:
    """A hung Twilio fills the urgent lane: the email (the page's other channel) goes on."""
    lanes, _ = make()
    urgent, mail = lanes.lanes
    lanes.claimed(urgent, True)
    for _ in range(URGENT.concurrency):
        lanes.start("sms")
    assert lanes.limits() == [Claim(mail, MAIL.concurrency)]
    assert urgent.backlog


def test_a_busy_lane_with_a_backlog_wakes_the_relay_once_half_free() -> None:
    lanes, woken = make()
    for _ in range(MAIL.concurrency):
        lanes.start("email")
    lanes.limits()  # the email lane is full: skipped, marked
    for _ in range(MAIL.concurrency // 2 - 1):
        lanes.finish("email")
    assert woken == []
    lanes.finish("email")
    assert woken == [1]
    lanes.finish("email")
    assert woken == [1]  # once per backlog, not per send


def test_a_lane_without_backlog_does_not_wake_the_relay() -> None:
    lanes, woken = make()
    lanes.start("sms")
    lanes.finish("sms")
    assert woken == [] and lanes.inflight == 0
