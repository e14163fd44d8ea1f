"""The daemon with the notification rules a manager actually writes (issue 14).

The people of :mod:`bench.bench_daemon` have an SMS step only, so nothing competes with
the page. Here they have the default rules (:data:`bench.bench_common.RULES`
``["default"]``: SMS and email at once, voice after 5 minutes), and every email goes to
an SMTP server of its own process (:class:`~bench.bench_common.SmtpSink`), side by side
with the SMS-only people where the figure compares them.

* ``latency_default``: as ``latency`` (event -> first SMS at FakeTwilio, open loop at
  100, 500 and 1,000 events/s), default rules; also event -> email at the SMTP server.
* ``burst``: 5,000 events published at once, SMS-only and default rules: events/s from
  the first publish to the last ticket's first SMS.
* ``email_throughput``: 5,000 events for people with an email step only, published at
  once: emails/s at the SMTP server, and the SMTP connections they took.
* ``throughput_default``: as ``throughput`` (closed loop, backlog <= 2,000), default rules.
* ``alert_storm_default``: as ``alert_storm`` (10,000 pages for one person in 10 s,
  default limits), the person with the default rules.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

from bench.bench_common import (
    Options,
    Outcome,
    Publisher,
    Stack,
    at_least,
    at_most,
    await_until,
    fanout_event,
    first_arrivals,
    first_mails,
    fresh_dir,
    info,
    now_utc,
    percentiles,
    stack,
    ticket_id,
    wait_until,
)
from bench.bench_daemon import PEOPLE, WINDOW, _closed_loop_run, _latency_runs, refill_queue
from bench.bench_storm import DEFAULT_LIMITS, TICKETS, _storm

#: Targets of issue 14 with the default rules.
LATENCY_P99_MS_AT_500 = 30.0
BURST_EVENTS_PER_S = 1500.0
EMAILS_PER_S = 500.0
#: Burst ticket numbers start here (clear of the warm-up's).
BURST_FIRST = 100_000
#: Ticket numbers of the email drain run.
DRAIN_FIRST = 9_000_000


def _mail_latencies(parts: Stack, sent: Mapping[str, float]) -> dict[str, Any]:
    assert parts.smtp is not None
    mails = first_mails(parts.smtp.requests())
    return percentiles([mails[t] - at for t, at in sent.items() if t in mails]) | {
        "missing": sum(1 for t in sent if t not in mails)
    }


def latency_default(opts: Options) -> Outcome:
    work = fresh_dir(opts, "latency_default")
    duration = opts.seconds(10.0, 3.0)
    with stack(work, people=PEOPLE, rules="default") as parts:
        parts.start_daemon()
        runs = asyncio.run(_latency_runs(parts, duration))
        assert parts.smtp is not None
        ok, _ = asyncio.run(
            await_until(lambda: len(parts.smtp.requests()) >= _published(runs), timeout=60)  # type: ignore[union-attr]
        )
        mails = parts.smtp.requests()
    figures = []
    for rate in (100, 500, 1000):
        lat = runs[str(rate)]["latency_ms"]
        label = f"default rules, {rate}/s: event -> Twilio request"
        if rate == 500:
            figures.append(at_most(f"{label} p99", lat["p99"], "ms", LATENCY_P99_MS_AT_500))
        else:
            figures.append(info(f"{label} p99", lat["p99"], "ms"))
        figures.append(info(f"{label} p50", lat["p50"], "ms"))
    figures.append(info("emails received meanwhile", len(mails), f"of {_published(runs):,}"))
    return Outcome(
        figures=figures,
        details={
            "people": PEOPLE,
            "rules": "default: sms 0m, email 0m, voice 5m",
            "seconds_per_rate": duration,
            "runs": runs,
            "all_emails_arrived": ok,
            "smtp_connections": mails[-1].connections if mails else 0,
        },
        notes=[
            "the same open-loop runs as `latency`, with every person notified by SMS and"
            " email at once (a voice call after 5 minutes, not reached): the email goes to"
            " a local SMTP server in its own process",
        ],
    )


def _published(runs: Mapping[str, Any]) -> int:
    """Events of the latency runs plus their warm-up (50 events), each one email."""
    return 50 + sum(int(r["published"]) for k, r in runs.items() if k.isdigit())


async def _burst(parts: Stack, events: int) -> dict[str, Any]:
    at = now_utc()

    def make(number: int) -> Mapping[str, Any]:
        return fanout_event(number, PEOPLE, at, "burst")

    sink = parts.sink
    async with Publisher(parts.broker.port) as pub:
        await pub.open_loop(make, rate=50, duration=1.0, first=0)  # warm-up
        await await_until(lambda: len(first_arrivals(sink.requests())) >= 50, timeout=30)
        await asyncio.sleep(1.0)
        wanted = {ticket_id(BURST_FIRST + i) for i in range(events)}
        started = time.monotonic()
        # As fast as the publisher goes (at most 2,000 unconfirmed at QoS 1).
        await pub.open_loop(make, rate=1_000_000, duration=events / 1_000_000, first=BURST_FIRST)
        published = time.monotonic() - started

        def arrived() -> bool:
            got = first_arrivals(sink.requests())
            return all(t in got for t in wanted)

        complete, _ = await await_until(arrived, timeout=120, interval=0.1)
        firsts = first_arrivals(sink.requests())
        last_sms = max((firsts[t] for t in wanted if t in firsts), default=started)
        mails: dict[str, float] = {}
        if parts.smtp is not None:
            smtp = parts.smtp
            await await_until(
                lambda: sum(1 for t in first_mails(smtp.requests()) if t in wanted) >= events,
                timeout=120,
                interval=0.1,
            )
            mails = {t: a for t, a in first_mails(smtp.requests()).items() if t in wanted}
    span = last_sms - started
    return {
        "events": events,
        "publish_s": published,
        "complete": complete,
        "sms_for": sum(1 for t in wanted if t in firsts),
        "to_last_first_sms_s": span,
        "events_per_s": events / span if span > 0 else None,
        "latency_ms": percentiles([firsts[t] - pub.sent[t] for t in wanted if t in firsts]),
        "emails": len(mails),
        "to_last_email_s": (max(mails.values()) - started) if mails else None,
        "email_latency_ms": percentiles([mails[t] - pub.sent[t] for t in mails]),
    }


def burst(opts: Options) -> Outcome:
    events = opts.scale(5000, 1000)
    results: dict[str, Any] = {}
    for rules in ("sms", "default"):
        work = fresh_dir(opts, f"burst-{rules}")
        with stack(work, people=PEOPLE, rules=rules) as parts:
            parts.start_daemon()
            results[rules] = asyncio.run(_burst(parts, events))
    sms, default = results["sms"], results["default"]
    return Outcome(
        figures=[
            info(
                f"SMS only: {events:,}-event burst, events/s to the last first SMS",
                sms["events_per_s"],
                "events/s",
            ),
            at_least(
                f"default rules: {events:,}-event burst, events/s to the last first SMS",
                default["events_per_s"],
                "events/s",
                BURST_EVENTS_PER_S,
            ),
            info("default rules: burst, first-SMS latency p99", default["latency_ms"]["p99"], "ms"),
            info("default rules: burst, to the last email", default["to_last_email_s"], "s"),
        ],
        details={"people": PEOPLE, "events": events, "sms": sms, "default": default},
        notes=[
            "a burst: every event published as fast as one MQTT client goes at QoS 1 (at"
            " most 2,000 unconfirmed); the rate is events / (last ticket's first SMS at"
            " FakeTwilio - first publish)",
        ],
    )


async def _email_burst(parts: Stack, events: int) -> dict[str, Any]:
    assert parts.smtp is not None
    smtp = parts.smtp
    at = now_utc()

    def make(number: int) -> Mapping[str, Any]:
        return fanout_event(number, PEOPLE, at, "mail")

    async with Publisher(parts.broker.port) as pub:
        await pub.open_loop(make, rate=50, duration=1.0, first=0)  # warm-up
        await await_until(lambda: len(smtp.requests()) >= 50, timeout=30)
        await asyncio.sleep(1.0)
        before = len(smtp.requests())
        connections_before = smtp.requests()[-1].connections
        started = time.monotonic()
        await pub.open_loop(make, rate=1_000_000, duration=events / 1_000_000, first=BURST_FIRST)
        complete, _ = await await_until(
            lambda: len(smtp.requests()) - before >= events, timeout=120, interval=0.1
        )
    mails = smtp.requests()[before:]
    first, last = (mails[0].at, mails[-1].at) if mails else (started, started)
    return {
        "events": events,
        "emails": len(mails),
        "complete": complete,
        "first_to_last_email_s": last - first,
        "emails_per_s": (len(mails) - 1) / (last - first) if last > first else None,
        "publish_to_last_email_s": last - started,
        "emails_per_s_from_publish": len(mails) / (last - started) if last > started else None,
        "smtp_connections_during_burst": (mails[-1].connections - connections_before)
        if mails
        else 0,
        "smtp_connections_total": mails[-1].connections if mails else 0,
    }


def _email_drain(parts: Stack, messages: int) -> dict[str, Any]:
    """A daemon started on ``messages`` queued emails (one per ticket): its sending rate."""
    assert parts.smtp is not None
    smtp = parts.smtp
    parts.stop_daemon()
    refill_queue(parts, messages, DRAIN_FIRST)
    before = len(smtp.requests())
    connections_before = smtp.requests()[-1].connections if before else 0
    parts.start_daemon()
    done, _ = wait_until(
        lambda: len(smtp.requests()) - before >= messages, timeout=300, interval=0.05
    )
    mails = smtp.requests()[before:]
    parts.stop_daemon()
    first, last = (mails[0].at, mails[-1].at) if mails else (0.0, 0.0)
    return {
        "messages": messages,
        "all_sent": done,
        "first_to_last_s": last - first,
        "per_second": (len(mails) - 1) / (last - first) if last > first else None,
        "smtp_connections": (mails[-1].connections - connections_before) if mails else 0,
    }


def email_throughput(opts: Options) -> Outcome:
    events = opts.scale(5000, 1000)
    work = fresh_dir(opts, "email_throughput")
    with stack(work, people=PEOPLE, rules="email") as parts:
        parts.start_daemon()
        run = asyncio.run(_email_burst(parts, events))
        drain = _email_drain(parts, events)
    return Outcome(
        figures=[
            at_least(
                f"relay alone: {events:,} queued emails to a local SMTP server",
                drain["per_second"],
                "emails/s",
                EMAILS_PER_S,
            ),
            info("SMTP connections they took", drain["smtp_connections"], ""),
            info(
                f"{events:,}-event burst, email only: emails/s first to last",
                run["emails_per_s"],
                "emails/s",
            ),
            info("same, from the first publish", run["emails_per_s_from_publish"], "emails/s"),
        ],
        details={"people": PEOPLE, "burst": run, "relay_drain": drain},
        notes=[
            "people with one step (email at once). Relay alone: the daemon starts on a store"
            " holding the emails of already-opened tickets (bench_prefill) and sends them;"
            " the rate is from the first to the last email at the SMTP server (aiosmtpd, own"
            " process). Burst: the events are published at once and each ticket's email is"
            " counted at the SMTP server, so ingest shares the daemon with the sending",
        ],
    )


def throughput_default(opts: Options) -> Outcome:
    work = fresh_dir(opts, "throughput_default")
    duration = opts.seconds(30.0, 8.0)
    warmup = opts.seconds(5.0, 2.0)
    with stack(work, people=PEOPLE, rules="default") as parts:
        parts.start_daemon()
        run = asyncio.run(_closed_loop_run(parts, duration, warmup, run="tputd"))
        assert parts.smtp is not None
        smtp = parts.smtp
        mails = len(smtp.requests())
        # Emails wait while the daemon is behind (pages first): how long until all are out.
        all_mails, mails_after = wait_until(
            lambda: len(smtp.requests()) >= run["published"], timeout=300, interval=0.5
        )
    return Outcome(
        figures=[
            info(
                f"default rules: sustained {duration:.0f} s, backlog <= {WINDOW:,}, each paging",
                run["commit_rate"],
                "events/s",
            ),
            info("SMS requests per second meanwhile", run["sms_rate_during_run"], "/s"),
            info("emails received when the run ended", mails, f"of {run['published']:,}"),
            info("then until every email was out", mails_after if all_mails else None, "s"),
        ],
        details={
            "people": PEOPLE,
            "seconds": duration,
            "warmup_s": warmup,
            "paging": run,
            "emails_at_end": mails,
            "all_emails_out": all_mails,
            "all_emails_out_after_s": mails_after,
        },
        notes=[
            "as `throughput`'s paging run, every person with the default rules; while the"
            " daemon is behind, emails wait (pages first), so most go out after the run",
        ],
    )


def alert_storm_default(opts: Options) -> Outcome:
    work = fresh_dir(opts, "alert_storm_default")
    tickets = opts.scale(TICKETS, 2_000)
    with stack(work, people=1, settings=DEFAULT_LIMITS, rules="default") as parts:
        parts.start_daemon()
        run = asyncio.run(_storm(parts, rate=1000.0, seconds=tickets / 1000.0))
        assert parts.smtp is not None
        smtp = parts.smtp
        # The emails of the storm: wait until none arrived for 3 s.
        ok, _ = wait_until(lambda: _quiet(smtp), timeout=300, interval=0.5)
        mails = smtp.requests()
    return Outcome(
        figures=[
            info(
                f"default rules: SMS that reached Twilio for {tickets:,} pages",
                run["sms_before_ack"],
                "SMS",
            ),
            info("default rules: emails that reached the SMTP server", len(mails), "emails"),
            info(
                f"default rules: {tickets:,} events published -> all committed",
                run["ingest_s"],
                "s",
            ),
            info("default rules: 'ack all' webhook answered after", run["ack_response_s"], "s"),
            info(
                "default rules: 'ack all' -> every escalation stopped", run["ack_to_stopped_s"], "s"
            ),
        ],
        details={
            "tickets": tickets,
            "limits": DEFAULT_LIMITS,
            "emails": len(mails),
            "emails_settled": ok,
            "smtp_connections": mails[-1].connections if mails else 0,
            **run,
        },
        notes=[
            f"as `alert_storm` (one person on call, {tickets:,} opened events at 1,000/s,"
            " default limits), the person with the default rules: every page also emails,"
            " and email has no per-person limit or bundling",
        ],
    )


_last_count: dict[int, tuple[int, float]] = {}


def _quiet(smtp: Any, seconds: float = 3.0) -> bool:
    """True once ``smtp`` received nothing new for ``seconds`` (polled)."""
    count, now = len(smtp.requests()), time.monotonic()
    seen, since = _last_count.get(id(smtp), (-1, now))
    if count != seen:
        _last_count[id(smtp)] = (count, now)
        return False
    return now - since >= seconds


SCENARIOS = {
    "latency_default": latency_default,
    "burst": burst,
    "email_throughput": email_throughput,
    "throughput_default": throughput_default,
    "alert_storm_default": alert_storm_default,
}
