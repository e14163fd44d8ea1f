"""Typed readers over the YAML tree that report problems instead of raising.

Every reader returns the parsed value, or None after reporting exactly one issue at the
offending node's line (None from a reader always means "already reported"). Parsers of
the file formats are written as straight-line code over these readers, so that one bad
value never hides the next one.
"""

from __future__ import annotations

import difflib
import re
import zoneinfo
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TypeVar

from pager.config import values
from pager.config.issues import FileIssues
from pager.config.refs import Ref
from pager.config.yamltree import YEntry, YMap, YNode, YScalar, YSeq, describe, index, join
from pager.core.model import BusinessDays, BusinessHours, Duration, WallDuration

T = TypeVar("T")

_IDENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
#: A holiday calendar's name as written in a date list: starts with a letter (a date does
#: not), so ``2026-12-25`` is a date and ``ro``, ``vn-public`` are names.
_CALENDAR_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]*")


def did_you_mean(word: str, choices: Collection[str]) -> str:
    """`` (did you mean 'x'?)`` when a choice is close to ``word``, else ``""``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f"; did you mean '{close[0]}'?" if close else ""


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


#: Legacy names that are not places, and the place zone a user most likely means.
_LEGACY_ZONES = {
    "EST": "America/New_York",
    "EST5EDT": "America/New_York",
    "CST6CDT": "America/Chicago",
    "MST": "America/Denver (or America/Phoenix, which keeps no daylight saving)",
    "MST7MDT": "America/Denver",
    "PST8PDT": "America/Los_Angeles",
    "HST": "Pacific/Honolulu",
    "CET": "Europe/Paris",
    "MET": "Europe/Paris",
    "EET": "Europe/Bucharest",
    "WET": "Europe/Lisbon",
}
#: The one spelling of UTC accepted, besides ``UTC`` itself.
_UTC_NAMES = frozenset({"UTC", "Etc/UTC"})
_UTC_ALIASES = frozenset(
    {"GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "UCT", "Universal", "Zulu"}
    | {f"Etc/{name}" for name in ("GMT", "GMT0", "GMT+0", "GMT-0", "Greenwich", "UCT")}
    | {"Etc/Universal", "Etc/Zulu"}
)
_ETC_OFFSET = re.compile(r"Etc/GMT([+-])(\d{1,2})")


def zone_problem(name: str) -> str | None:
    """Why ``name`` is not an acceptable time zone, or None when it is.

    Accepted: IANA names of places (``America/New_York``) and ``UTC``. Refused, with a
    hint naming a place zone: unknown names, and the legacy names that are a fixed offset
    or no place at all (``EST``, ``MST``, ``HST``, ``EST5EDT``, ``CET``, ``Etc/GMT+5``,
    ``GMT``...): a shift kept in one of them starts an hour off for half the year.
    """
    if name in _UTC_NAMES:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"unknown time zone '{name}'{did_you_mean(name, _zone_names())}"
    why = (
        "it is a fixed offset that ignores daylight saving, so shifts would start an hour "
        "off for half the year"
    )
    if name in _LEGACY_ZONES:
        return (
            f"time zone '{name}' is a legacy name, not a place: {why}; "
            f"use the place's zone, e.g. {_LEGACY_ZONES[name]}, or UTC"
        )
    if name in _UTC_ALIASES:
        return f"time zone '{name}' is a legacy alias: write UTC (or Europe/London for UK time)"
    offset = _ETC_OFFSET.fullmatch(name)
    if offset is not None:
        sign = "-" if offset[1] == "+" else "+"  # POSIX: Etc/GMT+5 is five hours behind UTC
        return (
            f"time zone '{name}' (UTC{sign}{offset[2]}): {why}; use the place's zone, e.g. "
            "America/New_York or Asia/Ho_Chi_Minh, or UTC"
        )
    return None


class Fields:
    """Readers bound to one file's issue list."""

    def __init__(
        self, issues: FileIssues, *, holidays: Mapping[str, frozenset[date]] | None = None
    ) -> None:
        self.issues = issues
        #: The named holiday calendars (``holidays/NAME.yaml``) a date list may refer to.
        self.holidays: Mapping[str, frozenset[date]] = holidays or {}

    @property
    def file(self) -> str:
        return self.issues.file

    def report(self, where: YNode | int, path: str, message: str) -> None:
        line = where if isinstance(where, int) else where.line
        self.issues.report(line, path, message)

    # --- structure -------------------------------------------------------------------

    def entries(self, node: YNode, path: str, what: str = "a mapping") -> dict[str, YEntry] | None:
        """A mapping with free-form keys (people, regions, tiers...)."""
        if not isinstance(node, YMap):
            self.report(node, path, f"expected {what}, got {describe(node)}")
            return None
        return dict(node.entries)

    def fields(
        self,
        node: YNode,
        path: str,
        allowed: Sequence[str],
        required: Collection[str] = (),
    ) -> dict[str, YNode] | None:
        """A mapping with a fixed set of keys: unknown keys and missing required keys are
        reported (every one of them); the known keys present are returned."""
        if not isinstance(node, YMap):
            self.report(node, path, f"expected a mapping, got {describe(node)}")
            return None
        found: dict[str, YNode] = {}
        for key, entry in node.entries.items():
            if key in allowed:
                found[key] = entry.node
                continue
            hint = did_you_mean(key, allowed) or f" (expected one of: {', '.join(allowed)})"
            self.report(entry.key_line, join(path, key), f"unknown key '{key}'{hint}")
        for key in allowed:
            if key in required and key not in node.entries:
                self.report(node, path, f"missing required key '{key}'")
        return found

    def items(self, node: YNode, path: str, *, single: bool = False) -> list[YNode] | None:
        """A list; with ``single`` a lone scalar also counts as a one-item list."""
        if isinstance(node, YSeq):
            return list(node.items)
        if single and isinstance(node, YScalar) and node.tag != "null":
            return [node]
        self.report(node, path, f"expected a list, got {describe(node)}")
        return None

    def person_ids(
        self, node: YNode, path: str, refs: list[Ref], *, empty: str
    ) -> tuple[list[str], bool] | None:
        """A list of person ids (a lone id counts), each recorded in ``refs`` for the
        cross-check; None when not a list or empty (``empty`` is that issue's message).
        Otherwise the ids that could be read and whether every item was one."""
        items = self.items(node, path, single=True)
        if items is None:
            return None
        if not items:
            self.report(node, path, empty)
            return None
        people: list[str] = []
        for i, item in enumerate(items):
            sub = index(path, i)
            person = self.text(item, sub, "a person id")
            if person is not None:
                refs.append(Ref("person", person, self.file, item.line, sub))
                people.append(person)
        return people, len(people) == len(items)

    # --- scalars ---------------------------------------------------------------------

    def text(self, node: YNode, path: str, what: str = "a string") -> str | None:
        """A scalar's source text (so unquoted numbers keep their spelling)."""
        if isinstance(node, YScalar) and node.tag != "null" and node.text.strip():
            return node.text.strip()
        self.report(node, path, f"expected {what}, got {describe(node)}")
        return None

    def ident(self, node: YNode, path: str, what: str) -> str | None:
        text = self.text(node, path, what)
        if text is None:
            return None
        if _IDENT.fullmatch(text) is None:
            self.report(
                node, path, f"{what} {text!r} may only use letters, digits, '.', '_' and '-'"
            )
            return None
        return text

    def check_ident(self, line: int, path: str, text: str, what: str) -> bool:
        """Whether a mapping key is a usable identifier (reported at the key's line)."""
        if _IDENT.fullmatch(text) is None:
            self.report(
                line, path, f"{what} {text!r} may only use letters, digits, '.', '_' and '-'"
            )
            return False
        return True

    def integer(self, node: YNode, path: str, *, minimum: int | None = None) -> int | None:
        value: int | None = None
        if isinstance(node, YScalar):
            if node.tag == "int" and isinstance(node.value, int):
                value = node.value
            elif node.tag == "str" and node.text.strip().isdigit():
                value = int(node.text)
        if value is None:
            self.report(node, path, f"expected a whole number, got {describe(node)}")
            return None
        if minimum is not None and value < minimum:
            self.report(node, path, f"must be at least {minimum}, got {value}")
            return None
        return value

    def number(self, node: YNode, path: str) -> float | None:
        if (
            isinstance(node, YScalar)
            and node.tag in ("int", "float")
            and isinstance(node.value, int | float)
        ):
            return float(node.value)
        self.report(node, path, f"expected a number, got {describe(node)}")
        return None

    def boolean(self, node: YNode, path: str) -> bool | None:
        if isinstance(node, YScalar) and node.tag == "bool" and isinstance(node.value, bool):
            return node.value
        self.report(node, path, f"expected true or false, got {describe(node)}")
        return None

    def choice(self, node: YNode, path: str, name: str, options: Sequence[T]) -> T | None:
        text = self.text(node, path)
        if text is None:
            return None
        for option in options:
            if text.lower() == str(option):
                return option
        names = [str(option) for option in options]
        choices = f"{', '.join(names[:-1])} or {names[-1]}" if len(names) > 1 else names[0]
        self.report(node, path, f"{name} must be {choices}, got {text!r}")
        return None

    # --- time ------------------------------------------------------------------------

    def parsed(self, node: YNode, path: str, parse: Callable[[str], T], what: str) -> T | None:
        """The scalar's text through ``parse``; its ``ValueError`` becomes the issue."""
        text = self.text(node, path, what)
        if text is None:
            return None
        try:
            return parse(text)
        except ValueError as err:
            self.report(node, path, str(err))
            return None

    def time_of_day(self, node: YNode, path: str, *, end: bool = False) -> int | None:
        return self.parsed(
            node,
            path,
            lambda text: values.parse_time_of_day(text, allow_end_of_day=end),
            'a time like "08:30"',
        )

    def weekday(self, node: YNode, path: str) -> int | None:
        return self.parsed(node, path, values.parse_weekday, "a weekday")

    def days(self, node: YNode, path: str) -> frozenset[int] | None:
        """``mon-fri`` / ``sat`` / ``[sat, sun]`` (list items may be ranges)."""
        items = self.items(node, path, single=True)
        if items is None:
            return None
        if not items:
            self.report(node, path, "must list at least one day")
            return None
        days: set[int] = set()
        ok = True
        for i, item in enumerate(items):
            sub = path if isinstance(node, YScalar) else index(path, i)
            parsed = self.parsed(item, sub, values.parse_days, "a weekday or range like mon-fri")
            if parsed is None:
                ok = False
            else:
                days |= parsed
        return frozenset(days) if ok else None

    def dates(self, node: YNode, path: str) -> frozenset[date] | None:
        """A list of dates (``2026-12-25``), inclusive ranges (``2026-12-24..2026-12-26``)
        and names of holiday calendars (``ro``: every date of ``holidays/ro.yaml``), or one
        of these alone. An unknown calendar name is reported, with the known ones."""
        items = self.items(node, path, single=True)
        if items is None:
            return None
        found: set[date] = set()
        ok = True
        for i, item in enumerate(items):
            sub = path if isinstance(node, YScalar) else index(path, i)
            name = item.text if isinstance(item, YScalar) and item.tag == "str" else ""
            if _CALENDAR_NAME.fullmatch(name):
                if name in self.holidays:
                    found.update(self.holidays[name])
                    continue
                self.report(item, sub, self._unknown_calendar(name))
                ok = False
                continue
            parsed = self.parsed(
                item, sub, values.parse_dates, "a date like 2026-12-25 or a holiday calendar"
            )
            if parsed is None:
                ok = False
            else:
                found.update(parsed)
        return frozenset(found) if ok else None

    def _unknown_calendar(self, name: str) -> str:
        if not self.holidays:
            return (
                f"unknown holiday calendar '{name}' (none defined: a holidays/{name}.yaml "
                "listing its dates defines it)"
            )
        known = ", ".join(sorted(self.holidays))
        return (
            f"unknown holiday calendar '{name}' (known: {known}){did_you_mean(name, self.holidays)}"
        )

    def date(self, node: YNode, path: str) -> date | None:
        return self.parsed(node, path, values.parse_date, "a date like 2026-11-02")

    def instant(self, node: YNode, path: str) -> datetime | None:
        return self.parsed(node, path, values.parse_instant, "an RFC 3339 timestamp")

    def timezone(self, node: YNode, path: str) -> str | None:
        name = self.text(node, path, "a time zone like Europe/Bucharest")
        if name is None:
            return None
        problem = zone_problem(name)
        if problem is not None:
            self.report(node, path, problem)
            return None
        return name

    def duration(self, node: YNode, path: str, *, positive: bool = True) -> Duration | None:
        """Any duration; with ``positive`` a zero one is an issue."""
        parsed = self.parsed(node, path, values.parse_duration, "a duration like 15m")
        if parsed is None:
            return None
        if positive and _is_zero(parsed):
            self.report(node, path, "must be longer than 0")
            return None
        return parsed

    def wall(self, node: YNode, path: str, *, positive: bool = True) -> timedelta | None:
        """A wall-clock duration: business durations are an issue here."""
        parsed = self.duration(node, path, positive=positive)
        if parsed is None:
            return None
        if not isinstance(parsed, WallDuration):
            self.report(node, path, "a business duration is not allowed here; use e.g. 15m")
            return None
        return parsed.delta


def _is_zero(duration: Duration) -> bool:
    if isinstance(duration, WallDuration):
        return duration.delta <= timedelta(0)
    if isinstance(duration, BusinessHours):
        return duration.hours <= 0
    assert isinstance(duration, BusinessDays)
    return duration.days <= 0
