"""The daily batch on one business day of N watch logs on PostgreSQL: ``run_date`` seconds.

Generates the day server-side (not timed) in a throwaway database with one
``INSERT … SELECT FROM generate_series``: log-uniform (Zipf-like, exponent 1) video
popularity, ~10 % anonymous sessions, ~5 % repeats (a second session of the same viewer,
IP and video 10 s later), ~1 % self views, ad slots at 300/600/900 s reached by how long the
session watched (the log's ``ad_positions`` / ``ad_ids`` arrays, in the day's partition),
plus 1 % of the count started in the last minute of the day before
(earlier sessions for the repeat window, settled first, not timed). Then times ``run_date``
as the scheduler runs it, the first time (the day's derived rows are deleted and vacuumed,
untimed, before each measurement), once per requested number of partitions, and finally
a re-run (which also deletes and rewrites the rows of the previous run). The reference is
the bare aggregate over the same rows: ``SELECT video_id, count(*), sum(watched_seconds)
FROM watch_logs WHERE business_date = D GROUP BY video_id``. A second reference, the
``rules floor``, is rule 3.3's repeat test alone (is there an earlier session
of the same video by the same user, or from the same IP, within the window?), counted per
video and written nowhere, in the two formulations PostgreSQL offers: two window passes
(``lag``, as the batch does; in one connection, then split over two by odd and even video
ids) and two hash semi-joins of the day against itself (one connection, which may use
parallel workers). The faster of them is the least a batch that applies the rules in the
database pays.

Every installed engine (``--engines``, docs/engines.md) is timed on the same day: the
run's seconds, and for the columnar engines its extract, compute and write-back steps
apart, next to ``SELECT video_id, count(*) … GROUP BY video_id`` measured in the same run.
Spark's session (its JVM) is started, and timed, before its run. With DuckDB, the
``columnar floor`` follows: the least each of the three parts costs on its own
(``columnar_floor``).

    python -m bench.batch_day [--quick] [--logs N] [--videos N] [--partitions 1,2]
                              [--engines sql,duckdb,spark]
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
import sqlalchemy as sa

from bench import common
from streamsettle.config import Settings
from streamsettle.db import log_blocks
from streamsettle.db.models import BatchRun
from streamsettle.db.models.playback import SMALL_BLOCK_ROWS
from streamsettle.db.partitions import ensure_days
from streamsettle.domain.periods import business_day_bounds
from streamsettle.runtime import Runtime
from streamsettle.services.batch import run_date
from streamsettle.services.batch.engines.day import PER_VIDEO, DayParams
from streamsettle.services.batch.engines.extract import conform
from streamsettle.services.batch.engines.registry import installed_engines
from streamsettle.services.batch.steps import PG_WORK_MEM

DAY_LOGS = common.Size("logs", "watch logs on the day", full=1_000_000, quick=20_000)
BENCH_SECRET = "bench-secret-" + "x" * 40
DAY = date(2024, 9, 2)
VIEWERS = 100_000

CATALOGUE = (
    """INSERT INTO users (id, email, display_name, created_at)
    SELECT g, 'u' || g || '@bench.test', 'user ' || g, now()
    FROM generate_series(1, %(users)s) AS g""",
    """INSERT INTO ads (id, owner_id, title, duration_seconds, active, created_at)
    SELECT g, %(viewers)s + 1 + g %% 20, 'ad ' || g, 15, true, now()
    FROM generate_series(1, 50) AS g""",
    """INSERT INTO videos (id, creator_id, title, duration_seconds, created_at)
    SELECT g, %(viewers)s + 21 + g %% 500, 'video ' || g, 1200, now()
    FROM generate_series(1, %(videos)s) AS g""",
    """INSERT INTO ad_slots (video_id, position_seconds, ad_id)
    SELECT v, s.p, 1 + (v + s.p / 300) %% 50
    FROM generate_series(1, %(videos)s) AS v, (VALUES (300), (600), (900)) AS s(p)""",
    "INSERT INTO user_agents (id, user_agent) VALUES (1, 'bench')",
)

# Every random choice is a deterministic uniform number in [0, 1) hashed from the row key;
# rows n and n - 1 share their key when n %% 20 = 1: a repeat 10 s after the first session.
LOGS = """
INSERT INTO watch_logs (started_at, ended_at, session_id, business_date, video_id, viewer_id,
                        user_agent_id, start_position_ms, end_position_ms, watched_seconds,
                        ip, ad_positions, ad_ids)
SELECT r.started_at, r.started_at + make_interval(secs => r.watched), gen_random_uuid(),
       %(day)s, r.video_id,
       CASE WHEN r.u_self < 0.01 THEN v.creator_id ELSE r.viewer_id END,
       1, 0, r.watched * 1000, r.watched, r.ip::inet, s.positions, s.ads
FROM (
    SELECT k.video_id,
           CASE WHEN k.u_anon < 0.10 THEN NULL
                ELSE 1 + floor(k.u_viewer * %(viewers)s)::bigint END AS viewer_id,
           '10.' || (k.ip_n / 65536) || '.' || (k.ip_n / 256 %% 256) || '.' || (k.ip_n %% 256)
               AS ip,
           %(start)s::timestamptz + make_interval(secs => k.u_time * %(span)s + k.offset_s)
               AS started_at,
           floor(k.u_watch * 1200)::int AS watched,
           k.u_self
    FROM (
        SELECT floor(exp(u.u_video * ln(%(videos)s)))::bigint AS video_id,
               floor(u.u_viewer * 200000)::int AS ip_n,
               (g.n - g.key) * 10 AS offset_s,
               u.*
        FROM (
            SELECT n, CASE WHEN n %% 20 = 1 THEN n - 1 ELSE n END AS key
            FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS n
        ) AS g
        CROSS JOIN LATERAL (
            SELECT (abs(hashtext(g.key || ':v')) %% 1000000) / 1e6 AS u_video,
                   (abs(hashtext(g.key || ':w')) %% 1000000) / 1e6 AS u_viewer,
                   (abs(hashtext(g.key || ':a')) %% 1000000) / 1e6 AS u_anon,
                   (abs(hashtext(g.key || ':t')) %% 1000000) / 1e6 AS u_time,
                   (abs(hashtext(g.n || ':d')) %% 1000000) / 1e6 AS u_watch,
                   (abs(hashtext(g.n || ':s')) %% 1000000) / 1e6 AS u_self
        ) AS u
    ) AS k
) AS r
JOIN videos AS v ON v.id = r.video_id
LEFT JOIN LATERAL (
    SELECT array_agg(a.position_seconds ORDER BY a.position_seconds) AS positions,
           array_agg(a.ad_id ORDER BY a.position_seconds) AS ads
    FROM ad_slots AS a
    WHERE a.video_id = r.video_id AND a.position_seconds <= r.watched
) AS s ON true
"""

REFERENCE = """
SELECT video_id, count(*), sum(watched_seconds) FROM watch_logs
WHERE business_date = %(day)s GROUP BY video_id
"""

RULES_FLOOR_SEMI_JOIN = """
SELECT video_id, count(*)
FROM (
    SELECT d.session_id, d.video_id
    FROM watch_logs AS d
    WHERE d.business_date = %(day)s AND EXISTS (
        SELECT 1 FROM watch_logs AS e
        WHERE e.video_id = d.video_id AND e.ip = d.ip
          AND e.business_date BETWEEN %(day)s - 1 AND %(day)s
          AND e.started_at >= d.started_at - %(window)s
          AND (e.started_at, e.session_id) < (d.started_at, d.session_id))
    UNION
    SELECT d.session_id, d.video_id
    FROM watch_logs AS d
    WHERE d.business_date = %(day)s AND d.viewer_id IS NOT NULL AND EXISTS (
        SELECT 1 FROM watch_logs AS e
        WHERE e.video_id = d.video_id AND e.viewer_id = d.viewer_id
          AND e.business_date BETWEEN %(day)s - 1 AND %(day)s
          AND e.started_at >= d.started_at - %(window)s
          AND (e.started_at, e.session_id) < (d.started_at, d.session_id))
) AS repeats
GROUP BY video_id
"""

RULES_FLOOR = """
SELECT video_id, count(*) FILTER (WHERE NOT repeat)
FROM (
    SELECT video_id, business_date,
           viewer_id IS NOT NULL AND COALESCE(lag(started_at) OVER (
               PARTITION BY video_id, viewer_id ORDER BY started_at, session_id
           ) >= started_at - %(window)s, false)
           OR COALESCE(lag(started_at) OVER (
               PARTITION BY video_id, ip ORDER BY started_at, session_id
           ) >= started_at - %(window)s, false) AS repeat
    FROM watch_logs
    WHERE business_date BETWEEN %(day)s - 1 AND %(day)s AND started_at >= %(window_start)s
      AND video_id %% %(parts)s = %(part)s
) AS l
WHERE business_date = %(day)s
GROUP BY video_id
"""

FLOORS = (
    ("window passes", RULES_FLOOR, 1),
    ("window passes", RULES_FLOOR, 2),
    ("hash semi-joins", RULES_FLOOR_SEMI_JOIN, 1),
)

RESET = (
    "DELETE FROM daily_creator_settlements WHERE business_date = %(day)s",
    "DELETE FROM daily_ad_settlements WHERE business_date = %(day)s",
    "DELETE FROM daily_settlements WHERE business_date = %(day)s",
    "DELETE FROM daily_ad_stats WHERE business_date = %(day)s",
    "DELETE FROM daily_video_stats WHERE business_date = %(day)s",
    "DELETE FROM view_classifications WHERE business_date = %(day)s",
)
DERIVED = "view_classifications, daily_video_stats, daily_ad_stats, "
DERIVED += "daily_settlements, daily_ad_settlements, daily_creator_settlements, period_video_stats"

SHAPE = """
SELECT count(*) FILTER (WHERE viewer_id IS NULL), count(DISTINCT video_id),
       (SELECT sum(cardinality(ad_positions)) FROM watch_logs)
FROM watch_logs WHERE business_date = %(day)s
"""


def generate(
    url: str, logs: int, videos: int, tz: ZoneInfo, *, blocks: bool = True
) -> dict[str, int]:
    """The catalogue, the last minute of the day before and the day, inside the server,
    and (with ``blocks``) the days' columnar copy."""
    midnight, _ = business_day_bounds(DAY, tz)
    before = max(logs // 100, 1)
    sizes: dict[str, Any] = {"viewers": VIEWERS, "videos": videos}
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as connection:
        ensure_days(connection, [DAY - timedelta(days=1), DAY])
    engine.dispose()
    with psycopg.connect(common.conninfo(url)) as conn:
        for statement in CATALOGUE:
            conn.execute(statement, {**sizes, "users": VIEWERS + 520})
        conn.execute(
            LOGS,
            {**sizes, "day": DAY - timedelta(days=1), "start": midnight - timedelta(minutes=1),
             "span": 59, "first": logs + 1, "last": logs + before},
        )  # fmt: skip
        conn.execute(
            LOGS,
            {**sizes, "day": DAY, "start": midnight, "span": 86_399, "first": 1, "last": logs},
        )  # fmt: skip
        conn.commit()
    written = sum(write_blocks(url, day) for day in (DAY - timedelta(days=1), DAY) if blocks)
    with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        row = conn.execute(SHAPE, {"day": DAY}).fetchone()
    assert row is not None
    return {
        "anonymous": row[0],
        "videos_watched": row[1],
        "ad_slots_reached": row[2],
        "blocks": written,
    }


def write_blocks(url: str, day: date) -> int:
    """The day's columnar copy as the watch-log writer and the flusher's merging of small
    blocks leave it (blocks of ``SMALL_BLOCK_ROWS`` logs; the generator inserts rows
    server-side, past the writer); how many blocks. Not timed: the writer pays this
    during the day, a flush at a time."""
    import adbc_driver_postgresql.dbapi as adbc

    columns = ", ".join(log_blocks.BLOCK_SCHEMA.names)
    query = f"SELECT {columns} FROM watch_logs WHERE business_date = DATE '{day.isoformat()}'"  # noqa: S608
    with adbc.connect(common.conninfo(url)) as conn, conn.cursor() as cur:
        cur.execute(query)
        logs = conform(cur.fetch_arrow_table(), log_blocks.BLOCK_SCHEMA)
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    size = SMALL_BLOCK_ROWS
    with engine.begin() as connection:
        for start in range(0, logs.num_rows, size):
            log_blocks.insert(connection, {day: logs.slice(start, size)})
    engine.dispose()
    return int(-(-logs.num_rows // size))


def floor_params(settings: Settings, parts: int = 1, part: int = 0) -> dict[str, Any]:
    """The parameters of the rules-floor queries for the day (its ``part`` of ``parts``)."""
    window = timedelta(seconds=settings.repeat_view_window_seconds)
    window_start = business_day_bounds(DAY, settings.tz)[0] - window
    return {"day": DAY, "window": window, "window_start": window_start,
            "parts": parts, "part": part}  # fmt: skip


def rules_floor(url: str, settings: Settings, query: str, parts: int) -> float:
    """Seconds of a rules-floor ``query`` over the day in ``parts`` concurrent backends."""

    def part(k: int) -> int:
        with psycopg.connect(common.conninfo(url)) as conn:
            conn.execute(f"SET work_mem = '{PG_WORK_MEM}'")
            return len(conn.execute(query, floor_params(settings, parts, k)).fetchall())

    with ThreadPoolExecutor(parts) as pool, common.Stopwatch() as watch:
        list(pool.map(part, range(parts)))
    return watch.seconds


# The rows the rules must leave in the database for their readers (the lineage, the pair
# and video settlements, the statistics): the per-video result tables, each with the
# indexes those readers use.
REQUIRED_ROWS = PER_VIDEO


def columnar_floor(url: str) -> dict[str, float]:
    """The least a columnar engine pays on the day, part by part, each alone and nothing
    else: reading and decoding the day's blocks (no count, no catalogue); DuckDB finding
    the (video, user) and (video, IP) groups of more than one log (the first two relations
    of ``rules.sql``: rule 3.3 before its candidates are ordered); inserting the run's
    required rows (``REQUIRED_ROWS``) into empty copies of their tables, two connections
    each taking half the videos as the run's two partitions do: temporary copies with
    their indexes and without (no WAL), then ordinary ones with their indexes (WAL, as
    the run writes)."""
    import adbc_driver_postgresql.dbapi as adbc
    import duckdb

    from streamsettle.services.batch.engines.rules import DUCKDB, relations

    floor: dict[str, float] = {}
    query = f"SELECT data FROM watch_log_blocks WHERE business_date = DATE '{DAY}'"  # noqa: S608
    with (
        common.Stopwatch() as read,
        adbc.connect(common.conninfo(url)) as conn,
        conn.cursor() as cur,
    ):
        cur.execute(query)
        logs = log_blocks.decode(log_blocks.values(cur.fetch_arrow_table().column("data")))
    floor["read_blocks"] = read.seconds
    params = DayParams(DAY, timedelta(seconds=30), 0)
    groups = [r for r in relations(DUCKDB, params) if r.name in ("user_groups", "ip_groups")]
    with duckdb.connect() as con:
        con.register("logs", logs)
        con.execute("SELECT count(*) FROM logs").fetchall()
        with common.Stopwatch() as rule:
            for relation in groups:
                con.execute(f"CREATE TEMP TABLE {relation.name} AS {relation.sql}")
    floor["find_groups"] = rule.seconds
    for kind, indexes in (("temporary", True), ("temporary", False), ("logged", True)):
        key = f"insert_required_rows_{kind}{'' if indexes else '_bare'}"
        floor[key] = _insert_floor(url, kind == "temporary", indexes)
    return {name: round(seconds, 3) for name, seconds in floor.items()}


def _insert_floor(url: str, temporary: bool, indexes: bool) -> float:
    """Seconds for two connections, each with its own empty copies of ``REQUIRED_ROWS``,
    to insert the day's rows of half the videos (split at the median video id)."""
    with psycopg.connect(common.conninfo(url)) as conn:
        row = conn.execute(
            "SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY video_id) FROM"
            " daily_video_stats WHERE business_date = %(day)s",
            {"day": DAY},
        ).fetchone()
    assert row is not None
    halves = (f"video_id <= {int(row[0])}", f"video_id > {int(row[0])}")
    ready, start = threading.Barrier(3), threading.Barrier(3)

    def half(part: int) -> None:
        copies = [f"floor_{part}_{table}" for table in REQUIRED_ROWS]
        with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
            for copy, table in zip(copies, REQUIRED_ROWS, strict=True):
                conn.execute(
                    f"CREATE {'TEMP ' if temporary else ''}TABLE {copy}"
                    f" (LIKE {table}{' INCLUDING INDEXES' if indexes else ''})"
                )
            ready.wait()
            start.wait()
            with conn.transaction():
                for copy, table in zip(copies, REQUIRED_ROWS, strict=True):
                    conn.execute(
                        f"INSERT INTO {copy} SELECT * FROM {table}"  # noqa: S608
                        f" WHERE business_date = %(day)s AND {halves[part]}",
                        {"day": DAY},
                    )
            ready.wait()
            for copy in copies:
                conn.execute(f"DROP TABLE {copy}")

    threads = [threading.Thread(target=half, args=(part,)) for part in (0, 1)]
    for thread in threads:
        thread.start()
    ready.wait()
    common.checkpoint(url)
    with common.Stopwatch() as watch:
        start.wait()
        ready.wait()
    for thread in threads:
        thread.join()
    return watch.seconds


def _step_seconds(run: BatchRun) -> dict[str, float]:
    """Wall time of each step: first partition start to last partition end."""
    spans: dict[str, list[Any]] = {}
    for step in run.steps:
        spans.setdefault(step.name, []).append(step)
    return {
        name: round(
            (max(s.finished_at for s in steps) - min(s.started_at for s in steps)).total_seconds(),
            3,
        )
        for name, steps in spans.items()
        if all(s.finished_at for s in steps)
    }


def reset_day(url: str) -> None:
    """Remove the day's derived rows and their dead tuples: the next run is a first run."""
    with psycopg.connect(common.conninfo(url), autocommit=True) as conn:
        for statement in RESET:
            conn.execute(statement, {"day": DAY})
        conn.execute(f"VACUUM ANALYZE {DERIVED}")
    common.checkpoint(url)


GROUP_BY = """
SELECT video_id, count(*) FROM watch_logs WHERE business_date = %(day)s GROUP BY video_id
"""
WRITE_STEPS = ("video_stats", "ad_stats", "settle", "creator_totals")


def engine_split(steps: dict[str, float], group_by: float) -> dict[str, float]:
    """A columnar run's extract, compute and write-back seconds, and each next to the
    ``GROUP BY``."""
    parts = {
        "extract": steps.get("extract", 0.0),
        "compute": steps.get("compute", 0.0),
        "write_back": round(sum(steps.get(name, 0.0) for name in WRITE_STEPS), 3),
    }
    return {
        **parts,
        **{f"{name}_vs_group_by": round(value / group_by, 1) for name, value in parts.items()},
    }


def start_spark(settings: Settings) -> float:
    """Seconds to start the spark engine's session (the JVM), outside any timed run."""
    from streamsettle.services.batch.engines.registry import shared_spark_session

    with common.Stopwatch() as watch:
        shared_spark_session(settings.spark_master)
    return watch.seconds


def measure(
    logs: int,
    videos: int,
    partitions: Sequence[int],
    *,
    quick: bool,
    engines: Sequence[str] = ("sql",),
    blocks: bool = True,
) -> None:
    with common.throwaway_database() as url:
        settings = Settings(
            _env_file=None, database_url=url, jwt_secret=BENCH_SECRET, embedded=False
        )
        with common.Stopwatch() as generation:
            shape = generate(url, logs, videos, settings.tz, blocks=blocks)
        sizes = {"logs": logs, "videos": videos, "viewers": VIEWERS, **shape}
        common.emit(
            {
                "name": "batch_day",
                "measure": "generate (not the batch)",
                "quick": quick,
                "sizes": sizes,
                "seconds": round(generation.seconds, 3),
            }
        )
        runtime = Runtime.from_settings(settings)
        try:
            run_date(runtime, DAY - timedelta(days=1), partitions=1)
            common.checkpoint(url)
            with psycopg.connect(common.conninfo(url)) as conn:
                conn.execute(REFERENCE, {"day": DAY}).fetchall()  # warm the cache like a run
                with common.Stopwatch() as reference:
                    groups = len(conn.execute(REFERENCE, {"day": DAY}).fetchall())
                with common.Stopwatch() as group_by:
                    conn.execute(GROUP_BY, {"day": DAY}).fetchall()
            ref = {
                "name": "SELECT video_id, count(*), sum(watched_seconds) ... GROUP BY video_id",
                "seconds": round(reference.seconds, 3),
                "rows_per_second": common.rate(logs, reference.seconds),
                "groups": groups,
            }
            common.emit(
                {
                    "name": "batch_day",
                    "measure": "reference group by",
                    "quick": quick,
                    "sizes": sizes,
                    **{k: v for k, v in ref.items() if k != "name"},
                }
            )
            for formulation, query, parts in FLOORS:
                floor = rules_floor(url, settings, query, parts)
                common.emit(
                    {
                        "name": "batch_day",
                        "measure": "rules floor",
                        "quick": quick,
                        "sizes": sizes,
                        "formulation": formulation,
                        "connections": parts,
                        "seconds": round(floor, 3),
                        "rows_per_second": common.rate(logs, floor),
                        "vs_reference": round(floor / reference.seconds, 1),
                    }
                )
            common.emit(
                {
                    "name": "batch_day",
                    "measure": "reference count group by",
                    "quick": quick,
                    "sizes": sizes,
                    "query": " ".join(GROUP_BY.split()),
                    "seconds": round(group_by.seconds, 3),
                }
            )
            plan = [(engine, count, False) for engine in engines for count in partitions]
            rerun_engine = settings.engine if settings.engine in engines else engines[0]
            plan.append((rerun_engine, partitions[-1], True))
            for engine, count, rerun in plan:
                if engine == "spark" and not rerun and count == partitions[0]:
                    started = start_spark(settings)
                    common.emit(
                        {
                            "name": "batch_day",
                            "measure": "spark session start (not in the run)",
                            "quick": quick,
                            "master": settings.spark_master,
                            "seconds": round(started, 3),
                        }
                    )
                if not rerun:
                    reset_day(url)
                else:
                    common.checkpoint(url)
                with common.Stopwatch() as watch:
                    run = run_date(runtime, DAY, partitions=count, engine=engine)
                steps = _step_seconds(run)
                common.emit(
                    {
                        "name": "batch_day",
                        "measure": "run_date (re-run)" if rerun else "run_date",
                        "engine": run.engine,
                        "quick": quick,
                        "sizes": sizes,
                        "partitions": run.partitions,
                        "status": run.status,
                        "error": run.error,
                        "seconds": round(watch.seconds, 3),
                        "rows_per_second": common.rate(logs, watch.seconds),
                        "vs_group_by": round(watch.seconds / group_by.seconds, 1),
                        "steps": steps,
                        **(engine_split(steps, group_by.seconds) if engine != "sql" else {}),
                        "reference": ref,
                    }
                )
            if blocks and "duckdb" in engines:
                columnar = columnar_floor(url)
                common.emit(
                    {
                        "name": "batch_day",
                        "measure": "columnar floor",
                        "quick": quick,
                        "sizes": sizes,
                        "seconds": columnar,
                        "vs_group_by": {
                            name: round(seconds / group_by.seconds, 1)
                            for name, seconds in columnar.items()
                        },
                        "group_by_seconds": round(group_by.seconds, 3),
                    }
                )
        finally:
            runtime.close()


def main(argv: Sequence[str] | None = None) -> None:
    args_parser = common.parser(__doc__, "batch_day")
    DAY_LOGS.add(args_parser)
    args_parser.add_argument("--videos", type=int, help="videos (default logs / 50, min 100)")
    args_parser.add_argument(
        "--partitions", default="1,2", help="comma-separated partition counts to time"
    )
    args_parser.add_argument(
        "--engines",
        help="comma-separated batch engines to time (default: every installed one)",
    )
    args_parser.add_argument(
        "--no-blocks",
        action="store_true",
        help="store no columnar copy of the day (the columnar engines read the table)",
    )
    args = args_parser.parse_args(argv)
    logs = DAY_LOGS.of(args)
    videos = args.videos or max(logs // 50, 100)
    partitions = [int(p) for p in args.partitions.split(",") if p.strip()]
    engines = (
        [e.strip() for e in args.engines.split(",") if e.strip()]
        if args.engines
        else installed_engines()
    )
    measure(logs, videos, partitions, quick=args.quick, engines=engines, blocks=not args.no_blocks)


if __name__ == "__main__":
    main(sys.argv[1:])
