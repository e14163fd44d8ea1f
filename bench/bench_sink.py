"""``python -m bench.bench_sink --out FILE``: FakeTwilio in a process of its own.

Prints ``PORT <n>`` once listening, then appends every request FakeTwilio recorded to
``FILE`` as JSON lines (``at`` = ``time.monotonic()`` of arrival, ``kind``, ``to``,
``body``, ``status``) every 20 ms, until SIGTERM/SIGINT, after which it flushes and exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bench.bench_common import append_until_stopped, stop_on_signals
from testkit.fake_twilio import FakeTwilio


async def serve(out: Path, account_sid: str, auth_token: str) -> None:
    stop = stop_on_signals()
    async with FakeTwilio(account_sid=account_sid, auth_token=auth_token) as fake:
        print(f"PORT {fake.port}", flush=True)
        written = 0

        def take() -> list[dict[str, Any]]:
            nonlocal written
            fresh = fake.requests[written:]
            written += len(fresh)
            lines = [
                {
                    "at": r.at,
                    "kind": r.kind,
                    "to": r.to or "",
                    "body": r.body or "",
                    "status": r.status,
                }
                for r in fresh
            ]
            # FakeTwilio keeps every request; drop what is written (long runs).
            if written > 50_000:
                del fake.requests[:written]
                written = 0
            return lines

        await append_until_stopped(out, stop, take)


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
