"""A week of coverage (:class:`~pager.core.coverage.Coverage`) drawn as an SVG string.

Lanes top to bottom: one per region (its member while within hours, one colour per
person, holidays hatched grey, overrides outlined dashed), ``overlap`` (two or more
regions within hours at once), and ``pages`` (who takes new pages: a region's member,
the after_hours rotation hatched, gaps in red). A red band also crosses every lane where
nobody is on call. The x axis is UTC: a column per day, a tick every 6 hours.

Every shape carries a ``<title>`` (a tooltip without JavaScript) and ``data-`` attributes
naming its lane and person, which the browser tests read.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from html import escape

from pager.core.coverage import Coverage

LABEL = 110
WIDTH = 7 * 24 * 6  # 6 px per hour
LANE = 26
TOP = 34
#: How an override's segment stands out, in its region's lane and in the pages lane alike.
_OVERRIDE_STROKE = ' stroke="#000" stroke-dasharray="4 2" stroke-width="2"'
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#59a14f",
    "#b07aa1",
    "#edc948",
    "#76b7b2",
    "#ff9da7",
    "#9c755f",
    "#8cd17d",
    "#a0cbe8",
    "#d4a6c8",
    "#86bcb6",
)
GAP_RED = "#d62728"


def colours(people: Mapping[str, object]) -> dict[str, str]:
    """A colour per person id, stable across weeks: by position in people.yaml."""
    return {person: PALETTE[i % len(PALETTE)] for i, person in enumerate(people)}


def _attr(text: object) -> str:
    return escape(str(text), quote=True)


def render(
    cov: Coverage,
    names: Mapping[str, str],
    palette: Mapping[str, str],
    now: datetime | None = None,
) -> str:
    """The SVG (a string, inline-able in HTML). ``names``: person id -> display name."""
    span = (cov.end - cov.start).total_seconds()
    lanes = len(cov.lanes) + 2
    height = TOP + lanes * LANE + 8

    def x(at: datetime) -> float:
        return LABEL + round(WIDTH * (at - cov.start).total_seconds() / span, 2)

    def rect(
        start: datetime, end: datetime, row: int, cls: str, fill: str, title: str, data: str = ""
    ) -> str:
        x0, x1 = x(start), x(end)
        y = TOP + row * LANE + 3
        return (
            f'<rect class="{cls}" x="{x0}" y="{y}" width="{max(x1 - x0, 0.5):.2f}" '
            f'height="{LANE - 6}" fill="{fill}"{data}><title>{escape(title)}</title></rect>'
        )

    def when(start: datetime, end: datetime) -> str:
        return f"{start:%a %H:%M}-{end:%a %H:%M} UTC"

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="coverage" '
        f'data-rotation="{_attr(cov.rotation)}" viewBox="0 0 {LABEL + WIDTH + 10} {height}" '
        f'width="{LABEL + WIDTH + 10}" height="{height}" role="img" '
        f'aria-label="coverage of {_attr(cov.rotation)}">',
        '<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#eee"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#999" stroke-width="2"/></pattern></defs>',
    ]
    # The axis: a column per day, a tick every 6 hours.
    for day in range(7):
        day_start = cov.start + timedelta(days=day)
        out.append(
            f'<text class="day" x="{x(day_start) + 3}" y="12">{day_start:%a %d %b}</text>'
            f'<line x1="{x(day_start)}" y1="0" x2="{x(day_start)}" y2="{height}" '
            'stroke="#888" stroke-width="1"/>'
        )
        for hour in (6, 12, 18):
            tick = x(day_start + timedelta(hours=hour))
            out.append(
                f'<line x1="{tick}" y1="{TOP - 8}" x2="{tick}" y2="{height}" stroke="#ddd"/>'
                f'<text class="hour" x="{tick - 6}" y="{TOP - 10}">{hour:02d}</text>'
            )
    labels = [lane.region for lane in cov.lanes] + ["overlap", "pages"]
    for row, label in enumerate(labels):
        out.append(
            f'<text class="lane-label" x="4" y="{TOP + row * LANE + LANE / 2 + 4}">'
            f"{escape(label)}</text>"
        )
    for row, lane in enumerate(cov.lanes):
        out.append(f'<g class="lane" data-region="{_attr(lane.region)}">')
        for h in cov.holidays:
            if h.region == lane.region:
                out.append(
                    rect(
                        h.start,
                        h.end,
                        row,
                        "holiday",
                        "url(#hatch)",
                        f"{lane.region} holiday {h.day.isoformat()}",
                        f' data-date="{h.day.isoformat()}"',
                    )
                )
        for seg in lane.segments:
            name = names.get(seg.person or "", seg.person or "nobody")
            override = seg.source == "override"
            cls = "seg override" if override else "seg"
            data = f' data-person="{_attr(seg.person or "")}"'
            if override:
                data += _OVERRIDE_STROKE
            out.append(
                rect(
                    seg.start,
                    seg.end,
                    row,
                    cls,
                    palette.get(seg.person or "", "#ccc"),
                    f"{lane.region}: {name}{' (override)' if override else ''} "
                    f"{when(seg.start, seg.end)}",
                    data,
                )
            )
        out.append("</g>")
    row = len(cov.lanes)
    out.append('<g class="lane" data-region="overlap">')
    for a, b in cov.overlaps:
        out.append(rect(a, b, row, "overlap", "#555", f"overlap {when(a, b)}"))
    out.append("</g>")
    row += 1
    out.append('<g class="lane" data-region="pages">')
    for seg in cov.pages:
        if seg.person is None:
            continue
        after = seg.source == "after_hours"
        name = names.get(seg.person, seg.person)
        data = f' data-person="{_attr(seg.person)}" data-source="{seg.source}"'
        if seg.source == "override":
            data += _OVERRIDE_STROKE
        out.append(
            rect(
                seg.start,
                seg.end,
                row,
                "page after-hours" if after else "page",
                palette.get(seg.person, "#ccc"),
                f"pages: {name} ({seg.region or seg.source.replace('_', ' ')}) "
                f"{when(seg.start, seg.end)}",
                data,
            )
        )
        if after:  # hatched over the person's colour: after hours
            out.append(
                rect(
                    seg.start,
                    seg.end,
                    row,
                    "after-hours-mark",
                    "url(#hatch)",
                    "after hours",
                    ' opacity="0.45"',
                )
            )
    for a, b in cov.gaps:
        out.append(rect(a, b, row, "gap", GAP_RED, f"GAP: nobody on call {when(a, b)}"))
        out.append(
            f'<rect class="gap-band" x="{x(a)}" y="{TOP}" width="{max(x(b) - x(a), 0.5):.2f}" '
            f'height="{lanes * LANE}" fill="{GAP_RED}" opacity="0.18"/>'
        )
    out.append("</g>")
    for o in cov.overrides:
        a, b = max(o.start, cov.start), min(o.end, cov.end)
        who = names.get(o.person, o.person)
        if o.replaces:
            who += " for " + names.get(o.replaces, o.replaces)
        out.append(
            f'<line class="override-mark" x1="{x(a)}" y1="{TOP - 4}" x2="{x(b)}" y2="{TOP - 4}" '
            f'stroke="#000" stroke-width="3"><title>override: {escape(who)} '
            f"{when(o.start, o.end)}</title></line>"
        )
    if now is not None and cov.start <= now < cov.end:
        out.append(
            f'<line class="now" x1="{x(now)}" y1="{TOP - 8}" x2="{x(now)}" y2="{height}" '
            'stroke="#000" stroke-width="2"><title>now</title></line>'
        )
    out.append("</svg>")
    return "".join(out)
