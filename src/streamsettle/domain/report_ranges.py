"""The date ranges a report covers: a period or a custom range, never past today.

A report shows a day, an ISO week or a calendar month (product.md 2) or any range of dates;
it ends at the current business day at the latest, so a month in progress shows the days
so far instead of a run of empty future days. Each range has a previous range to compare
with: the previous period over as many days (the first four days of December against the
first four of November), or, for a custom range, as many days just before it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from streamsettle.domain.periods import (
    FIRST_SUPPORTED_DATE,
    DateRange,
    Period,
    PeriodOutOfRange,
    period_range,
    require_supported,
)

_ONE_DAY = timedelta(days=1)
MAX_CUSTOM_DAYS = 366


class RangeRefused(ValueError):
    """A custom range that is empty, too long, or entirely in the future."""


@dataclass(frozen=True)
class ReportRange:
    """The dates shown, the period they belong to (None for a custom range), the comparison."""

    dates: DateRange
    previous: DateRange | None
    period: Period | None = None
    anchor: date | None = None
    """The date that names the period (``date=`` of the API)."""

    @property
    def full_period(self) -> DateRange | None:
        """The whole period, future days included: what the settlement API answers for."""
        if self.period is None or self.anchor is None:
            return None
        return period_range(self.period, self.anchor)


def _clip(dates: DateRange, today: date) -> DateRange:
    return DateRange(dates.start, min(dates.end, today))


def period_to_date(period: Period, day: date, today: date) -> ReportRange:
    """The period containing ``day`` up to ``today``; a ``day`` after today means today."""
    day = min(day, today)
    dates = _clip(period_range(period, day), today)
    previous: DateRange | None = None
    if dates.start > FIRST_SUPPORTED_DATE:
        whole_previous = period_range(period, dates.start - _ONE_DAY)
        end = min(whole_previous.start + timedelta(days=dates.day_count - 1), whole_previous.end)
        previous = DateRange(whole_previous.start, end)
    return ReportRange(dates=dates, previous=previous, period=period, anchor=day)


def custom_range(start: date, end: date, today: date) -> ReportRange:
    """``start..end`` with the end clipped to today; refused when empty or too long."""
    if start > end:
        raise RangeRefused(f"the range starts ({start}) after it ends ({end})")
    if start > today:
        raise RangeRefused(f"the range starts ({start}) after today ({today})")
    dates = _clip(DateRange(start, end), today)
    if dates.day_count > MAX_CUSTOM_DAYS:
        raise RangeRefused(f"a range covers at most {MAX_CUSTOM_DAYS} days")
    try:
        require_supported(dates)
        previous_start = dates.start - timedelta(days=dates.day_count)
        previous = require_supported(DateRange(previous_start, dates.start - _ONE_DAY))
    except (OverflowError, PeriodOutOfRange):
        previous = None
    return ReportRange(dates=dates, previous=previous)


def change(current: Decimal | int, previous: Decimal | int) -> Decimal | None:
    """The relative change against the previous range; None when there is nothing to compare."""
    if previous == 0:
        return None
    return (Decimal(current) - Decimal(previous)) / Decimal(previous)
