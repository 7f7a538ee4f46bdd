"""Properties over random months on PostgreSQL: whatever late logs and rate card changes
re-settle closed days, statements plus adjustments equal the daily settlements now, and
the breakdown of every settled day gives back its amounts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from decimal import Decimal
from itertools import pairwise

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from streamsettle.db.models import (
    DailyAdSettlement,
    DailySettlement,
    RateCard,
    RateCardTier,
    Statement,
    StatementAdjustment,
    User,
)
from streamsettle.runtime import Runtime
from streamsettle.services.queries.explain import daily_breakdown
from streamsettle.services.statements import close_month
from tests.integration.batch.batch_world import World
from tests.integration.statements.ledger import settle

START = date(2026, 6, 1)
MONTHS = [date(2026, 6, 1), date(2026, 7, 1), date(2026, 8, 1)]
END = date(2026, 8, 31)
DAYS = (END - START).days + 1

# (day offset, video index, views, with the ad): a burst of watch logs
bursts = st.lists(
    st.tuples(st.integers(0, DAYS - 1), st.integers(0, 2), st.integers(1, 4), st.booleans()),
    min_size=1,
    max_size=6,
)
prices = st.decimals(min_value=0, max_value=30, places=1, allow_nan=False)
card_changes = st.lists(
    st.tuples(st.integers(0, DAYS - 1), prices, prices, st.integers(1, 6)), max_size=2
)


def _burst(world: World, videos: list[int], ad: int, burst: tuple[int, int, int, bool]) -> None:
    offset, index, views, with_ad = burst
    day = START + timedelta(days=offset)
    for _ in range(views):
        world.n_ip += 1  # type: ignore[attr-defined]
        ip = f"10.{world.n_ip // 250}.{world.n_ip % 250}.1"  # type: ignore[attr-defined]
        world.log(
            videos[index], world.at(day, "12:00:00"), ip=ip, slots={300: ad} if with_ad else None
        )


def _add_card(
    runtime: Runtime, offset: int, video_price: Decimal, ad_price: Decimal, step: int
) -> None:
    with runtime.db.session() as session:
        effective = START + timedelta(days=offset)
        if session.scalar(sa.select(RateCard.id).where(RateCard.effective_from == effective)):
            return
        card = RateCard(effective_from=effective)
        card.tiers = [
            RateCardTier(kind="video", from_views=0, unit_price=video_price),
            RateCardTier(kind="video", from_views=step, unit_price=video_price + Decimal("0.3")),
            RateCardTier(kind="ad", from_views=0, unit_price=ad_price),
        ]
        session.add(card)


@settings(
    max_examples=6,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(first=bursts, late=st.lists(bursts, min_size=2, max_size=2), cards=card_changes)
def test_statements_and_adjustments_add_up_to_the_settlements(
    runtime: Runtime,
    reset_database: Callable[[], None],
    first: list[tuple[int, int, int, bool]],
    late: list[list[tuple[int, int, int, bool]]],
    cards: list[tuple[int, Decimal, Decimal, int]],
) -> None:
    reset_database()
    world = World(runtime)
    world.n_ip = 0  # type: ignore[attr-defined]
    a, b = world.user("creator"), world.user("creator")
    admin = world.user("admin")
    ad = world.ad(world.user("advertiser"))
    videos = [world.video(a), world.video(a), world.video(b)]
    for burst in first:
        _burst(world, videos, ad, burst)
    settle(world, START, END)
    for month, late_bursts in zip(MONTHS, late, strict=False):
        close_month(runtime, month, threshold=20)
        for burst in late_bursts:
            _burst(world, videos, ad, burst)
        for change in cards[:1] if month == MONTHS[0] else cards[1:]:
            _add_card(runtime, *change)
        settle(world, START, END)
    close_month(runtime, MONTHS[2], threshold=20)

    with runtime.db.session() as session:
        for creator in (a, b):
            settled = session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(DailySettlement.total_amount), 0)).where(
                    DailySettlement.creator_id == creator
                )
            )
            issued = session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(Statement.total_amount), 0)).where(
                    Statement.creator_id == creator
                )
            )
            adjusted = session.scalar(
                sa.select(sa.func.coalesce(sa.func.sum(StatementAdjustment.amount), 0)).where(
                    StatementAdjustment.creator_id == creator
                )
            )
            assert int(issued or 0) + int(adjusted or 0) == int(settled or 0)
            # Every carried balance continues the previous statement's.
            chain = session.scalars(
                sa.select(Statement)
                .where(Statement.creator_id == creator)
                .order_by(Statement.month)
            ).all()
            for before, after in pairwise(chain):
                assert after.carried_in == before.carried_out

        user = session.get(User, admin)
        assert user is not None
        for row in session.scalars(sa.select(DailySettlement)):
            explained = daily_breakdown(session, user, row.video_id, row.business_date)
            assert explained.video.amount == row.video_amount
            pairs = {
                p.ad_id: p.amount
                for p in session.scalars(
                    sa.select(DailyAdSettlement).where(
                        DailyAdSettlement.business_date == row.business_date,
                        DailyAdSettlement.video_id == row.video_id,
                    )
                )
            }
            assert {x.ad_id: x.amount for x in explained.ads} == pairs
            assert explained.total_amount == row.total_amount
