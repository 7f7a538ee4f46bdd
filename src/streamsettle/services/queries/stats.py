"""Top 5 videos (by views or watched seconds) and top 5 ads (by ad views) for a period.

Answered from the daily statistics alone, aggregated in SQL with ``ORDER BY … LIMIT 5`` so
that only five rows ever leave the database, whatever the number of videos. Ties go to the
smaller id.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from streamsettle.db.models import (
    Ad,
    DailyAdStats,
    DailyVideoStats,
    PeriodVideoStats,
    User,
    Video,
)
from streamsettle.domain.periods import DateRange, Period
from streamsettle.services.queries.access import advertiser_scope, creator_scope
from streamsettle.services.queries.results import Metric, TopAd, TopAds, TopVideo, TopVideos
from streamsettle.services.queries.window import period_dates

TOP_N = 5


def top_videos(
    session: Session,
    user: User,
    *,
    metric: Metric,
    period: Period,
    day: date,
    creator_id: int | None = None,
) -> TopVideos:
    """A creator's own videos; an admin's choice of all videos or one creator's."""
    scope = creator_scope(user, creator_id)
    dates = period_dates(period, day)
    top = _ranked_videos(period, dates, scope, metric).limit(TOP_N).subquery()
    rows = session.execute(
        select(top.c.video_id, top.c.views, top.c.watched_seconds, Video.title)
        .join(Video, Video.id == top.c.video_id)
        .order_by(top.c[metric.value].desc(), top.c.video_id)
    ).all()
    items = [
        TopVideo(
            rank=rank,
            video_id=row.video_id,
            title=row.title,
            views=int(row.views),
            watched_seconds=int(row.watched_seconds),
        )
        for rank, row in enumerate(rows, start=1)
    ]
    return TopVideos(period=period, from_=dates.start, to=dates.end, metric=metric, items=items)


def _ranked_videos(
    period: Period, dates: DateRange, scope: int | None, metric: Metric
) -> Select[int, int, int]:
    """Every video of the scope with its views and watched seconds, best first.

    A day has one row per video; a whole week or month over all videos reads the batch's
    rollup (``period_video_stats``), so that either ranking walks an index backwards and
    stops after five rows. A creator's own videos are summed from the days: few rows.
    """
    if scope is None and period is not Period.DAY:
        p = PeriodVideoStats
        ranked = select(p.video_id, p.views, p.watched_seconds).where(
            p.period == period.value, p.period_start == dates.start
        )
        video_id = p.video_id
    elif period is Period.DAY:
        d = DailyVideoStats
        ranked = select(d.video_id, d.views, d.watched_seconds).where(
            d.business_date == dates.start
        )
        video_id = d.video_id
    else:
        d = DailyVideoStats
        ranked = (
            select(
                d.video_id,
                func.sum(d.views).label("views"),
                func.sum(d.watched_seconds).label("watched_seconds"),
            )
            .where(d.business_date.between(dates.start, dates.end))
            .group_by(d.video_id)
        )
        video_id = d.video_id
    if scope is not None:
        ranked = ranked.where(DailyVideoStats.creator_id == scope)
    primary = ranked.selected_columns[metric.value]
    return ranked.order_by(primary.desc(), video_id)


def top_ads(session: Session, user: User, *, period: Period, day: date) -> TopAds:
    """An advertiser's own ads; all ads for an admin."""
    scope = advertiser_scope(user)
    dates = period_dates(period, day)
    s = DailyAdStats
    ad_views = func.sum(s.ad_views).label("ad_views")
    ranked = (
        select(s.ad_id, ad_views)
        .where(s.business_date.between(dates.start, dates.end))
        .group_by(s.ad_id)
    )
    if scope is not None:
        ranked = ranked.where(s.owner_id == scope)
    top = ranked.order_by(ad_views.desc(), s.ad_id).limit(TOP_N).subquery()
    rows = session.execute(
        select(top.c.ad_id, top.c.ad_views, Ad.title)
        .join(Ad, Ad.id == top.c.ad_id)
        .order_by(top.c.ad_views.desc(), top.c.ad_id)
    ).all()
    items = [
        TopAd(rank=rank, ad_id=row.ad_id, title=row.title, ad_views=int(row.ad_views))
        for rank, row in enumerate(rows, start=1)
    ]
    return TopAds(period=period, from_=dates.start, to=dates.end, items=items)
