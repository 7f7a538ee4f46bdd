"""Business days and periods (docs/rules.md): the time zone and the clock are arguments."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

_ONE_DAY = timedelta(days=1)

# A business day's bounds are its local midnight and the next one, which in a time zone up to
# a day away from UTC can fall on the neighbouring dates: both neighbours must be real dates.
FIRST_SUPPORTED_DATE = date.min + _ONE_DAY
LAST_SUPPORTED_DATE = date.max - _ONE_DAY


class PeriodOutOfRange(ValueError):
    """A business date or period reaching outside ``FIRST_SUPPORTED_DATE..LAST_SUPPORTED_DATE``."""


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class DateRange:
    """Business dates from ``start`` to ``end``, both inclusive (the batch's partition keys)."""

    start: date
    end: date

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if isinstance(value, datetime) or not isinstance(value, date):
                raise TypeError(f"{name} must be a date, not {type(value).__name__}")
        if self.start > self.end:
            raise ValueError(f"start {self.start} is after end {self.end}")

    @property
    def day_count(self) -> int:
        return (self.end - self.start).days + 1

    def __len__(self) -> int:
        return self.day_count

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def days(self) -> Iterator[date]:
        """Each date in order, start first."""
        day = self.start
        while day <= self.end:
            yield day
            day += _ONE_DAY


def require_supported(dates: DateRange) -> DateRange:
    """``dates`` itself when every day in it is a supported business date."""
    if dates.start < FIRST_SUPPORTED_DATE or dates.end > LAST_SUPPORTED_DATE:
        raise PeriodOutOfRange(
            f"{dates.start.isoformat()}..{dates.end.isoformat()} leaves the supported dates "
            f"{FIRST_SUPPORTED_DATE.isoformat()}..{LAST_SUPPORTED_DATE.isoformat()}"
        )
    return dates


def period_range(period: Period, day: date) -> DateRange:
    """The day itself, its ISO week (Monday..Sunday) or its calendar month.

    ``PeriodOutOfRange`` when the period reaches past the supported dates (the week of
    9999-12-31 would end in the year 10000).
    """
    period = Period(period)
    try:
        if period is Period.DAY:
            dates = DateRange(day, day)
        elif period is Period.WEEK:
            monday = day - timedelta(days=day.weekday())
            dates = DateRange(monday, monday + timedelta(days=6))
        else:
            first = day.replace(day=1)
            following = first + timedelta(days=31)
            dates = DateRange(first, following - timedelta(days=following.day))
    except OverflowError as exc:
        raise PeriodOutOfRange(
            f"the {period.value} of {day.isoformat()} leaves the supported dates "
            f"{FIRST_SUPPORTED_DATE.isoformat()}..{LAST_SUPPORTED_DATE.isoformat()}"
        ) from exc
    return require_supported(dates)


def _require_aware(instant: datetime) -> None:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError(f"a time-zone-aware datetime is required, got naive {instant!r}")


def business_date(instant: datetime, tz: ZoneInfo) -> date:
    """The calendar date of ``instant`` in the platform time zone ``tz``."""
    _require_aware(instant)
    return instant.astimezone(tz).date()


def business_day_bounds(day: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """``[start, end)`` of a business day as aware UTC datetimes; 23 or 25 h across DST.

    A local midnight that falls in a DST gap maps (fold=0, offset before the transition) to
    the transition instant, which is exactly when that day begins.
    """
    require_supported(DateRange(day, day))
    start = datetime.combine(day, time.min, tzinfo=tz).astimezone(UTC)
    end = datetime.combine(day + _ONE_DAY, time.min, tzinfo=tz).astimezone(UTC)
    return start, end


def previous_business_date(now: datetime, tz: ZoneInfo) -> date:
    """Yesterday in ``tz``: the day the scheduled batch settles."""
    return business_date(now, tz) - _ONE_DAY
