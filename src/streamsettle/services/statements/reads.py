"""Reading statements: a closed month from its frozen rows, an open one computed live.

An open month shows its settled days so far, the adjustments waiting for it and the
payout as if it closed now. Its carried-in balance continues from the latest closed
statement through any open months before it (a projection until those close). Months
without any settlement leave a balance unchanged (a carried balance is always below the
threshold), so only months with data are walked, however far apart.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from streamsettle.db.models import (
    DailyCreatorSettlement,
    DailySettlement,
    Statement,
    StatementAdjustment,
    StatementDay,
    StatementLine,
    StatementMonth,
    Video,
)
from streamsettle.domain.statements import (
    carry_forward,
    month_end,
    month_of,
    month_text,
    next_month,
    settle_balance,
)
from streamsettle.services.statements import results as r

_AMOUNTS = ("views", "ad_views", "video_amount", "ad_amount", "total_amount")


def creator_statement(
    session: Session, creator_id: int, month: date, threshold: int
) -> r.CreatorStatement:
    """``creator_id``'s statement for ``month`` (its first day); zeros when there is none."""
    (statement,) = list_statements(session, month, threshold, creator_id).items or [
        _empty(creator_id, month, session, threshold)
    ]
    return statement


def list_statements(
    session: Session, month: date, threshold: int, creator_id: int | None = None
) -> r.StatementList:
    """Every creator's statement for ``month`` (or one creator's), by creator id."""
    closed = session.get(StatementMonth, month)
    if closed is not None:
        items = _closed(session, closed, creator_id)
        status = r.StatementStatus.CLOSED
    else:
        items = _open(session, month, threshold, creator_id)
        status = r.StatementStatus.OPEN
    return r.StatementList(month=month_text(month), status=status, items=items)


def _empty(creator_id: int, month: date, session: Session, threshold: int) -> r.CreatorStatement:
    closed = session.get(StatementMonth, month)
    payout = settle_balance(0, 0, 0, closed.payout_threshold if closed else threshold)
    return _statement(
        creator_id,
        month,
        status=r.StatementStatus.CLOSED if closed else r.StatementStatus.OPEN,
        lines=[],
        adjustments=[],
        amounts=dict.fromkeys(_AMOUNTS, 0),
        payout=payout.__dict__,
        threshold=closed.payout_threshold if closed else threshold,
        closed_at=closed.closed_at if closed else None,
    )


def _statement(
    creator_id: int,
    month: date,
    *,
    status: r.StatementStatus,
    lines: list[r.StatementLine],
    adjustments: list[r.Adjustment],
    amounts: dict[str, int],
    payout: dict[str, int],
    threshold: int,
    closed_at: Any,
) -> r.CreatorStatement:
    return r.CreatorStatement(
        creator_id=creator_id,
        month=month_text(month),
        status=status,
        lines=lines,
        adjustments=adjustments,
        **amounts,
        carried_in=payout["carried_in"],
        adjustments_amount=payout["adjustments_amount"],
        payable_amount=payout["payable_amount"],
        paid_out=payout["paid_out"],
        carried_out=payout["carried_out"],
        payout_threshold=threshold,
        closed_at=closed_at,
    )


def _adjustments(
    session: Session, months: Iterable[date], creator_id: int | None
) -> dict[tuple[date, int], list[r.Adjustment]]:
    """The adjustments carried by ``months``' statements, per (month, creator), in order."""
    query = select(StatementAdjustment).where(StatementAdjustment.statement_month.in_(list(months)))
    if creator_id is not None:
        query = query.where(StatementAdjustment.creator_id == creator_id)
    found: dict[tuple[date, int], list[r.Adjustment]] = defaultdict(list)
    for row in session.scalars(query.order_by(StatementAdjustment.id)):
        found[row.statement_month, row.creator_id].append(
            r.Adjustment(
                month=month_text(month_of(row.business_date)),
                date=row.business_date,
                video_id=row.video_id,
                amount=row.amount,
                previous_amount=row.previous_amount,
                new_amount=row.new_amount,
            )
        )
    return found


def _closed(
    session: Session, closed: StatementMonth, creator_id: int | None
) -> list[r.CreatorStatement]:
    month = closed.month
    statements = select(Statement).where(Statement.month == month)
    lines_query = select(StatementLine).where(StatementLine.month == month)
    if creator_id is not None:
        statements = statements.where(Statement.creator_id == creator_id)
        lines_query = lines_query.where(StatementLine.creator_id == creator_id)
    lines: dict[int, list[r.StatementLine]] = defaultdict(list)
    for line in session.scalars(lines_query.order_by(StatementLine.video_id)):
        lines[line.creator_id].append(
            r.StatementLine(
                video_id=line.video_id,
                title=line.title,
                **{name: getattr(line, name) for name in _AMOUNTS},
            )
        )
    adjustments = _adjustments(session, [month], creator_id)
    return [
        _statement(
            row.creator_id,
            month,
            status=r.StatementStatus.CLOSED,
            lines=lines[row.creator_id],
            adjustments=adjustments[month, row.creator_id],
            amounts={name: getattr(row, name) for name in _AMOUNTS},
            payout={
                name: getattr(row, name)
                for name in (
                    "carried_in",
                    "adjustments_amount",
                    "payable_amount",
                    "paid_out",
                    "carried_out",
                )
            },
            threshold=closed.payout_threshold,
            closed_at=closed.closed_at,
        )
        for row in session.scalars(statements.order_by(Statement.creator_id))
    ]


def _open(
    session: Session, month: date, threshold: int, creator_id: int | None
) -> list[r.CreatorStatement]:
    s = DailySettlement
    lines_query = (
        select(
            s.creator_id,
            s.video_id,
            Video.title,
            *(func.sum(getattr(s, name)).label(name) for name in _AMOUNTS),
        )
        .join(Video, Video.id == s.video_id)
        .where(s.business_date.between(month, month_end(month)))
        .group_by(s.creator_id, s.video_id, Video.title)
        .order_by(s.creator_id, s.video_id)
    )
    if creator_id is not None:
        lines_query = lines_query.where(s.creator_id == creator_id)
    lines: dict[int, list[r.StatementLine]] = defaultdict(list)
    for row in session.execute(lines_query):
        lines[row.creator_id].append(
            r.StatementLine(
                video_id=row.video_id,
                title=row.title,
                **{name: int(getattr(row, name)) for name in _AMOUNTS},
            )
        )
    adjustments = _adjustments(session, [month], creator_id)
    carried = _carried_in(session, month, threshold, creator_id)
    creators = set(lines) | {c for _, c in adjustments} | {c for c, v in carried.items() if v}
    if creator_id is not None:
        creators = {creator_id}
    items = []
    for creator in sorted(creators):
        amounts = {name: sum(getattr(line, name) for line in lines[creator]) for name in _AMOUNTS}
        pending = adjustments[month, creator]
        payout = settle_balance(
            carried.get(creator, 0),
            amounts["total_amount"],
            sum(a.amount for a in pending),
            threshold,
        )
        items.append(
            _statement(
                creator,
                month,
                status=r.StatementStatus.OPEN,
                lines=lines[creator],
                adjustments=pending,
                amounts=amounts,
                payout=payout.__dict__,
                threshold=threshold,
                closed_at=None,
            )
        )
    return items


def _carried_in(
    session: Session, month: date, threshold: int, creator_id: int | None
) -> dict[int, int]:
    """Each creator's balance carried into the open ``month``: the latest closed statement's
    carried-out balance, carried forward through the open months before ``month``."""
    latest = session.scalar(
        select(func.max(StatementMonth.month)).where(StatementMonth.month < month)
    )
    balances: dict[int, int] = {}
    if latest is not None:
        query = select(Statement.creator_id, Statement.carried_out).where(
            Statement.month == latest, Statement.carried_out != 0
        )
        if creator_id is not None:
            query = query.where(Statement.creator_id == creator_id)
        balances = {c: int(v) for c, v in session.execute(query)}
    first_open = next_month(latest) if latest is not None else None
    if first_open is not None and first_open >= month:
        return balances
    # Open months before ``month``: their totals and (first open month only) adjustments.
    per_month: dict[int, dict[date, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    d = DailyCreatorSettlement
    totals = select(d.creator_id, d.business_date, d.total_amount).where(d.business_date < month)
    if first_open is not None:
        totals = totals.where(d.business_date >= first_open)
    if creator_id is not None:
        totals = totals.where(d.creator_id == creator_id)
    for creator, day, amount in session.execute(totals):
        per_month[creator][month_of(day)][0] += int(amount)
    if first_open is not None:
        for (_, creator), pending in _adjustments(session, [first_open], creator_id).items():
            per_month[creator][first_open][1] += sum(a.amount for a in pending)
    for creator, months in per_month.items():
        walked = carry_forward(
            balances.get(creator, 0),
            ((months[m][0], months[m][1]) for m in sorted(months)),
            threshold,
        )
        balances[creator] = walked[-1].carried_out
    return balances


def statement_days(
    session: Session, creator_id: int, month: date
) -> dict[int, list[r.StatementDayLine]]:
    """A statement's daily settlements per video (what a closed one holds, frozen), by date."""
    closed = session.get(StatementMonth, month) is not None
    table: Any = StatementDay if closed else DailySettlement
    query = select(table).where(
        table.creator_id == creator_id, table.business_date.between(month, month_end(month))
    )
    days: dict[int, list[r.StatementDayLine]] = defaultdict(list)
    for row in session.scalars(query.order_by(table.video_id, table.business_date)):
        days[row.video_id].append(
            r.StatementDayLine(date=row.business_date, **{n: getattr(row, n) for n in _AMOUNTS})
        )
    return days


def latest_closed(session: Session) -> date | None:
    """The first day of the latest closed month, if any."""
    return session.scalar(select(func.max(StatementMonth.month)))
