"""A private PostgreSQL cluster for the fault tests, so that restarting "the database" disturbs nobody else.

Restarting the shared server on 5432 would cut every other test's (and every other engineer's)
connections, so the fault suite restarts a cluster of its own, one per pytest session: ``initdb`` under
``var/faults/postgres-<pid>``, owned by the ``postgres`` user when run as root (PostgreSQL refuses to run as
root), listening on a free loopback port only, with a private socket directory. Authentication is
``trust`` on loopback: the cluster holds only throw-away test databases and lives as long as the session.
A cluster whose session died without stopping it is stopped by the next session (:func:`reap_stale`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from hub.infra.db.scratch import drop_database

__all__ = ["PrivatePostgres", "postgres_binaries", "reap_stale"]

_TIMEOUT_S = 60


def postgres_binaries() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding ``initdb`` and ``pg_ctl``, if any."""
    base = Path("/usr/lib/postgresql")
    if not base.is_dir():
        return None
    versions = sorted((p for p in base.iterdir() if p.name.isdigit()), key=lambda p: int(p.name))
    for version in reversed(versions):
        if (version / "bin" / "initdb").exists() and (version / "bin" / "pg_ctl").exists():
            return version / "bin"
    return None


def reap_stale(parent: Path, binaries: Path) -> list[str]:
    """Stop the clusters (and remove the directories) of sessions that ended without stopping theirs."""
    reaped = []
    for owner_file in sorted(parent.glob("postgres-*/owner.json")):
        try:
            owner = json.loads(owner_file.read_text())
            os.kill(int(owner["pid"]), 0)
        except ProcessLookupError:
            cluster = PrivatePostgres(owner_file.parent, binaries, int(owner["port"]))
            cluster.stop()
            shutil.rmtree(owner_file.parent, ignore_errors=True)
            reaped.append(owner_file.parent.name)
        except (OSError, ValueError, KeyError):
            continue
    return reaped


@dataclass
class PrivatePostgres:
    """One PostgreSQL cluster of the fault suite's own.

    Attributes:
        root: its directory (data and socket); owned by ``postgres`` when run as root.
        bin: where ``initdb`` and ``pg_ctl`` are.
        restarts: restarts done so far (for the tests' reports).
    """

    root: Path
    bin: Path
    port: int
    keep: bool = False
    restarts: int = 0
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def _data(self) -> Path:
        return self.root / "data"

    def _as_owner(self, *argv: str) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return list(argv)

    def _run(self, *argv: str, timeout_s: float = _TIMEOUT_S, check: bool = True) -> str:
        result = subprocess.run(
            self._as_owner(*argv), capture_output=True, text=True, timeout=timeout_s, check=False
        )
        if check and result.returncode != 0:
            raise RuntimeError(
                f"{Path(argv[0]).name} failed: {(result.stderr or result.stdout).strip()[-500:]}"
            )
        return result.stdout

    def admin_url(self, database: str = "postgres") -> str:
        """A libpq URL as the superuser (trust on loopback)."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL of ``database``."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def running(self) -> bool:
        """Whether the cluster's postmaster runs."""
        if not (self._data / "PG_VERSION").exists():
            return False
        result = subprocess.run(
            self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self._data), "status"),
            capture_output=True,
            timeout=30,
            check=False,
        )
        return result.returncode == 0

    def start(self) -> None:
        """Create the cluster if needed, start it (or reuse a running one) and wait until it answers."""
        started = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        self.root.chmod(0o700)
        owner = {"pid": os.getpid(), "port": self.port}
        if not self.keep:
            (self.root / "owner.json").write_text(json.dumps(owner))
        if not (self._data / "PG_VERSION").exists():
            self._run(
                str(self.bin / "initdb"),
                "-D",
                str(self._data),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale=C",
            )
        if not self.running():
            self._pg_ctl("start")
        self._await()
        self.timings["start_s"] = time.monotonic() - started

    def _pg_ctl(self, command: str, *extra: str) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.root}"
        self._run(
            str(self.bin / "pg_ctl"),
            "-D",
            str(self._data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(_TIMEOUT_S),
            command,
            *extra,
            timeout_s=_TIMEOUT_S + 10,
        )

    def _await(self) -> None:
        deadline = time.monotonic() + _TIMEOUT_S
        while True:
            try:
                with psycopg.connect(self.admin_url(), connect_timeout=2):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def restart(self, mode: str = "fast") -> float:
        """Restart the cluster (``fast``: roll back and disconnect; ``immediate``: like a crash).

        Returns the seconds until it answered again.
        """
        started = time.monotonic()
        self._pg_ctl("restart", "-m", mode)
        self._await()
        self.restarts += 1
        return time.monotonic() - started

    def create_database(self) -> str:
        """A fresh, empty database; returns its name."""
        name = f"renkei_fault_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(self.admin_url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database made by :meth:`create_database` (its connections are cut first)."""
        drop_database(self.admin_url(), name)

    def stop(self, *, remove: bool = False) -> None:
        """Stop the cluster (best effort); ``remove`` also deletes its directory."""
        if self.running():
            self._pg_ctl("stop", "-m", "fast")
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)
