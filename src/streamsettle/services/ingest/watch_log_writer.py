"""The one writer of watch logs, the central fact: the flusher (ended live sessions, and a
stop before it is answered) and the import (historical lines) both write through here.

A batch is written inside the caller's transaction, and has one effect on either database:
the watch logs that are new are inserted (a session id stored before is a duplicate and
changes nothing, so every write can be retried), with the reached ad slots of the new ones
only and the viewers' resume positions (moved only to a later ``ended_at``). How many
watch logs were new is returned.

- PostgreSQL: ``COPY`` into temporary tables, then one statement that inserts what is new
  and reports it (``INSERT … ON CONFLICT (session_id) DO NOTHING RETURNING`` feeding the
  slots and the resume positions). Rows go in session id order, so two writers that share
  new ids lock them in the same order and cannot deadlock on each other.
- Portable (SQLite): ``INSERT … ON CONFLICT DO NOTHING RETURNING`` through SQLAlchemy,
  then the slots of the rows it returned and their resume positions.

Driver errors of the ``COPY`` path are raised as SQLAlchemy's (``IntegrityError``,
``OperationalError``, …), like those of the portable path, so callers handle one kind.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal

import psycopg
from sqlalchemy import Connection, Table
from sqlalchemy.exc import DBAPIError

from streamsettle.db.engine import insert_on_conflict
from streamsettle.db.models import WatchLog, WatchLogAdSlot
from streamsettle.services.ingest.resume import LeftAt, record_positions
from streamsettle.services.ingest.watch_log_lines import NULL, WatchLogRow

AdOf = Callable[[WatchLogRow, int], int | None]
"""The ad placed in a reached slot (row, position seconds) -> ad id, None for an empty slot."""

_WATCH_LOGS: Table = WatchLog.__table__  # type: ignore[assignment]
_AD_SLOTS: Table = WatchLogAdSlot.__table__  # type: ignore[assignment]


def write_watch_logs(connection: Connection, rows: Sequence[WatchLogRow], ad_of: AdOf) -> int:
    """Insert the new watch logs of ``rows`` (unique session ids) with their reached slots
    and resume positions, in the caller's transaction; how many were new."""
    if not rows:
        return 0
    if connection.dialect.name == "postgresql":
        try:
            return _copy_write(connection, rows, ad_of)
        except psycopg.Error as exc:
            raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
    return _portable_write(connection, rows, ad_of)


_PG_CREATE_TEMP = """
CREATE TEMP TABLE import_watch_logs ON COMMIT DROP AS
SELECT session_id, business_date, video_id, viewer_id, ip, user_agent, started_at, ended_at,
       start_position_seconds, end_position_seconds, watched_seconds
FROM watch_logs WITH NO DATA;
CREATE TEMP TABLE import_ad_slots ON COMMIT DROP AS
SELECT session_id, position_seconds, ad_id FROM watch_log_ad_slots WITH NO DATA
"""
_PG_COPY_LOGS = "COPY import_watch_logs FROM STDIN"
_PG_COPY_SLOTS = "COPY import_ad_slots FROM STDIN"
_PG_INSERT = """
WITH ins AS (
    INSERT INTO watch_logs (session_id, business_date, video_id, viewer_id, ip, user_agent,
                            started_at, ended_at, start_position_seconds,
                            end_position_seconds, watched_seconds)
    SELECT * FROM import_watch_logs
    ON CONFLICT (session_id) DO NOTHING
    RETURNING session_id, viewer_id, video_id, end_position_seconds, ended_at
), hits AS (
    INSERT INTO watch_log_ad_slots (session_id, position_seconds, ad_id)
    SELECT s.session_id, s.position_seconds, s.ad_id
    FROM import_ad_slots s JOIN ins USING (session_id)
), resume AS (
    INSERT INTO resume_positions (viewer_id, video_id, position_seconds, left_at)
    SELECT DISTINCT ON (viewer_id, video_id) viewer_id, video_id, end_position_seconds, ended_at
    FROM ins WHERE viewer_id IS NOT NULL
    ORDER BY viewer_id, video_id, ended_at DESC
    ON CONFLICT (viewer_id, video_id) DO UPDATE
    SET position_seconds = EXCLUDED.position_seconds, left_at = EXCLUDED.left_at
    WHERE resume_positions.left_at < EXCLUDED.left_at
)
SELECT count(*) FROM ins
"""


def _copy_write(connection: Connection, rows: Sequence[WatchLogRow], ad_of: AdOf) -> int:
    driver = connection.connection.driver_connection
    assert driver is not None
    rows = sorted(rows, key=lambda row: row.session_id)
    hits = []
    for row in rows:
        for position in row.slots:
            ad = ad_of(row, position)
            hits.append(f"{row.session_id}\t{position}\t{NULL if ad is None else ad}\n")
    with driver.cursor() as cur:
        cur.execute(_PG_CREATE_TEMP)
        with cur.copy(_PG_COPY_LOGS) as copy:
            copy.write("".join([row.copy_text() for row in rows]))
        with cur.copy(_PG_COPY_SLOTS) as copy:
            copy.write("".join(hits))
        cur.execute(_PG_INSERT)
        inserted = cur.fetchone()
        assert inserted is not None
        return int(inserted[0])


def _portable_write(connection: Connection, rows: Sequence[WatchLogRow], ad_of: AdOf) -> int:
    stmt = (
        insert_on_conflict(_WATCH_LOGS, connection.dialect.name)
        .on_conflict_do_nothing(index_elements=["session_id"])
        .returning(_WATCH_LOGS.c.session_id)
    )
    inserted = {str(sid) for sid in connection.execute(stmt, [r.log_row() for r in rows]).scalars()}
    new = [row for row in rows if row.session_id in inserted]
    hits = [
        {"session_id": uuid.UUID(row.session_id), "position_seconds": p, "ad_id": ad_of(row, p)}
        for row in new
        for p in row.slots
    ]
    if hits:
        connection.execute(_AD_SLOTS.insert(), hits)
    record_positions(
        connection,
        (
            LeftAt(r.viewer_id, r.video_id, Decimal(r.end_position_ms).scaleb(-3), r.ended_at)
            for r in new
            if r.viewer_id is not None
        ),
    )
    return len(new)
