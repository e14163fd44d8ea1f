"""From the stored audit to the report's figures.

Why one module over 400 lines: one walk over the audit (:class:`_Walk`) feeds every
table of the report, and the table builders read its private per-ticket and per-person
accumulators; the period semantics below apply to all of them.

Period semantics (README "SLA and on-call load report"):

* **Tickets** are attributed by their opening instant: the SLA rows count the tickets
  opened in ``[start, end)``, each once, judged on what the audit holds before ``end``
  (a report over a past period does not change as time passes). A ticket opened before
  ``start`` is in no SLA row of this period, however late it closed.
* **Load** is attributed by the instant of each page, acknowledgement and escalation: a
  page in ``[start, end)`` counts whatever its ticket's opening.

A *page* is one request to acknowledge: a person's notification steps (SMS, e-mail, a
voice call minutes later) for one ticket, rung and reason are one page. An ack, or the
ladder repeating its last rung, ends every open page of the ticket; a later notification
starts a new one. Handoff pages (the incoming person of a follow-the-sun handoff) are
pages; the outgoing owner's e-mail, reminders, overdue SMS to the owner and informs are not.

An *escalation* is a rung paged for a reason other than the ticket's first page
(``opened``, ``calendar_opened``); one per rung paging, however many people it reached.
Entries written before pages carried a ``reason`` count as ``unspecified`` when the
rung is above 1.

A status report is *on time* unless an overdue fired since the last one: the overdue is
the *late* report, and the report that follows it is that same late one.
"""

from __future__ import annotations

import heapq
import math
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import groupby
from operator import itemgetter

from pager.core.model import BusinessDays, BusinessHours, Config, Duration, WallDuration
from pager.report.localday import NOWHERE, Home, homes
from pager.report.model import (
    Noisy,
    PersonLoad,
    RegionLoad,
    Report,
    RungEscalations,
    SlaRow,
    Spread,
    TierDay,
)
from pager.report.source import (
    REPEAT_PREFIX,
    STATUS_OVERDUE,
    STATUS_POSTED,
    AuditRow,
    TicketRow,
)

_EPOCH_DAY = date(1970, 1, 1)
FIRST_PAGE_REASONS = frozenset({"opened", "calendar_opened"})
UNSPECIFIED = "unspecified"
#: How many noisy tickets and customers the report lists.
TOP = 10


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (``p`` in 0..100) of ``values``; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def pct(part: int, whole: int) -> float | None:
    return None if whole == 0 else round(100.0 * part / whole, 1)


def format_duration(d: Duration) -> str:
    """A config duration as the config spells it."""
    if isinstance(d, WallDuration):
        minutes = int(d.delta.total_seconds() // 60)
        hours, rest = divmod(minutes, 60)
        if hours and rest:
            return f"{hours}h{rest:02d}m"
        return f"{hours}h" if hours else f"{minutes}m"
    if isinstance(d, BusinessHours):
        n = f"{d.hours:g}"
        return f"{n} business hour{'' if d.hours == 1 else 's'}"
    assert isinstance(d, BusinessDays)
    return f"{d.days} business day{'' if d.days == 1 else 's'}"


#: An open page of a person: (at, rung, reason, kind).
_Page = tuple[float, int | None, str | None, str]


@dataclass(slots=True)
class _Ticket:
    """What the walk learnt about one ticket opened in the period."""

    first_ack: float | None = None
    breached: bool = False
    on_time: int = 0
    late: int = 0
    #: Customer escalations: [rung, breached?] in order.
    customer: list[list[int | bool]] = field(default_factory=list)


@dataclass(slots=True)
class _Person:
    pages: int = 0
    tickets: set[str] = field(default_factory=set)
    periods: dict[str, int] = field(
        default_factory=lambda: {"working": 0, "night": 0, "weekend": 0, "holiday": 0}
    )
    by_hour: list[int] = field(default_factory=lambda: [0] * 24)
    ack_times: list[float] = field(default_factory=list)
    acks: int = 0
    handoffs: int = 0


class _Walk:
    """One pass over the audit, ticket by ticket, in id order."""

    def __init__(self, start: float, end: float, homes: dict[str, Home]) -> None:
        self.start, self.end = start, end
        self.homes = homes
        self.people: dict[str, _Person] = defaultdict(_Person)
        self.reasons: Counter[str] = Counter()
        self.ticket_pages: dict[str, int] = {}
        self.ticket_escalations: dict[str, int] = {}
        self.sla: dict[str, _Ticket] = {}

    def ticket(self, ticket_id: str, rows: Iterable[AuditRow], judged: bool) -> None:
        """Walk one ticket's entries; ``judged``: opened in the period (SLA figures)."""
        start, end = self.start, self.end
        t = _Ticket() if judged else None
        open_pages: dict[str, _Page] = {}
        escalated: set[tuple[float, int | None, str]] = set()
        customer_at: set[float] = set()
        overdue = False  # a status period ran out and no report has come since
        for _, _, at, action, to, by, rung, reason, kind, text in rows:
            inside = start <= at < end
            if action == "page" or action == "handoff":
                if action == "page":
                    kind = "page"
                elif kind != "handoff":
                    continue  # the outgoing owner's handoff e-mail is no page
                if to is None:
                    continue
                page = open_pages.get(to)
                if (
                    page is not None
                    and page[1] == rung
                    and page[3] == kind
                    and (reason is None or page[2] == reason)
                ):
                    continue  # a later step (voice, e-mail) of the same page
                open_pages[to] = (at, rung, reason, kind)
                if inside:
                    self._count_page(ticket_id, to, at)
                if kind == "page" and (reason or (rung or 0) > 1):
                    reason = reason or UNSPECIFIED
                    key = (at, rung, reason)
                    if reason not in FIRST_PAGE_REASONS and key not in escalated:
                        escalated.add(key)
                        if inside:
                            self.reasons[reason] += 1
                            counts = self.ticket_escalations
                            counts[ticket_id] = counts.get(ticket_id, 0) + 1
                        if reason == "customer" and t is not None and at not in customer_at:
                            customer_at.add(at)
                            t.customer.append([rung or 0, False])
            elif action == "ack":
                if inside and by is not None:
                    self._count_ack(by, open_pages.get(by), at)
                open_pages.clear()
                if t is not None and t.first_ack is None:
                    t.first_ack = at
            elif action == "breach":
                if t is not None:
                    if (kind or "respond_by") == "respond_by":
                        t.breached = True
                    elif t.customer:
                        t.customer[-1][1] = True
            elif action == "escalate":
                customer = text == "customer escalation"
                if customer and t is not None and at not in customer_at:
                    customer_at.add(at)
                    t.customer.append([rung or 0, False])
            elif text is not None and text.startswith(REPEAT_PREFIX):
                open_pages.clear()
            elif t is not None and text == STATUS_POSTED:
                if overdue:
                    overdue = False  # the report that was late: counted as late already
                else:
                    t.on_time += 1
            elif t is not None and text == STATUS_OVERDUE:
                t.late += 1
                overdue = True
        if t is not None:
            self.sla[ticket_id] = t

    def _count_page(self, ticket_id: str, person: str, at: float) -> None:
        p = self.people[person]
        p.pages += 1
        p.tickets.add(ticket_id)
        self.ticket_pages[ticket_id] = self.ticket_pages.get(ticket_id, 0) + 1
        hour, period = self.homes.get(person, NOWHERE).place(at)
        p.by_hour[hour] += 1
        p.periods[period] += 1

    def _count_ack(self, person: str, page: _Page | None, at: float) -> None:
        p = self.people[person]
        p.acks += 1
        if page is not None:
            p.ack_times.append(at - page[0])
            if page[3] == "handoff":
                p.handoffs += 1


def compute(
    config: Config,
    tickets: Sequence[TicketRow],
    audit: Sequence[AuditRow],
    start: datetime,
    end: datetime,
    tier: str | None = None,
) -> Report:
    """The report over ``[start, end)`` from the rows of :class:`~pager.report.source.Source`."""
    s, e = start.timestamp(), end.timestamp()
    facts = {t.ticket_id: t for t in tickets if tier is None or t.tier == tier}
    known = homes(config)
    walk = _Walk(s, e, known)
    for ticket_id, rows in groupby(audit, key=itemgetter(0)):
        fact = facts.get(ticket_id)
        if fact is not None:
            walk.ticket(ticket_id, rows, s <= fact.opened_at < e)
    for ticket_id, fact in facts.items():  # opened in the period, nothing audited yet
        if ticket_id not in walk.sla and s <= fact.opened_at < e:
            walk.sla[ticket_id] = _Ticket()
    report = Report(start, end, tier, tickets=len(walk.sla))
    report.sla = _sla_rows(config, facts, walk.sla)
    report.sla_over_time = _over_time(facts, walk.sla)
    report.escalations_by_reason = dict(sorted(walk.reasons.items(), key=lambda kv: -kv[1]))
    report.people = _people(config, known, walk.people)
    report.regions = _regions(report.people, walk.people)
    report.spreads = _spreads(config, walk.people)
    report.noisy_tickets, report.noisy_customers = _noisy(facts, walk)
    return report


def _respond_within(config: Config, tier: str, severity: int) -> str:
    found = config.tier(tier)
    if found is None or severity not in found[1].severities:
        return "?"
    return format_duration(found[1].severities[severity].respond_within)


def _rung_name(config: Config, tier: str, rung: int) -> str:
    found = config.tier(tier)
    if found is None or not 1 <= rung <= len(found[0].rungs):
        return f"rung {rung}"
    return found[0].rungs[rung - 1].name


def _sla_rows(config: Config, facts: dict[str, TicketRow], sla: dict[str, _Ticket]) -> list[SlaRow]:
    groups: dict[tuple[str, int], list[tuple[float, _Ticket]]] = {}
    for ticket_id, t in sla.items():
        _, tier, severity, _, opened = facts[ticket_id]
        members = groups.get((tier, severity))
        if members is None:
            members = groups[(tier, severity)] = []
        members.append((opened, t))
    rows: list[SlaRow] = []
    for (tier, severity), members in sorted(groups.items()):
        row = SlaRow(tier, severity, _respond_within(config, tier, severity), tickets=len(members))
        times: list[float] = []
        rungs: dict[int, RungEscalations] = {}
        for opened, t in members:
            if t.first_ack is not None:
                row.responded += 1
                times.append(t.first_ack - opened)
            if t.breached:
                row.breaches += 1
            elif t.first_ack is not None:
                row.met += 1
            else:
                row.pending += 1
            row.status_on_time += t.on_time
            row.status_late += t.late
            for rung, breached in t.customer:
                number = int(rung)
                entry = rungs.setdefault(
                    number, RungEscalations(number, _rung_name(config, tier, number))
                )
                entry.count += 1
                if breached:
                    entry.breached += 1
                else:
                    entry.met += 1
        row.breach_pct = pct(row.breaches, row.tickets)
        row.attainment_pct = pct(row.met, row.met + row.breaches)
        row.first_response_p50 = percentile(times, 50)
        row.first_response_p90 = percentile(times, 90)
        row.first_response_max = max(times, default=None)
        row.status_on_time_pct = pct(row.status_on_time, row.status_on_time + row.status_late)
        row.customer_escalations = [rungs[k] for k in sorted(rungs)]
        rows.append(row)
    return rows


def _over_time(facts: dict[str, TicketRow], sla: dict[str, _Ticket]) -> list[TierDay]:
    counts: dict[tuple[str, int], list[int]] = {}
    for ticket_id, t in sla.items():
        if t.first_ack is None and not t.breached:
            continue  # not decided yet
        fact = facts[ticket_id]
        key = (fact.tier, int(fact.opened_at // 86400))  # the UTC day, as epoch days
        cell = counts.get(key)
        if cell is None:
            cell = counts[key] = [0, 0]
        cell[0] += 1
        if not t.breached:
            cell[1] += 1
    return [
        TierDay(tier, _EPOCH_DAY + timedelta(days=day), decided, met, pct(met, decided))
        for (tier, day), (decided, met) in sorted(counts.items())
    ]


def _people(config: Config, known: dict[str, Home], walked: dict[str, _Person]) -> list[PersonLoad]:
    out: list[PersonLoad] = []
    for person_id in sorted(walked):
        p = walked[person_id]
        home = known.get(person_id, NOWHERE)  # paged, then removed from the config
        person = config.people.get(person_id)
        load = PersonLoad(
            person_id,
            person.name if person else person_id,
            home.region,
            home.timezone,
            pages=p.pages,
            tickets=len(p.tickets),
            nights=p.periods["night"],
            weekends=p.periods["weekend"],
            holidays=p.periods["holiday"],
            acks=p.acks,
            ack_p50=percentile(p.ack_times, 50),
            ack_p90=percentile(p.ack_times, 90),
            handoffs_taken=p.handoffs,
            by_hour=list(p.by_hour),
        )
        load.off_hours = load.nights + load.weekends + load.holidays
        out.append(load)
    return out


def _regions(people: list[PersonLoad], walked: dict[str, _Person]) -> list[RegionLoad]:
    regions: dict[str, RegionLoad] = {}
    tickets: dict[str, set[str]] = defaultdict(set)
    times: dict[str, list[float]] = defaultdict(list)
    for load in people:
        r = regions.setdefault(load.region, RegionLoad(load.region))
        r.people += 1
        r.pages += load.pages
        r.off_hours += load.off_hours
        r.acks += load.acks
        r.handoffs_taken += load.handoffs_taken
        tickets[load.region] |= walked[load.person].tickets
        times[load.region].extend(walked[load.person].ack_times)
    for name, r in regions.items():
        r.tickets = len(tickets[name])
        r.ack_p50 = percentile(times[name], 50)
    return [regions[k] for k in sorted(regions)]


def _spreads(config: Config, walked: dict[str, _Person]) -> list[Spread]:
    out: list[Spread] = []
    for name in sorted(config.rotations):
        members: list[str] = []
        for region in config.rotations[name].regions:
            members.extend(m for m in region.members if m not in members)
        pages = {m: walked[m].pages if m in walked else 0 for m in members}
        off = {
            m: sum(walked[m].periods[k] for k in ("night", "weekend", "holiday"))
            if m in walked
            else 0
            for m in members
        }
        values = list(pages.values())
        mean = statistics.fmean(values) if values else 0.0
        cv = round(statistics.pstdev(values) / mean, 2) if values and mean else None
        out.append(
            Spread(
                name, pages, off, min(values, default=0), max(values, default=0), round(mean, 2), cv
            )
        )
    return out


def _noisy(facts: dict[str, TicketRow], walk: _Walk) -> tuple[list[Noisy], list[Noisy]]:
    """The :data:`TOP` tickets and customers with the most pages, then escalations."""
    pages, escalations = walk.ticket_pages, walk.ticket_escalations
    for k in escalations:
        pages.setdefault(k, 0)
    keys = list(pages)
    top = heapq.nsmallest(TOP, keys, key=lambda k: (-pages[k], -escalations.get(k, 0), k))
    tickets = [Noisy(k, pages[k], escalations.get(k, 0), facts[k].customer) for k in top]
    by_pages: Counter[str] = Counter()
    by_escalations: Counter[str] = Counter()
    for k in keys:
        customer = facts[k].customer
        if customer is not None:
            by_pages[customer] += pages[k]
            by_escalations[customer] += escalations.get(k, 0)
    names = heapq.nsmallest(TOP, by_pages, key=lambda c: (-by_pages[c], -by_escalations[c], c))
    return tickets, [Noisy(c, by_pages[c], by_escalations[c]) for c in names]
