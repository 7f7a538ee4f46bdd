"""Live sessions in Redis: one hash per session, two sorted sets, one Lua call per report.

Keys (prefix ``playback:``):
- ``session:{id}``  hash: the session (see ``_to_hash``)
- ``live``          zset id -> ms of the last accepted report, for idle detection
- ``ended``         zset id -> ms from which a flusher may take it (stop time, or lease end)
- ``day:{date}``    zset id -> start ms, the sessions that started on a business date
- ``changed``       set of ids started or changed since the flusher last checkpointed them
- ``intact``        a marker; missing means Redis lost its data (see ``lost_data``)
- ``rl:{key}:{window ms}:{n}``  fixed rate-limit windows (``Limit.window_key``; they
  expire after two windows)
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any, cast

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import NoBackoff
from redis.typing import EncodableT, FieldT

from streamsettle.domain.playback import WALL_CLOCK_GRACE_MS, Progress
from streamsettle.sessions import lua
from streamsettle.sessions.base import (
    Limit,
    LiveSession,
    Report,
    ReportOutcome,
    ReportStatus,
    RevocationCheck,
    RevocationKeys,
    SessionState,
)
from streamsettle.sessions.codec import decode_reached, decode_slots, encode_reached, encode_slots

PREFIX = "playback:"
SESSION_PREFIX = PREFIX + "session:"
LIVE_KEY = PREFIX + "live"
ENDED_KEY = PREFIX + "ended"
CHANGED_KEY = PREFIX + "changed"
INTACT_KEY = PREFIX + "intact"


def day_key(day: date) -> str:
    return f"{PREFIX}day:{day.isoformat()}"


def _to_hash(s: LiveSession) -> dict[FieldT, EncodableT]:
    p = s.progress
    return {
        "vid": str(s.video_id),
        "dur": str(s.duration_ms),
        "slots": encode_slots(s.ad_slots),
        "viewer": "" if s.viewer_id is None else str(s.viewer_id),
        "ip": s.ip,
        "ua": s.user_agent,
        "started": str(s.started_at_ms),
        "day": s.business_date.isoformat(),
        "startpos": str(s.start_position_ms),
        "pos": str(p.position_ms),
        "at": str(p.at_ms),
        "watched": str(p.watched_ms),
        "seq": str(p.last_seq),
        "reached": encode_reached(p.slots_reached),
        "state": s.state.value,
        "ended": "" if s.ended_at_ms is None else str(s.ended_at_ms),
    }


def _from_hash(session_id: str, h: dict[str, str]) -> LiveSession:
    return LiveSession(
        session_id=uuid.UUID(session_id),
        video_id=int(h["vid"]),
        duration_ms=int(h["dur"]),
        ad_slots=decode_slots(h["slots"]),
        viewer_id=int(h["viewer"]) if h["viewer"] else None,
        ip=h["ip"],
        user_agent=h["ua"],
        started_at_ms=int(h["started"]),
        business_date=date.fromisoformat(h["day"]),
        start_position_ms=int(h["startpos"]),
        progress=Progress(
            position_ms=int(h["pos"]),
            at_ms=int(h["at"]),
            watched_ms=int(h["watched"]),
            last_seq=int(h["seq"]),
            slots_reached=frozenset(decode_reached(h["reached"])),
        ),
        state=SessionState(h["state"]),
        ended_at_ms=int(h["ended"]) if h["ended"] else None,
    )


NO_REVOCATION_KEY = PREFIX + "no-revocation-check"
"""A key that never exists, passed when the caller's revocation was checked elsewhere."""

_UNCHECKED: RevocationKeys = (NO_REVOCATION_KEY, NO_REVOCATION_KEY, NO_REVOCATION_KEY)


def report_call(
    report: Report,
    *,
    limits: Sequence[Limit] = (),
    revocation_keys: RevocationKeys | None = None,
) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of the ``REPORT`` script (see ``lua.REPORT`` for their meaning); the
    caller's token is checked when ``revocation_keys`` are given."""
    sid = str(report.session_id)
    keys = [SESSION_PREFIX + sid, LIVE_KEY, ENDED_KEY, CHANGED_KEY]
    keys += revocation_keys or _UNCHECKED
    keys += [PREFIX + limit.window_key(report.now_ms) for limit in limits]
    caller = "-" if report.caller_id is None else report.caller_id
    fields = [
        sid,
        report.now_ms,
        caller,
        report.seq,
        report.position_ms,
        1 if report.playing else 0,
        1 if report.stop else 0,
        WALL_CLOCK_GRACE_MS,
        0 if revocation_keys is None else 1,
        *(limit.spec for limit in limits),
    ]
    return keys, [" ".join(map(str, fields))]


def report_outcome(reply: Any) -> ReportOutcome:
    status, watched, reached, retry_after = cast(list[Any], reply)
    return ReportOutcome(
        status=ReportStatus(status),
        watched_ms=int(watched),
        slots_reached=decode_reached(reached),
        retry_after_ms=int(retry_after),
    )


class RedisSessionStore:
    """The production store; every report is one EVALSHA round trip (a batch of one)."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._report = client.register_script(lua.REPORT)
        self._claim = client.register_script(lua.CLAIM)
        self._checkpoint = client.register_script(lua.CHECKPOINT)

    def create(self, session: LiveSession) -> None:
        sid = str(session.session_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(SESSION_PREFIX + sid, mapping=_to_hash(session))
        pipe.zadd(LIVE_KEY, {sid: session.progress.at_ms})
        pipe.zadd(day_key(session.business_date), {sid: session.started_at_ms})
        pipe.sadd(CHANGED_KEY, sid)
        pipe.execute()

    def report(self, report: Report, *, limits: Sequence[Limit] = ()) -> ReportOutcome:
        keys, args = report_call(report, limits=limits)
        return report_outcome(self._report(keys, args)[0])

    def _run_claim(
        self, *, now_ms: int, idle_before_ms: int, lease_ms: int, limit: int, ids: Sequence[str]
    ) -> list[LiveSession]:
        mode = "ids" if ids else "due"
        args: list[str | int] = [
            now_ms,
            idle_before_ms,
            now_ms + lease_ms,
            limit,
            SESSION_PREFIX,
            mode,
            *ids,
        ]
        rows = cast(list[tuple[str, list[str]]], self._claim([LIVE_KEY, ENDED_KEY], args))
        return [
            _from_hash(sid, dict(zip(flat[::2], flat[1::2], strict=True))) for sid, flat in rows
        ]

    def claim_due(
        self, *, now_ms: int, idle_before_ms: int, lease_ms: int, limit: int
    ) -> list[LiveSession]:
        return self._run_claim(
            now_ms=now_ms, idle_before_ms=idle_before_ms, lease_ms=lease_ms, limit=limit, ids=()
        )

    def claim_day(self, day: date, *, now_ms: int, lease_ms: int, limit: int) -> list[LiveSession]:
        ids = cast(list[str], self.redis.zrange(day_key(day), 0, limit - 1))
        if not ids:
            return []
        sessions = self._run_claim(
            now_ms=now_ms, idle_before_ms=0, lease_ms=lease_ms, limit=limit, ids=ids
        )
        missing = set(ids) - {str(s.session_id) for s in sessions}
        if missing:  # index entries whose hash is gone (released by another flusher)
            self.redis.zrem(day_key(day), *missing)
        return sessions

    def release(self, sessions: Sequence[LiveSession]) -> None:
        if not sessions:
            return
        pipe = self.redis.pipeline(transaction=True)
        for s in sessions:
            sid = str(s.session_id)
            pipe.delete(SESSION_PREFIX + sid)
            pipe.zrem(LIVE_KEY, sid)
            pipe.zrem(ENDED_KEY, sid)
            pipe.zrem(day_key(s.business_date), sid)
        pipe.execute()

    def live_count(self) -> int:
        pipe = self.redis.pipeline(transaction=False)
        pipe.zcard(LIVE_KEY)
        pipe.zcard(ENDED_KEY)
        live, ended = pipe.execute()
        return int(live) + int(ended)

    def get(self, session_id: uuid.UUID) -> LiveSession | None:
        sid = str(session_id)
        h = cast(dict[str, str], self.redis.hgetall(SESSION_PREFIX + sid))
        return _from_hash(sid, h) if h else None

    def take_changed(self, limit: int) -> list[LiveSession]:
        rows = cast(
            list[tuple[str, list[str]]], self._checkpoint([CHANGED_KEY], [limit, SESSION_PREFIX])
        )
        return [
            _from_hash(sid, dict(zip(flat[::2], flat[1::2], strict=True))) for sid, flat in rows
        ]

    def holding(self, session_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        pipe = self.redis.pipeline(transaction=False)
        for session_id in session_ids:
            pipe.exists(SESSION_PREFIX + str(session_id))
        found = pipe.execute()
        return {sid for sid, hit in zip(session_ids, found, strict=True) if hit}

    def lost_data(self) -> bool:
        """The marker is set at the first call; a Redis that comes back empty lacks it."""
        return bool(self.redis.set(INTACT_KEY, "1", nx=True))


_Call = tuple[list[str], list[str], "asyncio.Future[Any]"]


class AsyncRedisReporter:
    """Heartbeats from async code (the HTTP hot path): the same script on a redis.asyncio client,
    plus the caller's token and login revocation checks folded into the same call.

    Reports that arrive while a call is in flight wait for it, then go out together as one
    ``EVALSHA`` that applies them in order. redis-py spends most of its CPU per command and
    per awaited round trip, not per argument, so under load this is what lets one worker
    keep up with thousands of heartbeats a second; a lone report leaves at once.
    """

    MAX_BATCH = 128
    """Reports per call at most, so that one call cannot hold Redis for long (~20 µs each)."""

    def __init__(self, client: aioredis.Redis) -> None:
        self.redis = client
        self._script = client.register_script(lua.REPORT)
        self._waiting: list[_Call] = []
        self._sender: asyncio.Task[None] | None = None

    @classmethod
    def from_url(cls, url: str) -> AsyncRedisReporter:
        """One retry on a connection error: after a Redis restart the pooled connections are
        dead. Sending a report twice is harmless (the second is a duplicate ``seq``)."""
        return cls(
            aioredis.Redis.from_url(
                url,
                decode_responses=True,
                health_check_interval=30,
                retry=AsyncRetry(NoBackoff(), 1),
            )
        )

    async def report(
        self,
        report: Report,
        *,
        limits: Sequence[Limit] = (),
        revocation_keys: RevocationKeys | None = None,
    ) -> ReportOutcome:
        keys, args = report_call(report, limits=limits, revocation_keys=revocation_keys)
        reply: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting.append((keys, args, reply))
        if self._sender is None:
            self._sender = asyncio.create_task(self._send_while_waiting())
        return report_outcome(await reply)

    async def _send_while_waiting(self) -> None:
        try:
            while self._waiting:
                batch = self._waiting[: self.MAX_BATCH]
                del self._waiting[: self.MAX_BATCH]
                await self._send(batch)
        finally:
            self._sender = None
            _fail(self._waiting, ConnectionError("the reporter stopped"))
            self._waiting = []

    async def _send(self, batch: list[_Call]) -> None:
        keys = [key for call in batch for key in call[0]]
        args = [arg for call in batch for arg in call[1]]
        try:
            replies = await self._script(keys, args)  # loads the script again after NOSCRIPT
        except Exception as exc:
            _fail(batch, exc)
            return
        except BaseException as exc:
            _fail(batch, exc)
            raise
        for (_, _, reply), value in zip(batch, replies, strict=True):
            if not reply.done():
                reply.set_result(value)

    async def close(self) -> None:
        if self._sender is not None:
            await self._sender
        await self.redis.aclose()


def _fail(calls: list[_Call], exc: BaseException) -> None:
    for _, _, reply in calls:
        if not reply.done():
            reply.set_exception(exc if isinstance(exc, Exception) else ConnectionError(str(exc)))


class LoopReporters:
    """The Redis ``HeartbeatReporter``: an ``AsyncRedisReporter`` per running event loop.

    An asyncio Redis client belongs to the loop it first ran on. A server process has one
    loop; the tests run several apps, each on a loop of its own, over one runtime.
    """

    def __init__(self, connect: Callable[[], aioredis.Redis]) -> None:
        self._connect = connect
        self._by_loop: dict[asyncio.AbstractEventLoop, AsyncRedisReporter] = {}

    async def report(
        self, report: Report, limits: Sequence[Limit], revocation: RevocationCheck | None
    ) -> ReportOutcome:
        loop = asyncio.get_running_loop()
        reporter = self._by_loop.get(loop)
        if reporter is None:
            reporter = self._by_loop[loop] = AsyncRedisReporter(self._connect())
        keys = None if revocation is None else revocation.keys
        return await reporter.report(report, limits=limits, revocation_keys=keys)

    async def aclose(self) -> None:
        reporter = self._by_loop.pop(asyncio.get_running_loop(), None)
        if reporter is not None:
            await reporter.close()
