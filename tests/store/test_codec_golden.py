"""The stored layout of a ticket state is pinned: a row written by today's daemon (format 2,
fields in STORED_LAYOUT order) decodes to the same TicketState whatever order the
dataclass declares its fields in, and encoding gives the same row back."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from pager.core.ladder import Page, PendingStep, TicketState
from pager.store.sqlite import codec
from pager.store.sqlite.codec import STORED_LAYOUT, decode_state, encode_state

#: Written by the codec of main at 4b24d48 (before the layout was spelled out), verbatim.
#: Never regenerate this line: it is what stores on disk hold.
GOLDEN_ROW = (
    '[2,"T-1042","platform","premier",1,1795140000000000,1795140210250000,"Łódź Bank",'
    '"gateway down","emea",false,2,1,null,null,false,true,1795140900000000,450000000,'
    "1795141200000000,1795140000000000,null,3600000000,1795143600000000,true,false,"
    '1795161600000000,"bo",false,7,[["ana",1,"page",1795140000000000,"primary"],'
    '["bo",2,"handoff",1795140900000000,null]],[[1795141200000000,"bo","voice","handoff",2]],'
    '["ana","bo"]]'
)


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


EXPECTED = TicketState(
    ticket_id="T-1042",
    queue="platform",
    tier="premier",
    severity=1,
    opened_at=t("2026-11-20T02:00:00"),
    last_event_at=t("2026-11-20T02:03:30.250000"),
    customer="Łódź Bank",
    summary="gateway down",
    region="emea",
    closed=False,
    rung=2,
    repeats=1,
    owner=None,
    owner_rotation=None,
    responded=False,
    breached=True,
    respond_by=t("2026-11-20T02:15:00"),
    respond_left=timedelta(minutes=7, seconds=30),
    ack_deadline=t("2026-11-20T02:20:00"),
    first_page_at=t("2026-11-20T02:00:00"),
    status_due=None,
    status_left=timedelta(hours=1),
    remind_at=t("2026-11-20T03:00:00"),
    reminded=True,
    paused=False,
    shift_check_at=t("2026-11-20T08:00:00"),
    handoff_to="bo",
    exhausted=False,
    seq=7,
    pages=(
        Page("ana", 1, "page", t("2026-11-20T02:00:00"), "primary"),
        Page("bo", 2, "handoff", t("2026-11-20T02:15:00"), None),
    ),
    steps=(PendingStep(t("2026-11-20T02:20:00"), "bo", "voice", "handoff", 2),),
    paged=("ana", "bo"),
)


def test_the_golden_row_decodes_to_the_expected_state() -> None:
    assert decode_state(GOLDEN_ROW) == EXPECTED


def test_encoding_the_expected_state_gives_the_golden_row_back() -> None:
    # Holds while TicketState has no fields beyond the golden row; a field appended to
    # the layout later makes the encoding one element longer, and this test says so.
    extra = STORED_LAYOUT[32:]
    if extra:
        assert encode_state(EXPECTED).startswith(GOLDEN_ROW[:-1] + ",")
    else:
        assert encode_state(EXPECTED) == GOLDEN_ROW


def test_the_first_32_stored_positions_never_change() -> None:
    assert STORED_LAYOUT[:32] == (
        "ticket_id", "queue", "tier", "severity", "opened_at", "last_event_at", "customer",
        "summary", "region", "closed", "rung", "repeats", "owner", "owner_rotation",
        "responded", "breached", "respond_by", "respond_left", "ack_deadline",
        "first_page_at", "status_due", "status_left", "remind_at", "reminded", "paused",
        "shift_check_at", "handoff_to", "exhausted", "seq", "pages", "steps", "paged",
    )  # fmt: skip


def test_the_layout_not_the_dataclass_order_decides_positions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Decoding goes by the layout's names: a dataclass that declared its fields in
    # another order would read the same row the same way.
    assert codec._FIELD_NAMES == STORED_LAYOUT
    declared = tuple(f.name for f in dataclasses.fields(TicketState))
    assert set(declared) <= set(STORED_LAYOUT)
    # An unknown (retired) name in the layout is skipped when read and written as null.
    retired = (*STORED_LAYOUT[:3], "gone", *STORED_LAYOUT[3:])
    monkeypatch.setattr(codec, "_FIELD_NAMES", retired)
    monkeypatch.setattr(codec, "_LAYOUT", codec._layout(retired))
    row = encode_state(EXPECTED)
    assert row.startswith('[2,"T-1042","platform","premier",null,1,')
    assert decode_state(row) == EXPECTED


def test_a_shorter_row_from_an_older_daemon_takes_defaults() -> None:
    # A row cut after "seq" (as if pages, steps and paged did not exist yet).
    short = GOLDEN_ROW[: GOLDEN_ROW.index(",7,") + 2] + "]"
    state = decode_state(short)
    assert state.seq == 7 and state.pages == () and state.paged == ()
