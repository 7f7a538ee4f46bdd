"""Playback routes: start a session, heartbeats, stop.

The clock comes from the ``get_now`` dependency; tests replace it with
``app.dependency_overrides[get_now] = fake_clock``. Heartbeats are the hot path: with Redis
the route stays on the event loop (an async Redis client opened by this router's lifespan,
one Lua call); without Redis it makes one thread-pool hop for the database store.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, FastAPI, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StrictInt

from streamsettle.api.deps import OptionalClaims, get_optional_claims
from streamsettle.api.openapi import OPTIONAL_BEARER
from streamsettle.api.schemas.catalogue import MAX_ID, AdSlotPublic
from streamsettle.db.redis import make_async_redis
from streamsettle.http.deps import ClientIp, RuntimeDep, client_ip, get_runtime
from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import decode_access_token
from streamsettle.services.ingest import playback
from streamsettle.sessions.redis_store import AsyncRedisReporter


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """An async Redis client for the heartbeat hot path, for the app's lifetime."""
    runtime: Runtime | None = getattr(app.state, "runtime", None)
    client = None
    if runtime is not None and runtime.redis is not None:
        client = make_async_redis(runtime.settings)
    reporter = None if client is None else AsyncRedisReporter(client)
    app.state.playback_reporter = reporter
    try:
        yield
    finally:
        app.state.playback_reporter = None
        if reporter is not None:
            await reporter.close()


router = APIRouter(prefix="/api/v1", tags=["playback"], lifespan=_lifespan)

_bearer = HTTPBearer(auto_error=False, description="optional: the viewer's access token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


async def get_now() -> datetime:
    """The current time (a dependency so that tests can pin the clock)."""
    return datetime.now(UTC)


Now = Annotated[datetime, Depends(get_now)]

Seq = Annotated[StrictInt, Field(ge=1, le=playback.MAX_SEQ, description="1, 2, 3, … per session")]
Position = Annotated[
    float,
    Field(
        strict=True,
        ge=0,
        le=playback.MAX_POSITION_SECONDS,
        allow_inf_nan=False,
        description="the playhead in seconds (fractions allowed)",
    ),
]


class SessionCreate(BaseModel):
    video_id: StrictInt = Field(ge=1, le=MAX_ID)
    start_position_seconds: Position | None = Field(
        default=None,
        description="where playback starts; by default the resume position (0 for anonymous)",
    )


class SessionStarted(BaseModel):
    session_id: uuid.UUID
    resume_position_seconds: float
    heartbeat_interval_seconds: int
    ad_slots: list[AdSlotPublic]


class HeartbeatIn(BaseModel):
    seq: Seq
    position_seconds: Position
    state: Literal["playing", "paused"]


class HeartbeatOut(BaseModel):
    watched_seconds: int
    ad_slots_reached: list[int]


class StopIn(BaseModel):
    seq: Seq
    position_seconds: Position


class StopOut(BaseModel):
    session_id: uuid.UUID
    watched_seconds: int
    ad_slots_reached: list[int]


@router.post(
    "/playback/sessions",
    status_code=status.HTTP_201_CREATED,
    response_model=SessionStarted,
    responses={404: {"description": "no such video"}},
    openapi_extra=OPTIONAL_BEARER,
)
def start_session(
    body: SessionCreate,
    request: Request,
    runtime: RuntimeDep,
    claims: OptionalClaims,
    ip: ClientIp,
    now: Now,
) -> SessionStarted:
    started = playback.start_session(
        runtime,
        video_id=body.video_id,
        viewer_id=None if claims is None else claims.user_id,
        ip=ip,
        user_agent=request.headers.get("user-agent", ""),
        start_position=body.start_position_seconds,
        now=now,
    )
    return SessionStarted(
        session_id=started.session_id,
        resume_position_seconds=float(started.resume_position_seconds),
        heartbeat_interval_seconds=started.heartbeat_interval_seconds,
        ad_slots=[
            AdSlotPublic(position_seconds=s.position_seconds, ad_id=s.ad_id)
            for s in started.ad_slots
        ],
    )


def _heartbeat_in_thread(
    request: Request,
    session_id: uuid.UUID,
    body: HeartbeatIn,
    credentials: HTTPAuthorizationCredentials | None,
    now: datetime,
) -> playback.Totals:
    runtime = get_runtime(request)
    claims = get_optional_claims(runtime, credentials)
    return playback.record_heartbeat(
        runtime,
        session_id,
        caller_id=None if claims is None else claims.user_id,
        ip=client_ip(request, runtime.settings),
        seq=body.seq,
        position=body.position_seconds,
        playing=body.state == "playing",
        now=now,
    )


@router.post(
    "/playback/sessions/{session_id}/heartbeats",
    response_model=HeartbeatOut,
    responses={
        403: {"description": "the session belongs to another viewer"},
        404: {"description": "no such session, or it is closed"},
        429: {"description": "too many heartbeats from this address or for this session"},
        503: {"description": "Redis or PostgreSQL is unavailable"},
    },
    openapi_extra=OPTIONAL_BEARER,
)
async def heartbeat(
    session_id: uuid.UUID, body: HeartbeatIn, request: Request, credentials: Bearer, now: Now
) -> HeartbeatOut:
    """With Redis: decode the token here and let one Lua call check its revocation, the
    rate limits and the rules, on the event loop. Without: the sync path in a thread.
    (With Redis, ``HeartbeatFastPath`` usually answers before this route is reached.)"""
    reporter: AsyncRedisReporter | None = getattr(request.app.state, "playback_reporter", None)
    if reporter is None:
        totals = await run_in_threadpool(
            _heartbeat_in_thread, request, session_id, body, credentials, now
        )
    else:
        token = None if credentials is None else credentials.credentials
        totals = await heartbeat_via_redis(request, reporter, session_id, body, token, now)
    return HeartbeatOut(
        watched_seconds=totals.watched_seconds, ad_slots_reached=totals.ad_slots_reached
    )


async def heartbeat_via_redis(
    request: Request,
    reporter: AsyncRedisReporter,
    session_id: uuid.UUID,
    body: HeartbeatIn,
    token: str | None,
    now: datetime,
) -> playback.Totals:
    """The heartbeat on the event loop; shared by this route and ``HeartbeatFastPath``."""
    runtime = get_runtime(request)
    claims = None if token is None else decode_access_token(runtime.settings, token)
    return await playback.record_heartbeat_async(
        runtime,
        reporter,
        session_id,
        claims=claims,
        ip=client_ip(request, runtime.settings),
        seq=body.seq,
        position=body.position_seconds,
        playing=body.state == "playing",
        now=now,
    )


@router.post(
    "/playback/sessions/{session_id}/stop",
    response_model=StopOut,
    responses={
        403: {"description": "the session belongs to another viewer"},
        404: {"description": "no such session, or it is closed"},
    },
    openapi_extra=OPTIONAL_BEARER,
)
def stop(
    session_id: uuid.UUID, body: StopIn, runtime: RuntimeDep, claims: OptionalClaims, now: Now
) -> StopOut:
    totals = playback.stop_session(
        runtime,
        session_id,
        caller_id=None if claims is None else claims.user_id,
        seq=body.seq,
        position=body.position_seconds,
        now=now,
    )
    return StopOut(
        session_id=totals.session_id,
        watched_seconds=totals.watched_seconds,
        ad_slots_reached=totals.ad_slots_reached,
    )
