"""Writing a columnar engine's results to PostgreSQL: the rows the ``sql`` engine writes.

Each write runs on the caller's connection, inside the caller's transaction (the runner's
one transaction per partition, which also records the step): the partition's rows of the
day are deleted and the engine's rows for its video id range copied in with ``COPY … FROM
STDIN (FORMAT csv)``, rendered from Arrow by pyarrow's C++ CSV writer. Text COPY keeps the
server's parsing exact for every column type here (dates, uuids, integers, short text) and
costs the server little next to the index maintenance of the inserts themselves.
"""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, Date, bindparam, text

from streamsettle.services.batch.engines.day import PER_VIDEO, RESULT_COLUMNS, TOTALS, DayResults

_CSV = pacsv.WriteOptions(include_header=False, batch_size=65536)
# Each result table's primary key after business_date (one date per write).
KEYS = {
    "view_classifications": ("video_id", "session_id"),
    "daily_video_stats": ("video_id",),
    "daily_ad_stats": ("ad_id",),
    "daily_ad_settlements": ("video_id", "ad_id"),
    "daily_settlements": ("video_id",),
    "daily_creator_settlements": ("creator_id",),
}


# Rows a video writes besides its results: its week and its month (``period_video_stats``).
PERIOD_ROWS_PER_VIDEO = 2


def rows_per_video(results: DayResults) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Each video id of the results and the rows its partition will write for it: the
    write-back's cost, by which its partitions are balanced. (A day's logs are skewed to
    popular videos, while most rows belong to the many videos with few logs.)"""
    ids = [
        results.tables[name].column("video_id").to_numpy().astype(np.int64) for name in PER_VIDEO
    ]
    videos = results.tables["daily_video_stats"].column("video_id").to_numpy().astype(np.int64)
    periods = np.repeat(videos, PERIOD_ROWS_PER_VIDEO)
    video_ids, counts = np.unique(np.concatenate([*ids, periods]), return_counts=True)
    return video_ids, counts.astype(np.int64)


def in_range(table: pa.Table, lo: int, hi: int) -> pa.Table:
    """The rows of ``table`` whose ``video_id`` is in ``lo..hi`` (both inclusive)."""
    video_id = table.column("video_id")
    return table.filter(pc.and_(pc.greater_equal(video_id, lo), pc.less_equal(video_id, hi)))


def write_partition(
    conn: Connection,
    results: DayResults,
    day: date,
    lo: int,
    hi: int,
    names: tuple[str, ...] = PER_VIDEO,
) -> int:
    """Replace ``day``'s rows of the per-video tables ``names`` for video ids ``lo..hi``;
    the rows written."""
    written = 0
    for name in names:
        if name not in PER_VIDEO:
            raise ValueError(f"{name} is not keyed by video id")
        _delete(conn, name, day, "AND video_id BETWEEN :lo AND :hi", {"lo": lo, "hi": hi})
        written += copy_rows(conn, name, in_range(results.tables[name], lo, hi))
    return written


def write_totals(
    conn: Connection, results: DayResults, day: date, names: tuple[str, ...] = TOTALS
) -> int:
    """Replace ``day``'s rows of the tables over all videos (``TOTALS``); rows written."""
    written = 0
    for name in names:
        if name not in TOTALS:
            raise ValueError(f"{name} is not a table over all videos")
        _delete(conn, name, day, "", {})
        written += copy_rows(conn, name, results.tables[name])
    return written


def _delete(conn: Connection, name: str, day: date, extra: str, params: dict[str, int]) -> None:
    sql = text(f"DELETE FROM {name} WHERE business_date = :day {extra}")  # noqa: S608
    conn.execute(sql.bindparams(bindparam("day", type_=Date())), {"day": day, **params})


def copy_rows(conn: Connection, name: str, table: pa.Table) -> int:
    """COPY ``table``'s rows into ``name`` (its ``RESULT_COLUMNS``) on ``conn``; how many."""
    if table.num_rows == 0:
        return 0
    columns = RESULT_COLUMNS[name]
    # In primary key order: each index page is filled once, not revisited at random.
    ordered = table.select(list(columns)).sort_by([(key, "ascending") for key in KEYS[name]])
    buffer = io.BytesIO()
    pacsv.write_csv(ordered, buffer, _CSV)
    raw = conn.connection.driver_connection
    if raw is None:
        raise RuntimeError("the connection has no driver connection to COPY through")
    with (
        raw.cursor() as cur,
        cur.copy(f"COPY {name} ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy,
    ):
        copy.write(buffer.getbuffer())
    return int(table.num_rows)
