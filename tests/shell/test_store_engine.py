"""The SQLite store and the engine over it: one transaction per input, exact round trips."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pager.core.events import TicketEvent
from pager.core.ladder import Page, PendingStep, TicketState, next_deadline
from pager.daemon.engine import Engine
from pager.store.sqlite.codec import decode_state, encode_state, field_path
from pager.store.sqlite.migrations import MIGRATIONS, SchemaTooNew, migrate
from pager.store.sqlite.store import SqliteStore, StoreError, path_from_url
from pager.store.sqlite.tickets import OPEN_TICKET_COUNT
from tests.core.factory import build, t

P = build()


def ev(
    kind: str, at: str, ticket: str = "T-1", event_id: str | None = None, **fields: object
) -> TicketEvent:
    if kind == "opened":
        fields.setdefault("severity", 1)
        fields.setdefault("tier", "premier")
    return TicketEvent(
        event_id=event_id or f"{ticket}-{kind}-{at}",
        ticket_id=ticket,
        type=kind,
        at=t(at),
        **fields,  # type: ignore[arg-type]
    )


@pytest.fixture
def store(tmp_path: Path) -> SqliteStore:
    s = SqliteStore(tmp_path / "pager.db")
    yield s  # type: ignore[misc]
    s.close()


def test_path_from_url_forms() -> None:
    assert path_from_url("sqlite:/var/lib/pager/pager.db") == Path("/var/lib/pager/pager.db")
    assert path_from_url("sqlite:///var/lib/pager/pager.db") == Path("/var/lib/pager/pager.db")
    with pytest.raises(ValueError):
        path_from_url("postgresql://x")


def test_wal_and_schema_version(store: SqliteStore) -> None:
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


def test_open_tickets_are_counted_from_their_index(store: SqliteStore) -> None:
    # The health probe counts them every second: without the index the count reads every
    # stored state (the whole table).
    plan = store.db.execute(f"EXPLAIN QUERY PLAN {OPEN_TICKET_COUNT}").fetchall()
    assert any("tickets_open" in str(step) for step in plan), plan
    for number in range(3):
        s = TicketState(
            ticket_id=f"T-{number}",
            queue=None,
            tier="premier",
            severity=1,
            opened_at=t("2026-11-23T10:00"),
            last_event_at=t("2026-11-23T10:00"),
            closed=number == 2,
        )
        store.put_ticket(s, None)
    assert store.open_ticket_count() == 2


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "x.db")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(SchemaTooNew):
        migrate(sqlite3.connect(tmp_path / "x.db"))
    with pytest.raises(StoreError):
        SqliteStore(tmp_path / "x.db")


def test_a_version_1_store_keeps_its_tickets_and_deadlines(tmp_path: Path) -> None:
    db = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    db.executescript(MIGRATIONS[0] + "; PRAGMA user_version = 1;")
    legacy = {
        "ticket_id": "T-1",
        "queue": None,
        "tier": "premier",
        "severity": 1,
        "opened_at": "2026-11-23T10:00:00+00:00",
        "last_event_at": "2026-11-23T10:00:00+00:00",
        "rung": 1,
    }
    due = datetime(2026, 11, 23, 10, 15, tzinfo=UTC)
    db.execute("INSERT INTO tickets(ticket_id, state) VALUES ('T-1', ?)", (json.dumps(legacy),))
    db.execute("INSERT INTO tickets(ticket_id, state) VALUES ('T-2', ?)", (json.dumps(legacy),))
    db.execute("INSERT INTO timers(ticket_id, due) VALUES ('T-1', ?)", (due.timestamp(),))
    db.close()

    store = SqliteStore(tmp_path / "old.db")
    try:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert store.next_due() == due
        assert store.due_tickets(due) == ["T-1"] and store.timer_count() == 1
        state = store.get_ticket("T-1")
        assert state is not None and state.rung == 1 and state.opened_at.hour == 10
        # Readers of version 1 still find the deadlines under the old name.
        assert store.db.execute("SELECT ticket_id FROM timers").fetchall() == [("T-1",)]
    finally:
        store.close()


def test_opened_event_commits_state_timer_outbox_codes_audit_together(store: SqliteStore) -> None:
    engine = Engine(store, P, token=lambda: "tok")
    with store.transaction():
        result = engine.ingest(
            ev("opened", "2026-11-20T02:00", customer="Acme", summary="gateway down"),
            t("2026-11-20T02:00"),
        )
    assert result.status == "applied"
    state = store.get_ticket("T-1")
    assert state is not None and state.rung == 1
    assert store.next_due() == next_deadline(state)
    rows = store.pending_messages(t("2026-11-20T02:00"))
    assert [(r.person, r.channel, r.kind) for r in rows] == [
        ("cai", "sms", "page"),
        ("cai", "email", "page"),
        ("mgr", "email", "inform"),
    ]
    assert rows[0].code == "1" and "Reply 1" in rows[0].body and len(rows[0].body) <= 160
    assert rows[1].subject.startswith("[SEV1] T-1 Acme")
    assert store.codes_of("cai") == {"1": "T-1"}
    assert [a.action for a in store.audit("T-1")][:2] == ["note", "page"]


def test_duplicate_event_changes_nothing(store: SqliteStore) -> None:
    engine = Engine(store, P)
    opened = ev("opened", "2026-11-20T02:00")
    with store.transaction():
        engine.ingest(opened, t("2026-11-20T02:00"))
    before = (store.get_ticket("T-1"), store.outbox_counts(), len(store.audit("T-1")))
    with store.transaction():
        assert engine.ingest(opened, t("2026-11-20T02:01")).status == "duplicate"
    assert (store.get_ticket("T-1"), store.outbox_counts(), len(store.audit("T-1"))) == before


def test_rejected_event_leaves_no_trace(store: SqliteStore) -> None:
    engine = Engine(store, P)
    with store.transaction():
        result = engine.ingest(
            ev("escalated", "2026-11-20T02:00", ticket="T-404"), t("2026-11-20T02:00")
        )
    assert result.status == "rejected" and "unknown ticket" in result.reason
    assert not store.event_seen("T-404-escalated-2026-11-20T02:00")
    with store.transaction():
        assert (
            engine.ingest(
                ev("opened", "2026-11-20T02:00", tier="gold"), t("2026-11-20T02:00")
            ).status
            == "rejected"
        )
    assert store.get_ticket("T-1") is None


def test_codes_unique_per_person_and_freed_on_ack(store: SqliteStore) -> None:
    engine = Engine(store, P)
    with store.transaction():
        for n in range(3):
            engine.ingest(ev("opened", "2026-11-20T02:00", ticket=f"T-{n}"), t("2026-11-20T02:00"))
    assert store.codes_of("cai") == {"1": "T-0", "2": "T-1", "3": "T-2"}
    with store.transaction():
        engine.acknowledge("T-1", "cai", "sms", t("2026-11-20T02:01"))
        engine.ingest(ev("opened", "2026-11-20T02:02", ticket="T-9"), t("2026-11-20T02:02"))
    assert store.codes_of("cai") == {"1": "T-0", "2": "T-9", "3": "T-2"}


def test_ack_cancels_unsent_pages_of_that_ticket(store: SqliteStore) -> None:
    engine = Engine(store, P)
    with store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
        engine.acknowledge("T-1", "cai", "sms", t("2026-11-20T02:00:30"))
    counts = store.outbox_counts()
    assert counts.get("cancelled") == 2  # sms + email page; the inform email stays
    assert counts.get("pending") == 1


def test_rollback_leaves_nothing(store: SqliteStore) -> None:
    engine = Engine(store, P)
    with pytest.raises(RuntimeError), store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
        raise RuntimeError("crash mid-transaction")
    assert store.get_ticket("T-1") is None and store.outbox_counts() == {}
    assert store.next_due() is None


def test_requeue_interrupted_sends(store: SqliteStore) -> None:
    engine = Engine(store, P)
    with store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
        rows = store.pending_messages(t("2026-11-20T02:00"))
        store.mark_sending(
            [([r.id for r in rows], None)], datetime.fromtimestamp(1_700_000_000.0, UTC)
        )
    with store.transaction():
        assert store.requeue_interrupted() == len(rows)
    assert store.outbox_counts() == {"pending": len(rows)}


def test_interrupted_sms_are_the_claimed_sms_sends_with_their_digest(store: SqliteStore) -> None:
    engine = Engine(store, P)
    with store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
        engine.ingest(ev("opened", "2026-11-20T02:00", ticket="T-2"), t("2026-11-20T02:00"))
        rows = store.pending_messages(t("2026-11-20T02:00"))
        sms = [r.id for r in rows if r.channel == "sms"]
        other = [r.id for r in rows if r.channel != "sms"]
        assert len(sms) == 2 and other
        # The two SMS went out as one bundle; the emails carry no digest.
        store.mark_sending(
            [(sms, "d1"), (other, None)], datetime.fromtimestamp(1_700_000_000.5, UTC)
        )
        [send] = store.interrupted_sms()
        assert send.ids == tuple(sms) and send.digest == "d1"
        assert send.claimed_at == datetime.fromtimestamp(1_700_000_000.5, UTC)
        assert {r.address for r in rows if r.channel == "sms"} == {send.address}
        # A row claimed without a digest (by an older pager) is only ever re-queued.
        store.mark_sending([(sms, None)], datetime.fromtimestamp(1_700_000_001.0, UTC))
        assert store.interrupted_sms() == []
        assert store.requeue_interrupted() == len(rows)
        assert store.interrupted_sms() == []


def test_fire_due_ticket_through_engine(store: SqliteStore) -> None:
    engine = Engine(store, P)
    with store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
    now = t("2026-11-20T02:15")
    with store.transaction():
        due = store.due_tickets(now)
        assert due == ["T-1"]
        for ticket in due:
            engine.fire(ticket, now)
    state = store.get_ticket("T-1")
    assert state is not None and state.rung == 2


def test_survives_reopen_of_the_file(tmp_path: Path) -> None:
    path = tmp_path / "p.db"
    first = SqliteStore(path)
    with first.transaction():
        Engine(first, P).ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
    due = first.next_due()
    first.close()
    again = SqliteStore(path)
    assert again.next_due() == due
    assert again.get_ticket("T-1") is not None
    again.close()


# --- codec round trip --------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
names = st.text("abcdefghij-", min_size=1, max_size=8)


@st.composite
def states(draw: st.DrawFn) -> TicketState:
    opt_t = st.none() | instants
    return TicketState(
        ticket_id=draw(names),
        queue=draw(st.none() | names),
        tier=draw(names),
        severity=draw(st.integers(1, 4)),
        opened_at=draw(instants),
        last_event_at=draw(instants),
        customer=draw(st.none() | st.text(max_size=20)),
        summary=draw(st.none() | st.text(max_size=40)),
        region=draw(st.none() | names),
        closed=draw(st.booleans()),
        rung=draw(st.integers(0, 4)),
        repeats=draw(st.integers(0, 3)),
        owner=draw(st.none() | names),
        owner_rotation=draw(st.none() | names),
        responded=draw(st.booleans()),
        breached=draw(st.booleans()),
        respond_by=draw(opt_t),
        respond_left=draw(st.none() | st.timedeltas(timedelta(0), timedelta(days=9))),
        ack_deadline=draw(opt_t),
        first_page_at=draw(opt_t),
        status_due=draw(opt_t),
        status_left=draw(st.none() | st.timedeltas(timedelta(0), timedelta(days=9))),
        remind_at=draw(opt_t),
        reminded=draw(st.booleans()),
        paused=draw(st.booleans()),
        shift_check_at=draw(opt_t),
        handoff_to=draw(st.none() | names),
        exhausted=draw(st.booleans()),
        seq=draw(st.integers(0, 10_000)),
        pages=tuple(
            draw(
                st.lists(
                    st.builds(
                        Page,
                        names,
                        st.integers(1, 4),
                        st.sampled_from(["page", "handoff"]),
                        instants,
                        st.none() | names,
                    ),
                    max_size=3,
                )
            )
        ),
        steps=tuple(
            draw(
                st.lists(
                    st.builds(
                        PendingStep,
                        instants,
                        names,
                        st.sampled_from(["sms", "voice", "email"]),
                        st.sampled_from(["page", "handoff"]),
                        st.integers(1, 4),
                    ),
                    max_size=3,
                )
            )
        ),
        paged=tuple(draw(st.lists(names, max_size=4, unique=True))),
    )


@settings(max_examples=300, deadline=None)
@given(states())
def test_codec_round_trips_exactly(state: TicketState) -> None:
    assert decode_state(encode_state(state)) == state


def test_codec_reads_rows_written_before_format_2() -> None:
    legacy = json.dumps(
        {
            "ticket_id": "T-1",
            "queue": None,
            "tier": "premier",
            "severity": 1,
            "opened_at": "2026-11-23T10:00:00+00:00",
            "last_event_at": "2026-11-23T10:05:00.250000+00:00",
            "respond_left": 1800.5,
            "pages": [["ana", 1, "page", "2026-11-23T10:00:00+00:00", "support-engineers"]],
            "steps": [["2026-11-23T10:05:00+00:00", "ana", "voice", "page", 1]],
            "paged": ["ana"],
            "rung": 1,
        }
    )
    state = decode_state(legacy)
    opened = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
    assert state.last_event_at == opened + timedelta(minutes=5, milliseconds=250)
    assert state.respond_left == timedelta(seconds=1800.5)
    assert state.pages[0].at == opened and state.pages[0].rotation == "support-engineers"
    assert state.steps[0].due == opened + timedelta(minutes=5)
    assert state.rung == 1 and state.paged == ("ana",) and state.owner is None
    # Written again, it is in the current format and reads back the same.
    assert encode_state(state).startswith("[2,")
    assert decode_state(encode_state(state)) == state


@pytest.mark.parametrize(
    "row",
    [
        "[]",
        '[3, "T-1"]',
        '[2, "T-1"]',  # required fields missing
        '"T-1"',
        "[2" + ", null" * 80 + "]",  # more fields than this version knows
    ],
)
def test_codec_refuses_corrupt_rows(row: str) -> None:
    with pytest.raises(ValueError, match="corrupt ticket state"):
        decode_state(row)


def test_field_path_finds_fields_for_ad_hoc_sql(store: SqliteStore) -> None:
    engine = Engine(store, P, token=lambda: "tok")
    with store.transaction():
        engine.ingest(ev("opened", "2026-11-20T02:00"), t("2026-11-20T02:00"))
    [(owner, rung, ticket)] = store.db.execute(
        "SELECT json_extract(state, ?), json_extract(state, ?), json_extract(state, ?)"
        " FROM tickets",
        (field_path("owner"), field_path("rung"), field_path("ticket_id")),
    ).fetchall()
    state = store.get_ticket(ticket)
    assert state is not None
    assert (owner, rung) == (state.owner, state.rung) and rung == 1
    with pytest.raises(KeyError):
        field_path("no_such_field")
