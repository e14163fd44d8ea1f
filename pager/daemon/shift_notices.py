"""Shift notices: "you are on call now" and a reminder ``lead`` before, for those who opt in.

A person with ``notify_shift: {via: sms|email, lead: 30m}`` in people.yaml gets, for each
shift of theirs (a maximal interval in which a rotation yields them, overrides applied,
so an override that removes them removes the notices too):

* a reminder at ``start - lead`` (when ``lead`` is not zero), and
* a notice at ``start``.

They go into the outbox like any other message (kind ``shift``, rate limits and retries
included) under an idempotency key made of rotation, person, shift start and kind, so a
restart or a second look never sends one twice. A notice is sent only while it is at most
``GRACE`` late (a daemon that was down for hours does not announce old shifts). Shifts
the rotation yields through its ``after_hours`` rotation are announced once, as that
rotation's own shifts.

:func:`due_notices` is the pure part; :class:`ShiftNotices` is the loop: it wakes at the
next notice's due time (or every ``POLL`` seconds, which also picks up config reloads).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from pager.core.model import Config
from pager.core.rotation import RotationResolver
from pager.daemon.engine import Engine, address_for
from pager.daemon.service import Service
from pager.store.types import NewMessage

log = logging.getLogger("pager.shift_notices")

#: How late a notice may still be sent.
GRACE = timedelta(minutes=10)
#: Longest sleep between looks (config reloads are noticed within it).
POLL = 60.0


@dataclass(frozen=True, slots=True)
class Notice:
    due: datetime
    key: str
    person: str
    rotation: str
    kind: str  # "start" or "reminder"
    start: datetime
    end: datetime
    region: str | None


def due_notices(
    config: Config, resolver: RotationResolver, start: datetime, end: datetime
) -> list[Notice]:
    """The notices due in ``[start, end)``, in due order (pure)."""
    subscribers = {pid: p.notify_shift for pid, p in config.people.items() if p.notify_shift}
    if not subscribers:
        return []
    lead_max = max(n.lead for n in subscribers.values())
    found: list[Notice] = []
    for rotation in config.rotations:
        # From a day before the window: the first shift is clipped there, so it is skipped.
        shifts = resolver.shifts(rotation, start - timedelta(days=1), end + lead_max)
        for i, shift in enumerate(shifts[1:], start=1):
            notice = subscribers.get(shift.person or "")
            if notice is None or shift.source == "after_hours" or shift.person is None:
                continue
            stamp = shift.start.strftime("%Y-%m-%dT%H:%M:%SZ")
            kinds = [("start", shift.start)]
            if notice.lead > timedelta(0):
                kinds.append(("reminder", shift.start - notice.lead))
            shift_end = shift.end
            if i == len(shifts) - 1:  # clipped at the range's end: ask for the real one
                shift_end = resolver.shift_end(rotation, shift.start) or shift.end
            for kind, due in kinds:
                if start <= due < end:
                    found.append(
                        Notice(
                            due=due,
                            key=f"shift/{rotation}/{shift.person}/{stamp}/{kind}",
                            person=shift.person,
                            rotation=rotation,
                            kind=kind,
                            start=shift.start,
                            end=shift_end,
                            region=shift.region,
                        )
                    )
    found.sort(key=lambda n: (n.due, n.key))
    return found


def notice_text(config: Config, notice: Notice) -> tuple[str, str]:
    """(subject, body) of a notice; plain ASCII apart from the rotation's names."""
    where = f"{notice.rotation}" + (f" ({notice.region})" if notice.region else "")
    until = notice.end.strftime("%a %d %b %H:%M UTC")
    begins = notice.start.strftime("%a %d %b %H:%M UTC")
    if notice.kind == "start":
        subject = f"pager: you are on call now for {where}"
        body = f"pager: you are on call now for {where} until {until}."
    else:
        subject = f"pager: your on-call shift for {where} starts {begins}"
        body = f"pager: reminder: you are on call for {where} from {begins} until {until}."
    return subject, body


def enqueue(engine: Engine, notices: list[Notice], now: datetime) -> int:
    """On the store thread: write the notices' outbox rows; returns how many were new."""
    config = engine.policy.config
    added = 0
    for notice in notices:
        person = config.people.get(notice.person)
        if person is None or person.notify_shift is None:
            continue
        via = person.notify_shift.via
        address = address_for(person, via)
        if not address:
            continue
        subject, body = notice_text(config, notice)
        row = engine.queue_message(
            NewMessage(
                key=notice.key,
                ticket_id=f"shift:{notice.rotation}",
                person=notice.person,
                channel=via,
                address=address,
                kind="shift",
                subject=subject,
                body=body,
                bundle_line=body,
                token="",
                not_before=now,
                code=None,
            ),
            now,
        )
        if row is not None:
            added += 1
    return added


class ShiftNotices:
    """The daemon's loop; ``clock()`` is its only source of ``now``."""

    def __init__(self, service: Service, clock: Callable[[], datetime]) -> None:
        self._service = service
        self._clock = clock
        self._config: Config | None = None
        self._resolver: RotationResolver | None = None
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look again now (config reload)."""
        self._wake.set()

    def _current(self) -> tuple[Config, RotationResolver]:
        config = self._service.policy.config
        if config is not self._config or self._resolver is None:
            self._config, self._resolver = config, RotationResolver(config.rotations)
        return config, self._resolver

    async def tick(self) -> float:
        """Enqueue what is due now; return the seconds until the next look."""
        now = self._clock()
        config, resolver = self._current()
        due = due_notices(config, resolver, now - GRACE, now + timedelta(seconds=1))
        if due:
            added = await self._service.db(lambda e: enqueue(e, due, now))
            if added:
                log.info("shift notices queued: %d", added)
        soon = now + timedelta(seconds=1)
        upcoming = due_notices(config, resolver, soon, now + timedelta(seconds=POLL))
        if upcoming:
            return max((upcoming[0].due - self._clock()).total_seconds(), 0.0)
        return POLL

    async def run(self) -> None:
        while True:
            try:
                delay = await self.tick()
            except Exception:
                log.exception("shift notices failed; trying again shortly")
                delay = POLL
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
