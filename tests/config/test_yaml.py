"""What YAML lets through silently is an issue here; bad syntax has a line and column."""

from __future__ import annotations

import pytest

from pager.config import yamltree
from pager.config.issues import FileIssues, IssueLog
from pager.config.yamltree import YMap, YScalar, YSeq, parse_yaml
from tests.config.conftest import ConfigDir


def test_syntax_error_reports_line_and_column_without_traceback(cfg: ConfigDir) -> None:
    cfg.write(
        "people.yaml",
        """\
        people:
          ana: {phone: "+40700000002"
          bob: {phone: "+40700000003"}
        """,
    )
    issues = cfg.issues()
    assert issues == [
        "people.yaml:3: YAML syntax error at line 3, column 3: "
        "expected ',' or '}', but got '<scalar>'",
    ]


def test_tab_indentation_is_a_syntax_error(cfg: ConfigDir) -> None:
    cfg.write("rotations/fts.yaml", "name: fts\n\tregions: {}\n")
    assert cfg.issues() == [
        "rotations/fts.yaml:2: YAML syntax error at line 2, column 1: "
        "found character '\\t' that cannot start any token",
    ]


def test_several_documents_in_one_file(cfg: ConfigDir) -> None:
    cfg.write("pager.yaml", "store: sqlite:a.db\n---\nstore: sqlite:b.db\n")
    assert cfg.issues() == [
        "pager.yaml:2: YAML syntax error at line 2, column 1: "
        "expected a single document in the stream, but found another document",
    ]


def test_control_character_and_bad_utf8(cfg: ConfigDir) -> None:
    (cfg.path / "pager.yaml").write_bytes(b"store: sqlite:a.db\nmqtt: {url: \x07}\n")
    (cfg.path / "ladders" / "broken.yaml").write_bytes(b"name: x\ntiers: \xff\n")
    assert cfg.issues() == [
        "pager.yaml:2: YAML syntax error at line 2, column 13: character U+0007 is not allowed",
        "ladders/broken.yaml:2: not valid UTF-8 (byte 15)",
    ]


def test_duplicate_keys_are_issues(cfg: ConfigDir) -> None:
    cfg.write(
        "people.yaml",
        """\
        people:
          ana: {phone: "+40700000002"}
          bob: {phone: "+40700000003"}
          ana: {phone: "+40700000004", phone: "+40700000005"}
        """,
    )
    assert cfg.issues() == [
        "people.yaml:4: people.ana: duplicate key 'ana' (first at line 2)",
    ]


def test_duplicate_keys_inside_a_value_are_issues(cfg: ConfigDir) -> None:
    cfg.write(
        "people.yaml",
        """\
        people:
          ana: {phone: "+40700000002"}
          bob:
            phone: "+40700000003"
            phone: "+40700000004"
        """,
    )
    assert cfg.issues() == [
        "people.yaml:5: people.bob.phone: duplicate key 'phone' (first at line 4)",
    ]


def test_yaml11_boolean_keys_must_be_quoted(cfg: ConfigDir) -> None:
    cfg.write(
        "people.yaml",
        """\
        people:
          ana: {phone: "+40700000002"}
          bob: {phone: "+40700000003"}
          on: {phone: "+40700000004"}
          yes: {phone: "+40700000005"}
          "no": {phone: "+40700000006"}
        roles:
          off: [ana]
        """,
    )
    assert cfg.issues() == [
        'people.yaml:4: people.on: key on is read as a boolean by YAML 1.1; quote it: "on"',
        'people.yaml:5: people.yes: key yes is read as a boolean by YAML 1.1; quote it: "yes"',
        'people.yaml:8: roles.off: key off is read as a boolean by YAML 1.1; quote it: "off"',
    ]


def test_non_scalar_and_empty_keys(cfg: ConfigDir) -> None:
    cfg.write(
        "people.yaml",
        """\
        people:
          ana: {phone: "+40700000002"}
          bob: {phone: "+40700000003"}
          ? [carl]
          : {phone: "+40700000004"}
          ~: {phone: "+40700000005"}
        """,
    )
    assert cfg.issues() == [
        "people.yaml:4: people: a key must be a plain value, not a list or mapping",
        "people.yaml:6: people: a key must not be empty",
    ]


def test_unknown_tags_are_issues(cfg: ConfigDir) -> None:
    cfg.write("pager.yaml", "store: !env PAGER_DB\n")
    assert cfg.issues() == [
        "pager.yaml:1: store: unsupported YAML tag !env",
        "pager.yaml:1: store: store must look like sqlite:///ABS/PATH or sqlite:REL/PATH",
    ]


def test_merge_keys_and_anchors_work(cfg: ConfigDir) -> None:
    cfg.write(
        "ladders/main.yaml",
        """\
        name: main
        calendars:
          desk: {timezone: UTC, days: mon-fri, from: "09:00", to: "17:00"}
        tiers:
          std:
            calendar: desk
            severities:
              1: &sev {respond_within: 1h, urgency: high, clock: 24x7}
              2: {<<: *sev, respond_within: 2h}
        rungs:
          - {name: first, page: rotation:fts, ack_within: 15m}
        """,
    )
    tier = cfg.load().ladders["main"].tiers["std"]
    assert tier.severities[2].urgency == "high"
    assert tier.severities[2].respond_within != tier.severities[1].respond_within


def test_recursive_alias_is_an_issue() -> None:
    log = IssueLog()
    assert isinstance(parse_yaml("a: &x [1, *x]\n", FileIssues("f.yaml", log)), YMap)
    assert [str(issue) for issue in log.sorted([])] == ["f.yaml:1: a[1]: recursive YAML alias"]


def test_alias_bomb_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamltree, "MAX_NODES", 10_000)  # the real limit, only sooner
    lines = ["a: &a [x, x, x, x, x, x, x, x, x, x]"]
    for name, prev in zip("bcdefgh", "abcdefg", strict=True):
        lines.append(f"{name}: &{name} [{', '.join(['*' + prev] * 10)}]")
    log = IssueLog()
    assert parse_yaml("\n".join(lines) + "\n", FileIssues("f.yaml", log)) is None
    assert [str(issue) for issue in log.sorted([])] == [
        "f.yaml: document too large (more than 10000 nodes after aliases)"
    ]


def test_deep_nesting_is_refused() -> None:
    log = IssueLog()
    assert parse_yaml("[" * 1200 + "]" * 1200, FileIssues("f.yaml", log)) is None
    assert [str(issue) for issue in log.sorted([])] == ["f.yaml: YAML nesting is too deep"]


def test_scalars_keep_their_source_text() -> None:
    log = IssueLog()
    root = parse_yaml("a: 17:30\nb: +40700000001\nc: '08:00'\nd: [1, x]\n", FileIssues("f", log))
    assert isinstance(root, YMap)
    a, b, c, d = (root.entries[k].node for k in "abcd")
    assert isinstance(a, YScalar) and (a.tag, a.text, a.value) == ("int", "17:30", 1050)
    assert isinstance(b, YScalar) and (b.tag, b.text) == ("int", "+40700000001")
    assert isinstance(c, YScalar) and (c.tag, c.text, c.plain) == ("str", "08:00", False)
    assert isinstance(d, YSeq) and d.line == 4 and [i.line for i in d.items] == [4, 4]
    assert not log


def test_merge_of_a_non_mapping_is_an_issue(cfg: ConfigDir) -> None:
    cfg.write("pager.yaml", "base: &b [1]\nmqtt: {<<: *b}\n")
    assert cfg.issues() == [
        "pager.yaml:1: base: unknown key 'base' "
        "(expected one of: store, mqtt, twilio, smtp, http, limits)",
        "pager.yaml:2: mqtt: a YAML merge (<<) must name a mapping",
    ]
