"""Wake-up hints between nodes: LISTEN on the store's NOTIFY channel.

A node's commit that queued outbox rows or set a deadline sends one NOTIFY (delivered
when, and only if, it commits; see :meth:`pager.store.postgres.connection.Connection
.transaction`). The other nodes listen here so that the sending node sends a page another
node queued at once, and every node's deadline loop looks again. A hint is only a hint: a
lost one (this connection was down) costs latency, never a page, since the relay and the
deadline loop read the tables again on their own schedule.

Payload: space-separated words, ``o`` (outbox rows were queued) and ``d<epoch seconds>``
(a deadline at that instant was stored).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import UTC, datetime

import psycopg

from pager.store.postgres.connection import CHANNEL

log = logging.getLogger("pager.store.postgres.listen")


class Listener:
    """``run()`` until cancelled: LISTEN, call ``on_outbox()`` / ``on_deadline(at)``,
    reconnect after a second when the connection is lost. ``own_pid()`` is the backend
    process of this node's store connection: its own hints are skipped (the node woke
    itself already)."""

    def __init__(
        self,
        conninfo: str,
        *,
        on_outbox: Callable[[], None],
        on_deadline: Callable[[datetime], None],
        own_pid: Callable[[], int | None] = lambda: None,
        retry: float = 1.0,
    ) -> None:
        self.conninfo = conninfo
        self.on_outbox = on_outbox
        self.on_deadline = on_deadline
        self.own_pid = own_pid
        self.retry = retry
        self.connected = False
        #: Set while listening (tests wait for it).
        self.listening = asyncio.Event()
        self.received = 0

    async def run(self) -> None:
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    self.conninfo, autocommit=True
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected = True
                    self.listening.set()
                    # Anything queued while this connection was down: look once.
                    self.on_outbox()
                    async for note in conn.notifies():
                        if note.pid != self.own_pid():
                            self.received += 1
                            self.hint(note.payload)
            except psycopg.Error as exc:
                if self.connected:
                    log.warning("listening for other nodes' hints stopped: %s", exc)
            finally:
                self.connected = False
                self.listening.clear()
            await asyncio.sleep(self.retry)

    def hint(self, payload: str) -> None:
        """Act on one NOTIFY payload (unknown words are ignored: a newer node's)."""
        for word in payload.split():
            if word == "o":
                self.on_outbox()
            elif word.startswith("d"):
                with contextlib.suppress(ValueError, OverflowError, OSError):
                    self.on_deadline(datetime.fromtimestamp(float(word[1:]), UTC))
