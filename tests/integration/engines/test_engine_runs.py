"""The batch run end to end with each engine: the same rows in every table the run
writes (the rollups too), the engine recorded on the run, and its steps."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from streamsettle.errors import BatchRefused
from streamsettle.runtime import Runtime
from streamsettle.services.batch import run_date
from streamsettle.services.batch.engines.day import RESULT_COLUMNS
from streamsettle.services.batch.steps import step_names
from tests.integration.engines.conftest import Engine, database_rows
from tests.integration.engines.day_world import DayWorld

DAY = date(2024, 9, 2)


def _written(runtime: Runtime) -> dict[str, Any]:
    rows: dict[str, Any] = {name: database_rows(runtime, name, DAY) for name in RESULT_COLUMNS}
    with runtime.db.engine.connect() as conn:
        rows["period_video_stats"] = sorted(
            conn.execute(sa.text("SELECT * FROM period_video_stats")).all()
        )
    return rows


def test_every_engine_writes_the_same_rows(
    runtime: Runtime, day_world: DayWorld, spark_engine: Engine | None
) -> None:
    day_world.sample_day(DAY)
    engines = ["sql", "duckdb"] + (["spark"] if spark_engine is not None else [])
    now = day_world.at(DAY + timedelta(days=1), "03:00:00")
    written = {}
    for engine in engines:
        run = run_date(runtime, DAY, partitions=2, engine=engine, now=now)
        assert run.status == "completed", run.error
        assert run.engine == engine
        assert [s.name for s in run.steps if s.partition == 0] == list(step_names(engine))
        written[engine] = _written(runtime)
    first = written["sql"]
    assert len(first["view_classifications"]) == 8 and len(first["daily_video_stats"]) == 3
    assert len(first["period_video_stats"]) == 6  # each video's week and month
    for engine in engines[1:]:
        assert written[engine] == first, engine


def test_a_columnar_engine_on_sqlite_is_refused(sqlite_runtime: Runtime) -> None:
    with pytest.raises(BatchRefused, match="reads PostgreSQL"):
        run_date(sqlite_runtime, DAY, engine="duckdb")
