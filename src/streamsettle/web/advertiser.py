"""The advertiser page ``/advertiser``: each of the user's ads with its ad views and spend.

Spend is the ad's settlement amount (product.md 3.6: the sum over videos of each (video,
ad) pair's truncated amount), the same figure as ``GET /api/v1/settlements/ads/{id}``.
Like the studio, every table has its CSV at ``/advertiser.csv?table=``.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from streamsettle.db.models import User
from streamsettle.http.deps import RuntimeDep
from streamsettle.services.queries import studio as queries
from streamsettle.web import report_page as page
from streamsettle.web.i18n import N_, Formats
from streamsettle.web.studio import AD_COLOR, VIEWS_COLOR
from streamsettle.web.tables import Column, Kind, Row, Table

router = APIRouter(include_in_schema=False)

_AD_VIEWS = Column("ad_views", N_("Ad views"), Kind.COUNT)
_SPEND = Column("amount", N_("Spend"), Kind.KRW)


def build(session: Session, user: User, choice: page.RangeChoice, f: Formats) -> page.ReportPage:
    r = choice.range
    report = queries.advertiser_report(session, user, r.dates)
    previous = queries.advertiser_report(session, user, r.previous) if r.previous else None
    labels = [f.short_day(d.date) for d in report.days]
    return page.ReportPage(
        "studio/advertiser.html",
        N_("Your ads"),
        kpis=[
            page.kpi("ad-views", N_("Ad views"), f.num, report, previous, "ad_views"),
            page.kpi("spend", N_("Spend"), f.krw, report, previous, "amount"),
        ],
        charts=[
            page.Chart(
                "ads-spend",
                N_("Spend"),
                "krw",
                labels,
                [page.Series(N_("Spend"), [int(d.amount) for d in report.days], AD_COLOR)],
            ),
            page.Chart(
                "ads-views",
                N_("Ad views"),
                "count",
                labels,
                [page.Series(N_("Ad views"), [d.ad_views for d in report.days], VIEWS_COLOR)],
            ),
        ],
        tables=[
            Table(
                "ads",
                N_("Ads"),
                [
                    Column("ad_id", N_("Id"), Kind.ID),
                    Column("title", N_("Ad"), Kind.TEXT),
                    _AD_VIEWS,
                    _SPEND,
                ],
                [Row([a.ad_id, a.title, a.ad_views, a.amount]) for a in report.ads],
                empty=N_("You have no ads yet."),
            ),
            Table(
                "days",
                N_("Daily figures"),
                [Column("date", N_("Date"), Kind.DATE), _AD_VIEWS, _SPEND],
                [Row([d.date, d.ad_views, d.amount]) for d in report.days],
            ),
        ],
    )


@router.get("/advertiser")
def advertiser(request: Request, runtime: RuntimeDep, choice: page.RangeDep) -> Response:
    return page.serve(request, runtime, build, choice=choice)


@router.get("/advertiser.csv")
def advertiser_csv(
    request: Request, runtime: RuntimeDep, choice: page.RangeDep, table: page.TableName
) -> Response:
    return page.serve(request, runtime, build, choice=choice, csv_table=table)
