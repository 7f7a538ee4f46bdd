"""Revoked access tokens, kept until they would have expired anyway.

Redis holds them with a TTL when it is configured; the embedded mode keeps them in the
database and sweeps expired rows on write.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from streamsettle.db.models import RevokedAccessToken
from streamsettle.runtime import Runtime
from streamsettle.services.tokens import AccessClaims

_PREFIX = "revoked-jti:"


def revoke(runtime: Runtime, claims: AccessClaims) -> None:
    now = datetime.now(UTC)
    ttl = int((claims.expires_at - now).total_seconds()) + 1
    if ttl <= 0:
        return
    if runtime.redis is not None:
        runtime.redis.set(_PREFIX + claims.jti, "1", ex=ttl)
        return
    insert = pg_insert if not runtime.db.is_sqlite else sqlite_insert
    with runtime.db.session() as session:
        session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < now))
        session.execute(
            insert(RevokedAccessToken)
            .values(jti=claims.jti, expires_at=claims.expires_at)
            .on_conflict_do_nothing()
        )


def redis_key(jti: str) -> str:
    """The Redis key that marks ``jti`` revoked (the playback Lua script checks it too)."""
    return _PREFIX + jti


def is_revoked(runtime: Runtime, jti: str) -> bool:
    if runtime.redis is not None:
        return bool(runtime.redis.exists(_PREFIX + jti))
    with runtime.db.session() as session:  # the primary: a revocation must be seen at once
        found = session.scalar(select(RevokedAccessToken.jti).where(RevokedAccessToken.jti == jti))
    return found is not None
