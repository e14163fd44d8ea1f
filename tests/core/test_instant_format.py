"""format_instant_seconds: RFC 3339 in UTC to whole seconds, as isoformat writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from pager.core.events import format_instant_seconds


@given(st.datetimes(timezones=st.just(UTC)))
def test_it_is_isoformat_cut_to_seconds(t: datetime) -> None:
    assert format_instant_seconds(t) == t.isoformat(timespec="seconds")[:-6] + "Z"


def test_other_offsets_are_written_in_utc_and_small_years_keep_four_digits() -> None:
    plus_two = timezone(timedelta(hours=2))
    assert format_instant_seconds(datetime(2026, 11, 20, 2, 0, 5, 999, plus_two)) == (
        "2026-11-20T00:00:05Z"
    )
    assert format_instant_seconds(datetime(987, 1, 2, 3, 4, 5, tzinfo=UTC)) == (
        "0987-01-02T03:04:05Z"
    )
