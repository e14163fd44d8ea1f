"""Read-only answers the ladder needs from the config: policies, calendars, targets.

:class:`Policy` wraps one validated :class:`~pager.core.model.Config` and its rotation
resolver. It is pure (instants in, answers out) and immutable; a reload builds a new one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pager.core.hours import OpeningHours
from pager.core.model import Config, Ladder, Person, Rung, SeverityPolicy, Target, Tier
from pager.core.rotation import RotationResolver


class PolicyError(LookupError):
    """The ticket names something the config does not define (tier, severity)."""


@dataclass(frozen=True, slots=True)
class Resolved:
    """One person a target yields, and the rotation that yielded them (if any)."""

    person: str
    rotation: str | None


@dataclass(frozen=True, slots=True)
class TicketPolicy:
    ladder: Ladder
    tier: Tier
    severity: SeverityPolicy
    calendar: OpeningHours


class Policy:
    """The config as the ladder state machine sees it."""

    def __init__(self, config: Config, resolver: RotationResolver | None = None) -> None:
        self.config = config
        self.resolver = resolver or RotationResolver(config.rotations)
        self._calendars: dict[tuple[str, str], OpeningHours] = {}
        self._policies: dict[tuple[str | None, str, int], TicketPolicy] = {}
        self._ladder_regions: dict[str, dict[str, str]] = {}
        # A set per rotation: a fan-out rotation may have thousands of regions.
        self._regions = {
            name: frozenset(r.name for r in rot.regions) for name, rot in config.rotations.items()
        }

    def ticket_policy(self, queue: str | None, tier: str, severity: int) -> TicketPolicy:
        """The ladder/tier/severity policy for a ticket; raises PolicyError if undefined."""
        key = (queue, tier, severity)
        found = self._policies.get(key)
        if found is None:
            found = self._policies[key] = self._ticket_policy(queue, tier, severity)
        return found

    def _ticket_policy(self, queue: str | None, tier: str, severity: int) -> TicketPolicy:
        ladder = self.config.ladder_for(queue)
        tier_policy = ladder.tiers.get(tier)
        if tier_policy is None:
            raise PolicyError(f"unknown tier {tier!r} in ladder {ladder.name!r}")
        sev = tier_policy.severities.get(severity)
        if sev is None:
            raise PolicyError(f"tier {tier!r} defines no severity {severity}")
        return TicketPolicy(ladder, tier_policy, sev, self.calendar(ladder, tier_policy.calendar))

    def region(self, ladder: Ladder, name: str) -> str | None:
        """``name`` spelled as the config spells it, if it is a region of a rotation
        ``ladder`` pages (matched case-insensitively: the desk may send "EMEA"); else None.
        """
        found = self._ladder_regions.get(ladder.name)
        if found is None:
            found = {}
            for rung in ladder.rungs:
                for target in rung.page:
                    rotation = self.config.rotations.get(target.name)
                    if target.kind != "rotation" or rotation is None:
                        continue
                    for region in rotation.regions:
                        found.setdefault(region.name.casefold(), region.name)
            self._ladder_regions[ladder.name] = found
        return found.get(name.casefold())

    def calendar(self, ladder: Ladder, name: str) -> OpeningHours:
        key = (ladder.name, name)
        found = self._calendars.get(key)
        if found is None:
            found = OpeningHours.of_calendar(ladder.calendars[name])
            self._calendars[key] = found
        return found

    def person(self, person_id: str) -> Person | None:
        return self.config.people.get(person_id)

    def rung(self, ladder: Ladder, number: int) -> Rung:
        """Rung ``number`` (1-based)."""
        return ladder.rungs[number - 1]

    def resolve(
        self, targets: tuple[Target, ...], at: datetime, region: str | None
    ) -> list[Resolved]:
        """The people ``targets`` yield at ``at``, de-duplicated, in target order.

        A ``region`` restricts rotation targets to that region's member (SPEC section 4);
        it does not apply to roles or named people, nor to rotations without that region.
        """
        seen: set[str] = set()
        out: list[Resolved] = []
        for target in targets:
            for person, rotation in self._resolve_one(target, at, region):
                if person not in seen and person in self.config.people:
                    seen.add(person)
                    out.append(Resolved(person, rotation))
        return out

    def _resolve_one(
        self, target: Target, at: datetime, region: str | None
    ) -> list[tuple[str, str | None]]:
        if target.kind == "person":
            return [(target.name, None)]
        if target.kind == "role":
            return [(p, None) for p in self.config.roles.get(target.name, ())]
        person = self.oncall(target.name, at, region)
        return [(person, target.name)] if person is not None else []

    def oncall(self, rotation: str, at: datetime, region: str | None) -> str | None:
        """Who ``rotation`` yields at ``at`` (region-restricted when it has ``region``)."""
        rot = self.config.rotations.get(rotation)
        if rot is None:
            return None
        if region is not None and region in self._regions[rotation]:
            return self.resolver.oncall_in_region(rotation, region, at).person
        return self.resolver.oncall(rotation, at).person

    def next_change(self, rotation: str, after: datetime) -> datetime | None:
        if rotation not in self.config.rotations:
            return None
        return self.resolver.next_change(rotation, after)
