"""``python -m bench.bench_sink --out FILE``: FakeTwilio in a process of its own.

Prints ``PORT <n>`` once listening, then appends every request FakeTwilio recorded to
``FILE`` as JSON lines (``at`` = ``time.monotonic()`` of arrival, ``kind``, ``to``,
``body``, ``status``) every 20 ms, until SIGTERM/SIGINT, after which it flushes and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
from pathlib import Path

from testkit.fake_twilio import FakeTwilio

FLUSH_EVERY = 0.02


async def serve(out: Path, account_sid: str, auth_token: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with FakeTwilio(account_sid=account_sid, auth_token=auth_token) as fake:
        print(f"PORT {fake.port}", flush=True)
        written = 0
        with out.open("a") as handle:
            while True:
                stopping = stop.is_set()
                fresh = fake.requests[written:]
                written += len(fresh)
                for r in fresh:
                    line = {
                        "at": r.at,
                        "kind": r.kind,
                        "to": r.to or "",
                        "body": r.body or "",
                        "status": r.status,
                    }
                    handle.write(json.dumps(line) + "\n")
                if fresh:
                    handle.flush()
                # FakeTwilio keeps every request; drop what is written (long runs).
                if written > 50_000:
                    del fake.requests[:written]
                    written = 0
                if stopping:
                    return
                try:
                    async with asyncio.timeout(FLUSH_EVERY):
                        await stop.wait()
                except TimeoutError:
                    pass


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench_sink")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--account-sid", required=True)
    parser.add_argument("--auth-token", required=True)
    args = parser.parse_args(argv)
    asyncio.run(serve(args.out, args.account_sid, args.auth_token))
    return 0


if __name__ == "__main__":
    sys.exit(main())
