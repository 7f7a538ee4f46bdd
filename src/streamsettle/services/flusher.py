"""The flusher: ended live sessions become watch logs (product.md 2, 3.7).

Each batch is: claim (the store closes the sessions and leases them, atomically), write
(one transaction: multi-row ``INSERT … ON CONFLICT (session_id) DO NOTHING`` of the watch
logs, their reached ad slots, and the viewers' resume positions), then release (delete from
the store). A crash after the commit leaves the sessions leased in the store; after the
lease a flusher claims them again, the insert writes nothing new, and they are released.
So several flushers may run at once: leases keep them off each other's batches and the
idempotent insert makes any overlap harmless.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from prometheus_client import Counter, Gauge
from sqlalchemy import Table
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from streamsettle.db.models import WatchLog, WatchLogAdSlot
from streamsettle.logging import get_logger
from streamsettle.runtime import Runtime
from streamsettle.services.playback import session_store
from streamsettle.services.resume import LeftAt, record_positions
from streamsettle.sessions import LiveSession
from streamsettle.sessions.db_store import datetime_to_ms, ms_to_datetime

log = get_logger(__name__)

LEASE_MS = 60_000
"""How long a claimed batch is kept off other flushers (a crashed flusher's batch waits)."""

CRASH_AFTER_COMMIT_ENV = "STREAMSETTLE_TEST_FLUSHER_EXIT_AFTER_COMMIT"
"""Test hook: when set, the process exits right after a batch's commit, before the release."""

FLUSHED = Counter(
    "streamsettle_flushed_sessions_total", "Playback sessions moved from the store to watch logs"
)
LIVE_SESSIONS = Gauge(
    "streamsettle_live_sessions", "Playback sessions held by the store (live or awaiting flush)"
)

_WATCH_LOGS: Table = WatchLog.__table__  # type: ignore[assignment]
_AD_SLOTS: Table = WatchLogAdSlot.__table__  # type: ignore[assignment]


def _seconds(ms: int) -> Decimal:
    return Decimal(ms).scaleb(-3)


def _log_row(s: LiveSession) -> dict[str, Any]:
    ended_ms = s.ended_at_ms if s.ended_at_ms is not None else s.progress.at_ms
    return {
        "session_id": s.session_id,
        "business_date": s.business_date,
        "video_id": s.video_id,
        "viewer_id": s.viewer_id,
        "ip": s.ip,
        "user_agent": s.user_agent,
        "started_at": ms_to_datetime(s.started_at_ms),
        "ended_at": ms_to_datetime(max(ended_ms, s.started_at_ms)),
        "start_position_seconds": _seconds(s.start_position_ms),
        "end_position_seconds": _seconds(s.progress.position_ms),
        "watched_seconds": s.progress.watched_ms // 1000,
    }


def write_watch_logs(runtime: Runtime, sessions: Sequence[LiveSession]) -> int:
    """Store the sessions' watch logs in one transaction; how many were new."""
    if not sessions:
        return 0
    insert = sqlite_insert if runtime.db.is_sqlite else pg_insert
    logs = [_log_row(s) for s in sessions]
    with runtime.db.session() as session:
        connection = session.connection()
        stmt = (
            insert(_WATCH_LOGS)
            .on_conflict_do_nothing(index_elements=["session_id"])
            .returning(_WATCH_LOGS.c.session_id)
        )
        inserted = set(connection.execute(stmt, logs).scalars())
        hits = [
            {"session_id": s.session_id, "position_seconds": position, "ad_id": ad}
            for s in sessions
            if s.session_id in inserted
            for position, ad in s.ad_slots
            if position in s.progress.slots_reached
        ]
        if hits:
            connection.execute(insert(_AD_SLOTS).on_conflict_do_nothing(), hits)
        record_positions(
            connection,
            (
                LeftAt(r["viewer_id"], r["video_id"], r["end_position_seconds"], r["ended_at"])
                for r in logs
                if r["viewer_id"] is not None
            ),
        )
    return len(inserted)


def _write_isolating_failures(runtime: Runtime, batch: list[LiveSession]) -> list[LiveSession]:
    """Write the batch; if the database refuses it, write session by session so that one
    bad session (say, its video was deleted) does not hold back the others. The refused
    ones stay claimed in the store, are logged, and are tried again after their lease."""
    try:
        write_watch_logs(runtime, batch)
        return batch
    except IntegrityError:
        log.warning("flush batch refused; writing its sessions one by one", size=len(batch))
    written = []
    for session in batch:
        try:
            write_watch_logs(runtime, [session])
            written.append(session)
        except IntegrityError as exc:
            log.error(
                "playback session refused by the database; kept for a later flush",
                session_id=str(session.session_id),
                error=str(exc.orig),
            )
    return written


def _drain(runtime: Runtime, claim: Callable[[], list[LiveSession]]) -> int:
    store = session_store(runtime)
    total = 0
    while True:
        batch = claim()
        if not batch:
            break
        batch = _write_isolating_failures(runtime, batch)
        if os.environ.get(CRASH_AFTER_COMMIT_ENV):
            os._exit(75)
        store.release(batch)
        total += len(batch)
        FLUSHED.inc(len(batch))
    LIVE_SESSIONS.set(store.live_count())
    return total


def _now_ms(now: datetime | None) -> int:
    return datetime_to_ms(now or datetime.now(UTC))


def flush_once(runtime: Runtime, now: datetime | None = None) -> int:
    """Move every stopped session and every session idle longer than the timeout (ending
    at its last accepted report) to watch logs, in batches; how many were moved."""
    now_ms = _now_ms(now)
    settings = runtime.settings
    idle_before_ms = now_ms - settings.session_idle_timeout_seconds * 1000
    store = session_store(runtime)
    return _drain(
        runtime,
        lambda: store.claim_due(
            now_ms=now_ms,
            idle_before_ms=idle_before_ms,
            lease_ms=LEASE_MS,
            limit=settings.flusher_batch_size,
        ),
    )


def close_and_flush_day(runtime: Runtime, day: date, now: datetime | None = None) -> int:
    """Close every live session that started on business date ``day`` (idle or not, each
    ending at its last accepted report) and flush it; the batch's first step."""
    now_ms = _now_ms(now)
    store = session_store(runtime)
    return _drain(
        runtime,
        lambda: store.claim_day(
            day, now_ms=now_ms, lease_ms=LEASE_MS, limit=runtime.settings.flusher_batch_size
        ),
    )
