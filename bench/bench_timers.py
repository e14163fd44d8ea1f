"""Stored deadlines: how late they fire (``timers``) and a restart on a big store (``restart``).

Both pre-fill the store with the daemon's own engine (:mod:`bench.bench_prefill`): ticket
``i`` was paged at ``now_i``, nobody acknowledged, so its rung-1 ack deadline is
``now_i + 15m``, and firing it pages rung 2 (an SMS to FakeTwilio). The pre-filled pages
are marked sent, as if they went out before the daemon started.

* ``timers``: 100,000 open tickets whose deadlines are spread evenly over 10 minutes
  starting shortly after the daemon is up. Lateness of each deadline = the fired page's
  outbox ``created_at`` (the daemon's "now" when it fired) - the deadline; and, end to
  end, the arrival of that page at FakeTwilio - the deadline.
* ``restart``: 100,000 open tickets, 10 % of them overdue (their deadlines passed while
  the daemon was down): process start -> READY=1 (on a NOTIFY_SOCKET we listen on) and
  -> every overdue deadline fired.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.bench_common import (
    Options,
    Outcome,
    at_most,
    count,
    first_arrivals,
    fresh_dir,
    info,
    percentiles,
    query,
    stack,
    ticket_id,
    wait_until,
)
from bench.bench_memory import prefill

ACK_WITHIN = 15 * 60.0


class NotifyListener:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET; stamps each message."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.unlink(missing_ok=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self._stop = False
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        while not self._stop:
            try:
                data = self.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.messages.append((time.monotonic(), data.decode(errors="replace")))

    def first(self, text: str) -> float | None:
        for at, message in list(self.messages):
            if text in message.splitlines():
                return at
        return None

    def close(self) -> None:
        self._stop = True
        self._thread.join(timeout=2)
        self.sock.close()
        self.path.unlink(missing_ok=True)


@contextlib.contextmanager
def notify_socket(path: Path) -> Iterator[NotifyListener]:
    listener = NotifyListener(path)
    try:
        yield listener
    finally:
        listener.close()


# --- timers ----------------------------------------------------------------------------


def _calibrate(config: Path, work: Path, people: int) -> float:
    """Pre-fill rate (tickets/s) on a throw-away copy of the config's store."""
    scratch = work / "calibrate"
    shutil.copytree(config, scratch)
    shutil.rmtree(scratch / "state", ignore_errors=True)
    now = time.time()
    summary = prefill(str(scratch), 5000, people, first_now=now - 60, last_now=now)
    shutil.rmtree(scratch)
    return float(summary["per_second"])


def timers(opts: Options) -> Outcome:
    work = fresh_dir(opts, "timers")
    people = 1000
    tickets = opts.scale(100_000, 10_000)
    spread = opts.seconds(600.0, 60.0)
    details: dict[str, Any] = {"people": people, "tickets": tickets, "spread_s": spread}
    with stack(work, people=people) as parts:
        rate = _calibrate(parts.config, work, people)
        estimate = tickets / rate
        # The first deadline: after the pre-fill (with room to spare) and a daemon start.
        first_due = time.time() + estimate * 2.0 + 20.0
        fill = prefill(
            str(parts.config),
            tickets,
            people,
            first_now=first_due - ACK_WITHIN,
            last_now=first_due - ACK_WITHIN + spread,
        )
        due = {t: float(d) for t, d in query(parts.db, "SELECT ticket_id, due FROM timers")}
        last_due = max(due.values())
        started = time.time()
        parts.start_daemon()
        ready = time.time()
        details.update(
            calibrated_prefill_per_s=rate,
            prefill=fill,
            daemon_ready_before_first_deadline_s=first_due - ready,
            daemon_start_s=ready - started,
        )
        # Until every pre-filled deadline has fired (each moves on to rung 2's, +30m).
        fired, _ = wait_until(
            lambda: (
                time.time() > last_due
                and count(parts.db, "SELECT COUNT(*) FROM timers WHERE due <= ?", (last_due,)) == 0
            ),
            timeout=max(0.0, last_due - time.time()) + 180,
            interval=0.5,
        )
        wait_until(lambda: len(first_arrivals(parts.sink.requests())) >= len(due), timeout=60)
        offset = time.time() - time.monotonic()
        arrivals = first_arrivals(parts.sink.requests())
        created = dict(
            query(
                parts.db,
                "SELECT ticket_id, MIN(created_at) FROM outbox"
                " WHERE provider_id IS NOT 'prefill' GROUP BY ticket_id",
            )
        )
    late = [created[t] - d for t, d in due.items() if t in created]
    end_to_end = [arrivals[t] + offset - d for t, d in due.items() if t in arrivals]
    early = sum(1 for x in late if x < 0)
    details.update(
        all_fired=fired,
        fired=len(late),
        paged=len(end_to_end),
        fired_early=early,
        lateness_ms=percentiles(late),
        deadline_to_twilio_ms=percentiles(end_to_end),
    )
    lat, e2e = details["lateness_ms"], details["deadline_to_twilio_ms"]
    return Outcome(
        figures=[
            at_most("deadline fired late by, p99", lat["p99"], "ms", 100),
            info("deadline fired late by, p50", lat["p50"], "ms"),
            info("deadline fired late by, max", lat["max"], "ms"),
            info("deadline -> page at Twilio, p99", e2e["p99"], "ms"),
            info("deadlines fired", len(late), f"of {tickets:,}"),
        ],
        details=details,
        notes=[
            f"{tickets:,} open tickets, deadlines evenly over {spread:.0f} s"
            f" ({tickets / spread:.0f}/s), each firing pages rung 2 by SMS",
            "fired late = outbox created_at of the rung-2 page (the daemon's clock when"
            " it fired) - the stored deadline",
        ],
    )


# --- restart ---------------------------------------------------------------------------


def _start_timed(parts: Any, listener: NotifyListener) -> tuple[float, float, float | None]:
    """Start the daemon; (monotonic start, epoch start, seconds to READY=1 or None)."""
    t0, epoch0 = time.monotonic(), time.time()
    parts.start_daemon(env={"NOTIFY_SOCKET": str(listener.path)}, wait=False)
    wait_until(lambda: listener.first("READY=1") is not None, timeout=120, interval=0.005)
    ready = listener.first("READY=1")
    return t0, epoch0, (ready - t0) if ready is not None else None


def restart(opts: Options) -> Outcome:
    work = fresh_dir(opts, "restart")
    people = 200
    tickets = opts.scale(100_000, 20_000)
    overdue = tickets // 10
    details: dict[str, Any] = {"people": people, "tickets": tickets, "overdue": overdue}
    with stack(work, people=people) as parts, notify_socket(work / "notify.sock") as listener:
        # Baseline: the same daemon and config on an empty store.
        _, _, empty_ready = _start_timed(parts, listener)
        parts.stop_daemon()
        listener.messages.clear()
        shutil.rmtree(parts.db.parent)

        now = time.time()
        # Paged 16-20 minutes ago: deadlines passed 1-5 minutes ago, while "down".
        late_fill = prefill(
            str(parts.config), overdue, people, first_now=now - 1200, last_now=now - 960
        )
        # Paged in the last five minutes: deadlines 10-15 minutes ahead.
        rest_fill = prefill(
            str(parts.config),
            tickets - overdue,
            people,
            first_now=now - 300,
            last_now=now,
            first_number=overdue,
        )
        t0, epoch0, ready_s = _start_timed(parts, listener)
        due_now = count(parts.db, "SELECT COUNT(*) FROM timers WHERE due <= ?", (epoch0,))
        fired, fired_s = wait_until(
            lambda: count(parts.db, "SELECT COUNT(*) FROM timers WHERE due <= ?", (epoch0,)) == 0,
            timeout=600,
            interval=0.05,
        )
        fired_at = time.monotonic() - t0
        wanted = {ticket_id(i) for i in range(overdue)}
        paged, _ = wait_until(
            lambda: wanted <= first_arrivals(parts.sink.requests()).keys(),
            timeout=600,
            interval=0.2,
        )
        paged_at = time.monotonic() - t0
        ready_log = parts.daemon.wait_for("pager ready", timeout=5) if parts.daemon else ""
        details.update(
            empty_store_ready_s=empty_ready,
            prefill_overdue=late_fill,
            prefill_rest=rest_fill,
            store_bytes=sum(p.stat().st_size for p in parts.db.parent.iterdir() if p.is_file()),
            ready_s=ready_s,
            overdue_at_start=due_now,
            all_overdue_fired=fired,
            overdue_fired_s=fired_at if fired else None,
            all_overdue_paged=paged,
            overdue_paged_s=paged_at if paged else None,
            ready_log_line=ready_log,
            sms_requests=len(sms := [r for r in parts.sink.requests() if r.kind == "sms"]),
            sms_bundled=sum(1 for r in sms if "pages:" in r.body),
            notify_messages=[m for _, m in listener.messages][:10],
        )
        del fired_s
    return Outcome(
        figures=[
            at_most(f"start -> READY=1, {tickets:,} open tickets", ready_s, "s", 5),
            info("start -> READY=1, empty store", empty_ready, "s"),
            info(
                f"start -> all {overdue:,} overdue deadlines fired",
                details["overdue_fired_s"],
                "s",
            ),
            info("start -> all overdue pages at Twilio", details["overdue_paged_s"], "s"),
        ],
        details=details,
        notes=[
            "READY=1 read from a NOTIFY_SOCKET datagram socket the benchmark binds;"
            " the clock starts just before the process is spawned",
        ],
    )


SCENARIOS = {"timers": timers, "restart": restart}
