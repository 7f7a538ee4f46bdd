"""One stream of generation: draw units and write them (COPY into PostgreSQL, or bytes).

A stream is a process of a ``multiprocessing`` pool (or the caller's own process when there
is one stream) with its own PostgreSQL connection. Each unit is written by two binary COPY
statements (watch logs while they are drawn, then their ad slots) and committed, so the
server parses one block while the next is drawn.
"""

from __future__ import annotations

from dataclasses import dataclass
from multiprocessing.util import Finalize
from typing import Any

import psycopg

from streamsettle.errors import StreamsettleError
from streamsettle.synthetic.formats import (
    COPY_HEADER,
    COPY_SLOTS,
    COPY_TRAILER,
    COPY_WATCH_LOGS,
    copy_binary,
    jsonl,
)
from streamsettle.synthetic.model import Tables, Unit, iter_unit


class StreamFailed(StreamsettleError):
    """A stream's database error as plain text (driver errors do not always survive
    pickling back from a worker process)."""


@dataclass(frozen=True)
class Written:
    logs: int
    slots: int


class CopyStream:
    """Writes units into PostgreSQL over one connection."""

    def __init__(self, tables: Tables, conninfo: str) -> None:
        self.tables = tables
        self.connection: psycopg.Connection[Any] = psycopg.connect(conninfo)
        # Losing the last commits on a server crash is fine for synthetic data.
        self.connection.execute("SET synchronous_commit TO off")
        self.connection.commit()

    def write(self, unit: Unit) -> Written:
        try:
            return self._write(unit)
        except psycopg.Error as exc:
            self.connection.rollback()
            where = f"day {unit.day_index + 1}, chunk {unit.chunk + 1}"
            raise StreamFailed(f"writing {where}: {type(exc).__name__}: {exc}") from None

    def _write(self, unit: Unit) -> Written:
        tables = self.tables
        slot_blocks: list[bytes] = []
        slot_count = 0
        with self.connection.cursor() as cursor:
            with cursor.copy(COPY_WATCH_LOGS) as copy:
                copy.write(COPY_HEADER)
                for rows in iter_unit(tables, unit):
                    logs, slots, count = copy_binary(tables, unit, rows)
                    copy.write(logs)
                    slot_blocks.append(slots)
                    slot_count += count
                copy.write(COPY_TRAILER)
            if slot_count:
                with cursor.copy(COPY_SLOTS) as copy:
                    copy.write(COPY_HEADER)
                    for block in slot_blocks:
                        copy.write(block)
                    copy.write(COPY_TRAILER)
        self.connection.commit()
        return Written(unit.count, slot_count)

    def close(self) -> None:
        self.connection.close()


def unit_jsonl(tables: Tables, unit: Unit) -> tuple[bytes, int]:
    """The unit's import lines and the number of slot positions they list."""
    parts = []
    slots = 0
    for rows in iter_unit(tables, unit):
        parts.append(jsonl(tables, unit, rows))
        slots += sum(max(0, row[12] - row[11] + 1) for row in rows)
    return b"".join(parts), slots


# -- the pool side: one stream per worker process --------------------------------------

_tables: Tables | None = None
_stream: CopyStream | None = None


def init_worker(tables: Tables, conninfo: str | None) -> None:
    global _tables, _stream
    _tables = tables
    _stream = CopyStream(tables, conninfo) if conninfo else None
    if _stream is not None:
        # Runs when the pool closes its workers normally (not on terminate).
        Finalize(_stream, _stream.close, exitpriority=10)


def copy_unit(unit: Unit) -> Written:
    assert _stream is not None, "init_worker was not called with a connection"
    return _stream.write(unit)


def jsonl_unit(unit: Unit) -> tuple[bytes, int]:
    assert _tables is not None, "init_worker was not called"
    return unit_jsonl(_tables, unit)
