"""Reconciliation: what pager decided and stored, against what the providers received.

Three sources, compared after a fault run:

* **decided**: the store's audit table (every ``Notify`` the engine emitted, one line
  each) and, for tickets nobody touched, ``pager simulate --json`` on the same events and
  config (:func:`simulate_decisions`): the live daemon must have decided the same pages.
* **stored**: the outbox, one row per notification (unique ``key``), with its final state.
* **received**: every request FakeTwilio accepted and every mail the SMTP server took.

:func:`reconcile` matches received items to outbox rows: an SMS by its exact body (or, in
a bundle, by the row's bundle line), a call by the token in its answer URL, a mail by
recipient and subject. What does not match is reported: rows never delivered (lost),
rows delivered more than once (duplicates, with arrival times so the caller can check
them against the kill -9 instants), deliveries of rows the store says were cancelled,
and deliveries no row explains.
"""

from __future__ import annotations

import collections
import contextlib
import itertools
import json
import re
import sqlite3
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from testkit.daemon import PAGER
from testkit.fake_twilio import TwilioRequest

#: The first line of a bundled SMS (relay.bundle_body / render.sms_bundle).
_BUNDLE_HEADER = re.compile(r"^\d+ (pager messages|pages|alerts):$")
_BUNDLE_FOOTER = re.compile(r"^Reply .*(ACK ALL|ack all)", re.IGNORECASE)
#: A bundle line of render.sms_bundle: ``7) SEV1 T-1 Acme: down``, ``FYI SEV2 T-3``,
#: ``Status due 03:00: T-4 Acme``, ``OVERDUE status: T-5``; its reply code and ticket
#: identify the row (the rest is shortened to fit, differently per bundle).
_LINE_CODE = re.compile(r"^(\d+)\) ")
_LINE_TICKET = re.compile(r"(?:SEV\d+ |[Ss]tatus(?: due [0-9:]+Z?)?: )(\S+?)(?=:|\s|$)")
_TOKEN = re.compile(r"/twilio/voice/answer/([A-Za-z0-9_-]+)")
#: Audit actions that are notifications (they carry ``to`` and ``via``).
#: Twilio refuses a longer SMS body (error 21617); FakeTwilio does not check it.
TWILIO_MAX_BODY = 1600
NOTIFY_ACTIONS = frozenset(
    {"page", "inform", "remind", "overdue", "handoff", "unacknowledged", "closed"}
)

Decision = tuple[str, int, str, str]  # (action, rung, to, via)


@dataclass(frozen=True)
class Row:
    """One outbox row as the store holds it at the end of a run."""

    id: int
    key: str
    ticket_id: str
    person: str
    channel: str
    address: str
    kind: str
    subject: str
    body: str
    bundle_line: str
    token: str
    state: str
    attempts: int
    created_at: float
    sent_at: float | None
    code: str | None
    error: str | None

    def line(self) -> str:
        """The key of this row's line in a bundled SMS (see :func:`line_key`)."""
        return f"{self.code or ''}|{self.ticket_id}"

    def __str__(self) -> str:
        return (
            f"#{self.id} {self.key} {self.channel}->{self.person} {self.kind} "
            f"state={self.state} attempts={self.attempts}"
        )


@dataclass(frozen=True)
class Item:
    """One thing a provider received: ``key`` is what identifies it (see module doc)."""

    channel: str
    address: str
    key: str
    at: float
    bundled: bool = False


def load_rows(db_path: Path) -> list[Row]:
    with contextlib.closing(
        sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10.0)
    ) as db:
        rows = db.execute(
            "SELECT id, key, ticket_id, person, channel, address, kind, subject, body,"
            " bundle_line, token, state, attempts, created_at, sent_at, code, error"
            " FROM outbox ORDER BY id"
        ).fetchall()
    return [Row(*r) for r in rows]


def received_items(
    requests: Iterable[TwilioRequest], mails: Iterable[tuple[Any, float]]
) -> list[Item]:
    """Every accepted SMS (bundles split into their lines), call and mail, with arrival times.

    ``mails`` pairs each received mail (anything with ``rcpt_tos`` and ``subject``) with
    its arrival time.
    """
    items: list[Item] = []
    for request in requests:
        if not request.accepted:
            continue
        to = request.to or ""
        if request.kind == "sms":
            body = request.body or ""
            lines = body.split("\n")
            if len(lines) > 1 and _BUNDLE_HEADER.match(lines[0]):
                for line in lines[1:]:
                    if not _BUNDLE_FOOTER.match(line):
                        items.append(Item("sms", to, line_key(line), request.at, bundled=True))
            else:
                items.append(Item("sms", to, body, request.at))
        else:
            found = _TOKEN.search(request.url or "")
            items.append(
                Item("voice", to, found.group(1) if found else request.url or "", request.at)
            )
    for mail, at in mails:
        subject = " ".join(str(mail.subject).split())
        for rcpt in mail.rcpt_tos:
            items.append(Item("email", rcpt, subject, at))
    return items


def line_key(line: str) -> str:
    """``CODE|TICKET`` of a bundle line (the line itself when it names no ticket)."""
    code = found.group(1) if (found := _LINE_CODE.match(line)) else ""
    ticket = _LINE_TICKET.search(line)
    return f"{code}|{ticket.group(1)}" if ticket else line


def oversized_sms(requests: Iterable[TwilioRequest]) -> list[int]:
    """Lengths of the accepted SMS bodies real Twilio would have refused as too long."""
    return [
        len(r.body or "")
        for r in requests
        if r.kind == "sms" and r.accepted and len(r.body or "") > TWILIO_MAX_BODY
    ]


def _keys(row: Row) -> tuple[tuple[str, str, str], ...]:
    """The keys a delivery of ``row`` may arrive under, most specific first."""
    if row.channel == "sms":
        return (("sms", row.address, row.body), ("sms-line", row.address, row.line()))
    if row.channel == "voice":
        return (("voice", row.address, row.token),)
    return (("email", row.address, " ".join(row.subject.split())),)


def _item_key(item: Item) -> tuple[str, str, str]:
    return ("sms-line" if item.bundled else item.channel, item.address, item.key)


@dataclass
class Reconciliation:
    rows: list[Row]
    items: list[Item]
    deliveries: dict[int, list[float]] = field(default_factory=dict)
    unfinished: list[Row] = field(default_factory=list)
    missing: list[Row] = field(default_factory=list)
    duplicates: list[tuple[Row, list[float]]] = field(default_factory=list)
    delivered_though_unsent: list[tuple[Row, float]] = field(default_factory=list)
    unexplained: list[Item] = field(default_factory=list)
    failed_without_fallback: list[Row] = field(default_factory=list)

    @property
    def lost(self) -> list[Row]:
        """Notifications that never reached anyone: undelivered, or failed with no fallback."""
        return self.unfinished + self.missing + self.failed_without_fallback

    def duplicates_per_kill(
        self, kills: Sequence[tuple[float, float]], *, window: float = 1.0
    ) -> tuple[list[int], list[str]]:
        """Count each duplicate against the kill -9 that explains it (SPEC section 9).

        ``kills`` are (signal sent, process reaped) instants. A repeat is explained when
        the first delivery arrived at most ``window`` seconds before the kill and no
        later than just after the process was reaped (requests it wrote before dying
        reach the fake a little later), the repeat came after the kill, and the row was
        claimed again (``attempts`` >= 2: the start-up requeue). Returns (duplicates per
        kill, the repeats no kill explains).
        """
        per_kill = [0] * len(kills)
        problems: list[str] = []
        slack = 0.5
        for row, arrivals in self.duplicates:
            for first, again in itertools.pairwise(arrivals):
                explains = [
                    i
                    for i, (sent, reaped) in enumerate(kills)
                    if sent - window <= first <= reaped + slack and again > sent
                ]
                if not explains or row.attempts < 2:
                    shown = [(round(a, 3), round(b, 3)) for a, b in kills]
                    problems.append(
                        f"{row} delivered at {first:.3f} and again at {again:.3f};"
                        f" no kill explains it (kills {shown})"
                    )
                    continue
                per_kill[explains[-1]] += 1
        return per_kill, problems

    def summary(self) -> str:
        states = collections.Counter(r.state for r in self.rows)
        lines = [
            f"outbox rows: {len(self.rows)} {dict(states)}; received items: {len(self.items)}",
            f"lost: {len(self.lost)} (unfinished {len(self.unfinished)}, never received"
            f" {len(self.missing)}, failed without fallback {len(self.failed_without_fallback)})",
            f"duplicates: {len(self.duplicates)}"
            f" {dict(collections.Counter(row.channel for row, _ in self.duplicates))};"
            " delivered though the store says not sent:"
            f" {len(self.delivered_though_unsent)}; unexplained: {len(self.unexplained)}",
        ]
        for label, entries in (
            ("unfinished", self.unfinished),
            ("never received", self.missing),
            ("failed without fallback", self.failed_without_fallback),
        ):
            lines += [f"  {label}: {row}" for row in entries[:10]]
        lines += [
            f"  duplicate: {row} at {[round(a, 3) for a in at]}" for row, at in self.duplicates[:10]
        ]
        lines += [
            f"  delivered though the store says not sent: {row} at {at:.3f}"
            for row, at in self.delivered_though_unsent[:10]
        ]
        lines += [f"  unexplained: {item}" for item in self.unexplained[:10]]
        return "\n".join(lines)


def reconcile(rows: Sequence[Row], items: Sequence[Item]) -> Reconciliation:
    """Match ``items`` to ``rows`` (see the module docstring); nothing is asserted here."""
    result = Reconciliation(list(rows), list(items))
    waiting: dict[tuple[str, str, str], list[float]] = collections.defaultdict(list)
    for item in sorted(items, key=lambda i: i.at):
        waiting[_item_key(item)].append(item.at)
    sent = [r for r in rows if r.state == "sent"]
    # First pass: every row the store calls sent takes one delivery.
    for row in sent:
        result.deliveries[row.id] = []
        for key in _keys(row):
            if waiting.get(key):
                result.deliveries[row.id].append(waiting[key].pop(0))
                break
        else:
            result.missing.append(row)
    # Second pass: what is left over is a repeat of a sent row, or of one that should
    # never have gone out, or nothing pager wrote at all.
    by_key: dict[tuple[str, str, str], list[Row]] = collections.defaultdict(list)
    for row in rows:
        for key in _keys(row):
            by_key[key].append(row)
    for key, arrivals in waiting.items():
        for at in arrivals:
            candidates = by_key.get(key, [])
            delivered = [r for r in candidates if r.state == "sent" and result.deliveries.get(r.id)]
            others = [r for r in candidates if r.state != "sent"]
            if delivered:
                row = min(delivered, key=lambda r: abs(result.deliveries[r.id][0] - at))
                result.deliveries[row.id].append(at)
            elif others:
                result.delivered_though_unsent.append((others[0], at))
            else:
                result.unexplained.append(Item(key[0], key[1], key[2], at))
    for row in sent:
        got = sorted(result.deliveries.get(row.id, []))
        if len(got) > 1:
            result.duplicates.append((row, got))
    result.unfinished = [r for r in rows if r.state in ("pending", "sending")]
    keys = {r.key: r for r in rows}
    for row in rows:
        if row.state != "failed" or "/fb-" in row.key:
            continue
        fallbacks = [
            r for k, r in keys.items() if k.startswith(row.key + "/fb-") and r.state == "sent"
        ]
        if not fallbacks and not _fallback_pointless(row):
            result.failed_without_fallback.append(row)
    return result


def _fallback_pointless(row: Row) -> bool:
    """Engine rule: an email about anything but a page, handoff or status has no fallback."""
    return row.channel == "email" and row.kind not in ("page", "handoff", "remind", "overdue")


def attempts_by_row(
    rows: Sequence[Row], requests: Iterable[TwilioRequest]
) -> dict[int, list[tuple[float, int]]]:
    """Every request to Twilio that carried each SMS or call row: (arrival, HTTP status).

    A plain SMS carries the row whose body it is; a bundle carries each row whose bundle
    line it lists; a call carries the row whose token its answer URL names. Rows whose
    body or bundle line another row shares (e.g. a call's SMS fallback for the same page)
    are left out: a request cannot tell them apart.
    """
    by_body: dict[tuple[str, str], list[Row]] = collections.defaultdict(list)
    by_line: dict[tuple[str, str], list[Row]] = collections.defaultdict(list)
    by_token: dict[str, Row] = {}
    for row in rows:
        if row.channel == "sms":
            by_body[(row.address, row.body)].append(row)
            by_line[(row.address, row.line())].append(row)
        elif row.channel == "voice":
            by_token[row.token] = row
    shared = {
        r.id for group in (*by_body.values(), *by_line.values()) if len(group) > 1 for r in group
    }
    out: dict[int, list[tuple[float, int]]] = collections.defaultdict(list)
    for request in requests:
        to = request.to or ""
        carried: list[Row] = []
        if request.kind == "sms":
            body = request.body or ""
            lines = body.split("\n")
            if len(lines) > 1 and _BUNDLE_HEADER.match(lines[0]):
                for line in lines[1:]:
                    carried += by_line.get((to, line_key(line)), [])
            else:
                carried += by_body.get((to, body), [])
        else:
            found = _TOKEN.search(request.url or "")
            if found and found.group(1) in by_token:
                carried.append(by_token[found.group(1)])
        for row in carried:
            if row.id not in shared:
                out[row.id].append((request.at, request.status))
    return dict(out)


# --- decisions --------------------------------------------------------------------------------


def audit_decisions(db_path: Path) -> dict[str, collections.Counter[Decision]]:
    """Per ticket, the notifications the live engine decided (from the audit table)."""
    with contextlib.closing(
        sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10.0)
    ) as db:
        rows = db.execute("SELECT ticket_id, action, detail FROM audit ORDER BY id").fetchall()
    out: dict[str, collections.Counter[Decision]] = collections.defaultdict(collections.Counter)
    for ticket, action, detail_text in rows:
        detail = json.loads(detail_text)
        if action in NOTIFY_ACTIONS and "to" in detail and "via" in detail:
            out[ticket][(action, int(detail.get("rung") or 0), detail["to"], detail["via"])] += 1
    return dict(out)


def simulate_decisions(
    config_dir: Path, events: Sequence[Mapping[str, Any]], workdir: Path
) -> dict[str, collections.Counter[Decision]]:
    """Per ticket, the notifications ``pager simulate --json`` decides for ``events``."""
    path = workdir / "simulate-events.jsonl"
    path.write_text("".join(json.dumps(dict(e)) + "\n" for e in events))
    done = subprocess.run(
        [str(PAGER), "simulate", "-c", str(config_dir), str(path), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise AssertionError(f"pager simulate failed ({done.returncode}):\n{done.stderr}")
    out: dict[str, collections.Counter[Decision]] = collections.defaultdict(collections.Counter)
    for line in done.stdout.splitlines():
        entry = json.loads(line)
        if entry["action"] in NOTIFY_ACTIONS and "to" in entry and "via" in entry:
            decision = (entry["action"], int(entry.get("rung") or 0), entry["to"], entry["via"])
            out[entry["ticket"]][decision] += 1
    return dict(out)


def touched_after(db_path: Path) -> dict[str, float]:
    """Per ticket, when it was first acknowledged or closed (the store's epoch seconds)."""
    with contextlib.closing(
        sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10.0)
    ) as db:
        acks = db.execute(
            "SELECT ticket_id, MIN(at) FROM audit WHERE action = 'ack' GROUP BY ticket_id"
        )
        cutoff = {ticket: float(at) for ticket, at in acks.fetchall()}
        closes = db.execute(
            "SELECT ticket_id, MIN(created_at) FROM outbox WHERE kind = 'closed' GROUP BY ticket_id"
        ).fetchall()
    for ticket, at in closes:
        cutoff[ticket] = min(cutoff.get(ticket, float(at)), float(at))
    return cutoff


def pages_after_ack(rows: Sequence[Row], cutoffs: Mapping[str, float]) -> list[Row]:
    """Page rows written after their ticket was acknowledged or closed (must be none)."""
    return [
        r
        for r in rows
        if r.kind in ("page", "handoff")
        and r.ticket_id in cutoffs
        and r.created_at > cutoffs[r.ticket_id]
    ]
