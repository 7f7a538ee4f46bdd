"""What the studio and the advertiser page share: the range picker, KPIs, charts, rendering.

A page is built by a function of (database session, user, range, language) into a
``ReportPage``; the same page answers as HTML or, with ``.csv``, as the CSV of one of its
tables. Pages render with their own Jinja environment (autoescaping, Jinja's i18n tags)
under the same security headers and CSRF cookie as the rest of the site.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

import jinja2
from fastapi import Depends, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from streamsettle import __version__
from streamsettle.db.models import User
from streamsettle.domain.periods import Period, PeriodOutOfRange, business_date
from streamsettle.domain.report_ranges import (
    RangeRefused,
    ReportRange,
    change,
    custom_range,
    period_to_date,
)
from streamsettle.errors import StreamsettleError
from streamsettle.http import downloads
from streamsettle.http.deps import RuntimeDep
from streamsettle.runtime import Runtime
from streamsettle.web import i18n
from streamsettle.web import session as web_session
from streamsettle.web.routes import SECURITY_HEADERS
from streamsettle.web.tables import Table

_ONE_DAY = timedelta(days=1)
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    extensions=["jinja2.ext.i18n"],
)
_env.newstyle_gettext = True  # type: ignore[attr-defined]


@dataclass(frozen=True)
class RangeChoice:
    """The range shown, with what the picker needs: its links and any problem with the ask."""

    range: ReportRange
    today: date
    problem: str | None = None

    @property
    def params(self) -> dict[str, str]:
        r = self.range
        if r.period is not None and r.anchor is not None:
            return {"period": r.period.value, "date": r.anchor.isoformat()}
        return {"from": r.dates.start.isoformat(), "to": r.dates.end.isoformat()}

    @property
    def query(self) -> str:
        return urlencode(self.params)

    def step(self, direction: int) -> str | None:
        """The query of the previous (-1) or next (+1) period or range; None past today."""
        r = self.range
        if r.period is None:
            days = timedelta(days=r.dates.day_count)
            start = r.dates.start + days * direction
            if start > self.today:
                return None
            return urlencode(
                {"from": start.isoformat(), "to": (start + days - _ONE_DAY).isoformat()}
            )
        day = r.dates.start - _ONE_DAY if direction < 0 else r.dates.end + _ONE_DAY
        if day > self.today:
            return None
        return urlencode({"period": r.period.value, "date": day.isoformat()})


def choose_range(
    today: date,
    period: str | None,
    day: str | None,
    start: str | None = None,
    end: str | None = None,
) -> RangeChoice:
    """A custom range when ``from`` is given, else a period; this month when unreadable."""
    default_day = today - _ONE_DAY
    try:
        if start:
            return RangeChoice(
                custom_range(
                    date.fromisoformat(start), date.fromisoformat(end) if end else today, today
                ),
                today,
            )
        return RangeChoice(
            period_to_date(
                Period(period or Period.MONTH),
                date.fromisoformat(day) if day else default_day,
                today,
            ),
            today,
        )
    except (ValueError, RangeRefused, PeriodOutOfRange) as exc:
        return RangeChoice(period_to_date(Period.MONTH, default_day, today), today, str(exc))


def range_choice(
    runtime: RuntimeDep,
    period: Annotated[str | None, Query()] = None,
    day: Annotated[str | None, Query(alias="date")] = None,
    start: Annotated[str | None, Query(alias="from")] = None,
    end: Annotated[str | None, Query(alias="to")] = None,
) -> RangeChoice:
    """The range a page's query asks for, up to today in the platform's time zone."""
    today = business_date(datetime.now(UTC), runtime.settings.tz)
    return choose_range(today, period, day, start, end)


RangeDep = Annotated[RangeChoice, Depends(range_choice)]
TableName = Annotated[str, Query(alias="table")]


@dataclass(frozen=True)
class Kpi:
    key: str
    label: str
    value: str
    change: Decimal | None = None
    previous: str | None = None

    @property
    def direction(self) -> str:
        """``up``, ``down`` or ``flat``, as the change is shown."""
        shown = i18n.round_change(self.change) if self.change is not None else Decimal(0)
        return "up" if shown > 0 else "down" if shown < 0 else "flat"


def kpi(
    key: str, label: str, show: Callable[[Any], str], figures: Any, previous: Any, name: str
) -> Kpi:
    """The figure ``name`` of a range's ``figures``, with its change since the previous
    range's (``None``: no previous range)."""
    current = getattr(figures, name)
    if previous is None:
        return Kpi(key, label, show(current))
    before = getattr(previous, name)
    ratio = change(current, before) if current is not None and before else None
    return Kpi(key, label, show(current), ratio, show(before))


@dataclass(frozen=True)
class Series:
    label: str
    data: list[int] | list[float]
    color: str


@dataclass(frozen=True)
class Chart:
    key: str
    caption: str
    unit: str
    """``count``, ``hours`` or ``krw``: how the page's script writes the axis and tooltips."""
    labels: list[str]
    series: list[Series]
    stacked: bool = False

    def as_json(self, gettext: Callable[[str], str]) -> dict[str, Any]:
        return {
            "unit": self.unit,
            "stacked": self.stacked,
            "labels": self.labels,
            "series": [
                {"label": gettext(s.label), "data": s.data, "color": s.color} for s in self.series
            ],
        }


@dataclass(frozen=True)
class ReportPage:
    template: str
    title: str
    """A message id; ``heading`` is shown as it is (a video's title)."""
    heading: str = ""
    kpis: list[Kpi] = field(default_factory=list)
    charts: list[Chart] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    def table(self, name: str) -> Table | None:
        return next((t for t in self.tables if t.name == name), None)


Builder = Callable[[Session, User, RangeChoice, i18n.Formats], ReportPage]


def _render(
    request: Request,
    template: str,
    language: str,
    remember: bool,
    context: dict[str, Any],
    status_code: int = 200,
) -> Response:
    token, new_token = web_session.csrf_token(request)
    other = request.url.include_query_params(lang="en" if language == "ko" else "ko")
    html = _env.get_template(template).render(
        **i18n.template_context(language),
        **context,
        csrf_token=token,
        version=__version__,
        switch_language=f"{other.path}?{other.query}",
        path=request.url.path,
    )
    response = HTMLResponse(html, status_code=status_code, headers=SECURITY_HEADERS)
    if new_token:
        web_session.store_csrf(request, response, token)
    if remember:
        i18n.remember_language(request, response, language)
    return response


def serve(
    request: Request,
    runtime: Runtime,
    build: Builder,
    *,
    choice: RangeChoice,
    csv_table: str | None = None,
) -> Response:
    """Log-in check, the page as HTML or one table as CSV, errors as a page in the language."""
    language, remember = i18n.choose_language(request)
    who = web_session.current_session(request, runtime)
    if who is None:
        return RedirectResponse("/login", status_code=303)
    user = who.user
    formats = i18n.Formats(language)
    try:
        with runtime.db.read_session(user.id) as session:
            page = build(session, user, choice, formats)
    except StreamsettleError as exc:
        context = {"user": user, "error": exc.message, "status": exc.status_code}
        response = _render(
            request, "studio/error.html", language, remember, context, exc.status_code
        )
    else:
        if csv_table is not None:
            response = _csv(page, csv_table, choice)
        else:
            context = {"user": user, "page": page, "choice": choice}
            response = _render(request, page.template, language, remember, context)
    if who.renewed is not None:
        web_session.store_tokens(request, response, runtime, who.renewed)
    return response


def _csv(page: ReportPage, name: str, choice: RangeChoice) -> Response:
    table = page.table(name)
    if table is None:
        names = ", ".join(t.name for t in page.tables)
        return Response(
            f"unknown table {name!r}; this page has: {names}\n",
            status_code=404,
            media_type="text/plain; charset=utf-8",
            headers=SECURITY_HEADERS,
        )
    dates = choice.range.dates
    filename = f"{table.name}-{dates.start.isoformat()}-{dates.end.isoformat()}.csv"
    no_store = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    return downloads.csv_attachment(table.write_csv, filename, no_store)
