"""Load and validate a config directory into an immutable :class:`~pager.core.model.Config`.

``load_config`` reads ``pager.yaml``, ``people.yaml``, ``holidays/*.yaml`` (named holiday
calendars), ``rotations/*.yaml`` and ``ladders/*.yaml`` (``.yml`` too; names starting
with ``.`` are ignored), reports every problem at once as ``file:line: path: message``
in a :class:`ConfigError`, and never lets another exception escape for bad input. The
file formats are documented in ``docs/configuration.md``; the parsing lives in
:mod:`pager.config`.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from types import MappingProxyType

from pager.config import crossref
from pager.config.fields import Fields
from pager.config.holidays import calendar_name, parse_holidays
from pager.config.issues import ConfigError, ConfigIssue, FileIssues, IssueLog
from pager.config.ladders import LadderFile, parse_ladder
from pager.config.people import PeopleFile, parse_people
from pager.config.rotations import RotationFile, parse_rotation
from pager.config.settings import SettingsParser
from pager.config.values import parse_duration
from pager.config.yamltree import YNode, parse_yaml
from pager.core.model import Config, Ladder, Rotation

__all__ = ["ConfigError", "ConfigIssue", "load_config", "parse_duration"]

SETTINGS_FILE = "pager.yaml"
PEOPLE_FILE = "people.yaml"
HOLIDAYS_DIR = "holidays"
ROTATIONS_DIR = "rotations"
LADDERS_DIR = "ladders"
_SUFFIXES = (".yaml", ".yml")


def load_config(
    directory: str | Path,
    *,
    require_secrets: bool = False,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """The validated config in ``directory``.

    ``environ`` (default ``os.environ``) supplies ``PAGER_STORE`` and the secret
    variables. With ``require_secrets`` a secret that cannot be found or read, and a
    missing Twilio account SID or sender number, are problems too (the daemon wants
    this; ``pager check`` does not). Raises :class:`ConfigError` listing every problem.
    """
    base = Path(directory)
    env: Mapping[str, str] = os.environ if environ is None else environ
    if not base.is_dir():
        reason = "is not a directory" if base.exists() else "not found"
        raise ConfigError([ConfigIssue(str(base), 0, "", f"config directory {reason}")])
    log = IssueLog()
    order = [SETTINGS_FILE, PEOPLE_FILE]

    settings = None
    root, ok = _read(base, SETTINGS_FILE, log)
    if ok:
        fields = Fields(FileIssues(SETTINGS_FILE, log))
        settings = SettingsParser(fields, base, env, require_secrets).parse(root)

    people_root, ok = _read(base, PEOPLE_FILE, log)
    if ok:
        people = parse_people(people_root, Fields(FileIssues(PEOPLE_FILE, log)))
    else:
        people = PeopleFile(readable=False)

    holidays = _holiday_calendars(base, log, order)

    rotation_files: list[RotationFile] = []
    for name in _listing(base, ROTATIONS_DIR, log, required=False) or ():
        order.append(name)
        root, ok = _read(base, name, log)
        if ok:
            fields = Fields(FileIssues(name, log), holidays=holidays)
            rotation_files.append(parse_rotation(root, fields))
        else:
            rotation_files.append(RotationFile(name))  # unreadable: its name is unknown

    ladder_files: list[LadderFile] = []
    ladder_names = _listing(base, LADDERS_DIR, log, required=True)
    for name in ladder_names or ():
        order.append(name)
        root, ok = _read(base, name, log)
        if ok:
            fields = Fields(FileIssues(name, log), holidays=holidays)
            ladder_files.append(parse_ladder(root, fields))
        else:
            ladder_files.append(LadderFile(name, queues=[]))  # unreadable: not a default
    order.append(crossref.LADDERS_DIR)

    crossref.check_references(
        people, rotation_files, ladder_files, log, ladders_listed=ladder_names is not None
    )
    if log:
        raise ConfigError(log.sorted(order))

    rotations: dict[str, Rotation] = {}
    for parsed in rotation_files:
        if parsed.rotation is None:
            _internal(log, parsed.file)
        else:
            rotations[parsed.rotation.name] = parsed.rotation
    ladders: dict[str, Ladder] = {}
    for ladder_file in ladder_files:
        if ladder_file.ladder is None:
            _internal(log, ladder_file.file)
        else:
            ladders[ladder_file.ladder.name] = ladder_file.ladder
    if settings is None:
        _internal(log, SETTINGS_FILE)
    if log or settings is None:
        raise ConfigError(log.sorted(order))
    return Config(
        settings=settings,
        people=MappingProxyType(dict(people.people)),
        roles=MappingProxyType(dict(people.roles)),
        rotations=MappingProxyType(rotations),
        ladders=MappingProxyType(ladders),
    )


def _holiday_calendars(base: Path, log: IssueLog, order: list[str]) -> dict[str, frozenset[date]]:
    """The named holiday calendars of ``holidays/``. A file that cannot be used is reported
    and still counts as defined (empty): references to it are not reported again."""
    calendars: dict[str, frozenset[date]] = {}
    seen: dict[str, str] = {}
    for name in _listing(base, HOLIDAYS_DIR, log, required=False) or ():
        order.append(name)
        key = calendar_name(name)
        if key in seen:
            FileIssues(name, log).report(
                0, "", f"holiday calendar '{key}' is also defined by {seen[key]}"
            )
            continue
        seen[key] = name
        root, ok = _read(base, name, log)
        dates = parse_holidays(root, Fields(FileIssues(name, log))) if ok else None
        calendars[key] = dates or frozenset()
    return calendars


def _internal(log: IssueLog, file: str) -> None:
    # Every parser reports before it returns nothing; this keeps a parser bug from
    # turning into a half-built config.
    log.add(ConfigIssue(file, 0, "", "could not be loaded (internal error: no issue reported)"))


def _listing(base: Path, sub: str, log: IssueLog, *, required: bool) -> list[str] | None:
    """``sub/NAME.yaml`` names relative to ``base``, sorted. None when the directory
    cannot be listed (an issue, except for a missing directory that is not ``required``)."""
    folder = base / sub
    try:
        names = sorted(
            entry.name
            for entry in folder.iterdir()
            if entry.name.endswith(_SUFFIXES) and not entry.name.startswith(".")
        )
    except FileNotFoundError:
        if required:
            log.add(ConfigIssue(f"{sub}/", 0, "", "directory not found"))
        return None
    except OSError as err:
        log.add(ConfigIssue(f"{sub}/", 0, "", f"cannot list directory: {err.strerror or err}"))
        return None
    return [f"{sub}/{name}" for name in names]


def _read(base: Path, name: str, log: IssueLog) -> tuple[YNode | None, bool]:
    """Parse one file. ``ok`` is False when it could not be read or parsed (reported);
    ``root`` is None for an empty document."""
    issues = FileIssues(name, log)
    try:
        data = (base / name).read_bytes()
    except FileNotFoundError:
        issues.report(0, "", "file not found")
        return None, False
    except OSError as err:
        issues.report(0, "", f"cannot read file: {err.strerror or err}")
        return None, False
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        issues.report(line, "", f"not valid UTF-8 (byte {err.start})")
        return None, False
    before = len(log)
    root = parse_yaml(text, issues)
    if root is None and len(log) != before:
        return None, False
    return root, True
