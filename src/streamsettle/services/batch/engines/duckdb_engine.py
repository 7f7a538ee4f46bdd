"""The DuckDB engine: the rules of ``rules.sql`` in process, over the day's Arrow tables.

DuckDB scans the Arrow inputs in place (no copy), runs on every core, and keeps money in
exact DECIMAL. Each relation is materialized once as a temporary table of a private
in-memory database that lives for one computation.
"""

from __future__ import annotations

import pyarrow as pa

from streamsettle.services.batch.engines.day import RESULT_COLUMNS, DayInputs, DayResults
from streamsettle.services.batch.engines.rules import DUCKDB, relations


class DuckDBEngine:
    name = "duckdb"

    def __init__(self, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        self.threads = threads
        self.memory_limit = memory_limit

    def compute(self, inputs: DayInputs) -> DayResults:
        import duckdb

        config: dict[str, str | bool | int | float | list[str]] = {}
        if self.threads:
            config["threads"] = self.threads
        if self.memory_limit:
            config["memory_limit"] = self.memory_limit
        with duckdb.connect(config=config) as con:
            for name, table in inputs.tables().items():
                con.register(name, _as_uuid(table) if name == "logs" else table)
            for relation in relations(DUCKDB, inputs.params):
                con.execute(f'CREATE TEMP TABLE "{relation.name}" AS {relation.sql}')
            return DayResults(
                {
                    name: con.table(name).select(*columns).to_arrow_table()
                    for name, columns in RESULT_COLUMNS.items()
                }
            )


def _as_uuid(logs: pa.Table) -> pa.Table:
    """``session_id`` as Arrow's uuid extension type, which DuckDB reads as its UUID (a
    128-bit integer ordered as the bytes are: a much cheaper sort key than a BLOB)."""
    column = logs.column("session_id")
    chunks = [pa.ExtensionArray.from_storage(pa.uuid(), chunk) for chunk in column.chunks]
    uuid_column = pa.chunked_array(chunks, type=pa.uuid())
    return logs.set_column(logs.schema.get_field_index("session_id"), "session_id", uuid_column)
