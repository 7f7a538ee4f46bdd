"""The per-tier breakdown prices exactly like ``price_views``, tier by tier."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamsettle.domain.breakdown import break_down, tier_of
from streamsettle.domain.money import truncate_krw
from streamsettle.domain.pricing import DEFAULT_RATE_CARD, Tier, TierSchedule, price_views

VIDEO = DEFAULT_RATE_CARD.video_tiers


@st.composite
def schedules(draw: st.DrawFn) -> TierSchedule:
    """Contiguous tiers from 0 with non-negative prices of up to six decimals."""
    starts = draw(st.lists(st.integers(1, 2_000_000), max_size=5, unique=True))
    prices = draw(
        st.lists(
            st.decimals(min_value=0, max_value=1000, places=6, allow_nan=False),
            min_size=len(starts) + 1,
            max_size=len(starts) + 1,
        )
    )
    return TierSchedule(
        tuple(Tier(f, p) for f, p in zip([0, *sorted(starts)], prices, strict=True))
    )


def test_the_reference_example_across_three_tiers() -> None:
    parts = break_down(VIDEO, 0, 550_000)
    assert [(t.from_views, t.unit_price, t.views, t.exact_amount) for t in parts.tiers] == [
        (0, Decimal("1.0"), 99_999, Decimal("99999.0")),
        (100_000, Decimal("1.1"), 400_000, Decimal("440000.0")),
        (500_000, Decimal("1.3"), 50_001, Decimal("65001.3")),
    ]
    assert (parts.exact_amount, parts.amount) == (Decimal("605000.3"), 605_000)


def test_no_views_has_no_tiers() -> None:
    parts = break_down(VIDEO, 123, 0)
    assert (parts.tiers, parts.exact_amount, parts.amount) == ((), Decimal(0), 0)


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError, match="must not be negative"):
        break_down(VIDEO, -1, 3)


@given(schedules(), st.integers(0, 3_000_000), st.integers(0, 3_000_000))
def test_breakdown_reproduces_the_pricing_function(
    schedule: TierSchedule, before: int, views: int
) -> None:
    parts = break_down(schedule, before, views)
    assert parts.exact_amount == price_views(schedule, before, views)
    assert parts.amount == truncate_krw(price_views(schedule, before, views))
    assert sum(t.views for t in parts.tiers) == views
    assert sum((t.exact_amount for t in parts.tiers), Decimal(0)) == parts.exact_amount
    assert all(t.views * t.unit_price == t.exact_amount for t in parts.tiers)


@given(schedules(), st.integers(0, 3_000), st.integers(1, 300))
def test_each_view_is_in_the_tier_that_prices_it(
    schedule: TierSchedule, before: int, views: int
) -> None:
    """Summing the unit price of every numbered view's tier gives the same amount."""
    by_view = sum(
        (schedule.unit_price_of(n) for n in range(before + 1, before + views + 1)), Decimal(0)
    )
    assert by_view == break_down(schedule, before, views).exact_amount
    starts = {t.from_views: t.unit_price for t in schedule.tiers}
    assert all(
        starts[tier_of(schedule, n)] == schedule.unit_price_of(n)
        for n in range(before + 1, before + views + 1)
    )
