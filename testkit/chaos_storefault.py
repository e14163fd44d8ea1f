"""Real ways to make a running daemon's SQLite store refuse writes (no mocks; needs root).

As root, ``chmod`` does not stop writes, so two other mechanisms are used:

* :class:`DiskFull`: the store lives on a small tmpfs mounted for the test; the trouble
  is a filler file that takes every free byte (SQLite then fails with "database or disk
  is full" as soon as its WAL needs to grow); the end of the trouble deletes the filler.
  After a checkpoint SQLite rewrites its WAL from the start, in space it already has, so
  a full disk stops writes reliably only while the WAL is still growing: on a fresh
  store, for one episode. Repeated episodes on one store use :class:`Immutable`.
* :class:`Immutable`: ``chattr +i`` on the database and its WAL (ext4 then refuses every
  write to them with EPERM, which SQLite reports as "disk I/O error"); ``chattr -i`` ends it.

:func:`mechanisms` lists the ones that work on this machine, checked for real: a
mechanism that cannot work here (not root, no ``mount``, a filesystem without the
immutable flag) is left out with the reason, and tests fail (not skip) when none is left.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol


class StoreFault(Protocol):
    name: str

    @property
    def store_path(self) -> Path: ...

    def prepare(self) -> None:
        """Set up where the store will live (before the daemon starts)."""

    def begin(self) -> None:
        """Make writes to the store fail from now on."""

    def end(self) -> None:
        """Let writes succeed again."""

    def cleanup(self) -> None:
        """Undo everything (after the daemon stopped); safe to call more than once."""


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), capture_output=True, text=True, check=False)


class DiskFull:
    name = "disk_full"

    def __init__(self, workdir: Path, size: str = "16m") -> None:
        self.mountpoint = workdir / "storefs"
        self.size = size
        self._mounted = False

    @property
    def store_path(self) -> Path:
        return self.mountpoint / "pager.db"

    @property
    def filler(self) -> Path:
        return self.mountpoint / "filler"

    def prepare(self) -> None:
        self.mountpoint.mkdir(parents=True, exist_ok=True)
        done = _run(
            "mount", "-t", "tmpfs", "-o", f"size={self.size}", "tmpfs", str(self.mountpoint)
        )
        if done.returncode != 0:
            raise RuntimeError(f"mount tmpfs failed: {done.stderr.strip()}")
        self._mounted = True

    def begin(self) -> None:
        block = b"\0" * (1 << 16)
        # Unbuffered: a buffered file would flush its tail again at close and raise
        # ENOSPC there, after the disk is (correctly) full.
        with self.filler.open("wb", buffering=0) as f:
            try:
                while f.write(block):
                    pass
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
        # The last partial block: leave not one free page for the WAL.
        with contextlib.suppress(OSError), self.filler.open("ab", buffering=0) as f:
            while f.write(b"\0" * 512):
                pass

    def end(self) -> None:
        self.filler.unlink(missing_ok=True)

    def cleanup(self) -> None:
        if self._mounted:
            self.end()
            done = _run("umount", str(self.mountpoint))
            if done.returncode != 0:
                _run("umount", "-l", str(self.mountpoint))
            self._mounted = False


class Immutable:
    name = "immutable"

    def __init__(self, workdir: Path) -> None:
        self.directory = workdir / "store"
        self._flagged: list[Path] = []

    @property
    def store_path(self) -> Path:
        return self.directory / "pager.db"

    def prepare(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)

    def begin(self) -> None:
        for suffix in ("", "-wal"):
            path = Path(f"{self.store_path}{suffix}")
            if path.exists():
                done = _run("chattr", "+i", str(path))
                if done.returncode != 0:
                    raise RuntimeError(f"chattr +i {path} failed: {done.stderr.strip()}")
                self._flagged.append(path)

    def end(self) -> None:
        while self._flagged:
            _run("chattr", "-i", str(self._flagged.pop()))

    def cleanup(self) -> None:
        self.end()


def _probe_disk_full() -> str | None:
    """None when a tmpfs can be mounted here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("mount") is None:
        return "no mount command"
    with tempfile.TemporaryDirectory() as scratch:
        fault = DiskFull(Path(scratch), size="1m")
        try:
            fault.prepare()
        except RuntimeError as exc:
            return str(exc)
        finally:
            fault.cleanup()
    return None


def _probe_immutable(where: Path) -> str | None:
    """None when ``chattr +i`` stops writes to a file under ``where``, else why not."""
    if os.geteuid() != 0:
        return "not root"
    if shutil.which("chattr") is None:
        return "no chattr command"
    probe = where / ".chattr-probe"
    probe.write_text("x")
    try:
        if _run("chattr", "+i", str(probe)).returncode != 0:
            return f"chattr +i not supported on {where}"
        try:
            with probe.open("a") as f:
                f.write("y")
        except PermissionError:
            return None
        return "chattr +i did not stop writes"
    finally:
        _run("chattr", "-i", str(probe))
        probe.unlink(missing_ok=True)


def mechanisms(workdir: Path) -> tuple[list[str], dict[str, str]]:
    """(names of the mechanisms that work here, {name: why not} for the others)."""
    workdir.mkdir(parents=True, exist_ok=True)
    why_not: dict[str, str] = {}
    for name, problem in (
        ("disk_full", _probe_disk_full()),
        ("immutable", _probe_immutable(workdir)),
    ):
        if problem is not None:
            why_not[name] = problem
    works = [n for n in ("disk_full", "immutable") if n not in why_not]
    return works, why_not


def make_fault(name: str, workdir: Path) -> StoreFault:
    if name == "disk_full":
        return DiskFull(workdir)
    if name == "immutable":
        return Immutable(workdir)
    raise ValueError(f"unknown store fault {name!r}")
