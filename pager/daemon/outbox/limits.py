"""Sending limits: a rate per sending number and sliding-window limits per person.

Pure bookkeeping over monotonic-free epoch seconds passed in by the caller; the relay asks
"when may this go out?" and records what it sent.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from pager.core.model import Rate


@dataclass(slots=True)
class Spacing:
    """At most ``per_second`` sends per second from one number (a token bucket).

    The bucket holds one second's worth (at least one token), so a number allowed 100/s
    can send a burst of 100 at once while a number allowed 1/s sends one at a time.
    """

    per_second: float
    _tokens: float = -1.0
    _updated: float = 0.0

    def _refill(self, now: float) -> None:
        capacity = max(1.0, self.per_second)
        if self._tokens < 0:  # first use: a full bucket
            self._tokens = capacity
        elif now > self._updated:
            self._tokens = min(capacity, self._tokens + (now - self._updated) * self.per_second)
        self._updated = max(self._updated, now)

    def earliest(self, now: float) -> float:
        self._refill(now)
        if self._tokens >= 1.0 or self.per_second <= 0:
            return now
        return now + (1.0 - self._tokens) / self.per_second

    def take(self, now: float) -> None:
        self._refill(now)
        self._tokens -= 1.0


@dataclass(slots=True)
class SlidingWindow:
    """At most ``rate.count`` sends per ``rate.per`` for each key (a person)."""

    rate: Rate
    _sent: dict[str, deque[float]] = field(default_factory=dict)

    def earliest(self, key: str, now: float) -> float:
        """``now`` when a send is allowed now, else when the oldest send leaves the window."""
        window = self.rate.per.total_seconds()
        sent = self._sent.get(key)
        if sent is None:
            return now
        while sent and sent[0] <= now - window:
            sent.popleft()
        if len(sent) < self.rate.count:
            return now
        return sent[0] + window

    def take(self, key: str, now: float) -> None:
        self._sent.setdefault(key, deque()).append(now)
