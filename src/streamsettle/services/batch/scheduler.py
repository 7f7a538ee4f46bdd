"""The batch scheduler: at every tick, make sure the day partitions of ``watch_logs`` exist
from yesterday to a week ahead (``db.partitions``), so writers rarely create one. Once the
platform clock passes ``batch_schedule_time`` (default 00:30), settle yesterday, catching
up on every unsettled date before it, in order; and, at any time of day, settle again the
dates marked because watch logs arrived for them after they were run (``rerun_marks``),
oldest first; then close the previous month when it is due (``statement_close_day``, see
``services.statements.schedule``).

Any number of servers may run the scheduler; a lease row (``leases``, taken with one atomic
upsert-if-expired statement) lets only one of them start runs at a time, and the job
repository's one-running-run-per-date index is the hard guarantee behind it. The clock is
an argument, so tests pin it.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Callable
from datetime import date, datetime, time, timedelta

from prometheus_client import Gauge
from sqlalchemy import String, bindparam, text

from streamsettle.db import partitions
from streamsettle.db.base import UTCDateTime, utcnow
from streamsettle.db.models import BatchRun
from streamsettle.domain.periods import business_date, previous_business_date
from streamsettle.errors import BatchRefused
from streamsettle.logging import get_logger
from streamsettle.runtime import Runtime
from streamsettle.services.batch import repository as repo
from streamsettle.services.batch.events import EventHandler
from streamsettle.services.batch.runner import run_date
from streamsettle.services.statements.schedule import close_due_month

log = get_logger(__name__)

LEASE_NAME = "batch-scheduler"
TICK_INTERVAL_SECONDS = 30.0
"""Also how often marked dates are looked for: a late log is re-settled within a minute."""
DAYS_AHEAD = 7
"""The day partitions made sure of at every tick: yesterday to this many days ahead."""

DATES_NEEDING_RERUN = Gauge(
    "streamsettle_batch_dates_needing_rerun",
    "Dates whose settlement is out of date (late watch logs, an earlier date re-run, a new "
    "rate card); set by the scheduler at every tick",
)
Clock = Callable[[], datetime]

_ACQUIRE = text(
    """
INSERT INTO leases (name, holder, expires_at) VALUES (:name, :holder, :expires_at)
ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
WHERE leases.expires_at < :now OR leases.holder = excluded.holder
RETURNING holder
"""
).bindparams(
    bindparam("name", type_=String()),
    bindparam("holder", type_=String()),
    bindparam("expires_at", type_=UTCDateTime()),
    bindparam("now", type_=UTCDateTime()),
)
_RELEASE = text(
    "UPDATE leases SET expires_at = :now WHERE name = :name AND holder = :holder"
).bindparams(bindparam("now", type_=UTCDateTime()))


def default_holder() -> str:
    """Unique per scheduler instance: host, process and a random suffix."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def acquire_lease(
    runtime: Runtime, holder: str, ttl: timedelta, *, now: datetime | None = None
) -> bool:
    """Take (or renew) the lease if it is free, expired or already ours; atomic."""
    now = now or utcnow()
    with runtime.db.engine.begin() as conn:
        row = conn.execute(
            _ACQUIRE,
            {"name": LEASE_NAME, "holder": holder, "expires_at": now + ttl, "now": now},
        ).first()
    return row is not None


def release_lease(runtime: Runtime, holder: str, *, now: datetime | None = None) -> None:
    with runtime.db.engine.begin() as conn:
        conn.execute(_RELEASE, {"name": LEASE_NAME, "holder": holder, "now": now or utcnow()})


def schedule_time(runtime: Runtime) -> time:
    hours, minutes = runtime.settings.batch_schedule_time.split(":")
    return time(int(hours), int(minutes))


def due_dates(runtime: Runtime, now: datetime) -> list[date]:
    """The dates the scheduler should settle at ``now``, oldest first (maybe none).

    At any time: the dates marked as needing a re-run (late watch logs). After the schedule
    time also: from the day after the latest settled date (or the first day with watch logs,
    when nothing was ever settled) to yesterday.
    """
    return sorted(_marked_due(runtime, now) | set(_catch_up_dates(runtime, now)))


def _marked_due(runtime: Runtime, now: datetime) -> set[date]:
    yesterday = previous_business_date(now, runtime.settings.tz)
    with runtime.db.session() as session:
        return {day for day in repo.marked_dates(session) if day <= yesterday}


def _catch_up_dates(runtime: Runtime, now: datetime) -> list[date]:
    tz = runtime.settings.tz
    if now.astimezone(tz).time() < schedule_time(runtime):
        return []
    yesterday = previous_business_date(now, tz)
    with runtime.db.session() as session:
        settled = repo.latest_completed_date(session)
        first_logs = repo.first_log_date(session)
    if settled is not None:
        start = settled + timedelta(days=1)
    else:
        start = min(first_logs, yesterday) if first_logs is not None else yesterday
    return [start + timedelta(days=i) for i in range((yesterday - start).days + 1)]


def ensure_partitions(runtime: Runtime, now: datetime) -> list[date]:
    """Create the missing day partitions from yesterday to ``DAYS_AHEAD`` days ahead; the
    days created (none on SQLite, or when they all exist: a cached check)."""
    today = business_date(now, runtime.settings.tz)
    days = [today + timedelta(days=i) for i in range(-1, DAYS_AHEAD + 1)]
    with runtime.db.engine.begin() as conn:
        created = partitions.ensure_days(conn, days)
    if created:
        log.info("watch log partitions created", days=[d.isoformat() for d in created])
    return created


def _update_gauge(runtime: Runtime) -> None:
    with runtime.db.session() as session:
        DATES_NEEDING_RERUN.set(len(repo.dates_needing_rerun(session)))


def tick(
    runtime: Runtime,
    *,
    holder: str,
    now: datetime | None = None,
    on_event: EventHandler | None = None,
) -> list[BatchRun]:
    """One scheduler pass: the runs it made (none when not due or another holder leads)."""
    now = now or utcnow()
    ensure_partitions(runtime, now)
    _update_gauge(runtime)
    if not due_dates(runtime, now):
        return []
    ttl = timedelta(seconds=2 * runtime.settings.batch_stale_after_seconds)
    if not acquire_lease(runtime, holder, ttl):
        return []
    runs: list[BatchRun] = []
    try:
        # Again under the lease: another holder may have settled them meanwhile.
        marked = _marked_due(runtime, now)
        for day in due_dates(runtime, now):
            if not acquire_lease(runtime, holder, ttl):  # renew between dates
                break
            try:
                run = run_date(runtime, day, on_event=on_event, now=now)
            except BatchRefused as exc:
                log.warning("scheduled batch refused", date=day.isoformat(), error=exc.message)
                if day in marked:
                    continue  # e.g. a run of that date is in progress: later dates may go on
                break
            runs.append(run)
            reason = "late watch logs" if day in marked else "due"
            log.info(
                "scheduled batch",
                date=day.isoformat(),
                run_id=run.id,
                status=run.status,
                reason=reason,
            )
            if run.status != "completed":
                break
    finally:
        release_lease(runtime, holder)
        _update_gauge(runtime)
    return runs


def make_tick(runtime: Runtime, clock: Clock | None = None) -> Callable[[], list[BatchRun]]:
    """A no-argument tick for ``PeriodicWorker``, with its own lease holder id."""
    holder = default_holder()

    def run_tick() -> list[BatchRun]:
        now = clock() if clock else utcnow()
        runs = tick(runtime, holder=holder, now=now)
        close_due_month(runtime, now)
        return runs

    return run_tick
