"""The batch engines by name: which are installed here, and a columnar engine to compute
with. PySpark and its JVM are imported and started only when the spark engine is used."""

from __future__ import annotations

import importlib.util
import shutil
from functools import cache
from typing import TYPE_CHECKING, Protocol

from streamsettle.config import Settings
from streamsettle.services.batch.engines import ENGINE_NAMES
from streamsettle.services.batch.engines.day import DayInputs, DayResults

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


class ColumnarEngine(Protocol):
    """A function from a day's inputs to its result tables (``engines.day``)."""

    name: str

    def compute(self, inputs: DayInputs) -> DayResults: ...


def installed_engines() -> list[str]:
    """The engines this installation can run: spark needs PySpark (the ``spark`` extra) and
    a Java runtime."""
    names = ["sql", "duckdb"]
    if importlib.util.find_spec("pyspark") is not None and shutil.which("java"):
        names.append("spark")
    return names


def check_engine(name: str, *, is_sqlite: bool) -> str:
    """``name`` if it can settle this database; ValueError otherwise."""
    if name not in ENGINE_NAMES:
        raise ValueError(f"unknown batch engine {name!r}: one of {', '.join(ENGINE_NAMES)}")
    if name != "sql" and is_sqlite:
        raise ValueError(f"the {name} engine reads PostgreSQL; on SQLite the batch runs sql")
    return name


@cache
def shared_spark_session(master: str) -> SparkSession:
    """One Spark session per master for the life of the process (its start is the JVM's)."""
    from streamsettle.services.batch.engines.spark_engine import spark_session

    return spark_session(master)


def columnar_engine(settings: Settings, name: str) -> ColumnarEngine:
    """The engine ``name`` (duckdb or spark) as ``settings`` configure it."""
    if name == "duckdb":
        from streamsettle.services.batch.engines.duckdb_engine import DuckDBEngine

        return DuckDBEngine()
    if name == "spark":
        from streamsettle.services.batch.engines.spark_engine import SparkEngine

        return SparkEngine(shared_spark_session(settings.spark_master), settings.spark_data_dir)
    raise ValueError(f"{name!r} is not a columnar engine")
