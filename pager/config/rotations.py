"""``rotations/*.yaml`` -> :class:`~pager.core.model.Rotation` (one rotation per file).

A region with one member may omit ``handoff`` (it then hands off to itself weekly, from
1970-01-05); with more members ``handoff`` is required. Regions keep file order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pager.config.fields import Fields
from pager.config.refs import Ref
from pager.config.yamltree import YNode, index, join
from pager.core.model import Handoff, HandoffEvery, Override, Region, Rotation, WeeklyHours

#: The handoff of a single-member region that names none (it never changes anyone).
SOLO_HANDOFF = Handoff(every="week", at=0, start=date(1970, 1, 5), day=0)

_EVERY: tuple[HandoffEvery, ...] = ("week", "day")


@dataclass(frozen=True, slots=True)
class Located:
    """A name written at ``line`` / ``path`` of the file being parsed."""

    name: str
    line: int
    path: str


@dataclass(slots=True)
class RotationFile:
    """What one rotation file defines; ``rotation`` is None when it had issues."""

    file: str
    rotation: Rotation | None = None
    name: Located | None = None
    after_hours: Located | None = None
    members: set[str] = field(default_factory=set)
    replaces: list[Located] = field(default_factory=list)
    refs: list[Ref] = field(default_factory=list)


def parse_rotation(root: YNode | None, f: Fields) -> RotationFile:
    result = RotationFile(f.file)
    if root is None:
        f.report(0, "", "the file is empty; it must define a rotation")
        return result
    top = f.fields(
        root, "", ("name", "regions", "after_hours", "overrides"), required=("name", "regions")
    )
    if top is None:
        return result
    before = len(f.issues.log)
    name = f.ident(top["name"], "name", "rotation name") if "name" in top else None
    if name is not None:
        result.name = Located(name, top["name"].line, "name")
    regions = _regions(top["regions"], f, result) if "regions" in top else ()
    after_hours = None
    if "after_hours" in top:
        after_hours = f.ident(top["after_hours"], "after_hours", "rotation name")
        if after_hours is not None:
            line = top["after_hours"].line
            result.after_hours = Located(after_hours, line, "after_hours")
            result.refs.append(Ref("rotation", after_hours, f.file, line, "after_hours"))
    overrides: tuple[Override, ...] = ()
    if "overrides" in top:
        overrides = _overrides(top["overrides"], f, result)
    if name is not None and len(f.issues.log) == before:
        result.rotation = Rotation(
            name=name, regions=regions, after_hours=after_hours, overrides=overrides
        )
    return result


def _regions(node: YNode, f: Fields, result: RotationFile) -> tuple[Region, ...]:
    entries = f.entries(node, "regions", "a mapping of region names")
    if entries is None:
        return ()
    if not entries:
        f.report(node, "regions", "must define at least one region")
        return ()
    regions: list[Region] = []
    for name, entry in entries.items():
        path = join("regions", name)
        if not f.check_ident(entry.key_line, path, name, "region name"):
            continue
        region = _region(name, entry.node, path, f, result)
        if region is not None:
            regions.append(region)
    return tuple(regions)


def _region(name: str, node: YNode, path: str, f: Fields, result: RotationFile) -> Region | None:
    found = f.fields(
        node,
        path,
        ("timezone", "hours", "holidays", "members", "handoff"),
        required=("timezone", "members"),
    )
    if found is None:
        return None
    before = len(f.issues.log)
    timezone = (
        f.timezone(found["timezone"], join(path, "timezone")) if "timezone" in found else None
    )
    members: tuple[str, ...] = ()
    if "members" in found:
        members = _members(found["members"], join(path, "members"), f, result)
    hours = parse_hours(found["hours"], join(path, "hours"), f) if "hours" in found else None
    holidays: frozenset[date] = frozenset()
    if "holidays" in found:
        holidays = f.dates(found["holidays"], join(path, "holidays")) or frozenset()
    handoff: Handoff | None = SOLO_HANDOFF
    if "handoff" in found:
        handoff = _handoff(found["handoff"], join(path, "handoff"), f)
    elif len(members) > 1:
        f.report(node, path, "handoff is required when a region has more than one member")
    if len(f.issues.log) != before or timezone is None or handoff is None:
        return None
    return Region(
        name=name,
        timezone=timezone,
        members=members,
        handoff=handoff,
        hours=hours,
        holidays=holidays,
    )


def _members(node: YNode, path: str, f: Fields, result: RotationFile) -> tuple[str, ...]:
    """The region's members that could be read (each also noted in ``result.members``)."""
    read = f.person_ids(node, path, result.refs, empty="must list at least one person")
    if read is None:
        return ()
    result.members.update(read[0])
    return tuple(read[0])


def parse_hours(node: YNode, path: str, f: Fields) -> WeeklyHours | None:
    """``{days, from, to}``; see :func:`weekly_hours`."""
    found = f.fields(node, path, ("days", "from", "to"), required=("days", "from", "to"))
    return None if found is None else weekly_hours(found, node, path, f)


def weekly_hours(found: dict[str, YNode], node: YNode, path: str, f: Fields) -> WeeklyHours | None:
    """``days``/``from``/``to`` out of a mapping's keys (a region's ``hours`` or a ladder
    calendar); ``from`` must be before ``to``. Missing keys were already reported."""
    days = f.days(found["days"], join(path, "days")) if "days" in found else None
    start = f.time_of_day(found["from"], join(path, "from")) if "from" in found else None
    end = f.time_of_day(found["to"], join(path, "to"), end=True) if "to" in found else None
    if start is not None and end is not None and start >= end:
        f.report(
            node,
            path,
            f"'from' must be before 'to' (got from {_hhmm(start)}, to {_hhmm(end)}); "
            "hours cannot cross midnight",
        )
        return None
    if days is None or start is None or end is None:
        return None
    return WeeklyHours(days=days, start=start, end=end)


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _handoff(node: YNode, path: str, f: Fields) -> Handoff | None:
    found = f.fields(node, path, ("every", "day", "at", "start"), required=("every", "at", "start"))
    if found is None:
        return None
    every = (
        f.choice(found["every"], join(path, "every"), "every", _EVERY) if "every" in found else None
    )
    day = f.weekday(found["day"], join(path, "day")) if "day" in found else None
    if every == "week" and "day" not in found:
        f.report(node, path, "missing required key 'day' (every: week hands off on one weekday)")
        return None
    if every == "day" and "day" in found:
        f.report(found["day"], join(path, "day"), "day is only allowed with every: week")
        return None
    at = f.time_of_day(found["at"], join(path, "at")) if "at" in found else None
    start = f.date(found["start"], join(path, "start")) if "start" in found else None
    if every is None or at is None or start is None or (every == "week" and day is None):
        return None
    return Handoff(every=every, at=at, start=start, day=day if every == "week" else None)


def _overrides(node: YNode, f: Fields, result: RotationFile) -> tuple[Override, ...]:
    items = f.items(node, "overrides")
    if items is None:
        return ()
    overrides: list[Override] = []
    for i, item in enumerate(items):
        path = index("overrides", i)
        found = f.fields(
            item, path, ("person", "replaces", "from", "to"), required=("person", "from", "to")
        )
        if found is None:
            continue
        person = replaces = None
        if "person" in found:
            person = f.text(found["person"], join(path, "person"), "a person id")
            if person is not None:
                line = found["person"].line
                result.refs.append(Ref("person", person, f.file, line, join(path, "person")))
        if "replaces" in found:
            replaces = f.text(found["replaces"], join(path, "replaces"), "a person id")
            if replaces is not None:
                line, sub = found["replaces"].line, join(path, "replaces")
                result.refs.append(Ref("person", replaces, f.file, line, sub))
                result.replaces.append(Located(replaces, line, sub))
        start = f.instant(found["from"], join(path, "from")) if "from" in found else None
        end = f.instant(found["to"], join(path, "to")) if "to" in found else None
        if start is not None and end is not None and start >= end:
            f.report(item, path, "'from' must be before 'to'")
            continue
        if person is None or start is None or end is None:
            continue
        overrides.append(Override(person=person, start=start, end=end, replaces=replaces))
    return tuple(overrides)
