"""Top-5 statistics: thin routes over ``services.queries``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from streamsettle.api.deps import CurrentUser, ReadSession
from streamsettle.api.openapi import errors
from streamsettle.api.params import DateQuery, Id, PeriodQuery
from streamsettle.services import queries

router = APIRouter(prefix="/api/v1", tags=["stats"])


@router.get(
    "/stats/top-videos",
    response_model=queries.TopVideos,
    responses=errors({403: "for creators (their own videos) and admins"}),
)
def top_videos(
    user: CurrentUser,
    session: ReadSession,
    period: PeriodQuery,
    day: DateQuery,
    metric: Annotated[queries.Metric, Query()] = queries.Metric.VIEWS,
    creator_id: Annotated[Id | None, Query(description="admin only: one creator's videos")] = None,
) -> queries.TopVideos:
    """The top 5 videos by views or watched seconds; ties go to the smaller video id."""
    return queries.top_videos(
        session, user, metric=metric, period=period, day=day, creator_id=creator_id
    )


@router.get(
    "/stats/top-ads",
    response_model=queries.TopAds,
    responses=errors({403: "for advertisers (their own ads) and admins"}),
)
def top_ads(
    user: CurrentUser, session: ReadSession, period: PeriodQuery, day: DateQuery
) -> queries.TopAds:
    """The top 5 ads by ad views: an advertiser's own, or all for an admin."""
    return queries.top_ads(session, user, period=period, day=day)
