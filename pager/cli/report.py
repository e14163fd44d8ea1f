"""``pager report -c DIR --from T --to T [--tier T] [--format text|csv|json|html]
[--output PATH] [--charts DIR]``: SLA attainment and on-call load over a period."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pager.cli.common import TIME_HELP, CliError, UsageError, add_time_argument, load_or_report
from pager.report import render
from pager.report.build import build
from pager.report.source import connect

FORMATS = ("text", "csv", "json", "html")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_time_argument(
        parser, "--from", dest="start", required=True, help=f"period start (inclusive); {TIME_HELP}"
    )
    add_time_argument(parser, "--to", dest="end", required=True, help="period end (exclusive)")
    parser.add_argument("--tier", help="only tickets of this tier")
    parser.add_argument(
        "--format", choices=FORMATS, default="text", help="output format (default text)"
    )
    parser.add_argument("--output", "-o", help="write the report to PATH instead of stdout")
    parser.add_argument(
        "--charts", metavar="DIR", help="also write the charts to DIR as SVG and PNG"
    )


def run(args: argparse.Namespace) -> int:
    # Imported here, not at module level: the CLI imports every command module to build
    # its parser, so matplotlib would otherwise load in every `pager run` daemon.
    from pager.report import charts as charts_mod
    from pager.report.html import html

    if args.end <= args.start:
        raise UsageError("--to must be after --from")
    config = load_or_report(args.config)
    if config is None:
        return 1
    if args.tier is not None and config.tier(args.tier) is None:
        raise UsageError(f"unknown tier {args.tier!r}")
    try:
        conn = connect(config.settings.store)
    except LookupError as exc:
        raise CliError(str(exc)) from None
    try:
        report = build(config, conn, args.start, args.end, args.tier)
    finally:
        conn.close()
    drawn = (
        charts_mod.charts(report, png=bool(args.charts))
        if args.format == "html" or args.charts
        else []
    )
    if args.format == "text":
        out = render.text(report)
    elif args.format == "csv":
        out = render.csv_text(report)
    elif args.format == "json":
        out = render.json_text(report)
    else:
        out = html(report, drawn)
    if args.output:
        Path(args.output).write_text(out, encoding="utf-8")
    else:
        sys.stdout.write(out)
    if args.charts:
        for path in charts_mod.write(drawn, Path(args.charts)):
            print(f"wrote {path}", file=sys.stderr)
    return 0
