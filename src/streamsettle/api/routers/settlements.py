"""Settlements and the creator's CSV export: thin routes."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import Response

from streamsettle.api.deps import AdminUser, CreatorUser, CurrentUser, ReadSession
from streamsettle.api.openapi import csv_route, errors
from streamsettle.api.params import DateQuery, IdPath, PeriodQuery
from streamsettle.http.downloads import settlement_csv
from streamsettle.services import queries

router = APIRouter(prefix="/api/v1", tags=["settlements"])


def _owner_or_admin(owner: str, thing: str) -> dict[int | str, dict[str, Any]]:
    return errors({403: f"only the {owner} or an admin", 404: f"no such {thing}"})


@router.get(
    "/settlements/videos/{video_id}",
    response_model=queries.VideoSettlement,
    responses=_owner_or_admin("video's creator", "video"),
)
def video_settlement(
    video_id: IdPath, user: CurrentUser, session: ReadSession, period: PeriodQuery, day: DateQuery
) -> queries.VideoSettlement:
    """A video's settlement with its settled days; for the video's creator or an admin."""
    return queries.video_settlement(session, user, video_id, period=period, day=day)


@router.get("/settlements/creators/me", response_model=queries.CreatorSettlement)
def my_settlement(
    user: CreatorUser, session: ReadSession, period: PeriodQuery, day: DateQuery
) -> queries.CreatorSettlement:
    """The caller's totals, one line per video with a settled day, and the daily totals."""
    return queries.creator_settlement(session, user.id, period=period, day=day)


@router.get("/settlements/creators/me.csv", **csv_route("one row per video per day"))
def my_settlement_csv(
    user: CreatorUser, session: ReadSession, period: PeriodQuery, day: DateQuery
) -> Response:
    """The caller's settlement as CSV: one row per video per settled day."""
    return settlement_csv(session, user.id, queries.period_dates(period, day))


@router.get("/settlements/creators", response_model=queries.CreatorsOverview)
def creators_overview(
    user: AdminUser,
    session: ReadSession,
    period: PeriodQuery,
    day: DateQuery,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> queries.CreatorsOverview:
    """Admin: every creator's totals for the period (the top ``limit`` listed)."""
    return queries.creators_overview(session, user, period=period, day=day, limit=limit)


@router.get("/settlements/creators/{creator_id}", response_model=queries.CreatorSettlement)
def creator_settlement(
    creator_id: IdPath, _admin: AdminUser, session: ReadSession, period: PeriodQuery, day: DateQuery
) -> queries.CreatorSettlement:
    """Admin: one creator's settlement, as that creator sees it at ``/creators/me``."""
    return queries.creator_settlement(session, creator_id, period=period, day=day)


@router.get(
    "/settlements/ads/{ad_id}",
    response_model=queries.AdSettlement,
    responses=_owner_or_admin("ad's owner", "ad"),
)
def ad_settlement(
    ad_id: IdPath, user: CurrentUser, session: ReadSession, period: PeriodQuery, day: DateQuery
) -> queries.AdSettlement:
    """An ad's settlement with its settled days; for the ad's owner or an admin."""
    return queries.ad_settlement(session, user, ad_id, period=period, day=day)
