"""What every benchmark shares: the server URL, throwaway databases, machine facts, output.

A benchmark prints one JSON object per line (``emit``) with ``name``, ``machine``, its
sizes, ``seconds``, ``rows_per_second`` and a ``reference`` measured in the same run.
Databases are created per run on ``STREAMSETTLE_BENCH_PG_URL`` (an admin URL to the
server), named ``streamsettle_bench_<pid>_<random>`` (prefix: ``STREAMSETTLE_BENCH_DB_PREFIX``) and
dropped afterwards, also on error
or SIGTERM; the suite runner drops any left behind by a killed child, by its pid.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from functools import lru_cache
from types import FrameType
from typing import Any

import orjson
import psycopg
from sqlalchemy.engine import make_url

from streamsettle.logging import configure_logging

# Records go to stdout, one JSON object per line; the application's logs (warnings and
# errors only: a benchmark reports through its records) go to stderr.
configure_logging(level="WARNING", json=False)

BENCH_PG_URL = os.environ.get(
    "STREAMSETTLE_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
DB_PREFIX = os.environ.get("STREAMSETTLE_BENCH_DB_PREFIX", "streamsettle_bench_")


def conninfo(url: str) -> str:
    """A libpq URI for psycopg from a SQLAlchemy URL (``postgresql+psycopg://`` -> ``postgresql://``)."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def database_url(name: str, base: str = BENCH_PG_URL) -> str:
    """The SQLAlchemy URL of database ``name`` on the bench server."""
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _admin() -> psycopg.Connection[Any]:
    return psycopg.connect(conninfo(BENCH_PG_URL), autocommit=True)


def drop_databases_of(pid: int) -> list[str]:
    """Drop every bench database a process ``pid`` created (the runner cleans up after a kill)."""
    with _admin() as admin:
        names = [
            row[0]
            for row in admin.execute(
                "SELECT datname FROM pg_database WHERE datname LIKE %s",
                (f"{DB_PREFIX}{pid}\\_%",),
            )
        ]
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return names


@contextmanager
def throwaway_database(*, migrate: bool = True) -> Iterator[str]:
    """A fresh database (migrated to head unless told otherwise), dropped on the way out."""
    name = f"{DB_PREFIX}{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with _admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = database_url(name)
    try:
        if migrate:
            from streamsettle.db.migrate import upgrade

            upgrade(url)
        yield url
    finally:
        with _admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def checkpoint(url: str) -> None:
    """Flush dirty buffers before a timed section so one measurement does not pay for another."""
    # Needs superuser (or pg_checkpoint); only a fairness aid, so a refusal is fine.
    with psycopg.connect(conninfo(url), autocommit=True) as connection, suppress(psycopg.Error):
        connection.execute("CHECKPOINT")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_bytes() -> int | None:
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return None


@lru_cache(maxsize=1)
def machine_info() -> dict[str, Any]:
    """Cores, CPU model, RAM, PostgreSQL and Python versions: the context of every figure."""
    try:
        with _admin() as admin:
            row = admin.execute("SHOW server_version").fetchone()
            pg_version: str | None = str(row[0]) if row else None
    except psycopg.Error:
        pg_version = None
    ram = _ram_bytes()
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "ram_gib": round(ram / 2**30, 1) if ram else None,
        "pg_version": pg_version,
        "python": platform.python_version(),
        "cpu_loop_ms": cpu_loop_ms(),
    }


def cpu_loop_ms() -> float:
    """A fixed pure-Python loop (best of three), timed when a figure is recorded.

    The cores of this virtual machine run at visibly different speeds from minute to minute
    (the same loop took 0.43 to 0.87 s within one minute here); a figure measured while
    this is high was measured on a slower machine.
    """
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        total = 0
        for i in range(1_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return round(best * 1000, 1)


def emit(record: dict[str, Any]) -> None:
    """Print one result as a JSON line (``machine`` added when missing) and flush it."""
    if "machine" not in record:
        record = {"name": record.get("name"), "machine": machine_info(), **record}
    sys.stdout.write(orjson.dumps(record).decode() + "\n")
    sys.stdout.flush()


@dataclass
class Stopwatch:
    """Wall-clock seconds of a ``with`` block."""

    seconds: float = field(default=0.0)
    _start: float = field(default=0.0, repr=False)

    def __enter__(self) -> Stopwatch:
        self._start = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self._start


def rate(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0


def parser(doc: str | None, name: str) -> argparse.ArgumentParser:
    """A benchmark's command line: ``--quick`` (small sizes, the CI-sized run), described by
    the first line of the module's docstring; SIGTERM from here on exits cleanly (so the
    throwaway databases are dropped)."""
    exit_cleanly_on_sigterm()
    parser = argparse.ArgumentParser(description=doc.splitlines()[0] if doc else name)
    parser.add_argument("--quick", action="store_true", help="small sizes (seconds)")
    return parser


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be positive, got {value}")
    return value


@dataclass(frozen=True)
class Size:
    """A benchmark's size option ``--<flag>``: one default for a full run, a smaller one
    for ``--quick``."""

    flag: str
    what: str
    full: int
    quick: int

    def add(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            f"--{self.flag}",
            type=_positive,
            help=f"{self.what} (default {self.full:,}; {self.quick:,} with --quick)",
        )

    def of(self, args: argparse.Namespace) -> int:
        value: int | None = getattr(args, self.flag.replace("-", "_"))
        return value or (self.quick if args.quick else self.full)


def _raise_exit(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


def exit_cleanly_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit so that ``finally`` blocks drop the databases."""
    signal.signal(signal.SIGTERM, _raise_exit)
