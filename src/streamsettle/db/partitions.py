"""The day partitions of ``watch_logs`` on PostgreSQL (SQLite keeps one plain table).

One partition per business day, ``watch_logs_dYYYYMMDD`` holding ``[day, day + 1)``: a
day's batch reads one partition, and an archived day is detached and dropped whole. The
scheduler creates the coming days ahead; every writer (flusher, import, generator) also
makes sure the days it writes exist, so no write ever fails for want of a partition.

Creating a partition locks the parent table briefly; the check for existing ones reads the
catalog and is cached per process, so the common case costs one set lookup.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, text

PARENT = "watch_logs"
_NAME = re.compile(r"^watch_logs_d(\d{8})$")
_LOCK_KEY = 0x5754_4C47  # 'WTLG': one creator of partitions at a time
_known: set[tuple[str, date]] = set()
"""(database, day) pairs seen to exist in this process."""


def partition_name(day: date) -> str:
    return f"{PARENT}_d{day:%Y%m%d}"


def bounds(day: date) -> str:
    """The partition bound clause of ``day``: ``[day, day + 1)``."""
    return f"FOR VALUES FROM ('{day.isoformat()}') TO ('{(day + timedelta(days=1)).isoformat()}')"


def partition_day(name: str) -> date | None:
    """The business day of a partition's table name, None for any other name."""
    match = _NAME.match(name)
    return datetime.strptime(match.group(1), "%Y%m%d").date() if match else None


def _database(connection: Connection) -> str:
    url = connection.engine.url
    return f"{url.host}:{url.port}/{url.database}"


def attached_days(connection: Connection) -> list[date]:
    """The days that have a partition attached, in order."""
    rows = connection.execute(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": PARENT},
    ).scalars()
    return sorted(day for day in map(partition_day, rows) if day is not None)


def ensure_days(connection: Connection, days: Iterable[date]) -> list[date]:
    """Create the missing partitions of ``days`` in the caller's transaction; the days
    created. A no-op on SQLite."""
    if connection.dialect.name != "postgresql":
        return []
    database = _database(connection)
    wanted = sorted({day for day in days if (database, day) not in _known})
    if not wanted:
        return []
    existing = set(attached_days(connection))
    missing = [day for day in wanted if day not in existing]
    if missing:
        # Two writers may meet the same new day: the lock makes the second one see it.
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
        existing = set(attached_days(connection))
        missing = [day for day in missing if day not in existing]
        for day in missing:
            connection.execute(
                text(f"CREATE TABLE {partition_name(day)} PARTITION OF {PARENT} {bounds(day)}")
            )
    _known.update((database, day) for day in wanted if day not in missing)
    return missing


def forget(connection: Connection, day: date) -> None:
    """Drop ``day`` from the process's cache (after detaching its partition)."""
    _known.discard((_database(connection), day))
