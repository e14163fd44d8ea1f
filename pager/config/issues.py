"""Config problems: one :class:`ConfigIssue` per problem, all raised together."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in the config directory.

    ``file`` is relative to the config directory (``rotations/fts.yaml``); ``line`` is
    1-based, or 0 when the problem is about a whole file or directory rather than a
    line; ``path`` is the dotted key path inside the file (``regions.emea.members[1]``),
    empty when the problem is not about a key. Messages never contain secret values.
    """

    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line > 0 else self.file
        if self.path:
            return f"{where}: {self.path}: {self.message}"
        return f"{where}: {self.message}"


class ConfigError(Exception):
    """The config is invalid; ``issues`` lists every problem found, in file order."""

    def __init__(self, issues: Iterable[ConfigIssue]) -> None:
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


class IssueLog:
    """Collects issues from every file; the loader raises them all at the end."""

    def __init__(self) -> None:
        self._issues: list[ConfigIssue] = []
        self._seen: set[ConfigIssue] = set()

    def add(self, issue: ConfigIssue) -> None:
        # The same problem can be reached twice (e.g. through a YAML alias); say it once.
        if issue not in self._seen:
            self._seen.add(issue)
            self._issues.append(issue)

    def __bool__(self) -> bool:
        return bool(self._issues)

    def __len__(self) -> int:
        return len(self._issues)

    def sorted(self, file_order: list[str]) -> list[ConfigIssue]:
        """Issues grouped by file (in ``file_order``, others after), then by line."""
        rank = {name: i for i, name in enumerate(file_order)}
        return sorted(
            self._issues,
            key=lambda issue: (rank.get(issue.file, len(rank)), issue.file, issue.line),
        )


@dataclass(frozen=True, slots=True)
class FileIssues:
    """An :class:`IssueLog` bound to one file, so parsers only name the line and path."""

    file: str
    log: IssueLog

    def report(self, line: int, path: str, message: str) -> None:
        self.log.add(ConfigIssue(self.file, line, path, message))
