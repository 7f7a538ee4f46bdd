"""Playback sessions: start, heartbeats, stop (rule 3.1, 3.2).

The clock is an argument (``now``, an aware datetime; the runtime's clock when None), so
that tests pin it. The store and its heartbeat reporter are the runtime's (Redis when
configured, the database otherwise).
A stop is answered only once its watch log (and the viewer's resume position) is committed,
through the flusher's writer; the flusher then releases the stopped session.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from streamsettle.db.models import User, Video, WatchLog
from streamsettle.domain.periods import business_date
from streamsettle.domain.playback import (
    MAX_POSITION_SECONDS,
    MAX_SEQ,
    Progress,
    position_to_ms,
)
from streamsettle.domain.text import MAX_USER_AGENT, has_control_characters
from streamsettle.errors import (
    AuthenticationFailed,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    RateLimited,
    ServiceUnavailable,
)
from streamsettle.runtime import Runtime
from streamsettle.services.identity import revocation
from streamsettle.services.identity.tokens import decode_access_token
from streamsettle.services.ingest.resume import resume_position
from streamsettle.services.lookup import found
from streamsettle.services.rate_limit import heartbeat_limits
from streamsettle.sessions import (
    LiveSession,
    Report,
    ReportOutcome,
    ReportStatus,
    SessionStore,
)
from streamsettle.sessions.codec import datetime_to_ms

MAX_IP = 45
"""The watch log's column width (a forwarded address is whatever the proxy wrote)."""

Number = Decimal | int | float


@dataclass(frozen=True)
class AdSlotView:
    position_seconds: int
    ad_id: int | None


@dataclass(frozen=True)
class StartedSession:
    session_id: uuid.UUID
    resume_position_seconds: Decimal
    heartbeat_interval_seconds: int
    ad_slots: list[AdSlotView]


@dataclass(frozen=True)
class Totals:
    session_id: uuid.UUID
    watched_seconds: int
    ad_slots_reached: list[int]


def _now(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("now must be time-zone aware")
    return now


def _position_ms(position: Number, *, name: str = "position_seconds") -> int:
    if isinstance(position, bool) or not isinstance(position, Decimal | int | float):
        raise InvalidInput(f"{name} must be a number")
    if isinstance(position, float | Decimal) and not math.isfinite(position):
        raise InvalidInput(f"{name} must be finite")
    if not 0 <= position <= MAX_POSITION_SECONDS:
        raise InvalidInput(f"{name} must be between 0 and {MAX_POSITION_SECONDS}")
    return position_to_ms(position)


def _check_seq(seq: int) -> None:
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise InvalidInput(f"seq must be an integer from 1 to {MAX_SEQ}")


def start_session(
    runtime: Runtime,
    *,
    video_id: int,
    viewer_id: int | None,
    ip: str,
    user_agent: str = "",
    start_position: Number | None = None,
    now: datetime | None = None,
) -> StartedSession:
    """A new live session. It starts where the viewer resumes unless ``start_position``
    says otherwise, so that resuming past a mid-roll does not count as reaching it."""
    moment = _now(now)
    if has_control_characters(user_agent):
        raise InvalidInput(
            "the User-Agent header must not contain control or bidirectional-override characters",
            {"field": "user-agent"},
        )
    with runtime.db.session() as session:
        video = found(session, Video, video_id, "video")
        if viewer_id is not None and session.get(User, viewer_id) is None:
            raise AuthenticationFailed("the token's user no longer exists")
        resume = Decimal(0) if viewer_id is None else resume_position(session, viewer_id, video)
        duration_ms = video.duration_seconds * 1000
        slots = tuple((slot.position_seconds, slot.ad_id) for slot in video.ad_slots)
    start_ms = (
        position_to_ms(resume)
        if start_position is None
        else _position_ms(start_position, name="start_position_seconds")
    )
    at_ms = datetime_to_ms(moment)
    live = LiveSession(
        session_id=uuid.uuid4(),
        video_id=video_id,
        duration_ms=duration_ms,
        ad_slots=slots,
        viewer_id=viewer_id,
        ip=ip[:MAX_IP],
        user_agent=user_agent[:MAX_USER_AGENT],
        started_at_ms=at_ms,
        business_date=business_date(moment, runtime.settings.tz),
        start_position_ms=min(start_ms, duration_ms),
        progress=Progress.start(start_ms, at_ms, duration_ms),
    )
    runtime.sessions.create(live)
    return StartedSession(
        session_id=live.session_id,
        resume_position_seconds=resume,
        heartbeat_interval_seconds=runtime.settings.heartbeat_interval_seconds,
        ad_slots=[AdSlotView(position, ad) for position, ad in slots],
    )


def _refuse(outcome: ReportOutcome) -> None:
    status = outcome.status
    if status is ReportStatus.NOT_FOUND:
        raise NotFound("playback session not found (unknown, or closed and flushed)")
    if status is ReportStatus.UNAUTHENTICATED:
        raise AuthenticationFailed("this playback session belongs to a signed-in viewer")
    if status is ReportStatus.REVOKED:
        raise AuthenticationFailed("access token revoked")
    if status is ReportStatus.FORBIDDEN:
        raise Forbidden("this playback session belongs to another viewer")
    if status is ReportStatus.RATE_LIMITED:
        retry = max(1, math.ceil(outcome.retry_after_ms / 1000))
        raise RateLimited(
            f"too many heartbeats; retry after {retry} s", {"retry_after_seconds": retry}
        )


def _totals(session_id: uuid.UUID, outcome: ReportOutcome) -> Totals:
    return Totals(session_id, outcome.watched_ms // 1000, list(outcome.slots_reached))


def _report(
    session_id: uuid.UUID,
    caller_id: int | None,
    *,
    seq: int,
    position: Number,
    playing: bool,
    stop: bool,
    now: datetime | None,
) -> Report:
    """A player's report, validated (422 on a bad seq or position) and timed."""
    _check_seq(seq)
    return Report(
        session_id=session_id,
        caller_id=caller_id,
        seq=seq,
        position_ms=_position_ms(position),
        playing=playing,
        stop=stop,
        now_ms=datetime_to_ms(_now(now)),
    )


async def record_heartbeat(
    runtime: Runtime,
    session_id: uuid.UUID,
    *,
    token: str | None,
    ip: str,
    seq: int,
    position: Number,
    playing: bool,
    now: datetime | None = None,
) -> Totals:
    """Apply one heartbeat; a duplicate or stale seq is answered with the current totals.

    The token is decoded here; whether it or its login is revoked is checked by the
    reporter in the same call as the report (with Redis: the same Lua call as the rate
    limits and the rules, no thread hop). After Redis lost its data the revocations are
    loaded first (once)."""
    claims = None if token is None else decode_access_token(runtime.settings, token)
    report = _report(
        session_id,
        None if claims is None else claims.user_id,
        seq=seq,
        position=position,
        playing=playing,
        stop=False,
        now=now or runtime.clock(),
    )
    limits = heartbeat_limits(runtime.settings, ip, session_id)
    check = None if claims is None else revocation.check(runtime, claims)
    outcome = await runtime.heartbeats.report(report, limits, check)
    if outcome.status is ReportStatus.REVOCATIONS_MISSING:
        await asyncio.to_thread(revocation.load, runtime)
        outcome = await runtime.heartbeats.report(report, limits, check)
        if outcome.status is ReportStatus.REVOCATIONS_MISSING:
            raise ServiceUnavailable("token revocations are being reloaded; try again")
    _refuse(outcome)
    if outcome.status is ReportStatus.ENDED:
        raise NotFound("playback session is closed")
    return _totals(session_id, outcome)


def stop_session(
    runtime: Runtime,
    session_id: uuid.UUID,
    *,
    caller_id: int | None,
    seq: int,
    position: Number,
    now: datetime | None = None,
) -> Totals:
    """Stop: a final playing report, answered once its watch log is committed. Stopping an
    ended session (even one already flushed to a watch log) is a no-op that answers the
    final totals (and stores the watch log if an earlier stop's write failed)."""
    report = _report(
        session_id, caller_id, seq=seq, position=position, playing=True, stop=True, now=now
    )
    store = runtime.sessions
    outcome = store.report(report)
    if outcome.status is ReportStatus.NOT_FOUND:
        flushed = _flushed_totals(runtime, session_id, caller_id)
        if flushed is not None:
            return flushed
    _refuse(outcome)
    _write_stopped(runtime, store, session_id)
    return _totals(session_id, outcome)


def _write_stopped(runtime: Runtime, store: SessionStore, session_id: uuid.UUID) -> None:
    """The stopped session's watch log, through the flusher's (idempotent) writer. A session
    no longer held was released by a flusher, after committing its watch log."""
    from streamsettle.services.ingest.flusher import write_sessions  # it imports this module

    stopped = store.get(session_id)
    if stopped is None:
        return
    try:
        write_sessions(runtime, [stopped])
    except IntegrityError as exc:  # its video or viewer was deleted meanwhile
        raise Conflict("the session's video or viewer no longer exists") from exc
    except OperationalError as exc:
        raise ServiceUnavailable("the database is unavailable; send the stop again") from exc


def _flushed_totals(
    runtime: Runtime, session_id: uuid.UUID, caller_id: int | None
) -> Totals | None:
    with runtime.db.session() as session:
        log = session.scalars(
            select(WatchLog).where(WatchLog.session_id == session_id).limit(1)
        ).first()
        if log is None:
            return None
        if log.viewer_id is not None and caller_id != log.viewer_id:
            _refuse(
                ReportOutcome(
                    ReportStatus.UNAUTHENTICATED if caller_id is None else ReportStatus.FORBIDDEN
                )
            )
        return Totals(session_id, log.watched_seconds, list(log.ad_positions or []))
