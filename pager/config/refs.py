"""References between config files, recorded where they are written.

File parsers cannot tell whether ``members: [anna]`` names a real person; they record a
:class:`Ref` with the exact file, line and key path, and :mod:`pager.config.crossref`
checks all of them once every file has been read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

RefKind = Literal["person", "role", "rotation"]


@dataclass(frozen=True, slots=True)
class Ref:
    kind: RefKind
    name: str
    file: str
    line: int
    path: str
