"""A TCP relay on a fixed port that a test can take down and bring back: "server closed".

The daemon is configured with the relay's port, which never changes, while the real
server behind it (e.g. :class:`~testkit.smtp_server.SmtpServer`) keeps its own.
:meth:`TcpRelay.down` stops listening, so new connections are refused exactly as when
the server process is gone; connections already open finish their conversation (cutting
one mid-transfer would create the ambiguous "did it arrive?" case, which is a different
test). ``down(cut=True)`` is the server process gone for a client that keeps its
connections open (a pool of SMTP sessions): each connection open at that moment is closed
the next time the client sends anything, before it reaches the server, so what the
server already answered still reaches the client and nothing half-sent is delivered.
:meth:`TcpRelay.up` listens again on the same port.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from testkit.mosquitto import free_port


class TcpRelay:
    """Forwards 127.0.0.1:``port`` to ``target_host``:``target_port`` while up."""

    host = "127.0.0.1"

    def __init__(self, target_host: str, target_port: int, *, port: int | None = None) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = port or free_port()
        self._server: asyncio.Server | None = None
        self._pipes: set[asyncio.Task[None]] = set()
        #: Connections opened before this generation are cut (``down(cut=True)``).
        self._generation = 0
        self._cut_below = 0

    @property
    def is_up(self) -> bool:
        return self._server is not None

    async def up(self) -> None:
        if self._server is None:
            self._server = await asyncio.start_server(
                self._serve, self.host, self.port, reuse_address=True
            )

    async def down(self, *, cut: bool = False) -> None:
        if cut:
            self._generation += 1
            self._cut_below = self._generation
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            # wait_closed() would wait for the open conversations too; they may finish.

    async def close(self) -> None:
        await self.down()
        for task in list(self._pipes):
            task.cancel()
        await asyncio.gather(*self._pipes, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(
                self.target_host, self.target_port
            )
        except OSError:
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        born = self._generation

        def cut() -> bool:
            return born < self._cut_below

        try:
            await asyncio.gather(
                _pump(reader, upstream_writer, cut, (writer, upstream_writer)),
                _pump(upstream_reader, writer),
            )
        finally:
            self._pipes.discard(task)
            for w in (writer, upstream_writer):
                w.close()


async def _pump(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    cut: Callable[[], bool] | None = None,
    both: tuple[asyncio.StreamWriter, ...] = (),
) -> None:
    try:
        while data := await reader.read(65536):
            if cut is not None and cut():  # dropped: this never reaches the server
                for w in both:
                    w.close()
                return
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(OSError, RuntimeError):
            if writer.can_write_eof():
                writer.write_eof()
