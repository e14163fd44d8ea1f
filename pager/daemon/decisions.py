"""One log line per decision about a ticket: who or what acknowledged or escalated it,
which ticket, and why (a person's SMS, call keypress or ``pager ack``, the desk, or a
timer). The audit log holds the same facts; these lines put them in the journal.

Every line starts ``ticket=ID`` so that ``journalctl | grep ticket=T-1042`` shows a
ticket's whole story.
"""

from __future__ import annotations

import logging

from pager.core.ladder import (
    Acknowledge,
    EscalateNow,
    EventInput,
    Input,
    Record,
    Tick,
    TicketState,
)
from pager.daemon.burstlog import BurstLog

log = logging.getLogger("pager.daemon.decisions")
#: Decision lines are capped per second like the event and send lines (:class:`BurstLog`):
#: the timer's come in storms (a restart past thousands of deadlines, a desk outage's
#: tickets escalating together), and a person's too when one reply decides thousands
#: (``ACK ALL`` in the alert storm bench: its reply took 1.8-2.0 s with a line per ticket,
#: 1.1 s without). Each kind has its own allowance, so a timer storm never hides a person's
#: acknowledgement; the audit log keeps every decision. See :func:`flush_decision_logs`.
timer_log = BurstLog(log, "timer decisions")
people_log = BurstLog(log, "decisions by people")


def flush_decision_logs() -> None:
    """Write how many decisions the last second left out, if any (store thread)."""
    timer_log.flush()
    people_log.flush()


def _who(inp: Input, by: str | None) -> str:
    """``ana via sms`` / ``bo via the desk`` / ``the desk``."""
    if isinstance(inp, Acknowledge | EscalateNow):
        return f"{inp.person} via {inp.via}"
    if isinstance(inp, EventInput):
        return f"{by} via the desk" if by else "the desk"
    return by or "the timer"


def log_decisions(
    before: TicketState | None, inp: Input, after: TicketState, records: list[Record]
) -> None:
    """Log the acknowledgements and escalations one step decided."""
    if not log.isEnabledFor(logging.INFO):
        return
    ticket = after.ticket_id
    emit = timer_log.info if isinstance(inp, Tick) else people_log.info
    escalated = False
    for rec in records:
        if rec.action == "ack":
            emit(
                "ticket=%s acknowledged by %s at rung %d: %s",
                ticket,
                _who(inp, rec.by),
                after.rung,
                rec.detail,
            )
        elif rec.action == "escalate":
            escalated = True
            emit(
                "ticket=%s escalated to rung %d by %s: %s",
                ticket,
                after.rung,
                _who(inp, rec.by),
                rec.detail,
            )
        elif rec.action == "breach":
            emit("ticket=%s SLA breached at rung %d: %s", ticket, after.rung, rec.detail)
    if isinstance(inp, Tick) and before is not None and not escalated:
        if after.rung > before.rung:
            breached = any(rec.action == "breach" for rec in records)
            why = (
                "respond-by passed with no acknowledgement"
                if breached
                else f"rung {before.rung} did not acknowledge in time"
            )
            emit("ticket=%s escalated to rung %d by the timer: %s", ticket, after.rung, why)
        elif after.repeats > before.repeats:
            emit(
                "ticket=%s paging rung %d again by the timer (repeat %d): nobody acknowledged",
                ticket,
                after.rung,
                after.repeats,
            )
    if isinstance(inp, Acknowledge) and not any(rec.action == "ack" for rec in records):
        emit(
            "ticket=%s acknowledgement by %s changed nothing: already theirs",
            ticket,
            _who(inp, None),
        )


def log_ack_all(person: str, acked: int, failed: int) -> None:
    """One line for a whole ``ACK ALL`` reply (its per-ticket lines are capped)."""
    log.info("ack all by %s via sms: %d acknowledged, %d could not be", person, acked, failed)


def log_refused(inp: Input, ticket_id: str, reason: str) -> None:
    """A person's acknowledgement or escalation the ladder refused."""
    if isinstance(inp, Acknowledge | EscalateNow):
        what = "acknowledgement" if isinstance(inp, Acknowledge) else "escalation"
        people_log.info("ticket=%s %s by %s refused: %s", ticket_id, what, _who(inp, None), reason)
