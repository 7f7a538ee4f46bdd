"""Pure ASGI middleware (cheap on the heartbeat hot path): request id, metrics, access log,
request body limits."""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

import orjson
import structlog
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamsettle.logging import get_logger

REQUESTS = Counter(
    "streamsettle_http_requests_total", "HTTP requests", ["method", "route", "status"]
)
LATENCY = Histogram(
    "streamsettle_http_request_duration_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10),
)
log = get_logger("streamsettle.http")


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of a request header (``name`` in lower case), without a Request."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def request_id(scope: Scope) -> str:
    """The caller's ``X-Request-ID`` (at most 64 characters), or a new one."""
    given = (header(scope, b"x-request-id") or "")[:64]
    # Unique, not secret: no system call for a random number on every request.
    return given or f"{random.getrandbits(128):032x}"


_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def record(method: str, route: str, status: int, elapsed: float) -> None:
    """Count one answer (the labelled children are looked up once, then kept)."""
    key = (method, route, status)
    children = _children.get(key)
    if children is None:
        children = REQUESTS.labels(method, route, str(status)), LATENCY.labels(method, route)
        _children[key] = children
    children[0].inc()
    children[1].observe(elapsed)


class RequestContextMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope)
        structlog.contextvars.bind_contextvars(request_id=rid)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", rid.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("route")
            template = getattr(route, "path", "unmatched")
            record(scope["method"], template, status, elapsed)
            if status >= 500:
                log.error("request", method=scope["method"], path=scope["path"], status=status)
            structlog.contextvars.unbind_contextvars("request_id")


IMPORT_PATH = "/api/v1/admin/watch-logs/import"
ADMIN_IMPORT_PATH = "/admin/import"
"""The admin console's upload of the same NDJSON file, as a form."""
AD_SLOTS_MAX_BYTES = 1024 * 1024
"""``PUT /videos/{id}/ad-slots`` takes up to 1000 placements: more than 64 KiB when indented."""


@dataclass(frozen=True)
class BodyLimits:
    """Request body limits in bytes: JSON and form routes, and the NDJSON import."""

    default: int = 64 * 1024
    watch_log_import: int = 1024**3

    def for_path(self, path: str) -> int:
        if path in (IMPORT_PATH, ADMIN_IMPORT_PATH):
            return self.watch_log_import
        if path.endswith("/ad-slots") and path.startswith("/api/v1/videos/"):
            return max(self.default, AD_SLOTS_MAX_BYTES)
        return self.default


class BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a streamed body passes its limit.

    An ``HTTPException``, so FastAPI's body reading passes it on unchanged (as the JSON 413)
    where it would turn any other error into a 400.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))
        self.limit = limit


def too_large_message(limit: int) -> str:
    return f"the request body is larger than the limit of {limit} bytes"


class BodyLimitMiddleware:
    """Refuses a body over its route's limit with 413, before anything parses it.

    A declared ``Content-Length`` over the limit is answered at once, without reading the
    body; within the limit the server itself stops the body at that length, so nothing is
    counted (about a microsecond per heartbeat, one look at the headers). A body without a
    length (chunked)
    is counted as it arrives and cut off once it passes the limit. Either 413 closes the
    connection, so the server does not go on draining the rest.
    """

    def __init__(self, app: ASGIApp, limits: BodyLimits | None = None) -> None:
        self.app = app
        self.limits = limits or BodyLimits()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for key, value in scope["headers"]:
            if key == b"content-length":
                limit = self.limits.for_path(scope["path"])
                if value.isdigit() and int(value) > limit:
                    await _too_large(scope, send, limit)
                    return
                await self.app(scope, receive, send)
                return
        await self._counted(scope, receive, send, self.limits.for_path(scope["path"]))

    async def _counted(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        received = 0
        exceeded = started = False

        async def counting_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    exceeded = True
                    raise BodyTooLarge(limit)
            return message

        async def closing_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                if exceeded:
                    message["headers"] = [*message.get("headers", []), _CLOSE]
            await send(message)

        try:
            await self.app(scope, counting_receive, closing_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(scope, send, limit)


_CLOSE = (b"connection", b"close")


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    """The JSON 413, with the request id and the metrics every other answer has."""
    started = time.perf_counter()
    body = orjson.dumps(
        {
            "error": {
                "code": "payload_too_large",
                "message": too_large_message(limit),
                "details": {"limit_bytes": limit},
            }
        }
    )
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"x-request-id", request_id(scope).encode("latin-1")),
        _CLOSE,
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})
    record(scope["method"], "body-too-large", 413, time.perf_counter() - started)
