"""``python -m bench.run [--quick] [--only NAME ...]``: run the benchmarks, write results.

Each scenario writes ``bench/results/<name>.json`` (``--quick`` runs write
``<name>.quick.json``) with the machine it ran on, its figures, raw details and notes,
and the run ends with a table of figure / measured / target. A scenario that fails is
recorded with its error and the others still run; the exit status is 1 when any
scenario failed (a missed target is not a failure: it is what was measured).

Scenarios are collected from the ``SCENARIOS`` mapping (name -> ``(Options) -> Outcome``)
of every ``bench/bench_*.py`` module that has one, in the order of :data:`ORDER`, then
any others by name. A module with ``measure(quick) -> (figures, details)`` instead (the
rotation engine's ``bench_rotation``) becomes the scenario named after the module.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import sys
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import bench
from bench.bench_common import RESULTS, WORK, Figure, Options, Outcome, Scenario, machine_info

#: The order of a full run: cheap and in-process first, the long daemon runs last.
ORDER = (
    "core_steps",
    "rotation",
    "store_ingest",
    "simulate_10k",
    "memory_per_ticket",
    "latency",
    "latency_default",
    "throughput",
    "throughput_default",
    "burst",
    "email_throughput",
    "restart",
    "timers",
    "alert_storm",
    "alert_storm_default",
    "report",
    "ha",
)


def discover() -> dict[str, Scenario]:
    """Every scenario of every ``bench.bench_*`` module, in :data:`ORDER` first."""
    found: dict[str, Scenario] = {}
    for module_info in pkgutil.iter_modules(bench.__path__):
        if not module_info.name.startswith("bench_"):
            continue
        module = importlib.import_module(f"bench.{module_info.name}")
        scenarios = getattr(module, "SCENARIOS", None)
        measure = getattr(module, "measure", None)
        if isinstance(scenarios, dict):
            found.update(scenarios)
        elif callable(measure):
            found[module_info.name.removeprefix("bench_")] = _from_measure(measure)
    ordered = {name: found[name] for name in ORDER if name in found}
    ordered.update({name: found[name] for name in sorted(found) if name not in ordered})
    return ordered


def _from_measure(measure: Callable[[bool], tuple[list[Any], dict[str, Any]]]) -> Scenario:
    """A scenario around ``measure(quick) -> (figures, details)``.

    Its figures need ``name``, ``value``, ``unit`` and may have ``target``, ``ok`` and
    ``wall`` (the same figure from wall time, kept in the details).
    """

    def scenario(opts: Options) -> Outcome:
        figures, details = measure(opts.quick)
        converted = [
            Figure(f.name, f.value, f.unit, getattr(f, "target", ""), getattr(f, "ok", None))
            for f in figures
        ]
        walls = {f.name: getattr(f, "wall", None) for f in figures}
        return Outcome(figures=converted, details={**details, "wall": walls})

    return scenario


def run_one(
    name: str, scenario: Scenario, opts: Options, machine: dict[str, Any], results: Path = RESULTS
) -> Outcome:
    started_at = datetime.now(UTC)
    load_before = os.getloadavg()
    started = time.perf_counter()
    error: str | None = None
    try:
        outcome = scenario(opts)
    except Exception:  # recorded, and the next scenario still runs
        error = traceback.format_exc()
        outcome = Outcome(figures=[Figure("scenario failed", None, "")])
    elapsed = time.perf_counter() - started
    record = {
        "scenario": name,
        "quick": opts.quick,
        "started_at": started_at.isoformat(timespec="seconds"),
        "elapsed_s": round(elapsed, 2),
        # Other work on the machine skews every figure: the 1-minute load before and after.
        "load_before": round(load_before[0], 2),
        "load_after": round(os.getloadavg()[0], 2),
        "machine": machine,
        **outcome.to_json(),
        "error": error,
    }
    results.mkdir(parents=True, exist_ok=True)
    suffix = ".quick.json" if opts.quick else ".json"
    (results / f"{name}{suffix}").write_text(json.dumps(record, indent=2, default=str) + "\n")
    status = "FAILED" if error else "done"
    print(f"== {name}: {status} in {elapsed:.1f}s", flush=True)
    if error:
        print(error, file=sys.stderr, flush=True)
    for figure in outcome.figures:
        print(f"   {figure.name}: {figure.shown()}  (target {figure.target or '-'})", flush=True)
    return outcome


def table(rows: list[tuple[str, Figure]]) -> str:
    """A Markdown table: scenario, figure, measured, target, met."""
    lines = ["| scenario | figure | measured | target | met |", "|---|---|---|---|---|"]
    for name, f in rows:
        met = "-" if f.ok is None else ("yes" if f.ok else "**no**")
        lines.append(f"| {name} | {f.name} | {f.shown()} | {f.target or '-'} | {met} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller loads, ~3 minutes")
    parser.add_argument("--only", action="append", metavar="NAME", help="run only NAME")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    parser.add_argument("--work", type=Path, default=WORK, help="scratch directory")
    parser.add_argument(
        "--results", type=Path, default=RESULTS, help="where the JSON results go (experiments)"
    )
    args = parser.parse_args(argv)

    scenarios = discover()
    if args.list:
        print("\n".join(scenarios))
        return 0
    chosen = args.only or list(scenarios)
    unknown = [name for name in chosen if name not in scenarios]
    if unknown:
        parser.error(f"unknown scenario(s): {', '.join(unknown)}; known: {', '.join(scenarios)}")

    machine = machine_info()
    print(
        f"machine: {machine['cores']} cores, {machine['cpu_model']}, Python {machine['python']},"
        f" SQLite {machine['sqlite']}, mosquitto {machine['mosquitto']}",
        flush=True,
    )
    opts = Options(quick=args.quick, work=args.work)
    rows: list[tuple[str, Figure]] = []
    failed = 0
    started = time.perf_counter()
    for name in chosen:
        outcome = run_one(name, scenarios[name], opts, machine, args.results)
        failed += any(f.name == "scenario failed" for f in outcome.figures)
        rows.extend((name, f) for f in outcome.figures)
    print()
    print(table(rows))
    print(f"\n{len(chosen)} scenario(s) in {time.perf_counter() - started:.0f}s", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
