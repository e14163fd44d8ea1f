"""``pager check``'s look at overrides: the ones that are over, and the ones that do nothing.

An override that never changes who is on call is almost always a mistake (the wrong week,
the wrong ``replaces``): the person it meant to cover still gets paged. It is not invalid,
so ``pager check`` warns and still exits 0.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from pager.core.model import Config, Override, Rotation
from pager.core.rotation import RotationResolver

#: Instants are compared every STEP (and at every change the resolver reports).
STEP = timedelta(minutes=15)
#: At most this many grid instants per override (a year-long one is sampled more coarsely).
MAX_SAMPLES = 20_000


def override_warnings(config: Config, now: datetime) -> list[str]:
    """One line per override that has ended before ``now``, or that never changes who
    takes new pages (:meth:`RotationResolver.oncall`); the line says when it changes only
    who a region-restricted ticket pages (the region's member while the region is closed).
    """
    warnings: list[str] = []
    with_all = RotationResolver(config.rotations)
    for rotation in config.rotations.values():
        for index, override in enumerate(rotation.overrides):
            where = f"rotation '{rotation.name}' overrides[{index}] ({_describe(override)})"
            if override.end <= now:
                warnings.append(f"warning: {where}: ended before now; it no longer does anything")
                continue
            without = _without(config, rotation, index)
            new_pages, regions = _changes(with_all, without, rotation, override)
            if new_pages:
                continue
            who = override.replaces or "whoever is on call"
            only = (
                f"; it only changes who a ticket restricted to {', '.join(sorted(regions))} pages"
                if regions
                else ""
            )
            warnings.append(
                f"warning: {where}: never changes who takes new pages ({who} is not on call "
                f"in {rotation.name} then, or {override.person} already is){only}; check "
                "its dates and 'replaces'"
            )
    return warnings


def _describe(override: Override) -> str:
    span = f"{_utc(override.start)} - {_utc(override.end)}"
    if override.replaces is None:
        return f"{override.person}, {span}"
    return f"{override.person} replaces {override.replaces}, {span}"


def _without(config: Config, rotation: Rotation, index: int) -> RotationResolver:
    others = rotation.overrides[:index] + rotation.overrides[index + 1 :]
    rotations = dict(config.rotations)
    rotations[rotation.name] = dataclasses.replace(rotation, overrides=others)
    return RotationResolver(rotations)


def _changes(
    with_all: RotationResolver, without: RotationResolver, rotation: Rotation, override: Override
) -> tuple[bool, set[str]]:
    """Whether the override changes who takes new pages at some instant, and the regions
    whose region-restricted answer it changes."""
    name = rotation.name
    all_regions = with_all.regions(name)
    regions: set[str] = set()
    for at in _instants(without, name, override):
        if with_all.oncall(name, at).person != without.oncall(name, at).person:
            return True, regions
        for region in all_regions:
            if region in regions:
                continue  # already known to change; no need to ask again
            before = without.oncall_in_region(name, region, at).person
            if with_all.oncall_in_region(name, region, at).person != before:
                regions.add(region)
    return False, regions


def _instants(resolver: RotationResolver, name: str, override: Override) -> Iterator[datetime]:
    """The override's start, every change of the rotation inside it, and a grid."""
    start, end = override.start.astimezone(UTC), override.end.astimezone(UTC)
    step = max(STEP, (end - start) / MAX_SAMPLES)
    changes: set[datetime] = set()
    at: datetime | None = start
    while at is not None and at < end and len(changes) < MAX_SAMPLES:
        changes.add(at)
        at = resolver.next_change(name, at)
    grid = start
    while grid < end:
        changes.add(grid)
        grid += step
    yield from sorted(changes)


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).strftime("%Y-%m-%d %H:%MZ")
