"""The heartbeat fast path: pure ASGI in front of the whole app, for the one hot endpoint.

A player sends a heartbeat every few seconds for as long as it plays, so heartbeats are
nearly all of the API's traffic. Through FastAPI most of their CPU went to the middleware
stack, routing, dependency solving and response models, not to the one Redis call that does
the work (issue 6). This front answers a well-formed heartbeat itself, with Redis, through
the route's own code (``heartbeat_via_redis``: the same body model, token check, service
call and error bodies), and keeps what the middleware gives every answer: the request id
header, the metrics, a JSON 500. Whatever it does not fully recognise goes to the app
untouched, with the body replayed: other requests, another content type, a body that fails
validation (so the 422 details stay FastAPI's), a large body, or no Redis (the database
store's thread path).
"""

from __future__ import annotations

import inspect
import time
import uuid
from datetime import datetime
from typing import cast

import orjson
from fastapi import FastAPI
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamsettle.api.errors import (
    REDIS_DOWN,
    domain_error_response,
    error_response,
    redis_down_response,
)
from streamsettle.api.middleware import header, record, request_id
from streamsettle.api.routers.playback import HeartbeatIn, get_now, heartbeat_via_redis
from streamsettle.errors import StreamsettleError
from streamsettle.logging import get_logger

_PREFIX = "/api/v1/playback/sessions/"
_SUFFIX = "/heartbeats"
ROUTE = _PREFIX + "{session_id}" + _SUFFIX  # the metrics label, as routed
_MAX_BODY = 16 * 1024  # a heartbeat is under 100 bytes; anything bigger takes the slow path

log = get_logger("streamsettle.http")


class HeartbeatFastPath:
    def __init__(self, app: FastAPI, fallback: ASGIApp) -> None:
        self.app = app
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = _heartbeat_session(scope)
        reporter = (
            None if session_id is None else getattr(self.app.state, "playback_reporter", None)
        )
        if session_id is None or reporter is None or not _is_json(scope):
            await self.fallback(scope, receive, send)
            return
        started = time.perf_counter()
        messages, body = await _read_body(receive)
        payload = None if body is None else _validated(body)
        if payload is None:
            await self.fallback(scope, _replay(messages, receive), send)
            return
        scope["app"] = self.app
        rid = request_id(scope)
        error: Response
        try:
            now = await self._now()
            totals = await heartbeat_via_redis(
                Request(scope, receive), reporter, session_id, payload, _bearer_token(scope), now
            )
        except StreamsettleError as exc:
            error = domain_error_response(exc)
        except REDIS_DOWN as exc:
            log.warning("redis unavailable", path=scope["path"], error=str(exc))
            error = redis_down_response()
        except Exception:
            log.exception("unhandled error", path=scope["path"])
            error = error_response(500, "internal_error", "an unexpected error occurred")
        else:
            watched, reached = totals.watched_seconds, totals.ad_slots_reached
            body = orjson.dumps({"watched_seconds": watched, "ad_slots_reached": reached})
            await _send_json(send, body, rid)
            record("POST", ROUTE, 200, time.perf_counter() - started)
            return
        error.headers["x-request-id"] = rid
        await error(scope, receive, send)
        record("POST", ROUTE, error.status_code, time.perf_counter() - started)

    async def _now(self) -> datetime:
        """``get_now``, or what a test put in its place (sync or async, as FastAPI allows)."""
        now = self.app.dependency_overrides.get(get_now, get_now)()
        return cast(datetime, await now if inspect.isawaitable(now) else now)


async def _send_json(send: Send, body: bytes, rid: str) -> None:
    """A 200 with a JSON body, as raw ASGI messages (no Response object on the hot path)."""
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", rid.encode("latin-1")),
    ]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _heartbeat_session(scope: Scope) -> uuid.UUID | None:
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    path: str = scope["path"]
    if not (path.startswith(_PREFIX) and path.endswith(_SUFFIX)):
        return None
    try:
        return uuid.UUID(path[len(_PREFIX) : -len(_SUFFIX)])
    except ValueError:
        return None


def _is_json(scope: Scope) -> bool:
    content_type = header(scope, b"content-type")
    return content_type is not None and content_type.split(";")[0].strip() == "application/json"


def _bearer_token(scope: Scope) -> str | None:
    """HTTPBearer(auto_error=False): a token only for a well-formed ``Bearer`` header."""
    authorization = header(scope, b"authorization")
    scheme, credentials = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and credentials) or scheme.lower() != "bearer":
        return None
    return credentials


async def _read_body(receive: Receive) -> tuple[list[Message], bytes | None]:
    """The messages read and the body; None as the body once it passes ``_MAX_BODY``."""
    messages = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if size > _MAX_BODY:
            return messages, None
        if not message.get("more_body", False):
            break
    return messages, b"".join(m.get("body", b"") for m in messages)


def _validated(body: bytes) -> HeartbeatIn | None:
    try:
        return HeartbeatIn.model_validate_json(body)
    except ValidationError:
        return None


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` that hands the app the messages already read, then the live ones."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed
