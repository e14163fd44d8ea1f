"""The event loop's exception handler: quiet about one known harmless race."""

from __future__ import annotations

import asyncio
import errno
import logging
from typing import Any

log = logging.getLogger("pager")


def quiet_closed_socket_callbacks(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
    """Loop exception handler: one debug line for a known race, the default otherwise.

    aiomqtt schedules ``loop.add_writer(fd, ...)`` from paho's socket callback with
    ``call_soon_threadsafe``; when the broker drops the connection in between, the fd
    is closed by the time the call runs and asyncio would log an ERROR with a traceback
    ("Bad file descriptor") on every broker restart. The bridge notices the lost
    connection and reconnects by itself, so the traceback only alarms whoever reads
    the journal.
    """
    exc = context.get("exception")
    handle = repr(context.get("handle", ""))
    if (
        isinstance(exc, OSError)
        and exc.errno == errno.EBADF
        and ("add_writer" in handle or "add_reader" in handle)
    ):
        log.debug("mqtt: socket callback after the connection closed: %s", exc)
        return
    loop.default_exception_handler(context)


__all__ = ["quiet_closed_socket_callbacks"]
