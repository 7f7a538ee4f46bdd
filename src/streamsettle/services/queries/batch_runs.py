"""The latest batch runs, for the admin's overview on the settlement page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamsettle.db.models import BatchRun, User
from streamsettle.services.queries.access import require_admin
from streamsettle.services.queries.results import BatchRunLine


def latest_batch_runs(session: Session, user: User, *, limit: int = 10) -> list[BatchRunLine]:
    require_admin(user)
    runs = session.scalars(
        select(BatchRun).order_by(BatchRun.started_at.desc(), BatchRun.id.desc()).limit(limit)
    ).all()
    return [
        BatchRunLine(
            run_id=run.id,
            date=run.business_date,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            error=run.error,
        )
        for run in runs
    ]
