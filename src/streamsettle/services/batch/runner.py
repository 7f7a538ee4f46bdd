"""Running the daily batch for a date or a range: checks, then the steps, recorded.

``prepare_run`` decides synchronously whether a date may be settled now and records the
running attempt; ``execute_run`` then does the work (the API runs it in a background
thread). A new attempt always re-runs every step: each step is idempotent and its rows are
rewritten in one transaction per partition, so re-running is always correct, and nothing
has to prove that an earlier attempt's rows still match today's inputs (late imports,
a new rate card) before skipping them.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from datetime import date, datetime, timedelta
from time import perf_counter

from sqlalchemy import Connection
from sqlalchemy.orm import Session

from streamsettle import faults
from streamsettle.db.base import utcnow
from streamsettle.db.engine import Database
from streamsettle.db.models import BatchRun, RateCard, WatchLogArchive
from streamsettle.domain.periods import DateRange, business_date
from streamsettle.errors import BatchRefused, InvalidInput
from streamsettle.logging import get_logger
from streamsettle.runtime import Runtime
from streamsettle.services import rate_cards
from streamsettle.services.batch import repository as repo
from streamsettle.services.batch.engines.day import DayInputs, DayParams, DayResults
from streamsettle.services.batch.engines.extract import extract_day
from streamsettle.services.batch.engines.registry import check_engine, columnar_engine
from streamsettle.services.batch.engines.write import rows_per_video
from streamsettle.services.batch.events import BatchEvent, EventHandler, emit
from streamsettle.services.batch.partitions import (
    FULL_RANGE,
    VideoRange,
    partition_count,
    plan_ranges,
    plan_ranges_from_counts,
    run_parallel,
)
from streamsettle.services.batch.steps import (
    AD_STATS,
    COMPUTE,
    CREATOR_TOTALS,
    EXTRACT,
    FLUSH,
    SETTLE,
    STATEMENT_ADJUSTMENTS,
    VIDEO_STATS,
    DayContext,
    analyze_after,
    flush_day,
    run_step,
    write_step,
)
from streamsettle.services.statements.adjustments import record_adjustments
from streamsettle.workers import PeriodicWorker

log = get_logger(__name__)

_ONE_DAY = timedelta(days=1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def prepare_run(
    runtime: Runtime,
    day: date,
    *,
    partitions: int | None = None,
    now: datetime | None = None,
    engine: str | None = None,
) -> int:
    """Check that ``day`` can be settled now and record a running attempt; its id.

    Refuses (``BatchRefused``) a day that is not over yet, a day whose watch logs are
    archived (they are not in the database: it would settle to nothing), a day whose
    previous day is not settled (unless it is the first day with watch logs), a day with no
    valid rate card in force, and a day that another live worker is running. A running
    attempt whose heartbeat is stale is marked failed first ("stale: worker died").
    ``engine`` computes the rules (``settings.engine`` when None; docs/engines.md).
    """
    settings = runtime.settings
    try:
        engine = check_engine(engine or settings.engine, is_sqlite=runtime.db.is_sqlite)
    except ValueError as exc:
        raise BatchRefused(str(exc), {"date": day.isoformat()}) from exc
    now = now or utcnow()
    today = business_date(now, settings.tz)
    if day >= today:
        raise BatchRefused(
            f"{day.isoformat()} is not over yet in {settings.timezone}: "
            f"it can be settled from {(day + _ONE_DAY).isoformat()} on",
            {"date": day.isoformat()},
        )
    parts = partition_count(settings, partitions, is_sqlite=runtime.db.is_sqlite)
    stale_after = timedelta(seconds=settings.batch_stale_after_seconds)
    with runtime.db.session() as session:
        _check_not_archived(session, day)
        _check_previous_day(session, day)
        _check_rate_card(session, day)
        repo.fail_stale_runs(session, day, stale_after)
        current = repo.latest_run(session, day)
        if current is not None and current.status == "running":
            raise BatchRefused(
                f"the batch for {day.isoformat()} is already running "
                f"(run {current.id} on {current.worker}, "
                f"heartbeat {current.heartbeat_at.isoformat(timespec='seconds')})",
                {"date": day.isoformat(), "run_id": current.id},
            )
        return repo.insert_run(session, day, partitions=parts, worker=worker_name(), engine=engine)


def _check_not_archived(session: Session, day: date) -> None:
    archived = session.get(WatchLogArchive, day)
    if archived is not None:
        raise BatchRefused(
            f"the watch logs of {day.isoformat()} are archived ({archived.path}): restore "
            f"them first (streamsettle logs restore --date {day.isoformat()})",
            {"date": day.isoformat()},
        )


def _check_previous_day(session: Session, day: date) -> None:
    previous = day - _ONE_DAY
    first = repo.first_log_date(session)
    if first is None or day <= first:
        return
    run = repo.latest_run(session, previous)
    if run is not None and run.status == "completed":
        return
    state = "has never been run" if run is None else f"its latest run {run.id} is {run.status}"
    raise BatchRefused(
        f"cannot settle {day.isoformat()}: the previous day {previous.isoformat()} is not "
        f"settled ({state}); settle {previous.isoformat()} first, or backfill from the "
        "first unsettled date (streamsettle batch run --from D1 --to D2)",
        {"date": day.isoformat(), "previous_date": previous.isoformat()},
    )


def _check_rate_card(session: Session, day: date) -> int:
    card = rate_cards.card_in_force(session, day)
    if card is None:
        raise BatchRefused(f"no rate card is in force on {day.isoformat()}")
    try:
        rate_cards.to_domain(card)
    except InvalidInput as exc:
        raise BatchRefused(
            f"the rate card in force on {day.isoformat()} (id {card.id}) is invalid: {exc}"
        ) from exc
    return card.id


def _heartbeat(db: Database, run_id: int, interval: float) -> PeriodicWorker:
    """Keeps the run's ``heartbeat_at`` fresh while long statements run elsewhere; ends once
    the run was taken over or finished (the steps notice on commit)."""
    return PeriodicWorker(
        f"batch-heartbeat-{run_id}", interval, lambda: repo.touch(db, run_id), wait_first=True
    )


def execute_run(
    runtime: Runtime,
    run_id: int,
    *,
    on_event: EventHandler | None = None,
    now: datetime | None = None,
) -> BatchRun:
    """Do the steps of a prepared run; the finished run (completed, or failed with its error).

    A failure is recorded and returned, not raised: the run row is the report.
    """
    db = runtime.db
    run = repo.get_run(db, run_id)
    day = run.business_date
    emit(on_event, BatchEvent("run_started", day, run_id, partitions=run.partitions))
    interval = max(0.5, runtime.settings.batch_stale_after_seconds / 4)
    heartbeat = _heartbeat(db, run_id, interval)
    heartbeat.start()
    started = perf_counter()
    try:
        mark = _execute_steps(runtime, run_id, day, run.partitions, run.engine, on_event, now)
    except BaseException as exc:
        error = repo.error_text(exc)
        repo.finish_run(db, run_id, error=error)
        log.error("batch run failed", run_id=run_id, date=day.isoformat(), error=error)
        emit(on_event, _finished(day, run_id, "failed", started, error))
        if not isinstance(exc, Exception):
            raise
    else:
        repo.finish_run(db, run_id, mark=None if mark is None else (day, mark))
        emit(on_event, _finished(day, run_id, "completed", started, _later_dates(db, day)))
    finally:
        heartbeat.stop()
    return repo.get_run(db, run_id)


def _finished(
    day: date, run_id: int, status: str, started: float, message: str | None
) -> BatchEvent:
    seconds = perf_counter() - started
    return BatchEvent("run_finished", day, run_id, status=status, seconds=seconds, message=message)


def _later_dates(db: Database, day: date) -> str | None:
    """Settled later dates priced on this date's old statistics: they need a re-run."""
    with db.session() as session:
        later = sorted(d for d in repo.dates_needing_rerun(session) if d > day)
    if not later:
        return None
    return (
        f"{len(later)} later settled date(s) need a re-run, from {later[0].isoformat()} "
        f"to {later[-1].isoformat()} (streamsettle batch run --from {later[0].isoformat()} "
        f"--to {later[-1].isoformat()})"
    )


def _execute_steps(
    runtime: Runtime,
    run_id: int,
    day: date,
    parts: int,
    engine: str,
    on_event: EventHandler | None,
    now: datetime | None,
) -> int | None:
    """The steps; the version of the date's re-run mark seen after the flush, before any
    step read the logs (so only marks this run has accounted for are cleared at its end)."""
    db = runtime.db

    def unit(
        name: str, video_range: VideoRange, count: int, work: Callable[[Connection], int]
    ) -> int:
        return _run_unit(db, run_id, day, name, video_range.index, count, work, on_event)

    unit(FLUSH, FULL_RANGE, 1, lambda _conn: flush_day(runtime, day, now))
    faults.reached(faults.batch_after_step(FLUSH))

    with db.engine.connect() as conn:
        mark = repo.mark_version(conn, day)
        ranges = plan_ranges(conn, day, parts) if engine == "sql" else []
    with db.session() as session:
        card_id = _check_rate_card(session, day)
    context = DayContext.build(runtime, day, card_id)
    if engine == "sql":

        def work(name: str, r: VideoRange) -> Callable[[Connection], int]:
            return lambda conn: run_step(conn, name, context, r)
    else:
        results = _compute(runtime, engine, context, lambda name, w: unit(name, FULL_RANGE, 1, w))
        ranges = _ranges_of(results, parts)

        def work(name: str, r: VideoRange) -> Callable[[Connection], int]:
            return lambda conn: write_step(conn, name, context, r, results)

    repo.set_partitions(db, run_id, len(ranges))
    emit(on_event, BatchEvent("partitions_planned", day, run_id, partitions=len(ranges)))

    def partitioned(name: str) -> None:
        run_parallel(ranges, lambda r: unit(name, r, len(ranges), work(name, r)))
        analyze_after(db.engine, name)
        faults.reached(faults.batch_after_step(name))

    partitioned(VIDEO_STATS)
    unit(AD_STATS, FULL_RANGE, 1, work(AD_STATS, FULL_RANGE))
    faults.reached(faults.batch_after_step(AD_STATS))
    partitioned(SETTLE)
    unit(CREATOR_TOTALS, FULL_RANGE, 1, work(CREATOR_TOTALS, FULL_RANGE))
    unit(STATEMENT_ADJUSTMENTS, FULL_RANGE, 1, lambda conn: record_adjustments(conn, day))
    return mark


def _compute(
    runtime: Runtime,
    engine: str,
    context: DayContext,
    unit: Callable[[str, Callable[[Connection], int]], int],
) -> DayResults:
    """Steps ``extract`` and ``compute`` of a columnar run: the day's inputs read in one
    snapshot, then the engine's result tables (held in memory for the write steps)."""
    settings = runtime.settings
    with runtime.db.session() as session:
        card = session.get(RateCard, context.rate_card_id)
        assert card is not None
        domain_card = rate_cards.to_domain(card)
    params = DayParams(context.day, context.window, context.rate_card_id)
    held: list[DayInputs | DayResults] = []

    def extract(_conn: Connection) -> int:
        inputs = extract_day(settings.database_url, params, settings.tz, domain_card)
        held.append(inputs)
        return int(inputs.logs.num_rows)

    def compute(_conn: Connection) -> int:
        inputs = held.pop()
        assert isinstance(inputs, DayInputs)
        results = columnar_engine(settings, engine).compute(inputs)
        held.append(results)
        return results.row_count

    unit(EXTRACT, extract)
    faults.reached(faults.batch_after_step(EXTRACT))
    unit(COMPUTE, compute)
    faults.reached(faults.batch_after_step(COMPUTE))
    (results,) = held
    assert isinstance(results, DayResults)
    return results


def _ranges_of(results: DayResults, parts: int) -> list[VideoRange]:
    """A columnar run's partitions: about the same number of rows to write in each (its
    partitions only write; the SQL engine's, which compute, share out the logs)."""
    return plan_ranges_from_counts(*rows_per_video(results), parts)


def _run_unit(
    db: Database,
    run_id: int,
    day: date,
    name: str,
    partition: int,
    partitions: int,
    work: Callable[[Connection], int],
    on_event: EventHandler | None,
) -> int:
    """One step (or one partition of it) in one transaction, recorded in ``batch_steps``."""
    step_id = repo.start_step(db, run_id, name, partition)
    emit(on_event, BatchEvent("step_started", day, run_id, name, partition, partitions))
    started = perf_counter()
    try:
        with db.engine.begin() as conn:
            rows = work(conn)
            repo.complete_step(conn, run_id, step_id, rows)
    except BaseException as exc:
        error = repo.error_text(exc)
        repo.fail_step(db, step_id, error)
        emit(
            on_event,
            BatchEvent("step_failed", day, run_id, name, partition, partitions, message=error),
        )
        raise
    seconds = perf_counter() - started
    emit(
        on_event,
        BatchEvent("step_finished", day, run_id, name, partition, partitions, rows, seconds),
    )
    return rows


def run_date(
    runtime: Runtime,
    day: date,
    *,
    partitions: int | None = None,
    on_event: Callable[[BatchEvent], None] | None = None,
    now: datetime | None = None,
    engine: str | None = None,
) -> BatchRun:
    """Settle one business date: the finished run (``status`` completed or failed).

    Raises ``BatchRefused`` when the date cannot be settled now (see ``prepare_run``).
    """
    run_id = prepare_run(runtime, day, partitions=partitions, now=now, engine=engine)
    return execute_run(runtime, run_id, on_event=on_event, now=now)


def run_range(
    runtime: Runtime,
    start: date,
    end: date,
    *,
    partitions: int | None = None,
    on_event: Callable[[BatchEvent], None] | None = None,
    now: datetime | None = None,
    skip_completed: bool = False,
    engine: str | None = None,
) -> list[BatchRun]:
    """A backfill: ``start..end`` (inclusive) in order, stopping at the first failed run
    (a refused date raises ``BatchRefused``). With ``skip_completed``, dates whose latest run
    completed and that do not need a re-run are skipped."""
    runs: list[BatchRun] = []
    for day in DateRange(start, end).days():
        if skip_completed and _is_settled(runtime.db, day):
            emit(on_event, BatchEvent("date_skipped", day, message="already settled"))
            continue
        run = run_date(
            runtime, day, partitions=partitions, on_event=on_event, now=now, engine=engine
        )
        runs.append(run)
        if run.status != "completed":
            break
    return runs


def _is_settled(db: Database, day: date) -> bool:
    with db.session() as session:
        latest = repo.latest_run(session, day)
        return (
            latest is not None
            and latest.status == "completed"
            and day not in repo.dates_needing_rerun(session)
        )
