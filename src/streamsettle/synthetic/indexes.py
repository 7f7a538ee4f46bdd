"""Bulk-load mode: drop the watch logs' keys, indexes and foreign keys, load, rebuild.

Checking three foreign keys and maintaining a B-tree per row costs PostgreSQL more than
storing the row; building the key once afterwards (sorted) and validating each foreign key
with one anti-join is much cheaper, exactly as ``pg_restore`` does. The definitions are
read from the catalog before dropping, so the rebuilt schema is the migrated one, names
included. Only for databases nobody else writes to during the load: without the primary
key, the flusher's idempotent inserts would fail.

``watch_logs`` is partitioned by day, and PostgreSQL builds a partitioned table's key one
partition after another, and refuses ``NOT VALID`` foreign keys on it. So the rebuild
works per partition, the partitions in parallel (one connection per core): each one's key
as its own primary key, then each foreign key added ``NOT VALID`` and validated. The
parent's key and foreign keys, added last, find the partitions' equivalents and attach
them instead of building or checking anything again.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql

from streamsettle.errors import StreamsettleError

TABLES = ("watch_logs",)
MAINTENANCE_WORK_MEM = "512MB"
Statement = sql.SQL | sql.Composed
_INDEX = re.compile(r"^CREATE (UNIQUE )?INDEX \S+ ON (?:ONLY )?\S+ (.*)$")


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
        WHERE c.conparentid = 0
          AND ((c.contype IN ('p', 'u') AND c.conrelid = ANY(%(t)s::regclass[]))
               OR (c.contype = 'f' AND (c.conrelid = ANY(%(t)s::regclass[])
                                        OR c.confrelid = ANY(%(t)s::regclass[]))))
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
    """Drop on the parents: PostgreSQL drops the partitions' copies with them."""
    for table, name, _ in found.foreign_keys + found.primary_keys:
        connection.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
                sql.Identifier(table), sql.Identifier(name)
            )
        )
    for _, name, _ in found.indexes:
        connection.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))


def partitions_of(connection: psycopg.Connection[Any], table: str) -> list[str]:
    """The names of ``table``'s attached partitions, in name (for days: date) order."""
    rows = connection.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = %s::regclass ORDER BY c.relname",
        (table,),
    ).fetchall()
    return [row[0] for row in rows]


def _add_constraint(table: str, name: str, definition: str) -> sql.Composed:
    return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
        sql.Identifier(table), sql.Identifier(name), sql.SQL(definition)
    )


def _partition_statements(partition: str, table: str, found: Definitions) -> list[Statement]:
    """A partition's share of the rebuild, named as PostgreSQL names a partition's copies."""
    statements: list[Statement] = []
    for parent, name, definition in found.primary_keys:
        if parent == table:
            suffix = "pkey" if definition.startswith("PRIMARY KEY") else name
            statements.append(_add_constraint(partition, f"{partition}_{suffix}", definition))
    for parent, _, definition in found.indexes:
        match = _INDEX.match(definition)
        if parent == table and match:
            statements.append(
                sql.SQL("CREATE {}INDEX ON {} {}").format(
                    sql.SQL(match.group(1) or ""),
                    sql.Identifier(partition),
                    sql.SQL(match.group(2)),
                )
            )
    for parent, name, definition in found.foreign_keys:
        if parent == table:
            statements.append(_add_constraint(partition, name, definition + " NOT VALID"))
            statements.append(
                sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
                    sql.Identifier(partition), sql.Identifier(name)
                )
            )
    return statements


def _parent_statements(found: Definitions, partitioned: set[str]) -> list[Statement]:
    """The parents' keys, indexes and foreign keys: on a partitioned table they attach what
    the partitions already have; on a plain one they build and validate."""
    statements: list[Statement] = [
        _add_constraint(table, name, definition) for table, name, definition in found.primary_keys
    ]
    statements += [sql.SQL(d.replace(" ON ONLY ", " ON ")) for _, _, d in found.indexes]
    for table, name, definition in found.foreign_keys:
        if table in partitioned:
            statements.append(_add_constraint(table, name, definition))
        else:
            statements.append(_add_constraint(table, name, definition + " NOT VALID"))
            statements.append(
                sql.SQL("ALTER TABLE {} VALIDATE CONSTRAINT {}").format(
                    sql.Identifier(table), sql.Identifier(name)
                )
            )
    return statements


def rebuild(conninfo: str, found: Definitions, workers: int | None = None) -> dict[str, float]:
    """Each partition's key and foreign keys, the partitions in parallel; then the parents.
    The seconds of the two phases."""
    started = time.perf_counter()
    with psycopg.connect(conninfo) as connection:
        by_table = {table: partitions_of(connection, table) for table in TABLES}
        partitioned = {
            row[0]
            for row in connection.execute(
                "SELECT relname FROM pg_class WHERE relkind = 'p' AND relname = ANY(%s)",
                (list(TABLES),),
            )
        }
    tasks = [
        _partition_statements(partition, table, found)
        for table, names in by_table.items()
        for partition in names
    ]
    count = max(1, min(len(tasks), workers or os.cpu_count() or 1))

    def run(statements: list[Statement]) -> None:
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(f"SET maintenance_work_mem TO '{MAINTENANCE_WORK_MEM}'")
            if len(tasks) >= count > 1:
                # The partitions are the parallelism; workers per build would only queue.
                connection.execute("SET max_parallel_maintenance_workers TO 0")
            for statement in statements:
                connection.execute(statement)

    with ThreadPoolExecutor(max_workers=count) as pool:
        for future in [pool.submit(run, task) for task in tasks if task]:
            future.result()
    middle = time.perf_counter()
    run(_parent_statements(found, partitioned))
    return {"partitions": middle - started, "parents": time.perf_counter() - middle}


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
