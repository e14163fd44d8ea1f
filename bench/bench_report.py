"""``pager report`` over 90 days and 100,000 tickets: ``python -m bench.run --only report``.

The store is generated directly (bulk inserts into a store made by ``SqliteStore``, so
the schema is the daemon's): tickets of the worked example's tiers, paged to the
example's engineers and duty managers, with the audit entries the engine writes, in the
ladder's form (a ``reason`` on every page step, ``kind`` on breaches). Seeded, so every
run measures the same store. Per ticket, on average: rung 1 paged (SMS, e-mail; a voice
call when the ack takes over 5 minutes), 20 % escalated to rung 2 on an ack timeout,
5 % breached, 30 % with status reports (8 % of those overdue, paging rung 2), 3 %
customer escalations, 5 % handed off, the ack, and the close e-mails: ~12 rows each.

Figures: the whole text report (queries, figures, rendering) over the 90 days, best of
3; the same with ``--format html`` and its three charts; the report over one of the
months. Each is the CPU time of this process (the report is one thread: a shared
machine's neighbours slow its wall time, not its work), wall time beside it in the
details. Target: the 90-day report in under 5 s.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bench.bench_common import REPO, Options, Outcome, at_most, fresh_dir, info
from pager.config.load import load_config
from pager.core.ladder.machine import TicketState
from pager.report import charts, render
from pager.report.build import build
from pager.report.html import html
from pager.store.sqlite.codec import encode_state
from pager.store.sqlite.store import SqliteStore

SEED = 20261204
START = datetime(2026, 9, 1, tzinfo=UTC)
DAYS = 90
TARGET_S = 5.0
ENGINEERS = ("dung", "linh", "minh", "razvan", "ana", "andrei", "john", "maria", "kevin")
MANAGERS = ("hoa", "ioana", "mihai", "carlos")
TIERS = {"premier": 30, "standard": 60, "platinum": 60, "gold": 120, "silver": 240}
CUSTOMERS = tuple(f"Customer {n:03d}" for n in range(400))

_dumps = json.JSONEncoder(separators=(",", ":")).encode


def generate(path: str, tickets: int) -> int:
    """Write ``tickets`` tickets and their audit into a new store; the audit row count."""
    SqliteStore(path).close()  # the schema, migrated
    rng = random.Random(SEED)
    span = DAYS * 86400.0
    base = START.timestamp()
    ticket_rows: list[tuple[str, str, int]] = []
    audit: list[tuple[str, float, str, str]] = []
    for n in range(tickets):
        tid = f"R{n:07d}"
        opened = base + span * n / tickets + rng.random() * 60
        tier = rng.choice(list(TIERS))
        severity = rng.choice((1, 1, 2, 2, 3, 4))
        state = TicketState(
            tid,
            None,
            tier,
            severity,
            datetime.fromtimestamp(opened, UTC),
            datetime.fromtimestamp(opened, UTC),
            customer=rng.choice(CUSTOMERS),
            closed=True,
        )
        ticket_rows.append((tid, encode_state(state), 1))
        _audit(rng, tid, opened, tier, severity, audit)
    db = sqlite3.connect(path)
    with db:
        db.executemany(
            "INSERT INTO tickets (ticket_id, state, closed) VALUES (?, ?, ?)", ticket_rows
        )
        db.executemany(
            "INSERT INTO audit (ticket_id, at, action, detail) VALUES (?, ?, ?, ?)", audit
        )
    db.close()
    return len(audit)


def _audit(
    rng: random.Random,
    tid: str,
    t: float,
    tier: str,
    severity: int,
    out: list[tuple[str, float, str, str]],
) -> None:
    def add(at: float, action: str, **detail: Any) -> None:
        out.append((tid, at, action, _dumps(detail)))

    def page(at: float, person: str, rung: int, reason: str, kind: str = "page") -> None:
        action = "handoff" if kind == "handoff" else "page"
        add(at, action, to=person, via="sms", rung=rung, kind=kind, reason=reason)
        add(at, action, to=person, via="email", rung=rung, kind=kind, reason=reason)

    add(t, "note", detail=f"opened: severity {severity}, tier {tier}")
    engineer = rng.choice(ENGINEERS)
    page(t, engineer, 1, "opened")
    paged = [engineer]
    ack_after = rng.expovariate(1 / 600)
    owner = engineer
    if ack_after > 300:
        add(t + 300, "page", to=engineer, via="voice", rung=1, kind="page", reason="opened")
    if ack_after > 900 or rng.random() < 0.05:
        manager = rng.choice(MANAGERS)
        page(t + 900, manager, 2, "ack_timeout")
        paged.append(manager)
        owner = manager
        ack_after = max(ack_after, 900 + rng.expovariate(1 / 300))
    respond = TIERS[tier] * 60
    if ack_after > respond:
        add(
            t + respond,
            "breach",
            detail="respond-by passed with no acknowledgement",
            rung=2,
            kind="respond_by",
        )
    ack = t + ack_after
    add(ack, "ack", detail="acknowledged via sms", by=owner, rung=len(paged))
    end = ack + rng.uniform(1800, 4 * 3600)
    if rng.random() < 0.3:
        at = ack
        for _ in range(rng.randint(1, 4)):
            at += 7200
            if rng.random() < 0.08:
                add(at, "note", detail="status report overdue", rung=1)
                page(at, rng.choice(MANAGERS), 2, "overdue")
            else:
                add(at - 600, "note", detail="status report posted", by=owner)
        end = max(end, at + 600)
    if rng.random() < 0.03:
        at = ack + 1200
        add(at, "escalate", detail="customer escalation", rung=2)
        page(at, rng.choice(MANAGERS), 2, "customer")
    if rng.random() < 0.05:
        at = ack + 1500
        incoming = rng.choice(ENGINEERS)
        page(at, incoming, 1, "opened", kind="handoff")
        add(at, "handoff", to=owner, via="email", rung=1, kind="handoff_out")
        add(at + 300, "ack", detail="acknowledged via sms", by=incoming, rung=1)
        paged.append(incoming)
    for person in paged:
        add(end, "closed", to=person, via="email", rung=0, kind="closed")


def _best(runs: int, job: Any) -> tuple[float, float]:
    """Best wall and CPU seconds of ``runs`` calls of ``job``."""
    walls, cpus = [], []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        job()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def report(opts: Options) -> Outcome:
    work = fresh_dir(opts, "report")
    count = opts.scale(100_000, 10_000)
    path = str(work / "report.db")
    generating = time.perf_counter()
    rows = generate(path, count)
    generate_s = time.perf_counter() - generating
    config = load_config(REPO)
    end = START + timedelta(days=DAYS)
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    sizes: dict[str, int] = {}

    def text() -> None:
        built = build(config, conn, START, end)
        sizes["text_bytes"] = len(render.text(built))
        sizes["tickets"] = built.tickets

    def page() -> None:
        built = build(config, conn, START, end)
        sizes["html_bytes"] = len(html(built, charts.charts(built)))

    def month() -> None:
        build(config, conn, START + timedelta(days=30), START + timedelta(days=60))

    text_s, text_cpu = _best(3, text)
    html_s, html_cpu = _best(opts.scale(2, 1), page)
    month_s, month_cpu = _best(3, month)
    conn.close()
    return Outcome(
        figures=[
            at_most(f"text report, 90 days, {count:,} tickets", round(text_cpu, 2), "s", TARGET_S),
            info("html report with 3 charts, 90 days", round(html_cpu, 2), "s"),
            info("text report, one month", round(month_cpu, 2), "s"),
        ],
        details={
            "tickets": count,
            "audit_rows": rows,
            "generate_s": round(generate_s, 1),
            "text_wall_s": round(text_s, 2),
            "html_wall_s": round(html_s, 2),
            "month_wall_s": round(month_s, 2),
            **sizes,
        },
        notes=["store generated with bulk inserts (seeded); the report reads it read-only"],
    )


SCENARIOS = {"report": report}
