"""Generated rows keep every constraint and import rule, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import numpy as np
import pytest
import sqlalchemy as sa

from streamsettle.db.models import AdSlot, Video, WatchLog
from streamsettle.db.partitions import ensure_days
from streamsettle.errors import InvalidInput
from streamsettle.runtime import Runtime
from streamsettle.synthetic import GenerationPlan, generate
from streamsettle.synthetic.indexes import capture
from streamsettle.synthetic.model import (
    Shares,
    Tables,
    Unit,
    draw,
    zipf_cumulative,
    zipf_guide,
)
from streamsettle.synthetic.plan import business_days
from streamsettle.synthetic.run import conninfo
from streamsettle.synthetic.streams import StreamFailed

PLAN = GenerationPlan(
    videos=80, creators=10, days=2, logs_per_day=5_000, start_date=date(2026, 10, 31), seed=3
)

# Each query counts rule violations; every one must be 0.
VIOLATIONS = {
    "business date is not the Seoul date of started_at": """
        SELECT count(*) FROM watch_logs
        WHERE business_date <> (started_at AT TIME ZONE 'Asia/Seoul')::date""",
    "watched beyond ended_at - started_at": """
        SELECT count(*) FROM watch_logs
        WHERE watched_seconds > extract(epoch FROM ended_at - started_at)""",
    "watched beyond the positions moved": """
        SELECT count(*) FROM watch_logs
        WHERE watched_seconds * 1000 > end_position_ms - start_position_ms""",
    "positions outside [0, duration] or end before start": """
        SELECT count(*) FROM watch_logs w JOIN videos v ON v.id = w.video_id
        WHERE w.start_position_ms < 0 OR w.end_position_ms > v.duration_seconds * 1000
           OR w.end_position_ms < w.start_position_ms""",
    "slot arrays empty, of different lengths or not ascending": """
        SELECT count(*) FROM watch_logs
        WHERE (ad_positions IS NULL) <> (ad_ids IS NULL)
           OR cardinality(ad_positions) = 0
           OR cardinality(ad_positions) <> cardinality(ad_ids)
           OR ad_positions <> ARRAY(SELECT p FROM unnest(ad_positions) p ORDER BY p)""",
    "slot reached that is not a slot of the video with its ad": """
        SELECT count(*) FROM watch_logs w
        CROSS JOIN LATERAL unnest(w.ad_positions, w.ad_ids) AS s(position, ad)
        LEFT JOIN ad_slots a ON a.video_id = w.video_id AND a.position_seconds = s.position
        WHERE a.video_id IS NULL OR a.ad_id IS DISTINCT FROM s.ad""",
    "slot not passed by the playback (start < p <= end)": """
        SELECT count(*) FROM watch_logs w, unnest(w.ad_positions) AS p
        WHERE p * 1000 <= w.start_position_ms OR p * 1000 > w.end_position_ms""",
    "slot passed but missing": """
        SELECT count(*) FROM watch_logs w
        JOIN ad_slots a ON a.video_id = w.video_id
         AND a.position_seconds * 1000 > w.start_position_ms
         AND a.position_seconds * 1000 <= w.end_position_ms
        WHERE NOT coalesce(a.position_seconds = ANY(w.ad_positions), false)""",
    "user agent not in the dictionary": """
        SELECT count(*) FROM watch_logs w
        WHERE NOT EXISTS (SELECT 1 FROM user_agents u WHERE u.id = w.user_agent_id)""",
    "default slots not every 300 s below the duration": """
        SELECT count(*) FROM videos v
        WHERE (SELECT count(*) FROM ad_slots a WHERE a.video_id = v.id)
              <> (v.duration_seconds - 1) / 300
           OR EXISTS (SELECT 1 FROM ad_slots a WHERE a.video_id = v.id
                      AND (a.position_seconds % 300 <> 0
                           OR a.position_seconds >= v.duration_seconds))""",
    "slot not filled round-robin from video.id - 1 over the active ads": """
        WITH active AS (SELECT id, row_number() OVER (ORDER BY id) - 1 AS i, count(*) OVER () AS n
                        FROM ads WHERE active)
        SELECT count(*) FROM ad_slots s JOIN active a ON a.id = s.ad_id
        WHERE a.i <> (s.video_id - 1 + s.position_seconds / 300 - 1) % a.n""",
    "viewer without a viewer or creator role": """
        SELECT count(*) FROM watch_logs w
        WHERE w.viewer_id IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM user_roles r WHERE r.user_id = w.viewer_id
            AND r.role IN ('viewer', 'creator'))""",
}


def _scalar(runtime: Runtime, query: str) -> int:
    with runtime.db.engine.connect() as connection:
        return int(connection.execute(sa.text(query)).scalar_one())


def test_postgres_rows_break_no_rule(runtime: Runtime) -> None:
    result = generate(runtime, PLAN, streams=2)
    assert result.watch_logs == _scalar(runtime, "SELECT count(*) FROM watch_logs") == 10_000
    reached = "SELECT sum(cardinality(ad_positions)) FROM watch_logs"
    assert _scalar(runtime, reached) == result.slots_reached > 0
    broken = {rule: _scalar(runtime, query) for rule, query in VIOLATIONS.items()}
    assert broken == dict.fromkeys(VIOLATIONS, 0)
    days = _scalar(runtime, "SELECT count(DISTINCT business_date) FROM watch_logs")
    assert days in (2, 3)  # a repeat 29 s after a session at 23:59:40 starts on day 3
    across_midnight = _scalar(
        runtime,
        "SELECT count(*) FROM watch_logs "
        "WHERE (ended_at AT TIME ZONE 'Asia/Seoul')::date > business_date",
    )
    assert across_midnight > 10
    assert _scalar(runtime, "SELECT min(duration_seconds) FROM videos") < 120
    assert _scalar(runtime, "SELECT max(duration_seconds) FROM videos") > 1800
    assert _scalar(runtime, "SELECT max(duration_seconds) FROM videos") <= 3600
    assert _scalar(runtime, "SELECT min(duration_seconds) FROM videos") >= 60


def test_popularity_is_zipf_like(runtime: Runtime) -> None:
    generate(runtime, PLAN)
    with runtime.db.engine.connect() as connection:
        counts = list(
            connection.execute(
                sa.text("SELECT count(*) FROM watch_logs GROUP BY video_id ORDER BY 1 DESC")
            ).scalars()
        )
    # Weight 1/rank over 80 videos: the top one gets 1/H(80) ~ 20 %, rank 40 ~ 0.5 %.
    assert 0.15 < counts[0] / 10_000 < 0.25
    assert counts[0] > 10 * counts[len(counts) // 2]


PARTITION_KEYS = """
    SELECT c.relname, k.contype, k.conname, k.convalidated, k.conparentid <> 0
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    JOIN pg_constraint k ON k.conrelid = c.oid AND k.contype IN ('p', 'f')
    WHERE i.inhparent = 'watch_logs'::regclass ORDER BY 1, 2, 3"""


def test_rebuild_indexes_restores_the_migrated_keys_and_foreign_keys(runtime: Runtime) -> None:
    import psycopg

    dsn = conninfo(runtime.settings.database_url)
    # Days 1 and 2 exist before the load (with their keys), day 3 is created by it.
    with runtime.db.engine.begin() as connection:
        ensure_days(connection, [date(2026, 10, 31), date(2026, 11, 1)])
    with psycopg.connect(dsn) as connection:
        before = capture(connection)
    assert [name for _, name, _ in before.primary_keys] == ["pk_watch_logs"]
    assert len(before.foreign_keys) == 3
    generate(runtime, PLAN, streams=2, rebuild_indexes=True)
    with psycopg.connect(dsn) as connection:
        assert capture(connection) == before
        keys = connection.execute(PARTITION_KEYS).fetchall()
    # Every partition has its own key and the three foreign keys, valid and attached to the
    # parent's, named as PostgreSQL names them for a partition it creates.
    expected = []
    for day in ("20261031", "20261101", "20261102"):
        partition = f"watch_logs_d{day}"
        expected += [(partition, "f", name, True, True) for _, name, _ in before.foreign_keys]
        expected.append((partition, "p", f"{partition}_pkey", True, True))
    # (Other tests' days stay as empty partitions: a truncation keeps them.)
    ours = {row[0] for row in expected}
    assert sorted(key for key in keys if key[0] in ours) == sorted(expected)
    assert _scalar(runtime, "SELECT count(*) FROM watch_logs") == 10_000
    broken = {rule: _scalar(runtime, query) for rule, query in VIOLATIONS.items()}
    assert broken == dict.fromkeys(VIOLATIONS, 0)


def test_sqlite_falls_back_to_executemany_with_the_same_rules(sqlite_runtime: Runtime) -> None:
    plan = GenerationPlan(
        videos=20, creators=4, days=2, logs_per_day=400, start_date=date(2026, 1, 1), seed=5
    )
    result = generate(sqlite_runtime, plan, streams=4)
    assert (result.watch_logs, result.streams) == (800, 1)
    with sqlite_runtime.db.engine.connect() as connection:
        logs = connection.execute(
            sa.select(
                WatchLog.business_date,
                WatchLog.started_at,
                WatchLog.ended_at,
                WatchLog.watched_seconds,
                WatchLog.start_position_ms,
                WatchLog.end_position_ms,
                WatchLog.ad_positions,
                WatchLog.ad_ids,
                Video.duration_seconds,
                Video.id,
            ).join(Video, Video.id == WatchLog.video_id)
        ).all()
        placed = {
            (video, position): ad
            for video, position, ad in connection.execute(
                sa.select(AdSlot.video_id, AdSlot.position_seconds, AdSlot.ad_id)
            )
        }
    assert len(logs) == 800
    seoul = ZoneInfo("Asia/Seoul")
    reached = 0
    for day, started, ended, watched, start, end, positions, ads, duration, video in logs:
        assert day == started.astimezone(seoul).date()
        assert watched <= (ended - started).total_seconds()
        assert 0 <= start <= end <= duration * 1000
        assert watched * 1000 <= end - start
        expected = [p for p in range(300, duration, 300) if start < p * 1000 <= end]
        assert positions == (expected or None)
        assert ads == ([placed[(video, p)] for p in expected] or None)
        reached += len(expected)
    assert reached == result.slots_reached > 0


def test_business_date_follows_the_configured_time_zone_across_dst(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"timezone": "America/New_York"})
    new_york = Runtime(settings=settings, db=runtime.db, redis=None)
    # 2026-03-08 is 23 hours long in New York (clocks jump from 2:00 to 3:00).
    plan = GenerationPlan(
        videos=10, creators=2, days=2, logs_per_day=2_000, start_date=date(2026, 3, 8), seed=1
    )
    generate(new_york, plan)
    wrong = _scalar(
        runtime,
        "SELECT count(*) FROM watch_logs "
        "WHERE business_date <> (started_at AT TIME ZONE 'America/New_York')::date",
    )
    assert wrong == 0
    first_day = _scalar(
        runtime, "SELECT count(*) FROM watch_logs WHERE business_date = '2026-03-08'"
    )
    assert 1_990 <= first_day <= 2_000  # a repeat late on day 1 may start on day 2
    outside = _scalar(
        runtime,
        "SELECT count(*) FROM watch_logs WHERE started_at < '2026-03-08 05:00:00+00' "
        "OR started_at >= timestamptz '2026-03-10 04:00:00+00' + interval '30 seconds'",
    )
    assert outside == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [("videos", 0), ("creators", 0), ("days", 0), ("logs_per_day", -1), ("viewers", 0)],
)
def test_impossible_sizes_are_refused(field: str, value: int) -> None:
    sizes = {"videos": 1, "creators": 1, "days": 1, "logs_per_day": 1, field: value}
    with pytest.raises(InvalidInput):
        GenerationPlan(start_date=date(2026, 1, 1), **sizes)  # type: ignore[arg-type]


def test_without_active_ads_slots_are_reached_with_no_ad(runtime: Runtime) -> None:
    plan = GenerationPlan(
        videos=10, creators=2, days=1, logs_per_day=1_000, start_date=date(2026, 1, 1), ads=0
    )
    result = generate(runtime, plan)
    assert result.slots_reached > 0
    assert _scalar(runtime, "SELECT count(*) FROM ad_slots WHERE ad_id IS NOT NULL") == 0
    ads = "SELECT count(*) FROM watch_logs, unnest(ad_ids) AS a WHERE a IS NOT NULL"
    assert _scalar(runtime, ads) == 0
    assert (
        _scalar(runtime, "SELECT sum(cardinality(ad_ids)) FROM watch_logs") == result.slots_reached
    )


@pytest.mark.parametrize("streams", [1, 2])
def test_a_refused_copy_is_a_clear_error_from_any_stream(runtime: Runtime, streams: int) -> None:
    refuse = "ALTER TABLE watch_logs ADD CONSTRAINT test_refuse CHECK (watched_seconds < 0)"
    with runtime.db.engine.begin() as connection:
        connection.execute(sa.text(refuse + " NOT VALID"))
    try:
        with pytest.raises(StreamFailed, match=r"writing day \d, chunk 1: CheckViolation"):
            generate(runtime, PLAN, streams=streams)
    finally:
        with runtime.db.engine.begin() as connection:
            connection.execute(sa.text("ALTER TABLE watch_logs DROP CONSTRAINT test_refuse"))
    assert _scalar(runtime, "SELECT count(*) FROM watch_logs") == 0


def _seed_with_a_repeat_after_midnight(logs: int) -> int:
    """A seed whose first unit has a repeat that starts after midnight (the start times
    and repeats depend on the seed and the unit only, not on the catalogue)."""
    tables = Tables(
        seed=0,
        run_tag="00000000",
        shares=Shares(),
        days=business_days(date(2026, 5, 1), 1, ZoneInfo("Asia/Seoul")),
        video_ids=np.arange(1, 11, dtype=np.int32),
        video_durations=np.full(10, 600, dtype=np.int32),
        video_creators=np.ones(10, dtype=np.int64),
        creator_ips=np.zeros(10, dtype=np.uint32),
        popular_videos=np.arange(10, dtype=np.int64),
        popularity_cum=zipf_cumulative(10, 1.0),
        popularity_guide=zipf_guide(zipf_cumulative(10, 1.0)),
        viewer_ids=np.arange(1, 101, dtype=np.int64),
        ad_ids=np.arange(1, 3, dtype=np.int64),
        agent_ids=np.arange(1, 8, dtype=np.int64),
    )
    for seed in range(10_000):
        tables.seed = seed
        if draw(tables, Unit(0, 0, logs)).today < logs:
            return seed
    raise AssertionError("no seed with a repeat after midnight")


def test_repeats_after_midnight_go_to_the_next_days_partition(runtime: Runtime) -> None:
    seed = _seed_with_a_repeat_after_midnight(5_000)
    plan = GenerationPlan(
        videos=10, creators=2, days=1, logs_per_day=5_000, start_date=date(2026, 5, 1), seed=seed
    )
    generate(runtime, plan, streams=2)
    spilled = _scalar(runtime, "SELECT count(*) FROM watch_logs_d20260502")
    assert spilled > 0
    assert _scalar(runtime, "SELECT count(*) FROM watch_logs_d20260501") == 5_000 - spilled
    broken = {rule: _scalar(runtime, query) for rule, query in VIOLATIONS.items()}
    assert broken == dict.fromkeys(VIOLATIONS, 0)


def test_generated_days_already_settled_are_marked_for_a_rerun(runtime: Runtime) -> None:
    with runtime.db.engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO batch_runs (business_date, status, partitions, worker, started_at, "
                "heartbeat_at, finished_at) VALUES ('2026-10-31', 'completed', 1, 'test', "
                "now(), now(), now())"
            )
        )
    generate(runtime, PLAN, streams=2)
    with runtime.db.engine.connect() as connection:
        marked = connection.execute(sa.text("SELECT business_date, version FROM rerun_marks")).all()
    # Day 1 (2026-10-31) was settled: marked once; day 2 was not.
    assert marked == [(date(2026, 10, 31), 1)]
