"""Rotation engine benchmark: ``.venv/bin/python -m bench.bench_rotation [--quick]``.

Generates 50 rotations (seeded, so every run measures the same ones): 40 follow-the-sun
rotations of three regions each (an APJ, an EMEA and an AMER zone, office hours, some
weekend and around-the-clock regions, holidays, weekly or daily handoffs, overrides
with and without ``replaces``); 30 of them have one of 10 weekend rotations as their
``after_hours``, 10 have none (so they have gaps).

Measures, on one core (one Python thread):

* ``oncall()`` lookups per second: random rotations at random instants over a year, on
  a fresh resolver (cold caches) and again (warm); and instants walking forward a
  minute at a time, as the daemon asks about "now".
* ``gaps()`` over 365 days for all 50 rotations on a fresh resolver: what
  ``pager check --horizon 365d`` does; and ``shifts()`` (``pager schedule``) likewise.

Each figure is the best of 3 runs, from the CPU time of this process (one core's work,
little disturbed by whatever else runs on the machine); wall time is reported beside it.

Targets: >= 50,000 lookups/s; the 365-day gap check < 2 s. Prints a table and writes
``bench/results/rotation.json`` (with the machine: cores, CPU, Python).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

from pager.core.model import Handoff, HandoffEvery, Override, Region, Rotation, WeeklyHours
from pager.core.rotation import RotationResolver

RESULTS = Path(__file__).resolve().parent / "results"
SEED = 20261123
YEAR_START = datetime(2026, 11, 23, tzinfo=UTC)
YEAR = timedelta(days=365)
LOOKUPS_TARGET = 50_000.0
CHECK_TARGET_S = 2.0

APJ = ("Asia/Ho_Chi_Minh", "Asia/Singapore", "Asia/Tokyo", "Australia/Sydney", "Asia/Kolkata")
EMEA = ("Europe/Bucharest", "Europe/London", "Europe/Berlin", "Africa/Johannesburg", "Asia/Dubai")
AMER = ("America/New_York", "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo")


@dataclass(frozen=True, slots=True)
class Figure:
    """``value`` from CPU time (the target's measure), ``wall`` the same from wall time."""

    name: str
    value: float
    unit: str
    target: str = ""
    ok: bool | None = None
    wall: float | None = None


# --- the generated config --------------------------------------------------------------


def generate(rng: random.Random) -> dict[str, Rotation]:
    """10 weekend rotations and 40 follow-the-sun rotations, 30 of them leaning on them."""
    rotations: dict[str, Rotation] = {}
    for number in range(10):
        name = f"weekend-{number:02d}"
        every: HandoffEvery = rng.choice(("day", "week"))
        handoff = Handoff(
            every,
            rng.choice((0, 9 * 60, 15 * 60)),
            date(2026, 1, 1) + timedelta(days=rng.randrange(365)),
            rng.randrange(7) if every == "week" else None,
        )
        members = tuple(f"w{number}-{i}" for i in range(rng.randint(3, 8)))
        rotations[name] = Rotation(name, (Region("global", rng.choice(EMEA), members, handoff),))
    for number in range(40):
        name = f"fts-{number:02d}"
        regions = tuple(
            _region(rng, label, zones, f"{name}-{label}")
            for label, zones in (("apj", APJ), ("emea", EMEA), ("amer", AMER))
        )
        overrides = tuple(_override(rng, regions) for _ in range(rng.randint(0, 6)))
        # Every fourth one is for business hours only: it has gaps for `check` to find.
        after_hours = None if number % 4 == 3 else f"weekend-{number % 10:02d}"
        rotations[name] = Rotation(name, regions, after_hours, overrides)
    return rotations


def _region(rng: random.Random, label: str, zones: tuple[str, ...], prefix: str) -> Region:
    roll = rng.random()
    if roll < 0.05:
        hours = WeeklyHours(frozenset(range(7)), 0, 1440)  # around the clock, by hours
    else:
        start = rng.choice(range(7 * 60, 9 * 60 + 31, 15))
        length = rng.choice(range(8 * 60, 10 * 60 + 1, 30))
        days = frozenset(range(7) if roll < 0.2 else range(5))
        hours = WeeklyHours(days, start, start + length)
    every: HandoffEvery = "week" if rng.random() < 0.7 else "day"
    handoff = Handoff(
        every,
        hours.start,
        date(2026, 1, 1) + timedelta(days=rng.randrange(365)),
        rng.randrange(5) if every == "week" else None,
    )
    holidays = frozenset(
        date(2026, 11, 1) + timedelta(days=rng.randrange(450)) for _ in range(rng.randint(3, 8))
    )
    members = tuple(f"{prefix}-{i}" for i in range(rng.randint(2, 6)))
    return Region(label, rng.choice(zones), members, handoff, hours, holidays)


def _override(rng: random.Random, regions: tuple[Region, ...]) -> Override:
    start = YEAR_START + timedelta(minutes=rng.randrange(365 * 1440))
    length = timedelta(hours=rng.randint(2, 96))
    person = rng.choice(rng.choice(regions).members)
    replaces = rng.choice(rng.choice(regions).members) if rng.random() < 0.5 else None
    return Override(person, start, start + length, replaces)


# --- measurements ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Timing:
    """The best of several runs: CPU time of this process (what one core did, whatever
    else the machine runs) and wall time."""

    cpu_s: float
    wall_s: float


def best_of(repeats: int, run: Callable[[], None]) -> Timing:
    cpu, wall = [], []
    for _ in range(repeats):
        cpu_started, wall_started = time.process_time(), time.perf_counter()
        run()
        cpu.append(time.process_time() - cpu_started)
        wall.append(time.perf_counter() - wall_started)
    return Timing(min(cpu), min(wall))


def lookups(make: Callable[[], RotationResolver], queries: list[tuple[str, datetime]]) -> None:
    oncall = make().oncall
    for name, at in queries:
        oncall(name, at)


def measure(quick: bool) -> tuple[list[Figure], dict[str, Any]]:
    rng = random.Random(SEED)
    rotations = generate(rng)
    names = list(rotations)
    count = 50_000 if quick else 200_000
    repeats = 1 if quick else 3
    seconds = int(YEAR.total_seconds())
    random_queries = [
        (rng.choice(names), YEAR_START + timedelta(seconds=rng.randrange(seconds)))
        for _ in range(count)
    ]
    walking_queries = [
        (names[i % len(names)], YEAR_START + timedelta(minutes=i // len(names)))
        for i in range(count)
    ]
    figures: list[Figure] = []

    def fresh() -> RotationResolver:
        return RotationResolver(rotations)

    warm_resolver = fresh()

    def warm() -> RotationResolver:
        return warm_resolver

    lookups(warm, random_queries)
    runs: tuple[tuple[str, Callable[[], RotationResolver], list[tuple[str, datetime]]], ...] = (
        ("oncall() random instants in a year, cold caches", fresh, random_queries),
        ("oncall() random instants in a year, warm caches", warm, random_queries),
        ("oncall() walking forward a minute at a time", fresh, walking_queries),
    )
    for label, make, queries in runs:
        timing = best_of(repeats, partial(lookups, make, queries))
        rate = len(queries) / timing.cpu_s
        figures.append(
            Figure(
                label,
                rate,
                "/s",
                f">= {LOOKUPS_TARGET:,.0f}/s",
                rate >= LOOKUPS_TARGET,
                len(queries) / timing.wall_s,
            )
        )

    found: dict[str, list[Any]] = {}

    def check() -> None:
        checker = fresh()
        for name in names:
            found[name] = checker.gaps(name, YEAR_START, YEAR_START + YEAR)

    timing = best_of(repeats, check)
    figures.append(
        Figure(
            "gaps() over 365 days, all 50 rotations, fresh resolver",
            timing.cpu_s,
            "s",
            f"< {CHECK_TARGET_S:g} s",
            timing.cpu_s < CHECK_TARGET_S,
            timing.wall_s,
        )
    )
    shift_counts: list[int] = []

    def schedule() -> None:
        checker = fresh()
        shift_counts.append(
            sum(len(checker.shifts(name, YEAR_START, YEAR_START + YEAR)) for name in names)
        )

    timing = best_of(repeats, schedule)
    figures.append(
        Figure(
            "shifts() over 365 days, all 50 rotations, fresh resolver",
            timing.cpu_s,
            "s",
            wall=timing.wall_s,
        )
    )
    detail = {
        "rotations": len(rotations),
        "regions": sum(len(r.regions) for r in rotations.values()),
        "overrides": sum(len(r.overrides) for r in rotations.values()),
        "lookups_per_run": count,
        "best_of": repeats,
        "shifts_in_year": shift_counts[-1],
        "gap_intervals_in_year": sum(len(gaps) for gaps in found.values()),
    }
    return figures, detail


# --- reporting -------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    cpu = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    commit = None
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
            cwd=Path(__file__).resolve().parent,
        )
        commit = out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "implementation": platform.python_implementation(),
        "pager_commit": commit,
    }


def render(figures: list[Figure]) -> str:
    rows = [("measurement (best run)", "CPU time", "wall time", "target", "")]
    for figure in figures:
        verdict = "" if figure.ok is None else ("ok" if figure.ok else "MISSED")
        rows.append(
            (
                figure.name,
                _number(figure.value, figure.unit),
                "" if figure.wall is None else _number(figure.wall, figure.unit),
                figure.target,
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _number(value: float, unit: str) -> str:
    return f"{value:,.0f} {unit}" if unit == "/s" else f"{value:.3f} {unit}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_rotation", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer lookups (for a smoke run)")
    parser.add_argument("--output", type=Path, default=RESULTS / "rotation.json")
    args = parser.parse_args(argv)
    started_at = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    load_before = os.getloadavg()
    figures, detail = measure(args.quick)
    result = {
        "scenario": "rotation",
        "quick": args.quick,
        "started_at": started_at.isoformat(),
        "elapsed_s": round(time.perf_counter() - started, 2),
        "machine": machine(),
        # Other work on the machine slows wall time; CPU time (the figures) much less.
        "load_average": {"before": load_before[0], "after": os.getloadavg()[0]},
        "config": detail,
        "figures": [
            {
                "name": f.name,
                "value": f.value,
                "unit": f.unit,
                "target": f.target,
                "ok": f.ok,
                "wall_value": f.wall,
            }
            for f in figures
        ],
    }
    print(render(figures))
    print(
        f"({detail['rotations']} rotations, {detail['regions']} regions, "
        f"{detail['overrides']} overrides; {detail['shifts_in_year']} shifts in the year)"
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0 if all(f.ok is not False for f in figures) else 1


if __name__ == "__main__":
    sys.exit(main())
