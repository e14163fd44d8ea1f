"""``python -m bench.bench_prefill -c DIR --count N ...``: open N tickets straight in the store.

Runs the daemon's own :class:`~pager.daemon.engine.Engine` (same step, same rows) on the store
of config ``DIR``, without a daemon, broker or provider, so that scenarios needing
100,000 open tickets do not spend minutes publishing them. Ticket ``i`` is opened at
``now_i`` (evenly spread from ``--first-now`` to ``--last-now``, epoch seconds) with an
event ``at`` of the same instant, so its rung-1 ack deadline is ``now_i + ack_within``.

``--mark-sent`` marks the outbox rows it created as sent: the pages of those tickets
went out before the daemon (re)started, as after a normal run. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import UTC, datetime

from bench.bench_common import fanout_event
from pager.config.load import load_config
from pager.core.events import parse_event
from pager.core.policy import Policy
from pager.daemon.engine import Engine
from pager.store.sqlite.store import SqliteStore, path_from_url


def prefill(
    config_dir: str,
    *,
    count: int,
    people: int,
    first_now: float,
    last_now: float,
    first_number: int = 0,
    batch: int = 1000,
    mark_sent: bool = False,
    run: str = "prefill",
) -> dict[str, float | int]:
    """Open ``count`` tickets; return how long it took and what the store holds."""
    config = load_config(config_dir)
    store = SqliteStore(path_from_url(config.settings.store))
    engine = Engine(store, Policy(config))
    started = time.perf_counter()
    step = (last_now - first_now) / (count - 1) if count > 1 else 0.0
    applied = 0
    try:
        for chunk in range(0, count, batch):
            with store.transaction():
                for k in range(chunk, min(count, chunk + batch)):
                    now = datetime.fromtimestamp(first_now + k * step, UTC)
                    payload = json.dumps(fanout_event(first_number + k, people, now, run))
                    result = engine.ingest(parse_event(payload), now, payload)
                    applied += result.status == "applied"
        if mark_sent:
            with store.transaction():
                store.db.execute(
                    "UPDATE outbox SET state = 'sent', sent_at = created_at,"
                    " provider_id = 'prefill' WHERE state = 'pending'"
                )
        elapsed = time.perf_counter() - started
        open_tickets = store.open_ticket_count()
        timers = store.timer_count()
    finally:
        store.close()
    return {
        "count": count,
        "applied": applied,
        "seconds": round(elapsed, 3),
        "per_second": round(count / elapsed, 1) if elapsed > 0 else 0.0,
        "open_tickets": open_tickets,
        "timers": timers,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_prefill")
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--people", type=int, required=True)
    parser.add_argument("--first-now", type=float, required=True)
    parser.add_argument("--last-now", type=float, required=True)
    parser.add_argument("--first-number", type=int, default=0)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--mark-sent", action="store_true")
    parser.add_argument("--run", default="prefill")
    args = parser.parse_args(argv)
    summary = prefill(
        args.config,
        count=args.count,
        people=args.people,
        first_now=args.first_now,
        last_now=args.last_now,
        first_number=args.first_number,
        batch=args.batch,
        mark_sent=args.mark_sent,
        run=args.run,
    )
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
