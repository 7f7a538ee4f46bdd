"""Revoked access tokens and revoked logins, refused until they would have expired anyway.

The database is the truth: every revocation is a row, ``revoked_access_tokens`` for one
token (its ``jti``) and ``revoked_token_families`` for a whole login (the ``fam`` claim,
the login's refresh-token family), each kept until the tokens it refuses have expired and
swept on the next write. With Redis configured, Redis caches them as keys with the same
lifetime, so that a check stays one Redis call (the heartbeat's Lua script checks the same
keys). A revocation is written to Redis before its database transaction commits: an
answered logout is in both; a failed commit leaves only a harmless extra key.

Redis may lose its data (a restart without persistence, a failover to an empty replica).
Then it would forget revocations, so Redis also holds a marker, ``LOADED_KEY``, set in the
same ``MULTI`` that loads every unexpired revocation from the database. A check that finds
the marker missing loads them first and then checks; so does the Lua script's caller.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, exists, or_, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from streamsettle.db.models import RevokedAccessToken, RevokedTokenFamily
from streamsettle.logging import get_logger
from streamsettle.runtime import Runtime
from streamsettle.services.identity.tokens import AccessClaims

log = get_logger(__name__)

_PREFIX = "revoked-jti:"
_FAMILY_PREFIX = "revoked-family:"
LOADED_KEY = "auth:revocations-loaded"
"""Exists while Redis holds every unexpired revocation of the database."""
NEVER_KEY = "auth:never"
"""A key that never exists: the family key of a token that has no family."""

_load_lock = threading.Lock()


def redis_key(jti: str) -> str:
    """The Redis key that marks ``jti`` revoked (the playback Lua script checks it too)."""
    return _PREFIX + jti


def family_key(family_id: uuid.UUID | None) -> str:
    """The Redis key that marks a login revoked; ``NEVER_KEY`` for a token without one."""
    return NEVER_KEY if family_id is None else _FAMILY_PREFIX + str(family_id)


def lua_keys(claims: AccessClaims) -> tuple[str, str, str]:
    """What the heartbeat script checks for a token: the marker, the jti, the family."""
    return LOADED_KEY, redis_key(claims.jti), family_key(claims.family_id)


def revoke_token(session: Session, runtime: Runtime, claims: AccessClaims, now: datetime) -> None:
    """Revoke one access token inside the caller's unit of work (Redis first)."""
    ttl = int((claims.expires_at - now).total_seconds()) + 1
    if ttl <= 0:
        return
    if runtime.redis is not None:
        runtime.redis.set(redis_key(claims.jti), "1", ex=ttl)
    insert = sqlite_insert if runtime.db.is_sqlite else pg_insert
    session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < now))
    session.execute(
        insert(RevokedAccessToken)
        .values(jti=claims.jti, expires_at=claims.expires_at)
        .on_conflict_do_nothing()
    )


def revoke_family(session: Session, runtime: Runtime, family_id: uuid.UUID, now: datetime) -> None:
    """Refuse every access token of a login from now on, inside the caller's unit of work.

    Kept for one access-token lifetime: no token of the family is issued after this (its
    refresh tokens are revoked in the same transaction), so by then all have expired.
    """
    ttl = runtime.settings.access_token_ttl_seconds + 1
    if runtime.redis is not None:
        runtime.redis.set(family_key(family_id), "1", ex=ttl)
    insert = sqlite_insert if runtime.db.is_sqlite else pg_insert
    session.execute(delete(RevokedTokenFamily).where(RevokedTokenFamily.expires_at < now))
    expires_at = now + timedelta(seconds=ttl)
    upsert = insert(RevokedTokenFamily).values(family_id=family_id, expires_at=expires_at)
    session.execute(
        upsert.on_conflict_do_update(
            index_elements=["family_id"], set_={"expires_at": upsert.excluded.expires_at}
        )
    )


def revoke(runtime: Runtime, claims: AccessClaims) -> None:
    """Revoke one access token in a unit of work of its own."""
    with runtime.db.session() as session:
        revoke_token(session, runtime, claims, datetime.now(UTC))


def load(runtime: Runtime) -> int:
    """Copy every unexpired revocation from the database into Redis and set the marker,
    all in one ``MULTI`` (unless another thread just did); how many were copied."""
    client = runtime.redis
    if client is None:
        return 0
    with _load_lock:
        if client.exists(LOADED_KEY):
            return 0
        now = datetime.now(UTC)
        with runtime.db.session() as session:
            tokens = session.execute(
                select(RevokedAccessToken.jti, RevokedAccessToken.expires_at).where(
                    RevokedAccessToken.expires_at > now
                )
            ).all()
            families = session.execute(
                select(RevokedTokenFamily.family_id, RevokedTokenFamily.expires_at).where(
                    RevokedTokenFamily.expires_at > now
                )
            ).all()
        pipe = client.pipeline(transaction=True)
        for key, expires_at in [
            *((redis_key(jti), at) for jti, at in tokens),
            *((family_key(family), at) for family, at in families),
        ]:
            pipe.set(key, "1", px=max(1, int((expires_at - now).total_seconds() * 1000)))
        pipe.set(LOADED_KEY, "1")
        pipe.execute()
    count = len(tokens) + len(families)
    log.info("revocations loaded into Redis from the database", count=count)
    return count


def is_revoked(runtime: Runtime, claims: AccessClaims) -> bool:
    """Whether the token or its login is revoked: one Redis call (after a Redis data loss,
    the load first), or one query in the embedded mode."""
    if runtime.redis is not None:
        keys = [LOADED_KEY, redis_key(claims.jti), family_key(claims.family_id)]
        loaded, token, family = runtime.redis.mget(keys)
        if loaded is None:
            load(runtime)
            loaded, token, family = runtime.redis.mget(keys)
        return token is not None or family is not None
    conditions = [exists().where(RevokedAccessToken.jti == claims.jti)]
    if claims.family_id is not None:
        conditions.append(exists().where(RevokedTokenFamily.family_id == claims.family_id))
    with runtime.db.session() as session:  # the primary: a revocation must be seen at once
        return bool(session.scalar(select(or_(*conditions))))
