"""The creators' settlement page at ``/``: login, dashboard, CSV download, logout.

Server-rendered with Jinja2 (autoescaping on). The session lives in HttpOnly cookies (see
``web.session``); the chart's numbers are embedded as JSON and drawn by the vendored
Chart.js, so the page needs no internet and runs under a strict Content-Security-Policy.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import jinja2
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from streamsettle import __version__
from streamsettle.errors import (
    AuthenticationFailed,
    RateLimited,
    ServiceUnavailable,
    retry_after,
)
from streamsettle.http import downloads
from streamsettle.http.deps import RuntimeDep, client_ip, get_runtime
from streamsettle.runtime import Runtime
from streamsettle.services.identity import auth
from streamsettle.services.queries.access import creator_target
from streamsettle.web import i18n
from streamsettle.web import session as web_session
from streamsettle.web.dashboard import ChosenWindow, build_dashboard

_HERE = Path(__file__).parent
_env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(_HERE / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


@jinja2.pass_context
def _krw(context: jinja2.runtime.Context, amount: int) -> str:
    """Won as the page's language writes it (the admin console's: ``₩1,234``)."""
    f = context.get("f")
    return f.krw(amount) if isinstance(f, i18n.Formats) else f"₩{amount:,}"


@jinja2.pass_context
def _num(context: jinja2.runtime.Context, count: int) -> str:
    f = context.get("f")
    return f.num(count) if isinstance(f, i18n.Formats) else f"{count:,}"


_env.filters["krw"] = _krw
_env.filters["num"] = _num
_env.globals.update(
    {k: v for k, v in i18n.template_context("en").items() if k in ("_", "gettext", "ngettext")}
)
"""English texts where a page passes no language (the admin console, macros it imports)."""
_env.filters["hms"] = lambda s: f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
templates = Jinja2Templates(env=_env)


class Refused(Exception):
    """Raised by a page's dependency to send ``response`` (the login, a 403 page) instead."""

    def __init__(self, response: Response) -> None:
        super().__init__()
        self.response = response


class PageRoute(APIRoute):
    """A page's route: answers a ``Refused`` with its response, and stores the tokens that
    were renewed while signing the caller in (``SignedIn``) on the page it answers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                response = await handler(request)
            except Refused as refused:
                return refused.response
            who: web_session.WebSession | None = getattr(request.state, "signed_in", None)
            if who is not None and who.renewed is not None:
                web_session.store_tokens(request, response, get_runtime(request), who.renewed)
            return response

        return answer


def signed_in(request: Request, runtime: RuntimeDep) -> web_session.WebSession:
    """The caller's session; else to the login page (``PageRoute`` answers the refusal)."""
    who = web_session.current_session(request, runtime)
    if who is None:
        raise Refused(_to_login(request))
    request.state.signed_in = who
    return who


SignedIn = Annotated[web_session.WebSession, Depends(signed_in)]

router = APIRouter(include_in_schema=False, route_class=PageRoute)
router.mount("/static", StaticFiles(directory=_HERE / "static"), name="static")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    """A page in English (the admin console)."""
    token, new = web_session.csrf_token(request)
    response = templates.TemplateResponse(
        request,
        name,
        {**context, "csrf_token": token, "version": __version__},
        status_code=status_code,
        headers=SECURITY_HEADERS,
    )
    if new:
        web_session.store_csrf(request, response, token)
    return response


def localized_page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> Response:
    """A creator's page in the chosen language (Korean by default), as the studio's."""
    language, remember = i18n.choose_language(request)
    other = request.url.include_query_params(lang="en" if language == "ko" else "ko")
    translated = {
        **i18n.template_context(language),
        "switch_language": f"{other.path}?{other.query}",
    }
    response = _page(request, name, {**translated, **context}, status_code)
    if remember:
        i18n.remember_language(request, response, language)
    return response


def _to_login(request: Request, *, clear: bool = False) -> Response:
    response = RedirectResponse("/login", status_code=303)
    if clear or request.cookies.get(web_session.ACCESS_COOKIE):
        web_session.clear_tokens(response)
    return response


@router.get("/")
def dashboard(
    request: Request, runtime: RuntimeDep, who: SignedIn, window: ChosenWindow
) -> Response:
    with runtime.db.read_session(who.user.id) as session:
        board = build_dashboard(session, who.user, window)
    response = localized_page(
        request,
        "dashboard.html",
        {"board": board, "schedule_time": runtime.settings.batch_schedule_time},
    )
    return response


@router.get("/login")
def login_form(request: Request, runtime: RuntimeDep) -> Response:
    if web_session.current_session(request, runtime) is not None:
        return RedirectResponse("/", status_code=303)
    return localized_page(request, "login.html", _login_context(runtime))


_SERVICE_TEXTS = (i18n.N_("incorrect email or password"),)
"""Answers of the services the login page shows, translated there like its own texts."""


def _login_context(runtime: Runtime, error: str | None = None, email: str = "") -> dict[str, Any]:
    settings = runtime.settings
    return {
        "error": error,
        "email": email,
        "oidc_url": (
            f"/api/v1/auth/oidc/{settings.oidc_provider}/login" if settings.oidc_enabled else None
        ),
        "oidc_provider": settings.oidc_provider,
    }


@router.post("/login")
def login(
    request: Request,
    runtime: RuntimeDep,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not web_session.csrf_ok(request, csrf_token):
        error = i18n.N_("The form expired. Please try again.")
        return localized_page(request, "login.html", _login_context(runtime, error, email), 403)
    if not email or not password:
        error = i18n.N_("Enter your email and password.")
        return localized_page(request, "login.html", _login_context(runtime, error, email), 422)
    ip = client_ip(request, runtime.settings)
    try:
        with runtime.db.session() as session:
            pair = auth.login(session, runtime, email=email, password=password, ip=ip)
    except AuthenticationFailed as exc:
        return localized_page(
            request, "login.html", _login_context(runtime, exc.message, email), 401
        )
    except (RateLimited, ServiceUnavailable) as exc:  # Retry-After, as the API's answer has
        context = _login_context(runtime, exc.message, email)
        response = localized_page(request, "login.html", context, exc.status_code)
        response.headers["Retry-After"] = str(retry_after(exc))
        return response
    response = RedirectResponse("/", status_code=303)
    web_session.store_tokens(request, response, runtime, pair)
    return response


@router.post("/logout")
def logout(
    request: Request, runtime: RuntimeDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    if not web_session.csrf_ok(request, csrf_token):
        return RedirectResponse("/", status_code=303)
    web_session.logout(request, runtime)
    return _to_login(request, clear=True)


@router.get("/settlements.csv")
def settlement_csv(
    request: Request,
    runtime: RuntimeDep,
    who: SignedIn,
    window: ChosenWindow,
    creator_id: Annotated[int | None, Query(ge=1)] = None,
) -> Response:
    """The logged-in creator's CSV (an admin may name any creator) for the page's period."""
    user = who.user
    target = creator_target(
        user,
        creator_id,
        (
            "only an admin may download another creator's settlement",
            "the settlement CSV is for creators",
        ),
    )
    with runtime.db.read_session(user.id) as session:
        response = downloads.settlement_csv(
            session, target, window.dates, {"Cache-Control": "no-store"}
        )
    return response


__all__ = ["router"]
