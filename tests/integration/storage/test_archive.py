"""Archive and restore: a settled day leaves the database as a Parquet file and comes back
exactly, and settling it again after the restore gives the same rows."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa

from streamsettle.db import partitions
from streamsettle.db.models import RerunMark, WatchLogArchive
from streamsettle.errors import StreamsettleError
from streamsettle.runtime import Runtime
from streamsettle.services import archive
from streamsettle.services.batch import run_date
from tests.integration.batch.batch_world import World

D1, D2, D3 = date(2024, 4, 1), date(2024, 4, 2), date(2024, 4, 3)
LOG_COLUMNS = (
    "CAST(w.session_id AS text), w.business_date, w.video_id, w.viewer_id, host(w.ip), "
    "u.user_agent, w.started_at, w.ended_at, w.start_position_ms, w.end_position_ms, "
    "w.watched_seconds, w.ad_positions, w.ad_ids"
)


@pytest.fixture
def pg_world(runtime: Runtime) -> World:
    return World(runtime)


def _logs(runtime: Runtime, day: date) -> list[tuple[Any, ...]]:
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                f"SELECT {LOG_COLUMNS} FROM watch_logs AS w "
                "JOIN user_agents AS u ON u.id = w.user_agent_id "
                "WHERE w.business_date = :day ORDER BY w.session_id"
            ),
            {"day": day},
        ).all()
    return [tuple(row) for row in rows]


def _copied(runtime: Runtime) -> dict[date, int]:
    """The logs each day's columnar copy holds."""
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT business_date, sum(rows) FROM watch_log_blocks GROUP BY 1")
        )
        return {day: int(n) for day, n in rows}


def _populate(world: World) -> None:
    creator, viewer, other = world.user("creator"), world.user(), world.user()
    video, short = world.video(creator), world.video(creator, duration=200)
    ad_a, ad_b = world.ad(creator), world.ad(creator)
    with world.batch():
        for day in (D1, D2):
            world.log(video, world.at(day, "09:00:00"), viewer=viewer, slots={300: ad_a})
            world.log(video, world.at(day, "09:00:10"), viewer=viewer)  # a repeat
            world.log(video, world.at(day, "10:00:00"), viewer=creator)  # a self view
            world.log(
                video, world.at(day, "11:00:00"), ip="2001:db8::7", slots={300: ad_b, 600: None}
            )
            world.log(short, world.at(day, "23:59:59.999999"), viewer=other, watched=120)
            for n in range(40):
                world.log(
                    video, world.at(day, f"12:{n:02d}:00"), ip=f"10.9.0.{n}", slots={300: ad_a}
                )


def test_archive_restore_rerun_gives_identical_rows(pg_world: World, tmp_path: Path) -> None:
    world, runtime = pg_world, pg_world.runtime
    _populate(world)
    for day in (D1, D2):
        assert run_date(runtime, day).status == "completed"
    settled = {day: world.snapshot(day) for day in (D1, D2)}
    logs_d1 = _logs(runtime, D1)
    assert len(logs_d1) == 45
    assert _copied(runtime) == {D1: 45, D2: 45}

    result = archive.archive(runtime, D3, tmp_path)
    assert result.archived == [(D1, 45), (D2, 45)] and result.skipped == []
    with runtime.db.engine.connect() as conn:
        assert D1 not in partitions.attached_days(conn)
    assert _logs(runtime, D1) == []
    assert _copied(runtime) == {}  # the columnar copy leaves with the partition
    assert {day: world.snapshot(day) for day in (D1, D2)} == settled  # settled results stay
    file = archive.archive_path(tmp_path, D1)
    assert pq.read_table(file).num_rows == 45
    with pytest.raises(StreamsettleError, match="archived"):
        run_date(runtime, D1)

    assert archive.restore(runtime, D1) == 45
    assert _logs(runtime, D1) == logs_d1
    with runtime.db.session() as session:
        assert session.get(WatchLogArchive, D1) is None
        assert session.get(RerunMark, D1) is None  # attaching marks nothing for a re-run
    assert run_date(runtime, D1).status == "completed"
    assert world.snapshot(D1) == settled[D1]
    # Archiving again writes the same rows, and running it again finds nothing left to do.
    again = archive.archive(runtime, D2, tmp_path)
    assert again.archived == [(D1, 45)]
    assert archive.archive(runtime, D3, tmp_path).archived == []


def test_unsettled_days_stay_and_a_changed_file_is_refused(pg_world: World, tmp_path: Path) -> None:
    world, runtime = pg_world, pg_world.runtime
    _populate(world)
    assert run_date(runtime, D1).status == "completed"
    result = archive.archive(runtime, D3, tmp_path)
    assert result.archived == [(D1, 45)]
    assert result.skipped == [(D2, "not settled yet")]
    file = archive.archive_path(tmp_path, D1)
    data = bytearray(file.read_bytes())
    data[len(data) // 2] ^= 0xFF
    file.write_bytes(bytes(data))
    with pytest.raises(StreamsettleError, match="changed"):
        archive.restore(runtime, D1)
    with pytest.raises(StreamsettleError, match="not archived"):
        archive.restore(runtime, D2)


def test_archiving_needs_postgresql(sqlite_runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(StreamsettleError, match="PostgreSQL"):
        archive.archive(sqlite_runtime, D3, tmp_path)
