"""API request dependencies (bearer claims, roles), as ``Annotated`` aliases that keep
route signatures short; the ones the web page shares are in ``http.deps``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from streamsettle.db.models import User
from streamsettle.errors import AuthenticationFailed, Forbidden
from streamsettle.http.deps import SESSION_SCOPE, DbSession, RuntimeDep
from streamsettle.services.identity import revocation
from streamsettle.services.identity.tokens import AccessClaims

_bearer = HTTPBearer(auto_error=False)


def get_optional_claims(
    runtime: RuntimeDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> AccessClaims | None:
    """Claims of a valid bearer token; None without one; 401 for a bad or revoked one."""
    if credentials is None:
        return None
    return revocation.verified_claims(runtime, credentials.credentials)


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
# The decorator arguments of a route that creates a resource: 201, its writes recorded.
CREATES: dict[str, Any] = {"status_code": status.HTTP_201_CREATED, "dependencies": [RecordsWrites]}


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
