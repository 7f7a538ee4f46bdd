"""The scheduler: due after the schedule time, catches up in order, one leader at a time."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from streamsettle.db import partitions
from streamsettle.db.models import BatchRun
from streamsettle.services.batch import repository as repo
from streamsettle.services.batch import scheduler
from streamsettle.services.batch.scheduler import acquire_lease, due_dates, release_lease, tick
from streamsettle.workers import background_workers
from tests.integration.batch.batch_world import World

D1 = date(2024, 6, 1)
D2 = date(2024, 6, 2)
D3 = date(2024, 6, 3)
TTL = timedelta(seconds=60)


def _log(world: World, day: date) -> None:
    world.log(world.video(world.user("creator")), world.at(day, "12:00:00"))


def _run_dates(world: World) -> list[tuple[date, str]]:
    with world.runtime.db.session() as session:
        runs = session.scalars(sa.select(BatchRun).order_by(BatchRun.id)).all()
        return [(r.business_date, r.status) for r in runs]


def test_lease_goes_to_exactly_one_of_two_contenders(world: World) -> None:
    now = datetime(2024, 6, 4, tzinfo=UTC)
    won: list[str] = []
    barrier = threading.Barrier(2)

    def contender(holder: str) -> None:
        barrier.wait()
        if acquire_lease(world.runtime, holder, TTL, now=now):
            won.append(holder)

    threads = [threading.Thread(target=contender, args=(h,)) for h in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1
    leader, other = won[0], "b" if won[0] == "a" else "a"
    assert acquire_lease(world.runtime, leader, TTL, now=now + timedelta(seconds=1))  # renew
    assert not acquire_lease(world.runtime, other, TTL, now=now + timedelta(seconds=30))
    assert acquire_lease(world.runtime, other, TTL, now=now + timedelta(seconds=62))  # expired
    assert not acquire_lease(world.runtime, leader, TTL, now=now + timedelta(seconds=63))
    release_lease(world.runtime, other, now=now + timedelta(seconds=64))
    assert acquire_lease(world.runtime, leader, TTL, now=now + timedelta(seconds=65))


def test_settles_yesterday_after_the_schedule_time_only(world: World) -> None:
    _log(world, D1)
    assert tick(world.runtime, holder="h", now=world.at(D2, "00:29:59")) == []
    assert _run_dates(world) == []
    runs = tick(world.runtime, holder="h", now=world.at(D2, "00:30:00"))
    assert [(r.business_date, r.status) for r in runs] == [(D1, "completed")]
    assert tick(world.runtime, holder="h", now=world.at(D2, "09:00:00")) == []  # done already
    assert _run_dates(world) == [(D1, "completed")]


def test_catches_up_on_missed_days_in_order(world: World) -> None:
    for day in (D1, D2):
        _log(world, day)
    assert due_dates(world.runtime, world.at(D3 + timedelta(days=1), "01:00:00")) == [D1, D2, D3]
    runs = tick(world.runtime, holder="h", now=world.at(D3 + timedelta(days=1), "01:00:00"))
    assert [r.business_date for r in runs] == [D1, D2, D3]
    assert all(r.status == "completed" for r in runs)


def test_two_scheduler_instances_run_the_day_once(pg_world: World) -> None:
    _log(pg_world, D1)
    now = pg_world.at(D2, "00:31:00")
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def instance(holder: str) -> None:
        barrier.wait()
        results[holder] = len(tick(pg_world.runtime, holder=holder, now=now))

    threads = [threading.Thread(target=instance, args=(h,)) for h in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [0, 1]
    assert _run_dates(pg_world) == [(D1, "completed")]


def test_serve_runs_the_scheduler_as_a_background_worker(world: World) -> None:
    workers = background_workers(world.runtime, flusher=False, scheduler=True)
    assert [w.name for w in workers] == ["scheduler"]
    assert background_workers(world.runtime, flusher=False, scheduler=False) == []


def test_each_tick_makes_the_day_partitions_from_yesterday_to_a_week_ahead(
    pg_world: World,
) -> None:
    now = pg_world.at(date(2031, 3, 10), "09:00:00")
    tick(pg_world.runtime, holder="h", now=now)
    with pg_world.runtime.db.engine.connect() as conn:
        days = [d for d in partitions.attached_days(conn) if d.year == 2031]
    assert days == [date(2031, 3, 9) + timedelta(days=i) for i in range(9)]
    # A later tick finds them made, and adds the one new day ahead.
    assert scheduler.ensure_partitions(pg_world.runtime, now + timedelta(days=1)) == [
        date(2031, 3, 18)
    ]
    assert scheduler.ensure_partitions(pg_world.runtime, now + timedelta(days=1)) == []


def test_the_first_day_with_logs_skips_empty_partitions(pg_world: World) -> None:
    with pg_world.runtime.db.engine.begin() as conn:
        partitions.ensure_days(conn, [D1 - timedelta(days=2), D1 - timedelta(days=1)])
    _log(pg_world, D1)
    _log(pg_world, D2)
    with pg_world.runtime.db.session() as session:
        assert repo.first_log_date(session) == D1
