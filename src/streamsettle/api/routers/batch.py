"""Admin routes of the daily batch: start a run, follow it, list runs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, status

from streamsettle.api.deps import AdminUser, RecordsWrites
from streamsettle.api.openapi import errors
from streamsettle.api.params import IsoDate
from streamsettle.api.schemas.batch import (
    BatchRunAccepted,
    BatchRunCreate,
    BatchRunList,
    BatchRunPublic,
    BatchStepPublic,
)
from streamsettle.db.models import BatchRun
from streamsettle.http.deps import RuntimeDep
from streamsettle.services.batch import repository as repo
from streamsettle.services.batch.backfill import start_backfill

router = APIRouter(prefix="/api/v1", tags=["batch"])

RunId = Annotated[int, Path(ge=1, le=2**63 - 1)]


# The run's fields named as its row's columns; ``run_id``, ``date`` and ``steps`` are not.
_COLUMNS = BatchRunPublic.model_fields.keys() - {"run_id", "date", "steps"}


def _public(run: BatchRun) -> BatchRunPublic:
    return BatchRunPublic(
        run_id=run.id,
        date=run.business_date,
        steps=[BatchStepPublic.model_validate(s, from_attributes=True) for s in run.steps],
        **{name: getattr(run, name) for name in _COLUMNS},
    )


@router.post(
    "/admin/batch-runs",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BatchRunAccepted,
    dependencies=[RecordsWrites],
    responses=errors({409: "the date cannot be settled now, or is already running"}),
)
def start_batch_run(
    body: BatchRunCreate, admin: AdminUser, runtime: RuntimeDep
) -> BatchRunAccepted:
    """Settle a business date in the background; follow it with GET …/batch-runs/{run_id}."""
    run_id = start_backfill(runtime, body.date, body.date, user_id=admin.id)
    return BatchRunAccepted(run_id=run_id, status="running")


@router.get(
    "/admin/batch-runs/{run_id}",
    response_model=BatchRunPublic,
    responses=errors({404: "no such run"}),
)
def get_batch_run(run_id: RunId, _: AdminUser, runtime: RuntimeDep) -> BatchRunPublic:
    return _public(repo.get_run(runtime.db, run_id))


@router.get("/admin/batch-runs", response_model=BatchRunList)
def list_batch_runs(
    _: AdminUser,
    runtime: RuntimeDep,
    day: Annotated[
        IsoDate | None, Query(alias="date", description="only runs of this business date")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> BatchRunList:
    """The newest runs first."""
    return BatchRunList(items=[_public(r) for r in repo.list_runs(runtime.db, day, limit)])
