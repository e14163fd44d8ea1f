"""Outbox lanes: SMS and voice never wait behind email.

Each lane has its own channels, its own number of provider requests in flight (a slot is
taken when a send starts and freed when the provider has answered, before the outcome is
written) and its own claims: the relay claims for a lane only as many rows as it has free
slots, so a claimed row starts at once and never waits in memory behind another channel.
A slow or hung SMTP relay fills the email lane and nothing else; an email backlog stays
``pending`` in the store (where a crash cannot lose it) and never crowds the SMS rows out
of a claim. The urgent lane is claimed and started first.

Pure bookkeeping on the event loop (no I/O): the relay asks :meth:`Lanes.limits` before a
claim, :meth:`Lanes.claimed` after it, :meth:`Lanes.start` and :meth:`Lanes.finish` around
each provider request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

#: Outbox rows one claim of one lane reads, at most.
CLAIM_LIMIT = 200
#: Rows a claim of a lane with SMS reads for each free slot (see :attr:`Claim.rows`).
ROWS_PER_SMS_SLOT = 3
#: How long an email may be held back while pages and events go first (see
#: :meth:`Lanes.limits`).
MAX_HOLD = 5.0
#: While a lane is held back the relay claims again this often (the hold may be over).
HOLD_POLL = 0.1
#: Events queued for the store from which the daemon counts as behind (a burst): about
#: a quarter of a second of work at the rate it commits.
BEHIND_EVENTS = 200


@dataclass(frozen=True, slots=True)
class LaneSpec:
    name: str
    channels: tuple[str, ...]
    #: Provider requests of this lane in flight at once.
    concurrency: int


#: Pages by phone: the urgent lane, claimed first.
URGENT = LaneSpec("urgent", ("sms", "voice"), 64)
#: Email: twice the SMTP pool (pager.adapters.smtp.POOL_SIZE), so that a session that
#: finishes finds the next message already waiting for it.
MAIL = LaneSpec("email", ("email",), 16)
LANES = (URGENT, MAIL)


class Lane:
    """One lane's sends in flight and whether rows may be waiting for a free slot."""

    def __init__(self, spec: LaneSpec) -> None:
        self.spec = spec
        self.inflight = 0
        #: The last claim was full, or was skipped for want of a slot: due rows may wait.
        self.backlog = False

    @property
    def free(self) -> int:
        return self.spec.concurrency - self.inflight

    def __repr__(self) -> str:
        return f"Lane({self.spec.name}, inflight={self.inflight}, backlog={self.backlog})"


@dataclass(frozen=True, slots=True)
class Claim:
    """Claim up to ``limit`` sends (the lane's free slots) of ``lane``'s rows that were
    due ``lag`` seconds ago or earlier."""

    lane: Lane
    limit: int
    lag: float = 0.0

    @property
    def rows(self) -> int:
        """Rows to read for ``limit`` sends: one per send, except in a lane with SMS,
        where one person's rows make one send (a bundle) and a storm's oldest rows are
        a few people's: :data:`ROWS_PER_SMS_SLOT` a send (reading more costs every
        claim of a quiet night; a claim that read too few is followed by another)."""
        if "sms" in self.lane.spec.channels:
            return min(CLAIM_LIMIT, ROWS_PER_SMS_SLOT * self.limit)
        return self.limit


class Lanes:
    """The relay's lanes; ``wake`` is called when a lane with a backlog frees up enough
    slots to be worth a claim (half of them: one claim per few sends, not per send)."""

    def __init__(self, wake: Callable[[], None], specs: tuple[LaneSpec, ...] = LANES) -> None:
        self._wake = wake
        self.lanes = tuple(Lane(spec) for spec in specs)
        self._by_channel = {ch: lane for lane in self.lanes for ch in lane.spec.channels}

    def of(self, channel: str) -> Lane:
        """The lane of ``channel`` (an unknown channel goes with email: never urgent)."""
        return self._by_channel.get(channel) or self.lanes[-1]

    def limits(self, behind: bool = False) -> list[Claim]:
        """For each lane with a free slot, in order (urgent first): what to claim now.

        The lanes after the first take only rows due :data:`MAX_HOLD` seconds ago or
        earlier while the daemon is ``behind`` (events queued for the store: a burst) or
        the urgent lane is draining a backlog (due pages and free slots to send them):
        the pages and the events that may page someone get the event loop first. Past the
        hold an email goes at its lane's pace (claimed as slots free up, each claim a
        store job queued ahead of the events), so in a sustained overload emails queue in
        the store and catch up after it. An urgent lane with every slot taken
        holds nothing back: a hung Twilio must not stop the email that is the page's
        other channel. A lane without a free slot is skipped and marked as having a
        backlog, so that :meth:`finish` wakes the relay for it.
        """
        wanted: list[Claim] = []
        hold = behind
        for index, lane in enumerate(self.lanes):
            if lane.free <= 0:
                lane.backlog = True
                continue
            lag = MAX_HOLD if index and hold else 0.0
            wanted.append(Claim(lane, min(CLAIM_LIMIT, lane.free), lag))
            hold = hold or lane.backlog
        return wanted

    def claimed(self, lane: Lane, full: bool) -> bool:
        """Record whether a lane's claim was ``full`` (more rows may be due); returns it."""
        lane.backlog = full
        return full

    def start(self, channel: str) -> None:
        self.of(channel).inflight += 1

    def finish(self, channel: str) -> None:
        lane = self.of(channel)
        lane.inflight -= 1
        if lane.backlog and lane.free * 2 >= lane.spec.concurrency:
            lane.backlog = False
            self._wake()

    @property
    def inflight(self) -> int:
        return sum(lane.inflight for lane in self.lanes)
