"""The daemon through real parts (issues 4 and 5): latency and throughput.

The real ``pager run`` child process, a real Mosquitto, the real twilio library talking
to FakeTwilio (in its own process, :class:`~bench.bench_common.TwilioSink`). The config
is the fan-out one (:func:`~bench.bench_common.write_fanout_config`): event ``i`` pages
person ``i % PEOPLE`` by SMS, with sending rate and per-person limits out of the way.

* ``latency``: event published (QoS 1) -> first ``Messages.json`` request naming its
  ticket at FakeTwilio, at 100, 500 and 1,000 events/s offered open loop.
* ``throughput``: events published closed loop, never more than ``WINDOW`` ahead of what
  the daemon has committed: the rate it sustains with a bounded backlog.
"""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Mapping
from typing import Any

from bench.bench_common import (
    Options,
    Outcome,
    Publisher,
    Stack,
    at_least,
    await_until,
    committed_events,
    count,
    cpu_seconds,
    fanout_event,
    first_arrivals,
    fresh_dir,
    info,
    latency_figures,
    now_utc,
    percentiles,
    stack,
    ticket_id,
    wait_until,
)
from bench.bench_memory import prefill

#: People in the fan-out config: at 1,000 events/s each is paged once a second. (Config
#: loading costs ~3 ms per person today; see bench/README.md.)
PEOPLE = 1000
RATES = (100, 500, 1000)
TARGET_P99_MS = {100: 20.0, 1000: 100.0}
#: Closed-loop window of the throughput run: events published but not yet committed.
WINDOW = 2000
#: Ticket numbers of the relay-drain run (clear of every other run's ticket ids).
RELAY_FIRST = 9_000_000


def _event_maker(run: str) -> Any:
    at = now_utc()

    def make(number: int) -> Mapping[str, Any]:
        return fanout_event(number, PEOPLE, at, run)

    return make


async def _latency_runs(parts: Stack, duration: float) -> dict[str, Any]:
    sink = parts.sink
    out: dict[str, Any] = {}
    make = _event_maker("lat")
    async with Publisher(parts.broker.port) as pub:
        # Warm-up: connections to the broker and to Twilio, caches, first allocations.
        await pub.open_loop(make, rate=50, duration=1.0, first=0)
        await await_until(lambda: len(first_arrivals(sink.requests())) >= 50, timeout=30)
        first = 1000
        for rate in RATES:
            await asyncio.sleep(1.0)
            cpu_before = (
                cpu_seconds(parts.daemon.proc.pid) if parts.daemon and parts.daemon.proc else 0.0
            )
            started = time.monotonic()
            sent = await pub.open_loop(make, rate=rate, duration=duration, first=first)
            publish_span = time.monotonic() - started
            wanted = {ticket_id(first + i) for i in range(sent)}

            def arrived(wanted: set[str] = wanted) -> bool:
                got = first_arrivals(sink.requests())
                return all(t in got for t in wanted)

            complete, waited = await await_until(arrived, timeout=60, interval=0.1)
            arrivals = first_arrivals(sink.requests())
            latencies = [arrivals[t] - pub.sent[t] for t in wanted if t in arrivals]
            cpu_after = (
                cpu_seconds(parts.daemon.proc.pid) if parts.daemon and parts.daemon.proc else 0.0
            )
            out[str(rate)] = {
                "offered_per_s": rate,
                "published": sent,
                "achieved_publish_rate": sent / publish_span if publish_span else None,
                "delivered": len(latencies),
                "missing": sent - len(latencies),
                "complete": complete,
                "drain_after_publishing_s": waited,
                "latency_ms": percentiles(latencies),
                "daemon_cpu_share": (cpu_after - cpu_before) / (publish_span + waited),
            }
            first += sent + 1000
    bundled = sum(1 for r in sink.requests() if r.kind == "sms" and r.body.count("B0") > 1)
    out["bundled_sms"] = bundled
    return out


def latency(opts: Options) -> Outcome:
    work = fresh_dir(opts, "latency")
    duration = opts.seconds(10.0, 3.0)
    with stack(work, people=PEOPLE) as parts:
        parts.start_daemon()
        runs = asyncio.run(_latency_runs(parts, duration))
    figures = latency_figures(runs, RATES, TARGET_P99_MS, with_max=True)
    return Outcome(
        figures=figures,
        details={
            "people": PEOPLE,
            "seconds_per_rate": duration,
            "runs": runs,
            "measured": "publish call (QoS 1) in the bench process -> arrival of the first"
            " Messages.json request naming the ticket at FakeTwilio (own process);"
            " both time.monotonic()",
        },
        notes=[
            f"open loop: event i is published at start + i/rate whatever the daemon does;"
            f" {runs['bundled_sms']} SMS were bundles (more than one ticket)",
        ],
    )


async def _closed_loop_run(
    parts: Stack, duration: float, warmup: float, *, tier: str = "bench", run: str = "tput"
) -> dict[str, Any]:
    """Publish closed loop for ``duration`` s; the commit rate after ``warmup``."""
    db = parts.db
    committed = committed_events(db)
    samples: list[tuple[float, int, int, int]] = []
    at = now_utc()
    base = committed()
    sms_base = len(parts.sink.requests())

    def make(number: int) -> Mapping[str, Any]:
        return fanout_event(number, PEOPLE, at, run, tier=tier)

    def sample(t: float, published: int, done: int) -> None:
        samples.append((t, published, done, len(parts.sink.requests()) - sms_base))

    async with Publisher(parts.broker.port) as pub:
        published = await pub.closed_loop(
            make, committed=committed, window=WINDOW, duration=duration, sample=sample
        )
        drained, drain_s = await await_until(
            lambda: committed() - base >= published, timeout=120, interval=0.05
        )
        if tier == "bench":
            # Every ticket named in an SMS (a lagging relay bundles: fewer SMS than events).
            wanted = {ticket_id(i) for i in range(published)}
            pages_done, pages_s = await await_until(
                lambda: wanted <= first_arrivals(parts.sink.requests()).keys(),
                timeout=120,
                interval=0.5,
            )
        else:
            pages_done, pages_s = True, 0.0
    # Sustained rate: commits between the end of the warm-up and the end of the run.
    after = [s for s in samples if s[0] >= warmup]
    rate = sms_rate = None
    per_second: list[float] = []
    if len(after) >= 2:
        span = after[-1][0] - after[0][0]
        rate = (after[-1][2] - after[0][2]) / span
        sms_rate = (after[-1][3] - after[0][3]) / span
        step = 5  # samples are 0.2 s apart: one rate per second
        for a, b in zip(after[::step], after[step::step], strict=False):
            per_second.append((b[2] - a[2]) / (b[0] - a[0]))
    backlog = [s[1] - s[2] for s in samples]
    return {
        "tier": tier,
        "published": published,
        "commit_rate": rate,
        "commit_rate_per_second_min": min(per_second) if per_second else None,
        "commit_rate_per_second_max": max(per_second) if per_second else None,
        "max_backlog_events": max(backlog) if backlog else None,
        "drained": drained,
        "drain_after_publishing_s": drain_s,
        "sms_rate_during_run": sms_rate,
        "all_pages_sent": pages_done,
        "pages_done_after_publishing_s": pages_s,
        "samples_t_published_committed_sms": [list(s) for s in samples[::5]],
    }


def refill_queue(parts: Stack, messages: int, first_number: int) -> None:
    """Replace the (stopped) daemon's store with one holding ``messages`` unsent tickets.

    The tickets are numbered from ``first_number`` over :data:`PEOPLE` people, opened
    within the last minute, their first pages still queued in the outbox.
    """
    shutil.rmtree(parts.db.parent)
    now = time.time()
    prefill(
        str(parts.config),
        messages,
        PEOPLE,
        first_now=now - 60,
        last_now=now,
        first_number=first_number,
        mark_sent=False,
    )


def _relay_drain(parts: Stack, messages: int) -> dict[str, Any]:
    """A daemon started on ``messages`` queued SMS (one per person): its sending rate."""
    refill_queue(parts, messages, RELAY_FIRST)
    before = len(parts.sink.requests())
    parts.start_daemon()
    started = time.monotonic()
    done, seconds = wait_until(
        lambda: len(parts.sink.requests()) - before >= messages, timeout=300, interval=0.05
    )
    # From READY to the last request's arrival, on the sink's clock: polling every 50 ms
    # quantised a half-second figure by a tenth.
    last = max((r.at for r in parts.sink.requests()[before:]), default=None)
    if done and last is not None:
        seconds = last - started
    parts.stop_daemon()
    return {
        "messages": messages,
        "all_sent": done,
        "seconds": seconds,
        "per_second": messages / seconds,
    }


def throughput(opts: Options) -> Outcome:
    work = fresh_dir(opts, "throughput")
    duration = opts.seconds(60.0, 10.0)
    quiet_duration = opts.seconds(15.0, 6.0)
    warmup = opts.seconds(5.0, 2.0)
    with stack(work, people=PEOPLE) as parts:
        parts.start_daemon()
        run = asyncio.run(_closed_loop_run(parts, duration, warmup))
        quiet = asyncio.run(
            _closed_loop_run(parts, quiet_duration, warmup, tier="quiet", run="quiet")
        )
        exit_code = parts.stop_daemon()
        durable = count(parts.db, "SELECT COUNT(*) FROM events")
        relay = _relay_drain(parts, PEOPLE)
    expected = run["published"] + quiet["published"]
    return Outcome(
        figures=[
            at_least(
                f"sustained {duration:.0f} s, backlog <= {WINDOW:,}, each paging",
                run["commit_rate"],
                "events/s",
                2000,
            ),
            info("SMS requests per second meanwhile", run["sms_rate_during_run"], "/s"),
            info("events that page nobody, sustained", quiet["commit_rate"], "events/s"),
            info("relay alone: 1,000 queued SMS sent at", relay["per_second"], "SMS/s"),
            info("events in the store after SIGTERM", durable, f"of {expected:,}"),
        ],
        details={
            "people": PEOPLE,
            "seconds": duration,
            "warmup_s": warmup,
            "paging": run,
            "quiet": quiet,
            "relay_drain": relay,
            "exit_code": exit_code,
            "durable_events": durable,
            "published_events": expected,
        },
        notes=[
            f"closed loop: the publisher keeps at most {WINDOW:,} events published but not"
            " yet committed (rows in the events table), so the backlog is bounded by"
            " construction and the rate is what the daemon commits",
            "quiet events: tier `quiet` (low urgency, calendar closed for days): the same"
            " ingest path without an outbox row, to separate ingest from sending",
            f"{durable:,} of {expected:,} published events were in the events table after"
            f" the daemon exited (exit status {exit_code})",
        ],
    )


SCENARIOS = {"latency": latency, "throughput": throughput}
