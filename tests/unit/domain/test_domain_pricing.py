from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamsettle.domain.money import truncate_krw
from streamsettle.domain.pricing import (
    DEFAULT_RATE_CARD,
    InvalidRateCard,
    RateCard,
    Tier,
    TierSchedule,
    price_views,
    rate_card_in_force,
)

VIDEO = DEFAULT_RATE_CARD.video_tiers
AD = DEFAULT_RATE_CARD.ad_tiers


def test_spec_example_first_day() -> None:
    exact = price_views(VIDEO, 0, 550_000)
    assert exact == Decimal("605000.3")
    assert truncate_krw(exact) == 605_000


def test_spec_example_second_day() -> None:
    exact = price_views(VIDEO, 550_000, 600_000)
    assert exact == Decimal("810000.2")
    assert truncate_krw(exact) == 810_000


def test_spec_example_ad_crossing_a_tier() -> None:
    assert price_views(AD, 99_995, 10) == Decimal(112)


@pytest.mark.parametrize(
    ("n", "video", "ad"),
    [
        (1, "1.0", 10),
        (99_999, "1.0", 10),
        (100_000, "1.1", 12),
        (100_001, "1.1", 12),
        (499_999, "1.1", 12),
        (500_000, "1.3", 15),
        (999_999, "1.3", 15),
        (1_000_000, "1.5", 20),
        (1_000_001, "1.5", 20),
    ],
)
def test_boundaries_price_the_nth_view(n: int, video: str, ad: int) -> None:
    assert price_views(VIDEO, n - 1, 1) == Decimal(video)
    assert price_views(AD, n - 1, 1) == Decimal(ad)
    assert VIDEO.unit_price_of(n) == Decimal(video)


def test_cumulative_totals_at_boundaries() -> None:
    assert price_views(VIDEO, 0, 99_999) == Decimal("99999")
    assert price_views(VIDEO, 0, 100_000) == Decimal("100000.1")
    # 99,999 x 1.0 + 400,000 x 1.1 + 500,000 x 1.3 + 1 x 1.5
    assert price_views(VIDEO, 0, 1_000_000) == Decimal("1190000.5")
    assert price_views(VIDEO, 0, 1_000_001) == Decimal("1190002.0")
    assert price_views(AD, 0, 1_000_000) == Decimal(99_999 * 10 + 400_000 * 12 + 500_000 * 15 + 20)


def test_zero_views_cost_nothing() -> None:
    assert price_views(VIDEO, 123, 0) == 0


def test_negative_counts_are_refused() -> None:
    with pytest.raises(ValueError):
        price_views(VIDEO, -1, 5)
    with pytest.raises(ValueError):
        price_views(VIDEO, 0, -5)


def test_large_counts_stay_exact() -> None:
    schedule = TierSchedule.from_pairs([(0, "0.0000001"), (10**15, "1.0000000001")])
    assert price_views(schedule, 0, 10**18) == (
        (10**15 - 1) * Decimal("0.0000001") + (10**18 - 10**15 + 1) * Decimal("1.0000000001")
    )


@pytest.mark.parametrize(
    ("pairs", "message"),
    [
        ([], "at least one tier"),
        ([(1, "1")], "start at from_views 0"),
        ([(0, "1"), (10, "2"), (10, "3")], "strictly increase"),
        ([(0, "1"), (10, "2"), (5, "3")], "strictly increase"),
        ([(0, "-0.1")], "negative"),
        ([(0, "NaN")], "bad unit_price"),
        ([(0, 1.5)], "bad unit_price"),
    ],
)
def test_invalid_schedules_are_refused(pairs: list[tuple[int, object]], message: str) -> None:
    with pytest.raises(InvalidRateCard, match=message):
        TierSchedule.from_pairs(pairs)  # type: ignore[arg-type]


def test_schedule_refuses_float_prices_given_directly() -> None:
    with pytest.raises(InvalidRateCard, match="finite Decimal"):
        TierSchedule((Tier(0, 1.0),))  # type: ignore[arg-type]
    assert issubclass(InvalidRateCard, ValueError)


def test_rate_card_in_force_picks_latest_effective() -> None:
    later = RateCard(date(2026, 6, 1), VIDEO, TierSchedule.from_pairs([(0, 11)]))
    cards = [later, DEFAULT_RATE_CARD]
    assert rate_card_in_force(cards, date(2026, 5, 31)) is DEFAULT_RATE_CARD
    assert rate_card_in_force(cards, date(2026, 6, 1)) is later
    assert rate_card_in_force(cards, date(2030, 1, 1)) is later
    with pytest.raises(LookupError):
        rate_card_in_force(cards, date(1999, 12, 31))
    with pytest.raises(LookupError):
        rate_card_in_force([], date(2026, 1, 1))


# ---- properties -------------------------------------------------------------------------

prices = st.decimals(min_value=0, max_value=100, places=3, allow_nan=False, allow_infinity=False)


@st.composite
def schedules(draw: st.DrawFn, max_gap: int = 50) -> TierSchedule:
    gaps = draw(st.lists(st.integers(1, max_gap), max_size=4))
    starts = [0]
    for gap in gaps:
        starts.append(starts[-1] + gap)
    return TierSchedule(tuple(Tier(f, draw(prices)) for f in starts))


schedule_strategy = st.one_of(schedules(), st.just(VIDEO), st.just(AD))
counts = st.integers(0, 1_500_000)


@settings(max_examples=200)
@given(schedule_strategy, counts, counts, counts)
def test_splitting_views_prices_the_same(
    schedule: TierSchedule, before: int, first: int, second: int
) -> None:
    together = price_views(schedule, before, first + second)
    in_turn = price_views(schedule, before, first) + price_views(schedule, before + first, second)
    assert together == in_turn


@settings(max_examples=200)
@given(schedule_strategy, counts, counts, st.integers(0, 1000))
def test_price_is_monotone_in_new_views(
    schedule: TierSchedule, before: int, views: int, more: int
) -> None:
    assert price_views(schedule, before, views) <= price_views(schedule, before, views + more)


@settings(max_examples=200)
@given(schedules(max_gap=20), st.integers(0, 120), st.integers(0, 60))
def test_price_equals_sum_of_unit_prices(schedule: TierSchedule, before: int, k: int) -> None:
    def unit(n: int) -> Decimal:
        return max(
            (t for t in schedule.tiers if t.from_views <= n), key=lambda t: t.from_views
        ).unit_price

    expected = sum((unit(n) for n in range(before + 1, before + k + 1)), Decimal(0))
    assert price_views(schedule, before, k) == expected
    assert all(schedule.unit_price_of(n) == unit(n) for n in range(before + 1, before + k + 1))
