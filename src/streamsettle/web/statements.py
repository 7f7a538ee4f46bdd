"""The creators' statements on the page: a month's statement (lines, adjustments with what
they correct, balance carried, payout, progress to the threshold), a printable version,
its CSV, and from a video's day the drill-down to its tier breakdown and watch logs.

Same session, escaping, CSRF and Content-Security-Policy as the rest of the page.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from streamsettle.db.models import User
from streamsettle.domain.periods import business_date
from streamsettle.domain.statements import month_of, month_text, parse_month, threshold_progress
from streamsettle.errors import InvalidInput
from streamsettle.http import downloads
from streamsettle.http.deps import RuntimeDep
from streamsettle.runtime import Runtime
from streamsettle.services import statements
from streamsettle.services.queries import explain
from streamsettle.services.queries.access import creator_target
from streamsettle.web.routes import PageRoute, SignedIn, localized_page

router = APIRouter(include_in_schema=False, route_class=PageRoute)
LOG_PAGE = 50


# Whose statement: your own; an admin may name any creator.
_REFUSALS = ("only an admin may see another creator's statement", "statements are for creators")


def _month(runtime: Runtime, text: str | None) -> tuple[date, str | None]:
    """The month asked for, or the latest closed one (else the current one), and a problem."""
    if text:
        try:
            return parse_month(text), None
        except ValueError as exc:
            problem = f"{exc}; showing the default month instead"
    else:
        problem = None
    with runtime.db.read_session() as session:
        latest = statements.latest_closed(session)
    today = business_date(datetime.now(UTC), runtime.settings.tz)
    return latest or month_of(today), problem


def _context(runtime: Runtime, user: User, creator: int, month: date) -> dict[str, Any]:
    threshold = runtime.settings.payout_threshold_krw
    with runtime.db.read_session(user.id) as session:
        statement = statements.creator_statement(session, creator, month, threshold)
        days = statements.statement_days(session, creator, month)
    return {
        "user": user,
        "statement": statement,
        "days": days,
        "creator_param": "" if creator == user.id else f"&creator_id={creator}",
        "progress": threshold_progress(statement.payable_amount, statement.payout_threshold),
        "previous_month": _shift(month, -1),
        "next_month": _shift(month, 1),
    }


def _shift(month: date, months: int) -> str | None:
    index = month.year * 12 + month.month - 1 + months
    year, m = divmod(index, 12)
    return f"{year:04d}-{m + 1:02d}" if 1 <= year <= 9999 else None


@router.get("/statements")
def statement_page(
    request: Request,
    runtime: RuntimeDep,
    who: SignedIn,
    month: Annotated[str | None, Query()] = None,
    creator_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    view: Annotated[str | None, Query()] = None,
) -> Response:
    """The statement of a month; ``view=print`` gives the printable statement."""
    creator = creator_target(who.user, creator_id, _REFUSALS)
    first, problem = _month(runtime, month)
    context = _context(runtime, who.user, creator, first) | {"problem": problem}
    name = "statement_print.html" if view == "print" else "statements.html"
    return localized_page(request, name, context)


@router.get("/statements.csv")
def statement_csv(
    request: Request,
    runtime: RuntimeDep,
    who: SignedIn,
    month: Annotated[str, Query()],
    creator_id: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    creator = creator_target(who.user, creator_id, _REFUSALS)
    try:
        first = parse_month(month)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    with runtime.db.read_session(who.user.id) as session:
        statement = statements.creator_statement(
            session, creator, first, runtime.settings.payout_threshold_krw
        )
    return downloads.statement_csv(statement, {"Cache-Control": "no-store"})


@router.get("/videos/{video_id}/days/{day}")
def video_day(
    request: Request,
    runtime: RuntimeDep,
    who: SignedIn,
    video_id: int,
    day: date,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """A video's day: how its amount was priced, and the watch logs behind it."""
    with runtime.db.read_session(who.user.id) as session:
        breakdown = explain.daily_breakdown(session, who.user, video_id, day)
        logs = explain.daily_lineage(
            session,
            who.user,
            video_id,
            day,
            cursor=cursor,
            limit=LOG_PAGE,
            window_seconds=runtime.settings.repeat_view_window_seconds,
        )
    context = {
        "user": who.user,
        "breakdown": breakdown,
        "logs": logs,
        "month": month_text(month_of(day)),
        "tz": runtime.settings.tz,
    }
    return localized_page(request, "video_day.html", context)


__all__ = ["router"]
