"""The flusher: ended live sessions become watch logs (docs/rules.md, 3.7).

Each batch is: claim (the store closes the sessions and leases them, atomically), write
(one transaction through the one watch-log writer, ``watch_log_writer``: the new watch
logs, their reached ad slots and the viewers' resume positions, and the sessions'
checkpoints deleted), then release (delete from the store). A crash after the commit
leaves the sessions leased in the store; after the lease a flusher claims them again, the
insert writes nothing new, and they are released. So several flushers may run at once:
leases keep them off each other's batches and the idempotent insert makes any overlap
harmless. ``write_sessions`` also stores a stop's watch log before the stop is answered
(``services.ingest.playback``); the flusher then only releases it.

Each pass also checkpoints the live sessions a store that can lose them (Redis) changed
since the previous pass into ``playback_checkpoints``, and flushes the checkpointed sessions
the store no longer holds, ending at their last checkpoint: at once when the store reports
it lost its data, otherwise once their checkpoint is older than the idle timeout plus a
lease (a failover that lost a few sessions). Writing a watch log deletes its checkpoint.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import ColumnElement, Table, and_, delete, or_, select
from sqlalchemy.exc import IntegrityError

from streamsettle import faults
from streamsettle.db import log_blocks
from streamsettle.db.models import PlaybackCheckpoint
from streamsettle.logging import get_logger
from streamsettle.runtime import Runtime
from streamsettle.services.ingest.watch_log_lines import WatchLogRow
from streamsettle.services.ingest.watch_log_writer import write_watch_logs
from streamsettle.sessions import LiveSession, SessionState
from streamsettle.sessions.codec import (
    datetime_to_ms,
    ms_to_datetime,
    stored_columns,
    stored_session,
)

log = get_logger(__name__)

LEASE_MS = 60_000
"""How long a claimed batch is kept off other flushers (a crashed flusher's batch waits)."""

FLUSHED = Counter(
    "streamsettle_flushed_sessions_total", "Playback sessions moved from the store to watch logs"
)
LIVE_SESSIONS = Gauge(
    "streamsettle_live_sessions", "Playback sessions held by the store (live or awaiting flush)"
)
CHECKPOINTED = Counter(
    "streamsettle_checkpointed_sessions_total",
    "Live playback sessions copied from Redis to the database by the flusher",
)
RECOVERED = Counter(
    "streamsettle_recovered_sessions_total",
    "Watch logs written from checkpoints of sessions the store had lost",
)

_CHECKPOINTS: Table = PlaybackCheckpoint.__table__  # type: ignore[assignment]


def _row(s: LiveSession) -> WatchLogRow:
    """The ended session's watch log: it ends at its last report (never before its start)."""
    ended_ms = s.ended_at_ms if s.ended_at_ms is not None else s.progress.at_ms
    reached = s.progress.slots_reached
    return WatchLogRow(
        number=0,
        session_id=str(s.session_id),
        video_id=s.video_id,
        viewer_id=s.viewer_id,
        ip=s.ip,
        user_agent=s.user_agent,
        started_at=ms_to_datetime(s.started_at_ms),
        ended_at=ms_to_datetime(max(ended_ms, s.started_at_ms)),
        business_date=s.business_date,
        start_position_ms=s.start_position_ms,
        end_position_ms=s.progress.position_ms,
        watched_seconds=s.progress.watched_ms // 1000,
        slots=tuple(position for position, _ad in s.ad_slots if position in reached),
    )


def write_sessions(runtime: Runtime, sessions: Sequence[LiveSession]) -> int:
    """Store the sessions' watch logs and drop their checkpoints, in one transaction; how
    many watch logs were new."""
    if not sessions:
        return 0
    ads = {str(s.session_id): dict(s.ad_slots) for s in sessions}
    with runtime.db.session() as session:
        connection = session.connection()
        new = write_watch_logs(
            connection, [_row(s) for s in sessions], lambda row, at: ads[row.session_id][at]
        )
        connection.execute(
            delete(_CHECKPOINTS).where(
                _CHECKPOINTS.c.session_id.in_([s.session_id for s in sessions])
            )
        )
    return new


def _checkpoint_row(s: LiveSession, now: datetime) -> dict[str, Any]:
    return {
        "session_id": s.session_id,
        "business_date": s.business_date,
        **stored_columns(s),
        "checkpointed_at": now,
    }


def _from_checkpoint(row: PlaybackCheckpoint) -> LiveSession:
    """The session as checkpointed, live: its watch log ends at its last checkpoint."""
    return stored_session(row, row.session_id, row.business_date)


def write_checkpoints(runtime: Runtime, sessions: Sequence[LiveSession], now: datetime) -> None:
    """Upsert the sessions' checkpoints; a newer checkpoint is never replaced by an older."""
    if not sessions:
        return
    insert = runtime.db.insert
    upsert = insert(_CHECKPOINTS)
    progress = ("position_ms", "at_ms", "watched_ms", "last_seq", "slots_reached")
    with runtime.db.session() as session:
        session.connection().execute(
            upsert.on_conflict_do_update(
                index_elements=["session_id"],
                set_={c: upsert.excluded[c] for c in (*progress, "checkpointed_at")},
                where=_CHECKPOINTS.c.last_seq < upsert.excluded.last_seq,
            ),
            [_checkpoint_row(s, now) for s in sessions],
        )


def checkpoint(runtime: Runtime, now: datetime | None = None) -> int:
    """Copy the live sessions changed since the last pass to the database; how many."""
    moment = now or datetime.now(UTC)
    store = runtime.sessions
    limit = runtime.settings.flusher_batch_size
    total = 0
    while True:
        changed = store.take_changed(limit)
        live = sorted(  # one lock order for concurrent flushers
            (s for s in changed if s.state is SessionState.LIVE), key=lambda s: s.session_id
        )
        write_checkpoints(runtime, live, moment)
        total += len(live)
        if len(changed) < limit:  # the set was emptied (it refills while we write)
            break
    CHECKPOINTED.inc(total)
    return total


def recover_lost(runtime: Runtime, where: ColumnElement[bool] | None = None) -> int:
    """Write the watch logs of checkpointed sessions (those matching ``where``) that the store
    no longer holds, each ending at its last checkpoint; how many watch logs were new.

    A session the store does not hold never comes back (ids are not reused): it was either
    lost or released after its watch log was committed, when the write is a no-op.
    """
    store = runtime.sessions
    batch = runtime.settings.flusher_batch_size
    order = (_CHECKPOINTS.c.checkpointed_at, _CHECKPOINTS.c.session_id)
    after: tuple[datetime, Any] | None = None
    written = 0
    while True:
        query = select(PlaybackCheckpoint).order_by(*order).limit(batch)
        if where is not None:
            query = query.where(where)
        if after is not None:
            query = query.where(
                or_(order[0] > after[0], and_(order[0] == after[0], order[1] > after[1]))
            )
        with runtime.db.session() as session:
            rows = session.scalars(query).all()
            sessions = [_from_checkpoint(row) for row in rows]
            if rows:
                after = (rows[-1].checkpointed_at, rows[-1].session_id)
        if not sessions:
            break
        held = store.holding([s.session_id for s in sessions])
        lost = [s for s in sessions if s.session_id not in held]
        if lost:
            _, new = _write_isolating_failures(runtime, lost)
            written += new
            if new:
                log.warning("playback sessions recovered from their checkpoints", count=new)
        if len(rows) < batch:
            break
    RECOVERED.inc(written)
    return written


def _write_isolating_failures(
    runtime: Runtime, batch: list[LiveSession]
) -> tuple[list[LiveSession], int]:
    """Write the batch; if the database refuses it, write session by session so that one
    bad session (say, its video was deleted) does not hold back the others. The refused
    ones are logged and kept (claimed in the store, or checkpointed) for a later try.
    The sessions written, and how many of their watch logs were new."""
    try:
        return batch, write_sessions(runtime, batch)
    except IntegrityError:
        log.warning("flush batch refused; writing its sessions one by one", size=len(batch))
    written = []
    new = 0
    for session in batch:
        try:
            new += write_sessions(runtime, [session])
            written.append(session)
        except IntegrityError as exc:
            log.error(
                "playback session refused by the database; kept for a later flush",
                session_id=str(session.session_id),
                error=str(exc.orig),
            )
    return written, new


def _drain(runtime: Runtime, claim: Callable[[], list[LiveSession]]) -> int:
    store = runtime.sessions
    total = 0
    while True:
        batch = claim()
        if not batch:
            break
        batch, _ = _write_isolating_failures(runtime, batch)
        faults.reached(faults.FLUSHER_AFTER_COMMIT)
        store.release(batch)
        total += len(batch)
        FLUSHED.inc(len(batch))
    LIVE_SESSIONS.set(store.live_count())
    return total


def _now_ms(now: datetime | None) -> int:
    return datetime_to_ms(now or datetime.now(UTC))


def flush_once(runtime: Runtime, now: datetime | None = None) -> int:
    """One pass: recover what a store that lost its data held, checkpoint the changed live
    sessions, move every stopped session and every session idle longer than the timeout
    (ending at its last accepted report) to watch logs, in batches, and recover sessions
    lost otherwise; how many sessions were moved or recovered."""
    now_ms = _now_ms(now)
    moment = ms_to_datetime(now_ms)
    settings = runtime.settings
    idle_ms = settings.session_idle_timeout_seconds * 1000
    store = runtime.sessions
    recovered = recover_lost(runtime) if store.lost_data() else 0
    checkpoint(runtime, moment)
    moved = _drain(
        runtime,
        lambda: store.claim_due(
            now_ms=now_ms,
            idle_before_ms=now_ms - idle_ms,
            lease_ms=LEASE_MS,
            limit=settings.flusher_batch_size,
        ),
    )
    stale = ms_to_datetime(now_ms - idle_ms - LEASE_MS)
    recovered += recover_lost(runtime, _CHECKPOINTS.c.checkpointed_at <= stale)
    compact_blocks(runtime)
    return moved + recovered


def compact_blocks(runtime: Runtime, day: date | None = None) -> int:
    """Merge the small columnar blocks of the days that have many (of ``day`` only: all
    its small blocks), each merge in its own transaction; how many blocks were merged."""
    if runtime.db.is_sqlite:  # only PostgreSQL's writer stores blocks
        return 0
    with runtime.db.engine.connect() as conn:
        days = log_blocks.days_to_compact(conn, merge_at=2 if day else log_blocks.MERGE_AT)
    merged = 0
    for each in days if day is None else [d for d in days if d == day]:
        while True:
            with runtime.db.engine.begin() as conn:
                taken = log_blocks.compact(conn, each)
            merged += taken
            if taken < log_blocks.MERGE_LIMIT:
                break
    return merged


def close_and_flush_day(runtime: Runtime, day: date, now: datetime | None = None) -> int:
    """Close every live session that started on business date ``day`` (idle or not, each
    ending at its last accepted report) and flush it, and the day's checkpointed sessions
    the store lost (each ending at its checkpoint); the batch's first step."""
    now_ms = _now_ms(now)
    store = runtime.sessions
    moved = _drain(
        runtime,
        lambda: store.claim_day(
            day, now_ms=now_ms, lease_ms=LEASE_MS, limit=runtime.settings.flusher_batch_size
        ),
    )
    moved += recover_lost(runtime, _CHECKPOINTS.c.business_date == day)
    compact_blocks(runtime, day)
    return moved
