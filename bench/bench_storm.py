"""``alert_storm``: 10,000 tickets in 10 s, all for one on-call person, default limits.

(``--quick``: 2,000 tickets in 2 s.)

With ``twilio.max_sms_per_second: 1`` and ``limits.sms_per_person: 10/15m`` the person
must not get 10,000 SMS: what the limits hold back waits and goes out bundled. Then the
person replies ``ack all`` (a signed inbound-SMS webhook, as Twilio would post it) and
we time how long until every ticket is acknowledged and no page is left to send.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import aiohttp

from bench.bench_common import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    Options,
    Outcome,
    Publisher,
    Stack,
    await_until,
    committed_events,
    count,
    fanout_event,
    first_arrivals,
    fresh_dir,
    info,
    now_utc,
    stack,
)
from pager.store.sqlite.codec import field_path
from testkit.fake_twilio import FakeTwilio

TICKETS = 10_000
PHONE = "+15550000000"  # p00000, the only person of a one-person fan-out config
#: Twilio refuses a message body longer than this (error 21617).
TWILIO_MAX_BODY = 1600
DEFAULT_LIMITS = {
    "twilio": {"max_sms_per_second": 1},
    "limits": {"sms_per_person": "10/15m", "calls_per_person": "5/15m"},
}


def _unacknowledged(db: Any) -> int:
    return count(
        db,
        "SELECT COUNT(*) FROM tickets WHERE closed = 0"
        f" AND (json_extract(state, '{field_path('owner')}') IS NULL"
        f" OR json_extract(state, '{field_path('ack_deadline')}') IS NOT NULL)",
    )


def _pending_pages(db: Any) -> int:
    return count(
        db,
        "SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')"
        " AND kind IN ('page', 'handoff')",
    )


async def _storm(parts: Stack, rate: float, seconds: float) -> dict[str, Any]:
    db = parts.db
    committed = committed_events(db)
    at = now_utc()
    out: dict[str, Any] = {}
    async with Publisher(parts.broker.port) as pub:
        started = time.monotonic()
        published = await pub.open_loop(
            lambda i: fanout_event(i, 1, at, "storm"), rate=rate, duration=seconds
        )
        out["publish_s"] = time.monotonic() - started
        ingested, _ = await await_until(lambda: committed() >= published, timeout=600)
        out["ingest_complete"] = ingested
        out["ingest_s"] = time.monotonic() - started

    def sms() -> list[Any]:
        return [r for r in parts.sink.requests() if r.kind == "sms"]

    # Whatever the limits let through: wait until nothing new arrived for 3 s.
    seen, quiet_since = -1, time.monotonic()
    while time.monotonic() - quiet_since < 3.0:
        now_seen = len(sms())
        if now_seen != seen:
            seen, quiet_since = now_seen, time.monotonic()
        await asyncio.sleep(0.2)
    before = sms()
    out["published"] = published
    out["sms_before_ack"] = len(before)
    out["tickets_named_in_sms"] = len(first_arrivals(before))
    out["largest_sms_chars"] = max((len(r.body) for r in before), default=0)
    out["sms_over_twilio_limit"] = sum(1 for r in before if len(r.body) > TWILIO_MAX_BODY)
    out["sms_arrivals_s"] = [round(r.at - started, 3) for r in before]
    out["unacknowledged_before_ack"] = _unacknowledged(db)
    out["pending_pages_before_ack"] = _pending_pages(db)

    url = f"http://127.0.0.1:{parts.http_port}/twilio/sms"
    form = {
        "MessageSid": "SM" + "a" * 32,
        "AccountSid": ACCOUNT_SID,
        "From": PHONE,
        "To": "+15550000001",
        "Body": "ack all",
        "NumMedia": "0",
    }
    async with FakeTwilio(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as fake:
        headers = {"X-Twilio-Signature": fake.sign(url, form)}
    timeout = aiohttp.ClientTimeout(total=600)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        acked = time.monotonic()
        async with session.post(url, data=form, headers=headers) as resp:
            out["ack_status"] = resp.status
            out["ack_answer"] = (await resp.text())[:300]
        out["ack_response_s"] = time.monotonic() - acked
    stopped, _ = await await_until(
        lambda: _unacknowledged(db) == 0 and _pending_pages(db) == 0, timeout=600, interval=0.05
    )
    out["escalation_stopped"] = stopped
    out["ack_to_stopped_s"] = time.monotonic() - acked
    sent_before = len(sms())
    await asyncio.sleep(5.0)
    out["sms_after_ack_within_5s"] = len(sms()) - sent_before
    out["sms_total"] = len(sms())
    return out


def alert_storm(opts: Options) -> Outcome:
    work = fresh_dir(opts, "alert_storm")
    tickets = opts.scale(TICKETS, 2_000)
    seconds = tickets / 1000.0
    with stack(work, people=1, settings=DEFAULT_LIMITS) as parts:
        parts.start_daemon()
        run = asyncio.run(_storm(parts, rate=1000.0, seconds=seconds))
    return Outcome(
        figures=[
            info(f"SMS that reached Twilio for {tickets:,} pages", run["sms_before_ack"], "SMS"),
            info("tickets named in those SMS", run["tickets_named_in_sms"], ""),
            info("largest SMS body", run["largest_sms_chars"], "chars"),
            info(f"{tickets:,} events published -> all committed", run["ingest_s"], "s"),
            info("'ack all' webhook answered after", run["ack_response_s"], "s"),
            info("'ack all' -> every escalation stopped", run["ack_to_stopped_s"], "s"),
        ],
        details={"tickets": tickets, "limits": DEFAULT_LIMITS, **run},
        notes=[
            f"one person (SMS only) on call; {tickets:,} opened events published at 1,000/s",
            f"{run['sms_over_twilio_limit']} SMS were longer than Twilio's"
            f" {TWILIO_MAX_BODY}-character limit (real Twilio refuses them, error 21617)",
            f"{run['sms_after_ack_within_5s']} SMS arrived in the 5 s after escalation stopped",
        ],
    )


SCENARIOS = {"alert_storm": alert_storm}
