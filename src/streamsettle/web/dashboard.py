"""What the settlement page shows, assembled from the query services for one user.

Sections depend on roles: a creator sees their own earnings; an admin sees every creator's
totals and the latest batch runs; an advertiser sees their ads. The page asks for a period
and a date; unreadable values fall back to this month and say so.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from fastapi import Depends, Query
from sqlalchemy.orm import Session

from streamsettle.config import Settings
from streamsettle.db.models import User
from streamsettle.domain.periods import (
    DateRange,
    Period,
    PeriodOutOfRange,
    period_range,
    previous_business_date,
)
from streamsettle.http.deps import RuntimeDep
from streamsettle.services import queries
from streamsettle.services.batch import repository as batch_repo
from streamsettle.services.queries.results import SettlementDay

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Window:
    """The period the page shows: its kind, the day asked for, the dates it covers, and what
    was wrong with the ask when the default was shown instead."""

    period: Period
    day: date
    dates: DateRange
    problem: str | None = None

    @property
    def previous(self) -> date:
        return self.dates.start - _ONE_DAY

    @property
    def following(self) -> date:
        return self.dates.end + _ONE_DAY


def choose_window(
    period: str | None, day: str | None, settings: Settings, now: datetime | None = None
) -> Window:
    """The period asked for, or this month up to yesterday when nothing (valid) was asked."""
    problems: list[str] = []
    chosen_period = Period.MONTH
    if period:
        try:
            chosen_period = Period(period)
        except ValueError:
            problems.append(f"unknown period {period!r}")
    chosen_day = previous_business_date(now or datetime.now(UTC), settings.tz)
    if day:
        try:
            chosen_day = date.fromisoformat(day)
        except ValueError:
            problems.append(f"{day!r} is not a date (YYYY-MM-DD)")
    try:
        dates = period_range(chosen_period, chosen_day)
    except PeriodOutOfRange as exc:
        problems.append(str(exc))
        chosen_period = Period.MONTH
        chosen_day = previous_business_date(now or datetime.now(UTC), settings.tz)
        dates = period_range(chosen_period, chosen_day)
    problem = "; ".join(problems) + ", showing the default instead" if problems else None
    return Window(chosen_period, chosen_day, dates, problem)


def _window_from_query(
    runtime: RuntimeDep,
    period: Annotated[str | None, Query()] = None,
    day: Annotated[str | None, Query(alias="date")] = None,
) -> Window:
    return choose_window(period, day, runtime.settings)


ChosenWindow = Annotated[Window, Depends(_window_from_query)]
"""The page's window from its ``period`` and ``date`` query parameters."""


@dataclass(frozen=True)
class Chart:
    """Daily earnings over the whole period; days not settled yet are zero."""

    labels: list[str]
    video: list[int]
    ad: list[int]

    @classmethod
    def of(cls, dates: DateRange, days: list[SettlementDay]) -> Chart:
        by_day = {d.date: d for d in days}
        labels, video, ad = [], [], []
        for day in dates.days():
            settled = by_day.get(day)
            labels.append(day.isoformat())
            video.append(settled.video_amount if settled else 0)
            ad.append(settled.ad_amount if settled else 0)
        return cls(labels, video, ad)

    def as_json(self) -> dict[str, list[str] | list[int]]:
        return {"labels": self.labels, "video": self.video, "ad": self.ad}


@dataclass(frozen=True)
class CreatorView:
    settlement: queries.CreatorSettlement
    top_by_views: queries.TopVideos
    top_by_watched: queries.TopVideos
    chart: Chart


@dataclass(frozen=True)
class AdminView:
    overview: queries.CreatorsOverview
    top_by_views: queries.TopVideos
    top_by_watched: queries.TopVideos
    top_ads: queries.TopAds
    runs: list[queries.BatchRunLine]
    chart: Chart
    needing_rerun: dict[date, str] = field(default_factory=dict)
    """Every date whose settlement is out of date, with the reason."""


@dataclass(frozen=True)
class Dashboard:
    user: User
    window: Window
    creator: CreatorView | None = None
    admin: AdminView | None = None
    advertiser_top_ads: queries.TopAds | None = None
    roles: list[str] = field(default_factory=list)
    recomputing: list[date] = field(default_factory=list)
    """Dates of the window the scheduler is about to settle again (late watch logs)."""


def build_dashboard(session: Session, user: User, window: Window) -> Dashboard:
    period, day = window.period, window.day
    creator = admin = None
    ads = None
    if user.has_role("creator"):
        mine = queries.creator_settlement(session, user.id, period=period, day=day)
        top = functools.partial(
            queries.top_videos, session, user, period=period, day=day, creator_id=user.id
        )
        creator = CreatorView(
            settlement=mine,
            top_by_views=top(metric=queries.Metric.VIEWS),
            top_by_watched=top(metric=queries.Metric.WATCHED_SECONDS),
            chart=Chart.of(window.dates, mine.days),
        )
    if user.has_role("admin"):
        overview = queries.creators_overview(session, user, period=period, day=day)
        admin = AdminView(
            overview=overview,
            top_by_views=queries.top_videos(
                session, user, metric=queries.Metric.VIEWS, period=period, day=day
            ),
            top_by_watched=queries.top_videos(
                session, user, metric=queries.Metric.WATCHED_SECONDS, period=period, day=day
            ),
            top_ads=queries.top_ads(session, user, period=period, day=day),
            runs=queries.latest_batch_runs(session, user),
            chart=Chart.of(window.dates, overview.days),
            needing_rerun=batch_repo.dates_needing_rerun(session),
        )
    elif user.has_role("advertiser"):
        ads = queries.top_ads(session, user, period=period, day=day)
    recomputing = [
        d for d in batch_repo.marked_dates(session) if window.dates.start <= d <= window.dates.end
    ]
    return Dashboard(
        user=user,
        window=window,
        creator=creator,
        admin=admin,
        advertiser_top_ads=ads,
        roles=user.roles,
        recomputing=recomputing,
    )
