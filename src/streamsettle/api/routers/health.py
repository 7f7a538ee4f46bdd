"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from streamsettle.api.deps import get_claims, get_optional_claims
from streamsettle.api.errors import error_response
from streamsettle.db.models import User
from streamsettle.errors import RETRY_AFTER_SECONDS, AuthenticationFailed, Forbidden
from streamsettle.http.deps import RuntimeDep

router = APIRouter(tags=["service"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(runtime: RuntimeDep) -> dict[str, object] | Response:
    """Ready while the database and Redis answer; a 503 with Retry-After while either is down.

    Each check fails within the connect and socket timeouts, and a server that comes back is
    used again by the next check (the pool pre-pings, Redis reconnects).
    """
    replica = runtime.db.replica_status().as_dict()
    checks: dict[str, str] = {}
    try:
        with runtime.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # any failure means not ready; the kind is reported
        checks["database"] = f"error: {type(exc).__name__}"
    if runtime.redis is not None:
        try:
            runtime.redis.ping()
            checks["redis"] = "ok"
        except Exception as exc:
            checks["redis"] = f"error: {type(exc).__name__}"
    else:
        checks["redis"] = "not configured"
    if any(v.startswith("error") for v in checks.values()):
        return error_response(
            503,
            "unavailable",
            "a backing server is unreachable",
            {**checks, **replica},
            {"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    return {"status": "ready", "checks": checks, **replica}


_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="MetricsBearer",
    description="STREAMSETTLE_METRICS_TOKEN, or an admin's access token",
)


def require_metrics_reader(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """Let through the configured metrics token (what Prometheus sends) or an admin.

    The metrics name every route and its traffic, so they are not for everyone; a scraper
    gets a long-lived token of its own rather than an access token that expires.
    """
    expected = runtime.settings.metrics_token
    if (
        credentials is not None
        and expected is not None
        and hmac.compare_digest(
            credentials.credentials.encode(), expected.get_secret_value().encode()
        )
    ):
        return
    claims = get_claims(get_optional_claims(runtime, credentials))
    with runtime.db.session() as session:  # roles as they are now, not a replica's
        user = session.get(User, claims.user_id)
        if user is None:
            raise AuthenticationFailed("the token's user no longer exists")
        if not user.has_role("admin"):
            raise Forbidden("metrics are for the metrics token or an admin")


@router.get(
    "/metrics",
    dependencies=[Depends(require_metrics_reader)],
    response_class=Response,
    responses={
        200: {"content": {CONTENT_TYPE_LATEST.split(";")[0]: {}}},
        403: {"description": "a user who is not an admin"},
    },
)
def metrics(runtime: RuntimeDep) -> Response:
    """Prometheus metrics of this process."""
    runtime.db.replica_status()  # a scrape refreshes the lag gauges (at most once per interval)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
