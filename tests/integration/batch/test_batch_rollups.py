"""The rollups that the batch keeps for the admin's views: each video's week and month (exact
sums of the settled days across a month boundary, kept exact when an earlier day is re-run,
ranked by the top-5 query exactly as the daily rows rank) and each creator's day."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from streamsettle.db.models import DailyCreatorSettlement, DailySettlement, PeriodVideoStats, User
from streamsettle.domain.periods import Period
from streamsettle.services.batch import run_date, run_range
from streamsettle.services.queries.results import Metric
from streamsettle.services.queries.stats import top_videos
from tests.integration.batch.batch_world import World

MON = date(2024, 4, 29)  # the ISO week of 2024-04-29 .. 2024-05-05 straddles two months
TUE = date(2024, 4, 30)
WED = date(2024, 5, 1)
THU = date(2024, 5, 2)


def _views(world: World, video: int, day: date, count: int, first_ip: int) -> None:
    """``count`` counted anonymous views of 60 s, each from its own IP."""
    for i in range(count):
        world.log(video, world.at(day, f"{10 + i}:00:00"), ip=f"10.9.{first_ip + i}.1", watched=60)


def _rollups(world: World) -> dict[tuple[str, date, int], tuple[int, int]]:
    with world.runtime.db.session() as session:
        rows = session.scalars(sa.select(PeriodVideoStats))
        return {(r.period, r.period_start, r.video_id): (r.views, r.watched_seconds) for r in rows}


def test_week_and_month_rollups_follow_the_settled_days(world: World) -> None:
    creator = world.user("creator")
    a, b = world.video(creator), world.video(creator)
    _views(world, a, MON, 2, 0)
    _views(world, a, TUE, 1, 10)
    _views(world, b, TUE, 1, 20)
    _views(world, a, WED, 3, 30)
    _views(world, a, THU, 1, 40)
    _views(world, b, THU, 2, 50)

    run_range(world.runtime, MON, WED)  # Thursday not settled yet: it counts as nothing
    assert _rollups(world) == {
        ("week", MON, a): (6, 360),
        ("week", MON, b): (1, 60),
        ("month", date(2024, 4, 1), a): (3, 180),
        ("month", date(2024, 4, 1), b): (1, 60),
        ("month", date(2024, 5, 1), a): (3, 180),
    }

    run_date(world.runtime, THU)
    _views(world, a, TUE, 2, 60)  # two late logs of Tuesday, then Tuesday is re-run
    run_date(world.runtime, TUE)
    assert _rollups(world) == {
        ("week", MON, a): (9, 540),
        ("week", MON, b): (3, 180),
        ("month", date(2024, 4, 1), a): (5, 300),
        ("month", date(2024, 4, 1), b): (1, 60),
        ("month", date(2024, 5, 1), a): (4, 240),
        ("month", date(2024, 5, 1), b): (2, 120),
    }


def test_the_admin_ranking_from_rollups_equals_the_ranking_from_days(world: World) -> None:
    creator, admin_id = world.user("creator"), world.user("admin")
    videos = [world.video(creator) for _ in range(7)]
    for n, video in enumerate(videos):
        _views(world, video, TUE, n % 3 + 1, 10 * n)
        _views(world, video, WED, 4 - n % 4, 10 * n + 100)
    run_range(world.runtime, TUE, WED)
    with world.runtime.db.session() as session:
        admin = session.get(User, admin_id)
        assert admin is not None
        for period in (Period.WEEK, Period.MONTH):
            for metric in Metric:
                everyone = top_videos(session, admin, metric=metric, period=period, day=WED)
                one_creator = top_videos(
                    session, admin, metric=metric, period=period, day=WED, creator_id=creator
                )
                assert everyone.items == one_creator.items
        week = top_videos(session, admin, metric=Metric.VIEWS, period=Period.WEEK, day=WED)
    # The week's views of video n: (n % 3 + 1) + (4 - n % 4) = 5, 5, 5, 2, 6, 6, 3;
    # ties go to the smaller id.
    assert [(i.video_id, i.views, i.watched_seconds) for i in week.items] == [
        (videos[4], 6, 360),
        (videos[5], 6, 360),
        (videos[0], 5, 300),
        (videos[1], 5, 300),
        (videos[2], 5, 300),
    ]


def test_creator_totals_sum_the_videos_of_every_partition(world: World) -> None:
    one, two = world.user("creator"), world.user("creator")
    videos = [world.video(one), world.video(two), world.video(one), world.video(one)]
    for n, video in enumerate(videos):
        _views(world, video, TUE, n + 1, 10 * n)
    run_date(world.runtime, TUE, partitions=2)
    with world.runtime.db.session() as session:
        per_video = {
            s.video_id: (s.creator_id, s.views, s.video_amount, s.ad_amount)
            for s in session.scalars(
                sa.select(DailySettlement).where(DailySettlement.business_date == TUE)
            )
        }
        totals = {
            t.creator_id: (t.views, t.video_amount, t.ad_amount, t.total_amount)
            for t in session.scalars(sa.select(DailyCreatorSettlement))
        }
    # Views 1..4 at 1 KRW each (first tier of the default card); creator one has 1 + 3 + 4.
    assert [per_video[v][1] for v in videos] == [1, 2, 3, 4]
    assert totals == {one: (8, 8, 0, 8), two: (2, 2, 0, 2)}
