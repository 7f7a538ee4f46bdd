"""The dates a statistics or settlement question covers, refused as input when unsupported."""

from __future__ import annotations

from datetime import date

from streamsettle.domain.periods import DateRange, Period, PeriodOutOfRange, period_range
from streamsettle.errors import InvalidInput


def period_dates(period: Period, day: date) -> DateRange:
    """``period_range``, with a period past the supported dates as ``InvalidInput`` (422)."""
    try:
        return period_range(period, day)
    except PeriodOutOfRange as exc:
        raise InvalidInput(str(exc), {"period": str(period), "date": day.isoformat()}) from exc
