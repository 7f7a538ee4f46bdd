"""One registry mapping every error to the contract's JSON body and a fitting status."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis.exceptions as redis_exc
import sqlalchemy.exc as sa_exc
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from streamsettle.api.middleware import BodyTooLarge
from streamsettle.errors import (
    RETRY_AFTER_SECONDS,
    Conflict,
    ServiceUnavailable,
    StreamsettleError,
    retry_after,
)
from streamsettle.logging import get_logger

log = get_logger(__name__)

_HTTP_CODES = {
    400: "bad_request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_input",
    429: "rate_limited",
    503: "unavailable",
}


_DATABASE_DOWN: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,  # connection refused or lost, server shutting down, deadlock
    sa_exc.InterfaceError,  # the driver's connection is closed
    sa_exc.TimeoutError,  # no pooled connection within the pool timeout
    sa_exc.DisconnectionError,
)
_REDIS_DOWN: tuple[type[Exception], ...] = (redis_exc.ConnectionError, redis_exc.TimeoutError)
_NETWORK_DOWN: tuple[type[Exception], ...] = (ConnectionError, TimeoutError)
BACKEND_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.DBAPIError,
    *_DATABASE_DOWN,
    *_REDIS_DOWN,
    *_NETWORK_DOWN,
)
"""Exceptions from the backing servers that ``backend_error`` may turn into a 409 or 503."""


def error_response(
    status: int,
    code: str,
    message: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    body = {"error": {"code": code, "message": message, "details": jsonable_encoder(details)}}
    return JSONResponse(body, status_code=status, headers=headers)


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [
        {"loc": list(e.get("loc", ())), "message": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]


def domain_error_response(exc: StreamsettleError) -> JSONResponse:
    """A domain error as the contract's body (also used by the heartbeat fast path)."""
    headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else {}
    seconds = retry_after(exc)
    if seconds is not None:
        headers["Retry-After"] = str(seconds)
    return error_response(exc.status_code, exc.code, exc.message, exc.details, headers)


def unavailable(server: str) -> ServiceUnavailable:
    return ServiceUnavailable(
        f"{server} is unreachable; retry shortly",
        {"server": server, "retry_after_seconds": RETRY_AFTER_SECONDS},
    )


def backend_error(exc: BaseException) -> StreamsettleError | None:
    """The answer to a failure of a backing server, or None for any other exception.

    A constraint violation (also one raised at commit) is a 409; a database or Redis that
    cannot be reached, a lost connection and a pool timeout are a 503 with Retry-After.
    """
    if isinstance(exc, sa_exc.IntegrityError):
        return Conflict("the write conflicts with data already stored")
    if isinstance(exc, _DATABASE_DOWN) or (
        isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated
    ):
        return unavailable("the database")
    if isinstance(exc, _REDIS_DOWN):
        return unavailable("Redis")
    if isinstance(exc, _NETWORK_DOWN):
        return unavailable("a backing server")
    return None


def unexpected_error_response(exc: BaseException, path: str) -> JSONResponse:
    """A backing server's failure as its 409/503, anything else logged and a 500."""
    known = backend_error(exc)
    if known is not None:
        log.warning("backing server error", path=path, error=repr(exc), status=known.status_code)
        return domain_error_response(known)
    log.error("unhandled error", path=path, exc_info=exc)
    return error_response(500, "internal_error", "an unexpected error occurred")


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(StreamsettleError)
    async def _domain(_: Request, exc: StreamsettleError) -> JSONResponse:
        return domain_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        first = details[0] if details else {"loc": [], "message": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body") or "request"
        return error_response(422, "invalid_input", f"{where}: {first['message']}", details)

    @app.exception_handler(BodyTooLarge)
    async def _too_large(_: Request, exc: BodyTooLarge) -> JSONResponse:
        details = {"limit_bytes": exc.limit}
        return error_response(413, "payload_too_large", str(exc.detail), details)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "http_error")
        headers = dict(exc.headers or {})
        if exc.status_code == 503:
            headers.setdefault("Retry-After", str(RETRY_AFTER_SECONDS))
        return error_response(exc.status_code, code, str(exc.detail), None, headers)

    async def _backend(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error_response(exc, request.url.path)

    for exc_class in BACKEND_ERRORS:  # answered here, not re-raised to the server
        app.add_exception_handler(exc_class, _backend)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        return unexpected_error_response(exc, request.url.path)
