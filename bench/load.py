"""Load N watch logs into PostgreSQL: the generator + binary COPY vs ``INSERT … SELECT``.

Ours: ``synthetic`` draws the logs in Python and writes them with binary COPY in
K streams (processes). The reference is the limit of the server itself: one
``INSERT … SELECT FROM generate_series`` of the same row shape and row counts (watch logs
and ad slot rows), run side by side on the same database after a TRUNCATE. Both run with
the same index mode:

- ``rebuild`` (default, faster): keys, indexes and foreign keys of the two watch log
  tables are dropped before the load and rebuilt after it, inside the timed section;
- ``keep``: they stay in place during the load.

The record also gives ``python_side_one_stream``: drawing + binary encoding alone in one
process, the CPU ceiling of a stream when the server keeps up, and ``server_floor``: the
very rows we loaded, spooled to local files in binary COPY format (not timed) and loaded
again by streaming those files unchanged, one connection per table, with the same index
mode. No client work is left in it, so it is the least this server needs to store these
rows and build their keys: a load of this row shape cannot be faster on this machine.

    python -m bench.load [--quick] [--rows N] [--streams K] [--index-mode rebuild|keep|both]
"""

from __future__ import annotations

import secrets
import sys
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from bench.common import (
    Stopwatch,
    checkpoint,
    conninfo,
    emit,
    exit_cleanly_on_sigterm,
    parser,
    rate,
    throwaway_database,
)
from streamsettle.config import Settings
from streamsettle.db.engine import Database
from streamsettle.runtime import Runtime
from streamsettle.synthetic import GenerationPlan, default_streams, generate
from streamsettle.synthetic.catalogue import Catalogue, draw_durations_and_creators
from streamsettle.synthetic.formats import copy_binary
from streamsettle.synthetic.indexes import TABLES, Definitions, rebuilt_after_load
from streamsettle.synthetic.model import CHUNK_LOGS, USER_AGENTS, iter_unit
from streamsettle.synthetic.run import build_tables

SPOOL_BLOCK = 1 << 20
FULL_ROWS = 50_000_000
QUICK_ROWS = 1_000_000
START = date(2026, 1, 1)
INDEX_MODES = {
    "rebuild": "dropped before the load, rebuilt after it (timed)",
    "keep": "present during the load",
}

REFERENCE_LOGS = """
INSERT INTO watch_logs (session_id, business_date, video_id, viewer_id, ip, user_agent,
                        started_at, ended_at, start_position_seconds, end_position_seconds,
                        watched_seconds)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       %(start)s::date + (g %% %(days)s),
       %(v0)s + g %% %(nv)s,
       CASE WHEN g %% 100 < 15 THEN NULL ELSE %(u0)s + g %% %(nu)s END,
       '10.' || ((g >> 16) & 255) || '.' || ((g >> 8) & 255) || '.' || (g & 255),
       %(agent)s,
       %(t0)s::timestamptz + (g %% %(days)s) * interval '1 day' + (g %% 86400) * interval '1 s',
       %(t0)s::timestamptz + (g %% %(days)s) * interval '1 day' + (g %% 86400) * interval '1 s'
           + (g %% 3600) * interval '1 s',
       0, g %% 3600, g %% 3600
FROM generate_series(0, %(logs)s - 1) AS g
"""
REFERENCE_SLOTS = """
INSERT INTO watch_log_ad_slots (session_id, position_seconds, ad_id)
SELECT ('00000000-0000-4000-8000-' || lpad(to_hex(g %% %(logs)s), 12, '0'))::uuid,
       300 * (1 + g / %(logs)s),
       %(a0)s + g %% %(na)s
FROM generate_series(0, %(slots)s - 1) AS g
"""


@dataclass(frozen=True)
class Sizes:
    rows: int
    videos: int
    creators: int
    days: int

    @classmethod
    def for_rows(cls, rows: int) -> Sizes:
        days = 30 if rows >= 10_000_000 else 5 if rows >= 100_000 else 1
        return cls(
            rows=rows,
            videos=max(100, min(100_000, rows // 500)),
            creators=max(10, min(10_000, rows // 5_000)),
            days=days,
        )


def _runtime(url: str) -> Runtime:
    settings = Settings(
        _env_file=None, database_url=url, jwt_secret=secrets.token_hex(32), log_json=False
    )
    return Runtime(settings=settings, db=Database(url), redis=None)


def _truncate(dsn: str) -> None:
    with psycopg.connect(dsn) as connection:
        connection.execute(f"TRUNCATE {', '.join(TABLES)}")


def _rebuilding(mode: str, dsn: str) -> AbstractContextManager[Definitions | None]:
    return rebuilt_after_load(dsn) if mode == "rebuild" else nullcontext()


def _reference(dsn: str, mode: str, sizes: Sizes, logs: int, slots: int) -> float:
    with psycopg.connect(dsn, autocommit=True) as connection:
        ids: Any = connection.execute(
            "SELECT (SELECT min(id) FROM videos), (SELECT count(*) FROM videos), "
            "(SELECT min(id) FROM users), (SELECT count(*) FROM users), "
            "(SELECT min(id) FROM ads), (SELECT count(*) FROM ads)"
        ).fetchone()
    v0, nv, u0, nu, a0, na = ids
    params = {
        "start": START,
        "days": sizes.days,
        "v0": v0,
        "nv": nv,
        "u0": u0,
        "nu": nu,
        "a0": a0,
        "na": na,
        "agent": USER_AGENTS[0],
        "t0": f"{START.isoformat()} 00:00:00+09",
        "logs": logs,
        "slots": slots,
    }
    checkpoint(dsn)
    with Stopwatch() as watch, _rebuilding(mode, dsn), psycopg.connect(dsn) as connection:
        connection.execute("SET synchronous_commit TO off")
        connection.execute(REFERENCE_LOGS, params)
        if slots:
            connection.execute(REFERENCE_SLOTS, params)
    return watch.seconds


def _spool(dsn: str, folder: Path) -> None:
    """Each watch log table, as binary COPY, to ``folder/<table>.copy``."""
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        for table in TABLES:
            with (
                (folder / f"{table}.copy").open("wb") as out,
                cursor.copy(f"COPY {table} TO STDOUT (FORMAT BINARY)") as copy,
            ):
                for block in copy:
                    out.write(block)


def _copy_back(dsn: str, path: Path) -> None:
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        with (
            path.open("rb") as spooled,
            cursor.copy(f"COPY {path.stem} FROM STDIN (FORMAT BINARY)") as copy,
        ):
            while block := spooled.read(SPOOL_BLOCK):
                copy.write(block)


def _server_floor(dsn: str, mode: str) -> tuple[float, int]:
    """Our rows again, streamed unchanged from a spool file per table (see the docstring);
    the seconds and the rows that arrived."""
    with tempfile.TemporaryDirectory(prefix="streamsettle_bench_") as tmp:
        folder = Path(tmp)
        _spool(dsn, folder)
        _truncate(dsn)
        checkpoint(dsn)
        with (
            Stopwatch() as watch,
            _rebuilding(mode, dsn),
            ThreadPoolExecutor(len(TABLES)) as pool,
        ):
            for done in [pool.submit(_copy_back, dsn, folder / f"{t}.copy") for t in TABLES]:
                done.result()
    with psycopg.connect(dsn) as connection:
        count = sql.SQL("SELECT count(*) FROM {}")
        counts = [connection.execute(count.format(sql.Identifier(t))).fetchone() for t in TABLES]
    return watch.seconds, sum(row[0] for row in counts if row)


def python_side(plan: GenerationPlan, logs: int) -> dict[str, float]:
    """Draw + binary encoding alone, in this process (one stream's CPU ceiling)."""
    durations, creator_index, order = draw_durations_and_creators(plan)
    creators = list(range(1, plan.creators + 1))
    catalogue = Catalogue(
        creator_ids=creators,
        viewer_ids=list(range(plan.creators + 1, plan.creators + 1 + plan.viewer_count)),
        advertiser_ids=[],
        ad_ids=[1, 2, 3, 4, 5],
        active_ad_ids=[1, 2, 3, 4, 5],
        video_ids=list(range(1, plan.videos + 1)),
        video_durations=durations,
        video_creators=[creators[c] for c in creator_index],
        video_creator_index=creator_index,
        popular_videos=order,
        slot_count=0,
    )
    tables = build_tables(plan, catalogue, ZoneInfo("Asia/Seoul"))
    units = [u for u in plan.units() if u.count][: max(1, logs // CHUNK_LOGS)]
    drawn = slots = 0
    with Stopwatch() as watch:
        for unit in units:
            for rows in iter_unit(tables, unit):
                slots += copy_binary(tables, unit, rows)[2]
                drawn += len(rows)
    return {
        "logs": drawn,
        "seconds": round(watch.seconds, 3),
        "rows_per_second": rate(drawn, watch.seconds),
        "total_rows_per_second": rate(drawn + slots, watch.seconds),
    }


def measure(sizes: Sizes, streams: int, modes: Sequence[str], quick: bool) -> None:
    plan = GenerationPlan(
        videos=sizes.videos,
        creators=sizes.creators,
        days=sizes.days,
        logs_per_day=sizes.rows // sizes.days,
        start_date=START,
        seed=2026,
    )
    cpu = python_side(plan, 100_000 if quick else 500_000)
    for mode in modes:
        with throwaway_database() as url:
            dsn = conninfo(url)
            runtime = _runtime(url)
            try:
                checkpoint(dsn)
                with Stopwatch() as watch, _rebuilding(mode, dsn):
                    result = generate(runtime, plan, streams=streams, analyze=False)
            finally:
                runtime.close()
            seconds = watch.seconds - result.catalogue_seconds
            floor, floor_rows = _server_floor(dsn, mode)
            _truncate(dsn)
            reference = _reference(dsn, mode, sizes, result.watch_logs, result.watch_log_ad_slots)
        total = result.watch_logs + result.watch_log_ad_slots
        emit(
            {
                "name": "load",
                "quick": quick,
                "target": QUICK_ROWS if quick else FULL_ROWS,
                "sizes": {
                    "watch_logs": result.watch_logs,
                    "watch_log_ad_slots": result.watch_log_ad_slots,
                    "videos": result.videos,
                    "ad_slots": result.ad_slots,
                    "users": result.users,
                    "days": sizes.days,
                    "streams": result.streams,
                },
                "indexes": INDEX_MODES[mode],
                "seconds": round(seconds, 3),
                "rows_per_second": rate(result.watch_logs, seconds),
                "total_rows_per_second": rate(total, seconds),
                "copy_seconds": round(result.logs_seconds, 3),
                "index_rebuild_seconds": round(seconds - result.logs_seconds, 3),
                "catalogue_seconds": round(result.catalogue_seconds, 3),
                "python_side_one_stream": cpu,
                "server_floor": {
                    "name": "the same rows streamed back from binary COPY files, no client work",
                    "rows": floor_rows,
                    "seconds": round(floor, 3),
                    "rows_per_second": rate(result.watch_logs, floor),
                    "total_rows_per_second": rate(total, floor),
                },
                "reference": {
                    "name": "INSERT ... SELECT FROM generate_series (same rows and shape)",
                    "seconds": round(reference, 3),
                    "rows_per_second": rate(result.watch_logs, reference),
                    "total_rows_per_second": rate(total, reference),
                },
            }
        )


def main(argv: Sequence[str] | None = None) -> None:
    exit_cleanly_on_sigterm()
    args_parser = parser(__doc__.splitlines()[0] if __doc__ else "load")
    args_parser.add_argument("--rows", type=int, help="watch logs to load (default 50M, 1M quick)")
    args_parser.add_argument("--streams", type=int, help="parallel streams (default: cores, max 8)")
    args_parser.add_argument(
        "--index-mode", choices=[*INDEX_MODES, "both"], default="rebuild", help="see the docstring"
    )
    args = args_parser.parse_args(argv)
    rows = args.rows or (QUICK_ROWS if args.quick else FULL_ROWS)
    if rows < 1:
        args_parser.error("--rows must be positive")
    modes = list(INDEX_MODES) if args.index_mode == "both" else [args.index_mode]
    measure(Sizes.for_rows(rows), args.streams or default_streams(), modes, args.quick)


if __name__ == "__main__":
    main(sys.argv[1:])
