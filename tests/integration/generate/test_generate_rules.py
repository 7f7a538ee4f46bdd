"""Generated rows keep every constraint and import rule, on PostgreSQL and on SQLite."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from streamsettle.errors import InvalidInput
from streamsettle.runtime import Runtime
from streamsettle.synthetic import GenerationPlan, generate
from streamsettle.synthetic.indexes import capture
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
        WHERE watched_seconds > end_position_seconds - start_position_seconds""",
    "positions outside [0, duration] or end before start": """
        SELECT count(*) FROM watch_logs w JOIN videos v ON v.id = w.video_id
        WHERE w.start_position_seconds < 0 OR w.end_position_seconds > v.duration_seconds
           OR w.end_position_seconds < w.start_position_seconds""",
    "slot row that is not a slot of the video with its ad": """
        SELECT count(*) FROM watch_log_ad_slots s
        JOIN watch_logs w USING (session_id)
        LEFT JOIN ad_slots a ON a.video_id = w.video_id AND a.position_seconds = s.position_seconds
        WHERE a.video_id IS NULL OR a.ad_id IS DISTINCT FROM s.ad_id""",
    "slot not passed by the playback (start < p <= end)": """
        SELECT count(*) FROM watch_log_ad_slots s JOIN watch_logs w USING (session_id)
        WHERE s.position_seconds <= w.start_position_seconds
           OR s.position_seconds > w.end_position_seconds""",
    "slot passed but missing": """
        SELECT count(*) FROM watch_logs w
        JOIN ad_slots a ON a.video_id = w.video_id
         AND a.position_seconds > w.start_position_seconds
         AND a.position_seconds <= w.end_position_seconds
        LEFT JOIN watch_log_ad_slots s
          ON s.session_id = w.session_id AND s.position_seconds = a.position_seconds
        WHERE s.session_id IS NULL""",
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


def test_rebuild_indexes_restores_the_migrated_keys_indexes_and_foreign_keys(
    runtime: Runtime,
) -> None:
    import psycopg

    dsn = conninfo(runtime.settings.database_url)
    with psycopg.connect(dsn) as connection:
        before = capture(connection)
    assert len(before.primary_keys) >= 2 and len(before.foreign_keys) >= 4
    generate(runtime, PLAN, streams=2, rebuild_indexes=True)
    with psycopg.connect(dsn) as connection:
        assert capture(connection) == before
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
            sa.text(
                "SELECT w.session_id, w.business_date, w.started_at, w.ended_at, "
                "w.watched_seconds, w.start_position_seconds, w.end_position_seconds, "
                "v.duration_seconds FROM watch_logs w JOIN videos v ON v.id = w.video_id"
            )
        ).all()
        slots = connection.execute(
            sa.text(
                "SELECT s.position_seconds, w.start_position_seconds, w.end_position_seconds, "
                "s.ad_id, a.ad_id FROM watch_log_ad_slots s "
                "JOIN watch_logs w ON w.session_id = s.session_id "
                "JOIN ad_slots a ON a.video_id = w.video_id "
                "AND a.position_seconds = s.position_seconds"
            )
        ).all()
        slot_rows = connection.execute(sa.text("SELECT count(*) FROM watch_log_ad_slots"))
        assert slot_rows.scalar_one() == len(slots) == result.watch_log_ad_slots > 0
    assert len(logs) == 800
    seoul = ZoneInfo("Asia/Seoul")
    for _sid, day, started, ended, watched, start, end, duration in logs:
        # SQLite hands back the stored UTC text of the timestamps.
        started_at = datetime.fromisoformat(started).replace(tzinfo=UTC)
        ended_at = datetime.fromisoformat(ended).replace(tzinfo=UTC)
        assert str(day) == started_at.astimezone(seoul).date().isoformat()
        assert watched <= (ended_at - started_at).total_seconds()
        assert 0 <= float(start) <= float(end) <= duration
        assert watched <= float(end) - float(start)
    for position, start, end, ad, placed in slots:
        assert float(start) < position <= float(end)
        assert ad == placed


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
    assert result.watch_log_ad_slots > 0
    assert _scalar(runtime, "SELECT count(*) FROM ad_slots WHERE ad_id IS NOT NULL") == 0
    assert _scalar(runtime, "SELECT count(*) FROM watch_log_ad_slots WHERE ad_id IS NOT NULL") == 0
    assert _scalar(runtime, "SELECT count(*) FROM watch_log_ad_slots") == result.watch_log_ad_slots


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
