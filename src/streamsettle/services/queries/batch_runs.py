"""The latest batch runs, for the admin's overview on the settlement page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamsettle.db.models import BatchRun, User
from streamsettle.services.queries.access import require_admin
from streamsettle.services.queries.results import BatchRunLine


def latest_batch_runs(session: Session, user: User, *, limit: int = 10) -> list[BatchRunLine]:
    require_admin(user)
    r = BatchRun
    rows = session.execute(
        select(
            r.id.label("run_id"),
            r.business_date.label("date"),
            r.status,
            r.started_at,
            r.finished_at,
            r.error,
        )
        .order_by(r.started_at.desc(), r.id.desc())
        .limit(limit)
    ).all()
    return [BatchRunLine.model_validate(row._mapping) for row in rows]
