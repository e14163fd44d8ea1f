"""`pager check -c DIR [--horizon 30d]`: validate the config and list coverage gaps.

Exit 0 when the config is valid (gaps are reported but are not errors), 1 when it is
not: every problem goes to stderr, one per line (``file:line: path: message``), then a
count. A valid config gets a summary and, per rotation, the instants in
``[now, now + horizon)`` where it yields nobody, in UTC and in the local time of the
rotation's first region. A ladder whose first rung pages a rotation with gaps gets a
warning on stderr: a ticket opened in such a gap pages nobody at rung 1. So does an
override that has ended, or that never changes who is on call (see
:mod:`pager.cli.check_overrides`); warnings never change the exit code.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from pager.cli.check_overrides import override_warnings
from pager.cli.common import add_time_argument, load_or_report, now_utc
from pager.config.load import parse_duration
from pager.core.model import Config, WallDuration
from pager.core.rotation import RotationResolver

DEFAULT_HORIZON = timedelta(days=30)
#: Ten years: enough for any planning, and the calendar arithmetic stays in range.
MAX_HORIZON = timedelta(days=3660)
#: Gaps listed per rotation before the rest are only counted.
MAX_GAPS_SHOWN = 20

Gap = tuple[datetime, datetime]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--horizon",
        type=_horizon,
        default=DEFAULT_HORIZON,
        metavar="DURATION",
        help="how far ahead to look for coverage gaps (default 30d)",
    )
    parser.add_argument(
        "--require-secrets",
        action="store_true",
        help="also fail when the Twilio/SMTP/MQTT secrets cannot be read (as `pager run` does)",
    )
    # For tests and reproducible output: the instant the horizon starts at.
    add_time_argument(parser, "--now", dest="now", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    config = load_or_report(args.config, require_secrets=args.require_secrets)
    if config is None:
        return 1
    now: datetime = args.now or now_utc()
    horizon: timedelta = args.horizon
    _print_summary(config)
    resolver = RotationResolver(config.rotations)
    gaps = {name: resolver.gaps(name, now, now + horizon) for name in config.rotations}
    print(f"coverage gaps from {_utc(now)} to {_utc(now + horizon)} ({_span(horizon)}):")
    for name, found in gaps.items():
        zone = config.rotations[name].regions[0].timezone
        _print_gaps(name, found, zone)
    for ladder in config.ladders.values():
        first = ladder.rungs[0]
        for target in first.page:
            if target.kind == "rotation" and gaps.get(target.name):
                print(
                    f"warning: ladder '{ladder.name}' rung 1 ({first.name}) pages rotation "
                    f"'{target.name}', which has {_plural(len(gaps[target.name]), 'gap')} in "
                    f"the next {_span(horizon)}: a severity-1 ticket opened then pages "
                    "nobody at rung 1",
                    file=sys.stderr,
                )
    for warning in override_warnings(config, now):
        print(warning, file=sys.stderr)
    return 0


def _print_summary(config: Config) -> None:
    counts = (
        _plural(len(config.people), "person", "people"),
        _plural(len(config.roles), "role"),
        _plural(len(config.rotations), "rotation"),
        _plural(len(config.ladders), "ladder"),
    )
    print(f"config OK: {', '.join(counts)}")
    for ladder in config.ladders.values():
        routing = f"queues {', '.join(ladder.queues)}" if ladder.queues else "default"
        print(
            f"  ladder {ladder.name} ({routing}): tiers {', '.join(ladder.tiers)}; "
            f"rungs {' -> '.join(rung.name for rung in ladder.rungs)}"
        )


def _print_gaps(rotation: str, gaps: list[Gap], zone_name: str) -> None:
    if not gaps:
        print(f"  {rotation}: none")
        return
    print(f"  {rotation}: {_plural(len(gaps), 'gap')}")
    zone = ZoneInfo(zone_name)
    for start, end in gaps[:MAX_GAPS_SHOWN]:
        print(
            f"    {_utc(start)} - {_utc(end)} ({_span(end - start)}); "
            f"{zone_name}: {_local(start, zone)} - {_local(end, zone)}"
        )
    if len(gaps) > MAX_GAPS_SHOWN:
        print(f"    ... and {len(gaps) - MAX_GAPS_SHOWN} more")


def _plural(count: int, one: str, many: str = "") -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%a %Y-%m-%d %H:%M")


def _span(delta: timedelta) -> str:
    """``30d``, ``2h``, ``1d2h30m``: compact, in the duration syntax of the config."""
    seconds = int(delta.total_seconds())
    parts = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


def _horizon(text: str) -> timedelta:
    try:
        duration = parse_duration(text)
    except ValueError as err:
        raise argparse.ArgumentTypeError(str(err)) from None
    if not isinstance(duration, WallDuration) or duration.delta <= timedelta(0):
        raise argparse.ArgumentTypeError(f"horizon must be a wall duration like 30d, got {text!r}")
    if duration.delta > MAX_HORIZON:
        raise argparse.ArgumentTypeError(f"horizon {text!r} is longer than {MAX_HORIZON.days}d")
    return duration.delta
