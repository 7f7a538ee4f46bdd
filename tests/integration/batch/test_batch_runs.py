"""The job repository: refusals, one running attempt per date, failures recorded, stale runs
taken over, a killed run restarted to the same rows, backfills in order."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from streamsettle import faults
from streamsettle.cli import app
from streamsettle.config import get_settings
from streamsettle.db.models import BatchRun, DailySettlement, DailyVideoStats, WatchLogArchive
from streamsettle.errors import BatchRefused
from streamsettle.runtime import Runtime
from streamsettle.services.batch import BatchEvent, prepare_run, run_date, run_range, runner, steps
from streamsettle.services.batch import repository as repo
from tests.integration.batch.batch_world import World

D1 = date(2024, 4, 1)
D2 = date(2024, 4, 2)
D3 = date(2024, 4, 3)


def _day(world: World, day: date, views: int = 2) -> int:
    creator = world.user("creator")
    video = world.video(creator)
    for i in range(views):
        world.log(video, world.at(day, f"{10 + i}:00:00"), ip=f"10.3.{day.day}.{i}")
    return video


def _runs(runtime: Runtime) -> list[BatchRun]:
    with runtime.db.session() as session:
        return list(session.scalars(sa.select(BatchRun).order_by(BatchRun.id)))


def test_refuses_a_date_whose_previous_date_is_not_settled(world: World) -> None:
    _day(world, D1)
    _day(world, D2)
    with pytest.raises(BatchRefused, match="previous day 2024-04-01 is not settled"):
        run_date(world.runtime, D2)
    assert _runs(world.runtime) == []  # a refusal writes nothing
    assert run_date(world.runtime, D1).status == "completed"  # the first date with logs
    assert run_date(world.runtime, D2).status == "completed"


def test_dates_before_any_watch_log_need_no_previous_day(world: World) -> None:
    _day(world, D3)
    assert run_date(world.runtime, D1).status == "completed"  # nothing to settle: fine
    assert run_date(world.runtime, D3).status == "completed"  # the first date with logs


def test_an_archived_day_is_refused(world: World) -> None:
    """Its logs are out of the database: a run would settle it to nothing."""
    _day(world, D1, views=3)
    assert run_date(world.runtime, D1).status == "completed"
    settled = world.snapshot(D1)
    with world.runtime.db.session() as session:
        session.add(WatchLogArchive(business_date=D1, path="a.parquet", rows=3, sha256="0" * 64))
    with pytest.raises(BatchRefused, match=r"2024-04-01 are archived .* restore them first"):
        run_date(world.runtime, D1)
    assert world.snapshot(D1) == settled  # the settled results stay


def test_refuses_a_day_that_is_not_over(world: World) -> None:
    _day(world, D1)
    with pytest.raises(BatchRefused, match="not over yet"):
        run_date(world.runtime, D1, now=world.at(D1, "23:59:00"))
    assert run_date(world.runtime, D1, now=world.at(D2, "00:00:01")).status == "completed"


def test_one_running_attempt_per_date(pg_world: World) -> None:
    runtime = pg_world.runtime
    _day(pg_world, D1)
    results: list[object] = []
    barrier = threading.Barrier(2)

    def contender() -> None:
        barrier.wait()
        try:
            results.append(prepare_run(runtime, D1))
        except BatchRefused as exc:
            results.append(exc)

    threads = [threading.Thread(target=contender) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    run_ids = [r for r in results if isinstance(r, int)]
    refusals = [r for r in results if isinstance(r, BatchRefused)]
    assert len(run_ids) == 1 and len(refusals) == 1
    assert "already running" in refusals[0].message
    with pytest.raises(BatchRefused, match="already running"):
        run_date(runtime, D1)


def test_a_failed_step_is_recorded_and_a_backfill_stops_there(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    for day in (D1, D2, D3):
        _day(world, day)
    real_flush = steps.flush_day

    def flaky_flush(runtime: Runtime, day: date, now: datetime | None) -> int:
        if day == D2:
            raise RuntimeError("flusher unavailable")
        return real_flush(runtime, day, now)

    monkeypatch.setattr(runner, "flush_day", flaky_flush)
    runs = run_range(world.runtime, D1, D3)
    assert [(r.business_date, r.status) for r in runs] == [(D1, "completed"), (D2, "failed")]
    failed = runs[1]
    assert failed.error == "RuntimeError: flusher unavailable"
    assert [(s.name, s.status) for s in failed.steps] == [("flush", "failed")]
    with pytest.raises(BatchRefused, match=r"its latest run \d+ is failed"):
        run_date(world.runtime, D3)

    monkeypatch.setattr(runner, "flush_day", real_flush)
    events: list[BatchEvent] = []
    runs = run_range(world.runtime, D1, D3, skip_completed=True, on_event=events.append)
    assert [(r.business_date, r.status) for r in runs] == [(D2, "completed"), (D3, "completed")]
    assert [e.day for e in events if e.kind == "date_skipped"] == [D1]


def test_rerunning_an_earlier_date_marks_later_dates_for_a_rerun(world: World) -> None:
    for day in (D1, D2, D3):
        _day(world, day)
    run_range(world.runtime, D1, D3)
    with world.runtime.db.session() as session:
        assert repo.dates_needing_rerun(session) == {}
    events: list[BatchEvent] = []
    run_date(world.runtime, D1, on_event=events.append)
    finished = [e for e in events if e.kind == "run_finished"]
    assert finished[0].message is not None and "2 later settled date(s)" in finished[0].message
    with world.runtime.db.session() as session:
        assert set(repo.dates_needing_rerun(session)) == {D2, D3}
    run_range(world.runtime, D2, D3)
    with world.runtime.db.session() as session:
        assert repo.dates_needing_rerun(session) == {}


def _cli_env(runtime: Runtime, **extra: str) -> dict[str, str]:
    settings = runtime.settings
    env = dict(os.environ)
    env.update(
        STREAMSETTLE_DATABASE_URL=settings.database_url,
        STREAMSETTLE_REDIS_URL=settings.redis_url or "",
        STREAMSETTLE_JWT_SECRET=settings.jwt_secret.get_secret_value(),
        STREAMSETTLE_EMBEDDED="false",
        STREAMSETTLE_LOG_JSON="false",
        **extra,
    )
    return env


def test_a_killed_run_is_taken_over_as_stale_and_gives_the_same_rows(pg_world: World) -> None:
    runtime = pg_world.runtime
    video = _day(pg_world, D1, views=3)
    cli = Path(sys.executable).parent / "streamsettle"
    killed = subprocess.run(
        [str(cli), "batch", "run", "--date", D1.isoformat(), "--partitions", "2"],
        env=_cli_env(runtime, **faults.armed(faults.batch_after_step(steps.AD_STATS))),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert killed.returncode == 1, killed.stdout + killed.stderr
    (dead,) = _runs(runtime)
    assert dead.status == "running"  # nobody told the repository: the process just died
    assert {s.name for s in dead.steps if s.status == "completed"} == {
        "flush", "extract", "compute", "video_stats", "ad_stats",
    }  # fmt: skip
    assert pg_world.one(DailyVideoStats, business_date=D1, video_id=video).views == 3
    with runtime.db.session() as session:
        assert session.scalars(sa.select(DailySettlement)).all() == []

    with pytest.raises(BatchRefused, match="already running"):
        run_date(runtime, D1)  # its heartbeat is still fresh
    stale_after = runtime.settings.batch_stale_after_seconds
    with runtime.db.engine.begin() as conn:
        conn.execute(
            sa.update(BatchRun).values(
                heartbeat_at=datetime.now(UTC) - timedelta(seconds=stale_after + 1)
            )
        )
    recovered = run_date(runtime, D1)
    assert recovered.status == "completed"
    old = repo.get_run(runtime.db, dead.id)
    assert old.status == "failed" and old.error is not None
    assert old.error.startswith("stale: worker died")
    assert all(s.status != "running" for s in old.steps)
    settlement = pg_world.one(DailySettlement, business_date=D1, video_id=video)
    assert (settlement.views, settlement.total_amount) == (3, 3)

    after_recovery = pg_world.snapshot(D1)
    undisturbed = run_date(runtime, D1)
    assert undisturbed.status == "completed"
    assert pg_world.snapshot(D1) == after_recovery


def test_cli_run_and_status(pg_world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    runtime = pg_world.runtime
    _day(pg_world, D1)
    _day(pg_world, D2)
    for key, value in _cli_env(runtime).items():
        if key.startswith("STREAMSETTLE_"):
            monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    cli = CliRunner()
    try:
        done = cli.invoke(app, ["batch", "run", "--from", D1.isoformat(), "--to", D2.isoformat()])
        assert done.exit_code == 0, done.output
        assert "2024-04-02 completed" in done.output
        refused = cli.invoke(app, ["batch", "run", "--date", "2024-04-05"])
        assert refused.exit_code == 1
        assert "previous day 2024-04-04 is not settled" in refused.output
        bad = cli.invoke(app, ["batch", "run", "--date", "2024-13-01"])
        assert bad.exit_code == 1 and "is not a date" in bad.output
        status = cli.invoke(app, ["batch", "status", "--date", D2.isoformat()])
        assert status.exit_code == 0, status.output
        assert "completed" in status.output and "video_stats" in status.output
    finally:
        get_settings.cache_clear()
