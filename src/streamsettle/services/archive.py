"""Old days of watch logs moved out of the database into Parquet files, and back.

Archiving a settled day writes its partition to ``<dir>/watch_logs_<day>.parquet``, reads
the file back and checks it against the partition (row count and column sums), records
the file's SHA-256, and only then detaches and drops the partition, all in one
transaction that holds the partition against writes. The settled results stay; the batch
refuses to settle an archived day again until it is restored. Restoring checks the
file's SHA-256, loads the rows into a table of their own and attaches it as the day's
partition, so the restored rows are exactly the archived ones and mark nothing for a
re-run. Each day is its own transaction: an interrupted run leaves whole days done and the
rest untouched, and running it again carries on. The files are plain Parquet (user agents
as text, session ids as text), readable by any analytic engine. PostgreSQL only.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from sqlalchemy import Connection, delete, func, select, text

from streamsettle.db import partitions
from streamsettle.db.models import BatchRun, RerunMark, WatchLogArchive, WatchLogBlock
from streamsettle.errors import Conflict, InvalidInput, NotFound
from streamsettle.runtime import Runtime
from streamsettle.services.ingest.watch_log_writer import user_agent_ids

SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("business_date", pa.date32()),
        ("video_id", pa.int32()),
        ("viewer_id", pa.int32()),
        ("ip", pa.string()),
        ("user_agent", pa.string()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("ended_at", pa.timestamp("us", tz="UTC")),
        ("start_position_ms", pa.int32()),
        ("end_position_ms", pa.int32()),
        ("watched_seconds", pa.int32()),
        ("ad_positions", pa.list_(pa.int32())),
        ("ad_ids", pa.list_(pa.int32())),
    ]
)
"""The archive file's columns: the watch log row with its user agent as text."""

_SELECT = """
SELECT w.session_id::text, w.business_date, w.video_id, w.viewer_id, host(w.ip),
       u.user_agent, w.started_at, w.ended_at, w.start_position_ms, w.end_position_ms,
       w.watched_seconds, w.ad_positions, w.ad_ids
FROM {table} AS w JOIN user_agents AS u ON u.id = w.user_agent_id
ORDER BY w.session_id
"""
_SUMS = """
SELECT count(*), coalesce(sum(video_id::bigint), 0), coalesce(sum(watched_seconds::bigint), 0),
       coalesce(sum(end_position_ms::bigint - start_position_ms), 0),
       coalesce(sum(cardinality(ad_positions)), 0)
FROM {table}
"""
_FETCH_ROWS = 50_000

DayDone = Callable[[date, int], None]
"""Told of each day done, with its number of rows."""


@dataclass(frozen=True)
class ArchiveResult:
    archived: list[tuple[date, int]]
    """(day, rows) of each day archived."""
    skipped: list[tuple[date, str]]
    """(day, why) of each day before the date that was left in the database."""


def archive_path(directory: Path, day: date) -> Path:
    return directory / f"watch_logs_{day.isoformat()}.parquet"


def _require_postgresql(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        raise InvalidInput("archiving watch logs needs PostgreSQL (SQLite keeps every day)")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _sums_of_file(table: pa.Table) -> tuple[int, ...]:
    def total(array: Any) -> int:
        value = pc.sum(array).as_py()
        return int(value or 0)

    moved = pc.subtract(
        table["end_position_ms"].cast(pa.int64()), table["start_position_ms"].cast(pa.int64())
    )
    slots = pc.list_value_length(table["ad_positions"])
    return (
        table.num_rows,
        total(table["video_id"].cast(pa.int64())),
        total(table["watched_seconds"].cast(pa.int64())),
        total(moved),
        total(slots),
    )


def _batches(connection: Connection, table: str) -> Iterator[pa.RecordBatch]:
    result = connection.execute(
        text(_SELECT.format(table=table)), execution_options={"stream_results": True}
    )
    for rows in result.partitions(_FETCH_ROWS):
        columns = list(zip(*rows, strict=True))
        yield pa.RecordBatch.from_arrays(
            [
                pa.array(values, type=field.type)
                for values, field in zip(columns, SCHEMA, strict=True)
            ],
            schema=SCHEMA,
        )


def _settled(connection: Connection, day: date) -> str | None:
    """Why ``day`` cannot be archived yet, or None."""
    completed = connection.scalar(
        select(func.count())
        .select_from(BatchRun)
        .where(BatchRun.business_date == day, BatchRun.status == "completed")
    )
    if not completed:
        return "not settled yet"
    if connection.scalar(
        select(func.count()).select_from(RerunMark).where(RerunMark.business_date == day)
    ):
        return "marked for a re-run"
    return None


def _archive_day(connection: Connection, day: date, directory: Path) -> int:
    table = partitions.partition_name(day)
    # Holds the day against new logs until the partition is gone.
    connection.execute(text(f"LOCK TABLE {table} IN SHARE MODE"))
    path = archive_path(directory, day)
    partial = path.with_suffix(".parquet.partial")
    with pq.ParquetWriter(partial, SCHEMA, compression="zstd") as writer:
        for batch in _batches(connection, table):
            writer.write_batch(batch)
    expected = tuple(int(v) for v in connection.execute(text(_SUMS.format(table=table))).one())
    found = _sums_of_file(pq.read_table(partial))
    if found != expected:
        partial.unlink()
        raise Conflict(
            f"the archive file of {day} does not match its partition: {found} != {expected}"
        )
    os.replace(partial, path)
    connection.execute(
        WatchLogArchive.__table__.insert().values(  # type: ignore[attr-defined]
            business_date=day,
            path=str(path),
            rows=expected[0],
            sha256=_sha256(path),
            archived_at=datetime.now(UTC),
        )
    )
    connection.execute(text(f"ALTER TABLE {partitions.PARENT} DETACH PARTITION {table}"))
    connection.execute(text(f"DROP TABLE {table}"))
    # Dropping a partition fires no delete trigger: the day's columnar copy goes here.
    connection.execute(delete(WatchLogBlock).where(WatchLogBlock.business_date == day))
    return expected[0]


def archive(
    runtime: Runtime, before: date, directory: Path, on_day: DayDone | None = None
) -> ArchiveResult:
    """Archive every settled day before ``before`` that still has rows in its partition."""
    directory.mkdir(parents=True, exist_ok=True)
    with runtime.db.engine.connect() as connection:
        _require_postgresql(connection)
        days = [day for day in partitions.attached_days(connection) if day < before]
    archived: list[tuple[date, int]] = []
    skipped: list[tuple[date, str]] = []
    for day in days:
        with runtime.db.engine.begin() as connection:
            table = partitions.partition_name(day)
            if not connection.scalar(text(f"SELECT EXISTS (SELECT FROM {table})")):  # noqa: S608
                continue  # an empty day (made ahead, or emptied): nothing to keep
            why = _settled(connection, day)
            if why is not None:
                skipped.append((day, why))
                continue
            rows = _archive_day(connection, day, directory)
            partitions.forget(connection, day)
        archived.append((day, rows))
        if on_day:
            on_day(day, rows)
    return ArchiveResult(archived, skipped)


_RESTORE_COLUMNS = (
    "started_at, ended_at, session_id, business_date, video_id, viewer_id, user_agent_id, "
    "start_position_ms, end_position_ms, watched_seconds, ip, ad_positions, ad_ids"
)


def restore(runtime: Runtime, day: date) -> int:
    """Bring an archived day back as its partition; the number of rows restored."""
    with runtime.db.engine.begin() as connection:
        _require_postgresql(connection)
        record = connection.execute(
            select(WatchLogArchive).where(WatchLogArchive.business_date == day).with_for_update()
        ).first()
        if record is None:
            raise NotFound(f"{day} is not archived")
        path = Path(record.path)
        if not path.is_file():
            raise NotFound(f"the archive file of {day} is missing: {path}")
        if _sha256(path) != record.sha256:
            raise Conflict(f"the archive file of {day} changed since it was written: {path}")
        data = pq.read_table(path, schema=SCHEMA)
        ids = user_agent_ids(connection, set(data["user_agent"].to_pylist()))
        table = partitions.partition_name(day)
        connection.execute(
            text(
                f"CREATE TABLE {table} (LIKE {partitions.PARENT} "
                "INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
            )
        )
        driver = connection.connection.driver_connection
        assert driver is not None
        with (
            driver.cursor() as cur,
            cur.copy(f"COPY {table} ({_RESTORE_COLUMNS}) FROM STDIN") as copy,
        ):
            for row in data.to_pylist():
                copy.write_row(
                    (
                        row["started_at"],
                        row["ended_at"],
                        row["session_id"],
                        row["business_date"],
                        row["video_id"],
                        row["viewer_id"],
                        ids[row["user_agent"]],
                        row["start_position_ms"],
                        row["end_position_ms"],
                        row["watched_seconds"],
                        row["ip"],
                        row["ad_positions"],
                        row["ad_ids"],
                    )
                )
        connection.execute(
            text(
                f"ALTER TABLE {partitions.PARENT} ATTACH PARTITION {table} {partitions.bounds(day)}"
            )
        )
        connection.execute(
            WatchLogArchive.__table__.delete().where(  # type: ignore[attr-defined]
                WatchLogArchive.business_date == day
            )
        )
    return int(data.num_rows)


def archived_days(runtime: Runtime) -> list[WatchLogArchive]:
    with runtime.db.session() as session:
        return list(
            session.scalars(select(WatchLogArchive).order_by(WatchLogArchive.business_date))
        )
