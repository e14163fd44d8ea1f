"""Every sub-command, given bad arguments, fails with a clear message and never a traceback.

Each case runs the installed console script (`.venv/bin/pager`) as a user would: exit 2
for a command line that cannot be obeyed (usage), 1 for everything else; the message is
on stderr and names the problem. A config that cannot be loaded lists its problems, one
per line, then a count; every other error is exactly one line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pager.cli.main import COMMANDS

REPO = Path(__file__).resolve().parents[2]
PAGER = Path(sys.executable).parent / "pager"
ROT = ["--rotation", "support-engineers"]
RANGE = ["--from", "2026-11-23", "--to", "2026-11-30"]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scratch directory holding the files the cases point at."""
    root = tmp_path_factory.mktemp("cli-errors")
    (root / "not-utf8.jsonl").write_bytes(b'\xff\xfe{"event_id": "x"}\n')
    (root / "a-dir").mkdir()
    (root / "a-file").write_text("not a directory\n")
    bad = root / "bad-config"
    shutil.copytree(REPO / "holidays", bad / "holidays")
    shutil.copytree(REPO / "rotations", bad / "rotations")
    shutil.copytree(REPO / "ladders", bad / "ladders")
    shutil.copy(REPO / "pager.yaml", bad / "pager.yaml")
    (bad / "people.yaml").write_bytes((REPO / "people.yaml").read_bytes() + b"# \xff\n")
    return root


# (arguments, exit code, text the message must contain); {repo} and {work} are filled in.
CASES: list[tuple[list[str], int, str]] = [
    ([], 2, "required: COMMAND"),
    (["no-such-command"], 2, "invalid choice"),
    # run
    (["run", "-c", "{work}/nowhere"], 1, ""),  # the daemon logs its config problems
    (["run", "-c", "{repo}", "--store", "sqlite:x.db"], 2, "--store is for --dry-run"),
    (["run", "-c", "{repo}", "--dry-run", "--store", "ftp:x"], 1, "store scheme"),
    (["run", "--bogus"], 2, "unrecognized arguments"),
    # check
    (["check", "-c", "{work}/nowhere"], 1, "config directory not found"),
    (["check", "-c", "{work}/a-file"], 1, "not a directory"),
    (["check", "-c", "{work}/bad-config"], 1, "not valid UTF-8"),
    (["check", "-c", "{repo}", "--horizon", "forever"], 2, "invalid duration"),
    (["check", "-c", "{repo}", "--horizon", "100000000d"], 2, "longer than 3660d"),
    # oncall
    (["oncall", "-c", "{repo}", "--at", "someday"], 2, "not a time"),
    (["oncall", "-c", "{repo}", "--at", "tomorrow 25:00"], 2, "not a time of day"),
    (["oncall", "-c", "{repo}", "--at", "+2 fortnights"], 2, "not a span"),
    (["oncall", "-c", "{repo}", "--at", "+100000000w"], 2, "out of range"),
    (["oncall", "-c", "{repo}", "--at", "9999-12-31T23:59:59Z"], 2, "out of range"),
    (["oncall", "-c", "{repo}", "--tz", "EST"], 2, "America/New_York"),
    (["oncall", "-c", "{repo}", "--tz", "Mars/Olympus"], 2, "unknown time zone"),
    (["oncall", "-c", "{repo}", "--rotation", "nope"], 2, "unknown rotation"),
    (["oncall", "-c", "{work}/nowhere"], 1, "config directory not found"),
    # schedule
    (["schedule", "-c", "{repo}", *ROT], 2, "required: --from, --to"),
    (["schedule", "-c", "{repo}", *ROT, "--from", "2026-11-30", "--to", "2026-11-23"], 2, ""),
    (["schedule", "-c", "{repo}", "--rotation", "nope", *RANGE], 2, "unknown rotation"),
    (
        ["schedule", "-c", "{repo}", *ROT, *RANGE, "--ical", "--output", "{work}/no/dir/x.ics"],
        1,
        "directory does not exist",
    ),
    (["schedule", "-c", "{repo}", *ROT, *RANGE, "--output", "{work}/a-dir"], 1, "a-dir"),
    # simulate
    (["simulate", "-c", "{repo}", "{work}/missing.jsonl"], 1, "No such file"),
    (["simulate", "-c", "{repo}", "{work}/a-dir"], 1, "Is a directory"),
    (["simulate", "-c", "{repo}", "{work}/not-utf8.jsonl"], 1, "not UTF-8"),
    (["simulate", "-c", "{repo}", "{repo}/examples/sev1-owned.jsonl", "--until", "x"], 2, ""),
    (["simulate", "-c", "{repo}"], 2, "required: events"),
    # timeline and ack (the example's store does not exist in a fresh clone)
    (["timeline", "T-1", "-c", "{work}/nowhere"], 1, "config directory not found"),
    (["timeline", "-c", "{repo}"], 2, "required: ticket"),
    (["ack", "T-1", "-c", "{repo}"], 2, "required: --by"),
    (["ack", "T-1", "--by", "ana", "-c", "{work}/nowhere"], 1, "config directory not found"),
    # test-page
    (["test-page", "ana", "-c", "{repo}", "--via", "fax"], 2, "invalid choice: 'fax'"),
    (["test-page", "ana", "-c", "{repo}", "--timeout", "soon"], 2, "invalid duration 'soon'"),
    (["test-page", "-c", "{repo}"], 2, "required: person"),
    (["test-page", "ana", "-c", "{work}/nowhere"], 1, "config directory not found"),
    # report
    (["report", "-c", "{repo}", "--to", "2026-11-30"], 2, "required: --from"),
    (["report", "-c", "{repo}", "--from", "someday", "--to", "2026-11-30"], 2, "not a time"),
    (["report", "-c", "{repo}", "--from", "2026-11-30", "--to", "2026-11-01"], 2, "after --from"),
    (["report", "-c", "{repo}", *RANGE, "--tier", "diamond"], 2, "unknown tier 'diamond'"),
    (["report", "-c", "{repo}", *RANGE, "--format", "pdf"], 2, "invalid choice"),
    (["report", "-c", "{work}/nowhere", *RANGE], 1, "config directory not found"),
]


def _fill(args: list[str], repo: Path, work: Path) -> list[str]:
    return [arg.format(repo=repo, work=work) for arg in args]


@pytest.mark.parametrize(("args", "code", "says"), CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_arguments_fail_cleanly(work: Path, args: list[str], code: int, says: str) -> None:
    proc = subprocess.run(
        [str(PAGER), *_fill(args, REPO, work)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=work,
        env={"PATH": "/usr/bin:/bin", "PAGER_CONFIG": str(work / "nowhere")},
    )
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode == code, proc.stderr
    if args and args[0] == "run" and code == 1 and not says:
        return  # `pager run` logs (for journald); the line checks below are for commands
    err = proc.stderr.splitlines()
    assert err, "an error must say something on stderr"
    assert says in proc.stderr
    if not proc.stderr.rstrip().endswith(("1 problem", "problems")):
        assert len(err) == 1, proc.stderr


def test_simulate_of_non_utf8_stdin(work: Path) -> None:
    proc = subprocess.run(
        [str(PAGER), "simulate", "-c", str(REPO), "-"],
        input=b"\xff\xfe\n",
        capture_output=True,
        timeout=60,
    )
    assert b"Traceback" not in proc.stderr
    assert (proc.returncode, proc.stderr) == (
        1,
        b"pager simulate: -:1: not UTF-8 text (events are JSON lines)\n",
    )


def test_every_command_has_a_case() -> None:
    covered = {case[0][0] for case in CASES if case[0]}
    assert set(COMMANDS) <= covered


def test_version_is_the_package_version() -> None:
    from importlib.metadata import version

    proc = subprocess.run([str(PAGER), "--version"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"pager {version('pager')}"
