"""The columnar copy of the watch logs: each day's logs also stored as Arrow blocks.

The batch's columnar engines need a whole day's logs as Arrow. Read out of the table row by
row that costs the server and the client seconds per million logs; read from blocks it
costs a few hundred milliseconds. The one watch-log writer stores, in the transaction that
inserts the logs, one block per business day holding exactly the logs that were new (the
rule columns: ``BLOCK_SCHEMA``), so a block commits or rolls back with its rows. Blocks are
a copy, never the record: the reader uses a day's blocks only when their rows add up to the
day's logs counted in the same snapshot, and otherwise reads the table.

What keeps "as many rows" meaning "the same rows": logs are inserted once and never
changed; a ``DELETE`` or ``UPDATE`` of watch logs removes the blocks of the days it touched
(PostgreSQL triggers of the migration that made ``watch_log_blocks``); archiving a day
drops its blocks with its partition.

Small blocks (a flush every few seconds writes a few hundred logs; ``SMALL_BLOCK_ROWS``,
declared with the table and its partial index in ``db/models/playback.py``) are merged by
``compact``: reading one block has a fixed cost, so a day is kept to a few hundred blocks.
"""

from __future__ import annotations

import ipaddress
import socket
import uuid
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from itertools import pairwise

import numpy as np
import pyarrow as pa
from sqlalchemy import Connection, Date, Integer, LargeBinary, Uuid, bindparam, text

from streamsettle.db.models.playback import SMALL_BLOCK

BLOCK_SCHEMA = pa.schema(
    [
        ("session_id", pa.binary(16)),
        ("video_id", pa.int32()),
        ("viewer_id", pa.int32()),
        ("ip", pa.binary()),
        ("started_at", pa.timestamp("us", tz="UTC")),
        ("watched_seconds", pa.int32()),
        ("ad_ids", pa.list_(pa.int32())),
    ]
)
"""A block's columns: the uuid's 16 bytes, the address in PostgreSQL's binary ``inet`` form
(what the table's binary COPY sends), the start in UTC, the ad of each reached slot."""

MERGE_AT = 16
"""A day's small blocks are merged once there are this many."""
MERGE_LIMIT = 1_000
"""Small blocks merged by one transaction."""

# PostgreSQL's address families in the binary form of inet (PGSQL_AF_INET, PGSQL_AF_INET6),
# by IP version.
_FAMILY = {4: 2, 6: 3}


def _inet_header(version: int, prefix: int, length: int) -> bytes:
    """Family, prefix bits, is-cidr (0: an inet), address length."""
    return bytes((_FAMILY[version], prefix, 0, length))


_HOST = {socket.AF_INET: _inet_header(4, 32, 4), socket.AF_INET6: _inet_header(6, 128, 16)}


def inet_bytes(address: str) -> bytes:
    """``address`` (``1.2.3.4``, ``::1``, ``10.0.0.1/24``) as PostgreSQL sends an ``inet``
    in binary: family, prefix bits, is-cidr (0), address length, address."""
    if "/" not in address:  # a host address (every stored log's): the C parser, 50x faster
        for family, header in _HOST.items():
            try:
                return header + socket.inet_pton(family, address)
            except OSError:
                continue
    interface = ipaddress.ip_interface(address)
    packed = interface.ip.packed
    return _inet_header(interface.version, interface.network.prefixlen, len(packed)) + packed


LogColumns = tuple[str, int, int | None, str, datetime, int, Sequence[int | None] | None]
"""One log's block columns: session id (text), video, viewer, address, start, watched
seconds, the ad of each reached slot (None when no slot was reached)."""


def block_table(logs: Sequence[LogColumns]) -> pa.Table:
    """The block of ``logs``."""
    columns = list(zip(*logs, strict=True)) if logs else [()] * len(BLOCK_SCHEMA)
    session_ids, videos, viewers, ips, starts, watched, ads = columns
    return pa.Table.from_arrays(
        [
            pa.array([_uuid_bytes(s) for s in session_ids], BLOCK_SCHEMA.field(0).type),
            pa.array(videos, pa.int32()),
            pa.array(viewers, pa.int32()),
            pa.array([inet_bytes(ip) for ip in ips], pa.binary()),
            pa.array(starts, BLOCK_SCHEMA.field(4).type),
            pa.array(watched, pa.int32()),
            pa.array(ads, BLOCK_SCHEMA.field(6).type),
        ],
        schema=BLOCK_SCHEMA,
    )


def _uuid_bytes(session_id: str) -> bytes:
    """A canonical uuid's 16 bytes (``bytes.fromhex``: a tenth of ``uuid.UUID``'s cost)."""
    return bytes.fromhex(session_id.replace("-", ""))


def encode(table: pa.Table) -> bytes:
    """An Arrow IPC stream, uncompressed: decoding is then a copy (the logs' ids and
    addresses barely compress)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, BLOCK_SCHEMA) as writer:
        writer.write_table(table.cast(BLOCK_SCHEMA))
    return bytes(sink.getvalue().to_pybytes())


def decode(blocks: Sequence[pa.Buffer | bytes]) -> pa.Table:
    """The logs of ``blocks`` in one table (``BLOCK_SCHEMA``)."""
    tables = [pa.ipc.open_stream(block).read_all() for block in blocks]
    return pa.concat_tables(tables) if tables else BLOCK_SCHEMA.empty_table()


def values(column: pa.ChunkedArray) -> list[pa.Buffer]:
    """The values of a binary column (the ``data`` of blocks read as Arrow), each a slice of
    the column's buffer: no copy, and none of the per-value scalars that indexing a chunk
    builds (milliseconds each, seconds a day)."""
    if column.null_count:
        raise ValueError("a block's data is never null")
    offset_type = np.int64 if pa.types.is_large_binary(column.type) else np.int32
    slices: list[pa.Buffer] = []
    for chunk in column.chunks:
        _, offsets, data = chunk.buffers()
        bounds = np.frombuffer(
            offsets, offset_type, len(chunk) + 1, chunk.offset * offset_type().itemsize
        )
        slices.extend(data.slice(int(a), int(b - a)) for a, b in pairwise(bounds))
    return slices


_INSERT = text(
    "INSERT INTO watch_log_blocks (business_date, block_id, rows, data)"
    " VALUES (:day, :block_id, :rows, :data)"
).bindparams(
    bindparam("day", type_=Date()),
    bindparam("block_id", type_=Uuid()),
    bindparam("rows", type_=Integer()),
    bindparam("data", type_=LargeBinary()),
)


def insert(connection: Connection, blocks: Mapping[date, pa.Table]) -> None:
    """Store one block per day of ``blocks`` in the caller's transaction."""
    rows = [
        {"day": day, "block_id": uuid.uuid4(), "rows": table.num_rows, "data": encode(table)}
        for day, table in sorted(blocks.items())
        if table.num_rows
    ]
    if rows:
        connection.execute(_INSERT, rows)


_DAYS_TO_COMPACT = text(
    f"SELECT business_date FROM watch_log_blocks WHERE {SMALL_BLOCK}"  # noqa: S608
    " GROUP BY business_date HAVING count(*) >= :merge_at ORDER BY business_date"
)
_TAKE_SMALL = text(
    f"""DELETE FROM watch_log_blocks WHERE (business_date, block_id) IN (
        SELECT business_date, block_id FROM watch_log_blocks
        WHERE business_date = :day AND {SMALL_BLOCK}
        LIMIT :limit FOR UPDATE SKIP LOCKED)
    RETURNING data"""  # noqa: S608
).bindparams(bindparam("day", type_=Date()))


def days_to_compact(connection: Connection, merge_at: int = MERGE_AT) -> list[date]:
    """The days holding at least ``merge_at`` small blocks."""
    rows = connection.execute(_DAYS_TO_COMPACT, {"merge_at": merge_at})
    return [row[0] for row in rows]


def compact(connection: Connection, day: date) -> int:
    """Merge up to ``MERGE_LIMIT`` of ``day``'s small blocks into one, in the caller's
    transaction (blocks another transaction is merging are skipped); blocks merged."""
    taken = connection.execute(_TAKE_SMALL, {"day": day, "limit": MERGE_LIMIT}).scalars()
    data = list(taken)
    if data:
        insert(connection, {day: decode(data)})
    return len(data)
