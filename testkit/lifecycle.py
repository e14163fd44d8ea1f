"""``async with`` for the harness's servers: start on entry, close on exit."""

from __future__ import annotations

from types import TracebackType
from typing import Self


class Served:
    """A server a test holds with ``async with``: :meth:`start` on entry, :meth:`close` on exit.

    Subclasses define both; ``close`` must be safe after a failed or partial ``start``.
    """

    async def start(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
