"""An engine's results written back to PostgreSQL: per partition and the totals, in the
caller's transaction; what the tables hold afterwards is exactly the engine's rows, and
writing again replaces them (a video gone from the day loses its rows)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
import sqlalchemy as sa

from streamsettle.runtime import Runtime
from streamsettle.services.batch.engines.day import PER_VIDEO, RESULT_COLUMNS, TOTALS, DayResults
from streamsettle.services.batch.engines.duckdb_engine import DuckDBEngine
from streamsettle.services.batch.engines.write import rows_per_video, write_partition, write_totals
from tests.integration.engines.conftest import database_rows, day_inputs
from tests.integration.engines.day_world import DayWorld

DAY = date(2024, 9, 2)


def _write(runtime: Runtime, results: DayResults, ranges: list[tuple[int, int]]) -> int:
    written = 0
    for lo, hi in ranges:
        with runtime.db.engine.begin() as conn:
            written += write_partition(conn, results, DAY, lo, hi)
    with runtime.db.engine.begin() as conn:
        written += write_totals(conn, results, DAY)
    return written


def test_written_rows_are_the_engine_rows(runtime: Runtime, day_world: DayWorld) -> None:
    videos = day_world.sample_day(DAY)
    results = DuckDBEngine(threads=2).compute(day_inputs(runtime, DAY))
    split = videos[1]
    ranges = [(-(2**63), split - 1), (split, 2**63 - 1)]
    assert _write(runtime, results, ranges) == results.row_count
    for name in RESULT_COLUMNS:
        assert database_rows(runtime, name, DAY) == results.rows(name), name
    kinds = [str(row[3]) for row in database_rows(runtime, "view_classifications", DAY)]
    assert sorted(kinds) == ["repeat"] * 6 + ["self"] * 2  # counted logs have no row
    # Again: the same rows, not twice as many.
    _write(runtime, results, ranges)
    for name in RESULT_COLUMNS:
        assert database_rows(runtime, name, DAY) == results.rows(name), name


def test_a_partition_write_replaces_only_its_range(runtime: Runtime, day_world: DayWorld) -> None:
    videos = day_world.sample_day(DAY)
    results = DuckDBEngine(threads=2).compute(day_inputs(runtime, DAY))
    _write(runtime, results, [(-(2**63), 2**63 - 1)])
    # A day without the last video's logs, written for that video's range alone.
    with runtime.db.engine.begin() as conn:
        conn.execute(
            sa.text("DELETE FROM watch_logs WHERE business_date = :d AND video_id = :v"),
            {"d": DAY, "v": videos[2]},
        )
    smaller = DuckDBEngine(threads=2).compute(day_inputs(runtime, DAY))
    with runtime.db.engine.begin() as conn:
        write_partition(conn, smaller, DAY, videos[2], 2**63 - 1)
    stats = database_rows(runtime, "daily_video_stats", DAY)
    assert [row[1] for row in stats] == videos[:2]
    assert stats == smaller.rows("daily_video_stats")


def test_a_failed_transaction_leaves_the_old_rows(runtime: Runtime, day_world: DayWorld) -> None:
    day_world.sample_day(DAY)
    results = DuckDBEngine(threads=2).compute(day_inputs(runtime, DAY))
    _write(runtime, results, [(-(2**63), 2**63 - 1)])
    with pytest.raises(RuntimeError), runtime.db.engine.begin() as conn:
        write_partition(conn, results, DAY, -(2**63), 2**63 - 1)
        raise RuntimeError("the step failed after writing")
    for name in RESULT_COLUMNS:
        assert database_rows(runtime, name, DAY) == results.rows(name), name


def test_rows_per_video_counts_what_each_video_writes(
    runtime: Runtime, day_world: DayWorld
) -> None:
    day_world.sample_day(DAY)
    results = DuckDBEngine(threads=2).compute(day_inputs(runtime, DAY))
    expected: Counter[int] = Counter()
    for name in PER_VIDEO:
        expected.update(int(v) for v in results.tables[name].column("video_id").to_pylist())
    for video in results.tables["daily_video_stats"].column("video_id").to_pylist():
        expected[int(video)] += 2  # its week and its month
    video_ids, counts = rows_per_video(results)
    assert dict(zip(video_ids.tolist(), counts.tolist(), strict=True)) == dict(expected)
    assert (
        int(counts.sum())
        == results.row_count
        - sum(results.tables[name].num_rows for name in TOTALS)
        + 2 * results.tables["daily_video_stats"].num_rows
    )
