"""The steps of a batch run, in order. Each one is idempotent: it deletes the rows it owns
(for its date and video id range) and writes them again, in one transaction.

1. ``flush``        close and flush every live session that started on the day (3.7)
2. ``video_stats``  partitioned: each watch log's kind (3.3), the ones that do not count
                    written down, the daily statistics per video (3.4) and the settlement
                    of each (video, ad) pair (its ad views priced, 3.5, 3.6), all from one
                    snapshot of the logs; then the video's week and month so far
                    (``period_stats``, for the top 5)
3. ``ad_stats``     daily statistics per ad, over all partitions (3.4)
4. ``settle``       partitioned: settlement per video (3.5, 3.6), its ad amount the sum
                    of its pairs' amounts
5. ``creator_totals`` each creator's settlement of the day, over all partitions
6. ``statement_adjustments`` a day of a closed month: what changed becomes adjustments on
                    the next open statement (``services.statements.adjustments``, 3.8)

With a columnar engine (duckdb, spark; docs/engines.md) the rules are computed outside the
database by two steps after ``flush``: ``extract`` (the day's inputs read in one snapshot)
and ``compute`` (the engine's result tables); steps 2 to 5 then write those results, each
replacing the same rows, partitioned the same way, as the SQL steps do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, CursorResult, Date, Engine, bindparam, text
from sqlalchemy.types import TypeEngine

from streamsettle.db.base import UTCDateTime
from streamsettle.domain.periods import Period, business_date, business_day_bounds, period_range
from streamsettle.runtime import Runtime
from streamsettle.services.batch.engines.day import DayResults
from streamsettle.services.batch.engines.write import write_partition, write_totals
from streamsettle.services.batch.partitions import FULL_RANGE, VideoRange
from streamsettle.services.batch.sql import statements

FLUSH, VIDEO_STATS, AD_STATS, SETTLE, CREATOR_TOTALS, STATEMENT_ADJUSTMENTS = (
    "flush",
    "video_stats",
    "ad_stats",
    "settle",
    "creator_totals",
    "statement_adjustments",
)
STEP_NAMES = (FLUSH, VIDEO_STATS, AD_STATS, SETTLE, CREATOR_TOTALS, STATEMENT_ADJUSTMENTS)
EXTRACT, COMPUTE = "extract", "compute"
COLUMNAR_STEP_NAMES = (FLUSH, EXTRACT, COMPUTE, *STEP_NAMES[1:])
PARTITIONED = frozenset({VIDEO_STATS, SETTLE})
# The SQL files of a step, run in order in its transaction (``sql/<file>.sql``).
STEP_FILES = {VIDEO_STATS: (VIDEO_STATS, "period_stats")}
# The result tables of a columnar engine that each step writes.
WRITTEN_BY = {
    VIDEO_STATS: ("view_classifications", "daily_ad_settlements", "daily_video_stats"),
    AD_STATS: ("daily_ad_stats",),
    SETTLE: ("daily_settlements",),
    CREATOR_TOTALS: ("daily_creator_settlements",),
}


def step_names(engine: str) -> tuple[str, ...]:
    """The steps of a run computed by ``engine``, in order."""
    return STEP_NAMES if engine == "sql" else COLUMNAR_STEP_NAMES


_TYPES: dict[str, TypeEngine[Any]] = {
    "day": Date(),
    "lookback_date": Date(),
    "prev_date": Date(),
    "week_start": Date(),
    "week_end": Date(),
    "month_start": Date(),
    "month_end": Date(),
    "window_start": UTCDateTime(),
}


@dataclass(frozen=True)
class DayContext:
    """What every statement of one run needs to know about its business date."""

    day: date
    window: timedelta
    window_start: datetime
    lookback_date: date
    prev_date: date
    rate_card_id: int

    @classmethod
    def build(cls, runtime: Runtime, day: date, rate_card_id: int) -> DayContext:
        tz = runtime.settings.tz
        window = timedelta(seconds=runtime.settings.repeat_view_window_seconds)
        day_start, _ = business_day_bounds(day, tz)
        window_start = day_start - window
        return cls(
            day=day,
            window=window,
            window_start=window_start,
            lookback_date=business_date(window_start, tz),
            prev_date=day - timedelta(days=1),
            rate_card_id=rate_card_id,
        )

    def params(self, video_range: VideoRange) -> dict[str, Any]:
        return {
            **_period_params(self.day, video_range),
            "window": self.window,
            "window_us": self.window // timedelta(microseconds=1),
            "window_start": self.window_start,
            "lookback_date": self.lookback_date,
            "prev_date": self.prev_date,
            "card": self.rate_card_id,
        }


def _period_params(day: date, video_range: VideoRange) -> dict[str, Any]:
    week = period_range(Period.WEEK, day)
    month = period_range(Period.MONTH, day)
    return {
        "day": day,
        "lo": video_range.lo,
        "hi": video_range.hi,
        "week_start": week.start,
        "week_end": week.end,
        "month_start": month.start,
        "month_end": month.end,
    }


def refresh_rollups(conn: Connection, day: date, *, periods: bool = True) -> int:
    """Recompute what the batch derives from ``day``'s statistics and settlements for the
    admin's views: each creator's day and (``periods``) each video's week and month. For
    loaders that write daily rows directly (demo-sized data sets, benchmarks)."""
    params = _period_params(day, FULL_RANGE)
    written = run_sql_file(conn, CREATOR_TOTALS, params)
    if periods:
        written += run_sql_file(conn, "period_stats", params)
    return written


def run_sql_file(conn: Connection, name: str, params: dict[str, Any]) -> int:
    """Run the statements of ``sql/<name>[.<dialect>].sql``; the rows they wrote (deletes
    are not counted; a statement that answers a row answers how many it wrote)."""
    written = 0
    for sql in statements(name, conn.dialect.name):
        result = _execute(conn, sql, params)
        if result.returns_rows:
            written += int(result.scalar_one())
        elif sql.lstrip().upper().startswith(("INSERT", "WITH")):
            written += _rows_written(conn, result.rowcount)
    return written


def _execute(conn: Connection, sql: str, params: dict[str, Any]) -> CursorResult[Any]:
    """``sql`` with the ``params`` it names bound, typed by ``_TYPES``."""
    used = {key for key in params if re.search(rf":{key}\b", sql)}
    clause = text(sql).bindparams(
        *(bindparam(key, type_=_TYPES[key]) for key in sorted(used) if key in _TYPES)
    )
    return conn.execute(clause, {key: params[key] for key in used})


def _rows_written(conn: Connection, rowcount: int) -> int:
    """The rows the last statement wrote. Python's sqlite3 reports -1 for a statement that
    does not start with INSERT/UPDATE/DELETE (``WITH … INSERT``): SQLite's ``changes()``
    has the count."""
    if rowcount >= 0:
        return rowcount
    if conn.dialect.name == "sqlite":
        return int(conn.exec_driver_sql("SELECT changes()").scalar_one())
    return 0


# Window sorts and hash aggregates of a big day spill to disk at the 4 MB default.
PG_WORK_MEM = "64MB"
# Tables whose statistics the next step's plans depend on, refreshed after each step.
ANALYZE_AFTER = {
    VIDEO_STATS: ("daily_video_stats", "daily_ad_settlements", "period_video_stats"),
}


def _set_work_mem(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"SET LOCAL work_mem = '{PG_WORK_MEM}'"))


def run_step(conn: Connection, name: str, context: DayContext, video_range: VideoRange) -> int:
    """One database step (all but ``flush``) for one video id range."""
    _set_work_mem(conn)
    params = context.params(video_range)
    written = sum(run_sql_file(conn, file, params) for file in STEP_FILES.get(name, (name,)))
    check_references(conn, name, params)
    return written


def write_step(
    conn: Connection,
    name: str,
    context: DayContext,
    video_range: VideoRange,
    results: DayResults,
) -> int:
    """Step ``name`` of a columnar run for one video id range: the engine's rows replace
    the step's tables, then the step's further SQL files run (the rollups of
    ``video_stats``), in the same transaction."""
    _set_work_mem(conn)
    tables = WRITTEN_BY[name]
    if name in PARTITIONED:
        written = write_partition(
            conn, results, context.day, video_range.lo, video_range.hi, tables
        )
    else:
        written = write_totals(conn, results, context.day, tables)
    params = context.params(video_range)
    written += sum(run_sql_file(conn, file, params) for file in STEP_FILES.get(name, ())[1:])
    check_references(conn, name, params)
    return written


class MissingReferences(Exception):
    """The day's statistics name an ad that the catalogue does not hold."""


def check_references(conn: Connection, name: str, params: dict[str, Any]) -> None:
    """After ``video_stats``: every ad that the day's statistics of the range name exists
    (``sql/check_references.sql``), else the step fails and nothing of it is kept. The
    derived tables carry no foreign keys; this is their bulk check."""
    if name != VIDEO_STATS:
        return
    (sql,) = statements("check_references", conn.dialect.name)
    missing = int(_execute(conn, sql, params).scalar_one())
    if missing:
        raise MissingReferences(
            f"the statistics of {params['day']} (videos {params['lo']}..{params['hi']}) name"
            f" {missing} ad id(s) that the catalogue does not hold"
        )


def analyze_after(db_engine: Engine, name: str) -> None:
    """Refresh the planner statistics of what step ``name`` just wrote (PostgreSQL).

    Freshly written rows are invisible to the planner until autovacuum gets to them; the
    next step would then nest-loop over a million rows it believes to be one. Run once
    after all partitions (two concurrent ANALYZEs of one table conflict).
    """
    if db_engine.dialect.name != "postgresql":
        return
    with db_engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in ANALYZE_AFTER.get(name, ()):
            conn.execute(text(f"ANALYZE {table}"))


def flush_day(runtime: Runtime, day: date, now: datetime | None) -> int:
    """Step 1: the flusher closes the day's live sessions (idle or not) and writes them."""
    from streamsettle.services.ingest.flusher import close_and_flush_day

    return close_and_flush_day(runtime, day, now)
