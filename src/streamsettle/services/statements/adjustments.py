"""Adjustments (product.md 3.8): a re-settled day of a closed month corrects the next
open statement, never the closed one.

For each (video, day) the amount still due is the settlement now minus what the closed
statement holds (``statement_days``) minus every adjustment already recorded for it. So a
re-run that changed nothing adds nothing, running twice never doubles, and a correction of
a correction adjusts only the new difference. Days after the latest closed month are not
on any statement yet: nothing to adjust. A day before the first closed month was on no
statement: it is adjusted in full (nothing settled is ever left out).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Date, bindparam, text

from streamsettle.db.base import UTCDateTime, utcnow
from streamsettle.domain.statements import month_of, next_month
from streamsettle.services.statements.ledger import latest_closed_month, lock_statements

_RECORD = text(
    """
INSERT INTO statement_adjustments (statement_month, creator_id, video_id, business_date,
                                   previous_amount, new_amount, amount, created_at)
SELECT :target, creator_id, video_id, :day, sum(known), sum(now_amount),
       sum(now_amount) - sum(known), :now
FROM (
    SELECT creator_id, video_id, total_amount AS now_amount, 0 AS known
    FROM daily_settlements WHERE business_date = :day
    UNION ALL
    SELECT creator_id, video_id, 0, total_amount
    FROM statement_days WHERE business_date = :day
    UNION ALL
    SELECT creator_id, video_id, 0, amount
    FROM statement_adjustments WHERE business_date = :day
) AS amounts
GROUP BY creator_id, video_id
HAVING sum(now_amount) <> sum(known)
"""
).bindparams(
    bindparam("now", type_=UTCDateTime()),
    bindparam("day", type_=Date()),
    bindparam("target", type_=Date()),
)


def record_adjustments(conn: Connection, day: date) -> int:
    """Record what ``day``'s settlement changed on closed statements; the lines written.

    Idempotent: run it after every settlement of ``day`` (the batch's last step)."""
    lock_statements(conn)
    closed = latest_closed_month(conn)
    if closed is None or month_of(day) > closed:
        return 0
    target = next_month(closed)
    if target is None:
        return 0  # 9999-12 closed: there is no later statement to carry anything
    result = conn.execute(_RECORD, {"target": target, "day": day, "now": utcnow()})
    return max(result.rowcount, 0)
