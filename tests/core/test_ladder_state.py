"""The ladder's state types: TicketState is frozen; Draft mirrors it field for field."""

from __future__ import annotations

import dataclasses
import typing
from datetime import timedelta

import pytest

from pager.core.ladder import TicketState
from pager.core.ladder.io import ClosePages, Notify, OpenPage, Record
from pager.core.ladder.state import FIELD_NAMES, Draft, Page, PendingStep
from tests.core.factory import t


def test_draft_has_exactly_the_fields_of_ticket_state_in_order() -> None:
    assert tuple(f.name for f in dataclasses.fields(Draft)) == FIELD_NAMES
    hints, draft_hints = typing.get_type_hints(TicketState), typing.get_type_hints(Draft)
    assert {n: hints[n] for n in FIELD_NAMES} == {n: draft_hints[n] for n in FIELD_NAMES}
    defaults = {f.name: f.default for f in dataclasses.fields(TicketState)}
    assert {f.name: f.default for f in dataclasses.fields(Draft)} == defaults


def test_ticket_state_is_frozen_and_round_trips_through_a_draft() -> None:
    state = TicketState("T-1", None, "premier", 1, t("2026-11-20T02:00"), t("2026-11-20T02:00"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.rung = 2  # type: ignore[misc]
    draft = Draft.of(state)
    draft.rung = 3
    assert state.rung == 0  # the draft is a copy
    assert draft.freeze() == dataclasses.replace(state, rung=3)


def _every_field_set() -> dict[str, object]:
    """A value for every field, none equal to its default, none equal to another's."""
    at = t("2026-11-20T02:00")
    values: dict[str, object] = {}
    for i, f in enumerate(dataclasses.fields(TicketState)):
        hint = str(f.type)
        if hint.startswith("datetime"):
            values[f.name] = at + timedelta(minutes=i)
        elif hint.startswith("timedelta"):
            values[f.name] = timedelta(minutes=i)
        elif hint == "bool":
            values[f.name] = True
        elif hint == "int":
            values[f.name] = 100 + i
        elif hint.startswith("str"):
            values[f.name] = f"value-{i}"
        elif "Page," in hint:
            values[f.name] = (Page("ana", 1, "page", at, "emea"),)
        elif "PendingStep" in hint:
            values[f.name] = (PendingStep(at, "ana", "voice", "page", 1, "opened"),)
        elif "str, ..." in hint:
            values[f.name] = ("ana", "bo")
        elif "int, ..." in hint:
            values[f.name] = (1, 0)
        else:
            raise AssertionError(f"add a value for field {f.name}: {hint}")
    return values


def test_freeze_and_of_carry_every_field() -> None:
    values = _every_field_set()
    state = TicketState(**values)  # type: ignore[arg-type]
    draft = Draft.of(state)
    assert {n: getattr(draft, n) for n in FIELD_NAMES} == values
    frozen = draft.freeze()
    assert type(frozen) is TicketState
    assert {n: getattr(frozen, n) for n in FIELD_NAMES} == values
    assert frozen == state
    assert not hasattr(frozen, "__dict__")  # nothing but the fields (slots)


def test_a_frozen_state_rejects_every_write_even_through_its_draft() -> None:
    values = _every_field_set()
    draft = Draft.of(TicketState(**values))  # type: ignore[arg-type]
    state = draft.freeze()
    for name in FIELD_NAMES:
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(state, name, None)
        with pytest.raises(dataclasses.FrozenInstanceError):
            delattr(state, name)
        # freeze consumed the draft: the old reference is the frozen state now.
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(draft, name, None)
    with pytest.raises((AttributeError, TypeError)):  # no such field, no __dict__
        state.extra = 1  # type: ignore[attr-defined]
    assert {n: getattr(state, n) for n in FIELD_NAMES} == values


def test_commands_and_state_records_are_immutable() -> None:
    at = t("2026-11-20T02:00")
    records: list[object] = [
        Page("ana", 1, "page", at, None),
        PendingStep(at, "ana", "voice", "page", 1),
        Notify("T-1#1", "T-1", at, "ana", "sms", "page", "page", 1, "opened"),
        Record("T-1", at, "note", "opened"),
        OpenPage("T-1", "ana"),
        ClosePages("T-1"),
    ]
    for record in records:
        for name in type(record)._fields:  # type: ignore[attr-defined]
            with pytest.raises(AttributeError):
                setattr(record, name, None)
        with pytest.raises(AttributeError):
            record.extra = 1  # type: ignore[attr-defined]
    assert PendingStep(at, "ana", "voice", "page", 1).reason is None  # defaults kept
    assert ClosePages("T-1").persons is None
