"""Watch log import throughput on PostgreSQL: lines/s through ``import_watch_logs``.

Generates a JSON Lines file (not timed) of valid watch logs over a small catalogue, imports
it into a throwaway database (timed: parse, validate, COPY, insert with every key, index
and foreign key in place, resume positions), then imports it again (every line a
duplicate). The reference is the server alone: the same rows inserted from a staging
table by one ``INSERT … SELECT``, constraints in place.

With ``--trigger-cost`` the fresh import is also timed, alternately and four times each, with
the ``watch_logs`` re-run trigger disabled and with the day already run by the batch (so
every insert statement marks it): the price of marking late logs in the database; then
the same rows inserted again by the server alone, trigger off and marking, seven times
each (``import_logs_trigger``), which isolates the trigger from the import's own noise.

    python -m bench.import_logs [--quick] [--lines N] [--videos N] [--viewers N]
                                [--trigger-cost]
"""

from __future__ import annotations

import random
import sys
import tempfile
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa

from bench import common
from streamsettle.config import Settings
from streamsettle.runtime import Runtime
from streamsettle.services.ingest.importer import import_watch_logs

LINES = common.Size("lines", "lines to import", full=200_000, quick=20_000)
BENCH_SECRET = "bench-secret-" + "x" * 40

REFERENCE = """
CREATE TEMP TABLE staging_logs AS SELECT * FROM watch_logs;
CREATE TEMP TABLE staging_resume AS SELECT * FROM resume_positions;
TRUNCATE watch_logs, resume_positions;
"""
REFERENCE_INSERT = """
INSERT INTO watch_logs SELECT * FROM staging_logs
ON CONFLICT (session_id, business_date) DO NOTHING;
INSERT INTO resume_positions SELECT * FROM staging_resume
ON CONFLICT (viewer_id, video_id) DO NOTHING;
"""


def seed_catalogue(url: str, *, videos: int, viewers: int) -> tuple[list[int], list[int]]:
    """Users, two ads and ``videos`` 900 s videos with slots at 300 and 600; their ids."""
    engine = sa.create_engine(url, poolclass=sa.NullPool)
    with engine.begin() as c:
        c.execute(
            sa.text(
                "INSERT INTO users (email, display_name, created_at) "
                "SELECT 'u' || g || '@bench.example', 'u' || g, now() "
                "FROM generate_series(1, :n) g"
            ),
            {"n": viewers + 1},
        )
        creator = c.execute(sa.text("SELECT min(id) FROM users")).scalar_one()
        ads = [
            c.execute(
                sa.text(
                    "INSERT INTO ads (owner_id, title, duration_seconds, active, created_at) "
                    "VALUES (:o, :t, 15, true, now()) RETURNING id"
                ),
                {"o": creator, "t": title},
            ).scalar_one()
            for title in ("A", "B")
        ]
        c.execute(
            sa.text(
                "INSERT INTO videos (creator_id, title, duration_seconds, created_at) "
                "SELECT :c, 'v' || g, 900, now() FROM generate_series(1, :n) g"
            ),
            {"c": creator, "n": videos},
        )
        c.execute(
            sa.text(
                "INSERT INTO ad_slots (video_id, position_seconds, ad_id) "
                "SELECT id, 300, :a FROM videos UNION ALL SELECT id, 600, :b FROM videos"
            ),
            {"a": ads[0], "b": ads[1]},
        )
        video_ids = list(c.execute(sa.text("SELECT id FROM videos ORDER BY id")).scalars())
        viewer_ids = list(
            c.execute(sa.text("SELECT id FROM users WHERE id <> :c"), {"c": creator}).scalars()
        )
    engine.dispose()
    return video_ids, viewer_ids


def generate(path: Path, lines: int, video_ids: list[int], viewer_ids: list[int]) -> None:
    """Valid watch logs of one day: 60 % signed-in viewers, slots reached by position."""
    rng = random.Random(7)
    day = datetime(2026, 11, 1, tzinfo=UTC)
    with path.open("wb") as out:
        for _ in range(lines):
            started = day + timedelta(seconds=rng.randrange(86_400))
            watched = rng.randrange(1, 900)
            end_position = min(900, watched + rng.randrange(0, 5))
            line = {
                "session_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "video_id": rng.choice(video_ids),
                "viewer_id": rng.choice(viewer_ids) if rng.random() < 0.6 else None,
                "ip": f"10.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}",
                "user_agent": "Mozilla/5.0 (bench)",
                "started_at": started.isoformat(),
                "ended_at": (started + timedelta(seconds=watched + rng.randrange(30))).isoformat(),
                "start_position_seconds": 0,
                "end_position_seconds": end_position,
                "watched_seconds": watched,
                "ad_slot_positions": [s for s in (300, 600) if s <= end_position],
            }
            out.write(orjson.dumps(line) + b"\n")


TRIGGER_OFF = "fresh, re-run trigger disabled"
TRIGGER_MARKS = "fresh, day already run: the trigger marks it"
_RESET = """
TRUNCATE watch_logs, resume_positions, rerun_marks, batch_steps, batch_runs;
ALTER TABLE watch_logs ENABLE TRIGGER watch_logs_mark_rerun;
"""
_SETUP = {
    TRIGGER_OFF: "ALTER TABLE watch_logs DISABLE TRIGGER watch_logs_mark_rerun",
    # The generated logs span two business dates at most; a run of the later marks both.
    TRIGGER_MARKS: "INSERT INTO batch_runs (business_date, status, partitions, worker, "
    "started_at, heartbeat_at, finished_at) VALUES ('2026-11-03', 'completed', 1, 'bench', "
    "now(), now(), now())",
}


def trigger_runs(url: str, runtime: Runtime, path: Path) -> list[tuple[str, float, Any]]:
    """The fresh import with the trigger off and marking, alternately, four times each."""
    runs = []
    for run in (TRIGGER_OFF, TRIGGER_MARKS) * 4:
        with psycopg.connect(common.conninfo(url)) as connection:
            connection.execute(_RESET)
            connection.execute(_SETUP[run])
            connection.commit()
        common.checkpoint(common.conninfo(url))
        with common.Stopwatch() as watch, path.open("rb") as stream:
            result = import_watch_logs(runtime, stream)
        if run == TRIGGER_MARKS:
            with psycopg.connect(common.conninfo(url)) as connection:
                marked = connection.execute("SELECT count(*) FROM rerun_marks").fetchone()
            assert marked is not None and marked[0] > 0, "the trigger marked nothing"
        runs.append((run, watch.seconds, result))
    return runs


_STAGE = """
CREATE TEMP TABLE trigger_staging AS
SELECT *, (row_number() OVER (ORDER BY session_id) - 1) / 10000 AS chunk FROM watch_logs
"""
_INSERT_CHUNK = """
INSERT INTO watch_logs SELECT started_at, ended_at, session_id, business_date, video_id,
    viewer_id, user_agent_id, start_position_ms, end_position_ms, watched_seconds, ip,
    ad_positions, ad_ids
FROM trigger_staging WHERE chunk = %s
"""


def trigger_statement_cost(url: str, repeats: int = 7) -> dict[str, Any]:
    """The trigger alone: the rows just imported inserted again from a staging table, in
    statements of 10,000 rows as the importer writes them, trigger off and marking,
    alternately; the server's time per variant (min and median over ``repeats``)."""
    samples: dict[str, list[float]] = {TRIGGER_OFF: [], TRIGGER_MARKS: []}
    with psycopg.connect(common.conninfo(url)) as connection:
        connection.execute(_STAGE)
        chunks = connection.execute("SELECT max(chunk) FROM trigger_staging").fetchone()
        assert chunks is not None
        rows = connection.execute("SELECT count(*) FROM trigger_staging").fetchone()
        assert rows is not None
        connection.commit()
        for run in (TRIGGER_OFF, TRIGGER_MARKS) * repeats:
            connection.execute(_RESET)
            connection.execute(_SETUP[run])
            connection.commit()
            with common.Stopwatch() as watch:
                for chunk in range(int(chunks[0]) + 1):
                    connection.execute(_INSERT_CHUNK, (chunk,))
                connection.commit()
            samples[run].append(watch.seconds)
        # The server's own account of the trigger in one marking statement of 10,000 rows.
        connection.execute(_RESET)
        connection.execute(_SETUP[TRIGGER_MARKS])
        plan = connection.execute(
            "EXPLAIN (ANALYZE, FORMAT JSON) " + _INSERT_CHUNK, (0,)
        ).fetchone()
        connection.rollback()
    assert plan is not None
    (trigger,) = [t for t in plan[0][0]["Triggers"] if t["Trigger Name"] == "watch_logs_mark_rerun"]
    result: dict[str, Any] = {
        "rows": int(rows[0]),
        "trigger_ms_in_one_statement_of_10000_rows": round(trigger["Time"], 2),
        "statement_ms": round(plan[0][0]["Execution Time"], 2),
    }
    for run, seconds in samples.items():
        ordered = sorted(seconds)
        result[run] = {"min": round(ordered[0], 4), "median": round(ordered[len(ordered) // 2], 4)}
    return result


def measure(lines: int, videos: int, viewers: int, quick: bool, trigger_cost: bool) -> None:
    with common.throwaway_database() as url, tempfile.TemporaryDirectory() as tmp:
        video_ids, viewer_ids = seed_catalogue(url, videos=videos, viewers=viewers)
        path = Path(tmp) / "watch_logs.jsonl"
        generate(path, lines, video_ids, viewer_ids)
        settings = Settings(
            _env_file=None, database_url=url, jwt_secret=BENCH_SECRET, embedded=False
        )
        runtime = Runtime.from_settings(settings)
        runs = []
        try:
            for run in ("fresh", "again: every line a duplicate"):
                common.checkpoint(common.conninfo(url))
                with common.Stopwatch() as watch, path.open("rb") as stream:
                    result = import_watch_logs(runtime, stream)
                runs.append((run, watch.seconds, result))
            if trigger_cost:
                runs += trigger_runs(url, runtime, path)
                statements = trigger_statement_cost(url)
        finally:
            runtime.close()
        if trigger_cost:
            common.emit({"name": "import_logs_trigger", "quick": quick, **statements})
        with psycopg.connect(common.conninfo(url)) as connection:
            connection.execute(REFERENCE)
            connection.commit()
            common.checkpoint(common.conninfo(url))
            with common.Stopwatch() as reference:
                connection.execute(REFERENCE_INSERT)
                connection.commit()
        for run, seconds, result in runs:
            common.emit(
                {
                    "name": "import_logs",
                    "quick": quick,
                    "run": run,
                    "sizes": {
                        "lines": lines,
                        "file_mib": round(path.stat().st_size / 2**20, 1),
                        "videos": videos,
                        "viewers": viewers,
                    },
                    "inserted": result.inserted,
                    "duplicates": result.duplicates,
                    "rejected": len(result.rejected),
                    "seconds": round(seconds, 3),
                    "lines_per_second": common.rate(lines, seconds),
                    "reference": {
                        "name": "the same rows by INSERT ... SELECT from staging tables",
                        "seconds": round(reference.seconds, 3),
                        "rows_per_second": common.rate(lines, reference.seconds),
                    },
                }
            )


def main(argv: Sequence[str] | None = None) -> None:
    args_parser = common.parser(__doc__, "import_logs")
    LINES.add(args_parser)
    args_parser.add_argument("--videos", type=int, default=1_000)
    args_parser.add_argument("--viewers", type=int, default=10_000)
    args_parser.add_argument(
        "--trigger-cost", action="store_true", help="also time the re-run trigger off and on"
    )
    args = args_parser.parse_args(argv)
    lines = LINES.of(args)
    measure(lines, args.videos, args.viewers, args.quick, args.trigger_cost)


if __name__ == "__main__":
    main(sys.argv[1:])
