"""Checks that need every file at once: references, duplicates, cycles, queue routing.

Each issue points at the line of the offending value in the file that wrote it.
Names that were defined but invalid still count as defined, so one mistake is reported
once, where it is, not again at every reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from pager.config.issues import ConfigIssue, IssueLog
from pager.config.ladders import LadderFile
from pager.config.people import PeopleFile
from pager.config.refs import Ref
from pager.config.rotations import Located, RotationFile

LADDERS_DIR = "ladders/"

F = TypeVar("F", RotationFile, LadderFile)


def check_references(
    people: PeopleFile,
    rotations: list[RotationFile],
    ladders: list[LadderFile],
    log: IssueLog,
    *,
    ladders_listed: bool = True,
) -> None:
    """Report every cross-file problem into ``log``. ``ladders_listed`` False means the
    ladders directory itself was missing (already reported)."""
    by_rotation = _unique_names(rotations, "rotation", log)
    _unique_names(ladders, "ladder", log)
    known = {
        "person": people.person_ids,
        "role": people.role_names,
        "rotation": set(by_rotation),
    }
    refs: list[Ref] = list(people.refs)
    for rotation in rotations:
        refs.extend(rotation.refs)
    for ladder in ladders:
        refs.extend(ladder.refs)
    # A rotation file that could not be read (or names no rotation) may define the
    # rotation a reference names: reporting those references would only add noise.
    rotations_known = all(parsed.name is not None for parsed in rotations)
    for ref in refs:
        if ref.kind in ("person", "role") and not people.readable:
            continue
        if ref.kind == "role" and not people.roles_readable:
            continue
        if ref.kind == "rotation" and not rotations_known:
            continue
        if ref.name not in known[ref.kind]:
            log.add(ConfigIssue(ref.file, ref.line, ref.path, f"unknown {ref.kind} '{ref.name}'"))
    _after_hours_cycles(by_rotation, log)
    _override_members(by_rotation, people.person_ids, log)
    if ladders or ladders_listed:
        _queue_routing(ladders, log)


def _unique_names(files: Sequence[F], what: str, log: IssueLog) -> dict[str, F]:
    """Name -> first file defining it; later definitions are issues naming both files."""
    first: dict[str, F] = {}
    for parsed in files:
        if parsed.name is None:
            continue
        earlier = first.get(parsed.name.name)
        if earlier is not None:
            log.add(
                ConfigIssue(
                    parsed.file,
                    parsed.name.line,
                    parsed.name.path,
                    f"{what} '{parsed.name.name}' is also defined in {earlier.file}",
                )
            )
            continue
        first[parsed.name.name] = parsed
    return first


def _after_hours_cycles(by_rotation: dict[str, RotationFile], log: IssueLog) -> None:
    for name, parsed in by_rotation.items():
        if parsed.after_hours is None:
            continue
        chain = [name]
        current: str | None = parsed.after_hours.name
        while current is not None and current in by_rotation and current not in chain:
            chain.append(current)
            following = by_rotation[current].after_hours
            current = following.name if following is not None else None
        if current == name:
            where = parsed.after_hours
            cycle = " -> ".join([*chain, name])
            log.add(ConfigIssue(parsed.file, where.line, where.path, f"after_hours cycle: {cycle}"))


def _override_members(
    by_rotation: dict[str, RotationFile], person_ids: set[str], log: IssueLog
) -> None:
    """``replaces`` must be someone the rotation (or its after-hours chain) can yield."""
    for name, parsed in by_rotation.items():
        members = set(parsed.members)
        seen = {name}
        following: Located | None = parsed.after_hours
        while following is not None and following.name in by_rotation:
            if following.name in seen:
                break
            seen.add(following.name)
            members |= by_rotation[following.name].members
            following = by_rotation[following.name].after_hours
        for replaced in parsed.replaces:
            if replaced.name in members or replaced.name not in person_ids:
                continue  # an unknown person is reported by the reference check
            scope = f"rotation '{name}'"
            if len(seen) > 1:
                scope += " or its after_hours rotations"
            log.add(
                ConfigIssue(
                    parsed.file,
                    replaced.line,
                    replaced.path,
                    f"'{replaced.name}' is not a member of {scope}",
                )
            )


def _queue_routing(ladders: list[LadderFile], log: IssueLog) -> None:
    """Each queue routes to one ladder; exactly one ladder (the default) has no queues."""
    if not ladders:
        log.add(
            ConfigIssue(
                LADDERS_DIR, 0, "", "no ladder files: at least the default ladder is required"
            )
        )
        return
    owner: dict[str, LadderFile] = {}
    default: LadderFile | None = None
    for parsed in ladders:
        name = parsed.name.name if parsed.name is not None else parsed.file
        if parsed.queues is None:
            if default is None:
                default = parsed
            else:
                other = default.name.name if default.name is not None else default.file
                where = parsed.name or Located(name, parsed.line, "")
                log.add(
                    ConfigIssue(
                        parsed.file,
                        where.line,
                        where.path,
                        f"ladder '{name}' has no queues, and neither has ladder '{other}' "
                        f"({default.file}); exactly one ladder may be the default",
                    )
                )
            continue
        for queue in parsed.queues:
            first = owner.get(queue.name)
            if first is None:
                owner[queue.name] = parsed
                continue
            other = first.name.name if first.name is not None else first.file
            log.add(
                ConfigIssue(
                    parsed.file,
                    queue.line,
                    queue.path,
                    f"queue '{queue.name}' is also listed by ladder '{other}' ({first.file})",
                )
            )
    if default is None and all(parsed.complete for parsed in ladders):
        log.add(
            ConfigIssue(
                LADDERS_DIR,
                0,
                "",
                "no default ladder: exactly one ladder must have no 'queues'",
            )
        )
