"""``Home.place`` (arithmetic on cached offsets) agrees with zoneinfo's local time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from pager.core.model import WeeklyHours
from pager.report.localday import Home

ZONES = (
    "Europe/Bucharest",
    "America/New_York",
    "Asia/Kolkata",
    "Asia/Kathmandu",
    "Australia/Lord_Howe",
    "UTC",
)
HOURS = WeeklyHours(frozenset({0, 1, 2, 3, 4}), 8 * 60 + 30, 17 * 60 + 30)


@settings(max_examples=400, deadline=None)
@given(
    zone=st.sampled_from(ZONES),
    at=st.integers(
        int(datetime(2026, 1, 1, tzinfo=UTC).timestamp()),
        int(datetime(2028, 1, 1, tzinfo=UTC).timestamp()),
    ),
)
def test_place_matches_zoneinfo(zone: str, at: int) -> None:
    holiday = datetime.fromtimestamp(at, UTC).date() + timedelta(days=at % 3 - 1)
    home = Home("r", zone, HOURS, frozenset({holiday}))
    local = home.local(at)
    assert home.place(at) == (local.hour, home.period(local))


def test_bucharest_dst_change() -> None:
    home = Home("eng/emea", "Europe/Bucharest", HOURS, frozenset({date(2026, 10, 28)}))
    friday = datetime(2026, 10, 23, 6, 0, tzinfo=UTC).timestamp()  # 09:00 EEST
    monday = datetime(2026, 10, 26, 6, 0, tzinfo=UTC).timestamp()  # 08:00 EET
    assert home.place(friday) == (9, "working")
    assert home.place(monday) == (8, "night")
    assert home.place(monday + 2 * 86400 + 3600) == (9, "holiday")
    assert home.place(monday - 86400) == (8, "weekend")
