"""Playback routes: start a session, heartbeats, stop.

The time is the runtime's clock (tests pin it). Heartbeats are the hot path: the raw ASGI
edge (``api.heartbeat``) answers well-formed ones before routing; the route below serves
the rest with the same service and documents the endpoint.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import BaseModel, Field, StrictInt

from streamsettle.api.deps import OptionalClaims
from streamsettle.api.openapi import OPTIONAL_BEARER, errors
from streamsettle.api.schemas.catalogue import MAX_ID, AdSlotPublic
from streamsettle.domain.playback import MAX_POSITION_SECONDS, MAX_SEQ
from streamsettle.http.deps import ClientIp, RuntimeDep
from streamsettle.services.ingest import playback

router = APIRouter(prefix="/api/v1", tags=["playback"])
_SESSION_ERRORS = {
    403: "the session belongs to another viewer",
    404: "no such session, or it is closed",
}

_bearer = HTTPBearer(auto_error=False, description="optional: the viewer's access token")
Bearer = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


Seq = Annotated[StrictInt, Field(ge=1, le=MAX_SEQ, description="1, 2, 3, … per session")]
Position = Annotated[
    float,
    Field(
        strict=True,
        ge=0,
        le=MAX_POSITION_SECONDS,
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
    responses=errors({404: "no such video"}),
    openapi_extra=OPTIONAL_BEARER,
)
def start_session(
    body: SessionCreate,
    request: Request,
    runtime: RuntimeDep,
    claims: OptionalClaims,
    ip: ClientIp,
) -> SessionStarted:
    started = playback.start_session(
        runtime,
        video_id=body.video_id,
        viewer_id=None if claims is None else claims.user_id,
        ip=ip,
        user_agent=request.headers.get("user-agent", ""),
        start_position=body.start_position_seconds,
        now=runtime.clock(),
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


@router.post(
    "/playback/sessions/{session_id}/heartbeats",
    response_model=HeartbeatOut,
    responses=errors(
        {
            **_SESSION_ERRORS,
            429: "too many heartbeats from this address or for this session",
            503: "Redis or PostgreSQL is unavailable",
        }
    ),
    openapi_extra=OPTIONAL_BEARER,
)
async def heartbeat(
    session_id: uuid.UUID,
    body: HeartbeatIn,
    runtime: RuntimeDep,
    ip: ClientIp,
    credentials: Bearer,
) -> HeartbeatOut:
    totals = await playback.record_heartbeat(
        runtime,
        session_id,
        token=None if credentials is None else credentials.credentials,
        ip=ip,
        seq=body.seq,
        position=body.position_seconds,
        playing=body.state == "playing",
        now=runtime.clock(),
    )
    return HeartbeatOut(
        watched_seconds=totals.watched_seconds, ad_slots_reached=totals.ad_slots_reached
    )


@router.post(
    "/playback/sessions/{session_id}/stop",
    response_model=StopOut,
    responses=errors(_SESSION_ERRORS),
    openapi_extra=OPTIONAL_BEARER,
)
def stop(
    session_id: uuid.UUID, body: StopIn, runtime: RuntimeDep, claims: OptionalClaims
) -> StopOut:
    totals = playback.stop_session(
        runtime,
        session_id,
        caller_id=None if claims is None else claims.user_id,
        seq=body.seq,
        position=body.position_seconds,
        now=runtime.clock(),
    )
    return StopOut(
        session_id=totals.session_id,
        watched_seconds=totals.watched_seconds,
        ad_slots_reached=totals.ad_slots_reached,
    )
