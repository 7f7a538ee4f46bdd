"""The one error tree of streamsettle.

Services raise these; the HTTP edge maps each to a status and the contract's JSON body
``{"error": {"code", "message", "details"}}``; the CLI prints them. Nothing else needs to
know about HTTP.

- ``StreamsettleError``          base (500 only if something truly unexpected slips through)
  - ``InvalidInput``             422 ``invalid_input``: a value breaks a rule
  - ``AuthenticationFailed``     401 ``unauthenticated``: no, bad, expired or revoked credentials
  - ``Forbidden``                403 ``forbidden``: authenticated but not allowed
  - ``NotFound``                 404 ``not_found``
  - ``Conflict``                 409 ``conflict``: e.g. an email already registered
  - ``RateLimited``              429 ``rate_limited``
  - ``BatchRefused``             409 ``batch_refused``: a date that cannot be settled now
  - ``ServiceUnavailable``       503 ``unavailable``: a backing server is down
"""

from __future__ import annotations

from typing import Any

RETRY_AFTER_SECONDS = 2
"""What a 503 tells the client to wait: a restarted server or a failover takes about that."""


class StreamsettleError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(StreamsettleError):
    status_code = 422
    code = "invalid_input"


class AuthenticationFailed(StreamsettleError):
    status_code = 401
    code = "unauthenticated"


class Forbidden(StreamsettleError):
    status_code = 403
    code = "forbidden"


class NotFound(StreamsettleError):
    status_code = 404
    code = "not_found"


class Conflict(StreamsettleError):
    status_code = 409
    code = "conflict"


class RateLimited(StreamsettleError):
    status_code = 429
    code = "rate_limited"


class BatchRefused(StreamsettleError):
    status_code = 409
    code = "batch_refused"


class ServiceUnavailable(StreamsettleError):
    status_code = 503
    code = "unavailable"


def retry_after(exc: StreamsettleError) -> int | None:
    """The seconds a client should wait before retrying: the error's own figure, else
    ``RETRY_AFTER_SECONDS`` for every 503 (each 503 carries a Retry-After)."""
    if isinstance(exc.details, dict) and "retry_after_seconds" in exc.details:
        return int(exc.details["retry_after_seconds"])
    return RETRY_AFTER_SECONDS if exc.status_code == 503 else None
