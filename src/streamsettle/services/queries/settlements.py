"""Settlements for a period: one video's, one creator's, one ad's, and all creators' (admin).

Everything is summed from the daily settlement tables (all creators' overview: from each
creator's daily totals, which the batch writes after settling a day). A day the batch has
not settled yet has no row: it is absent from ``days`` and counts as zero in the totals.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from streamsettle.db.models import (
    DailyAdSettlement,
    DailyCreatorSettlement,
    DailySettlement,
    User,
    Video,
)
from streamsettle.domain.periods import DateRange, Period
from streamsettle.services.queries.access import require_admin, visible_ad, visible_video
from streamsettle.services.queries.results import (
    AdSettlement,
    AdSettlementDay,
    CreatorSettlement,
    CreatorsOverview,
    CreatorTotal,
    CreatorVideoLine,
    SettlementDay,
    VideoSettlement,
)
from streamsettle.services.queries.window import period_dates

_AMOUNT_FIELDS = ("views", "ad_views", "video_amount", "ad_amount", "total_amount")


_Settlements = type[DailySettlement] | type[DailyCreatorSettlement]


def _sums(table: _Settlements) -> tuple[Any, ...]:
    return tuple(func.sum(getattr(table, name)).label(name) for name in _AMOUNT_FIELDS)


_S = DailySettlement
_SUMS = _sums(_S)


def _amounts(row: Any) -> dict[str, int]:
    """The five sums of a row as ints (SUM gives NULL over no rows, NUMERIC on PostgreSQL)."""
    return {name: int(getattr(row, name) or 0) if row else 0 for name in _AMOUNT_FIELDS}


def _in(table: _Settlements, dates: DateRange) -> Any:
    return table.business_date.between(dates.start, dates.end)


def _days(session: Session, table: _Settlements, *where: Any) -> list[SettlementDay]:
    """The period's settled days of ``table``'s rows that match ``where``, summed per day."""
    rows = session.execute(
        select(table.business_date, *_sums(table))
        .where(*where)
        .group_by(table.business_date)
        .order_by(table.business_date)
    )
    return [SettlementDay(date=row.business_date, **_amounts(row)) for row in rows]


def _total(days: list[SettlementDay]) -> dict[str, int]:
    return {name: sum(getattr(d, name) for d in days) for name in _AMOUNT_FIELDS}


def _summed(period: Period, dates: DateRange, days: list[SettlementDay]) -> dict[str, Any]:
    """A settlement's period, its days and their totals."""
    return {"period": period, "from_": dates.start, "to": dates.end, "days": days, **_total(days)}


def video_settlement(
    session: Session, user: User, video_id: int, *, period: Period, day: date
) -> VideoSettlement:
    """One video's settlement with its daily lines; for its creator or an admin."""
    video = visible_video(session, user, video_id)
    dates = period_dates(period, day)
    days = _days(session, _S, _S.video_id == video_id, _in(_S, dates))
    return VideoSettlement(video_id=video.id, title=video.title, **_summed(period, dates, days))


def creator_settlement(
    session: Session, creator_id: int, *, period: Period, day: date
) -> CreatorSettlement:
    """A creator's totals, per-video lines (videos with a settled day) and daily totals.

    The caller decides who may ask (``/creators/me`` asks for the user's own id).
    """
    dates = period_dates(period, day)
    mine = (_S.creator_id == creator_id, _in(_S, dates))
    per_video = select(_S.video_id, *_SUMS).where(*mine).group_by(_S.video_id).subquery("per_video")
    video_rows = session.execute(
        select(per_video, Video.title)
        .join(Video, Video.id == per_video.c.video_id)
        .order_by(per_video.c.video_id)
    ).all()
    days = _days(session, _S, *mine)
    videos = [
        CreatorVideoLine(video_id=row.video_id, title=row.title, **_amounts(row))
        for row in video_rows
    ]
    return CreatorSettlement(creator_id=creator_id, videos=videos, **_summed(period, dates, days))


def ad_settlement(
    session: Session, user: User, ad_id: int, *, period: Period, day: date
) -> AdSettlement:
    """One ad's settlement: its per-(video, ad) amounts summed per day; owner or admin."""
    ad = visible_ad(session, user, ad_id)
    dates = period_dates(period, day)
    a = DailyAdSettlement
    rows = session.execute(
        select(
            a.business_date,
            func.sum(a.ad_views).label("ad_views"),
            func.sum(a.amount).label("amount"),
        )
        .where(a.ad_id == ad_id, a.business_date.between(dates.start, dates.end))
        .group_by(a.business_date)
        .order_by(a.business_date)
    ).all()
    days = [
        AdSettlementDay(date=r.business_date, ad_views=int(r.ad_views), amount=int(r.amount))
        for r in rows
    ]
    return AdSettlement(
        ad_id=ad.id,
        title=ad.title,
        period=period,
        from_=dates.start,
        to=dates.end,
        ad_views=sum(d.ad_views for d in days),
        amount=sum(d.amount for d in days),
        days=days,
    )


def creators_overview(
    session: Session, user: User, *, period: Period, day: date, limit: int = 100
) -> CreatorsOverview:
    """All creators' totals for the period (admin): grand totals and the top ``limit``."""
    require_admin(user)
    dates = period_dates(period, day)
    c = DailyCreatorSettlement
    per_creator = (
        select(c.creator_id, func.count().over().label("creators_count"), *_sums(c))
        .where(_in(c, dates))
        .group_by(c.creator_id)
        .order_by(func.sum(c.total_amount).desc(), c.creator_id)
        .limit(limit)
        .subquery("per_creator")
    )
    creator_rows = session.execute(
        select(per_creator, User.display_name, User.email)
        .join(User, User.id == per_creator.c.creator_id)
        .order_by(per_creator.c.total_amount.desc(), per_creator.c.creator_id)
    ).all()
    days = _days(session, c, _in(c, dates))
    creators = [
        CreatorTotal(
            creator_id=row.creator_id,
            display_name=row.display_name,
            email=row.email,
            **_amounts(row),
        )
        for row in creator_rows
    ]
    count = int(creator_rows[0].creators_count) if creator_rows else 0
    return CreatorsOverview(
        period=period,
        from_=dates.start,
        to=dates.end,
        creators_count=count,
        creators=creators,
        days=days,
        **_total(days),
    )
