"""Top 5 videos (by views or watched seconds) and top 5 ads (by ad views) for a period.

Answered from the daily statistics alone, aggregated in SQL with ``ORDER BY … LIMIT 5`` so
that only five rows ever leave the database, whatever the number of videos. Ties go to the
smaller id.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from streamsettle.db.models import Ad, DailyAdStats, DailyVideoStats, User, Video
from streamsettle.domain.periods import Period, period_range
from streamsettle.services.queries.access import advertiser_scope, creator_scope
from streamsettle.services.queries.results import Metric, TopAd, TopAds, TopVideo, TopVideos

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
    dates = period_range(period, day)
    s = DailyVideoStats
    views = func.sum(s.views).label("views")
    watched = func.sum(s.watched_seconds).label("watched_seconds")
    ranked = (
        select(s.video_id, views, watched)
        .where(s.business_date.between(dates.start, dates.end))
        .group_by(s.video_id)
    )
    if scope is not None:
        ranked = ranked.where(s.creator_id == scope)
    primary = views if metric is Metric.VIEWS else watched
    top = ranked.order_by(primary.desc(), s.video_id).limit(TOP_N).subquery()
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


def top_ads(session: Session, user: User, *, period: Period, day: date) -> TopAds:
    """An advertiser's own ads; all ads for an admin."""
    scope = advertiser_scope(user)
    dates = period_range(period, day)
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
