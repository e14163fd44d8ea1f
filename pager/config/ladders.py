"""``ladders/*.yaml`` -> :class:`~pager.core.model.Ladder` (one ladder per file).

Checked here, within one file: every tier's calendar exists in this ladder, every tier
has severity 1, severities are 1..4, business durations only with ``clock: business``,
rung names are unique, ``repeat`` only on the last rung, targets are well formed,
``escalate_to`` names an existing rung (1..number of rungs).
Whether targets exist, and queue routing across ladders, is :mod:`crossref`'s job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from types import MappingProxyType

from pager.config.fields import Fields
from pager.config.refs import Ref, RefKind
from pager.config.rotations import Located, weekly_hours
from pager.config.yamltree import YNode, YSeq, index, join
from pager.core.model import (
    BusinessDays,
    BusinessHours,
    Calendar,
    ClockKind,
    Duration,
    Ladder,
    Rung,
    SeverityPolicy,
    Target,
    Tier,
    Urgency,
)

DEFAULT_STATUS_REPORT_LEAD = timedelta(minutes=15)
SEVERITIES = (1, 2, 3, 4)
_TARGET_KINDS: dict[str, RefKind] = {"rotation": "rotation", "role": "role", "person": "person"}
_URGENCIES: tuple[Urgency, ...] = ("high", "low")
_CLOCKS: tuple[ClockKind, ...] = ("24x7", "business")
#: An ``escalate_to`` value, where it was written: checked once the rungs are known.
_Cap = tuple[YNode, str, int]


@dataclass(slots=True)
class LadderFile:
    """What one ladder file defines; ``ladder`` is None when it had issues.
    ``queues`` is None when the file has no ``queues`` key (the default ladder)."""

    file: str
    ladder: Ladder | None = None
    name: Located | None = None
    queues: list[Located] | None = None
    line: int = 1
    refs: list[Ref] = field(default_factory=list)
    #: False when the file's top level could not be read (its routing is unknown).
    complete: bool = False


def parse_ladder(root: YNode | None, f: Fields) -> LadderFile:
    # Until the file is known to have no `queues`, it is not a candidate default ladder.
    result = LadderFile(f.file, queues=[])
    if root is None:
        f.report(0, "", "the file is empty; it must define a ladder")
        return result
    result.line = root.line
    top = f.fields(
        root,
        "",
        ("name", "queues", "calendars", "tiers", "status_report_lead", "rungs"),
        required=("name", "tiers", "rungs"),
    )
    if top is None:
        return result
    result.queues = None
    result.complete = True
    before = len(f.issues.log)
    name = f.ident(top["name"], "name", "ladder name") if "name" in top else None
    if name is not None:
        result.name = Located(name, top["name"].line, "name")
    queues: tuple[str, ...] = ()
    if "queues" in top:
        result.queues = _queues(top["queues"], f)
        queues = tuple(queue.name for queue in result.queues)
    calendars: dict[str, Calendar] = {}
    calendar_names: list[str] = []
    if "calendars" in top:
        calendars, calendar_names = _calendars(top["calendars"], f)
    tiers: dict[str, Tier] = {}
    caps: list[_Cap] = []
    if "tiers" in top:
        tiers = _tiers(top["tiers"], calendar_names, f, caps)
    lead = DEFAULT_STATUS_REPORT_LEAD
    if "status_report_lead" in top:
        lead = f.wall(top["status_report_lead"], "status_report_lead", positive=False) or lead
    rungs: tuple[Rung, ...] = ()
    if "rungs" in top:
        rungs = _rungs(top["rungs"], f, result.refs)
        for where, path, cap in caps:
            if rungs and cap > len(rungs):
                f.report(where, path, f"escalate_to {cap} is above the last rung ({len(rungs)})")
    if name is not None and len(f.issues.log) == before:
        result.ladder = Ladder(
            name=name,
            calendars=MappingProxyType(calendars),
            tiers=MappingProxyType(tiers),
            rungs=rungs,
            status_report_lead=lead,
            queues=queues,
        )
    return result


def _queues(node: YNode, f: Fields) -> list[Located]:
    items = f.items(node, "queues", single=True)
    if items is None:
        return []
    if not items:
        f.report(
            node, "queues", "must list at least one queue (leave it out for the default ladder)"
        )
    queues: list[Located] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        path = index("queues", i)
        queue = f.text(item, path, "a queue name")
        if queue is None:
            continue
        if queue in seen:
            f.report(item, path, f"queue '{queue}' is listed twice")
            continue
        seen.add(queue)
        queues.append(Located(queue, item.line, path))
    return queues


def _calendars(node: YNode, f: Fields) -> tuple[dict[str, Calendar], list[str]]:
    entries = f.entries(node, "calendars", "a mapping of calendar names")
    calendars: dict[str, Calendar] = {}
    names: list[str] = []
    for name, entry in (entries or {}).items():
        path = join("calendars", name)
        names.append(name)
        if not f.check_ident(entry.key_line, path, name, "calendar name"):
            continue
        found = f.fields(
            entry.node,
            path,
            ("timezone", "days", "from", "to", "holidays"),
            required=("timezone", "days", "from", "to"),
        )
        if found is None:
            continue
        timezone = None
        if "timezone" in found:
            timezone = f.timezone(found["timezone"], join(path, "timezone"))
        hours = weekly_hours(found, entry.node, path, f)
        holidays = None
        if "holidays" in found:
            holidays = f.dates(found["holidays"], join(path, "holidays"))
            if holidays is None:
                continue
        if timezone is not None and hours is not None:
            calendars[name] = Calendar(name, timezone, hours, holidays or frozenset())
    return calendars, names


def _tiers(node: YNode, calendar_names: list[str], f: Fields, caps: list[_Cap]) -> dict[str, Tier]:
    entries = f.entries(node, "tiers", "a mapping of tier names")
    if entries is None:
        return {}
    if not entries:
        f.report(node, "tiers", "must define at least one tier")
    tiers: dict[str, Tier] = {}
    for name, entry in entries.items():
        path = join("tiers", name)
        if not f.check_ident(entry.key_line, path, name, "tier name"):
            continue
        found = f.fields(
            entry.node, path, ("calendar", "severities"), required=("calendar", "severities")
        )
        if found is None:
            continue
        calendar = None
        if "calendar" in found:
            calendar = f.text(found["calendar"], join(path, "calendar"), "a calendar name")
            if calendar is not None and calendar not in calendar_names:
                defined = ", ".join(calendar_names) if calendar_names else "none"
                f.report(
                    found["calendar"],
                    join(path, "calendar"),
                    f"unknown calendar '{calendar}' (this ladder's calendars: {defined})",
                )
                calendar = None
        severities = None
        if "severities" in found:
            severities = _severities(found["severities"], join(path, "severities"), f, caps)
        if calendar is not None and severities is not None:
            tiers[name] = Tier(name, calendar, MappingProxyType(severities))
    return tiers


def _severities(
    node: YNode, path: str, f: Fields, caps: list[_Cap]
) -> dict[int, SeverityPolicy] | None:
    entries = f.entries(node, path, "a mapping of severities 1..4")
    if entries is None:
        return None
    ok = True
    policies: dict[int, SeverityPolicy] = {}
    for key, entry in entries.items():
        sub = join(path, key)
        if key not in {str(s) for s in SEVERITIES}:
            f.report(entry.key_line, sub, f"severity must be 1, 2, 3 or 4, got '{key}'")
            ok = False
            continue
        policy = _policy(entry.node, sub, f, caps)
        if policy is None:
            ok = False
        else:
            policies[int(key)] = policy
    if "1" not in entries:
        f.report(node, path, "severity 1 is required")
        ok = False
    return policies if ok else None


def _policy(node: YNode, path: str, f: Fields, caps: list[_Cap]) -> SeverityPolicy | None:
    found = f.fields(
        node,
        path,
        ("respond_within", "status_every", "urgency", "clock", "escalate_to"),
        required=("respond_within", "urgency", "clock"),
    )
    if found is None:
        return None
    clock = (
        f.choice(found["clock"], join(path, "clock"), "clock", _CLOCKS)
        if "clock" in found
        else None
    )
    urgency = None
    if "urgency" in found:
        urgency = f.choice(found["urgency"], join(path, "urgency"), "urgency", _URGENCIES)
    respond = _policy_duration(found, "respond_within", path, clock, f)
    status = _policy_duration(found, "status_every", path, clock, f)
    escalate_to = None
    if "escalate_to" in found:
        escalate_to = f.integer(found["escalate_to"], join(path, "escalate_to"), minimum=1)
        if escalate_to is None:
            return None
        caps.append((found["escalate_to"], join(path, "escalate_to"), escalate_to))
    if clock is None or urgency is None or respond is None:
        return None
    if "status_every" in found and status is None:
        return None
    return SeverityPolicy(
        respond_within=respond,
        urgency=urgency,
        clock=clock,
        status_every=status,
        escalate_to=escalate_to,
    )


def _policy_duration(
    found: dict[str, YNode], key: str, path: str, clock: ClockKind | None, f: Fields
) -> Duration | None:
    if key not in found:
        return None
    duration = f.duration(found[key], join(path, key))
    if clock == "24x7" and isinstance(duration, BusinessHours | BusinessDays):
        f.report(
            found[key],
            join(path, key),
            "a business duration needs clock: business (this severity has clock: 24x7)",
        )
        return None
    return duration


def _rungs(node: YNode, f: Fields, refs: list[Ref]) -> tuple[Rung, ...]:
    items = f.items(node, "rungs")
    if items is None:
        return ()
    if not items:
        f.report(node, "rungs", "must list at least one rung")
        return ()
    rungs: list[Rung] = []
    names: dict[str, int] = {}
    for i, item in enumerate(items):
        path = index("rungs", i)
        found = f.fields(
            item,
            path,
            ("name", "page", "inform", "ack_within", "repeat", "respond_within"),
            required=("name", "page", "ack_within"),
        )
        if found is None:
            continue
        name = f.ident(found["name"], join(path, "name"), "rung name") if "name" in found else None
        if name is not None and name in names:
            f.report(
                found["name"],
                join(path, "name"),
                f"duplicate rung name '{name}' (also rung {names[name]})",
            )
            name = None
        elif name is not None:
            names[name] = i + 1
        page = (
            _targets(found["page"], join(path, "page"), f, refs, required=True)
            if "page" in found
            else None
        )
        inform: tuple[Target, ...] | None = ()
        if "inform" in found:
            inform = _targets(found["inform"], join(path, "inform"), f, refs, required=False)
        ack_within = None
        if "ack_within" in found:
            ack_within = f.wall(found["ack_within"], join(path, "ack_within"))
        respond_within: Duration | None = None
        if "respond_within" in found:
            respond_within = f.duration(found["respond_within"], join(path, "respond_within"))
            if respond_within is None:
                continue
        repeat: int | None = 0
        if "repeat" in found:
            repeat = f.integer(found["repeat"], join(path, "repeat"), minimum=0)
            if repeat and i != len(items) - 1:
                f.report(
                    found["repeat"], join(path, "repeat"), "repeat applies only to the last rung"
                )
                repeat = None
        if name is None or page is None or inform is None or ack_within is None or repeat is None:
            continue
        rungs.append(
            Rung(
                name=name,
                page=page,
                ack_within=ack_within,
                inform=inform,
                repeat=repeat,
                respond_within=respond_within,
            )
        )
    return tuple(rungs)


def _targets(
    node: YNode, path: str, f: Fields, refs: list[Ref], *, required: bool
) -> tuple[Target, ...] | None:
    items = f.items(node, path, single=True)
    if items is None:
        return None
    if required and not items:
        f.report(node, path, "must name at least one target")
        return None
    targets: list[Target] = []
    for i, item in enumerate(items):
        sub = index(path, i) if isinstance(node, YSeq) else path
        text = f.text(item, sub, "a target like rotation:NAME")
        if text is None:
            continue
        kind_text, colon, name = (part.strip() for part in text.partition(":"))
        target_kind = _TARGET_KINDS.get(kind_text)
        if not colon or not name or target_kind is None:
            f.report(
                item, sub, f"target must be rotation:NAME, role:NAME or person:ID, got {text!r}"
            )
            continue
        refs.append(Ref(target_kind, name, f.file, item.line, sub))
        targets.append(Target(target_kind, name))
    return tuple(targets) if len(targets) == len(items) else None
