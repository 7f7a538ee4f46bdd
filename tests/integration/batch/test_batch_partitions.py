"""Partitioned runs give the same rows whatever the number of partitions, and the rows
agree with the pure reference rules (``domain.views`` and ``domain.pricing``)."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from typing import Any

import numpy as np
import pytest
import sqlalchemy as sa

from streamsettle.db.models import (
    DailyAdSettlement,
    DailySettlement,
    DailyVideoStats,
    PeriodVideoStats,
    Video,
    ViewClassification,
    WatchLog,
)
from streamsettle.domain.money import truncate_krw
from streamsettle.domain.pricing import DEFAULT_RATE_CARD, price_views
from streamsettle.domain.views import LogKey, ViewKind, classify_views
from streamsettle.services.batch import run_date
from streamsettle.services.batch.partitions import plan_ranges, plan_ranges_from_counts
from tests.integration.batch.batch_world import World

D = date(2024, 5, 20)


def _random_day(world: World, seed: int) -> None:
    """30 videos of 3 creators, 400 sessions bunched so that repeats and self views happen,
    some anonymous, some reaching one or two ad slots; plus a few the evening before."""
    rng = random.Random(seed)
    creators = [world.user("creator") for _ in range(3)]
    viewers = [world.user() for _ in range(12)]
    advertiser = world.user("advertiser")
    ads = [world.ad(advertiser) for _ in range(3)]
    videos = [world.video(creators[i % 3]) for i in range(30)]
    owner = {v: creators[i % 3] for i, v in enumerate(videos)}
    with world.batch():
        for day, count in ((D - timedelta(days=1), 20), (D, 400)):
            for _ in range(count):
                video = rng.choice(videos[:5] if rng.random() < 0.5 else videos)  # 5 hot videos
                who = rng.random()
                viewer = None if who < 0.15 else owner[video] if who < 0.2 else rng.choice(viewers)
                clock = rng.randrange(0, 86_400) if day == D else rng.randrange(86_340, 86_400)
                if day == D and rng.random() < 0.1:
                    clock = rng.randrange(0, 40)  # just after midnight
                started = world.at(day, "00:00:00") + timedelta(seconds=clock)
                slots = {300: rng.choice(ads), 600: rng.choice([*ads, None])}
                reached = dict(list(slots.items())[: rng.randrange(0, 3)])
                world.log(video, started, viewer=viewer, ip=f"10.2.0.{rng.randrange(8)}",
                          watched=rng.randrange(0, 900), slots=reached)  # fmt: skip


@pytest.mark.parametrize("partitions", [1, 2, 7])
def test_results_do_not_depend_on_the_number_of_partitions(
    pg_world: World, partitions: int
) -> None:
    world = pg_world
    _random_day(world, seed=42)
    run_date(world.runtime, D - timedelta(days=1), partitions=partitions)
    reference = run_date(world.runtime, D, partitions=1)
    expected = world.snapshot(D)
    run = run_date(world.runtime, D, partitions=partitions)
    assert run.status == "completed", run.error
    assert run.partitions == partitions
    settle_steps = [s for s in run.steps if s.name == "settle"]
    assert sorted(s.partition for s in settle_steps) == list(range(partitions))
    assert world.snapshot(D) == expected
    assert reference.id != run.id


def test_rows_agree_with_the_reference_rules(world: World) -> None:
    _random_day(world, seed=7)
    run_date(world.runtime, D - timedelta(days=1))
    assert run_date(world.runtime, D).status == "completed"

    with world.runtime.db.session() as session:
        logs = session.execute(
            sa.select(WatchLog, Video.creator_id).join(Video, Video.id == WatchLog.video_id)
        ).all()
        settlements = {
            s.video_id: s
            for s in session.scalars(
                sa.select(DailySettlement).where(DailySettlement.business_date == D)
            )
        }
        before = Counter(
            dict(
                session.execute(
                    sa.select(DailySettlement.video_id, DailySettlement.views).where(
                        DailySettlement.business_date < D
                    )
                ).all()
            )
        )
    kinds = classify_views(
        [
            LogKey(str(w.session_id), w.video_id, w.viewer_id, w.ip, w.started_at, creator)
            for w, creator in logs
        ]
    )
    counted = {str(w.session_id) for w, _ in logs if w.business_date == D} & {
        sid for sid, kind in kinds.items() if kind is ViewKind.COUNTED
    }
    views = Counter(w.video_id for w, _ in logs if str(w.session_id) in counted)
    pair_views = Counter(
        (w.video_id, ad)
        for w, _ in logs
        if str(w.session_id) in counted
        for ad in w.ad_ids or []
        if ad is not None
    )
    card = DEFAULT_RATE_CARD
    assert {v: s.views for v, s in settlements.items() if s.views} == dict(views)
    for video, settlement in settlements.items():
        assert settlement.views_before == before[video]
        assert settlement.video_amount == truncate_krw(
            price_views(card.video_tiers, before[video], views[video])
        )
        ad_amount = sum(
            truncate_krw(price_views(card.ad_tiers, 0, n))
            for (v, _), n in pair_views.items()
            if v == video
        )
        assert settlement.ad_amount == ad_amount
        assert settlement.total_amount == settlement.video_amount + ad_amount
    assert sum(views.values()) > 100  # the day is big enough to mean something
    assert len(pair_views) > 20


def test_partitions_are_recorded_per_step(pg_world: World) -> None:
    _random_day(pg_world, seed=3)
    run_date(pg_world.runtime, D - timedelta(days=1), partitions=3)
    run = run_date(pg_world.runtime, D, partitions=3)
    names = Counter(step.name for step in run.steps)
    assert run.engine == "duckdb"
    assert names == {
        "flush": 1,
        "extract": 1,
        "compute": 1,
        "video_stats": 3,
        "ad_stats": 1,
        "settle": 3,
        "creator_totals": 1,
        "statement_adjustments": 1,
    }
    assert all(step.status == "completed" and step.finished_at for step in run.steps)

    # The step writes the logs that did not count, the day's statistics, and the week and
    # month so far (D is a Monday: its week has D alone).
    def count(model: Any, *where: Any) -> int:
        with pg_world.runtime.db.session() as session:
            return session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0

    uncounted = count(ViewClassification, ViewClassification.business_date == D)
    assert 0 < uncounted < 400
    stats = count(DailyVideoStats, DailyVideoStats.business_date == D)
    periods = count(PeriodVideoStats, PeriodVideoStats.period_start.in_([D, D.replace(day=1)]))
    pairs = count(DailyAdSettlement, DailyAdSettlement.business_date == D)
    written = uncounted + stats + pairs + periods
    assert sum(s.rows for s in run.steps if s.name == "video_stats") == written


@pytest.mark.parametrize("parts", [1, 2, 3, 7, 40])
def test_ranges_from_counts_are_the_ranges_the_database_plans(pg_world: World, parts: int) -> None:
    """A columnar run plans its partitions from the logs per video it has counted; they are
    the ranges the ``sql`` engine plans from the logs in the database."""
    _random_day(pg_world, seed=7)
    with pg_world.runtime.db.engine.connect() as conn:
        planned = plan_ranges(conn, D, parts)
        rows = conn.execute(
            sa.select(WatchLog.video_id, sa.func.count())
            .where(WatchLog.business_date == D)
            .group_by(WatchLog.video_id)
        ).all()
    videos = np.array([row[0] for row in rows], dtype=np.int64)
    logs = np.array([row[1] for row in rows], dtype=np.int64)
    assert plan_ranges_from_counts(videos, logs, parts) == planned
    assert (len(planned) > 1) == (parts > 1) and len(planned) <= parts
