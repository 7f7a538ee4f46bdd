"""Report ranges: periods and custom ranges end today at the latest; what they compare with."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamsettle.domain.periods import DateRange, Period
from streamsettle.domain.report_ranges import (
    MAX_CUSTOM_DAYS,
    RangeRefused,
    change,
    custom_range,
    period_to_date,
)

D = date.fromisoformat
TODAY = D("2026-12-04")


def test_a_month_in_progress_ends_today_and_compares_with_as_many_days_before() -> None:
    r = period_to_date(Period.MONTH, D("2026-12-02"), TODAY)
    assert r.dates == DateRange(D("2026-12-01"), TODAY)
    assert r.previous == DateRange(D("2026-11-01"), D("2026-11-04"))
    assert r.full_period == DateRange(D("2026-12-01"), D("2026-12-31"))


def test_a_whole_past_month_compares_with_the_whole_month_before() -> None:
    r = period_to_date(Period.MONTH, D("2026-03-15"), TODAY)
    assert r.dates == DateRange(D("2026-03-01"), D("2026-03-31"))
    assert r.previous == DateRange(D("2026-02-01"), D("2026-02-28"))  # shorter: it ends


def test_weeks_and_days() -> None:
    week = period_to_date(Period.WEEK, D("2026-12-02"), TODAY)
    assert week.dates == DateRange(D("2026-11-30"), TODAY)
    assert week.previous == DateRange(D("2026-11-23"), D("2026-11-27"))  # Monday to Friday
    day = period_to_date(Period.DAY, D("2026-12-01"), TODAY)
    assert (day.dates, day.previous) == (
        DateRange(D("2026-12-01"), D("2026-12-01")),
        DateRange(D("2026-11-30"), D("2026-11-30")),
    )


def test_a_date_after_today_means_today() -> None:
    r = period_to_date(Period.WEEK, D("2027-01-20"), TODAY)
    assert r.dates.end == TODAY and r.anchor == TODAY


def test_custom_ranges() -> None:
    r = custom_range(D("2026-11-30"), D("2026-12-02"), TODAY)
    assert r.period is None and r.full_period is None
    assert r.previous == DateRange(D("2026-11-27"), D("2026-11-29"))
    assert custom_range(D("2026-11-30"), D("2027-05-01"), TODAY).dates.end == TODAY
    with pytest.raises(RangeRefused, match="after it ends"):
        custom_range(D("2026-12-02"), D("2026-12-01"), TODAY)
    with pytest.raises(RangeRefused, match="after today"):
        custom_range(D("2026-12-05"), D("2026-12-09"), TODAY)
    with pytest.raises(RangeRefused, match="at most"):
        custom_range(D("2025-01-01"), TODAY, TODAY)
    first = custom_range(date.min, date.min, TODAY)
    assert first.previous is None  # nothing before the first supported date


@given(
    st.sampled_from(list(Period)),
    st.dates(min_value=D("2000-01-01"), max_value=D("2040-12-31")),
    st.dates(min_value=D("2000-01-01"), max_value=D("2040-12-31")),
)
def test_a_period_never_passes_today_and_its_previous_range_is_no_longer(
    period: Period, day: date, today: date
) -> None:
    r = period_to_date(period, day, today)
    assert r.dates.end <= today
    assert r.previous is not None
    assert r.previous.end < r.dates.start
    assert r.previous.day_count <= r.dates.day_count


def test_change_is_exact_and_absent_without_a_base() -> None:
    assert change(235, 123) == (Decimal(112) / Decimal(123))
    assert change(Decimal(5), 0) is None
    assert MAX_CUSTOM_DAYS == 366
