"""YAML text -> a small tree whose every node knows its line.

PyYAML's ``compose`` gives nodes with marks; this module turns them into frozen
:class:`YMap` / :class:`YSeq` / :class:`YScalar` values and reports, as issues rather than
exceptions, what YAML itself lets through silently: duplicate keys, YAML 1.1 boolean keys
(``on:``, ``yes:``, ``no:``), non-scalar keys, unknown tags, recursive aliases.

Scalars keep their source text (``YScalar.text``): field readers parse that text
themselves, so ``to: 17:30`` (a YAML 1.1 base-60 integer when unquoted) and
``phone: +40700000001`` (an integer) still mean what the author wrote.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType

import yaml
from yaml.constructor import SafeConstructor

from pager.config.issues import FileIssues

#: Past this many nodes (after expanding aliases) a document is refused: a guard
#: against alias bombs, far above any real config.
MAX_NODES = 200_000

_TAGS = {
    "tag:yaml.org,2002:null": "null",
    "tag:yaml.org,2002:bool": "bool",
    "tag:yaml.org,2002:int": "int",
    "tag:yaml.org,2002:float": "float",
    "tag:yaml.org,2002:timestamp": "timestamp",
    "tag:yaml.org,2002:str": "str",
}
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class YScalar:
    """A scalar. ``tag`` is ``null|bool|int|float|timestamp|str``; ``value`` is what
    PyYAML would construct (None when it cannot); ``plain`` is False when quoted."""

    line: int
    column: int
    tag: str
    text: str
    plain: bool
    value: object


@dataclass(frozen=True, slots=True)
class YSeq:
    line: int
    column: int
    items: tuple[YNode, ...]


@dataclass(frozen=True, slots=True)
class YEntry:
    """A mapping entry: where its key is, and its value."""

    key_line: int
    node: YNode


@dataclass(frozen=True, slots=True)
class YMap:
    """A mapping with string keys in file order (merge keys already applied)."""

    line: int
    column: int
    entries: Mapping[str, YEntry]


YNode = YScalar | YSeq | YMap


def describe(node: YNode) -> str:
    """What a node is, for messages: ``a list``, ``the number 5``, ``an empty value``."""
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        return "a list"
    if node.tag == "null":
        return "an empty value"
    if node.tag == "bool":
        return f"the boolean {node.text}"
    if node.tag in ("int", "float"):
        return f"the number {node.text}"
    return repr(node.text)


def join(path: str, key: str) -> str:
    """``regions`` + ``emea`` -> ``regions.emea``; a top-level key stands alone."""
    return f"{path}.{key}" if path else key


def index(path: str, i: int) -> str:
    return f"{path}[{i}]"


#: libyaml's parser when PyYAML was built with it: ten times faster on a roster of
#: thousands of people, with the same nodes and marks. Its error messages are terser,
#: so a document it refuses is parsed again by the pure-Python parser for the message.
_FAST_LOADER: type[yaml.CSafeLoader] | None = getattr(yaml, "CSafeLoader", None)


def parse_yaml(text: str, issues: FileIssues) -> YNode | None:
    """Parse one YAML document. None means "empty document" or "could not parse" (then
    an issue was reported). Never raises for bad input."""
    root = _compose_fast(text)
    if root is None:
        root = _compose(text, issues)
        if root is None:
            return None
    builder = _Builder(issues)
    try:
        return builder.build(root, "")
    except RecursionError:
        issues.report(0, "", "YAML nesting is too deep")
        return None
    except _TooLarge:
        issues.report(0, "", f"document too large (more than {MAX_NODES} nodes after aliases)")
        return None


def _compose_fast(text: str) -> yaml.Node | None:
    """The document's node tree by libyaml; None when unavailable, empty or refused."""
    if _FAST_LOADER is None:
        return None
    try:
        node: yaml.Node | None = yaml.compose(text, Loader=_FAST_LOADER)
    except (yaml.YAMLError, ValueError, RecursionError):
        return None  # reported by _compose, in the pure-Python parser's words
    return node


def _compose(text: str, issues: FileIssues) -> yaml.Node | None:
    """The node tree by the pure-Python parser, or None (empty, or an issue reported)."""
    try:
        root: yaml.Node | None = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = err.problem or err.context or "invalid YAML"
        if err.context and problem.startswith("but "):
            problem = f"{err.context}, {problem}"  # "expected a single document..., but"
        if mark is None:
            issues.report(0, "", f"YAML syntax error: {problem}")
        else:
            issues.report(
                mark.line + 1,
                "",
                f"YAML syntax error at line {mark.line + 1}, column {mark.column + 1}: {problem}",
            )
        return None
    except yaml.reader.ReaderError as err:
        line, column = _line_column(text, err.position)
        code = (
            err.character if isinstance(err.character, int) else ord(str(err.character)[:1] or " ")
        )
        issues.report(
            line,
            "",
            f"YAML syntax error at line {line}, column {column}: "
            f"character U+{code:04X} is not allowed",
        )
        return None
    except yaml.YAMLError as err:
        issues.report(0, "", f"YAML syntax error: {err}")
        return None
    except RecursionError:
        issues.report(0, "", "YAML nesting is too deep")
        return None
    return root


def _line_column(text: str, position: int) -> tuple[int, int]:
    before = text[:position]
    line = before.count("\n") + 1
    column = position - (before.rfind("\n") + 1) + 1
    return line, column


class _TooLarge(Exception):
    pass


class _Builder:
    """Converts composed PyYAML nodes, reporting what YAML accepted but we do not."""

    def __init__(self, issues: FileIssues) -> None:
        self._issues = issues
        self._constructor = SafeConstructor()
        self._count = 0
        self._active: set[int] = set()  # ids of collection nodes being built (alias cycles)

    def build(self, node: yaml.Node, path: str) -> YNode | None:
        self._count += 1
        if self._count > MAX_NODES:
            raise _TooLarge
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node, path)
        if id(node) in self._active:
            self._issues.report(line, path, "recursive YAML alias")
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ_TAG:
                    self._issues.report(line, path, f"unsupported YAML tag {node.tag}")
                items = [self.build(child, index(path, i)) for i, child in enumerate(node.value)]
                return YSeq(line, column, tuple(item for item in items if item is not None))
            assert isinstance(node, yaml.MappingNode)
            if node.tag != _MAP_TAG:
                self._issues.report(line, path, f"unsupported YAML tag {node.tag}")
            return YMap(line, column, MappingProxyType(self._entries(node, path)))
        finally:
            self._active.discard(id(node))

    def _scalar(self, node: yaml.ScalarNode, path: str) -> YScalar:
        line, column = node.start_mark.line + 1, node.start_mark.column + 1
        tag = _TAGS.get(node.tag)
        if tag is None:
            self._issues.report(line, path, f"unsupported YAML tag {node.tag}")
            tag = "str"
        value: object
        try:
            value = self._constructor.construct_object(node)
        except (yaml.YAMLError, ValueError, TypeError, OverflowError):
            value = None  # e.g. 2026-02-30 matches the timestamp pattern but is no date
        return YScalar(line, column, tag, str(node.value), node.style is None, value)

    def _entries(self, node: yaml.MappingNode, path: str) -> dict[str, YEntry]:
        explicit: dict[str, YEntry] = {}
        order: list[str] = []  # keys in file order, merged ones where the merge is
        merged: dict[str, YEntry] = {}
        for key_node, value_node in node.value:
            key_line = key_node.start_mark.line + 1
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE_TAG:
                for merged_key, entry in self._merge(value_node, path, key_line).items():
                    if merged_key not in merged:
                        merged[merged_key] = entry
                        order.append(merged_key)
                continue
            key = self._key(key_node, path)
            if key is None:
                continue
            sub = join(path, key)
            if key in explicit:
                self._issues.report(
                    key_line, sub, f"duplicate key '{key}' (first at line {explicit[key].key_line})"
                )
                continue
            built = self.build(value_node, sub)
            if built is None:
                continue
            if not isinstance(built, YScalar):
                # A block collection starts on the line after its key; problems with the
                # collection as a whole ("missing key") read best at the key's line.
                built = replace(built, line=key_line)
            explicit[key] = YEntry(key_line, built)
            order.append(key)
        result: dict[str, YEntry] = {}
        for key in order:
            # An explicit key overrides a merged one wherever it appears, as YAML says;
            # the entry keeps the position where the key first appeared.
            result[key] = explicit[key] if key in explicit else merged[key]
        return result

    def _merge(self, value: yaml.Node, path: str, line: int) -> dict[str, YEntry]:
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        merged: dict[str, YEntry] = {}
        for source in sources:
            built = self.build(source, path)
            if not isinstance(built, YMap):
                self._issues.report(line, path, "a YAML merge (<<) must name a mapping")
                continue
            for key, entry in built.entries.items():
                merged.setdefault(key, entry)
        return merged

    def _key(self, key_node: yaml.Node, path: str) -> str | None:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            self._issues.report(line, path, "a key must be a plain value, not a list or mapping")
            return None
        tag = _TAGS.get(key_node.tag, "str")
        text = str(key_node.value)
        if tag == "null":
            self._issues.report(line, path, "a key must not be empty")
            return None
        if tag == "bool":
            self._issues.report(
                line,
                join(path, text),
                f'key {text} is read as a boolean by YAML 1.1; quote it: "{text}"',
            )
        return text
