"""Fixtures of the engine conformance suite: the columnar engines installed here (the
Spark session starts once per test run), and helpers that run each of them on a day."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date, timedelta
from typing import Protocol

import pyarrow as pa
import pytest
import sqlalchemy as sa

from streamsettle.runtime import Runtime
from streamsettle.services import rate_cards
from streamsettle.services.batch.engines.day import RESULT_COLUMNS, DayInputs, DayParams, DayResults
from streamsettle.services.batch.engines.duckdb_engine import DuckDBEngine
from streamsettle.services.batch.engines.extract import extract_day
from streamsettle.services.batch.partitions import FULL_RANGE
from streamsettle.services.batch.steps import (
    AD_STATS,
    CREATOR_TOTALS,
    SETTLE,
    VIDEO_STATS,
    DayContext,
    run_step,
)
from tests.integration.engines.day_world import DayWorld
from tests.integration.engines.reference import reference_results


class Engine(Protocol):
    name: str

    def compute(self, inputs: DayInputs) -> DayResults: ...


@pytest.fixture(scope="session")
def spark_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine | None]:
    """The Spark engine on one ``local[2]`` session for the whole run (its JVM starts
    once), or None where PySpark (the ``spark`` extra) is not installed."""
    try:
        from streamsettle.services.batch.engines.spark_engine import SparkEngine, spark_session
    except ImportError:  # pragma: no cover - the extra is part of the test install
        yield None
        return
    session = spark_session("local[2]", SPARK_TEST_CONF)
    yield SparkEngine(session, str(tmp_path_factory.mktemp("spark-days")))
    session.stop()


# Days of a few dozen logs: planning and code generation, not data, are the cost of each
# Spark job here, so adaptive execution and whole-stage code generation are off.
SPARK_TEST_CONF = {
    "spark.sql.shuffle.partitions": "2",
    "spark.default.parallelism": "2",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
    "spark.driver.memory": "1g",
}


@pytest.fixture(scope="session")
def columnar_engines(spark_engine: Engine | None) -> list[Engine]:
    engines: list[Engine] = [DuckDBEngine(threads=2)]
    if spark_engine is not None:
        engines.append(spark_engine)
    return engines


@pytest.fixture
def day_world(runtime: Runtime) -> DayWorld:
    return DayWorld(runtime)


def day_inputs(runtime: Runtime, day: date, *, use_blocks: bool = True) -> DayInputs:
    """The inputs of ``day`` read from the database, with the rate card in force then."""
    with runtime.db.session() as session:
        card = rate_cards.card_in_force(session, day)
        assert card is not None
        card_id, domain_card = card.id, rate_cards.to_domain(card)
    window = timedelta(seconds=runtime.settings.repeat_view_window_seconds)
    params = DayParams(day, window, card_id)
    return extract_day(
        runtime.settings.database_url,
        params,
        runtime.settings.tz,
        domain_card,
        use_blocks=use_blocks,
    )


def sorted_logs(inputs: DayInputs) -> pa.Table:
    return inputs.logs.sort_by([("business_date", "ascending"), ("session_id", "ascending")])


def assert_blocks_hold_the_day(runtime: Runtime, day: date, inputs: DayInputs) -> None:
    """The day's logs came from their columnar copy and are the table's logs, value for
    value (the copy's address encoding is the one the table sends)."""
    assert inputs.logs_source == "blocks"
    from_table = day_inputs(runtime, day, use_blocks=False)
    assert from_table.logs_source == "table"
    assert sorted_logs(inputs).equals(sorted_logs(from_table))


def database_rows(runtime: Runtime, name: str, day: date) -> list[tuple[object, ...]]:
    """``day``'s rows of result table ``name`` in the database, as ``DayResults.rows`` gives
    an engine's (uuids as text)."""
    columns = RESULT_COLUMNS[name]
    query = sa.text(f"SELECT {', '.join(columns)} FROM {name} WHERE business_date = :day")
    with runtime.db.engine.connect() as conn:
        rows = conn.execute(query, {"day": day}).all()
    return sorted(tuple(str(v) if isinstance(v, uuid.UUID) else v for v in r) for r in rows)


def sql_engine_rows(runtime: Runtime, day: date, rate_card_id: int) -> DayResults:
    """The rows the ``sql`` engine's steps write for ``day`` (one partition), read back in
    their transaction, which is then rolled back: the database is left as it was."""
    context = DayContext.build(runtime, day, rate_card_id)
    tables: dict[str, pa.Table] = {}
    with runtime.db.engine.connect() as conn, conn.begin() as transaction:
        for step in (VIDEO_STATS, AD_STATS, SETTLE, CREATOR_TOTALS):
            run_step(conn, step, context, FULL_RANGE)
        for name, columns in RESULT_COLUMNS.items():
            query = sa.text(f"SELECT {', '.join(columns)} FROM {name} WHERE business_date = :d")
            rows = [
                {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in r.items()}
                for r in conn.execute(query, {"d": day}).mappings()
            ]
            tables[name] = pa.Table.from_pylist(rows, schema=_result_schema(columns))
        transaction.rollback()
    return DayResults(tables)


def _result_schema(columns: tuple[str, ...]) -> pa.Schema:
    def kind(column: str) -> pa.DataType:
        if column == "business_date":
            return pa.date32()
        return pa.string() if column in ("session_id", "kind") else pa.int64()

    return pa.schema([(column, kind(column)) for column in columns])


def assert_engines_agree(inputs: DayInputs, engines: Sequence[Engine]) -> DayResults:
    """Every engine's rows equal the domain rules' rows, table by table; the reference."""
    expected = reference_results(inputs)
    for engine in engines:
        got = engine.compute(inputs)
        for name in RESULT_COLUMNS:
            assert got.rows(name) == expected.rows(name), f"{engine.name}: {name}"
    return expected


RunDay = Callable[[date], DayResults]
"""Checks every engine on a day the database holds; the domain rules' results of the day."""


@pytest.fixture
def run_day(runtime: Runtime, columnar_engines: list[Engine]) -> RunDay:
    """Every columnar engine and the ``sql`` engine's steps give the domain rules' rows."""

    def run(day: date) -> DayResults:
        inputs = day_inputs(runtime, day)
        if inputs.logs.num_rows:
            assert_blocks_hold_the_day(runtime, day, inputs)
        expected = assert_engines_agree(inputs, columnar_engines)
        in_database = sql_engine_rows(runtime, day, inputs.params.rate_card_id)
        for name in RESULT_COLUMNS:
            assert in_database.rows(name) == expected.rows(name), f"sql: {name}"
        return expected

    return run
