"""Graduated prices in the batch's SQL (3.5, 3.6): tier boundaries for video and ad views,
the real default boundaries (the spec's examples), a rate card change mid-month; each
figure is worked out by hand and cross-checked with ``domain.pricing``."""

from __future__ import annotations

from datetime import date, timedelta

from streamsettle.db.models import DailyAdSettlement, DailySettlement
from streamsettle.domain.money import truncate_krw
from streamsettle.domain.pricing import DEFAULT_RATE_CARD, TierSchedule, price_views
from streamsettle.services import rate_cards
from streamsettle.services.batch import run_date
from streamsettle.services.batch.partitions import FULL_RANGE
from streamsettle.services.batch.steps import SETTLE, DayContext, run_step
from tests.integration.batch.batch_world import World

D1 = date(2024, 3, 1)
D2 = date(2024, 3, 2)
SMALL_VIDEO = [(0, "1.5"), (3, "2.25"), (5, "3.333333")]
SMALL_AD = [(0, "10"), (3, "12.5"), (5, "20")]


def _counted_views(world: World, day: date, video: int, n: int, ad: int, ad_views: int) -> None:
    """``n`` counted views (distinct anonymous IPs, an hour apart), the first ``ad_views``
    of them reaching the ad slot."""
    for i in range(n):
        slots: dict[int, int | None] | None = {300: ad} if i < ad_views else None
        world.log(video, world.at(day, f"{i:02d}:00:00"), ip=f"10.1.{day.day}.{i}", slots=slots)


def _price(pairs: list[tuple[int, str]], before: int, today: int) -> int:
    return truncate_krw(price_views(TierSchedule.from_pairs(pairs), before, today))


def test_a_day_crossing_tier_boundaries_for_video_and_ad_views(world: World) -> None:
    with world.runtime.db.session() as session:
        card = rate_cards.create_rate_card(
            session, effective_from=date(2024, 1, 1), video_tiers=SMALL_VIDEO, ad_tiers=SMALL_AD
        )
        card_id = card.id
    creator, advertiser = world.user("creator"), world.user("advertiser")
    video, ad = world.video(creator), world.ad(advertiser)
    _counted_views(world, D1, video, 4, ad, 4)
    _counted_views(world, D2, video, 3, ad, 2)

    assert run_date(world.runtime, D1).status == "completed"
    assert run_date(world.runtime, D2).status == "completed"

    day1 = world.one(DailySettlement, business_date=D1, video_id=video)
    # Views 1, 2 at 1.5 (tier [0, 3)), views 3, 4 at 2.25: 7.5 -> 7.
    assert (day1.views, day1.views_before, day1.video_amount) == (4, 0, 7)
    assert day1.video_amount == _price(SMALL_VIDEO, 0, 4)
    # Ad views 1, 2 at 10, 3, 4 at 12.5: 45.
    assert (day1.ad_views, day1.ad_amount, day1.total_amount) == (4, 45, 52)
    assert day1.rate_card_id == card_id

    day2 = world.one(DailySettlement, business_date=D2, video_id=video)
    # Views 5, 6, 7 at 3.333333: 9.999999 -> 9 (truncated, never rounded up).
    assert (day2.views, day2.views_before, day2.video_amount) == (3, 4, 9)
    assert day2.video_amount == _price(SMALL_VIDEO, 4, 3)
    pair = world.one(DailyAdSettlement, business_date=D2, video_id=video, ad_id=ad)
    # Ad views 5, 6 at 20: 40.
    assert (pair.ad_views, pair.ad_views_before, pair.amount) == (2, 4, 40)
    assert pair.amount == _price(SMALL_AD, 4, 2)
    assert (day2.ad_amount, day2.total_amount) == (40, 49)


def test_real_default_boundaries_near_100000_views(world: World) -> None:
    creator, advertiser = world.user("creator"), world.user("advertiser")
    video, ad = world.video(creator), world.ad(advertiser)
    earlier = D1 - timedelta(days=1)
    world.stats(earlier, video, 99_998, creator=creator)
    world.ad_stats(earlier, video, ad, 99_995)
    world.log(video, world.at(earlier, "12:00:00"), ip="10.9.9.9")  # makes D1 not the first
    world.mark_settled(earlier)
    _counted_views(world, D1, video, 10, ad, 10)

    assert run_date(world.runtime, D1).status == "completed"

    settlement = world.one(DailySettlement, business_date=D1, video_id=video)
    # Views 99,999 at 1.0, then 100,000 .. 100,008 at 1.1: 1 + 9.9 = 10.9 -> 10.
    assert (settlement.views, settlement.views_before, settlement.video_amount) == (10, 99_998, 10)
    # The spec's pair: 99,995 before, 10 today -> views 99,996 .. 100,005: 4 x 10 + 6 x 12.
    pair = world.one(DailyAdSettlement, business_date=D1, video_id=video, ad_id=ad)
    assert (pair.ad_views_before, pair.amount) == (99_995, 112)
    assert settlement.total_amount == 122


def test_the_spec_examples_priced_by_the_settle_step(world: World) -> None:
    """550,000 views on a first day -> 605,000; 600,000 more the next day -> 810,000.

    The statistics are written directly and the settle step runs alone on them.
    """
    creator = world.user("creator")
    video = world.video(creator)
    world.stats(D1, video, 550_000, creator=creator)
    world.stats(D2, video, 600_000, creator=creator)
    amounts = []
    for day in (D1, D2):
        context = DayContext.build(world.runtime, day, rate_card_id=1)
        with world.runtime.db.engine.begin() as conn:
            run_step(conn, SETTLE, context, FULL_RANGE)
        amounts.append(world.one(DailySettlement, business_date=day, video_id=video).video_amount)
    assert amounts == [605_000, 810_000]
    schedule = DEFAULT_RATE_CARD.video_tiers
    assert amounts == [
        truncate_krw(price_views(schedule, 0, 550_000)),
        truncate_krw(price_views(schedule, 550_000, 600_000)),
    ]


def test_a_rate_card_change_takes_effect_mid_month(world: World) -> None:
    change = date(2024, 3, 15)
    with world.runtime.db.session() as session:
        new_card = rate_cards.create_rate_card(
            session, effective_from=change, video_tiers=[(0, "2.0")], ad_tiers=[(0, "30")]
        ).id
    creator, advertiser = world.user("creator"), world.user("advertiser")
    video, ad = world.video(creator), world.ad(advertiser)
    before = change - timedelta(days=1)
    _counted_views(world, before, video, 1, ad, 1)
    _counted_views(world, change, video, 1, ad, 1)

    run_date(world.runtime, before)
    run_date(world.runtime, change)

    old = world.one(DailySettlement, business_date=before, video_id=video)
    assert (old.rate_card_id, old.video_amount, old.ad_amount, old.total_amount) == (1, 1, 10, 11)
    new = world.one(DailySettlement, business_date=change, video_id=video)
    assert (new.rate_card_id, new.views_before, new.total_amount) == (new_card, 1, 2 + 30)
