"""``holidays/NAME.yaml``: a named holiday calendar, defined once, referred to by name.

A file holds ``dates:`` (dates and inclusive ranges, as anywhere else) and an optional
``description:``. Its name is the file name without ``.yaml``/``.yml``; a rotation
region's or a ladder calendar's ``holidays`` may list that name among its dates
(``holidays: [ro, 2026-12-24]``), which stands for every date of the file.
"""

from __future__ import annotations

from datetime import date
from pathlib import PurePosixPath

from pager.config.fields import Fields
from pager.config.yamltree import YNode

DIRECTORY = "holidays"


def calendar_name(file: str) -> str:
    """``holidays/ro.yaml`` -> ``ro``."""
    return PurePosixPath(file).stem


def parse_holidays(root: YNode | None, f: Fields) -> frozenset[date] | None:
    """The dates of one holiday file, or None after reporting why not."""
    name = calendar_name(f.file)
    if not f.check_ident(0, "", name, "holiday calendar name (the file name)"):
        return None
    if name[0].isdigit():
        f.report(0, "", f"holiday calendar name '{name}' must start with a letter")
        return None
    if root is None:
        f.report(0, "", "empty file: a holiday calendar lists its dates under 'dates:'")
        return None
    found = f.fields(root, "", ("dates", "description"), required=("dates",))
    if found is None or "dates" not in found:
        return None
    if "description" in found:
        f.text(found["description"], "description")
    return f.dates(found["dates"], "dates")
