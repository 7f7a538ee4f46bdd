"""The heartbeat edge: raw ASGI for the one hot endpoint.

A player sends a heartbeat every few seconds for as long as it plays, so heartbeats are
nearly all of the API's traffic. Through FastAPI most of their CPU would go to routing,
dependency solving and response models, not to the one store call that does the work. This
handler sits in front of the routed app (inside the request context and the body limits,
which every request passes) and answers a well-formed heartbeat itself: the route's body
model, then the ``record_heartbeat`` service, then the contract's JSON answer or error body.
Whatever it does not fully recognise goes to the routed app untouched, with the body
replayed: other requests, another content type, a body that fails validation (so the 422
details stay FastAPI's) or a large body. The FastAPI route answers those with the same
service, and documents the endpoint in the OpenAPI document.
"""

from __future__ import annotations

import uuid

import orjson
from fastapi import FastAPI
from fastapi.security.utils import get_authorization_scheme_param
from pydantic import ValidationError
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamsettle.api.errors import domain_error_response, unexpected_error_response
from streamsettle.api.routers.playback import HeartbeatIn
from streamsettle.errors import StreamsettleError
from streamsettle.http.deps import caller_ip
from streamsettle.http.middleware import RouteLabel, header
from streamsettle.runtime import Runtime
from streamsettle.services.ingest import playback

_PREFIX = "/api/v1/playback/sessions/"
_SUFFIX = "/heartbeats"
ROUTE = _PREFIX + "{session_id}" + _SUFFIX  # the metrics label, as routed
_MAX_BODY = 16 * 1024  # a heartbeat is under 100 bytes; anything bigger goes to the router


_ROUTED = RouteLabel(ROUTE)
_JSON = (b"content-type", b"application/json")


class HeartbeatEdge:
    def __init__(self, app: FastAPI, fallback: ASGIApp) -> None:
        self.app = app
        self.fallback = fallback

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        session_id = _heartbeat_session(scope)
        if session_id is None or not _is_json(scope):
            await self.fallback(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        payload = None if body is None else _validated(body)
        if payload is None:
            await self.fallback(scope, _replay(messages, receive), send)
            return
        scope["app"] = self.app
        scope["route"] = _ROUTED
        runtime: Runtime = self.app.state.runtime
        error: Response
        try:
            totals = await playback.record_heartbeat(
                runtime,
                session_id,
                token=_bearer_token(scope),
                ip=caller_ip(scope, runtime.settings),
                seq=payload.seq,
                position=payload.position_seconds,
                playing=payload.state == "playing",
                now=runtime.clock(),
            )
        except StreamsettleError as exc:
            error = domain_error_response(exc)
        except Exception as exc:  # Redis down is a 503, as on every other route
            error = unexpected_error_response(exc, scope["path"])
        else:
            watched, reached = totals.watched_seconds, totals.ad_slots_reached
            body = orjson.dumps({"watched_seconds": watched, "ad_slots_reached": reached})
            await _send_json(send, body)
            return
        await error(scope, receive, send)


async def _send_json(send: Send, body: bytes) -> None:
    """A 200 with a JSON body, as raw ASGI messages (no Response object on the hot path)."""
    headers = [_JSON, (b"content-length", str(len(body)).encode())]
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
