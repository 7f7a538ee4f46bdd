from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from streamsettle.domain.periods import (
    FIRST_SUPPORTED_DATE,
    LAST_SUPPORTED_DATE,
    DateRange,
    Period,
    PeriodOutOfRange,
    business_date,
    business_day_bounds,
    period_range,
    previous_business_date,
)

SEOUL = ZoneInfo("Asia/Seoul")
NEW_YORK = ZoneInfo("America/New_York")
SANTIAGO = ZoneInfo("America/Santiago")


def test_date_range_is_inclusive() -> None:
    r = DateRange(date(2026, 1, 30), date(2026, 2, 2))
    assert list(r.days()) == [
        date(2026, 1, 30),
        date(2026, 1, 31),
        date(2026, 2, 1),
        date(2026, 2, 2),
    ]
    assert len(r) == r.day_count == 4
    assert date(2026, 2, 2) in r and date(2026, 2, 3) not in r
    assert len(DateRange(date(2026, 1, 1), date(2026, 1, 1))) == 1


def test_date_range_refuses_reversed_or_datetimes() -> None:
    with pytest.raises(ValueError):
        DateRange(date(2026, 1, 2), date(2026, 1, 1))
    with pytest.raises(TypeError):
        DateRange(datetime(2026, 1, 1), date(2026, 1, 2))


def test_day_period_is_the_day() -> None:
    assert period_range(Period.DAY, date(2026, 3, 4)) == DateRange(
        date(2026, 3, 4), date(2026, 3, 4)
    )


@pytest.mark.parametrize("day", [date(2026, 11, 30), date(2026, 12, 3), date(2026, 12, 6)])
def test_iso_week_straddling_two_months(day: date) -> None:
    assert period_range(Period.WEEK, day) == DateRange(date(2026, 11, 30), date(2026, 12, 6))


@pytest.mark.parametrize("day", [date(2026, 12, 28), date(2026, 12, 31), date(2027, 1, 3)])
def test_iso_week_crossing_the_year(day: date) -> None:
    week = period_range(Period.WEEK, day)
    assert week == DateRange(date(2026, 12, 28), date(2027, 1, 3))
    assert week.start.isocalendar()[:2] == (2026, 53)


def test_week_accepts_the_plain_string() -> None:
    assert period_range("week", date(2026, 1, 1)) == DateRange(date(2025, 12, 29), date(2026, 1, 4))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("day", "last", "length"),
    [
        (date(2026, 1, 15), date(2026, 1, 31), 31),
        (date(2026, 2, 1), date(2026, 2, 28), 28),
        (date(2028, 2, 29), date(2028, 2, 29), 29),
        (date(2100, 2, 10), date(2100, 2, 28), 28),
        (date(2000, 2, 10), date(2000, 2, 29), 29),
        (date(2026, 4, 30), date(2026, 4, 30), 30),
        (date(2026, 12, 31), date(2026, 12, 31), 31),
    ],
)
def test_month_lengths(day: date, last: date, length: int) -> None:
    month = period_range(Period.MONTH, day)
    assert month.start == day.replace(day=1)
    assert month.end == last
    assert len(month) == length


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        (datetime(2026, 11, 1, 14, 59, 59, 999999, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 11, 1, 15, 0, tzinfo=UTC), date(2026, 11, 2)),
        (datetime(2026, 10, 31, 15, 0, tzinfo=UTC), date(2026, 11, 1)),
        (datetime(2026, 11, 2, 0, 0, tzinfo=timezone(timedelta(hours=9))), date(2026, 11, 2)),
    ],
)
def test_seoul_midnight_boundary(instant: datetime, expected: date) -> None:
    assert business_date(instant, SEOUL) == expected


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError):
        business_date(datetime(2026, 1, 1), SEOUL)
    with pytest.raises(ValueError):
        previous_business_date(datetime(2026, 1, 1), SEOUL)


def test_seoul_day_bounds() -> None:
    start, end = business_day_bounds(date(2026, 11, 1), SEOUL)
    assert start == datetime(2026, 10, 31, 15, 0, tzinfo=UTC)
    assert end == datetime(2026, 11, 1, 15, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("tz", "day", "hours"),
    [
        (NEW_YORK, date(2026, 3, 8), 23),
        (NEW_YORK, date(2026, 11, 1), 25),
        (NEW_YORK, date(2026, 6, 1), 24),
        (SANTIAGO, date(2026, 9, 6), 23),  # clocks jump from 00:00 to 01:00: midnight is missing
        (SANTIAGO, date(2026, 4, 4), 25),
    ],
)
def test_day_bounds_across_dst(tz: ZoneInfo, day: date, hours: int) -> None:
    start, end = business_day_bounds(day, tz)
    assert end - start == timedelta(hours=hours)
    assert business_date(start, tz) == day
    assert business_date(end - timedelta(microseconds=1), tz) == day
    assert business_date(start - timedelta(microseconds=1), tz) == day - timedelta(days=1)
    assert business_date(end, tz) == day + timedelta(days=1)


def test_previous_business_date_uses_the_given_zone() -> None:
    now = datetime(2026, 11, 1, 15, 30, tzinfo=UTC)  # 00:30 on 2 Nov in Seoul
    assert previous_business_date(now, SEOUL) == date(2026, 11, 1)
    assert previous_business_date(now, ZoneInfo("UTC")) == date(2026, 10, 31)


@pytest.mark.parametrize(
    ("period", "day"),
    [
        (Period.WEEK, date(9999, 12, 31)),
        (Period.MONTH, date(9999, 12, 31)),
        (Period.DAY, date(9999, 12, 31)),
        (Period.WEEK, date(9999, 12, 27)),
        (Period.MONTH, date(1, 1, 15)),
        (Period.DAY, date(1, 1, 1)),
    ],
)
def test_periods_past_the_supported_dates_are_refused(period: Period, day: date) -> None:
    with pytest.raises(PeriodOutOfRange, match=r"0001-01-02\.\.9999-12-30"):
        period_range(period, day)


def test_the_supported_dates_reach_their_last_whole_periods() -> None:
    assert (date(1, 1, 2), date(9999, 12, 30)) == (FIRST_SUPPORTED_DATE, LAST_SUPPORTED_DATE)
    assert period_range(Period.WEEK, date(9999, 12, 26)) == DateRange(
        date(9999, 12, 20), date(9999, 12, 26)
    )
    assert period_range(Period.MONTH, date(9999, 11, 30)) == DateRange(
        date(9999, 11, 1), date(9999, 11, 30)
    )
    assert period_range(Period.WEEK, date(1, 1, 8)) == DateRange(date(1, 1, 8), date(1, 1, 14))
    with pytest.raises(PeriodOutOfRange):
        business_day_bounds(date(9999, 12, 31), SEOUL)
