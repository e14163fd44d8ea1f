"""``python -m bench.bench_smtp_sink --out FILE``: the aiosmtpd harness in a process of its own.

Prints ``PORT <n>`` once listening, then appends every accepted message to ``FILE`` as
JSON lines (``at`` = ``time.monotonic()`` of arrival, ``to``, ``subject``,
``connections`` = connections accepted so far) every 20 ms, until SIGTERM/SIGINT, after
which it flushes and exits 0. Out of process for the reason of :mod:`bench.bench_sink`.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from bench.bench_common import append_until_stopped, stop_on_signals
from testkit.smtp_server import SmtpServer


class StampingServer(SmtpServer):
    """Records (arrival, recipient, subject) only: parsing every message is not needed."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[tuple[float, str, str]] = []

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        subject = ""
        for line in raw.split(b"\r\n", 40):
            if line.lower().startswith(b"subject:"):
                subject = line[8:].strip().decode(errors="replace")
                break
        self.stamps.append((time.monotonic(), ",".join(envelope.rcpt_tos), subject))
        return "250 Message accepted for delivery"


async def serve(out: Path) -> None:
    stop = stop_on_signals()
    server = StampingServer()
    async with server:
        print(f"PORT {server.port}", flush=True)

        def take() -> list[dict[str, Any]]:
            fresh, server.stamps = server.stamps, []
            return [
                {"at": at, "to": to, "subject": subject, "connections": server.connections_opened}
                for at, to, subject in fresh
            ]

        await append_until_stopped(out, stop, take)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_smtp_sink")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
