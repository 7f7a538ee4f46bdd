"""The columnar copy of the watch logs: the writer stores exactly the new logs, the flusher
merges small blocks, and a day whose logs were deleted or changed is read from the table."""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa
import pytest
import sqlalchemy as sa

from streamsettle.db import log_blocks
from streamsettle.runtime import Runtime
from streamsettle.services.ingest.flusher import compact_blocks
from tests.integration.batch.batch_world import World
from tests.integration.engines.conftest import day_inputs
from tests.integration.engines.day_world import DayWorld

DAY = date(2024, 9, 2)


@pytest.fixture
def world(runtime: Runtime) -> DayWorld:
    return DayWorld(runtime)


def _blocks(runtime: Runtime, day: date) -> list[tuple[int, bytes]]:
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(
            sa.text("SELECT rows, data FROM watch_log_blocks WHERE business_date = :d"), {"d": day}
        )
        return [(int(n), bytes(data)) for n, data in rows]


def _block_logs(runtime: Runtime, day: date) -> pa.Table:
    return log_blocks.decode([data for _, data in _blocks(runtime, day)])


def _sorted(logs: pa.Table) -> pa.Table:
    return logs.sort_by("session_id")


@pytest.mark.parametrize(
    "address",
    ["10.0.0.1", "255.255.255.255", "::1", "2001:db8::7", "10.1.2.3/24", "::ffff:1.2.3.4"],
)
def test_addresses_are_encoded_as_postgresql_sends_an_inet(runtime: Runtime, address: str) -> None:
    with runtime.db.engine.connect() as conn:
        sent = conn.execute(
            sa.text("SELECT inet_send(CAST(:a AS inet))"), {"a": address}
        ).scalar_one()
    assert log_blocks.inet_bytes(address) == bytes(sent)


def test_the_writer_stores_the_new_logs_once_per_day(runtime: Runtime, world: World) -> None:
    creator = world.user("creator")
    video = world.video(creator)
    ad = world.ad(creator)
    evening = world.at(DAY, "23:59:50")
    first = world.log(video, evening, viewer=creator, slots={300: ad, 600: None}, watched=700)
    with world.batch():  # two days in one write: one block each
        second = world.log(video, evening + timedelta(seconds=20), ip="2001:db8::1")
        world.log(video, evening - timedelta(days=1))
    with world.batch():  # a retried log changes nothing, in the logs or in the copy
        world.log(video, evening, session_id=first)
        world.log(video, evening + timedelta(seconds=20), session_id=second)
    assert [n for n, _ in _blocks(runtime, DAY)] == [1]
    assert sorted(n for n, _ in _blocks(runtime, DAY - timedelta(days=1))) == [1]
    assert sorted(n for n, _ in _blocks(runtime, DAY + timedelta(days=1))) == [1]
    logs = _block_logs(runtime, DAY).to_pylist()
    assert logs == [
        {
            "session_id": first.bytes,
            "video_id": video,
            "viewer_id": creator,
            "ip": log_blocks.inet_bytes("10.0.0.1"),
            "started_at": evening,
            "watched_seconds": 700,
            "ad_ids": [ad, None],
        }
    ]


def test_deleting_or_changing_logs_drops_the_days_copy(runtime: Runtime, world: DayWorld) -> None:
    videos = world.sample_day(DAY)
    assert day_inputs(runtime, DAY).logs_source == "blocks"
    with runtime.db.engine.begin() as conn:
        conn.execute(
            sa.text("UPDATE watch_logs SET watched_seconds = 1 WHERE video_id = :v"),
            {"v": videos[0]},
        )
    assert _blocks(runtime, DAY) == []
    changed = day_inputs(runtime, DAY)
    assert changed.logs_source == "table"
    assert 1 in changed.logs.column("watched_seconds").to_pylist()
    # New logs after that: the copy holds them but not the day, so the table is read.
    world.log(videos[1], world.at(DAY, "13:00:00"))
    assert [n for n, _ in _blocks(runtime, DAY)] == [1]
    later = day_inputs(runtime, DAY)
    assert (later.logs_source, later.logs.num_rows) == ("table", 16)
    with runtime.db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM watch_logs WHERE video_id = :v"), {"v": videos[2]})
    assert _blocks(runtime, DAY) == []
    world.log(videos[1], world.at(DAY, "14:00:00"))
    with runtime.db.engine.begin() as conn:
        conn.execute(sa.text("TRUNCATE watch_logs"))
    assert _blocks(runtime, DAY) == []


def test_small_blocks_are_merged_into_one(runtime: Runtime, world: DayWorld) -> None:
    world.sample_day(DAY)  # one block of 15 logs
    video = world.video(world.user("creator"))
    for n in range(log_blocks.MERGE_AT):  # one write, one block each
        world.log(video, world.at(DAY, f"14:{n:02d}:00"))
    world.log(video, world.at(DAY + timedelta(days=1), "09:00:00"))
    before = _sorted(_block_logs(runtime, DAY))
    assert len(_blocks(runtime, DAY)) == 1 + log_blocks.MERGE_AT
    assert compact_blocks(runtime) == 1 + log_blocks.MERGE_AT  # the flusher's pass
    assert [n for n, _ in _blocks(runtime, DAY)] == [15 + log_blocks.MERGE_AT]
    assert len(_blocks(runtime, DAY + timedelta(days=1))) == 1  # too few to merge
    assert _sorted(_block_logs(runtime, DAY)).equals(before)
    # The batch's flush merges whatever small blocks a day still has.
    world.log(video, world.at(DAY, "15:00:00"))
    assert compact_blocks(runtime) == 0
    assert compact_blocks(runtime, DAY) == 2
    assert [n for n, _ in _blocks(runtime, DAY)] == [16 + log_blocks.MERGE_AT]
