"""One stream of generation: draw slices and write them (COPY into PostgreSQL, or bytes).

A stream is a process of a ``multiprocessing`` pool (or the caller's own process when there
is one stream) with its own PostgreSQL connection. A slice (consecutive units of one day)
is one binary ``COPY`` straight into the day's partition, so the server routes no tuple,
committed on its own. The data goes to the server from a writer thread, so each unit is
drawn and encoded while the server parses the previous one.

A slice that is a whole day, into a partition that is still empty, locks the partition,
empties it again in its transaction and copies ``FREEZE``: the rows are stored frozen and
their pages all-visible, so neither the key and foreign key builds nor a later vacuum
rewrites them. The few repeats that start after midnight are returned, not written: the
run writes them last (``write_next_day``), after the next day's own rows, which keeps
every partition in key order.

A ``COPY`` into a partition does not fire the statement trigger of the partitioned table
that marks already settled days for a re-run, so the stream marks the days it wrote the
same way in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from multiprocessing.util import Finalize
from typing import Any

import psycopg
from psycopg import sql
from psycopg.copy import QueuedLibpqWriter

from streamsettle.db.partitions import partition_name
from streamsettle.errors import StreamsettleError
from streamsettle.synthetic.formats import (
    COPY_HEADER,
    COPY_TRAILER,
    copy_binary,
    copy_statement,
    jsonl,
)
from streamsettle.synthetic.model import Tables, Unit, draw
from streamsettle.synthetic.plan import Slice

MARK_RERUN = """
INSERT INTO rerun_marks (business_date, version, marked_at)
SELECT d, 1, now() FROM unnest(%s::date[]) AS d
WHERE d <= (SELECT max(business_date) FROM batch_runs)
ORDER BY d
ON CONFLICT (business_date) DO UPDATE SET version = rerun_marks.version + 1
"""
"""What the ``watch_logs_mark_rerun`` trigger does for a statement that wrote these days."""


class StreamFailed(StreamsettleError):
    """A stream's database error as plain text (driver errors do not always survive
    pickling back from a worker process)."""


@dataclass(frozen=True)
class Written:
    logs: int
    slots: int
    next_day: tuple[tuple[int, int], bytes] | None = None
    """((day index, first chunk), COPY tuples) of the repeats that start on the next day."""


class CopyStream:
    """Writes slices into PostgreSQL over one connection."""

    def __init__(self, tables: Tables, conninfo: str) -> None:
        self.tables = tables
        self.connection: psycopg.Connection[Any] = psycopg.connect(conninfo)
        # Losing the last commits on a server crash is fine for synthetic data.
        self.connection.execute("SET synchronous_commit TO off")
        self.connection.commit()

    def write(self, piece: Slice) -> Written:
        try:
            return self._write(piece)
        except psycopg.Error as exc:
            self.connection.rollback()
            raise StreamFailed(f"writing {piece.describe()}: {type(exc).__name__}: {exc}") from None

    def _write(self, piece: Slice) -> Written:
        tables = self.tables
        day = date.fromisoformat(tables.days[piece.day_index].iso)
        partition = partition_name(day)
        later: list[bytes] = []
        slots = 0
        with self.connection.cursor() as cursor:
            freeze = piece.whole_day and _claim_empty(cursor, partition)
            statement = copy_statement(partition, freeze=freeze)
            with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
                copy.write(COPY_HEADER)
                for unit in piece.units:
                    rows = copy_binary(tables, unit, draw(tables, unit))
                    copy.write(rows.today.data)
                    if rows.next_day.size:
                        later.append(rows.next_day.tobytes())
                    slots += rows.slots
                copy.write(COPY_TRAILER)
            cursor.execute(MARK_RERUN, ([day],))
        self.connection.commit()
        key = (piece.day_index, piece.units[0].chunk)
        return Written(piece.count, slots, (key, b"".join(later)) if later else None)

    def write_next_day(self, blocks: list[tuple[tuple[int, int], bytes]]) -> None:
        """The repeats that start on the next day, into its partition, in key order."""
        by_day: dict[int, list[bytes]] = {}
        for (day_index, _), block in sorted(blocks):
            by_day.setdefault(day_index + 1, []).append(block)
        days = [
            date.fromisoformat(self.tables.days[index - 1].iso) + timedelta(days=1)
            for index in by_day
        ]
        try:
            with self.connection.cursor() as cursor:
                for day, parts in zip(days, by_day.values(), strict=True):
                    with cursor.copy(copy_statement(partition_name(day))) as copy:
                        copy.write(COPY_HEADER)
                        for part in parts:
                            copy.write(part)
                        copy.write(COPY_TRAILER)
                cursor.execute(MARK_RERUN, (days,))
            self.connection.commit()
        except psycopg.Error as exc:
            self.connection.rollback()
            raise StreamFailed(
                f"writing the repeats after midnight: {type(exc).__name__}: {exc}"
            ) from None

    def close(self) -> None:
        self.connection.close()


def _claim_empty(cursor: psycopg.Cursor[Any], partition: str) -> bool:
    """Lock ``partition`` and, if it holds no row, empty it in this transaction, which lets
    ``COPY … FREEZE`` into it; whether it did."""
    name = sql.Identifier(partition)
    cursor.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(name))
    cursor.execute(sql.SQL("SELECT EXISTS (SELECT FROM {})").format(name))
    found = cursor.fetchone()
    if found is None or found[0]:
        return False
    cursor.execute(sql.SQL("TRUNCATE {}").format(name))
    return True


def unit_jsonl(tables: Tables, unit: Unit) -> tuple[bytes, int]:
    """The unit's import lines and the number of slot positions they list."""
    drawn = draw(tables, unit)
    return jsonl(tables, unit, drawn), int(drawn.slot_counts.sum())


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


def copy_slice(piece: Slice) -> Written:
    assert _stream is not None, "init_worker was not called with a connection"
    return _stream.write(piece)


def jsonl_unit(unit: Unit) -> tuple[bytes, int]:
    assert _tables is not None, "init_worker was not called"
    return unit_jsonl(_tables, unit)
