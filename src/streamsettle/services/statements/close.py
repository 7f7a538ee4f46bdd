"""Closing a month (product.md 3.8): one frozen statement per creator, in one transaction.

A month closes only when the batch has completed every one of its days and no settled day
up to its end needs a re-run, and months close in order: the first close is the month of
the earliest daily settlement (or later when nothing is settled before it), every later
one the month after the latest closed. Closing a closed month changes nothing.

A statement is written for every creator with a settled day in the month, an adjustment
carried by it, or a balance carried from the month before, so the carried balance always
continues from the previous statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, Date, bindparam, func, insert, select, text
from sqlalchemy.orm import Session

from streamsettle.db.models import (
    BatchRun,
    DailySettlement,
    Statement,
    StatementAdjustment,
    StatementDay,
    StatementMonth,
)
from streamsettle.domain.periods import DateRange
from streamsettle.domain.statements import (
    month_end,
    month_of,
    month_text,
    next_month,
    settle_balance,
)
from streamsettle.errors import Conflict
from streamsettle.runtime import Runtime
from streamsettle.services.batch import repository as batch_repo
from streamsettle.services.statements.ledger import (
    is_closed,
    latest_closed_month,
    lock_statements,
)

_AMOUNTS = ("views", "ad_views", "video_amount", "ad_amount", "total_amount")
_MAX_LISTED_DATES = 10


class MonthNotClosable(Conflict):
    """409: a day of the month is not settled, or an earlier month must close first."""

    code = "month_not_closable"


@dataclass(frozen=True)
class CloseResult:
    month: date
    statements: int
    closed_now: bool


def close_month(runtime: Runtime, month: date, *, threshold: int | None = None) -> CloseResult:
    """Close ``month`` (its first day); a no-op for a month already closed. ``threshold``
    defaults to the setting ``payout_threshold_krw``."""
    if threshold is None:
        threshold = runtime.settings.payout_threshold_krw
    with runtime.db.engine.begin() as conn:
        lock_statements(conn)
        if is_closed(conn, month):
            count = conn.scalar(
                select(StatementMonth.statements).where(StatementMonth.month == month)
            )
            return CloseResult(month, int(count or 0), closed_now=False)
        _check_order(conn, month)
        _check_settled(conn, month)
        count = _write_statements(conn, month, threshold)
        conn.execute(
            insert(StatementMonth).values(month=month, payout_threshold=threshold, statements=count)
        )
    return CloseResult(month, count, closed_now=True)


def _refuse(message: str, month: date, **details: object) -> MonthNotClosable:
    return MonthNotClosable(message, {"month": month_text(month), **details})


def _check_order(conn: Connection, month: date) -> None:
    latest = latest_closed_month(conn)
    if latest is not None:
        expected = next_month(latest)
        if month < latest:
            raise _refuse(
                f"{month_text(month)} is before the latest closed month {month_text(latest)}: "
                "its days are corrected by adjustments on the next open statement",
                month,
            )
        if month != expected:
            assert expected is not None  # month > latest, so latest is not 9999-12
            raise _refuse(f"months close in order: close {month_text(expected)} first", month)
        return
    first = conn.scalar(select(func.min(DailySettlement.business_date)))
    if first is not None and month_of(first) < month:
        raise _refuse(
            f"months close in order: the first settled month {month_text(month_of(first))} "
            "must close first",
            month,
        )


def _check_settled(conn: Connection, month: date) -> None:
    """Every day of the month completed by the batch; nothing up to its end to re-run."""
    end = month_end(month)
    latest = (
        select(BatchRun.business_date, func.max(BatchRun.id).label("run_id"))
        .where(BatchRun.business_date <= end)
        .group_by(BatchRun.business_date)
        .subquery()
    )
    rows = conn.execute(
        select(latest.c.business_date, BatchRun.status).join(
            BatchRun, BatchRun.id == latest.c.run_id
        )
    ).all()
    status = {day: state for day, state in rows}
    unsettled = [day for day in DateRange(month, end).days() if status.get(day) != "completed"]
    unsettled += sorted(d for d, state in status.items() if d < month and state != "completed")
    if unsettled:
        listed = [d.isoformat() for d in sorted(unsettled)[:_MAX_LISTED_DATES]]
        raise _refuse(
            f"{month_text(month)} cannot close: {len(unsettled)} day(s) up to its end are not "
            f"settled by a completed batch run (first: {listed[0]})",
            month,
            unsettled_dates=listed,
        )
    with Session(bind=conn) as session:
        stale = [d for d in batch_repo.dates_needing_rerun(session) if d <= end]
    if stale:
        listed = [d.isoformat() for d in stale[:_MAX_LISTED_DATES]]
        raise _refuse(
            f"{month_text(month)} cannot close: {len(stale)} settled day(s) up to its end "
            f"need a re-run (first: {listed[0]})",
            month,
            rerun_dates=listed,
        )


_COPY_DAYS = text(
    """
INSERT INTO statement_days (business_date, video_id, month, creator_id, views, ad_views,
                            video_amount, ad_amount, total_amount)
SELECT business_date, video_id, :month, creator_id, views, ad_views, video_amount,
       ad_amount, total_amount
FROM daily_settlements
WHERE business_date BETWEEN :month AND :end
"""
).bindparams(bindparam("month", type_=Date()), bindparam("end", type_=Date()))

_WRITE_LINES = text(
    """
INSERT INTO statement_lines (month, creator_id, video_id, title, views, ad_views,
                             video_amount, ad_amount, total_amount)
SELECT d.month, d.creator_id, d.video_id, v.title, sum(d.views), sum(d.ad_views),
       sum(d.video_amount), sum(d.ad_amount), sum(d.total_amount)
FROM statement_days AS d
JOIN videos AS v ON v.id = d.video_id
WHERE d.month = :month
GROUP BY d.month, d.creator_id, d.video_id, v.title
"""
).bindparams(bindparam("month", type_=Date()))


def _write_statements(conn: Connection, month: date, threshold: int) -> int:
    """Freeze the month's daily settlements, then each creator's statement and lines."""
    conn.execute(_COPY_DAYS, {"month": month, "end": month_end(month)})
    sums = {
        row.creator_id: row
        for row in conn.execute(
            select(
                StatementDay.creator_id,
                *(func.sum(getattr(StatementDay, name)).label(name) for name in _AMOUNTS),
            )
            .where(StatementDay.month == month)
            .group_by(StatementDay.creator_id)
        )
    }
    adjustments = {
        creator: int(amount)
        for creator, amount in conn.execute(
            select(StatementAdjustment.creator_id, func.sum(StatementAdjustment.amount))
            .where(StatementAdjustment.statement_month == month)
            .group_by(StatementAdjustment.creator_id)
        )
    }
    carried = {
        creator: int(amount)
        for creator, amount in conn.execute(
            select(Statement.creator_id, Statement.carried_out).where(
                Statement.month == _previous_month(month), Statement.carried_out != 0
            )
        )
    }
    rows = []
    for creator in sorted(set(sums) | set(adjustments) | set(carried)):
        amounts = {
            name: int(getattr(sums[creator], name)) if creator in sums else 0 for name in _AMOUNTS
        }
        payout = settle_balance(
            carried.get(creator, 0),
            amounts["total_amount"],
            adjustments.get(creator, 0),
            threshold,
        )
        rows.append(
            {
                "month": month,
                "creator_id": creator,
                **amounts,
                "carried_in": payout.carried_in,
                "adjustments_amount": payout.adjustments_amount,
                "payable_amount": payout.payable_amount,
                "paid_out": payout.paid_out,
                "carried_out": payout.carried_out,
            }
        )
    if rows:
        conn.execute(insert(Statement), rows)
    conn.execute(_WRITE_LINES, {"month": month})
    return len(rows)


def _previous_month(month: date) -> date:
    """The month before (for 0001-01, itself: nothing is ever closed before it)."""
    if month.month > 1:
        return month.replace(month=month.month - 1)
    return month.replace(year=month.year - 1, month=12) if month.year > 1 else month
