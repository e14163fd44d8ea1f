"""The daemon's loop exception handler: aiomqtt's closed-socket race is one debug line."""

from __future__ import annotations

import asyncio
import errno
import logging

import pytest

from pager.daemon.loop_errors import quiet_closed_socket_callbacks


def _handle_of(name: str) -> asyncio.Handle:
    loop = asyncio.get_running_loop()
    method = getattr(loop, name)
    return asyncio.Handle(method, (999, lambda: None), loop)


async def test_a_callback_on_a_closed_socket_is_logged_at_debug_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    loop = asyncio.get_running_loop()
    for name in ("add_writer", "add_reader"):
        context = {
            "message": "Exception in callback",
            "exception": OSError(errno.EBADF, "Bad file descriptor"),
            "handle": _handle_of(name),
        }
        with caplog.at_level(logging.DEBUG):
            quiet_closed_socket_callbacks(loop, context)
    assert [r.levelno for r in caplog.records] == [logging.DEBUG, logging.DEBUG]
    assert "after the connection closed" in caplog.records[0].getMessage()


@pytest.mark.parametrize(
    ("exc", "name"),
    [
        (OSError(errno.EPIPE, "Broken pipe"), "add_writer"),
        (OSError(errno.EBADF, "Bad file descriptor"), "call_soon"),
        (RuntimeError("boom"), "add_writer"),
    ],
)
async def test_anything_else_goes_to_the_default_handler(
    caplog: pytest.LogCaptureFixture, exc: BaseException, name: str
) -> None:
    loop = asyncio.get_running_loop()
    context = {"message": "Exception in callback", "exception": exc, "handle": _handle_of(name)}
    with caplog.at_level(logging.DEBUG):
        quiet_closed_socket_callbacks(loop, context)
    assert [r.levelno for r in caplog.records] == [logging.ERROR]
