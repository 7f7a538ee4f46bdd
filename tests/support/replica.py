"""A real PostgreSQL primary and hot standby, built for one test run from the machine's binaries.

``initdb`` makes the primary, ``pg_basebackup -R`` clones it into a streaming standby, both on
free loopback ports in a temporary folder owned by ``postgres`` (the binaries refuse to run
as root, so a root test run goes through ``runuser -u postgres --``). The shared server on
port 5432 is never touched. The fixture fails loudly when the binaries are missing.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from prometheus_client import REGISTRY

from streamsettle.db.migrate import upgrade
from tests.support.servers import free_port

PG_BIN = Path(os.environ.get("STREAMSETTLE_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "streamsettle"
_CONF = """
listen_addresses = '127.0.0.1'
unix_socket_directories = '{sockets}'
max_connections = 60
shared_buffers = 32MB
fsync = off
full_page_writes = off
max_wal_senders = 4
wal_level = replica
hot_standby = on
wal_receiver_status_interval = 1s
log_min_messages = warning
"""


def _as_postgres() -> list[str]:
    """The prefix that runs a server binary as the ``postgres`` OS user when we are root."""
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


class ReplicaPair:
    """A primary and its hot standby; methods to stop, start, pause and await the standby."""

    def __init__(self, root: Path, conf: str = "") -> None:
        self.root = root
        self.conf = conf
        self.primary_dir = root / "primary"
        self.standby_dir = root / "standby"
        self.primary_port = free_port()
        self.standby_port = free_port()

    def _run(self, *args: str | Path, timeout: float = 120) -> None:
        command = [*_as_postgres(), *(str(a) for a in args)]
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr or result.stdout}")

    def _pg_ctl(self, data: Path, action: str, *extra: str) -> None:
        log = data.parent / f"{data.name}.log"
        self._run(PG_BIN / "pg_ctl", "-D", data, "-l", log, action, *extra)

    def build(self) -> None:
        self._run(
            PG_BIN / "initdb", "-D", self.primary_dir, "-U", "postgres", "--auth=trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        with (self.primary_dir / "postgresql.conf").open("a") as conf:
            conf.write(_CONF.format(sockets=self.root) + self.conf)
            conf.write(f"\nport = {self.primary_port}\n")
        self._pg_ctl(self.primary_dir, "start", "-w")
        with psycopg.connect(self.admin_conninfo(self.primary_port), autocommit=True) as db:
            db.execute(f'CREATE DATABASE "{DATABASE}"')
        self._run(
            PG_BIN / "pg_basebackup", "-h", "127.0.0.1", "-p", str(self.primary_port),
            "-U", "postgres", "-D", self.standby_dir, "-R", "-X", "stream", "-c", "fast",
        )  # fmt: skip
        with (self.standby_dir / "postgresql.conf").open("a") as conf:
            conf.write(f"port = {self.standby_port}\n")
        self.start_standby()

    @staticmethod
    def admin_conninfo(port: int, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={port} user=postgres dbname={database}"

    def url(self, port: int) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{DATABASE}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    def _standby(self, sql: str) -> object:
        conninfo = self.admin_conninfo(self.standby_port)
        with psycopg.connect(conninfo, autocommit=True, connect_timeout=5) as db:
            row = db.execute(sql).fetchone()
            return row[0] if row else None

    def stop_standby(self) -> None:
        self._pg_ctl(self.standby_dir, "stop", "-m", "fast", "-w")

    def start_standby(self) -> None:
        self._pg_ctl(self.standby_dir, "start", "-w")
        self.wait_caught_up()

    def pause_replay(self) -> None:
        self._standby("SELECT pg_wal_replay_pause()")
        deadline = time.monotonic() + 10
        while self._standby("SELECT pg_get_wal_replay_pause_state()") != "paused":
            if time.monotonic() > deadline:
                raise RuntimeError("the standby did not pause its replay")
            time.sleep(0.01)

    def resume_replay(self) -> None:
        self._standby("SELECT pg_wal_replay_resume()")

    def ensure_streaming(self) -> None:
        """Undo what a failed test may have left: a stopped standby or a paused replay."""
        if not (self.standby_dir / "postmaster.pid").exists():
            self.start_standby()
        if self._standby("SELECT pg_get_wal_replay_pause_state()") != "not paused":
            self.resume_replay()
        self.wait_caught_up()

    def wait_caught_up(self, timeout: float = 30) -> None:
        """Until the standby has replayed everything the primary has written so far."""
        with psycopg.connect(self.admin_conninfo(self.primary_port), autocommit=True) as db:
            row = db.execute("SELECT pg_current_wal_lsn()::text").fetchone()
        assert row is not None
        target = row[0]
        deadline = time.monotonic() + timeout
        while True:
            try:
                done = self._standby(f"SELECT pg_last_wal_replay_lsn() >= '{target}'::pg_lsn")
            except psycopg.OperationalError:
                done = False  # still starting
            if done:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"the standby did not reach {target} in {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        for data in (self.standby_dir, self.primary_dir):
            if (data / "postmaster.pid").exists():
                with contextlib.suppress(RuntimeError):
                    self._pg_ctl(data, "stop", "-m", "immediate", "-w")


def read_sessions(target: str, reason: str | None = None) -> float:
    """Read sessions opened so far on ``target`` ("replica" or "primary"), optionally for one
    ``reason``, from the ``streamsettle_read_sessions_total`` counter."""
    total = 0.0
    for metric in REGISTRY.collect():
        if metric.name == "streamsettle_read_sessions":
            total += sum(
                s.value
                for s in metric.samples
                if s.name.endswith("_total")
                and s.labels["target"] == target
                and reason in (None, s.labels["reason"])
            )
    return total


@contextlib.contextmanager
def running_pair(conf: str = "") -> Iterator[ReplicaPair]:
    """A migrated primary + hot standby in a temporary folder, stopped and removed after."""
    if not (PG_BIN / "initdb").exists():
        raise RuntimeError(f"PostgreSQL server binaries not found in {PG_BIN}")
    root = Path(tempfile.mkdtemp(prefix="streamsettle-replica-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    pair = ReplicaPair(root, conf)
    try:
        pair.build()
        upgrade(pair.primary_url)
        pair.wait_caught_up()
        yield pair
    finally:
        pair.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def replica_pair() -> Iterator[ReplicaPair]:
    """The run's own primary + hot standby (see ``running_pair``), built on first use."""
    try:
        with running_pair() as pair:
            yield pair
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
