"""The page's login session: the API's own tokens, kept in HttpOnly cookies.

After a password login the access token and the refresh token live in two HttpOnly,
SameSite=Lax cookies (Secure over HTTPS), so page scripts never see them. When the access
token has expired the refresh token is rotated through ``services.identity.auth.refresh`` and both
cookies are replaced; logout revokes both through ``services.identity.auth.logout``. The JSON API
ignores these cookies (it reads only the ``Authorization`` header), so they cannot be used
for cross-site writes against it.

The login and logout forms carry a CSRF token: a random value in a SameSite=Strict cookie
that the form must echo (double submit), compared in constant time.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from fastapi import Request, Response

from streamsettle.db.models import User
from streamsettle.errors import AuthenticationFailed
from streamsettle.http.deps import client_ip
from streamsettle.runtime import Runtime
from streamsettle.services.identity import auth, revocation
from streamsettle.services.identity.auth import TokenPair
from streamsettle.services.identity.tokens import AccessClaims, decode_access_token

ACCESS_COOKIE = "streamsettle_access"
REFRESH_COOKIE = "streamsettle_refresh"
CSRF_COOKIE = "streamsettle_csrf"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class WebSession:
    user: User
    claims: AccessClaims
    renewed: TokenPair | None = None
    """A pair issued while resolving this request; the response must store it."""


def _valid_claims(runtime: Runtime, token: str | None) -> AccessClaims | None:
    if not token:
        return None
    try:
        claims = decode_access_token(runtime.settings, token)
    except AuthenticationFailed:
        return None
    return None if revocation.is_revoked(runtime, claims) else claims


def current_session(request: Request, runtime: Runtime) -> WebSession | None:
    """The logged-in user of this browser, renewing an expired access token if possible."""
    claims = _valid_claims(runtime, request.cookies.get(ACCESS_COOKIE))
    renewed: TokenPair | None = None
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if claims is None and refresh_token:
        try:
            renewed = auth.refresh(runtime, refresh_token, ip=client_ip(request, runtime.settings))
        except AuthenticationFailed:
            return None
        claims = _valid_claims(runtime, renewed.access_token)
    if claims is None:
        return None
    with runtime.db.session() as session:
        user = session.get(User, claims.user_id)
        if user is None:
            return None
    return WebSession(user=user, claims=claims, renewed=renewed)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def store_tokens(request: Request, response: Response, runtime: Runtime, pair: TokenPair) -> None:
    secure = _secure(request)
    for name, value, max_age in (
        (ACCESS_COOKIE, pair.access_token, pair.expires_in),
        (REFRESH_COOKIE, pair.refresh_token, runtime.settings.refresh_token_ttl_seconds),
    ):
        response.set_cookie(
            name, value, max_age=max_age, httponly=True, samesite="lax", secure=secure, path="/"
        )


def clear_tokens(response: Response) -> None:
    for name in (ACCESS_COOKIE, REFRESH_COOKIE):
        response.delete_cookie(name, path="/", httponly=True, samesite="lax")


def logout(request: Request, runtime: Runtime) -> None:
    """Revoke this browser's access token and its refresh token family, if still valid."""
    claims = _valid_claims(runtime, request.cookies.get(ACCESS_COOKIE))
    refresh_token = request.cookies.get(REFRESH_COOKIE)
    if claims is not None:
        auth.logout(runtime, claims, refresh_token)
    elif refresh_token:
        try:  # an expired access token: spend the refresh token to revoke its family
            renewed = auth.refresh(runtime, refresh_token)
        except AuthenticationFailed:
            return
        claims = _valid_claims(runtime, renewed.access_token)
        if claims is not None:
            auth.logout(runtime, claims, renewed.refresh_token)


def csrf_token(request: Request) -> tuple[str, bool]:
    """This browser's CSRF token and whether it is new (and must be set as a cookie)."""
    existing = request.cookies.get(CSRF_COOKIE)
    if existing and len(existing) >= 32:
        return existing, False
    return secrets.token_urlsafe(32), True


def store_csrf(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", secure=_secure(request), path="/"
    )


def csrf_ok(request: Request, submitted: str) -> bool:
    expected = request.cookies.get(CSRF_COOKIE)
    if not expected or not submitted:
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())
