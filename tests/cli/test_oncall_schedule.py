"""``pager oncall`` and ``pager schedule`` against a small follow-the-sun config on disk."""

from __future__ import annotations

import json
import textwrap
from datetime import UTC, datetime
from pathlib import Path

import icalendar
import pytest

from pager.cli.main import main

FILES = {
    "pager.yaml": "",
    "people.yaml": """\
        people:
          dung: {name: Dung Example, phone: "+15550100101"}
          razvan: {name: Razvan Example, phone: "+40700000001"}
          ana: {name: Ana Example, phone: "+40700000002"}
          john: {name: John Example, phone: "+15550100201"}
          wendy: {name: Wendy Example, phone: "+15550100301"}
        """,
    "rotations/support-engineers.yaml": """\
        name: support-engineers
        regions:
          apj:
            timezone: Asia/Ho_Chi_Minh
            hours: {days: mon-fri, from: "08:00", to: "17:00"}
            members: [dung]
          emea:
            timezone: Europe/Bucharest
            hours: {days: mon-fri, from: "08:30", to: "17:30"}
            members: [razvan, ana]
            handoff: {every: week, day: monday, at: "08:30", start: 2026-11-09}
          amer:
            timezone: America/New_York
            hours: {days: mon-fri, from: "08:00", to: "18:00"}
            members: [john]
        after_hours: weekend-oncall
        overrides:
          - person: ana
            replaces: razvan
            from: "2026-12-24T00:00:00+02:00"
            to: "2026-12-28T00:00:00+02:00"
        """,
    "rotations/weekend-oncall.yaml": """\
        name: weekend-oncall
        regions:
          global:
            timezone: UTC
            hours: {days: [sat, sun], from: "00:00", to: "24:00"}
            members: [wendy]
        """,
    "ladders/main.yaml": """\
        name: main
        calendars:
          desk: {timezone: UTC, days: mon-fri, from: "09:00", to: "17:00"}
        tiers:
          std:
            calendar: desk
            severities:
              1: {respond_within: 1h, urgency: high, clock: 24x7}
        rungs:
          - {name: first, page: rotation:support-engineers, ack_within: 15m}
        """,
}


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(textwrap.dedent(text), encoding="utf-8")
    return tmp_path


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def pager(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# --- pager oncall ------------------------------------------------------------------------


def test_oncall_json_has_the_exact_shape(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = pager(
        capsys, "oncall", "-c", str(config_dir), "--at", "2026-11-23T07:00:00Z", "--json"
    )
    assert (code, err) == (0, "")
    assert out.count("\n") == 1
    assert json.loads(out) == {
        "at": "2026-11-23T07:00:00Z",
        "rotations": {
            "support-engineers": {"person": "razvan", "region": "emea", "source": "region"},
            "weekend-oncall": {"person": None, "region": None, "source": "gap"},
        },
    }


@pytest.mark.parametrize(
    ("at", "expected"),
    [
        # the same instant written four ways (a time without an offset is UTC)
        ("2026-11-23T09:00:00+02:00", {"person": "razvan", "region": "emea", "source": "region"}),
        ("2026-11-23 07:00", {"person": "razvan", "region": "emea", "source": "region"}),
        ("2026-11-23T07:00:00", {"person": "razvan", "region": "emea", "source": "region"}),
        ("2026-W48-1T07:00", {"person": "razvan", "region": "emea", "source": "region"}),
        # Saturday: after hours; Christmas Eve: the override
        ("2026-11-28T12:00:00Z", {"person": "wendy", "region": None, "source": "after_hours"}),
        ("2026-12-24T08:00:00Z", {"person": "ana", "region": "emea", "source": "override"}),
        # Monday 2026-11-23 23:30Z: every region closed, weekend rotation too
        ("2026-11-23T23:30:00Z", {"person": None, "region": None, "source": "gap"}),
    ],
)
def test_oncall_json_one_rotation(
    config_dir: Path, capsys: pytest.CaptureFixture[str], at: str, expected: dict[str, str | None]
) -> None:
    code, out, _err = pager(
        capsys,
        "oncall",
        "-c",
        str(config_dir),
        "--at",
        at,
        "--rotation",
        "support-engineers",
        "--json",
    )
    assert code == 0
    document = json.loads(out)
    assert list(document["rotations"]) == ["support-engineers"]
    assert document["rotations"]["support-engineers"] == expected
    assert document["at"].endswith("Z")


def test_oncall_text_table(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = pager(capsys, "oncall", "-c", str(config_dir), "--at", "2026-11-23T07:00:00Z")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "on call at 2026-11-23T07:00:00Z"
    assert lines[2].split() == ["ROTATION", "PERSON", "REGION", "SOURCE", "UNTIL", "(UTC)"]
    # EMEA until AMER's incoming shift at 13:00Z; the weekend rotation opens Saturday.
    assert lines[3].split() == [
        "support-engineers",
        "razvan",
        "(Razvan",
        "Example)",
        "emea",
        "region",
        "2026-11-23T13:00:00Z",
    ]
    assert lines[4].split() == ["weekend-oncall", "-", "-", "gap", "2026-11-28T00:00:00Z"]
    # Per region, for region-restricted tickets: AMER's member although AMER is closed.
    assert "support-engineers  amer    john (John Example)" in out
    assert any(
        line.split()[:2] == ["support-engineers", "amer"] and " no " in line for line in lines
    )


def test_oncall_default_is_now(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    code, out, _err = pager(capsys, "oncall", "-c", str(config_dir), "--json")
    after = datetime.now(UTC)
    assert code == 0
    at = datetime.fromisoformat(json.loads(out)["at"].replace("Z", "+00:00"))
    assert before <= at <= after


def test_oncall_unknown_rotation_exits_2(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = pager(capsys, "oncall", "-c", str(config_dir), "--rotation", "nope")
    assert (code, out) == (2, "")
    assert "unknown rotation 'nope'" in err


def test_oncall_bad_time_exits_2(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["oncall", "-c", str(config_dir), "--at", "next tuesday-ish"]) == 2
    err = capsys.readouterr().err
    assert "not a time" in err
    assert len(err.splitlines()) == 1


def test_oncall_invalid_config_exits_1(
    config_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rotation = config_dir / "rotations" / "support-engineers.yaml"
    rotation.write_text(rotation.read_text().replace("[razvan, ana]", "[razvan, anna]"))
    code, out, err = pager(capsys, "oncall", "-c", str(config_dir))
    assert (code, out) == (1, "")
    assert "rotations/support-engineers.yaml:" in err
    assert "anna" in err


# --- pager schedule ----------------------------------------------------------------------


def test_schedule_table(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = pager(
        capsys,
        "schedule",
        "-c",
        str(config_dir),
        "--rotation",
        "support-engineers",
        "--from",
        "2026-11-23T00:00:00Z",
        "--to",
        "2026-11-24T00:00:00Z",
    )
    assert (code, err) == (0, "")
    rows = [line.split() for line in out.splitlines()[3:]]
    # START END LOCAL... PERSON (NAME) REGION SOURCE. The weekend rotation covers up to
    # Monday 00:00Z, where a gap begins; the last shift runs past the range.
    assert [(r[0], r[1], r[-2], r[-1]) for r in rows] == [
        ("2026-11-23T00:00:00Z", "2026-11-23T01:00:00Z", "-", "gap"),
        ("2026-11-23T01:00:00Z", "2026-11-23T06:30:00Z", "apj", "region"),
        ("2026-11-23T06:30:00Z", "2026-11-23T13:00:00Z", "emea", "region"),
        ("2026-11-23T13:00:00Z", "2026-11-23T23:00:00Z", "amer", "region"),
        ("2026-11-23T23:00:00Z", "2026-11-24T01:00:00Z", "-", "gap"),
    ]
    # Local time in the region's zone, with the zone's abbreviation.
    assert "Mon 23 Nov 08:30 - Mon 23 Nov 15:00 EET" in out
    assert "Mon 23 Nov 08:00 - Mon 23 Nov 18:00 EST" in out
    assert out.startswith("support-engineers: 5 shifts overlapping")


def test_schedule_ical_parses_back(
    config_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    feed = tmp_path / "feed.ics"
    code, out, _err = pager(
        capsys,
        "schedule",
        "-c",
        str(config_dir),
        "--rotation",
        "support-engineers",
        "--from",
        "2026-11-27T00:00:00Z",
        "--to",
        "2026-11-30T12:00:00Z",
        "--ical",
        "--output",
        str(feed),
    )
    assert (code, out) == (0, "")
    calendar = icalendar.Calendar.from_ical(feed.read_bytes())
    assert calendar["VERSION"] == "2.0"
    events = calendar.walk("VEVENT")
    got = [(str(e["SUMMARY"]), e.decoded("DTSTART"), e.decoded("DTEND")) for e in events]
    assert got == [
        ("On call: Dung Example (apj)", utc("2026-11-27 01:00"), utc("2026-11-27 06:30")),
        ("On call: Razvan Example (emea)", utc("2026-11-27 06:30"), utc("2026-11-27 13:00")),
        ("On call: John Example (amer)", utc("2026-11-27 13:00"), utc("2026-11-27 23:00")),
        ("On call: Wendy Example (after hours)", utc("2026-11-28 00:00"), utc("2026-11-30 00:00")),
        ("On call: Dung Example (apj)", utc("2026-11-30 01:00"), utc("2026-11-30 06:30")),
        ("On call: Ana Example (emea)", utc("2026-11-30 06:30"), utc("2026-11-30 13:00")),
    ]
    for event in events:
        assert event.decoded("DTSTART").tzinfo is not None
        assert event.decoded("DTSTART").utcoffset().total_seconds() == 0
        assert "DTSTAMP" in event
    assert b"DTSTART:20261127T010000Z" in feed.read_bytes()
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == len(uids)

    # Another export over an overlapping range: the same shifts keep their UIDs.
    code, out, _err = pager(
        capsys,
        "schedule",
        "-c",
        str(config_dir),
        "--rotation",
        "support-engineers",
        "--from",
        "2026-11-28T12:00:00Z",
        "--to",
        "2026-12-01T00:00:00Z",
        "--ical",
    )
    assert code == 0
    again = {str(e["UID"]) for e in icalendar.Calendar.from_ical(out).walk("VEVENT")}
    assert set(uids[3:]) <= again


def test_schedule_errors(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = pager(
        capsys,
        "schedule",
        "-c",
        str(config_dir),
        "--rotation",
        "support-engineers",
        "--from",
        "2026-11-24",
        "--to",
        "2026-11-23",
    )
    assert code == 2 and "--from must be before --to" in err
    code, _out, err = pager(
        capsys,
        "schedule",
        "-c",
        str(config_dir),
        "--rotation",
        "nope",
        "--from",
        "2026-11-23",
        "--to",
        "2026-11-24",
    )
    assert code == 2 and "unknown rotation 'nope'" in err
