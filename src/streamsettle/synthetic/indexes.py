"""Bulk-load mode: drop the watch log tables' keys, indexes and foreign keys, load, rebuild.

Checking two foreign keys and maintaining two B-trees per row costs PostgreSQL several
times more than parsing the row; building them once afterwards (sorted, in parallel
workers) and validating each foreign key with one anti-join is much cheaper, exactly as
``pg_restore`` does. The definitions are read from the catalog before dropping, so the
rebuilt schema is the migrated one, names included. Only for databases nobody else writes
to during the load: without the primary key, the flusher's idempotent inserts would fail.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from streamsettle.errors import StreamsettleError

TABLES = ("watch_logs", "watch_log_ad_slots")
MAINTENANCE_WORK_MEM = "512MB"
Statement = sql.SQL | sql.Composed


@dataclass(frozen=True)
class Definitions:
    """What was dropped, in the order it must come back: keys, indexes, foreign keys."""

    primary_keys: list[tuple[str, str, str]]
    """(table, name, definition)"""
    indexes: list[tuple[str, str, str]]
    """(table, name, CREATE INDEX statement)"""
    foreign_keys: list[tuple[str, str, str]]


def capture(connection: psycopg.Connection[Any]) -> Definitions:
    """The keys, plain indexes and foreign keys on (or pointing at) the watch log tables."""
    tables = list(TABLES)
    constraints = connection.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, c.contype, pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE (c.contype IN ('p', 'u') AND c.conrelid = ANY(%(t)s::regclass[]))
           OR (c.contype = 'f' AND (c.conrelid = ANY(%(t)s::regclass[])
                                    OR c.confrelid = ANY(%(t)s::regclass[])))
        ORDER BY c.conrelid::regclass::text, c.conname
        """,
        {"t": tables},
    ).fetchall()
    indexes = connection.execute(
        """
        SELECT i.indrelid::regclass::text, i.indexrelid::regclass::text,
               pg_get_indexdef(i.indexrelid)
        FROM pg_index i
        WHERE i.indrelid = ANY(%(t)s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
        ORDER BY 1, 2
        """,
        {"t": tables},
    ).fetchall()
    return Definitions(
        primary_keys=[(t, n, d) for t, n, kind, d in constraints if kind in ("p", "u")],
        indexes=[(t, n, d) for t, n, d in indexes],
        foreign_keys=[(t, n, d) for t, n, kind, d in constraints if kind == "f"],
    )


def drop(connection: psycopg.Connection[Any], found: Definitions) -> None:
    for table, name, _ in found.foreign_keys + found.primary_keys:
        connection.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for _, name, _ in found.indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))


def _run_per_table(conninfo: str, statements: dict[str, list[Statement]]) -> None:
    """Each table's statements in order on its own connection, the tables in parallel
    (building one table's keys does not lock another's)."""

    def run(batch: list[Statement]) -> None:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"SET maintenance_work_mem TO '{MAINTENANCE_WORK_MEM}'")
            for statement in batch:
                connection.execute(statement)

    with ThreadPoolExecutor(max_workers=max(1, len(statements))) as pool:
        for future in [pool.submit(run, batch) for batch in statements.values()]:
            future.result()


def rebuild(conninfo: str, found: Definitions) -> None:
    """Keys and indexes per table in parallel; then the foreign keys, added NOT VALID and
    validated per table in parallel (a validation only share-locks the referenced table)."""
    build: dict[str, list[Statement]] = defaultdict(list)
    for table, name, definition in found.primary_keys:
        build[table].append(_add_constraint(table, name, definition))
    for table, _, definition in found.indexes:
        build[table].append(sql.SQL(definition))
    _run_per_table(conninfo, build)
    validate: dict[str, list[Statement]] = defaultdict(list)
    with psycopg.connect(conninfo) as connection:
        for table, name, definition in found.foreign_keys:
            connection.execute(_add_constraint(table, name, definition + " NOT VALID"))
            validate[table].append(
                sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
                    sql.Identifier(table), sql.Identifier(name)
                )
            )
    _run_per_table(conninfo, validate)


def _add_constraint(table: str, name: str, definition: str) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        sql.Identifier(table),
        sql.Identifier(name),
        sql.SQL(definition),
    )


@contextmanager
def rebuilt_after_load(conninfo: str) -> Iterator[Definitions]:
    """Drop before the block, rebuild after it (also when it fails, keeping what loaded)."""
    with psycopg.connect(conninfo) as connection:
        found = capture(connection)
        drop(connection, found)
    try:
        yield found
    finally:
        try:
            rebuild(conninfo, found)
        except psycopg.Error as exc:
            statements = [d for _, _, d in found.indexes] + [
                f"ALTER TABLE {t} ADD CONSTRAINT {n} {d}"
                for t, n, d in found.primary_keys + found.foreign_keys
            ]
            raise StreamsettleError(
                f"could not rebuild the watch log keys and indexes ({exc}); "
                "run these statements once the cause is fixed:\n" + ";\n".join(statements)
            ) from exc
