"""The ticket's deadlines, as ONE table: what each is, when it is due, what firing does.

:func:`next_deadline` and the machine's firing loop both read :data:`DEADLINES`, so they
cannot disagree. While the ticket waits on the customer (rule 8) none is due. When
several deadlines fall on the same instant, the one with the lowest ``priority`` fires
first (then the loop looks again: the others may have moved).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from operator import attrgetter
from typing import TYPE_CHECKING

from pager.core.ladder.state import StateView, TicketState

if TYPE_CHECKING:
    from pager.core.ladder.firing import Firing


@dataclass(frozen=True, slots=True)
class Deadline:
    """One kind of deadline: ``due(s)`` when ``guard(s)`` holds (no guard: always);
    ``fire`` handles it. Most are one field of the state, read by an ``attrgetter``
    (the table is read three times per fired ticket: keep it cheap)."""

    kind: str
    priority: int
    guard: Callable[[StateView], bool] | None
    due: Callable[[StateView], datetime | None]
    fire: Callable[[Firing], None]


def _not_paused(s: StateView) -> bool:
    return not s.paused


def _respond_by_open(s: StateView) -> bool:
    return not s.responded and not s.breached and not s.paused


def _remind_open(s: StateView) -> bool:
    return not s.paused and s.status_due is not None and not s.reminded


DEADLINES: tuple[Deadline, ...] = tuple(
    sorted(
        (
            # A notification step of a page already sent (voice at +5 min...).
            Deadline(
                "step",
                0,
                None,
                lambda s: s.steps[0].due if s.steps else None,
                lambda m: m.fire_step(),
            ),
            # Rule 1: a low-urgency ticket opened outside hours is paged when they open.
            Deadline(
                "first_page", 1, None, attrgetter("first_page_at"), lambda m: m.fire_first_page()
            ),
            # Rule 4.
            Deadline(
                "respond_by",
                2,
                _respond_by_open,
                attrgetter("respond_by"),
                lambda m: m.fire_breach(),
            ),
            # Rule 3.
            Deadline("ack", 3, None, attrgetter("ack_deadline"), lambda m: m.fire_ack_deadline()),
            # Rule 6: the reminder, then the due time.
            Deadline("remind", 4, _remind_open, attrgetter("remind_at"), lambda m: m.fire_remind()),
            Deadline(
                "status", 5, _not_paused, attrgetter("status_due"), lambda m: m.fire_status_due()
            ),
            # Rule 10.
            Deadline(
                "shift", 6, None, attrgetter("shift_check_at"), lambda m: m.fire_shift_check()
            ),
        ),
        key=lambda d: d.priority,
    )
)


def due_now(s: StateView) -> tuple[datetime, Deadline] | None:
    """The earliest armed deadline and its kind (lowest priority among equals)."""
    if s.closed or s.paused:
        return None  # rule 8: while waiting on the customer nothing fires
    best: tuple[datetime, Deadline] | None = None
    for deadline in DEADLINES:
        guard = deadline.guard
        if guard is not None and not guard(s):
            continue
        at = deadline.due(s)
        if at is not None and (best is None or at < best[0]):
            best = (at, deadline)
    return best


def next_deadline(state: TicketState) -> datetime | None:
    """The earliest instant at which ``step(state, Tick(), t)`` would do something."""
    found = due_now(state)
    return found[0] if found is not None else None
