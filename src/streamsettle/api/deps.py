"""Request dependencies, as ``Annotated`` aliases that keep route signatures short."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Literal

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from streamsettle.config import Settings
from streamsettle.db.models import User
from streamsettle.errors import AuthenticationFailed, Forbidden
from streamsettle.runtime import Runtime
from streamsettle.services import revocation
from streamsettle.services.tokens import AccessClaims, decode_access_token

_bearer = HTTPBearer(auto_error=False)


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_settings_dep(runtime: RuntimeDep) -> Settings:
    return runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


SESSION_SCOPE: Literal["function"] = "function"
"""The scope of every session dependency: closed when the route function returns.

With FastAPI's default ("request") scope a ``yield`` dependency finishes after the response
has been sent, so a client could hold a 2xx for a write not committed yet, or never. With
"function" scope the commit runs before the answer is sent, and a failed commit raises into
the error handlers (409 for a conflict, 503 for a lost database) instead of passing unseen.
"""


def get_db_session(runtime: RuntimeDep) -> Iterator[Session]:
    """A write unit of work for one request: committed before the response is sent."""
    with runtime.db.session() as session:
        yield session


DbSession = Annotated[Session, Depends(get_db_session, scope=SESSION_SCOPE)]


def get_optional_claims(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims | None:
    """Claims of a valid bearer token; None without one; 401 for a bad or revoked one."""
    if credentials is None:
        return None
    claims = decode_access_token(runtime.settings, credentials.credentials)
    if revocation.is_revoked(runtime, claims):
        raise AuthenticationFailed("access token revoked")
    return claims


OptionalClaims = Annotated[AccessClaims | None, Depends(get_optional_claims)]


def get_read_session(runtime: RuntimeDep, claims: OptionalClaims) -> Iterator[Session]:
    """A statistics read: on the replica when it may serve this caller (``db.replica``)."""
    with runtime.db.read_session(claims.user_id if claims else None) as session:
        yield session


ReadSession = Annotated[Session, Depends(get_read_session, scope=SESSION_SCOPE)]


def record_writes(runtime: RuntimeDep, claims: OptionalClaims) -> Iterator[None]:
    """Around a write route: the caller's reads stay on the primary until the replica has it.

    Declared in the route's ``dependencies``, so it is entered before and left after the
    route's unit of work."""
    with runtime.db.writes_by(claims.user_id if claims else None):
        yield


RecordsWrites = Depends(record_writes, scope=SESSION_SCOPE)


def get_claims(claims: OptionalClaims) -> AccessClaims:
    if claims is None:
        raise AuthenticationFailed("a bearer access token is required")
    return claims


Claims = Annotated[AccessClaims, Depends(get_claims)]


def get_current_user(claims: Claims, session: DbSession) -> User:
    user = session.get(User, claims.user_id)
    if user is None:
        raise AuthenticationFailed("the token's user no longer exists")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: str) -> Callable[[User], User]:
    """A dependency that lets through users holding any of ``roles`` (admin always)."""

    def check(user: CurrentUser) -> User:
        if not any(user.has_role(r) for r in (*roles, "admin")):
            raise Forbidden(f"requires one of the roles: {', '.join(roles)}")
        return user

    return check


AdminUser = Annotated[User, Depends(require_role("admin"))]
CreatorUser = Annotated[User, Depends(require_role("creator"))]
AdvertiserUser = Annotated[User, Depends(require_role("advertiser"))]


def client_ip(request: Request, settings: SettingsDep) -> str:
    """The connection's address, or the first X-Forwarded-For entry from a trusted proxy."""
    peer = request.client.host if request.client else "0.0.0.0"
    forwarded = request.headers.get("x-forwarded-for")
    if forwarded and peer in settings.trusted_proxies:
        first = forwarded.split(",")[0].strip()
        if first:
            return first
    return peer


ClientIp = Annotated[str, Depends(client_ip)]
