"""Statements and explanations (api.md "Statements"): thin routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from streamsettle.api.deps import AdminUser, CreatorUser, CurrentUser, ReadSession, RecordsWrites
from streamsettle.api.openapi import csv_route, errors
from streamsettle.api.params import DatePath, Id, IdPath
from streamsettle.domain.statements import month_text, parse_month
from streamsettle.http.deps import RuntimeDep, SettingsDep
from streamsettle.http.downloads import statement_csv
from streamsettle.services import statements
from streamsettle.services.queries import explain
from streamsettle.services.statements.results import ClosedMonth, CreatorStatement, StatementList

router = APIRouter(prefix="/api/v1", tags=["statements"])

# YYYY-MM from 0001-01 to 9999-12.
_MONTH_PATTERN = (
    r"^([0-9]{3}[1-9]|[0-9]{2}[1-9][0-9]|[0-9][1-9][0-9]{2}|[1-9][0-9]{3})-(0[1-9]|1[0-2])$"
)
MonthParam = Annotated[
    str, Query(alias="month", pattern=_MONTH_PATTERN, description="YYYY-MM", examples=["2026-10"])
]
MonthPath = Annotated[str, Path(pattern=_MONTH_PATTERN, description="YYYY-MM")]
_VIDEO_DAY = errors(
    {403: "only the video's creator or an admin", 404: "no such video, or the day is not settled"}
)


@router.get("/statements/creators/me", response_model=CreatorStatement)
def my_statement(
    user: CreatorUser, session: ReadSession, settings: SettingsDep, month: MonthParam
) -> CreatorStatement:
    """The caller's statement for a month: frozen once closed, provisional while open."""
    return statements.creator_statement(
        session, user.id, parse_month(month), settings.payout_threshold_krw
    )


@router.get("/statements/creators/me.csv", **csv_route("lines, adjustments, balance"))
def my_statement_csv(
    user: CreatorUser, session: ReadSession, settings: SettingsDep, month: MonthParam
) -> Response:
    """The caller's statement as CSV: its lines, its adjustments, then its balance rows."""
    return statement_csv(my_statement(user, session, settings, month))


@router.get("/admin/statements", response_model=StatementList)
def list_statements(
    _admin: AdminUser,
    session: ReadSession,
    settings: SettingsDep,
    month: MonthParam,
    creator_id: Annotated[Id | None, Query()] = None,
) -> StatementList:
    """Admin: every creator's statement for a month (or one creator's)."""
    return statements.list_statements(
        session, parse_month(month), settings.payout_threshold_krw, creator_id
    )


@router.post(
    "/admin/statements/{month}/close",
    response_model=ClosedMonth,
    dependencies=[RecordsWrites],
    responses=errors(
        {409: "a day of the month is not settled, or an earlier month must close first"}
    ),
)
def close_month(_admin: AdminUser, runtime: RuntimeDep, month: MonthPath) -> ClosedMonth:
    """Admin: close a month, freezing one statement per creator; a closed month is a no-op."""
    result = statements.close_month(runtime, parse_month(month))
    return ClosedMonth(
        month=month_text(result.month), statements=result.statements, closed_now=result.closed_now
    )


@router.get(
    "/settlements/videos/{video_id}/days/{date}/breakdown",
    response_model=explain.DailyBreakdown,
    responses=_VIDEO_DAY,
)
def daily_breakdown(
    video_id: IdPath, day: DatePath, user: CurrentUser, session: ReadSession
) -> explain.DailyBreakdown:
    """How a daily settlement was priced: views per tier, unit price, exact amount."""
    return explain.daily_breakdown(session, user, video_id, day)


@router.get(
    "/settlements/videos/{video_id}/days/{date}/logs",
    response_model=explain.LineagePage,
    responses=_VIDEO_DAY,
)
def daily_logs(
    video_id: IdPath,
    day: DatePath,
    user: CurrentUser,
    session: ReadSession,
    settings: SettingsDep,
    cursor: Annotated[
        str | None, Query(max_length=200, description="next_cursor of a page")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> explain.LineagePage:
    """The watch logs behind a daily settlement, a page at a time, each with its kind."""
    return explain.daily_lineage(
        session,
        user,
        video_id,
        day,
        cursor=cursor,
        limit=limit,
        window_seconds=settings.repeat_view_window_seconds,
    )
