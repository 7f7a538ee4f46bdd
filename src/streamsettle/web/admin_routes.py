"""The admin console under ``/admin``: batch runs and backfills with their progress, the
NDJSON import with its per-line report, rate cards, ad placement, any creator's page
(read-only) and the top tables.

Pages for the ``admin`` role only, with the settlement page's protections: the session in
HttpOnly cookies, a CSRF token in every form, Jinja2 autoescaping and the strict CSP (the
progress poll is a same-origin script file). Each handler only calls a service and renders:
backfills run in a background thread (``services.batch.backfill``) and the page follows
them through a small JSON endpoint.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from streamsettle.db.models import RateCard, User, Video
from streamsettle.errors import InvalidInput, StreamsettleError
from streamsettle.http.deps import RuntimeDep
from streamsettle.runtime import Runtime
from streamsettle.services import catalogue, queries, rate_cards
from streamsettle.services.batch import backfill
from streamsettle.services.batch import repository as batch_repo
from streamsettle.services.catalogue import Placement
from streamsettle.services.ingest import importer
from streamsettle.services.queries import admin as admin_queries
from streamsettle.web import session as web_session
from streamsettle.web.dashboard import ChosenWindow, build_dashboard
from streamsettle.web.routes import (
    SECURITY_HEADERS,
    PageRoute,
    Refused,
    _page,
    signed_in,
    templates,
)

templates.env.filters.setdefault("hours", lambda seconds: f"{seconds / 3600:,.1f} h")

TIER_ROWS = 4
"""Tier rows offered per kind in the rate card form (empty ones are ignored)."""
NEW_SLOT_ROWS = 2


@dataclass(frozen=True)
class Admin:
    user: User
    session: web_session.WebSession


def _admin(request: Request, runtime: RuntimeDep) -> Admin:
    """The logged-in admin; else the login page, or a 403 page for other users."""
    who = signed_in(request, runtime)
    if not who.user.has_role("admin"):
        raise Refused(_render(request, None, "admin/forbidden.html", {}, 403))
    return Admin(who.user, who)


AdminDep = Annotated[Admin, Depends(_admin)]
router = APIRouter(prefix="/admin", include_in_schema=False, route_class=PageRoute)


def _render(
    request: Request,
    admin: Admin | None,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> Response:
    return _page(request, name, {**context, "admin": admin}, status_code)


def _redirect(url: str) -> Response:
    return RedirectResponse(url, status_code=303)


def _date(value: str, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: {value!r} is not a date (YYYY-MM-DD)") from None


@contextmanager
def _problems() -> Iterator[list[str]]:
    """Collects the message of a service error raised inside, for the page to show."""
    found: list[str] = []
    try:
        yield found
    except StreamsettleError as exc:
        found.append(exc.message)


@dataclass(frozen=True)
class StaleSpan:
    """Consecutive days needing a re-run for the same reason, shown as one line."""

    first: date
    last: date
    days: int
    reason: str


def _stale_spans(needing: dict[date, str]) -> list[StaleSpan]:
    spans: list[StaleSpan] = []
    for day, reason in sorted(needing.items()):
        if spans and spans[-1].reason == reason and (day - spans[-1].last).days == 1:
            spans[-1] = StaleSpan(spans[-1].first, day, spans[-1].days + 1, reason)
        else:
            spans.append(StaleSpan(day, day, 1, reason))
    return spans


def _needing_rerun(session: Session) -> dict[str, Any]:
    needing = batch_repo.dates_needing_rerun(session)
    days = sorted(needing)
    return {
        "spans": _stale_spans(needing),
        "count": len(days),
        "first": days[0] if days else None,
        "last": days[-1] if days else None,
    }


# --- overview ------------------------------------------------------------------------


@router.get("")
def home(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    window: ChosenWindow,
) -> Response:
    with runtime.db.read_session(admin.user.id) as session:
        top_videos = functools.partial(
            admin_queries.top_videos_with_owners,
            session,
            admin.user,
            period=window.period,
            day=window.day,
        )
        context = {
            "window": window,
            "overview": queries.creators_overview(
                session, admin.user, period=window.period, day=window.day
            ),
            "top_views": top_videos(metric=queries.Metric.VIEWS),
            "top_watched": top_videos(metric=queries.Metric.WATCHED_SECONDS),
            "top_ads": admin_queries.top_ads_with_owners(
                session, admin.user, period=window.period, day=window.day
            ),
        }
    with runtime.db.session() as session:
        context["needing_rerun"] = _needing_rerun(session)
    return _render(request, admin, "admin/home.html", context)


# --- batch runs and backfills ----------------------------------------------------------


def _batch_context(runtime: Runtime, admin: Admin) -> dict[str, Any]:
    with runtime.db.session() as session:
        needing = _needing_rerun(session)
        settled = admin_queries.settled_dates(session)
        runs = queries.latest_batch_runs(session, admin.user)
    return {"needing_rerun": needing, "settled": settled, "runs": runs}


@router.get("/batch")
def batch_page(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    run: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
    first: Annotated[str | None, Query(alias="from")] = None,
    last: Annotated[str | None, Query(alias="to")] = None,
) -> Response:
    context = _batch_context(runtime, admin)
    context.update(following=None, problems=[], form={"from": first or "", "to": last or ""})
    if run is not None and first and last:
        with _problems() as problems:
            dates = backfill.check_range(_date(first, "from"), _date(last, "to"))
            context["following"] = {"run": run, "dates": dates}
        context["problems"] = problems
    return _render(request, admin, "admin/batch.html", context)


@router.post("/batch")
def start_batch(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    first: Annotated[str, Form(alias="from")] = "",
    last: Annotated[str, Form(alias="to")] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Settle one date (``to`` empty or equal) or a range, in the background."""
    if not web_session.csrf_ok(request, csrf_token):
        return _redirect("/admin/batch")
    last = last or first
    with _problems() as problems:
        start, end = _date(first, "from"), _date(last, "to")
        run_id = backfill.start_backfill(runtime, start, end, user_id=admin.user.id)
        return _redirect(f"/admin/batch?run={run_id}&from={start}&to={end}")
    context = _batch_context(runtime, admin)
    context.update(following=None, problems=problems, form={"from": first, "to": last})
    return _render(request, admin, "admin/batch.html", context, 409)


@router.get("/batch/progress")
def batch_progress(
    request: Request,
    runtime: RuntimeDep,
    run: Annotated[int, Query(ge=1, le=2**63 - 1)],
    first: Annotated[date, Query(alias="from")],
    last: Annotated[date, Query(alias="to")],
) -> Response:
    """The backfill's progress as JSON, for the page's poll."""
    try:
        _admin(request, runtime)
    except Refused:
        error = {"code": "forbidden", "message": "log in as an admin", "details": None}
        return JSONResponse({"error": error}, 403, headers=SECURITY_HEADERS)
    dates = backfill.check_range(first, last)
    with runtime.db.session() as session:
        progress = admin_queries.backfill_progress(session, dates, run, backfill.refusal(run))
    body = {
        "finished": progress.finished,
        "completed": progress.completed,
        "total": len(progress.days),
        "refused": progress.refused,
        "days": [
            {
                "date": d.date.isoformat(),
                "status": d.status,
                "run_id": d.run_id,
                "steps_done": d.steps_done,
                "steps_total": d.steps_total,
                "current_step": d.current_step,
                "error": d.error,
            }
            for d in progress.days
        ],
    }
    return JSONResponse(body, headers=SECURITY_HEADERS)


# --- watch log import -----------------------------------------------------------------


@router.get("/import")
def import_page(request: Request, runtime: RuntimeDep, admin: AdminDep) -> Response:
    return _render(request, admin, "admin/import.html", {"result": None, "problems": []})


@router.post("/import")
def import_upload(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    file: Annotated[UploadFile, File()],
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Import the uploaded NDJSON file and show its per-line report."""
    if not web_session.csrf_ok(request, csrf_token):
        return _redirect("/admin/import")
    result = None
    with _problems() as problems, runtime.db.writes_by(admin.user.id):
        result = importer.import_watch_logs(runtime, file.file)
    context = {"result": result, "problems": problems, "filename": file.filename or ""}
    with runtime.db.session() as session:
        context["needing_rerun"] = _needing_rerun(session)
    status_code = 200 if result is not None else 503
    return _render(request, admin, "admin/import.html", context, status_code)


# --- rate cards -----------------------------------------------------------------------


def _card_lines(session: Session) -> list[dict[str, Any]]:
    lines = []
    for card in rate_cards.list_rate_cards(session):
        lines.append(
            {
                "card": card,
                "video": _tiers(card, "video"),
                "ad": _tiers(card, "ad"),
                "repriced": admin_queries.days_repriced_by(session, card),
            }
        )
    return lines


def _tiers(card: RateCard, kind: str) -> list[tuple[int, str]]:
    rows = sorted((t for t in card.tiers if t.kind == kind), key=lambda t: t.from_views)
    return [(t.from_views, rate_cards.price_text(t.unit_price)) for t in rows]


def _rate_card_page(
    request: Request,
    runtime: Runtime,
    admin: Admin,
    *,
    added: int | None = None,
    problems: list[str] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> Response:
    with runtime.db.session() as session:
        cards = _card_lines(session)
        settled = admin_queries.settled_dates(session)
    if form is None:
        current = cards[-1] if cards else None
        form = {
            "effective_from": "",
            "video": current["video"] if current else [],
            "ad": current["ad"] if current else [],
        }
    for kind in ("video", "ad"):
        rows = max(TIER_ROWS, len(form[kind]) + 1)
        form[kind] = list(form[kind]) + [("", "")] * (rows - len(form[kind]))
    shown = next((c for c in cards if c["card"].id == added), None)
    if shown is not None and shown["repriced"]:
        # Re-running a day flags every settled day after it: the re-run goes to the last.
        shown["rerun"] = (shown["repriced"][0], max(shown["repriced"][-1], settled[-1]))
    context = {
        "cards": list(reversed(cards)),
        "added": shown,
        "problems": problems or [],
        "form": form,
    }
    return _render(request, admin, "admin/rate_cards.html", context, status_code)


@router.get("/rate-cards")
def rate_card_list(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    added: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    return _rate_card_page(request, runtime, admin, added=added)


def _tier_inputs(froms: list[str], prices: list[str], kind: str) -> list[tuple[int, str]]:
    tiers = []
    for i, (start, price) in enumerate(zip(froms, prices, strict=False)):
        if not start.strip() and not price.strip():
            continue
        if not start.strip().isdigit():
            raise InvalidInput(f"{kind} tier {i + 1}: 'from views' must be a whole number")
        tiers.append((int(start), price.strip()))
    return tiers


@router.post("/rate-cards")
def rate_card_add(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    effective_from: Annotated[str, Form()] = "",
    video_from: Annotated[list[str] | None, Form()] = None,
    video_price: Annotated[list[str] | None, Form()] = None,
    ad_from: Annotated[list[str] | None, Form()] = None,
    ad_price: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not web_session.csrf_ok(request, csrf_token):
        return _redirect("/admin/rate-cards")
    video = list(zip(video_from or [], video_price or [], strict=False))
    ad = list(zip(ad_from or [], ad_price or [], strict=False))
    with _problems() as problems, runtime.db.writes_by(admin.user.id):
        day = _date(effective_from, "effective from")
        video_tiers = _tier_inputs(video_from or [], video_price or [], "video")
        ad_tiers = _tier_inputs(ad_from or [], ad_price or [], "ad")
        with runtime.db.session() as session:
            card = rate_cards.create_rate_card(
                session,
                effective_from=day,
                video_tiers=video_tiers,
                ad_tiers=ad_tiers,
                created_by=admin.user.id,
            )
            card_id = card.id
        return _redirect(f"/admin/rate-cards?added={card_id}")
    form = {"effective_from": effective_from, "video": video, "ad": ad}
    return _rate_card_page(request, runtime, admin, problems=problems, form=form, status_code=422)


# --- videos and ad placement ------------------------------------------------------------


@router.get("/videos")
def video_list(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    creator: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> Response:
    with runtime.db.session() as session:
        lines = admin_queries.videos(session, creator_id=creator)
    return _render(request, admin, "admin/videos.html", {"videos": lines})


def _slots_page(
    request: Request,
    runtime: Runtime,
    admin: Admin,
    video_id: int,
    *,
    problems: list[str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    with runtime.db.session() as session:
        video: Video = catalogue.get_video(session, video_id)
        creator = session.get(User, video.creator_id)
        ads = catalogue.list_ads_for(session, admin.user, active=True, limit=500).items
        context = {
            "video": video,
            "creator": creator,
            "slots": [(s.position_seconds, s.ad_id) for s in video.ad_slots],
            "ads": [(ad.id, ad.title) for ad in ads],
            "new_rows": NEW_SLOT_ROWS,
            "problems": problems or [],
            "saved": saved,
        }
    return _render(request, admin, "admin/ad_slots.html", context, status_code)


@router.get("/videos/{video_id}/ads")
def ad_slots_page(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    video_id: int,
    saved: Annotated[int, Query()] = 0,
) -> Response:
    with _problems() as problems:
        return _slots_page(request, runtime, admin, video_id, saved=bool(saved))
    return _render(request, admin, "admin/forbidden.html", {"message": problems[0]}, 404)


@router.post("/videos/{video_id}/ads")
def ad_slots_save(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    video_id: int,
    position: Annotated[list[str] | None, Form()] = None,
    ad: Annotated[list[str] | None, Form()] = None,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    """Replace the video's ad slots with the rows that have a position."""
    if not web_session.csrf_ok(request, csrf_token):
        return _redirect(f"/admin/videos/{video_id}/ads")
    with _problems() as problems, runtime.db.writes_by(admin.user.id):
        placements = []
        for i, (where, which) in enumerate(zip(position or [], ad or [], strict=False)):
            if not where.strip():
                continue
            if not where.strip().isdigit() or not which.strip().isdigit():
                raise InvalidInput(f"slot {i + 1}: choose a position in seconds and an ad")
            placements.append(Placement(int(where), int(which)))
        with runtime.db.session() as session:
            catalogue.place_ads(session, admin.user, video_id, placements)
        return _redirect(f"/admin/videos/{video_id}/ads?saved=1")
    return _slots_page(request, runtime, admin, video_id, problems=problems, status_code=422)


# --- creators ----------------------------------------------------------------------------


@router.get("/creators")
def creator_list(request: Request, runtime: RuntimeDep, admin: AdminDep) -> Response:
    with runtime.db.session() as session:
        lines = admin_queries.creators(session)
    return _render(request, admin, "admin/creators.html", {"creators": lines})


@router.get("/creators/{creator_id}")
def creator_page(
    request: Request,
    runtime: RuntimeDep,
    admin: AdminDep,
    creator_id: int,
    window: ChosenWindow,
) -> Response:
    """The creator's own settlement page as they see it, read-only."""
    with runtime.db.read_session(admin.user.id) as session:
        creator = session.get(User, creator_id)
        if creator is None or not creator.has_role("creator"):
            message = f"no creator {creator_id}"
            return _render(request, admin, "admin/forbidden.html", {"message": message}, 404)
        board = build_dashboard(session, creator, window)
    context = {
        "board": board,
        "window": window,
        "schedule_time": runtime.settings.batch_schedule_time,
    }
    return _render(request, admin, "admin/creator.html", context)


__all__ = ["router"]
