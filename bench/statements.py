"""Monthly statements on PostgreSQL: closing a month, and the batch's adjustment step.

In a throwaway database, writes two months (October and November 2024) of daily
settlements directly (not timed): ``--videos`` videos of ``--creators`` creators, one row
per video and day, so 31 x videos (video, day) rows a month, and a completed batch run for
every day. Then times, in one run:

- ``close``: closing October (the first close: freezing the month's daily settlements,
  one statement per creator and one line per video), against a reference that reads the
  same rows and writes the per-video sums once (``CREATE TABLE … AS SELECT … GROUP BY``),
  and against copying the month's rows once (``CREATE TABLE … AS SELECT *``);
- ``adjust_all``: every October row re-settled one won higher, then the adjustment step for
  each of the 31 days (as 31 batch runs would), one adjustment per (video, day);
- ``adjust_none``: the same 31 steps again, nothing due (they write nothing);
- ``close_next``: closing November, which carries every adjustment and carried balance;
- ``list``: reading every creator's closed October statement (the admin listing).

    python -m bench.statements [--quick] [--videos N] [--creators N]
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import psycopg
from sqlalchemy import text

from bench.common import (
    Stopwatch,
    checkpoint,
    conninfo,
    emit,
    parser,
    throwaway_database,
)
from streamsettle.config import Settings
from streamsettle.domain.periods import DateRange
from streamsettle.runtime import Runtime
from streamsettle.services.statements import close_month, list_statements, record_adjustments

BENCH_SECRET = "bench-secret-" + "x" * 40
OCT, NOV = date(2024, 10, 1), date(2024, 11, 1)
END = date(2024, 11, 30)

SETUP = (
    """INSERT INTO users (id, email, display_name, created_at)
    SELECT g, 'c' || g || '@bench.test', 'creator ' || g, now()
    FROM generate_series(1, %(creators)s) AS g""",
    """INSERT INTO videos (id, creator_id, title, duration_seconds, created_at)
    SELECT g, 1 + g %% %(creators)s, 'video ' || g, 1200, now()
    FROM generate_series(1, %(videos)s) AS g""",
    # Views per day vary by video and day; amounts as the default rate card's first tier.
    """INSERT INTO daily_settlements (business_date, video_id, creator_id, rate_card_id, views,
                                      views_before, ad_views, video_amount, ad_amount,
                                      total_amount)
    SELECT d::date, v.id, v.creator_id, 1, s.views, 0, s.views / 5, s.views,
           10 * (s.views / 5), s.views + 10 * (s.views / 5)
    FROM videos AS v
    CROSS JOIN generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d
    CROSS JOIN LATERAL (
        SELECT 1 + abs(hashtext(v.id || ':' || d::date)) %% 400 AS views
    ) AS s""",
    """INSERT INTO batch_runs (business_date, status, partitions, worker, started_at,
                               heartbeat_at, finished_at)
    SELECT d::date, 'completed', 1, 'bench', now(), now(), now()
    FROM generate_series(%(start)s::date, %(end)s::date, interval '1 day') AS d""",
    "ANALYZE",
)
REFERENCE = """
CREATE TABLE reference_lines AS
SELECT creator_id, video_id, sum(views) AS views, sum(ad_views) AS ad_views,
       sum(video_amount) AS video_amount, sum(ad_amount) AS ad_amount,
       sum(total_amount) AS total_amount
FROM daily_settlements WHERE business_date BETWEEN %(start)s AND %(end)s
GROUP BY creator_id, video_id
"""
# The freeze alone: the month's rows copied once into a plain table (logged, like the
# statement tables; a temporary table would skip the WAL), no index, no trigger, no sums.
COPY_REFERENCE = """
CREATE TABLE reference_days AS
SELECT * FROM daily_settlements WHERE business_date BETWEEN %(start)s AND %(end)s
"""
RESETTLE = """
UPDATE daily_settlements SET video_amount = video_amount + 1, total_amount = total_amount + 1
WHERE business_date BETWEEN %(start)s AND %(end)s
"""


def _adjust_month(runtime: Runtime, month: date) -> tuple[float, int]:
    written = 0
    with Stopwatch() as watch:
        for day in DateRange(month, date(month.year, month.month, 31)).days():
            with runtime.db.engine.begin() as conn:
                written += record_adjustments(conn, day)
    return watch.seconds, written


def main(argv: Sequence[str] | None = None) -> None:
    cli = parser(__doc__, "statements")
    cli.add_argument("--videos", type=int, help="videos (default 3,300; quick 300)")
    cli.add_argument("--creators", type=int, help="creators (default 1,000; quick 100)")
    args = cli.parse_args(argv)
    videos = args.videos or (300 if args.quick else 3_300)
    creators = args.creators or (100 if args.quick else 1_000)
    with throwaway_database() as url:
        with psycopg.connect(conninfo(url)) as conn:
            for sql in SETUP:
                conn.execute(
                    sql, {"creators": creators, "videos": videos, "start": OCT, "end": END}
                )
            rows = conn.execute(
                "SELECT count(*) FROM daily_settlements WHERE business_date < %s", (NOV,)
            ).fetchone()
        month_rows = int(rows[0]) if rows else 0
        settings = Settings(
            _env_file=None,
            database_url=url,
            jwt_secret=BENCH_SECRET,
            embedded=False,
            log_json=False,
        )
        runtime = Runtime.from_settings(settings)
        try:
            checkpoint(url)
            october = {"start": OCT, "end": date(2024, 10, 31)}
            with psycopg.connect(conninfo(url)) as conn, Stopwatch() as reference:
                conn.execute(REFERENCE, october)
            with psycopg.connect(conninfo(url)) as conn, Stopwatch() as copy_reference:
                conn.execute(COPY_REFERENCE, october)
            checkpoint(url)
            with Stopwatch() as close:
                closed = close_month(runtime, OCT, threshold=10_000)
            with psycopg.connect(conninfo(url)) as conn:
                conn.execute(RESETTLE, {"start": OCT, "end": date(2024, 10, 31)})
            checkpoint(url)
            all_seconds, all_written = _adjust_month(runtime, OCT)
            none_seconds, none_written = _adjust_month(runtime, OCT)
            checkpoint(url)
            with Stopwatch() as close_next:
                closed_next = close_month(runtime, NOV, threshold=10_000)
            with Stopwatch() as listing, runtime.db.read_session() as session:
                listed = list_statements(session, OCT, 10_000)
            with runtime.db.engine.connect() as conn:
                adjustments = conn.scalar(text("SELECT count(*) FROM statement_adjustments"))
        finally:
            runtime.close()
    emit(
        {
            "name": "statements",
            "videos": videos,
            "creators": creators,
            "settlement_rows_per_month": month_rows,
            "close_seconds": round(close.seconds, 3),
            "close_statements": closed.statements,
            "reference_group_by_seconds": round(reference.seconds, 3),
            "close_vs_reference": round(close.seconds / reference.seconds, 1),
            "reference_copy_seconds": round(copy_reference.seconds, 3),
            "close_vs_copy": round(close.seconds / copy_reference.seconds, 1),
            "adjust_all_changed_seconds": round(all_seconds, 3),
            "adjust_all_changed_rows": all_written,
            "adjust_nothing_due_seconds": round(none_seconds, 3),
            "adjust_nothing_due_rows": none_written,
            "adjust_days": 31,
            "close_next_seconds": round(close_next.seconds, 3),
            "close_next_statements": closed_next.statements,
            "close_next_adjustments": int(adjustments or 0),
            "list_closed_month_seconds": round(listing.seconds, 3),
            "list_closed_month_statements": len(listed.items),
        }
    )


if __name__ == "__main__":
    main()
