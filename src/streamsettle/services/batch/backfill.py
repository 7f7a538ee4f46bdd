"""Settling started from a request (``POST /api/v1/admin/batch-runs`` for one date, the admin
console for a range): the first date is checked and recorded at once, the dates are then
settled in order in a background thread, stopping at the first failure.

Progress lives where every run's does, in ``batch_runs`` / ``batch_steps`` (see
``services.queries.admin.backfill_progress``), so any process can report it. Only a later
date's refusal (its previous day did not complete, no rate card) has no run row to show:
it is kept in this process, by the first run's id, for the pages that follow the backfill.
"""

from __future__ import annotations

import threading
from datetime import date, timedelta

from streamsettle.domain.periods import DateRange, Period, PeriodOutOfRange, period_range
from streamsettle.errors import BatchRefused, InvalidInput
from streamsettle.logging import get_logger
from streamsettle.runtime import Runtime
from streamsettle.services.batch.runner import execute_run, prepare_run, run_date

log = get_logger(__name__)

MAX_BACKFILL_DAYS = 366
KEPT_REFUSALS = 100
_refusals: dict[int, str] = {}
_refusals_lock = threading.Lock()


def check_settleable(day: date) -> date:
    """A date whose day, week and month (the batch rolls up all three) are supported dates."""
    try:
        for period in Period:
            period_range(period, day)
    except PeriodOutOfRange as exc:
        raise InvalidInput(str(exc), {"date": day.isoformat()}) from exc
    return day


def check_range(first: date, last: date) -> DateRange:
    if first > last:
        raise InvalidInput(f"the first date {first} is after the last {last}")
    dates = DateRange(check_settleable(first), check_settleable(last))
    if dates.day_count > MAX_BACKFILL_DAYS:
        raise InvalidInput(f"a backfill covers at most {MAX_BACKFILL_DAYS} days")
    return dates


def refusal(first_run_id: int) -> str | None:
    """Why the backfill that began with this run stopped before its last date, if it was
    refused in this process."""
    with _refusals_lock:
        return _refusals.get(first_run_id)


def start_backfill(runtime: Runtime, first: date, last: date, *, user_id: int) -> int:
    """Settle ``first..last`` in the background; the first date's run id.

    Raises ``BatchRefused`` / ``InvalidInput`` at once when the first date cannot be settled
    now. The user's reads stay on the primary until the replica has the results.
    """
    dates = check_range(first, last)
    run_id = prepare_run(runtime, dates.start)
    replica = runtime.db.replica
    if replica is not None:
        replica.pin(user_id)

    def target() -> None:
        try:
            run = execute_run(runtime, run_id)
            day = dates.start
            while run.status == "completed" and day < dates.end:
                day += timedelta(days=1)
                try:
                    run = run_date(runtime, day)
                except BatchRefused as exc:
                    with _refusals_lock:
                        _refusals[run_id] = f"{day.isoformat()}: {exc.message}"
                        while len(_refusals) > KEPT_REFUSALS:
                            del _refusals[next(iter(_refusals))]
                    return
        except Exception:  # execute_run records failures; this is only a last resort
            log.exception("backfill crashed", first_run_id=run_id)
        finally:
            if replica is not None:
                replica.release(user_id)

    threading.Thread(target=target, name=f"backfill-{run_id}", daemon=True).start()
    return run_id
