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
    """At most ``per_second`` sends per second from one number, evenly spaced."""

    per_second: float
    _next: float = 0.0

    def earliest(self, now: float) -> float:
        return max(now, self._next)

    def take(self, now: float) -> None:
        start = max(now, self._next)
        self._next = start + (1.0 / self.per_second if self.per_second > 0 else 0.0)


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
