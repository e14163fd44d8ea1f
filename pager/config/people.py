"""``people.yaml`` -> people and roles.

A person needs a phone or an email. Without ``notify`` a person gets
:data:`~pager.core.model.DEFAULT_NOTIFY` minus the channels they have no contact for; an
explicit ``notify`` step on a channel they cannot be reached by is an issue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from pager.config import values
from pager.config.fields import Fields
from pager.config.refs import Ref
from pager.config.yamltree import YNode, index, join
from pager.core.model import DEFAULT_NOTIFY, Channel, NotifyStep, Person, ShiftNotice

CHANNELS: tuple[Channel, ...] = ("sms", "voice", "email")


@dataclass(slots=True)
class PeopleFile:
    """What ``people.yaml`` defines. ``person_ids``/``role_names`` include entries that
    had issues (so references to them are not reported a second time)."""

    people: dict[str, Person] = field(default_factory=dict)
    person_ids: set[str] = field(default_factory=set)
    roles: dict[str, tuple[str, ...]] = field(default_factory=dict)
    role_names: set[str] = field(default_factory=set)
    refs: list[Ref] = field(default_factory=list)
    #: False when the people mapping could not be read: references to people (and
    #: roles) are then left unchecked rather than all reported as unknown.
    readable: bool = True
    roles_readable: bool = True


def parse_people(root: YNode | None, f: Fields) -> PeopleFile:
    # Until the people mapping is read, references to people cannot be checked.
    result = PeopleFile(readable=False)
    if root is None:
        f.report(0, "", "the file is empty; it must define people")
        return result
    top = f.fields(root, "", ("people", "roles"), required=("people",))
    if top is None:
        return result
    if "people" in top:
        entries = f.entries(top["people"], "people", "a mapping of person ids")
        result.readable = entries is not None
        for person_id, entry in (entries or {}).items():
            path = join("people", person_id)
            result.person_ids.add(person_id)
            if not f.check_ident(entry.key_line, path, person_id, "person id"):
                continue
            person = _person(person_id, entry.node, path, f)
            if person is not None:
                result.people[person_id] = person
    if "roles" in top:
        roles = f.entries(top["roles"], "roles", "a mapping of role names")
        result.roles_readable = roles is not None
        for name, entry in (roles or {}).items():
            path = join("roles", name)
            result.role_names.add(name)
            if not f.check_ident(entry.key_line, path, name, "role name"):
                continue
            members = _members(name, entry.node, path, f, result.refs)
            if members is not None:
                result.roles[name] = members
    return result


def _person(person_id: str, node: YNode, path: str, f: Fields) -> Person | None:
    found = f.fields(node, path, ("name", "phone", "email", "notify", "notify_shift"))
    if found is None:
        return None
    ok = True
    name = person_id
    if "name" in found:
        name = f.text(found["name"], join(path, "name")) or person_id
    phone = email = None
    if "phone" in found:
        phone = f.parsed(found["phone"], join(path, "phone"), values.parse_phone, "a phone number")
        ok = ok and phone is not None
    if "email" in found:
        email = f.parsed(found["email"], join(path, "email"), values.parse_email, "an address")
        ok = ok and email is not None
    if "phone" not in found and "email" not in found:
        f.report(node, path, "needs a phone or an email to be reachable")
        return None
    reachable = {"sms": "phone" in found, "voice": "phone" in found, "email": "email" in found}
    notify = tuple(step for step in DEFAULT_NOTIFY if reachable[step.via])
    if "notify" in found:
        explicit = _notify(found["notify"], join(path, "notify"), reachable, f)
        ok = ok and explicit is not None
        notify = explicit or notify
    shift = None
    if "notify_shift" in found:
        shift = _notify_shift(found["notify_shift"], join(path, "notify_shift"), reachable, f)
        ok = ok and shift is not None
    if not ok:
        return None
    return Person(
        id=person_id, name=name, phone=phone, email=email, notify=notify, notify_shift=shift
    )


def _notify_shift(
    node: YNode, path: str, reachable: dict[str, bool], f: Fields
) -> ShiftNotice | None:
    """``{via: sms|email, lead: DURATION}`` (lead optional, default 0: no reminder)."""
    found = f.fields(node, path, ("via", "lead"), required=("via",))
    if found is None or "via" not in found:
        return None
    options: tuple[Channel, ...] = ("sms", "email")
    via = f.choice(found["via"], join(path, "via"), "via", options)
    if via is not None and not reachable[via]:
        contact = "email" if via == "email" else "phone"
        f.report(found["via"], join(path, "via"), f"shift notices by {via} need a {contact}")
        return None
    lead = f.wall(found["lead"], join(path, "lead"), positive=False) if "lead" in found else None
    if via is None or ("lead" in found and lead is None):
        return None
    return ShiftNotice(via, lead or timedelta(0))


def _notify(
    node: YNode, path: str, reachable: dict[str, bool], f: Fields
) -> tuple[NotifyStep, ...] | None:
    items = f.items(node, path)
    if items is None:
        return None
    if not items:
        f.report(node, path, "must list at least one step")
        return None
    steps: list[NotifyStep] = []
    ok = True
    for i, item in enumerate(items):
        sub = index(path, i)
        step = f.fields(item, sub, ("via", "after"), required=("via", "after"))
        if step is None or "via" not in step or "after" not in step:
            ok = False
            continue
        via = f.choice(step["via"], join(sub, "via"), "via", CHANNELS)
        after = f.wall(step["after"], join(sub, "after"), positive=False)
        if via is not None and not reachable[via]:
            contact = "email" if via == "email" else "phone"
            f.report(
                step["via"], join(sub, "via"), f"notify via {via} needs this person's {contact}"
            )
            via = None
        if via is None or after is None:
            ok = False
            continue
        steps.append(NotifyStep(via, after))
    return tuple(steps) if ok else None


def _members(
    name: str, node: YNode, path: str, f: Fields, refs: list[Ref]
) -> tuple[str, ...] | None:
    """The role's members, or None when any of them could not be read."""
    read = f.person_ids(node, path, refs, empty=f"role '{name}' must list at least one person")
    if read is None or not read[1]:
        return None
    return tuple(read[0])
