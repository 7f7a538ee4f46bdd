"""Batch engines: where the rules of a day (3.3 to 3.6) are computed.

- ``sql``: in the primary database, set-based statements per partition (``batch/sql``).
- ``duckdb``: the day read from PostgreSQL as Arrow (``extract``), computed in process by
  DuckDB over the one SQL text of the rules (``rules.sql``), written back with COPY.
- ``spark``: the same SQL text in Spark SQL over the day exported as Parquet.

The columnar engines are functions from ``day.DayInputs`` to ``day.DayResults``.
"""

ENGINE_NAMES = ("sql", "duckdb", "spark")
