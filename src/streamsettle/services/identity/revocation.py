"""Revoked access tokens and revoked logins, refused until they would have expired anyway.

Where they are kept (the database, with Redis as a cache when configured) is the runtime's
``revocations`` store (``sessions.revocations``); this module decides how long each
revocation must last and checks a caller's token against them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from streamsettle.errors import AuthenticationFailed
from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import AccessClaims, decode_access_token
from streamsettle.sessions.base import RevocationCheck
from streamsettle.sessions.revocations import lua_keys


def revoke_token(session: Session, runtime: Runtime, claims: AccessClaims, now: datetime) -> None:
    """Revoke one access token inside the caller's unit of work, until it expires."""
    ttl = int((claims.expires_at - now).total_seconds()) + 1
    if ttl > 0:
        runtime.revocations.revoke_token(session, claims.jti, claims.expires_at, ttl, now)


def revoke_family(session: Session, runtime: Runtime, family_id: uuid.UUID, now: datetime) -> None:
    """Refuse every access token of a login from now on, inside the caller's unit of work.

    Kept for one access-token lifetime: no token of the family is issued after this (its
    refresh tokens are revoked in the same transaction), so by then all have expired.
    """
    ttl = runtime.settings.access_token_ttl_seconds + 1
    runtime.revocations.revoke_family(session, family_id, ttl, now)


def revoke(runtime: Runtime, claims: AccessClaims) -> None:
    """Revoke one access token in a unit of work of its own."""
    with runtime.db.session() as session:
        revoke_token(session, runtime, claims, datetime.now(UTC))


def load(runtime: Runtime) -> int:
    """Reload the revocations cache from the database if it lost them; how many were copied."""
    return runtime.revocations.load()


def is_revoked(runtime: Runtime, claims: AccessClaims) -> bool:
    """Whether the token or its login is revoked."""
    return runtime.revocations.is_revoked(claims.jti, claims.family_id)


def verified_claims(runtime: Runtime, token: str) -> AccessClaims:
    """The claims of a valid access token that is not revoked; 401 otherwise."""
    claims = decode_access_token(runtime.settings, token)
    if is_revoked(runtime, claims):
        raise AuthenticationFailed("access token revoked")
    return claims


def check(runtime: Runtime, claims: AccessClaims) -> RevocationCheck:
    """The token's revocation check for a heartbeat reporter (see ``sessions.base``)."""
    return RevocationCheck(
        lua_keys(claims.jti, claims.family_id), lambda: is_revoked(runtime, claims)
    )
