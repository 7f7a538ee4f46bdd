"""Reading a day's inputs from PostgreSQL as Arrow, through ADBC (binary COPY underneath).

All queries of one extraction run in one REPEATABLE READ transaction, so the logs, the
catalogue and the cumulative counts are one snapshot. The day's logs come from their
columnar copy (``db/log_blocks.py``) when its rows add up to the day's logs counted in
that snapshot, else from the table (a day written before the copy existed, or by a path
that writes no blocks: a restore, a bulk load). The cumulative counts are summed only
for the videos the day's logs hold (all their (video, ad) pairs: the rules keep the ones
the day has), which are found from the Arrow logs and sent back as a temporary table: the
day's partition is scanned once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa
import pyarrow.compute as pc
from sqlalchemy.engine import make_url

from streamsettle.db import log_blocks
from streamsettle.domain.periods import business_date, business_day_bounds
from streamsettle.domain.pricing import RateCard
from streamsettle.logging import get_logger
from streamsettle.services.batch.engines.day import (
    ADS_SCHEMA,
    LOGS_SCHEMA,
    PAIR_BEFORE_SCHEMA,
    VIDEO_BEFORE_SCHEMA,
    VIDEOS_SCHEMA,
    DayInputs,
    DayParams,
    tiers_table,
)
from streamsettle.services.batch.engines.rules import read_relations, render

log = get_logger(__name__)

_SCHEMAS = {
    "videos": VIDEOS_SCHEMA,
    "ads": ADS_SCHEMA,
    "video_before": VIDEO_BEFORE_SCHEMA,
    "pair_before": PAIR_BEFORE_SCHEMA,
}


def adbc_uri(database_url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL (``postgresql+psycopg://…``)."""
    url = make_url(database_url)
    if url.get_backend_name() != "postgresql":
        raise ValueError(f"the columnar engines read PostgreSQL, not {url.get_backend_name()}")
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _literals(params: DayParams, tz: ZoneInfo) -> dict[str, str]:
    day_start, _ = business_day_bounds(params.day, tz)
    window_start: datetime = day_start - params.window
    return {
        "day": f"DATE '{params.day.isoformat()}'",
        "prev_date": f"DATE '{(params.day - timedelta(days=1)).isoformat()}'",
        "lookback_date": f"DATE '{business_date(window_start, tz).isoformat()}'",
        "window_start": f"TIMESTAMPTZ '{window_start.isoformat()}'",
    }


def conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """``table``'s columns as ``schema`` types them: extension types (uuid, PostgreSQL's
    opaque inet) become their storage, then a cast (a time zone drop, a widening)."""
    columns = []
    for field in schema:
        column = table.column(field.name)
        if isinstance(column.type, pa.BaseExtensionType):
            storage = column.type.storage_type
            column = pa.chunked_array([chunk.storage for chunk in column.chunks], type=storage)
        columns.append(column.cast(field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def day_videos(logs: pa.Table) -> pa.Table:
    """The distinct video ids of ``logs``."""
    return pa.table({"video_id": pc.unique(logs.column("video_id").combine_chunks())})


def extract_day(
    database_url: str,
    params: DayParams,
    tz: ZoneInfo,
    card: RateCard,
    *,
    use_blocks: bool = True,
) -> DayInputs:
    """The inputs of ``params.day`` read from the PostgreSQL at ``database_url`` (the logs
    from the table even where blocks hold them when ``use_blocks`` is false)."""
    import adbc_driver_postgresql.dbapi as adbc

    literals = _literals(params, tz)
    queries = {name: render(sql, literals) for name, sql in read_relations("extract.sql")}
    tables: dict[str, pa.Table] = {}
    with adbc.connect(adbc_uri(database_url)) as conn, conn.cursor() as cur:

        def read(name: str, schema: pa.Schema | None) -> pa.Table:
            cur.execute(queries[name])
            table = cur.fetch_arrow_table()
            return table if schema is None else conform(table, schema)

        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        day, source = _day_logs(read) if use_blocks else (read("day_logs", None), "table")
        log.info("day logs read", date=params.day.isoformat(), source=source, logs=day.num_rows)
        dates = pa.repeat(pa.scalar(params.day, pa.date32()), day.num_rows)
        day = conform(day.add_column(1, "business_date", dates), LOGS_SCHEMA)
        logs = pa.concat_tables([day, read("tail_logs", LOGS_SCHEMA)])
        _upload(cur, "engine_day_videos", day_videos(logs))
        for name, schema in _SCHEMAS.items():
            tables[name] = read(name, schema)
        conn.rollback()
    return DayInputs(
        params=params, logs=logs, tiers=tiers_table(card), logs_source=source, **tables
    )


def _day_logs(read: Callable[[str, pa.Schema | None], pa.Table]) -> tuple[pa.Table, str]:
    """The day's logs, from their blocks if these hold them all, and where they came from."""
    counted = read("day_count", None).column("logs")[0].as_py()
    blocks = read("day_blocks", None)
    if pc.sum(blocks.column("rows")).as_py() == counted and counted:
        return log_blocks.decode(log_blocks.values(blocks.column("data"))), "blocks"
    return read("day_logs", None), "table"


def _upload(cur: Any, name: str, keys: pa.Table) -> None:
    cur.adbc_ingest(name, keys, mode="create", temporary=True)
    cur.execute(f"ANALYZE {name}")
