"""Pure ASGI middleware (cheap on the heartbeat hot path): request id, metrics, access log."""

from __future__ import annotations

import random
import time
from typing import Any

import structlog
from prometheus_client import Counter, Histogram
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
