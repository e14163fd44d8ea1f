"""``python -m bench.bench_smtp_sink --out FILE``: the aiosmtpd harness in a process of its own.

Prints ``PORT <n>`` once listening, then appends every accepted message to ``FILE`` as
JSON lines (``at`` = ``time.monotonic()`` of arrival, ``to``, ``subject``,
``connections`` = connections accepted so far) every 20 ms, until SIGTERM/SIGINT, after
which it flushes and exits 0. Out of process for the reason of :mod:`bench.bench_sink`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import time
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

from testkit.smtp_server import SmtpServer

FLUSH_EVERY = 0.02


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
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    server = StampingServer()
    async with server:
        print(f"PORT {server.port}", flush=True)
        with out.open("a") as handle:
            while True:
                stopping = stop.is_set()
                fresh, server.stamps = server.stamps, []
                for at, to, subject in fresh:
                    line = {
                        "at": at,
                        "to": to,
                        "subject": subject,
                        "connections": server.connections_opened,
                    }
                    handle.write(json.dumps(line) + "\n")
                if fresh:
                    handle.flush()
                if stopping:
                    return
                try:
                    async with asyncio.timeout(FLUSH_EVERY):
                        await stop.wait()
                except TimeoutError:
                    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_smtp_sink")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
