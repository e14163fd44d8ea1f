"""The message-kind table is the one definition of every kind and what it implies."""

from __future__ import annotations

from typing import get_args

from pager.core.messages import kinds
from pager.core.messages.kinds import ACKABLE, EMAIL_FALLS_BACK, KINDS, MessageKind


def test_every_kind_has_one_row() -> None:
    assert set(KINDS) == set(get_args(MessageKind))


def test_only_pages_and_handoffs_ask_for_an_acknowledgement() -> None:
    assert frozenset({"page", "handoff"}) == ACKABLE


def test_a_failed_email_falls_back_only_for_a_duty() -> None:
    # Pages, handoffs, reminders and overdue notices are a duty of the recipient; news
    # (inform, closed, unacknowledged, handed off, escalated) is not chased by SMS.
    assert frozenset({"page", "handoff", "remind", "overdue"}) == EMAIL_FALLS_BACK


def test_a_plain_page_is_unmarked_and_every_other_kind_is_marked() -> None:
    for kind, spec in KINDS.items():
        marked = bool(spec.subject_prefix) and bool(spec.voice_opening)
        assert marked == (kind != "page"), kind


def test_outbox_only_kinds_are_not_ticket_kinds() -> None:
    assert kinds.is_kind("overdue")
    assert not kinds.is_kind("test")
    assert not kinds.is_kind("shift")
