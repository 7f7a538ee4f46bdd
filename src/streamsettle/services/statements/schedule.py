"""The scheduler's part in statements: from ``statement_close_day`` of a month on, close the
previous month as soon as it can close (0 turns it off). Closing is idempotent and takes
the statements lock, so any number of servers may try at once."""

from __future__ import annotations

from datetime import datetime, timedelta

from streamsettle.domain.periods import business_date
from streamsettle.domain.statements import month_of, month_text
from streamsettle.logging import get_logger
from streamsettle.runtime import Runtime
from streamsettle.services.statements.close import CloseResult, MonthNotClosable, close_month
from streamsettle.services.statements.ledger import is_closed

log = get_logger(__name__)
_warned: set[str] = set()
_ONE_DAY = timedelta(days=1)


def close_due_month(runtime: Runtime, now: datetime) -> CloseResult | None:
    """The month closed now, if one was due and could close; otherwise None."""
    close_day = runtime.settings.statement_close_day
    today = business_date(now, runtime.settings.tz)
    if close_day == 0 or today.day < close_day or (today.year == 1 and today.month == 1):
        return None
    previous = month_of(today.replace(day=1) - _ONE_DAY)
    with runtime.db.engine.connect() as conn:
        if is_closed(conn, previous):
            return None
    try:
        result = close_month(runtime, previous)
    except MonthNotClosable as exc:
        if month_text(previous) not in _warned:  # once per month and process, not every tick
            _warned.add(month_text(previous))
            log.warning(
                "scheduled month close refused", month=month_text(previous), error=exc.message
            )
        return None
    log.info("scheduled month close", month=month_text(previous), statements=result.statements)
    return result
