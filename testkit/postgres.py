"""A PostgreSQL cluster of its own, in a temp dir, for tests and benchmarks.

:class:`PostgresCluster` runs ``initdb`` into a fresh directory, starts the server with
``pg_ctl`` on 127.0.0.1 and a free port (its unix socket in the same directory), and
removes everything again on :meth:`PostgresCluster.stop`. It never touches the machine's
default cluster (``/var/lib/postgresql``, port 5432): the packaged service may be running
or not, it does not matter.

PostgreSQL refuses to run as root: when the test runs as root (CI, a fresh Debian
machine) every server command runs as the ``postgres`` OS user (created by the
``postgresql`` package), and the directory is owned by that user. Authentication is
``trust`` for connections from 127.0.0.1 and the socket: the cluster lives as long as
the test session and listens on loopback only.

The server binaries are looked up under ``/usr/lib/postgresql/<version>/bin`` (Debian),
newest version first, then on ``PATH``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
import weakref
from pathlib import Path
from types import TracebackType

from testkit.mosquitto import free_port

HOST = "127.0.0.1"
OS_USER = "postgres"
#: The database the tests use (``postgres`` stays the maintenance database).
DATABASE = "pager"


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries: the test cannot run (it is not skipped)."""


def find_bindir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Raises :class:`PostgresNotInstalled` naming the fix when there is none.
    """
    root = Path("/usr/lib/postgresql")
    if root.is_dir():
        versions = sorted(
            (p for p in root.iterdir() if (p / "bin" / "initdb").exists()),
            key=lambda p: int(p.name) if p.name.isdigit() else 0,
            reverse=True,
        )
        if versions:
            return versions[0] / "bin"
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresNotInstalled(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb, no initdb on PATH):"
        " run `make postgresql` (apt-get install -y postgresql)"
    )


_running: weakref.WeakSet[PostgresCluster] = weakref.WeakSet()


@atexit.register
def _stop_leftovers() -> None:
    """A test run that dies without teardown must not leave servers behind."""
    for cluster in list(_running):
        with contextlib.suppress(Exception):
            cluster.kill()


class PostgresCluster:
    """One throw-away cluster. ``with PostgresCluster() as pg: pg.url`` ...

    ``fsync`` is on by default (the figures measured against it are honest); a test that
    only checks behaviour may turn it off for speed.
    """

    def __init__(self, *, port: int | None = None, fsync: bool = True) -> None:
        self.bindir = find_bindir()
        self.port = port or free_port(HOST)
        self.fsync = fsync
        self.workdir = Path(tempfile.mkdtemp(prefix="pager-pg-"))
        self.datadir = self.workdir / "data"
        self.socketdir = self.workdir / "run"
        self.logfile = self.workdir / "server.log"
        self._as_postgres = os.geteuid() == 0
        self._initialised = False
        self._databases = 0
        self.started = False

    # --- urls ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The libpq URL of the test database (over TCP on 127.0.0.1)."""
        return self.url_for(DATABASE)

    def url_for(self, database: str) -> str:
        return f"postgresql://{OS_USER}@{HOST}:{self.port}/{database}"

    def new_database(self) -> str:
        """Create an empty database with a fresh name; return its URL."""
        import psycopg

        self._databases += 1
        name = f"t{os.getpid()}_{self._databases}"
        with psycopg.connect(self.url_for("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name} TEMPLATE template0")
        return self.url_for(name)

    # --- life ---------------------------------------------------------------------------

    def start(self) -> PostgresCluster:
        """initdb (first time), start the server, create :data:`DATABASE` (first time)."""
        if not self._initialised:
            self._init()
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self.logfile))
        self.started = True
        _running.add(self)
        if not self._initialised:
            self._run(str(self.bindir / "createdb"), "-h", HOST, "-p", str(self.port), DATABASE)
            self._initialised = True
        return self

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server (``fast``: roll back open transactions, disconnect clients)."""
        if self.started:
            self._pg_ctl("stop", "-w", "-t", "60", "-m", mode)
            self.started = False

    def restart(self, *, mode: str = "fast") -> None:
        """Stop and start again on the same port and data (a database restart)."""
        self.stop(mode=mode)
        self.start()

    def kill(self) -> None:
        """SIGKILL the postmaster (a crash; the next start recovers from the WAL)."""
        pid = self.pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            # The backends notice their postmaster is gone and exit by themselves.
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    break
                time.sleep(0.02)
        self.started = False

    def pid(self) -> int | None:
        try:
            return int((self.datadir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def remove(self) -> None:
        """Stop (if running) and delete the whole directory."""
        with contextlib.suppress(Exception):
            self.stop(mode="immediate")
        if self.started:
            self.kill()
        _running.discard(self)
        shutil.rmtree(self.workdir, ignore_errors=True)

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.remove()

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    # --- helpers ------------------------------------------------------------------------

    def _init(self) -> None:
        self.socketdir.mkdir(parents=True, exist_ok=True)
        if self._as_postgres:
            entry = pwd.getpwnam(OS_USER)
            for path in (self.workdir, self.socketdir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.datadir),
            "-U",
            OS_USER,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        )
        settings = {
            "listen_addresses": f"'{HOST}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socketdir}'",
            "fsync": "on" if self.fsync else "off",
            "max_connections": "100",
            "shared_buffers": "64MB",
            # Deadlocks between nodes' batches are rare and retried; find them fast.
            "deadlock_timeout": "100ms",
            "log_min_messages": "warning",
            "log_line_prefix": "'%m [%p] '",
        }
        with (self.datadir / "postgresql.conf").open("a") as conf:
            conf.write("\n# pager test cluster\n")
            for name, value in settings.items():
                conf.write(f"{name} = {value}\n")

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args)

    def _run(self, *argv: str) -> None:
        command = list(argv)
        if self._as_postgres:
            # runuser keeps the environment small and needs no password (root only).
            command = ["runuser", "-u", OS_USER, "--", *command]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(argv[:2])} failed ({done.returncode}): {done.stderr.strip()}\n"
                f"{self.log_tail()}"
            )
