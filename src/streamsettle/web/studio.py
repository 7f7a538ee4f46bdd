"""The creators' studio: ``/studio`` (overview) and ``/studio/videos/{id}`` (one video).

The overview shows the range's KPIs against the previous range, daily charts of views,
watch time and earnings, and the videos (each linking to its own page); a video's page has
its own daily charts, RPM, average view duration and earnings by ad. Every table is also a
CSV: the page's path with ``.csv`` and ``table=`` its name. An admin may open any creator's
studio with ``creator_id=``.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from streamsettle.db.models import User
from streamsettle.errors import NotFound
from streamsettle.http.deps import RuntimeDep
from streamsettle.services.queries import studio as queries
from streamsettle.services.queries.access import creator_target
from streamsettle.web.i18n import N_, Formats
from streamsettle.web.report_page import (
    Builder,
    Chart,
    Kpi,
    RangeChoice,
    RangeDep,
    ReportPage,
    Series,
    TableName,
    kpi,
    serve,
)
from streamsettle.web.tables import Column, Kind, Row, Table

router = APIRouter(include_in_schema=False)

VIEWS_COLOR, HOURS_COLOR, VIDEO_COLOR, AD_COLOR = "#3b6fd8", "#2a9d8f", "#3b6fd8", "#f29f3d"

_DATE = Column("date", N_("Date"), Kind.DATE)
_FIGURES = [
    Column("views", N_("Views"), Kind.COUNT),
    Column("watch_hours", N_("Watch time (hours)"), Kind.HOURS),
    Column("average_view_seconds", N_("Average view duration"), Kind.SECONDS),
    Column("ad_views", N_("Ad views"), Kind.COUNT),
    Column("rpm", N_("RPM"), Kind.KRW),
    Column("video_amount", N_("From views"), Kind.KRW),
    Column("ad_amount", N_("From ads"), Kind.KRW),
    Column("total_amount", N_("Earnings"), Kind.KRW),
]


def _figures(t: queries.Totals) -> list[object]:
    return [getattr(t, c.key) for c in _FIGURES]


def kpis(totals: queries.Totals, previous: queries.Totals | None, f: Formats) -> list[Kpi]:
    return [
        kpi(key, label, show, totals, previous, name)
        for key, label, show, name in (
            ("views", N_("Views"), f.num, "views"),
            ("watch-hours", N_("Watch time (hours)"), f.hours, "watch_hours"),
            ("earnings", N_("Earnings"), f.krw, "total_amount"),
            ("rpm", N_("RPM"), f.krw, "rpm"),
            ("average-view", N_("Average view duration"), f.duration, "average_view_seconds"),
        )
    ]


def charts(prefix: str, days: list[queries.StudioDay], f: Formats) -> list[Chart]:
    labels = [f.short_day(d.date) for d in days]
    return [
        Chart(
            f"{prefix}-views",
            N_("Views"),
            "count",
            labels,
            [Series(N_("Views"), [d.views for d in days], VIEWS_COLOR)],
        ),
        Chart(
            f"{prefix}-hours",
            N_("Watch time (hours)"),
            "hours",
            labels,
            [Series(N_("Hours"), [float(d.watch_hours) for d in days], HOURS_COLOR)],
        ),
        Chart(
            f"{prefix}-earnings",
            N_("Earnings"),
            "krw",
            labels,
            [
                Series(N_("From views"), [int(d.video_amount) for d in days], VIDEO_COLOR),
                Series(N_("From ads"), [int(d.ad_amount) for d in days], AD_COLOR),
            ],
            stacked=True,
        ),
    ]


def days_table(days: list[queries.StudioDay]) -> Table:
    return Table(
        "days",
        N_("Daily figures"),
        [_DATE, *_FIGURES],
        [Row([d.date, *_figures(d)]) for d in days],
    )


_REFUSALS = ("only an admin may open another creator's studio", "the studio is for creators")


def overview(creator_id: int | None) -> Builder:
    def build(session: Session, user: User, choice: RangeChoice, f: Formats) -> ReportPage:
        target = creator_target(user, creator_id, _REFUSALS)
        if target != user.id and session.get(User, target) is None:
            raise NotFound(f"creator {target} not found")
        r = choice.range
        report = queries.creator_report(session, target, r.dates, r.previous)
        videos = Table(
            "videos",
            N_("Videos"),
            [
                Column("video_id", N_("Id"), Kind.ID),
                Column("title", N_("Video"), Kind.TEXT),
                *_FIGURES,
            ],
            [
                Row(
                    [v.video_id, v.title, *_figures(v)],
                    link=f"/studio/videos/{v.video_id}?{choice.query}",
                )
                for v in report.videos
            ],
            empty=N_("No video has views or earnings in this range."),
        )
        return ReportPage(
            "studio/overview.html",
            N_("Channel analytics"),
            kpis=kpis(report.totals, report.previous, f),
            charts=charts("studio", report.days, f),
            tables=[videos, days_table(report.days)],
            extra={"hidden": {"creator_id": target} if target != user.id else {}},
        )

    return build


def video_page(video_id: int) -> Builder:
    def build(session: Session, user: User, choice: RangeChoice, f: Formats) -> ReportPage:
        r = choice.range
        report = queries.video_report(session, user, video_id, r.dates, r.previous)
        ads = Table(
            "ads",
            N_("Earnings by ad"),
            [
                Column("ad_id", N_("Id"), Kind.ID),
                Column("title", N_("Ad"), Kind.TEXT),
                Column("ad_views", N_("Ad views"), Kind.COUNT),
                Column("amount", N_("Earnings"), Kind.KRW),
            ],
            [Row([a.ad_id, a.title, a.ad_views, a.amount]) for a in report.ads],
            empty=N_("No ad was viewed on this video in this range."),
        )
        owner = report.creator_id
        return ReportPage(
            "studio/video.html",
            N_("Video analytics"),
            heading=report.title,
            kpis=kpis(report.totals, report.previous, f),
            charts=charts("video", report.days, f),
            tables=[days_table(report.days), ads],
            extra={
                "video_id": report.video_id,
                "hidden": {"creator_id": owner} if owner != user.id else {},
            },
        )

    return build


CreatorId = Annotated[int | None, Query(ge=1)]


@router.get("/studio")
def studio(
    request: Request, runtime: RuntimeDep, choice: RangeDep, creator_id: CreatorId = None
) -> Response:
    return serve(request, runtime, overview(creator_id), choice=choice)


@router.get("/studio.csv")
def studio_csv(
    request: Request,
    runtime: RuntimeDep,
    choice: RangeDep,
    table: TableName,
    creator_id: CreatorId = None,
) -> Response:
    return serve(request, runtime, overview(creator_id), choice=choice, csv_table=table)


@router.get("/studio/videos/{video_id:int}")
def video(request: Request, runtime: RuntimeDep, choice: RangeDep, video_id: int) -> Response:
    return serve(request, runtime, video_page(video_id), choice=choice)


@router.get("/studio/videos/{video_id:int}.csv")
def video_csv(
    request: Request, runtime: RuntimeDep, choice: RangeDep, video_id: int, table: TableName
) -> Response:
    return serve(request, runtime, video_page(video_id), choice=choice, csv_table=table)
