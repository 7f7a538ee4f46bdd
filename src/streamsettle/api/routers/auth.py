"""Routes for auth: sign-up, password and OIDC login, refresh, logout, /me."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Cookie, Response, status
from fastapi.responses import RedirectResponse

from streamsettle.api.deps import Claims, CurrentUser
from streamsettle.api.openapi import errors
from streamsettle.api.schemas.auth import (
    LoginRequest,
    LogoutRequest,
    RefreshRequest,
    SignupCreate,
    TokenPairPublic,
    UserPublic,
)
from streamsettle.config import Settings
from streamsettle.http.deps import ClientIp, DbSession, RuntimeDep, SettingsDep
from streamsettle.services.identity import accounts, auth, oidc
from streamsettle.services.identity.passwords import password_pool

router = APIRouter(prefix="/api/v1", tags=["auth"])

OIDC_COOKIE = "streamsettle_oidc_state"
OIDC_COOKIE_PATH = "/api/v1/auth/oidc"
_PROVIDER_ERRORS = {
    404: "unknown or unconfigured provider",
    503: "the identity provider is unreachable or misbehaves",
}


@router.post(
    "/auth/signup",
    status_code=status.HTTP_201_CREATED,
    response_model=UserPublic,
    responses=errors(
        {
            409: "an account with this email exists",
            422: (
                "invalid input, or a password the policy refuses (too short, "
                "too common, one character repeated, the email or name)"
            ),
            503: (
                "PostgreSQL is unavailable, or too many passwords are being hashed (Retry-After)"
            ),
        }
    ),
)
def signup(body: SignupCreate, session: DbSession, runtime: RuntimeDep) -> UserPublic:
    """Create an account (viewer, creator and/or advertiser; never admin). The password
    policy: at least 8 characters (up to 1024), not a common or leaked one, not one
    character repeated, not the email or name; no rules about character classes."""
    user = accounts.signup(
        session,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        roles=body.roles,
        hasher=password_pool(runtime).hash,
    )
    return UserPublic.model_validate(user)


@router.post(
    "/auth/login",
    response_model=TokenPairPublic,
    responses=errors(
        {
            401: "incorrect email or password",
            429: (
                "too many logins from this address or for this account; "
                "Retry-After tells when to try again"
            ),
            503: (
                "PostgreSQL or Redis is unavailable, or too many passwords are "
                "being checked (Retry-After)"
            ),
        }
    ),
)
def login(
    body: LoginRequest, session: DbSession, runtime: RuntimeDep, ip: ClientIp
) -> TokenPairPublic:
    """A token pair for an email and password, within the login rate limits."""
    pair = auth.login(session, runtime, email=body.email, password=body.password, ip=ip)
    return TokenPairPublic.model_validate(pair)


@router.post(
    "/auth/refresh",
    response_model=TokenPairPublic,
    responses=errors(
        {
            401: "an invalid, expired, spent or revoked refresh token",
            429: (
                "too many refreshes from this address or for this user; "
                "Retry-After tells when to try again"
            ),
        }
    ),
)
def refresh(body: RefreshRequest, runtime: RuntimeDep, ip: ClientIp) -> TokenPairPublic:
    """A new pair for a refresh token; reusing a spent one revokes its whole family."""
    return TokenPairPublic.model_validate(auth.refresh(runtime, body.refresh_token, ip=ip))


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT)
def logout(
    claims: Claims,
    runtime: RuntimeDep,
    body: Annotated[LogoutRequest | None, Body()] = None,
) -> Response:
    """Revoke the bearer access token and, when given, the refresh token's family."""
    auth.logout(runtime, claims, body.refresh_token if body else None)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _redirect_uri(settings: Settings, provider: str) -> str:
    return f"{settings.oidc_redirect_base_url.rstrip('/')}{OIDC_COOKIE_PATH}/{provider}/callback"


@router.get(
    "/auth/oidc/{provider}/login",
    status_code=status.HTTP_302_FOUND,
    response_class=RedirectResponse,
    responses=errors(_PROVIDER_ERRORS),
)
def oidc_login(provider: str, settings: SettingsDep) -> RedirectResponse:
    """Redirect to the identity provider; the login state rides in a signed cookie."""
    start = oidc.begin_login(settings, provider, _redirect_uri(settings, provider))
    response = RedirectResponse(start.url, status_code=status.HTTP_302_FOUND)
    response.set_cookie(
        OIDC_COOKIE,
        start.sealed_state,
        max_age=oidc.STATE_MAX_AGE_SECONDS,
        path=OIDC_COOKIE_PATH,
        httponly=True,
        samesite="lax",
        secure=settings.oidc_redirect_base_url.startswith("https://"),
    )
    return response


@router.get(
    "/auth/oidc/{provider}/callback",
    response_model=TokenPairPublic,
    responses=errors(
        {
            401: "the login failed or its state does not match",
            409: "the identity's email belongs to another account",
            **_PROVIDER_ERRORS,
        }
    ),
)
def oidc_callback(
    provider: str,
    session: DbSession,
    settings: SettingsDep,
    response: Response,
    code: str | None = None,
    state: str | None = None,
    error: str | None = None,
    sealed_state: Annotated[str | None, Cookie(alias=OIDC_COOKIE)] = None,
) -> TokenPairPublic:
    """Finish the login: a token pair (the user is created on first login)."""
    pair = oidc.complete_login(
        session,
        settings,
        provider,
        _redirect_uri(settings, provider),
        code=code,
        state=state,
        sealed_state=sealed_state,
        error=error,
    )
    response.delete_cookie(OIDC_COOKIE, path=OIDC_COOKIE_PATH)
    return TokenPairPublic.model_validate(pair)


@router.get("/me", response_model=UserPublic)
def me(user: CurrentUser) -> UserPublic:
    return UserPublic.model_validate(user)
