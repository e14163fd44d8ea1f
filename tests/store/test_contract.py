"""The Store protocol's contracts (pager/store/interface.py), for every implementation
(see conftest.py: one run per factory). Only the protocol is used here."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from pager.core.ladder import Page, TicketState
from pager.store.interface import Store
from pager.store.types import AuditEntry, NewMessage, OutboxState, StoreError

T0 = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def ticket(ticket_id: str, **changes: object) -> TicketState:
    state = TicketState(
        ticket_id=ticket_id,
        queue="platform",
        tier="premier",
        severity=1,
        opened_at=T0,
        last_event_at=at(1.5),
        customer="Łódź Bank",
        rung=1,
        respond_by=at(15),
        respond_left=timedelta(minutes=3),
        pages=(Page("ana", 1, "page", T0, "primary"),),
        paged=("ana",),
    )
    return dataclasses.replace(state, **changes)  # type: ignore[arg-type]


def message(key: str, **changes: object) -> NewMessage:
    fields: dict[str, object] = {
        "key": key,
        "ticket_id": "T-1",
        "person": "ana",
        "channel": "sms",
        "address": "+15550001",
        "kind": "page",
        "subject": "",
        "body": f"body of {key}",
        "bundle_line": f"line of {key}",
        "token": "",
        "not_before": T0,
        "code": "1",
    }
    fields.update(changes)
    return NewMessage(**fields)  # type: ignore[arg-type]


# --- transactions -------------------------------------------------------------------------


def test_a_transaction_commits_or_rolls_back_whole(store: Store) -> None:
    with store.transaction():
        store.put_ticket(ticket("T-1"), None)
    with pytest.raises(RuntimeError), store.transaction():
        store.put_ticket(ticket("T-2"), None)
        with store.transaction():  # nested: joins the outer one
            store.put_ticket(ticket("T-3"), None)
        raise RuntimeError("boom")
    with store.transaction():
        assert store.get_ticket("T-1") == ticket("T-1")
        assert store.get_ticket("T-2") is None
        assert store.get_ticket("T-3") is None


def test_a_savepoint_undoes_only_its_own_writes(store: Store) -> None:
    with store.transaction():
        store.put_ticket(ticket("T-1"), None)
        with pytest.raises(ValueError), store.savepoint():
            store.put_ticket(ticket("T-2"), None)
            raise ValueError("one job fails")
        with store.savepoint():
            store.put_ticket(ticket("T-3"), None)
    with store.transaction():
        assert [store.get_ticket(t) is not None for t in ("T-1", "T-2", "T-3")] == [
            True,
            False,
            True,
        ]


def test_guard_lets_other_exceptions_through(store: Store) -> None:
    with pytest.raises(KeyError), store.transaction(), store.guard():
        raise KeyError("not a store error")
    assert issubclass(StoreError, RuntimeError)


def test_another_client_sees_commits_and_data_version_tells(
    store_factory: Callable[[], Store],
) -> None:
    daemon, cli = store_factory(), store_factory()
    with daemon.transaction():
        before = daemon.data_version()
    with daemon.transaction():
        assert daemon.data_version() == before  # nobody else wrote
    with cli.transaction():
        cli.put_ticket(ticket("T-9"), at(5))
    with daemon.transaction():
        assert daemon.data_version() != before
        assert daemon.get_ticket("T-9") == ticket("T-9")
        assert daemon.next_due() == at(5)


def test_heartbeat_is_a_write(store: Store) -> None:
    with store.transaction():
        store.heartbeat(T0)
        store.heartbeat(at(1))  # repeatable


# --- tickets and deadlines --------------------------------------------------------------


def test_ticket_round_trip_and_replace(store: Store) -> None:
    state = ticket("T-1")
    with store.transaction():
        assert store.get_ticket("T-1") is None
        store.put_ticket(state, at(15))
        assert store.get_ticket("T-1") == state
        changed = ticket("T-1", rung=2, owner="ana", closed=True)
        store.put_ticket(changed, None)
        got = store.get_ticket("T-1")
    assert got == changed
    assert got is not None and got.opened_at.tzinfo is not None
    assert got.opened_at == T0


def test_due_tickets_earliest_first_up_to_the_limit(store: Store) -> None:
    with store.transaction():
        assert store.next_due() is None
        store.put_ticket(ticket("T-late"), at(30))
        store.put_ticket(ticket("T-early"), at(5))
        store.put_ticket(ticket("T-mid"), at(10))
        store.put_ticket(ticket("T-none"), None)
        store.put_ticket(ticket("T-future"), at(90))
        assert store.next_due() == at(5)
        assert store.due_tickets(at(30)) == ["T-early", "T-mid", "T-late"]
        assert store.due_tickets(at(30), limit=2) == ["T-early", "T-mid"]
        assert store.due_tickets(at(4)) == []
        assert store.timer_count() == 4
        store.put_ticket(ticket("T-early", closed=True), None)  # a closed ticket: no timer
        assert store.next_due() == at(10)
        assert store.open_ticket_count() == 4
        assert sorted(s.ticket_id for s in store.open_tickets()) == [
            "T-future",
            "T-late",
            "T-mid",
            "T-none",
        ]


# --- events ---------------------------------------------------------------------------------


def test_events_are_recorded_once_and_can_be_forgotten(store: Store) -> None:
    with store.transaction():
        assert not store.event_seen("e-1")
        assert store.record_event("e-1", "T-1", T0, '{"x":1}') is True
        assert store.record_event("e-1", "T-1", at(1), '{"x":1}') is False
        assert store.event_seen("e-1")
        store.forget_event("e-1")
        assert not store.event_seen("e-1")
        assert store.record_event("e-1", "T-1", at(2), '{"x":1}') is True


def test_inbound_messages_are_seen_once(store: Store) -> None:
    with store.transaction():
        assert store.message_seen("SM1") is False
        assert store.message_seen("SM1") is True
        assert store.message_seen("SM2") is False


# --- reply codes ------------------------------------------------------------------------------


def test_codes_are_the_smallest_free_and_unique_per_person(store: Store) -> None:
    with store.transaction():
        assert store.allocate_code("ana", "T-1") == "1"
        assert store.allocate_code("ana", "T-2") == "2"
        assert store.allocate_code("bo", "T-1") == "1"  # codes are per person
        assert store.allocate_code("ana", "T-3") == "3"
        store.remove_codes("T-2", ["ana"])
        assert store.code_for("ana", "T-2") is None
        assert store.allocate_code("ana", "T-4") == "2"  # the freed code comes back
        assert store.codes_of("ana") == {"1": "T-1", "2": "T-4", "3": "T-3"}
        assert list(store.codes_of("ana")) == ["1", "2", "3"]
        assert store.code_for("bo", "T-1") == "1"
        store.remove_codes("T-1", None)  # everyone's
        assert store.code_for("bo", "T-1") is None
        assert store.codes_of("ana") == {"2": "T-4", "3": "T-3"}


# --- outbox ---------------------------------------------------------------------------------


def test_outbox_insert_is_idempotent_and_rows_round_trip(store: Store) -> None:
    with store.transaction():
        first = store.add_message(message("k1", fallback=True), T0)
        assert first is not None
        assert store.add_message(message("k1", body="other"), at(1)) is None
        row = store.message(first)
    assert row is not None
    assert (row.key, row.state, row.attempts, row.body, row.code) == (
        "k1",
        OutboxState.PENDING,
        0,
        "body of k1",
        "1",
    )
    assert row.fallback is True
    assert row.not_before == T0 and row.created_at == T0
    assert row.not_before.tzinfo is not None


def test_pending_messages_due_by_not_before_then_id(store: Store) -> None:
    with store.transaction():
        late = store.add_message(message("late", not_before=at(5)), T0)
        a = store.add_message(message("a"), T0)
        b = store.add_message(message("b"), T0)
        assert [r.id for r in store.pending_messages(T0)] == [a, b]
        assert [r.id for r in store.pending_messages(at(5))] == [a, b, late]
        assert [r.id for r in store.pending_messages(at(5), limit=1)] == [a]
        assert store.next_message_due() == T0
        assert [r.id for r in store.pending_for("ana", "sms")] == [late, a, b]
        assert store.pending_for("ana", "email") == []
        many = store.pending_for_many(["ana", "bo"], "sms")
        assert [r.id for r in many["ana"]] == [late, a, b] and many["bo"] == []


def test_pending_messages_and_next_due_of_some_channels_only(store: Store) -> None:
    """A lane's claim (pager.daemon.outbox.lanes): rows of its channels, in due order,
    however many rows of other channels are due before them."""
    with store.transaction():
        mails = [
            store.add_message(message(f"m{i}", channel="email", address="a@x"), T0)
            for i in range(5)
        ]
        call = store.add_message(message("c", channel="voice", not_before=at(2)), T0)
        sms = store.add_message(message("s", not_before=at(1)), T0)
        urgent = ("sms", "voice")
        assert [r.id for r in store.pending_messages(at(5), 10, urgent)] == [sms, call]
        assert [r.id for r in store.pending_messages(at(5), 1, urgent)] == [sms]
        assert [r.id for r in store.pending_messages(at(5), 10, ("email",))] == mails
        assert [r.id for r in store.pending_messages(at(5), 2)] == mails[:2]  # all channels
        assert store.next_message_due(urgent) == at(1)
        assert store.next_message_due(("email",)) == T0
        assert store.next_message_due(("nothing",)) is None


def test_claim_then_sent_retry_failed(store: Store) -> None:
    with store.transaction():
        sent, retried, failed = (store.add_message(message(k), T0) for k in ("s", "r", "f"))
        assert sent is not None and retried is not None and failed is not None
        store.mark_sending([([sent, retried], None), ([failed], None)], at(1))
        assert store.pending_messages(at(1)) == []
        assert store.next_message_due() is None
        store.mark_sent([sent], "SM1", at(2))
        store.mark_retry([retried], at(10), "429 busy")
        store.mark_failed([failed], "refused: invalid number")
        rows = {i: store.message(i) for i in (sent, retried, failed)}
        assert store.outbox_counts() == {
            OutboxState.SENT: 1,
            OutboxState.PENDING: 1,
            OutboxState.FAILED: 1,
        }
    s, r, f = rows[sent], rows[retried], rows[failed]
    assert s is not None and r is not None and f is not None
    assert (s.state, s.attempts, s.error) == (OutboxState.SENT, 1, None)
    assert (r.state, r.attempts, r.error, r.not_before) == (
        OutboxState.PENDING,
        1,
        "429 busy",
        at(10),
    )
    assert (f.state, f.error) == (OutboxState.FAILED, "refused: invalid number")
    with store.transaction():
        assert store.pending_messages(at(9)) == []
        assert [x.id for x in store.pending_messages(at(10))] == [retried]


def test_defer_moves_only_pending_rows_and_counts_no_attempt(store: Store) -> None:
    with store.transaction():
        waiting = store.add_message(message("w"), T0)
        claimed = store.add_message(message("c"), T0)
        assert waiting is not None and claimed is not None
        store.mark_sending([([claimed], None)], T0)
        store.defer([waiting, claimed], at(3))
        w, c = store.message(waiting), store.message(claimed)
    assert w is not None and c is not None
    assert (w.state, w.not_before, w.attempts) == (OutboxState.PENDING, at(3), 0)
    assert (c.state, c.not_before) == (OutboxState.SENDING, T0)


def test_cancel_pages_cancels_only_pending_pages_of_the_persons(store: Store) -> None:
    with store.transaction():
        ids = {
            name: store.add_message(message(name, **fields), T0)
            for name, fields in {
                "ana-page": {},
                "ana-handoff": {"kind": "handoff", "channel": "email"},
                "ana-inform": {"kind": "inform", "code": None},
                "bo-page": {"person": "bo"},
                "other-ticket": {"ticket_id": "T-2"},
                "ana-claimed": {},
            }.items()
        }
        claimed = ids["ana-claimed"]
        assert claimed is not None
        store.mark_sending([([claimed], None)], T0)
        assert store.cancel_pages("T-1", ["ana"]) == 2
        states = {name: store.message(i) for name, i in ids.items() if i is not None}
        assert store.cancel_pages("T-1", None) == 1  # bo's page
    assert {name: row.state for name, row in states.items() if row is not None} == {
        "ana-page": OutboxState.CANCELLED,
        "ana-handoff": OutboxState.CANCELLED,
        "ana-inform": OutboxState.PENDING,
        "bo-page": OutboxState.PENDING,
        "other-ticket": OutboxState.PENDING,
        "ana-claimed": OutboxState.SENDING,
    }


def test_voice_rows_are_found_by_token(store: Store) -> None:
    with store.transaction():
        call = store.add_message(message("v", channel="voice", token="tok-1"), T0)
        store.add_message(message("s"), T0)
        found = store.message_by_token("tok-1")
        assert found is not None and found.id == call
        assert store.message_by_token("") is None
        assert store.message_by_token("tok-2") is None
        assert store.message(10_000) is None


def test_interrupted_sms_groups_a_send_and_requeue_frees_everything(store: Store) -> None:
    with store.transaction():
        one = store.add_message(message("one"), T0)
        two = store.add_message(message("two"), T0)
        mail = store.add_message(message("mail", channel="email", address="a@x"), T0)
        nodigest = store.add_message(message("nd"), T0)
        assert None not in (one, two, mail, nodigest)
        claimed = at(1) + timedelta(microseconds=500_000)
        store.mark_sending([([one, two], "d1"), ([mail], None)], claimed)  # type: ignore[list-item]
        store.mark_sending([([nodigest], None)], at(2))  # type: ignore[list-item]
        [send] = store.interrupted_sms()
        assert send.ids == (one, two) and send.digest == "d1"
        assert send.address == "+15550001" and send.claimed_at == claimed
        assert store.requeue_interrupted() == 4
        assert store.interrupted_sms() == []
        assert store.outbox_counts() == {OutboxState.PENDING: 4}


# --- audit ------------------------------------------------------------------------------------


def test_audit_keeps_the_order_of_writing(store: Store) -> None:
    with store.transaction():
        store.add_audit("T-1", at(2), "opened", {"by": "desk"})
        store.add_audits(
            [
                AuditEntry("T-1", at(1), "page", {"to": "ana", "via": "sms", "rung": 1}),
                AuditEntry("T-2", at(1), "page", {"to": "bo"}),
                AuditEntry("T-1", at(3), "note", {"detail": "Łódź"}),
            ]
        )
        store.add_audits([])
        entries = store.audit("T-1")
    assert [(e.action, e.at) for e in entries] == [
        ("opened", at(2)),
        ("page", at(1)),
        ("note", at(3)),
    ]  # the order written, not the order of instants
    assert entries[1].detail == {"to": "ana", "via": "sms", "rung": 1}
    assert entries[2].detail == {"detail": "Łódź"}
    assert all(e.at.tzinfo is not None and e.ticket_id == "T-1" for e in entries)
