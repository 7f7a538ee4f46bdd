"""Latency of the statistics and settlement endpoints over a synthetic year of daily tables.

Builds ``daily_video_stats`` and ``daily_settlements`` for ``--videos`` videos over ``--days``
days ending 2026-11-30 (100,000 x 365 = 36.5 M rows each by default) with
``generate_series`` in a throwaway database, then times requests through the whole app
(``TestClient``: routing, auth, the read session, SQL, JSON) and prints one JSON line per
scenario with p50/p95/p99. Bulk load: foreign-key triggers off (``session_replication_role``)
and secondary indexes built after the load, then ``VACUUM ANALYZE``, as a settled year would
be after autovacuum. ``--quick`` is a seconds-long run for CI.

    python -m bench.query_latency --videos 10000 --days 365
    python -m bench.query_latency --replica   # also from a hot standby, same run

``--replica`` builds a PostgreSQL primary and hot standby of its own (the test suite's
``running_pair``: the machine's server binaries, free ports, a temporary folder), loads the
primary, waits for the standby to replay it, then times every scenario twice: reads from the
primary alone and reads routed to the standby (``"reads"`` in each record).
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import psycopg
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from bench.common import (
    Stopwatch,
    conninfo,
    emit,
    exit_cleanly_on_sigterm,
    parser,
    throwaway_database,
)
from streamsettle.app import create_app
from streamsettle.config import Settings
from streamsettle.logging import configure_logging
from streamsettle.runtime import Runtime
from streamsettle.services.batch.steps import refresh_rollups
from streamsettle.services.identity.tokens import issue_access_token

if TYPE_CHECKING:
    from tests.support.replica import ReplicaPair

LAST_DAY = date(2026, 11, 30)
TABLES = ("daily_video_stats", "daily_settlements")
ROLLUPS = ("period_video_stats", "daily_creator_settlements")
SECRET = "bench-secret-" + "x" * 40

# One row per (day, video); popularity is skewed (every 997th video is a hit) and varies by day.
_GRID = """
    FROM (
        SELECT g.day::date AS d, v.id,
               (((v.id * 2654435761 + (g.day::date - %(first)s::date) * 40503) %% 1000)
                * (1 + 50 * (v.id %% 997 = 0)::int) + (v.id %% 13))::bigint AS n
        FROM generate_series(%(first)s::date, %(last)s::date, '1 day') AS g(day)
        CROSS JOIN generate_series(1, %(v)s) AS v(id)
    ) AS grid
"""
_INSERT_STATS = (
    "INSERT INTO daily_video_stats (business_date, video_id, creator_id, sessions, views, "
    "self_views, repeat_views, watched_seconds, ad_views) "
    "SELECT d, id, 1 + (id - 1) %% %(c)s, n + n / 10, n, 0, n / 10, n * 240, n / 4" + _GRID
)
_INSERT_SETTLEMENTS = (
    "INSERT INTO daily_settlements (business_date, video_id, creator_id, rate_card_id, views, "
    "views_before, ad_views, video_amount, ad_amount, total_amount) "
    "SELECT d, id, 1 + (id - 1) %% %(c)s, 1, n, 0, n / 4, n, (n / 4) * 10, n + (n / 4) * 10" + _GRID
)


def _roll_up(url: str, first: date) -> None:
    """The batch's rollups, with its own statements: each creator's totals for every day,
    the week and month of each video on the first day and every Monday (each call
    recomputes the whole month of its day, and every month has a Monday)."""
    days = [first + timedelta(days=n) for n in range((LAST_DAY - first).days + 1)]
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    try:
        for day in days:
            with engine.begin() as connection:
                refresh_rollups(connection, day, periods=day == first or day.weekday() == 0)
    finally:
        engine.dispose()


def _load(url: str, videos: int, days: int, creators: int) -> dict[str, float]:
    """Users, videos and the two daily tables, generated inside PostgreSQL."""
    first = LAST_DAY - timedelta(days=days - 1)
    timings: dict[str, float] = {}
    with psycopg.connect(conninfo(url), autocommit=True) as db:
        db.execute("SET session_replication_role = replica")  # no FK triggers for the bulk load
        db.execute("SET maintenance_work_mem = '512MB'")
        db.execute(
            "INSERT INTO users (id, email, display_name, created_at) "
            "SELECT i, 'creator' || i || '@bench.test', 'Creator ' || i, now() "
            "FROM generate_series(1, %(c)s) i",
            {"c": creators},
        )
        db.execute(
            "INSERT INTO users (id, email, display_name, created_at) "
            "VALUES (%(a)s, 'admin@bench.test', 'Admin', now())",
            {"a": creators + 1},
        )
        db.execute(
            "INSERT INTO user_roles (user_id, role) SELECT i, 'creator' "
            "FROM generate_series(1, %(c)s) i UNION ALL SELECT %(a)s, 'admin'",
            {"c": creators, "a": creators + 1},
        )
        db.execute(
            "INSERT INTO videos (id, creator_id, title, duration_seconds, created_at) "
            "SELECT i, 1 + (i - 1) %% %(c)s, 'Video ' || i, 600, now() "
            "FROM generate_series(1, %(v)s) i",
            {"c": creators, "v": videos},
        )
        db.execute(
            "SELECT setval(pg_get_serial_sequence('users', 'id'), %(a)s)", {"a": creators + 1}
        )
        db.execute("SELECT setval(pg_get_serial_sequence('videos', 'id'), %(v)s)", {"v": videos})
        saved = db.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = ANY(%(t)s) "
            "AND indexname NOT LIKE 'pk_%%'",
            {"t": list(TABLES)},
        ).fetchall()
        for name, _ in saved:
            db.execute(f'DROP INDEX "{name}"')
        params = {"first": first, "last": LAST_DAY, "v": videos, "c": creators}
        with Stopwatch() as watch:
            db.execute(_INSERT_STATS, params)
        timings["daily_video_stats_seconds"] = round(watch.seconds, 1)
        with Stopwatch() as watch:
            db.execute(_INSERT_SETTLEMENTS, params)
        timings["daily_settlements_seconds"] = round(watch.seconds, 1)
        with Stopwatch() as watch:
            for _, definition in saved:
                db.execute(definition)
        timings["index_seconds"] = round(watch.seconds, 1)
    with Stopwatch() as watch:
        _roll_up(url, first)
    timings["period_rollup_seconds"] = round(watch.seconds, 1)
    with psycopg.connect(conninfo(url), autocommit=True) as db:
        with Stopwatch() as watch:
            for table in (*TABLES, *ROLLUPS, "videos", "users", "user_roles"):
                db.execute(f"VACUUM (ANALYZE) {table}")
        timings["vacuum_analyze_seconds"] = round(watch.seconds, 1)
    return timings


def _percentiles(samples: Sequence[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 2)

    return {
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "max_ms": round(ordered[-1] * 1000, 2),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 2),
    }


def _time(
    client: TestClient,
    make: Callable[[random.Random], tuple[str, dict[str, Any], str]],
    samples: int,
    rng: random.Random,
) -> dict[str, float]:
    for _ in range(2):  # warm-up: connection pool, plan cache
        path, params, token = make(rng)
        client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
    timings = []
    for _ in range(samples):
        path, params, token = make(rng)
        started = time.perf_counter()
        response = client.get(path, params=params, headers={"Authorization": f"Bearer {token}"})
        timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"{path} {params}: {response.status_code} {response.text[:200]}")
    return _percentiles(timings)


_PAIR_CONF = """
shared_buffers = 128MB
max_wal_size = 4GB
"""
"""The pair's servers as the shared server runs (its shared_buffers); fsync stays off there,
which only speeds up the load, never the timed reads."""


def _settings(url: str, read_url: str | None = None) -> Settings:
    return Settings(
        _env_file=None,
        database_url=url,
        database_read_url=read_url,
        jwt_secret=SECRET,
        embedded=False,
        log_json=False,
        run_flusher=False,
        run_scheduler=False,
    )


@contextmanager
def _database(replica: bool) -> Iterator[tuple[str, ReplicaPair | None]]:
    """The throwaway database on the bench server, or a primary + standby of our own."""
    if not replica:
        with throwaway_database() as url:
            yield url, None
        return
    from tests.support.replica import running_pair  # the test suite's pair builder

    with running_pair(_PAIR_CONF) as pair:
        yield pair.primary_url, pair


def main(argv: Sequence[str] | None = None) -> None:
    exit_cleanly_on_sigterm()
    configure_logging("WARNING", json=False)  # to stderr: stdout carries the JSON lines
    args_parser = parser(__doc__, "query latency")
    args_parser.add_argument("--videos", type=int, default=100_000)
    args_parser.add_argument("--days", type=int, default=365)
    args_parser.add_argument("--creators", type=int, default=1_000)
    args_parser.add_argument("--samples", type=int, default=50, help="requests per scenario")
    args_parser.add_argument(
        "--replica",
        action="store_true",
        help="own primary + hot standby; every scenario timed reading from each, same run",
    )
    args = args_parser.parse_args(argv)
    if args.quick:
        args.videos, args.days, args.creators, args.samples = 2_000, 60, 50, 20
    sizes = {
        "videos": args.videos,
        "days": args.days,
        "creators": args.creators,
        "rows_per_table": args.videos * args.days,
        "samples": args.samples,
    }
    first = LAST_DAY - timedelta(days=args.days - 1)
    with _database(args.replica) as (url, pair):
        with Stopwatch() as watch:
            load = _load(url, args.videos, args.days, args.creators)
        if pair is not None:
            with Stopwatch() as replay:
                pair.wait_caught_up(timeout=3600)
            load["standby_catch_up_seconds"] = round(replay.seconds, 1)
        emit(
            {
                "name": "query_latency",
                "step": "load",
                **sizes,
                "seconds": round(watch.seconds, 1),
                **load,
            }
        )
        settings = _settings(url)
        runtimes = {"primary": Runtime.from_settings(settings)}
        if pair is not None:
            runtimes["replica"] = Runtime.from_settings(_settings(url, pair.standby_url))
        admin = issue_access_token(settings, args.creators + 1, ["admin"])[0]
        creator_tokens = {
            c: issue_access_token(settings, c, ["creator"])[0]
            for c in range(1, min(args.creators, 50) + 1)
        }

        def any_day(rng: random.Random) -> str:
            return (first + timedelta(days=rng.randrange(args.days))).isoformat()

        def top_videos(
            metric: str, period: str, day: str, token: str
        ) -> tuple[str, dict[str, Any], str]:
            return (
                "/api/v1/stats/top-videos",
                {"metric": metric, "period": period, "date": day},
                token,
            )

        def a_creator(rng: random.Random) -> tuple[int, str]:
            creator = rng.choice(list(creator_tokens))
            return creator, creator_tokens[creator]

        def own_video(rng: random.Random) -> tuple[int, str]:
            creator, token = a_creator(rng)
            per_creator = args.videos // args.creators
            return creator + args.creators * rng.randrange(per_creator), token

        scenarios: dict[str, Callable[[random.Random], tuple[str, dict[str, Any], str]]] = {
            "healthz_reference": lambda rng: ("/healthz", {}, admin),
            "top_videos_admin_day": lambda rng: top_videos("views", "day", any_day(rng), admin),
            "top_videos_admin_week": lambda rng: top_videos("views", "week", any_day(rng), admin),
            "top_videos_admin_month": lambda rng: top_videos("views", "month", any_day(rng), admin),
            "top_videos_admin_month_watched": lambda rng: top_videos(
                "watched_seconds", "month", any_day(rng), admin
            ),
            "top_videos_creator_month": lambda rng: top_videos(
                "views", "month", any_day(rng), a_creator(rng)[1]
            ),
            "video_settlement_month": lambda rng: (
                lambda vt: (
                    f"/api/v1/settlements/videos/{vt[0]}",
                    {"period": "month", "date": any_day(rng)},
                    vt[1],
                )
            )(own_video(rng)),
            "creator_settlement_month": lambda rng: (
                "/api/v1/settlements/creators/me",
                {"period": "month", "date": any_day(rng)},
                a_creator(rng)[1],
            ),
            "creator_csv_month": lambda rng: (
                "/api/v1/settlements/creators/me.csv",
                {"period": "month", "date": any_day(rng)},
                a_creator(rng)[1],
            ),
            "creators_overview_admin_month": lambda rng: (
                "/api/v1/settlements/creators",
                {"period": "month", "date": any_day(rng)},
                admin,
            ),
        }
        writer = creator_tokens[1]
        with ExitStack() as stack:
            for rt in runtimes.values():
                stack.callback(rt.close)
            clients = {
                t: stack.enter_context(TestClient(create_app(rt))) for t, rt in runtimes.items()
            }
            for scenario, make in scenarios.items():
                for reads, client in clients.items():  # the same draws for each target
                    figures = _time(client, make, args.samples, random.Random(scenario))
                    record: dict[str, Any] = {"name": "query_latency", "scenario": scenario}
                    if pair is not None:
                        record["reads"] = reads
                    emit({**record, **sizes, **figures})
            if pair is not None:
                # A writer's read: each sample follows the same creator's write (untimed), so
                # on the replica it waits for the standby to replay that write (or falls back).
                for reads, client in clients.items():
                    before = _read_routes()
                    figures = _time_after_write(client, writer, first, args.samples)
                    after = _read_routes()
                    delta = {k: int(v - before.get(k, 0)) for k, v in after.items()}
                    routes = {k: n for k, n in delta.items() if n}
                    scenario = "creator_settlement_after_own_write"
                    emit(
                        {
                            "name": "query_latency",
                            "scenario": scenario,
                            "reads": reads,
                            **sizes,
                            **figures,
                            **({"routes": routes} if routes else {}),
                        }
                    )


def _read_routes() -> dict[str, float]:
    """Read sessions so far by "target: reason" (the router's counter)."""
    routes: dict[str, float] = {}
    for metric in REGISTRY.collect():
        if metric.name == "streamsettle_read_sessions":
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    routes[f"{sample.labels['target']}: {sample.labels['reason']}"] = sample.value
    return routes


def _time_after_write(
    client: TestClient, token: str, first: date, samples: int
) -> dict[str, float]:
    headers = {"Authorization": f"Bearer {token}"}
    params = {"period": "month", "date": first.isoformat()}
    timings = []
    for n in range(samples + 2):
        made = client.post(
            "/api/v1/videos", json={"title": f"new {n}", "duration_seconds": 60}, headers=headers
        )
        if made.status_code != 201:
            raise RuntimeError(f"video not created: {made.status_code} {made.text[:200]}")
        started = time.perf_counter()
        response = client.get("/api/v1/settlements/creators/me", params=params, headers=headers)
        if n >= 2:  # the first two warm up
            timings.append(time.perf_counter() - started)
        if response.status_code != 200:
            raise RuntimeError(f"settlement read: {response.status_code} {response.text[:200]}")
    return _percentiles(timings)


if __name__ == "__main__":
    main()
