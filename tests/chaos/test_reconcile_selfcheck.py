"""The reconciliation itself, on made-up rows and deliveries: it must see what it claims to.

A fault test that passes because its checker is blind proves nothing; these cases feed
:func:`testkit.chaos_reconcile.reconcile` each kind of discrepancy once.
"""

from __future__ import annotations

from dataclasses import replace

from testkit.chaos_reconcile import Item, Row, attempts_by_row, received_items, reconcile
from testkit.fake_twilio import TwilioRequest

ANA = "+15550101001"


def row(
    id_: int, *, channel: str = "sms", state: str = "sent", attempts: int = 1, **kw: str
) -> Row:
    body = kw.get("body", f"SEV1 T-{id_} Acme: down. Reply {id_} to ack")
    return Row(
        id=id_,
        key=kw.get("key", f"T-{id_}#1"),
        ticket_id=f"T-{id_}",
        person="ana",
        channel=channel,
        address=ANA if channel != "email" else "ana@example.com",
        kind=kw.get("kind", "page"),
        subject=kw.get("subject", f"[SEV1] T-{id_} Acme: down" if channel == "email" else ""),
        body=body,
        bundle_line=f"SEV1 T-{id_} Acme ({id_})",
        token=kw.get("token", f"tok{id_}" if channel == "voice" else ""),
        state=state,
        attempts=attempts,
        created_at=0.0,
        sent_at=1.0 if state == "sent" else None,
        code=str(id_),
        error=None,
    )


def sms(at: float, body: str) -> Item:
    return Item("sms", ANA, body, at)


def test_everything_delivered_once_is_clean() -> None:
    rows = [row(1), row(2, channel="email"), row(3, channel="voice")]
    items = [
        sms(1.0, rows[0].body),
        Item("email", "ana@example.com", rows[1].subject, 1.1),
        Item("voice", ANA, "tok3", 1.2),
    ]
    result = reconcile(rows, items)
    assert not (result.lost or result.duplicates or result.unexplained)
    assert not result.delivered_though_unsent


def test_lost_duplicated_cancelled_and_unexplained_are_each_reported() -> None:
    rows = [
        row(1),  # never received
        row(2, attempts=2),  # received twice
        row(3, state="cancelled"),  # received though cancelled
        row(4, state="pending"),  # never finished
        row(5, state="failed", key="T-5#1"),  # failed, no fallback
    ]
    items = [
        sms(1.0, rows[1].body),
        sms(3.0, rows[1].body),
        sms(2.0, rows[2].body),
        sms(2.5, "a message pager never wrote"),
    ]
    result = reconcile(rows, items)
    assert [r.id for r in result.missing] == [1]
    assert [(r.id, at) for r, at in result.duplicates] == [(2, [1.0, 3.0])]
    assert [r.id for r, _ in result.delivered_though_unsent] == [3]
    assert [i.key for i in result.unexplained] == ["a message pager never wrote"]
    assert [r.id for r in result.unfinished] == [4]
    assert [r.id for r in result.failed_without_fallback] == [5]
    assert {r.id for r in result.lost} == {1, 4, 5}
    # A repeat explained by a kill between the two deliveries, and one that is not.
    assert result.duplicates_per_kill([(2.0, 2.1)]) == ([1], [])
    per_kill, problems = result.duplicates_per_kill([(5.0, 5.1)])
    assert per_kill == [0] and len(problems) == 1


def test_a_failed_row_with_a_delivered_fallback_is_not_lost() -> None:
    failed = row(1, state="failed", key="T-1#1")
    fallback = replace(row(2, channel="email"), key="T-1#1/fb-email", ticket_id="T-1")
    items = [Item("email", "ana@example.com", fallback.subject, 1.0)]
    assert not reconcile([failed, fallback], items).lost


def test_bundled_sms_lines_count_for_their_rows() -> None:
    rows = [row(1), row(2)]
    bundle = (  # as render.sms_bundle writes it
        "2 pages:\n1) SEV1 T-1 Acme: down\n2) SEV1 T-2 Acme\n"
        "Reply 1 to ack, 1E to escalate, ACK ALL for all"
    )
    request = TwilioRequest(1.0, "sms", "AC1", {"To": ANA, "Body": bundle}, True, 201, "SM1")
    result = reconcile(rows, received_items([request], []))
    assert not (result.lost or result.duplicates or result.unexplained), result.summary()
    attempts = attempts_by_row(rows, [request, replace(request, at=2.0, status=500)])
    assert attempts == {1: [(1.0, 201), (2.0, 500)], 2: [(1.0, 201), (2.0, 500)]}
