"""The ladder's state types: TicketState is frozen; Draft mirrors it field for field."""

from __future__ import annotations

import dataclasses
import typing

import pytest

from pager.core.ladder import TicketState
from pager.core.ladder.state import FIELD_NAMES, Draft
from tests.core.factory import t


def test_draft_has_exactly_the_fields_of_ticket_state_in_order() -> None:
    assert tuple(f.name for f in dataclasses.fields(Draft)) == FIELD_NAMES
    hints, draft_hints = typing.get_type_hints(TicketState), typing.get_type_hints(Draft)
    assert {n: hints[n] for n in FIELD_NAMES} == {n: draft_hints[n] for n in FIELD_NAMES}


def test_ticket_state_is_frozen_and_round_trips_through_a_draft() -> None:
    state = TicketState("T-1", None, "premier", 1, t("2026-11-20T02:00"), t("2026-11-20T02:00"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        state.rung = 2  # type: ignore[misc]
    draft = Draft.of(state)
    draft.rung = 3
    assert state.rung == 0  # the draft is a copy
    assert draft.freeze() == dataclasses.replace(state, rung=3)
