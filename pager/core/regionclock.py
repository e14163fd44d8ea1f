"""One region's coverage and member arithmetic over cached blocks of local days.

The cache behind :class:`pager.core.rotation.RotationResolver` (see its module docstring
for the rules and the speed argument). Pure; not thread-safe.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from pager.core.hours import OpeningHours, local_instant, zone
from pager.core.model import Region

#: When a region without hours "began": infinitely long ago, so any real window is newer.
NEVER_BEGAN = datetime.min.replace(tzinfo=UTC)
#: Local days per cached block (a multiple of 7: blocks start on the handoff zero date,
#: so weekly handoffs fall on the same offsets in every block).
_BLOCK_DAYS = 14
#: How many blocks a region keeps before starting over (years of lookups).
_BLOCK_CACHE_SIZE = 256
#: How many blocks ahead a region looks for its next window edge before answering
#: conservatively with a block boundary (where nothing need change).
_EDGE_LOOKAHEAD_BLOCKS = 3
#: A merged window this long may have been cut by OpeningHours' bounded look-back, whose
#: reported opening then moves every local midnight: such windows are kept day by day.
_LONG_WINDOW = timedelta(days=7)

Interval = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class Block:
    """One region's facts for the instants ``[start, end)`` of ``_BLOCK_DAYS`` local dates.

    ``spans`` are ``(open, close, began)``: the region covers ``[open, close)``, in a merged
    window that began at ``began`` (a window's real extent, which may reach past the
    block). ``handoffs`` are the handoff instants dated inside the block, the first being
    number ``first_handoff``. ``edges``: the instants in ``[start, end]``, sorted, where
    coverage, window start or member may change.
    """

    number: int
    start: datetime
    end: datetime
    spans: tuple[tuple[datetime, datetime, datetime], ...]
    span_starts: tuple[datetime, ...]
    first_handoff: int
    handoffs: tuple[datetime, ...]
    edges: tuple[datetime, ...]


#: Holds no instant: what a region's "last block used" is before its first lookup.
_NO_BLOCK = Block(0, NEVER_BEGAN, NEVER_BEGAN, (), (), 0, (), ())


class RegionClock:
    """One region's coverage and member arithmetic over cached blocks of local days.

    Keeps the last block it used, so lookups walking forward in time (a sweep, a daemon
    asking about "now") skip the zone conversion. Not thread-safe.
    """

    __slots__ = (
        "_blocks",
        "_last",
        "_period",
        "_zero",
        "_zero_ordinal",
        "at",
        "hours",
        "members",
        "name",
        "size",
        "tz",
    )

    def __init__(self, region: Region) -> None:
        if not region.members:
            raise ValueError(f"region {region.name!r} has no members")
        self.name = region.name
        self.members = region.members
        self.size = len(region.members)
        self.tz = zone(region.timezone)
        self.hours = (
            None if region.hours is None else OpeningHours(region.hours, self.tz, region.holidays)
        )
        handoff = region.handoff
        self.at = handoff.at
        self._period = 7 if handoff.every == "week" else 1
        zero = handoff.start
        if handoff.every == "week":
            weekday = zero.weekday() if handoff.day is None else handoff.day
            # The zero handoff: on the start date when its weekday matches, else the
            # first matching weekday after it.
            zero += timedelta(days=(weekday - zero.weekday()) % 7)
        self._zero = zero
        self._zero_ordinal = zero.toordinal()
        self._blocks: dict[int, Block] = {}
        self._last = _NO_BLOCK

    # --- blocks ----------------------------------------------------------------------

    def block(self, t: datetime) -> Block:
        """The block whose ``[start, end)`` holds ``t``."""
        last = self._last
        if last.start <= t < last.end:
            return last
        # t's own date is within a day of its local date in the region's zone, so this
        # guess is the right block or next to it; no zone conversion needed.
        number = (t.toordinal() - self._zero_ordinal) // _BLOCK_DAYS
        found = self._blocks.get(number) or self._block(number)
        while t >= found.end:
            found = self._block(found.number + 1)
        while t < found.start:
            found = self._block(found.number - 1)
        self._last = found
        return found

    def _block(self, number: int) -> Block:
        found = self._blocks.get(number)
        if found is None:
            if len(self._blocks) >= _BLOCK_CACHE_SIZE:
                self._blocks.clear()
            found = self._build(number)
            self._blocks[number] = found
        return found

    def _build(self, number: int) -> Block:
        first = self._zero + timedelta(days=number * _BLOCK_DAYS)
        start = local_instant(first, 0, self.tz)
        end = local_instant(first + timedelta(days=_BLOCK_DAYS), 0, self.tz)
        spans = self._spans(first, start, end)
        period = self._period
        first_handoff = (first - self._zero).days // period
        handoffs = tuple(
            local_instant(first + timedelta(days=offset), self.at, self.tz)
            for offset in range(0, _BLOCK_DAYS, period)
        )
        edges = {edge for span in spans for edge in span[:2]}
        if self.size > 1:
            edges.update(handoffs)
        # Edges past the block belong to a later block's search (which may find an
        # earlier one first); the block's end itself is nobody else's, so it stays.
        kept = sorted(edge for edge in edges if start <= edge <= end)
        return Block(
            number,
            start,
            end,
            spans,
            tuple(span[0] for span in spans),
            first_handoff,
            handoffs,
            tuple(kept),
        )

    def _spans(
        self, first: date, start: datetime, end: datetime
    ) -> tuple[tuple[datetime, datetime, datetime], ...]:
        hours = self.hours
        if hours is None:
            return ()
        spans: list[tuple[datetime, datetime, datetime]] = []
        for opened, closed in hours.windows(start, end):
            real = (opened, closed)
            if opened == start or closed == end:  # maybe clipped: ask for the real extent
                real = hours.window_at(opened) or real
            # OpeningHours follows a merged window back (and forward) a bounded number of
            # days: an extent that long may be cut short, and where such a window
            # "began" depends on the local day asked about. Keep those day by day, as
            # window_at reports them; every other window as its real extent.
            if real[1] - real[0] < _LONG_WINDOW:
                spans.append((real[0], real[1], real[0]))
                continue
            for offset in range(_BLOCK_DAYS):
                day_start = local_instant(first + timedelta(days=offset), 0, self.tz)
                day_end = local_instant(first + timedelta(days=offset + 1), 0, self.tz)
                lo, hi = max(opened, day_start), min(closed, day_end)
                if lo < hi:
                    seen = hours.window_at(lo)
                    spans.append((lo, hi, lo if seen is None else seen[0]))
        return tuple(spans)

    # --- answers ---------------------------------------------------------------------

    @staticmethod
    def began(blk: Block, t: datetime) -> datetime | None:
        """When the window covering ``t`` began, or None when the region is closed."""
        i = bisect.bisect_right(blk.span_starts, t) - 1
        if i >= 0 and t < blk.spans[i][1]:
            return blk.spans[i][2]
        return None

    def member(self, blk: Block, t: datetime) -> str:
        k = blk.first_handoff + bisect.bisect_right(blk.handoffs, t) - 1
        return self.members[k % self.size]

    def covers(self, t: datetime) -> bool:
        return self.hours is None or self.began(self.block(t), t) is not None

    def next_edge(self, t: datetime) -> datetime | None:
        """The first instant > ``t`` where coverage, window start or member may change.

        None when nothing about this region ever changes (no hours, one member).
        """
        if self.hours is None and self.size == 1:
            return None
        blk = self.block(t)
        for _ in range(_EDGE_LOOKAHEAD_BLOCKS):
            i = bisect.bisect_right(blk.edges, t)
            if i < len(blk.edges):
                return blk.edges[i]
            blk = self._block(blk.number + 1)
        # Nothing opens for weeks (a long holiday): a block boundary is a safe answer.
        return blk.start

    def windows_between(self, start: datetime, end: datetime) -> list[Interval]:
        """The covered intervals within ``[start, end)`` (maybe repeated or adjacent)."""
        found: list[Interval] = []
        blk = self.block(start)
        while blk.start < end:
            found.extend(
                (max(opened, start), min(closed, end))
                for opened, closed, _began in blk.spans
                if opened < end and closed > start
            )
            blk = self._block(blk.number + 1)
        return found

    def edges_between(self, start: datetime, end: datetime) -> list[datetime]:
        """Every instant in ``(start, end)`` where this region's state may change."""
        found: list[datetime] = []
        if self.hours is None and self.size == 1:
            return found
        blk = self.block(start)
        while blk.start < end:
            found.extend(edge for edge in blk.edges if start < edge < end)
            blk = self._block(blk.number + 1)
        return found
