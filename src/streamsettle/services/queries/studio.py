"""The creators' studio and the advertiser page: totals, daily series and breakdowns.

Views, watched seconds and ad views come from the daily statistics; money from the daily
settlements, exactly as the settlement API sums them (an ad's spend is its settlement's
``amount``). Every date of the range appears in ``days``, zero when nothing was settled, so
a chart has one bar per day. Amounts are whole KRW as ``Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from streamsettle.db.models import (
    Ad,
    DailyAdSettlement,
    DailySettlement,
    DailyVideoStats,
    User,
    Video,
)
from streamsettle.domain.periods import DateRange
from streamsettle.errors import Forbidden
from streamsettle.services.queries.access import visible_video

_ZERO = Decimal(0)
_SECONDS_PER_HOUR = Decimal(3600)
_STATS = ("views", "watched_seconds", "ad_views")
_MONEY = ("video_amount", "ad_amount", "total_amount")


@dataclass(frozen=True)
class Totals:
    """What a creator's range, day or video adds up to."""

    views: int = 0
    watched_seconds: int = 0
    ad_views: int = 0
    video_amount: Decimal = _ZERO
    ad_amount: Decimal = _ZERO
    total_amount: Decimal = _ZERO

    @property
    def watch_hours(self) -> Decimal:
        return (Decimal(self.watched_seconds) / _SECONDS_PER_HOUR).quantize(Decimal("0.1"))

    @property
    def rpm(self) -> Decimal | None:
        """Earnings per 1,000 views, to the won (half up); None without a view."""
        if not self.views:
            return None
        return (self.total_amount * 1000 / self.views).quantize(Decimal(1), ROUND_HALF_UP)

    @property
    def average_view_seconds(self) -> int | None:
        """Watched seconds per view (repeat views add seconds, not views); None without a view."""
        if not self.views:
            return None
        return self.watched_seconds // self.views


@dataclass(frozen=True)
class StudioDay(Totals):
    date: date = date.min


@dataclass(frozen=True)
class StudioVideo(Totals):
    video_id: int = 0
    title: str = ""


@dataclass(frozen=True)
class AdLine:
    ad_id: int
    title: str
    ad_views: int
    amount: Decimal


@dataclass(frozen=True)
class CreatorReport:
    creator_id: int
    dates: DateRange
    totals: Totals
    previous: Totals | None
    days: list[StudioDay]
    videos: list[StudioVideo]


@dataclass(frozen=True)
class VideoReport:
    video_id: int
    title: str
    creator_id: int
    dates: DateRange
    totals: Totals
    previous: Totals | None
    days: list[StudioDay]
    ads: list[AdLine]


@dataclass(frozen=True)
class AdDay:
    date: date
    ad_views: int = 0
    amount: Decimal = _ZERO


@dataclass(frozen=True)
class AdvertiserReport:
    owner_id: int
    dates: DateRange
    ad_views: int
    amount: Decimal
    ads: list[AdLine]
    days: list[AdDay] = field(default_factory=list)


def _between(column: Any, dates: DateRange) -> Any:
    return column.between(dates.start, dates.end)


def _grouped(session: Session, key: Any, where: list[Any]) -> dict[Any, dict[str, int | Decimal]]:
    """Statistics and money summed per ``key`` (a column both tables have).

    ``where`` holds functions from a table to a condition, so that one filter applies to
    the statistics and to the settlements alike.
    """
    s, m = DailyVideoStats, DailySettlement
    out: dict[Any, dict[str, int | Decimal]] = {}
    stats = (
        select(getattr(s, key), *(func.sum(getattr(s, n)).label(n) for n in _STATS))
        .where(*(w(s) for w in where))
        .group_by(getattr(s, key))
    )
    for row in session.execute(stats):
        out.setdefault(row[0], {}).update({n: int(getattr(row, n)) for n in _STATS})
    money = (
        select(getattr(m, key), *(func.sum(getattr(m, n)).label(n) for n in _MONEY))
        .where(*(w(m) for w in where))
        .group_by(getattr(m, key))
    )
    for row in session.execute(money):
        out.setdefault(row[0], {}).update({n: Decimal(int(getattr(row, n))) for n in _MONEY})
    return out


def _total(session: Session, where: list[Any]) -> Totals:
    sums = _grouped(session, "creator_id", where)
    values: dict[str, Any] = {}
    for part in sums.values():
        for name, value in part.items():
            values[name] = values.get(name, 0) + value
    return Totals(**values)


def _days(session: Session, dates: DateRange, where: list[Any]) -> list[StudioDay]:
    per_day = _grouped(session, "business_date", where)
    return [StudioDay(date=day, **per_day.get(day, {})) for day in dates.days()]  # type: ignore[arg-type]


def _range(
    session: Session, which: Any, dates: DateRange, previous: DateRange | None
) -> tuple[Totals, Totals | None, list[StudioDay]]:
    """The totals of ``which`` rows over the range and the previous range, and each day."""

    def within(d: DateRange) -> list[Any]:
        return [which, lambda t: _between(t.business_date, d)]

    before = _total(session, within(previous)) if previous else None
    return _total(session, within(dates)), before, _days(session, dates, within(dates))


def _ad_lines(
    session: Session, dates: DateRange, *, video_id: int = 0, owner_id: int = 0
) -> list[AdLine]:
    """Ad views and amounts per ad, best first: a video's ads, or every ad of an owner."""
    a = DailyAdSettlement
    sums = (
        select(a.ad_id, func.sum(a.ad_views).label("views"), func.sum(a.amount).label("amount"))
        .where(_between(a.business_date, dates), *([a.video_id == video_id] if video_id else []))
        .group_by(a.ad_id)
        .subquery()
    )
    query = select(Ad.id, Ad.title, sums.c.views, sums.c.amount)
    if owner_id:  # every ad of the owner, those without a settled day too
        query = query.outerjoin(sums, sums.c.ad_id == Ad.id).where(Ad.owner_id == owner_id)
    else:
        query = query.join(sums, sums.c.ad_id == Ad.id)
    lines = [
        AdLine(row.id, row.title, int(row.views or 0), Decimal(int(row.amount or 0)))
        for row in session.execute(query)
    ]
    return sorted(lines, key=lambda line: (-line.amount, -line.ad_views, line.ad_id))


def creator_report(
    session: Session, creator_id: int, dates: DateRange, previous: DateRange | None
) -> CreatorReport:
    """A creator's range: totals, the previous range's totals, each day, each video."""

    def mine(table: Any) -> Any:
        return table.creator_id == creator_id

    per_video = _grouped(session, "video_id", [mine, lambda t: _between(t.business_date, dates)])
    titles = {
        row.id: row.title
        for row in session.execute(select(Video.id, Video.title).where(Video.id.in_(per_video)))
    }
    videos = [
        StudioVideo(video_id=vid, title=titles[vid], **sums)  # type: ignore[arg-type]
        for vid, sums in per_video.items()
    ]
    videos.sort(key=lambda v: (-v.total_amount, -v.views, v.video_id))
    totals, before, days = _range(session, mine, dates, previous)
    return CreatorReport(creator_id, dates, totals, before, days, videos)


def video_report(
    session: Session, user: User, video_id: int, dates: DateRange, previous: DateRange | None
) -> VideoReport:
    """One video's range with its ad breakdown; for its creator or an admin."""
    video = visible_video(session, user, video_id)
    totals, before, days = _range(session, lambda t: t.video_id == video_id, dates, previous)
    ads = _ad_lines(session, dates, video_id=video_id)
    return VideoReport(video.id, video.title, video.creator_id, dates, totals, before, days, ads)


def advertiser_report(session: Session, user: User, dates: DateRange) -> AdvertiserReport:
    """Each of the user's ads with its views and spend (its ad settlement), and each day."""
    if not user.has_role("advertiser"):
        raise Forbidden("the ads page is for advertisers")
    ads = _ad_lines(session, dates, owner_id=user.id)
    a = DailyAdSettlement
    day_rows = session.execute(
        select(a.business_date, func.sum(a.ad_views), func.sum(a.amount))
        .join(Ad, Ad.id == a.ad_id)
        .where(Ad.owner_id == user.id, _between(a.business_date, dates))
        .group_by(a.business_date)
    ).all()
    per_day = {r[0]: AdDay(r[0], int(r[1]), Decimal(int(r[2]))) for r in day_rows}
    return AdvertiserReport(
        owner_id=user.id,
        dates=dates,
        ad_views=sum(line.ad_views for line in ads),
        amount=sum((line.amount for line in ads), _ZERO),
        ads=ads,
        days=[per_day.get(day, AdDay(day)) for day in dates.days()],
    )
