"""The one writer of watch logs, the central fact: the flusher (ended live sessions, and a
stop before it is answered) and the import (historical lines) both write through here.

A batch is written inside the caller's transaction, and has one effect on either database:
the watch logs that are new are inserted (a session stored before is a duplicate and
changes nothing, so every write can be retried), each with its reached ad slots and the ad
that filled each, the user agents new to the dictionary, and the viewers' resume positions
(moved only to a later ``ended_at``). How many watch logs were new is returned.

- PostgreSQL: the day partitions are made sure of, then ``COPY`` into a temporary table and
  one statement that inserts what is new and reports it (``INSERT … ON CONFLICT DO NOTHING
  RETURNING`` feeding the resume positions). Rows go in session id order, so two writers
  that share new ids lock them in the same order and cannot deadlock on each other. The
  new logs are also stored as one columnar block per day (``db/log_blocks.py``), in the
  same transaction.
- Portable (SQLite): ``INSERT … ON CONFLICT DO NOTHING RETURNING`` through SQLAlchemy, then
  the resume positions of the rows it returned.

Driver errors of the ``COPY`` path are raised as SQLAlchemy's (``IntegrityError``,
``OperationalError``, …), like those of the portable path, so callers handle one kind.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal

import psycopg
from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import DBAPIError

from streamsettle.db import log_blocks, partitions
from streamsettle.db.engine import insert_on_conflict
from streamsettle.db.models import UserAgent, WatchLog
from streamsettle.services.ingest.resume import LeftAt, record_positions
from streamsettle.services.ingest.watch_log_lines import NULL, WatchLogRow

AdOf = Callable[[WatchLogRow, int], int | None]
"""The ad placed in a reached slot (row, position seconds) -> ad id, None for an empty slot."""

_WATCH_LOGS: Table = WatchLog.__table__  # type: ignore[assignment]
_USER_AGENTS: Table = UserAgent.__table__  # type: ignore[assignment]


def write_watch_logs(connection: Connection, rows: Sequence[WatchLogRow], ad_of: AdOf) -> int:
    """Insert the new watch logs of ``rows`` (unique session ids) with their reached slots
    and resume positions, in the caller's transaction; how many were new."""
    if not rows:
        return 0
    if connection.dialect.name == "postgresql":
        try:
            partitions.ensure_days(connection, {row.business_date for row in rows})
            return _copy_write(connection, rows, ad_of)
        except psycopg.Error as exc:
            raise DBAPIError.instance(None, None, exc, psycopg.Error) from exc
    return _portable_write(connection, rows, ad_of)


_PG_CREATE_TEMP = """
CREATE TEMP TABLE import_watch_logs (
    started_at timestamptz, ended_at timestamptz, session_id uuid, business_date date,
    video_id integer, viewer_id integer, user_agent text, start_position_ms integer,
    end_position_ms integer, watched_seconds integer, ip inet, ad_positions integer[],
    ad_ids integer[]
) ON COMMIT DROP
"""
_PG_COPY_LOGS = "COPY import_watch_logs FROM STDIN"
_PG_USER_AGENTS = """
INSERT INTO user_agents (user_agent)
SELECT DISTINCT i.user_agent FROM import_watch_logs AS i
WHERE NOT EXISTS (SELECT FROM user_agents AS u WHERE u.user_agent = i.user_agent)
ORDER BY 1
ON CONFLICT (user_agent) DO NOTHING
"""
_PG_INSERT = """
WITH ins AS (
    INSERT INTO watch_logs (started_at, ended_at, session_id, business_date, video_id,
                            viewer_id, user_agent_id, start_position_ms, end_position_ms,
                            watched_seconds, ip, ad_positions, ad_ids)
    SELECT i.started_at, i.ended_at, i.session_id, i.business_date, i.video_id, i.viewer_id,
           u.id, i.start_position_ms, i.end_position_ms, i.watched_seconds, i.ip,
           i.ad_positions, i.ad_ids
    FROM import_watch_logs AS i JOIN user_agents AS u ON u.user_agent = i.user_agent
    ORDER BY i.session_id
    ON CONFLICT (session_id, business_date) DO NOTHING
    RETURNING session_id, viewer_id, video_id, end_position_ms, ended_at
), resume AS (
    INSERT INTO resume_positions (viewer_id, video_id, position_seconds, left_at)
    SELECT DISTINCT ON (viewer_id, video_id) viewer_id, video_id, end_position_ms / 1000.0,
           ended_at
    FROM ins WHERE viewer_id IS NOT NULL
    ORDER BY viewer_id, video_id, ended_at DESC
    ON CONFLICT (viewer_id, video_id) DO UPDATE
    SET position_seconds = EXCLUDED.position_seconds, left_at = EXCLUDED.left_at
    WHERE resume_positions.left_at < EXCLUDED.left_at
)
SELECT CAST(session_id AS text) FROM ins
"""


def _pg_array(values: Sequence[int | None]) -> str:
    return "{" + ",".join("NULL" if v is None else str(v) for v in values) + "}"


def _copy_write(connection: Connection, rows: Sequence[WatchLogRow], ad_of: AdOf) -> int:
    driver = connection.connection.driver_connection
    assert driver is not None
    ordered = sorted(rows, key=lambda row: row.session_id)
    ads = [
        [ad_of(row, position) for position in row.slots] if row.slots else None for row in ordered
    ]
    lines = [
        row.copy_text(_pg_array(row.slots), _pg_array(row_ads))
        if row_ads is not None
        else row.copy_text(NULL, NULL)
        for row, row_ads in zip(ordered, ads, strict=True)
    ]
    with driver.cursor() as cur:
        cur.execute(_PG_CREATE_TEMP)
        with cur.copy(_PG_COPY_LOGS) as copy:
            copy.write("".join(lines))
        cur.execute(_PG_USER_AGENTS)
        cur.execute(_PG_INSERT)
        new = {session_id for (session_id,) in cur.fetchall()}
    by_day: dict[date, list[log_blocks.LogColumns]] = {}
    for row, row_ads in zip(ordered, ads, strict=True):
        if row.session_id in new:
            by_day.setdefault(row.business_date, []).append(
                (row.session_id, row.video_id, row.viewer_id, row.ip, row.started_at,
                 row.watched_seconds, row_ads)
            )  # fmt: skip
    log_blocks.insert(
        connection, {day: log_blocks.block_table(logs) for day, logs in by_day.items()}
    )
    return len(new)


_NAMES_PER_LOOKUP = 10_000
"""User agents per lookup: the bound parameters stay under SQLite's and PostgreSQL's limits
(a restored day brings all of its user agents at once)."""


def user_agent_ids(connection: Connection, names: set[str]) -> dict[str, int]:
    """The ``user_agents`` id of each of ``names``, adding those the dictionary lacks."""

    def known(wanted: list[str]) -> dict[str, int]:
        column = _USER_AGENTS.c.user_agent
        ids: dict[str, int] = {}
        for start in range(0, len(wanted), _NAMES_PER_LOOKUP):
            chunk = wanted[start : start + _NAMES_PER_LOOKUP]
            found = connection.execute(select(column, _USER_AGENTS.c.id).where(column.in_(chunk)))
            ids.update({name: id_ for name, id_ in found})
        return ids

    ids = known(sorted(names))
    missing = sorted(names - ids.keys())
    if missing:
        stmt = insert_on_conflict(_USER_AGENTS, connection.dialect.name).on_conflict_do_nothing()
        connection.execute(stmt, [{"user_agent": name} for name in missing])
        ids |= known(missing)
    return ids


def _portable_write(connection: Connection, rows: Sequence[WatchLogRow], ad_of: AdOf) -> int:
    agents = user_agent_ids(connection, {row.user_agent for row in rows})
    stmt = (
        insert_on_conflict(_WATCH_LOGS, connection.dialect.name)
        .on_conflict_do_nothing(index_elements=["session_id", "business_date"])
        .returning(_WATCH_LOGS.c.session_id)
    )
    values = [
        row.log_row(agents[row.user_agent], [ad_of(row, p) for p in row.slots]) for row in rows
    ]
    inserted = {str(sid) for sid in connection.execute(stmt, values).scalars()}
    new = [row for row in rows if row.session_id in inserted]
    record_positions(
        connection,
        (
            LeftAt(r.viewer_id, r.video_id, Decimal(r.end_position_ms).scaleb(-3), r.ended_at)
            for r in new
            if r.viewer_id is not None
        ),
    )
    return len(new)
