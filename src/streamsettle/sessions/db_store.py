"""Live sessions in the database (the embedded mode, no Redis): ``live_playback_sessions``.

Each operation is one transaction that locks what it changes first: ``SELECT … FOR UPDATE``
on PostgreSQL; on SQLite a no-op ``UPDATE`` of the same rows as the first statement, which
takes the database's write lock up front (a read that later upgrades to a write could fail
with "database is locked" instead of waiting). The rules are the pure domain functions.

``last_seen_at`` is the time of the last accepted report while a session is live, and the
time from which a flusher may take it once it is stopped (the stop time, or a lease's end).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from streamsettle.db.engine import Database
from streamsettle.db.models import LivePlaybackSession as Row
from streamsettle.domain.periods import business_date, business_day_bounds
from streamsettle.domain.playback import Progress, apply_heartbeat, apply_stop
from streamsettle.sessions.base import (
    Limit,
    LiveSession,
    Report,
    ReportOutcome,
    ReportStatus,
    RevocationCheck,
    SessionState,
)
from streamsettle.sessions.codec import (
    datetime_to_ms,
    decode_slots,
    encode_reached,
    ms_to_datetime,
    stored_columns,
    stored_progress,
    stored_session,
)

Limiter = Callable[[Sequence[Limit], int], int]
"""``(limits, now_ms) -> retry_after_ms`` (0 when allowed); counts the report."""


class DatabaseSessionStore:
    def __init__(self, db: Database, tz: ZoneInfo, limiter: Limiter | None = None) -> None:
        self.db = db
        self.tz = tz
        self.limiter = limiter

    def _lock(self, session: Session, where: ColumnElement[bool]) -> None:
        if self.db.is_sqlite:
            session.execute(update(Row).where(where).values(state=Row.state))

    def _to_live(self, row: Row) -> LiveSession:
        ended = None if row.ended_at is None else datetime_to_ms(row.ended_at)
        started = business_date(row.started_at, self.tz)
        return stored_session(row, row.id, started, SessionState(row.state), ended)

    def create(self, session: LiveSession) -> None:
        with self.db.session() as s:
            s.add(
                Row(
                    id=session.session_id,
                    **stored_columns(session),
                    state=session.state.value,
                    last_seen_at=ms_to_datetime(session.progress.at_ms),
                    ended_at=None,
                )
            )

    def report(self, report: Report, *, limits: Sequence[Limit] = ()) -> ReportOutcome:
        if limits and self.limiter is not None:
            retry_after = self.limiter(limits, report.now_ms)
            if retry_after:
                return ReportOutcome(ReportStatus.RATE_LIMITED, retry_after_ms=retry_after)
        with self.db.session() as s:
            self._lock(s, Row.id == report.session_id)
            row = s.scalar(select(Row).where(Row.id == report.session_id).with_for_update())
            if row is None:
                return ReportOutcome(ReportStatus.NOT_FOUND)
            caller_id = report.caller_id
            if row.viewer_id is not None and caller_id != row.viewer_id:
                status = (
                    ReportStatus.UNAUTHENTICATED if caller_id is None else ReportStatus.FORBIDDEN
                )
                return ReportOutcome(status)
            before = stored_progress(row)
            if row.state != SessionState.LIVE:
                return _outcome(ReportStatus.ENDED, before)
            slots = [pos for pos, _ad in decode_slots(row.ad_slots)]
            if report.stop:
                after = apply_stop(
                    before,
                    seq=report.seq,
                    position_ms=report.position_ms,
                    at_ms=report.now_ms,
                    duration_ms=row.duration_ms,
                    slot_positions=slots,
                )
                accepted = after is not before
            else:
                after, accepted = apply_heartbeat(
                    before,
                    seq=report.seq,
                    position_ms=report.position_ms,
                    playing=report.playing,
                    at_ms=report.now_ms,
                    duration_ms=row.duration_ms,
                    slot_positions=slots,
                )
            if accepted:
                row.position_ms = after.position_ms
                row.at_ms = after.at_ms
                row.watched_ms = after.watched_ms
                row.last_seq = after.last_seq
                row.slots_reached = encode_reached(after.slots_reached)
                row.last_seen_at = ms_to_datetime(after.at_ms)
            if report.stop:
                row.state = SessionState.STOPPED.value
                row.ended_at = row.last_seen_at = ms_to_datetime(report.now_ms)
            status = ReportStatus.ACCEPTED if accepted or report.stop else ReportStatus.DUPLICATE
            return _outcome(status, after)

    def _claim(
        self, where: ColumnElement[bool], *, now_ms: int, lease_ms: int, limit: int
    ) -> list[LiveSession]:
        lease_until = ms_to_datetime(now_ms + lease_ms)
        with self.db.session() as s:
            self._lock(s, where)
            rows = s.scalars(
                select(Row)
                .where(where)
                .order_by(Row.last_seen_at)
                .limit(limit)
                .with_for_update(skip_locked=True)
            ).all()
            for row in rows:
                if row.state == SessionState.LIVE:
                    row.state = SessionState.STOPPED.value
                    row.ended_at = ms_to_datetime(row.at_ms)
                row.last_seen_at = lease_until
            return [self._to_live(row) for row in rows]

    def claim_due(
        self, *, now_ms: int, idle_before_ms: int, lease_ms: int, limit: int
    ) -> list[LiveSession]:
        where = or_(
            and_(Row.state == SessionState.STOPPED, Row.last_seen_at <= ms_to_datetime(now_ms)),
            and_(
                Row.state == SessionState.LIVE, Row.last_seen_at <= ms_to_datetime(idle_before_ms)
            ),
        )
        return self._claim(where, now_ms=now_ms, lease_ms=lease_ms, limit=limit)

    def claim_day(self, day: date, *, now_ms: int, lease_ms: int, limit: int) -> list[LiveSession]:
        start, end = business_day_bounds(day, self.tz)
        where = and_(Row.started_at >= start, Row.started_at < end)
        return self._claim(where, now_ms=now_ms, lease_ms=lease_ms, limit=limit)

    def release(self, sessions: Sequence[LiveSession]) -> None:
        if not sessions:
            return
        with self.db.session() as s:
            s.execute(delete(Row).where(Row.id.in_([x.session_id for x in sessions])))

    def live_count(self) -> int:
        with self.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(Row)) or 0)

    def get(self, session_id: uuid.UUID) -> LiveSession | None:
        with self.db.session() as s:
            row = s.get(Row, session_id)
            return None if row is None else self._to_live(row)

    def take_changed(self, limit: int) -> list[LiveSession]:
        return []  # the database is its own checkpoint

    def holding(self, session_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        if not session_ids:
            return set()
        with self.db.session() as s:
            return set(s.scalars(select(Row.id).where(Row.id.in_(session_ids))))

    def lost_data(self) -> bool:
        return False


def _outcome(status: ReportStatus, p: Progress) -> ReportOutcome:
    return ReportOutcome(status, p.watched_ms, tuple(sorted(p.slots_reached)))


class ThreadReporter:
    """Heartbeats for the database store from async code: the revocation query and the
    report in one thread-pool hop, off the event loop."""

    def __init__(self, store: DatabaseSessionStore) -> None:
        self.store = store

    def _report(
        self, report: Report, limits: Sequence[Limit], revocation: RevocationCheck | None
    ) -> ReportOutcome:
        if revocation is not None and revocation.is_revoked():
            return ReportOutcome(ReportStatus.REVOKED)
        return self.store.report(report, limits=limits)

    async def report(
        self, report: Report, limits: Sequence[Limit], revocation: RevocationCheck | None
    ) -> ReportOutcome:
        return await asyncio.to_thread(self._report, report, limits, revocation)

    async def aclose(self) -> None:
        """Nothing is held per event loop."""
