"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text

from streamsettle.api.deps import RuntimeDep
from streamsettle.api.errors import error_response

router = APIRouter(tags=["service"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=None)
def readyz(runtime: RuntimeDep) -> dict[str, object] | Response:
    """Ready when the primary and Redis answer; a lost read replica only degrades reads,
    which then go to the primary, so its state is reported without failing the probe."""
    replica = runtime.db.replica_status().as_dict()
    checks: dict[str, str] = {}
    try:
        with runtime.db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
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
        details = {**checks, **replica}
        return error_response(503, "unavailable", "a backing server is unreachable", details)
    return {"status": "ready", "checks": checks, **replica}


@router.get("/metrics")
def metrics(runtime: RuntimeDep) -> Response:
    runtime.db.replica_status()  # a scrape refreshes the lag gauges (at most once per interval)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
