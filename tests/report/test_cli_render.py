"""``pager report`` end to end: every format, files, charts, errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from pager.cli.main import main
from pager.report.source import Dialect, Source
from tests.report.conftest import utc

WEEK = ["--from", "2026-11-02T00:00:00Z", "--to", "2026-11-09T00:00:00Z"]


def test_text(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "-c", str(config_dir), *WEEK]) == 0
    out = capsys.readouterr().out
    assert out.startswith("pager report 2026-11-02T00:00:00Z .. 2026-11-09T00:00:00Z: 5 ticket(s)")
    # The premier severity 1 row, as test_figures counts it.
    line = next(x for x in out.splitlines() if x.startswith("premier"))
    assert line.split()[:11] == [
        "premier",
        "1",
        "30m",
        "3",
        "10m",
        "50m",
        "50m",
        "2",
        "1",
        "33.3%",
        "66.7%",
    ]
    owl = next(x for x in out.splitlines() if x.startswith("owl "))
    assert owl.split()[:8] == ["owl", "owls/amer", "4", "4", "2", "0", "1", "1"]


def test_json_csv(config_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["report", "-c", str(config_dir), *WEEK, "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["start"] == "2026-11-02T00:00:00Z" and data["tickets"] == 5
    assert data["sla"][0]["first_response_p90"] == 3000.0
    assert data["sla_over_time"][0] == {
        "tier": "premier",
        "day": "2026-11-03",
        "decided": 1,
        "met": 1,
        "attainment_pct": 100.0,
    }
    assert main(["report", "-c", str(config_dir), *WEEK, "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    noisy = [r for r in rows if r and r[0] == "Noisiest customers"]
    assert noisy[0][1:] == ["Acme", "5", "3"]


def test_html_and_chart_files(
    config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    page = tmp_path / "report.html"
    charts = tmp_path / "charts"
    argv = [
        "report",
        "-c",
        str(config_dir),
        *WEEK,
        "--format",
        "html",
        "-o",
        str(page),
        "--charts",
        str(charts),
    ]
    assert main(argv) == 0
    html = page.read_text()
    assert html.count("<svg") == 3 and "<?xml" not in html
    assert "<td>Acme</td>" in html
    names = sorted(p.name for p in charts.iterdir())
    assert names == [
        f"{n}.{e}"
        for n in ("escalations-by-reason", "pages-by-hour", "sla-attainment")
        for e in ("png", "svg")
    ]
    assert (charts / "pages-by-hour.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    first = (charts / "sla-attainment.svg").read_text()
    assert main(argv) == 0
    assert (charts / "sla-attainment.svg").read_text() == first  # deterministic
    assert "owl (America/New_York)" in (charts / "pages-by-hour.svg").read_text()


def test_empty_period_renders(
    config_dir: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    period = ["--from", "2026-12-01", "--to", "2026-12-02"]
    assert main(["report", "-c", str(config_dir), *period]) == 0
    assert "0 ticket(s) opened" in capsys.readouterr().out
    assert (
        main(
            [
                "report",
                "-c",
                str(config_dir),
                *period,
                "--format",
                "html",
                "--charts",
                str(tmp_path),
            ]
        )
        == 0
    )
    assert "no pages in the period" in (tmp_path / "pages-by-hour.svg").read_text()


def test_errors(config_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(["report", "-c", str(config_dir), "--from", "2026-11-09", "--to", "2026-11-02"]) == 2
    )
    assert main(["report", "-c", str(config_dir), *WEEK, "--tier", "gold"]) == 2
    assert "unknown tier 'gold'" in capsys.readouterr().err
    empty = tmp_path / "cfg"
    empty.mkdir()
    for name in ("pager.yaml", "people.yaml"):
        (empty / name).write_text((config_dir / name).read_text())
    for sub in ("rotations", "ladders"):
        (empty / sub).mkdir()
        for f in (config_dir / sub).iterdir():
            (empty / sub / f.name).write_text(f.read_text())
    assert main(["report", "-c", str(empty), *WEEK]) == 1
    assert "no store at" in capsys.readouterr().err


class _Recorder:
    """A DB-API connection that records the SQL it is given and returns no rows."""

    def __init__(self) -> None:
        self.executed: list[tuple[str, tuple[object, ...]]] = []

    def cursor(self) -> _Recorder:
        return self

    def execute(self, sql: str, params: tuple[object, ...]) -> None:
        self.executed.append((sql, params))

    def fetchall(self) -> list[tuple[object, ...]]:
        return []

    def close(self) -> None:
        pass


def test_postgresql_dialect_spelling() -> None:
    """The one dialect switch: PostgreSQL's JSON operators and %s parameters."""
    conn = _Recorder()
    source = Source(conn, Dialect("postgresql"))
    start, end = utc("2026-11-02T00:00:00"), utc("2026-11-09T00:00:00")
    assert source.tickets(start, end) == [] and source.audit(start, end) == []
    for sql, params in conn.executed:
        assert "json_extract" not in sql and "?" not in sql
        unescaped = sql.replace("%%", "")  # psycopg formats the text: a literal % is %%
        assert unescaped.count("%s") == len(params)
        assert "%" not in unescaped.replace("%s", "")
    tickets, audit = (sql for sql, _ in conn.executed)
    assert "(t.state::jsonb ->> 5)" in tickets  # opened_at, the codec's field 5
    assert "(a.detail::jsonb ->> 'reason')" in audit
