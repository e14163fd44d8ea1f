"""Message text: SMS (GSM-7, one segment), bundles, email, voice; the GSM-7 helpers."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pager.core.messages.gsm7 import SINGLE_SEGMENT_SEPTETS, septets, to_gsm7
from pager.core.messages.kinds import ACKABLE
from pager.core.messages.render import (
    MessageFacts,
    MessageKind,
    email_body,
    email_subject,
    is_gsm7,
    sms_bundle,
    sms_segments,
    sms_text,
    voice_script,
)
from pager.core.replies import AckAll, parse_reply


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


PAGE = MessageFacts(
    kind="page",
    ticket_id="T-1042",
    severity=1,
    customer="Acme",
    summary="gateway down",
    rung=1,
    rung_name="case-owner",
    code="7",
    respond_by=utc("2026-11-23 03:45:30"),
    status_due=None,
    breached=False,
    owner=None,
    recipient="Razvan Example",
)
ALL_KINDS: tuple[MessageKind, ...] = (
    "page",
    "handoff",
    "remind",
    "overdue",
    "inform",
    "closed",
    "unacknowledged",
    "handoff_out",
    "escalated",
)
LONG_SUMMARY = (
    "Payment gateway returns HTTP 502 for every card transaction in all EU regions since "
    "the 02:10 deploy; retries make it worse and the merchant dashboard is down too"
)


def one_segment(text: str) -> bool:
    return is_gsm7(text) and septets(text) <= 160 and sms_segments(text) == 1


# --- SMS ------------------------------------------------------------------------------


def test_page_sms_is_the_spec_example() -> None:
    assert (
        sms_text(PAGE)
        == "SEV1 T-1042 Acme: gateway down. Respond by 03:45Z. Reply 7 to ack, 7E to escalate"
    )


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"customer": None},
            "SEV1 T-1042: gateway down. Respond by 03:45Z. Reply 7 to ack, 7E to escalate",
        ),
        (
            {"summary": None},
            "SEV1 T-1042 Acme. Respond by 03:45Z. Reply 7 to ack, 7E to escalate",
        ),
        (
            {"summary": "gateway down."},
            "SEV1 T-1042 Acme: gateway down. Respond by 03:45Z. Reply 7 to ack, 7E to escalate",
        ),
        (
            {"breached": True},
            "SEV1 T-1042 Acme: gateway down. SLA breached (due 03:45Z). Reply 7 to ack, "
            "7E to escalate",
        ),
        (
            {"rung": 2, "rung_name": "duty-manager", "code": "3", "severity": 2},
            "SEV2 T-1042 Acme: gateway down. Rung 2 duty-manager. Respond by 03:45Z. "
            "Reply 3 to ack, 3E to escalate",
        ),
        (
            {"respond_by": utc("2026-11-24 00:05")},
            "SEV1 T-1042 Acme: gateway down. Respond by 00:05Z. Reply 7 to ack, 7E to escalate",
        ),
        (
            {"respond_by": datetime.fromisoformat("2026-11-23T05:45:00+02:00")},
            "SEV1 T-1042 Acme: gateway down. Respond by 03:45Z. Reply 7 to ack, 7E to escalate",
        ),
    ],
)
def test_page_sms_variants(changes: dict[str, object], expected: str) -> None:
    assert sms_text(replace(PAGE, **changes)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"kind": "handoff", "code": "3", "status_due": utc("2026-11-23 05:45"),
             "owner": "Ana Example"},
            "Handoff: SEV1 T-1042 Acme: gateway down. From Ana Example. Next status due 05:45Z."
            " Reply 3 to ack, 3E to escalate",
        ),
        (
            {"kind": "remind", "code": None, "status_due": utc("2026-11-23 05:45"),
             "now": utc("2026-11-23 05:30")},
            "Status report for T-1042 due 05:45Z (in 15m). SEV1 Acme: gateway down",
        ),
        (
            {"kind": "remind", "code": None, "status_due": utc("2026-11-23 05:45")},
            "Status report for T-1042 due 05:45Z. SEV1 Acme: gateway down",
        ),
        (
            {"kind": "overdue", "code": None, "status_due": utc("2026-11-23 05:45")},
            "OVERDUE: status report for T-1042 was due 05:45Z. Post it now. "
            "SEV1 Acme: gateway down.",
        ),
        (
            {"kind": "closed", "code": None},
            "Closed: SEV1 T-1042 Acme: gateway down. No action needed.",
        ),
        (
            {"kind": "escalated", "code": None, "rung": 3, "rung_name": "support-leadership"},
            "Escalated to rung 3 support-leadership: SEV1 T-1042 Acme: gateway down. "
            "Respond by 03:45Z.",
        ),
    ],
)  # fmt: skip
def test_other_kinds_sms(changes: dict[str, object], expected: str) -> None:
    assert sms_text(replace(PAGE, **changes)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ALL_KINDS)
def test_every_kind_renders_everywhere(kind: MessageKind) -> None:
    facts = replace(
        PAGE,
        kind=kind,
        code="7" if kind in ("page", "handoff") else None,
        status_due=utc("2026-11-23 05:45"),
        owner="Ana Example",
        summary=LONG_SUMMARY,
        customer="Société Générale de Test",
    )
    text = sms_text(facts)
    assert one_segment(text), text
    assert "T-1042" in text
    if facts.code:
        assert "Reply 7 to ack" in text
    assert email_subject(facts).startswith("[SEV1] ")
    assert "T-1042" in email_body(facts)
    assert "T 1 0 4 2" in voice_script(facts)


def test_long_summary_is_truncated_to_one_segment() -> None:
    text = sms_text(replace(PAGE, summary=LONG_SUMMARY))
    assert one_segment(text)
    assert len(text) >= 155  # uses the room it has (less the space before "...")
    assert "Payment gateway returns HTTP 502" in text
    assert "...  " not in text and "... Respond by 03:45Z. Reply 7 to ack, 7E to escalate" in text


def test_ellipsis_in_summary_becomes_three_dots() -> None:
    text = sms_text(replace(PAGE, summary="gateway down… again"))
    assert "gateway down... again" in text
    assert is_gsm7(text)


@pytest.mark.parametrize(
    ("customer", "shown"),
    [
        ("Ромашка", "Romashka"),
        ("Întreprinderea Ștefan", "Intreprinderea Stefan"),
        ("Łódź Ltd", "Lodz Ltd"),
        ("Müller & Søn", "Müller & Søn"),  # ü, ø are GSM-7 already
        ("株式会社テスト", "???????"),
        ("“Quoted” — Co", '"Quoted" - Co'),
    ],
)
def test_non_gsm_customer_names(customer: str, shown: str) -> None:
    text = sms_text(replace(PAGE, customer=customer, summary=LONG_SUMMARY))
    assert one_segment(text), text
    assert f"T-1042 {shown}: " in text


def test_emoji_and_cjk_summary_stays_one_segment() -> None:
    text = sms_text(replace(PAGE, summary="ゲートウェイ停止 🔥🔥 since 03:00\nall regions"))
    assert one_segment(text)
    assert "since 03:00 all regions" in text


def test_very_long_customer_is_shortened_after_the_summary() -> None:
    text = sms_text(replace(PAGE, customer="Very Long Customer Name " * 8, summary=LONG_SUMMARY))
    assert one_segment(text)
    assert text.startswith("SEV1 T-1042 Very Long Customer")
    assert text.endswith("Reply 7 to ack, 7E to escalate")


def test_extended_characters_count_double() -> None:
    summary = "{braces} [and] ~tildes~ | pipes € " * 6
    text = sms_text(replace(PAGE, summary=summary))
    assert is_gsm7(text) and septets(text) <= 160 and sms_segments(text) == 1
    assert len(text) < 160


@given(
    customer=st.one_of(st.none(), st.text(max_size=80)),
    summary=st.one_of(st.none(), st.text(max_size=200)),
    kind=st.sampled_from(ALL_KINDS),
)
def test_sms_is_always_one_gsm7_segment(customer: str | None, summary: str | None,
                                         kind: MessageKind) -> None:  # fmt: skip
    text = sms_text(replace(PAGE, kind=kind, customer=customer, summary=summary))
    assert one_segment(text), text


# --- bundles --------------------------------------------------------------------------


def test_bundle_lists_each_ticket_with_its_code() -> None:
    second = replace(
        PAGE, ticket_id="T-1043", customer="Beta", summary="slow logins", code="8", severity=2
    )
    text = sms_bundle([PAGE, second])
    assert text == (
        "2 pages:\n"
        "7) SEV1 T-1042 Acme: gateway down\n"
        "8) SEV2 T-1043 Beta: slow logins\n"
        "Reply 7 to ack, 7E to escalate, ACK ALL for all"
    )
    assert one_segment(text)
    assert parse_reply("ack all") == AckAll()


def test_bundle_with_a_reminder_shortens_summaries() -> None:
    due = utc("2026-11-23 05:45")
    items = [
        replace(PAGE, summary=LONG_SUMMARY),
        replace(PAGE, ticket_id="T-7", code="2", summary=LONG_SUMMARY),
        replace(PAGE, kind="remind", code=None, ticket_id="T-9", status_due=due),
    ]
    text = sms_bundle(items)
    assert one_segment(text), text
    lines = text.split("\n")
    assert lines[0] == "3 alerts:"
    assert lines[1].startswith("7) SEV1 T-1042 Acme: Payment")
    assert lines[1].endswith("...")
    assert lines[2].startswith("2) SEV1 T-7 Acme: Payment")
    assert lines[3] == "Status due 05:45Z: T-9 Acme"
    assert lines[4] == "Reply 7 to ack, 7E to escalate, ACK ALL for all"


def test_bundle_without_codes_has_no_reply_line() -> None:
    items = [
        replace(PAGE, kind="overdue", code=None, ticket_id="T-10", customer=None),
        replace(PAGE, kind="closed", code=None, ticket_id="T-11"),
    ]
    assert sms_bundle(items) == (
        "2 alerts:\nOVERDUE status: T-10\nClosed SEV1 T-11 Acme: gateway down"
    )


def test_big_bundle_drops_summaries_then_spans_segments() -> None:
    items = [
        replace(PAGE, ticket_id=f"T-{n}", code=str(n), summary=LONG_SUMMARY) for n in range(1, 13)
    ]
    text = sms_bundle(items)
    assert is_gsm7(text)
    assert sms_segments(text) > 1
    assert "Payment" not in text  # no room for summaries
    for n in range(1, 13):
        assert f"\n{n}) SEV1 T-{n} Acme\n" in text
    assert text.endswith("ACK ALL for all")


def test_bundle_of_one_is_the_plain_sms() -> None:
    assert sms_bundle([PAGE]) == sms_text(PAGE)


def test_empty_bundle_raises() -> None:
    with pytest.raises(ValueError, match="empty"):
        sms_bundle([])


# --- email ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, "[SEV1] T-1042 Acme: gateway down"),
        ({"kind": "remind"}, "[SEV1] Reminder: T-1042 Acme: gateway down"),
        ({"kind": "handoff"}, "[SEV1] Handoff: T-1042 Acme: gateway down"),
        ({"kind": "closed", "severity": 3}, "[SEV3] Closed: T-1042 Acme: gateway down"),
        ({"customer": None}, "[SEV1] T-1042: gateway down"),
        ({"summary": None}, "[SEV1] T-1042 Acme"),
        ({"summary": "one\r\nBcc: x@example.com"}, "[SEV1] T-1042 Acme: one Bcc: x@example.com"),
        ({"customer": "Ромашка"}, "[SEV1] T-1042 Ромашка: gateway down"),
    ],
)  # fmt: skip
def test_email_subject(changes: dict[str, object], expected: str) -> None:
    assert email_subject(replace(PAGE, **changes)) == expected  # type: ignore[arg-type]


def test_email_body_has_facts_ack_and_timeline() -> None:
    facts = replace(
        PAGE,
        breached=True,
        status_due=utc("2026-11-23 05:45"),
        timeline=(
            (utc("2026-11-23 03:16:05"), "paged rung 1 case-owner: Razvan Example (sms)"),
            (utc("2026-11-23 03:15:00"), "opened SEV1 by the desk"),
        ),
    )
    body = email_body(facts)
    assert body.startswith("Hello Razvan Example,\n")
    for line in (
        "Ticket:     T-1042",
        "Customer:   Acme",
        "Summary:    gateway down",
        "Rung:       1 case-owner",
        "Respond by: 2026-11-23 03:45Z",
        "SLA:        BREACHED",
        "Status due: 2026-11-23 05:45Z",
        "Reply code: 7",
        "  pager ack T-1042 --by YOUR-ID",
    ):
        assert f"\n{line}\n" in body, line
    assert "reply 7 to the SMS (7E escalates)" in body
    assert "press 4 on the call (5 escalates)" in body
    timeline = body.split("Timeline:\n", 1)[1]
    assert timeline == (
        "  2026-11-23 03:15:00Z  opened SEV1 by the desk\n"
        "  2026-11-23 03:16:05Z  paged rung 1 case-owner: Razvan Example (sms)\n"
    )


def test_email_body_without_code_or_timeline() -> None:
    body = email_body(replace(PAGE, kind="closed", code=None, customer=None))
    assert "This ticket is closed" in body
    assert "Timeline:" not in body
    assert "Reply code" not in body and "pager ack" not in body
    assert "Customer:" not in body


def test_reminder_email_says_when() -> None:
    facts = replace(
        PAGE, kind="remind", code=None, status_due=utc("2026-11-23 05:45"),
        now=utc("2026-11-23 05:30"),
    )  # fmt: skip
    body = email_body(facts)
    assert "due at 2026-11-23 05:45Z (in 15m)" in body
    assert "Post the status report" in body


# --- voice ----------------------------------------------------------------------------


def test_voice_script_is_the_spec_example() -> None:
    assert voice_script(PAGE) == (
        "Severity 1 ticket T 1 0 4 2 for Acme: gateway down. "
        "Press 4 to acknowledge, 5 to escalate, star to repeat."
    )


def test_voice_variants() -> None:
    script = voice_script(replace(PAGE, kind="handoff", ticket_id="ab.12", customer=None))
    assert script.startswith("Handoff. Severity 1 ticket A B 1 2: gateway down.")
    assert script.endswith("Press 4 to acknowledge, 5 to escalate, star to repeat.")
    closed = voice_script(replace(PAGE, kind="closed", code=None))
    assert "Press 4" not in closed and closed.endswith("Press star to repeat.")
    late = voice_script(replace(PAGE, rung=2, breached=True))
    assert "Escalated to rung 2. The response deadline has passed." in late


# --- GSM-7 helpers --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "gsm", "segments"),
    [
        ("", True, 1),
        ("a" * 160, True, 1),
        ("a" * 161, True, 2),
        ("a" * 306, True, 2),
        ("a" * 307, True, 3),
        ("€" * 80, True, 1),
        ("€" * 81, True, 2),
        ("a" * 152 + "€", True, 1),  # 154 septets > 153, but a lone segment holds 160
        ("a" * 152 + "€" + "a" * 152, True, 3),  # 306 septets, but the escape pair stays whole
        ("é ñ ü Δ", True, 1),
        ("ç", False, 1),
        ("ç" * 70, False, 1),
        ("ç" * 71, False, 2),
        ("🔥" * 35, False, 1),  # 70 UTF-16 units
        ("🔥" * 36, False, 2),
        ("a" * 66 + "🔥" + "a" * 66, False, 3),  # 134 units, but the surrogate pair stays whole
        ("…", False, 1),
    ],
)
def test_gsm7_and_segments(text: str, gsm: bool, segments: int) -> None:
    assert is_gsm7(text) is gsm
    assert sms_segments(text) == segments


def test_septets_rejects_non_gsm() -> None:
    assert septets("a€") == 3
    with pytest.raises(ValueError, match="not GSM-7"):
        septets("ç")


@given(st.text(max_size=100))
def test_to_gsm7_always_gives_gsm7(text: str) -> None:
    out = to_gsm7(text)
    assert is_gsm7(out)
    assert "\n" not in out and "  " not in out
    assert to_gsm7(out) == out


def test_huge_free_text_is_fast_and_fits() -> None:
    text = sms_text(replace(PAGE, customer="C" * 50_000, summary="S" * 50_000))
    assert one_segment(text)
    assert text.startswith("SEV1 T-1042 CCC")


def _bundle_by_definition(items: list[MessageFacts]) -> str:
    """sms_bundle as its contract words it: each summary room, longest first, until the
    body fits one segment; the last (no summaries) when none does."""
    from pager.core.messages import render

    codes = [to_gsm7(f.code) for f in items if f.code is not None]
    header = f"{len(items)} {'pages' if all(f.kind in ACKABLE for f in items) else 'alerts'}:"
    text = ""
    for room in render._BUNDLE_SUMMARY_STEPS:
        lines = [header, *(render._bundle_line(f, room) for f in items)]
        if codes:
            lines.append(f"Reply {codes[0]} to ack, {codes[0]}E to escalate, ACK ALL for all")
        text = "\n".join(lines)
        if septets(text) <= SINGLE_SEGMENT_SEPTETS:
            break
    return text


def _bundle_items(
    specs: list[tuple[MessageKind, str | None, str | None, bool]],
) -> list[MessageFacts]:
    """Bundle items T-1, T-2... of the given (kind, customer, summary, has a code)."""
    return [
        replace(
            PAGE,
            kind=kind,
            ticket_id=f"T-{n}",
            customer=customer,
            summary=summary,
            code=str(n) if coded and kind == "page" else None,
            status_due=utc("2026-11-23 05:45"),
        )
        for n, (kind, customer, summary, coded) in enumerate(specs, 1)
    ]


@given(
    st.lists(
        st.tuples(
            st.sampled_from(("page", "remind", "overdue", "closed")),
            st.one_of(st.none(), st.text(min_size=1, max_size=30)),
            st.one_of(st.none(), st.text(min_size=1, max_size=80)),
            st.booleans(),
        ),
        min_size=2,
        max_size=40,
    )
)
def test_bundle_takes_the_longest_summaries_that_fit(
    specs: list[tuple[MessageKind, str | None, str | None, bool]],
) -> None:
    """The shortcut for bodies that cannot fit one segment gives the same text."""
    items = _bundle_items(specs)
    assert sms_bundle(items) == _bundle_by_definition(items)


@given(
    st.lists(
        st.tuples(
            st.sampled_from(("page", "remind", "overdue", "closed")),
            st.one_of(st.none(), st.text(min_size=1, max_size=30)),
            st.one_of(st.none(), st.text(min_size=1, max_size=80)),
            st.booleans(),
        ),
        min_size=1,
        max_size=120,
    ),
    st.sampled_from((160, 400, 1600)),
)
def test_bundle_fit_is_the_longest_prefix_whose_bundle_fits(
    specs: list[tuple[MessageKind, str | None, str | None, bool]], max_chars: int
) -> None:
    """sms_bundle_fit, one pass over the lines, gives what rendering every prefix would:
    the longest prefix (at least one) whose sms_bundle is at most max_chars, and that text."""
    from pager.core.messages.render import sms_bundle_fit

    items = _bundle_items(specs)
    best = 1
    for n in range(2, len(items) + 1):
        if len(sms_bundle(items[:n])) <= max_chars:
            best = n
    assert sms_bundle_fit(items, max_chars) == (best, sms_bundle(items[:best]))
    # Lazily: it stops at most one item past the prefix.
    seen: list[MessageFacts] = []

    def counted() -> Iterator[MessageFacts]:
        for f in items:
            seen.append(f)
            yield f

    sms_bundle_fit(counted(), max_chars)
    assert len(seen) <= best + 1
