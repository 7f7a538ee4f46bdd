"""Playback sessions: start, heartbeats, stop (rule 3.1, 3.2).

The clock is an argument (``now``, an aware datetime; the current time when None) so that
tests pin it; the HTTP routes take it from a dependency that tests override. The store is
the Redis one when Redis is configured, the database one otherwise, built once per runtime.
A stop is answered only once its watch log (and the viewer's resume position) is committed,
through the flusher's writer; the flusher then releases the stopped session.
"""

from __future__ import annotations

import asyncio
import math
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from streamsettle.db.models import User, Video, WatchLog, WatchLogAdSlot
from streamsettle.domain.periods import business_date
from streamsettle.domain.playback import Progress, position_to_ms
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
from streamsettle.services.identity.tokens import AccessClaims
from streamsettle.services.ingest.resume import resume_position
from streamsettle.services.rate_limit import WindowCounter, heartbeat_limits
from streamsettle.sessions import (
    DatabaseSessionStore,
    LiveSession,
    RedisSessionStore,
    Report,
    ReportOutcome,
    ReportStatus,
    SessionStore,
)
from streamsettle.sessions.db_store import datetime_to_ms
from streamsettle.sessions.redis_store import AsyncRedisReporter

MAX_SEQ = 10**9
MAX_POSITION_SECONDS = 10**6
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


_stores: dict[int, tuple[Runtime, SessionStore]] = {}
_stores_lock = threading.Lock()


def session_store(runtime: Runtime) -> SessionStore:
    """The runtime's store, built once (the Lua scripts are registered once; the embedded
    mode's in-process rate-limit counter lives as long as the runtime)."""
    entry = _stores.get(id(runtime))
    if entry is not None and entry[0] is runtime:
        return entry[1]
    with _stores_lock:
        entry = _stores.get(id(runtime))
        if entry is None or entry[0] is not runtime:
            store: SessionStore = (
                RedisSessionStore(runtime.redis)
                if runtime.redis is not None
                else DatabaseSessionStore(runtime.db, runtime.settings.tz, WindowCounter())
            )
            entry = _stores[id(runtime)] = (runtime, store)
        return entry[1]


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
        video = session.get(Video, video_id)
        if video is None:
            raise NotFound(f"video {video_id} not found")
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
    session_store(runtime).create(live)
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


def record_heartbeat(
    runtime: Runtime,
    session_id: uuid.UUID,
    *,
    caller_id: int | None,
    ip: str,
    seq: int,
    position: Number,
    playing: bool,
    now: datetime | None = None,
) -> Totals:
    """Apply one heartbeat; a duplicate or stale seq is answered with the current totals."""
    report = _report(
        session_id, caller_id, seq=seq, position=position, playing=playing, stop=False, now=now
    )
    outcome = session_store(runtime).report(
        report, limits=heartbeat_limits(runtime.settings, ip, session_id)
    )
    _refuse(outcome)
    if outcome.status is ReportStatus.ENDED:
        raise NotFound("playback session is closed")
    return _totals(session_id, outcome)


async def record_heartbeat_async(
    runtime: Runtime,
    reporter: AsyncRedisReporter,
    session_id: uuid.UUID,
    *,
    claims: AccessClaims | None,
    ip: str,
    seq: int,
    position: Number,
    playing: bool,
    now: datetime | None = None,
) -> Totals:
    """``record_heartbeat`` for async callers with Redis: the token's and its login's
    revocation checks, the rate limits and the rules all happen in one Lua call, without a
    thread hop. After Redis lost its data the revocations are loaded first (once)."""
    caller_id = None if claims is None else claims.user_id
    report = _report(
        session_id, caller_id, seq=seq, position=position, playing=playing, stop=False, now=now
    )
    limits = heartbeat_limits(runtime.settings, ip, session_id)
    keys = None if claims is None else revocation.lua_keys(claims)
    outcome = await reporter.report(report, limits=limits, revocation_keys=keys)
    if outcome.status is ReportStatus.REVOCATIONS_MISSING:
        await asyncio.to_thread(revocation.load, runtime)
        outcome = await reporter.report(report, limits=limits, revocation_keys=keys)
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
    store = session_store(runtime)
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
    from streamsettle.services.ingest.flusher import (
        write_watch_logs,  # the flusher imports this module
    )

    stopped = store.get(session_id)
    if stopped is None:
        return
    try:
        write_watch_logs(runtime, [stopped])
    except IntegrityError as exc:  # its video or viewer was deleted meanwhile
        raise Conflict("the session's video or viewer no longer exists") from exc
    except OperationalError as exc:
        raise ServiceUnavailable("the database is unavailable; send the stop again") from exc


def _flushed_totals(
    runtime: Runtime, session_id: uuid.UUID, caller_id: int | None
) -> Totals | None:
    with runtime.db.session() as session:
        log = session.get(WatchLog, session_id)
        if log is None:
            return None
        if log.viewer_id is not None and caller_id != log.viewer_id:
            _refuse(
                ReportOutcome(
                    ReportStatus.UNAUTHENTICATED if caller_id is None else ReportStatus.FORBIDDEN
                )
            )
        reached = session.scalars(
            select(WatchLogAdSlot.position_seconds)
            .where(WatchLogAdSlot.session_id == session_id)
            .order_by(WatchLogAdSlot.position_seconds)
        ).all()
        return Totals(session_id, log.watched_seconds, list(reached))
