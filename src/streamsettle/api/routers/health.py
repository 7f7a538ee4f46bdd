"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from streamsettle.api.deps import RuntimeDep
from streamsettle.api.errors import RETRY_AFTER_SECONDS, error_response

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


@router.get("/metrics")
def metrics(runtime: RuntimeDep) -> Response:
    runtime.db.replica_status()  # a scrape refreshes the lag gauges (at most once per interval)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
