"""The job repository: batch runs and their steps in ``batch_runs`` / ``batch_steps``.

Every run is one attempt at one business date. A ``running`` run keeps ``heartbeat_at``
fresh; one whose heartbeat is older than ``batch_stale_after_seconds`` is stale (its
worker died) and the next attempt at that date marks it failed. The partial unique index
``uq_batch_runs_one_running_per_date`` makes "one running attempt per date" a database
fact, so two workers racing for the same date cannot both start.

Timestamps here are always the real clock (``utcnow``): they describe the job, not the
business day, so an injected business clock never makes a live run look stale.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from streamsettle.db import partitions
from streamsettle.db.base import utcnow
from streamsettle.db.engine import Database
from streamsettle.db.models import BatchRun, BatchStep, RateCard, RerunMark, WatchLog
from streamsettle.errors import BatchRefused, NotFound

STALE_ERROR = "stale: worker died (no heartbeat since {heartbeat})"
MAX_ERROR_CHARS = 2000


class RunLost(RuntimeError):
    """This attempt is no longer the running one (another worker declared it stale)."""


def error_text(exc: BaseException) -> str:
    """A short, readable error for the repository: the driver's message, not the SQL dump."""
    cause = getattr(exc, "orig", None) or exc
    text = f"{type(cause).__name__}: {cause}".strip()
    return text[:MAX_ERROR_CHARS]


def fail_stale_runs(session: Session, day: date, stale_after: timedelta) -> list[int]:
    """Mark ``day``'s running attempts whose heartbeat is too old as failed; their ids."""
    now = utcnow()
    stale = list(
        session.execute(
            select(BatchRun.id, BatchRun.heartbeat_at).where(
                BatchRun.business_date == day,
                BatchRun.status == "running",
                BatchRun.heartbeat_at < now - stale_after,
            )
        ).all()
    )
    for run_id, heartbeat in stale:
        message = STALE_ERROR.format(heartbeat=heartbeat.isoformat(timespec="seconds"))
        session.execute(
            update(BatchRun)
            .where(BatchRun.id == run_id, BatchRun.status == "running")
            .values(status="failed", finished_at=now, error=message)
        )
        session.execute(
            update(BatchStep)
            .where(BatchStep.run_id == run_id, BatchStep.status == "running")
            .values(status="failed", finished_at=now, error="stale: worker died")
        )
    return [run_id for run_id, _ in stale]


def latest_run(session: Session, day: date) -> BatchRun | None:
    """The newest attempt at ``day`` (any status)."""
    return session.scalars(
        select(BatchRun).where(BatchRun.business_date == day).order_by(BatchRun.id.desc()).limit(1)
    ).first()


def first_log_date(session: Session) -> date | None:
    """The earliest business date that has watch logs: the chain of settlements starts there.

    On PostgreSQL, the first day partition that holds a row, one pruned probe a day: nothing
    indexes the date, so ``min(business_date)`` would read every log of every day (the
    scheduler asks at every tick).
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return session.scalar(select(func.min(WatchLog.business_date)))
    for day in partitions.attached_days(conn):
        probe = select(WatchLog.business_date).where(WatchLog.business_date == day).limit(1)
        if session.scalar(probe) is not None:
            return day
    return None


def latest_completed_date(session: Session) -> date | None:
    return session.scalar(
        select(func.max(BatchRun.business_date)).where(BatchRun.status == "completed")
    )


def insert_run(
    session: Session, day: date, *, partitions: int, worker: str, engine: str = "sql"
) -> int:
    """Insert the running attempt; ``BatchRefused`` if another one is running for ``day``."""
    run = BatchRun(
        business_date=day, status="running", partitions=partitions, worker=worker, engine=engine
    )
    try:
        with session.begin_nested():
            session.add(run)
            session.flush()
    except IntegrityError as exc:
        raise BatchRefused(
            f"the batch for {day.isoformat()} is already running", {"date": day.isoformat()}
        ) from exc
    return run.id


def set_partitions(db: Database, run_id: int, partitions: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(update(BatchRun).where(BatchRun.id == run_id).values(partitions=partitions))


def touch(db: Database, run_id: int) -> bool:
    """Refresh the heartbeat; False when the run is no longer running (it was taken over)."""
    with db.engine.begin() as conn:
        result = conn.execute(
            update(BatchRun)
            .where(BatchRun.id == run_id, BatchRun.status == "running")
            .values(heartbeat_at=utcnow())
        )
    return result.rowcount == 1


def start_step(db: Database, run_id: int, name: str, partition: int) -> int:
    """Record a step (or one partition of it) as running, committed so that it is visible."""
    with db.session() as session:
        step = BatchStep(run_id=run_id, name=name, partition=partition, status="running")
        session.add(step)
        session.flush()
        return step.id


def complete_step(conn: Connection, run_id: int, step_id: int, rows: int) -> None:
    """Mark the step completed inside the step's own transaction, so "completed" is exactly
    "its rows are committed". Raises ``RunLost`` (rolling the step back) if the run was
    declared stale meanwhile."""
    is_running = (
        select(BatchRun.id).where(BatchRun.id == run_id, BatchRun.status == "running").exists()
    )
    result = conn.execute(
        update(BatchStep)
        .where(BatchStep.id == step_id, is_running)
        .values(status="completed", rows=rows, finished_at=utcnow())
    )
    if result.rowcount != 1:
        raise RunLost(f"batch run {run_id} is no longer running (declared stale?)")


def fail_step(db: Database, step_id: int, error: str) -> None:
    with db.engine.begin() as conn:
        conn.execute(
            update(BatchStep)
            .where(BatchStep.id == step_id)
            .values(status="failed", finished_at=utcnow(), error=error)
        )


def finish_run(
    db: Database, run_id: int, *, error: str | None = None, mark: tuple[date, int] | None = None
) -> None:
    """Completed (no error) or failed; only a run that is still running changes.

    ``mark`` is the date's re-run mark version the run saw before it read the logs; a
    completed run clears it in the same transaction, unless the date was marked again since.
    """
    now = utcnow()
    with db.engine.begin() as conn:
        finished = conn.execute(
            update(BatchRun)
            .where(BatchRun.id == run_id, BatchRun.status == "running")
            .values(
                status="failed" if error else "completed",
                finished_at=now,
                heartbeat_at=now,
                error=error,
            )
        )
        if finished.rowcount == 1 and error is None and mark is not None:
            day, version = mark
            conn.execute(
                delete(RerunMark).where(
                    RerunMark.business_date == day, RerunMark.version == version
                )
            )


def get_run(db: Database, run_id: int) -> BatchRun:
    """A run with its steps; ``NotFound`` for an unknown id."""
    with db.session() as session:
        run = session.get(BatchRun, run_id, populate_existing=True)
        if run is None:
            raise NotFound(f"no batch run {run_id}")
        _ = run.steps
        return run


def list_runs(db: Database, day: date | None = None, limit: int = 50) -> Sequence[BatchRun]:
    """The newest runs first, optionally of one date."""
    with db.session() as session:
        query = select(BatchRun).order_by(BatchRun.id.desc()).limit(limit)
        if day is not None:
            query = query.where(BatchRun.business_date == day)
        runs = list(session.scalars(query))
        for run in runs:
            _ = run.steps
        return runs


def dates_needing_rerun(session: Session) -> dict[date, str]:
    """Dates whose settlement may be out of date, with the reason.

    A date is marked (``rerun_marks``) when watch logs were stored for it after a run of it
    began. A date's settlement also prices its views on top of every earlier day's
    statistics and with the rate card in force, so it is stale when, after its latest
    completed run, an earlier date was re-run or a rate card that applies to it was added.
    Conservative: a re-run that changed nothing still flags the later dates (re-running
    them is cheap and idempotent).
    """
    rows = session.execute(
        select(BatchRun.business_date, func.max(BatchRun.finished_at))
        .where(BatchRun.status == "completed")
        .group_by(BatchRun.business_date)
    ).all()
    finished: dict[date, datetime] = {day: at for day, at in rows if at is not None}
    cards = list(session.execute(select(RateCard.effective_from, RateCard.created_at)).all())
    reasons: dict[date, str] = {}
    latest_before: datetime | None = None
    latest_day: date | None = None
    for day in sorted(finished):
        done = finished[day]
        if latest_before is not None and latest_before > done and latest_day is not None:
            reasons[day] = f"{latest_day.isoformat()} was re-run after it"
        else:
            in_force = max(((eff, created) for eff, created in cards if eff <= day), default=None)
            if in_force is not None and in_force[1] > done:
                effective = in_force[0].isoformat()
                reasons[day] = f"the rate card effective {effective} was added after it"
        if latest_before is None or done > latest_before:
            latest_before, latest_day = done, day
    for day, at in marked_dates(session).items():
        late = f"watch logs arrived after it was run (since {at.isoformat(timespec='seconds')})"
        reasons[day] = f"{late}; {reasons[day]}" if day in reasons else late
    return dict(sorted(reasons.items()))


def mark_version(conn: Connection, day: date) -> int | None:
    """The version of ``day``'s re-run mark now (None: not marked)."""
    return conn.scalar(select(RerunMark.version).where(RerunMark.business_date == day))


def marked_dates(session: Session) -> dict[date, datetime]:
    """Dates marked as needing a re-run because watch logs arrived after a run began,
    oldest first, with the time each was first marked."""
    rows = session.execute(
        select(RerunMark.business_date, RerunMark.marked_at).order_by(RerunMark.business_date)
    ).all()
    return {day: at for day, at in rows}
