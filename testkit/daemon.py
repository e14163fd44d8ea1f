"""Run the real daemon (`pager run`) as a child process against a prepared config dir.

Used by the end-to-end tests, the demo and the benchmarks: the process is the same one
systemd would start, so signals, `kill -9` and restarts are real.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from testkit.fake_twilio import FakeTwilio

REPO = Path(__file__).resolve().parents[1]
PAGER = Path(sys.executable).parent / "pager"


def copy_example(dest: Path) -> Path:
    """Copy the repository's worked example (people, holidays, rotations, ladders) into
    ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "people.yaml", dest / "people.yaml")
    for sub in ("holidays", "rotations", "ladders"):
        if (dest / sub).exists():
            shutil.rmtree(dest / sub)
        shutil.copytree(REPO / sub, dest / sub)
    return dest


def write_settings(
    dest: Path,
    *,
    mqtt_url: str,
    http_port: int,
    twilio_api_base: str = "https://api.twilio.com",
    smtp_port: int = 25,
    store: str | None = None,
    extra: Mapping[str, Any] | None = None,
    account_sid: str = "AC" + "0" * 32,
    auth_token: str = "test-token",
) -> Path:
    """Write ``pager.yaml`` (and the Twilio secret file) for a test or demo run."""
    (dest / "twilio.secret").write_text(auth_token + "\n")
    settings: dict[str, Any] = {
        "store": store or "sqlite:state/pager.db",
        "mqtt": {"url": mqtt_url, "client_id": f"pager-{os.getpid()}-{http_port}"},
        "twilio": {
            "account_sid": account_sid,
            "auth_token_file": "twilio.secret",
            "from": "+15550000001",
            "api_base": twilio_api_base,
            "max_sms_per_second": 100,
        },
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "from": "pager@example.com"},
        "http": {"listen": f"127.0.0.1:{http_port}", "public_url": f"http://127.0.0.1:{http_port}"},
        "limits": {"sms_per_person": "100/15m", "calls_per_person": "50/15m"},
    }
    for key, value in (extra or {}).items():
        if isinstance(value, dict) and isinstance(settings.get(key), dict):
            settings[key].update(value)
        else:
            settings[key] = value
    (dest / "pager.yaml").write_text(yaml.safe_dump(settings, sort_keys=False))
    return dest


def write_harness_settings(
    dest: Path,
    *,
    mqtt_url: str,
    http_port: int,
    twilio: FakeTwilio,
    smtp_port: int,
    store: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    """:func:`write_settings` for a daemon that talks to the harness's fake Twilio (its
    API base and credentials) and SMTP server on ``smtp_port``."""
    return write_settings(
        dest,
        mqtt_url=mqtt_url,
        http_port=http_port,
        twilio_api_base=twilio.api_base,
        smtp_port=smtp_port,
        store=store,
        extra=extra,
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
    )


class DaemonProcess:
    """``pager run -c DIR`` as a child; its output is collected line by line."""

    def __init__(
        self,
        config_dir: Path,
        *,
        dry_run: bool = False,
        env: Mapping[str, str] | None = None,
        extra_args: Sequence[str] = (),
        node: str | None = None,
    ) -> None:
        self.config_dir = config_dir
        self.dry_run = dry_run
        self.extra_args = list(extra_args)
        #: ``--node NAME`` (several nodes sharing a PostgreSQL store).
        self.node = node
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc: subprocess.Popen[str] | None = None
        self.lines: list[str] = []
        self._cond = threading.Condition()
        self._reader: threading.Thread | None = None
        self.lines_before_start = 0

    def start(self, *, wait_ready: bool = True, timeout: float = 20.0) -> None:
        args = [str(PAGER), "run", "-c", str(self.config_dir)]
        if self.dry_run:
            args.append("--dry-run")
        args.extend(self.extra_args)
        if self.node:
            args += ["--node", self.node]
        self.lines_before_start = len(self.lines)
        self.proc = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=self.env,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        if wait_ready:
            self.wait_for("pager ready", timeout=timeout, since=self.lines_before_start)

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        with proc.stdout:  # closed at EOF: an open pipe is a ResourceWarning at exit
            for line in proc.stdout:
                with self._cond:
                    self.lines.append(line.rstrip("\n"))
                    self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, text: str, *, timeout: float = 10.0, since: int = 0) -> str:
        """The first output line (from index ``since``) containing ``text``; raise on timeout."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for line in self.lines[since:]:
                    if text in line:
                        return line
                if (
                    self.proc is not None
                    and self.proc.poll() is not None
                    and not self._reader_alive()
                ):
                    raise RuntimeError(
                        f"pager exited ({self.proc.returncode}) before {text!r}:\n" + self.output()
                    )
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"no {text!r} within {timeout}s:\n" + self.output())
                self._cond.wait(min(left, 0.1))

    def mark(self) -> int:
        """The index the next output line gets: pass it as ``since`` to wait for new lines."""
        with self._cond:
            return len(self.lines)

    def lines_since(self, since: int = 0) -> list[str]:
        with self._cond:
            return list(self.lines[since:])

    async def await_line(self, text: str, *, timeout: float = 10.0, since: int = 0) -> str:  # noqa: ASYNC109
        """:meth:`wait_for` for async tests: polls, so the test's loop keeps serving.

        Raises TimeoutError (with the output) when ``timeout`` passes first, RuntimeError
        when the process exited without printing such a line.
        """
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines_since(since):
                if text in line:
                    return line
            if self.proc is not None and self.proc.poll() is not None and not self._reader_alive():
                raise RuntimeError(
                    f"pager exited ({self.proc.returncode}) before {text!r}:\n" + self.output()
                )
            if time.monotonic() >= deadline:
                raise TimeoutError(f"no {text!r} within {timeout}s:\n" + self.output())
            await asyncio.sleep(0.02)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def returncode(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    async def astart(self, *, wait_ready: bool = True, timeout: float = 20.0) -> None:  # noqa: ASYNC109
        """:meth:`start` without blocking the caller's event loop."""
        await asyncio.to_thread(self.start, wait_ready=False)
        if wait_ready:
            await self.await_line("pager ready", timeout=timeout, since=self.lines_before_start)

    async def astop(self, timeout: float = 30.0) -> int:  # noqa: ASYNC109
        """:meth:`stop` in a worker thread."""
        return await asyncio.to_thread(self.stop, timeout)

    async def akill9(self) -> None:
        """:meth:`kill9` in a worker thread."""
        await asyncio.to_thread(self.kill9)

    async def acli(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:  # noqa: ASYNC109
        """:meth:`pager_cli` in a worker thread."""
        return await asyncio.to_thread(self.pager_cli, *args, timeout=timeout)

    def _reader_alive(self) -> bool:
        return self._reader is not None and self._reader.is_alive()

    def output(self) -> str:
        with self._cond:
            return "\n".join(self.lines)

    def signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def kill9(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; returns the exit code (kills after ``timeout``)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=5)
        return self.proc.returncode

    def pager_cli(self, *args: str, timeout: float = 30.0) -> subprocess.CompletedProcess[str]:
        """Run another pager command against the same config dir."""
        return subprocess.run(
            [str(PAGER), *args, "-c", str(self.config_dir)],
            capture_output=True,
            text=True,
            timeout=timeout,
            env=self.env,
        )
