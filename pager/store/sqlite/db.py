"""The SQLite connection: opening (pragmas, migrations), transactions, savepoints, the
background WAL checkpointer, and the one conversion of instants to columns.

Durability: WAL with ``synchronous=NORMAL`` survives any process crash (``kill -9``)
without losing a committed transaction; only an OS crash or power loss can lose the last
few. ``PAGER_SQLITE_SYNC=FULL`` trades throughput for that too.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from pager.store.sqlite.migrations import SchemaTooNew, migrate
from pager.store.types import StoreError


def ts(t: datetime) -> float:
    """An instant as epoch seconds (the column form of every instant in this store)."""
    return t.timestamp()


def from_ts(value: float) -> datetime:
    """A column value back as a UTC-aware instant."""
    return datetime.fromtimestamp(value, UTC)


def path_from_url(url: str) -> Path:
    """``sqlite:/abs/path.db`` (the normalised config form) -> Path; ValueError otherwise."""
    if not url.startswith("sqlite:"):
        raise ValueError(f"not a sqlite store url: {url!r}")
    rest = url[len("sqlite:") :]
    if rest.startswith("///"):
        rest = "/" + rest[3:]
    return Path(rest)


class Checkpointer:
    """Checkpoints the WAL from its own thread and connection (see :class:`Connection`)."""

    def __init__(self, path: Path, interval: float = 1.0) -> None:
        self.path = path
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pager-checkpoint", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        db = sqlite3.connect(str(self.path), isolation_level=None, timeout=10.0)
        try:
            while not self._stop.wait(self.interval):
                with contextlib.suppress(sqlite3.Error):
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            with contextlib.suppress(sqlite3.Error):
                db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        finally:
            db.close()


class Connection:
    """One connection; every operation must run inside :meth:`transaction` or is one.

    Not safe for concurrent use from several threads: the daemon confines it to one.
    """

    db: sqlite3.Connection

    def __init__(
        self,
        path: str | Path,
        *,
        synchronous: str | None = None,
        checkpoint_in_background: bool = False,
    ) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(
                str(self.path), isolation_level=None, check_same_thread=False, timeout=10.0
            )
            self.db.execute("PRAGMA journal_mode=WAL")
            sync = synchronous or os.environ.get("PAGER_SQLITE_SYNC", "NORMAL")
            if sync.upper() not in ("NORMAL", "FULL", "OFF"):
                raise StoreError(f"PAGER_SQLITE_SYNC must be NORMAL or FULL, not {sync!r}")
            self.db.execute(f"PRAGMA synchronous={sync.upper()}")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.execute("PRAGMA busy_timeout=10000")
            if checkpoint_in_background:
                # Checkpoints fsync; done by Checkpointer's own connection and thread, they
                # never stall a transaction of the daemon's store thread.
                self.db.execute("PRAGMA wal_autocheckpoint=0")
            migrate(self.db)
        except (sqlite3.Error, OSError, SchemaTooNew) as exc:
            raise StoreError(f"cannot open store {self.path}: {exc}") from exc
        self._depth = 0
        self._lock = threading.RLock()
        #: Checkpoints the WAL from its own thread while the store is open (daemon only).
        self._checkpointer = Checkpointer(self.path) if checkpoint_in_background else None
        if self._checkpointer is not None:
            self._checkpointer.start()

    def close(self) -> None:
        self.db.close()
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer = None

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on any exception). Re-entrant."""
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            try:
                self.db.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise StoreError(f"store unavailable: {exc}") from exc
            self._depth = 1
            try:
                yield
            except BaseException:
                self._depth = 0
                self._rollback()
                raise
            self._depth = 0
            try:
                self.db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._rollback()
                raise StoreError(f"commit failed: {exc}") from exc

    @contextmanager
    def savepoint(self) -> Iterator[None]:
        """SAVEPOINT ... RELEASE; ROLLBACK TO it on an exception (re-raised)."""
        self.db.execute("SAVEPOINT job")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK TO job")
            self.db.execute("RELEASE job")
            raise
        self.db.execute("RELEASE job")

    @contextmanager
    def guard(self) -> Iterator[None]:
        """sqlite3 errors inside become StoreError (the store itself is in trouble)."""
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreError(f"store error: {exc}") from exc

    def _rollback(self) -> None:
        # After some errors (disk full, I/O) SQLite has already rolled back by itself.
        with contextlib.suppress(sqlite3.Error):
            self.db.execute("ROLLBACK")

    def heartbeat(self, now: datetime) -> None:
        """A tiny write that proves the store still accepts writes (the health probe)."""
        self.db.execute(
            "INSERT INTO heartbeat(id, at) VALUES (1, ?)"
            " ON CONFLICT(id) DO UPDATE SET at = excluded.at",
            (ts(now),),
        )

    def data_version(self) -> int:
        """Changes when another connection (e.g. ``pager ack``) commits."""
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])
