"""The derived tables carry no foreign keys: the batch checks the ids it writes in bulk, and
a day whose logs name an ad the catalogue does not hold fails with nothing of it kept."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from streamsettle.db.models import DailyAdSettlement, DailyVideoStats
from streamsettle.services.batch import run_date
from tests.integration.batch.batch_world import World

D = date(2024, 3, 10)


@pytest.mark.parametrize("engine", [None, "sql"])
def test_an_unknown_ad_fails_the_day(world: World, engine: str | None) -> None:
    creator, viewer = world.user("creator"), world.user()
    video = world.video(creator)
    known = world.ad(world.user("advertiser"))
    world.log(video, world.at(D, "10:00:00"), viewer=viewer, watched=700,
              slots={300: known, 600: known + 1000})  # fmt: skip

    run = run_date(world.runtime, D, partitions=1, engine=engine)

    assert run.status == "failed"
    assert run.error is not None and "ad id(s) that the catalogue does not hold" in run.error
    with world.runtime.db.session() as session:
        for model in (DailyVideoStats, DailyAdSettlement):
            count = session.scalar(sa.select(sa.func.count()).select_from(model))
            assert count == 0, model.__tablename__


def test_known_ids_pass_the_check(world: World) -> None:
    creator, viewer = world.user("creator"), world.user()
    video = world.video(creator)
    ad = world.ad(world.user("advertiser"))
    world.log(video, world.at(D, "10:00:00"), viewer=viewer, watched=400, slots={300: ad})

    run = run_date(world.runtime, D, partitions=1)

    assert run.status == "completed", run.error
    assert world.one(DailyAdSettlement, business_date=D, video_id=video, ad_id=ad).ad_views == 1
