"""The report's charts, drawn with matplotlib's object API (no pyplot,
no global backend: Agg renders, nothing needs a display).

Three charts: SLA attainment per tier over time, pages per person by hour of their
local day (a heat map), escalations by reason. Each is returned as SVG text, and as PNG
bytes too when asked (only ``pager report --charts`` writes them; a page inlines the SVG,
so the web never pays for a PNG); the SVG is deterministic (fixed hash salt, no date)
so that a committed chart only changes when its figures do.
"""

from __future__ import annotations

import io
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import matplotlib
import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from pager.report.model import Report


@dataclass(frozen=True, slots=True)
class Chart:
    name: str
    title: str
    svg: str
    #: Empty unless drawn with ``png=True``.
    png: bytes = b""


def _render(fig: Figure, name: str, title: str, png: bool) -> Chart:
    """SVG (fixed hash salt: same figures, same file; text kept as text), and PNG if ``png``."""
    svg = io.StringIO()
    png_bytes = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "pager-report", "svg.fonttype": "none"}):
        fig.savefig(svg, format="svg", metadata={"Date": None}, bbox_inches="tight")
        if png:
            fig.savefig(
                png_bytes, format="png", dpi=110, metadata={"Software": None}, bbox_inches="tight"
            )
    return Chart(name, title, svg.getvalue(), png_bytes.getvalue())


def _empty(ax: Axes, message: str) -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def attainment(report: Report, *, png: bool = False) -> Chart:
    title = "SLA attainment per tier (tickets opened per UTC day)"
    fig = Figure(figsize=(8, 3.5))
    ax = fig.subplots()
    series: dict[str, list[tuple[date, float]]] = defaultdict(list)
    for cell in report.sla_over_time:
        if cell.attainment_pct is not None:
            series[cell.tier].append((cell.day, cell.attainment_pct))
    if not series:
        _empty(ax, "no decided tickets in the period")
    for tier in sorted(series):
        days, values = zip(*series[tier], strict=True)
        ax.plot(days, values, marker="o", markersize=3, label=tier)
    if series:
        period = mdates.date2num([report.start, report.end])  # type: ignore[no-untyped-call]
        ax.set_xlim(float(period[0]), float(period[1]))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y-%m-%d"))  # type: ignore[no-untyped-call]
        ax.set_ylim(0, 105)
        ax.set_ylabel("respond-by met (%)")
        ax.legend(loc="lower left", fontsize="small")
        ax.grid(alpha=0.3)
        fig.autofmt_xdate()
    ax.set_title(title, fontsize="medium")
    return _render(fig, "sla-attainment", title, png)


def heatmap(report: Report, *, png: bool = False) -> Chart:
    title = "Pages per person by hour of their local day"
    people = [p for p in report.people if p.pages]
    fig = Figure(figsize=(8, 0.8 + 0.35 * max(len(people), 2)))
    ax = fig.subplots()
    if not people:
        _empty(ax, "no pages in the period")
    else:
        grid = [p.by_hour for p in people]
        image = ax.imshow(grid, aspect="auto", cmap="OrRd", interpolation="nearest")
        ax.set_yticks(range(len(people)), [f"{p.person} ({p.timezone})" for p in people])
        ax.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
        ax.set_xlabel("local hour")
        bar = fig.colorbar(image, ax=ax, label="pages")
        bar.locator = MaxNLocator(integer=True)
        bar.update_ticks()
    ax.set_title(title, fontsize="medium")
    return _render(fig, "pages-by-hour", title, png)


def reasons(report: Report, *, png: bool = False) -> Chart:
    title = "Escalations by reason"
    fig = Figure(figsize=(6, 0.8 + 0.4 * max(len(report.escalations_by_reason), 2)))
    ax = fig.subplots()
    if not report.escalations_by_reason:
        _empty(ax, "no escalations in the period")
    else:
        names = list(report.escalations_by_reason)[::-1]
        ax.barh(names, [report.escalations_by_reason[n] for n in names], color="#c0504d")
        ax.set_xlabel("escalations")
    ax.set_title(title, fontsize="medium")
    return _render(fig, "escalations-by-reason", title, png)


def charts(report: Report, *, png: bool = False) -> list[Chart]:
    """The three charts; with PNG bytes only when ``png`` (needed by :func:`write`)."""
    return [attainment(report, png=png), heatmap(report, png=png), reasons(report, png=png)]


def write(charts_: list[Chart], directory: Path) -> list[Path]:
    """Write each chart as NAME.svg and NAME.png into ``directory``; the paths written.
    The charts must have been drawn with ``png=True``."""
    if any(not chart.png for chart in charts_):
        raise ValueError("charts drawn without png=True cannot be written")
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for chart in charts_:
        svg, png = directory / f"{chart.name}.svg", directory / f"{chart.name}.png"
        svg.write_text(chart.svg, encoding="utf-8")
        png.write_bytes(chart.png)
        written += [svg, png]
    return written
