"""Where revoked access tokens and revoked logins are kept: the database, or the database
with a Redis cache in front. The runtime chooses one from the settings.

The database is the truth: every revocation is a row, ``revoked_access_tokens`` for one
token (its ``jti``) and ``revoked_token_families`` for a whole login (the ``fam`` claim),
each kept until the tokens it refuses have expired and swept on the next write. With Redis
configured, Redis caches them as keys with the same lifetime, so that a check stays one
Redis call (the heartbeat's Lua script checks the same keys). A revocation is written to
Redis before its database transaction commits: an answered logout is in both; a failed
commit leaves only a harmless extra key.

Redis may lose its data (a restart without persistence, a failover to an empty replica).
Then it would forget revocations, so Redis also holds a marker, ``LOADED_KEY``, set in the
same ``MULTI`` that loads every unexpired revocation from the database. A check that finds
the marker missing loads them first and then checks; so does the Lua script's caller.
"""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta
from typing import Protocol

import redis
from sqlalchemy import delete, exists, or_, select
from sqlalchemy.orm import Session

from streamsettle.db.engine import Database
from streamsettle.db.models import RevokedAccessToken, RevokedTokenFamily
from streamsettle.logging import get_logger
from streamsettle.sessions.base import RevocationKeys

log = get_logger(__name__)

_PREFIX = "revoked-jti:"
_FAMILY_PREFIX = "revoked-family:"
LOADED_KEY = "auth:revocations-loaded"
"""Exists while Redis holds every unexpired revocation of the database."""
NEVER_KEY = "auth:never"
"""A key that never exists: the family key of a token that has no family."""


def redis_key(jti: str) -> str:
    """The Redis key that marks ``jti`` revoked (the playback Lua script checks it too)."""
    return _PREFIX + jti


def family_key(family_id: uuid.UUID | None) -> str:
    """The Redis key that marks a login revoked; ``NEVER_KEY`` for a token without one."""
    return NEVER_KEY if family_id is None else _FAMILY_PREFIX + str(family_id)


def lua_keys(jti: str, family_id: uuid.UUID | None) -> RevocationKeys:
    """What the heartbeat script checks for a token: the marker, the jti, the family."""
    return LOADED_KEY, redis_key(jti), family_key(family_id)


class Revocations(Protocol):
    """Revoked tokens and logins; writes join the caller's unit of work."""

    def revoke_token(
        self, session: Session, jti: str, expires_at: datetime, ttl: int, now: datetime
    ) -> None:
        """Refuse the token ``jti`` until ``expires_at`` (a cache keeps it ``ttl`` seconds)."""
        ...

    def revoke_family(
        self, session: Session, family_id: uuid.UUID, ttl: int, now: datetime
    ) -> None:
        """Refuse every token of the login ``family_id`` for ``ttl`` seconds from ``now``."""
        ...

    def is_revoked(self, jti: str, family_id: uuid.UUID | None) -> bool:
        """Whether the token or its login is revoked."""
        ...

    def load(self) -> int:
        """Fill the cache from the database if it lost its data; how many were copied."""
        ...


class DatabaseRevocations:
    """The rows alone (the embedded mode); a check is one query on the primary."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def revoke_token(
        self, session: Session, jti: str, expires_at: datetime, ttl: int, now: datetime
    ) -> None:
        session.execute(delete(RevokedAccessToken).where(RevokedAccessToken.expires_at < now))
        session.execute(
            self._db.insert(RevokedAccessToken)
            .values(jti=jti, expires_at=expires_at)
            .on_conflict_do_nothing()
        )

    def revoke_family(
        self, session: Session, family_id: uuid.UUID, ttl: int, now: datetime
    ) -> None:
        session.execute(delete(RevokedTokenFamily).where(RevokedTokenFamily.expires_at < now))
        upsert = self._db.insert(RevokedTokenFamily).values(
            family_id=family_id, expires_at=now + timedelta(seconds=ttl)
        )
        session.execute(
            upsert.on_conflict_do_update(
                index_elements=["family_id"], set_={"expires_at": upsert.excluded.expires_at}
            )
        )

    def is_revoked(self, jti: str, family_id: uuid.UUID | None) -> bool:
        conditions = [exists().where(RevokedAccessToken.jti == jti)]
        if family_id is not None:
            conditions.append(exists().where(RevokedTokenFamily.family_id == family_id))
        with self._db.session() as session:  # the primary: a revocation must be seen at once
            return bool(session.scalar(select(or_(*conditions))))

    def load(self) -> int:
        return 0

    def unexpired(self, now: datetime) -> list[tuple[str, datetime]]:
        """Every revocation still in force at ``now``, as its Redis key and expiry."""
        with self._db.session() as session:
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
        return [
            *((redis_key(jti), at) for jti, at in tokens),
            *((family_key(family), at) for family, at in families),
        ]


class CachedRevocations:
    """The rows, cached in Redis: a check is one ``MGET`` (after a Redis data loss, a load)."""

    def __init__(self, client: redis.Redis, truth: DatabaseRevocations) -> None:
        self._redis = client
        self._truth = truth
        self._load_lock = threading.Lock()

    def revoke_token(
        self, session: Session, jti: str, expires_at: datetime, ttl: int, now: datetime
    ) -> None:
        self._redis.set(redis_key(jti), "1", ex=ttl)
        self._truth.revoke_token(session, jti, expires_at, ttl, now)

    def revoke_family(
        self, session: Session, family_id: uuid.UUID, ttl: int, now: datetime
    ) -> None:
        self._redis.set(family_key(family_id), "1", ex=ttl)
        self._truth.revoke_family(session, family_id, ttl, now)

    def is_revoked(self, jti: str, family_id: uuid.UUID | None) -> bool:
        keys = list(lua_keys(jti, family_id))
        loaded, token, family = self._redis.mget(keys)
        if loaded is None:
            self.load()
            loaded, token, family = self._redis.mget(keys)
        return token is not None or family is not None

    def load(self) -> int:
        """Copy every unexpired revocation into Redis and set the marker, all in one
        ``MULTI`` (unless another thread just did)."""
        with self._load_lock:
            if self._redis.exists(LOADED_KEY):
                return 0
            now = datetime.now(UTC)
            revoked = self._truth.unexpired(now)
            pipe = self._redis.pipeline(transaction=True)
            for key, expires_at in revoked:
                pipe.set(key, "1", px=max(1, int((expires_at - now).total_seconds() * 1000)))
            pipe.set(LOADED_KEY, "1")
            pipe.execute()
        log.info("revocations loaded into Redis from the database", count=len(revoked))
        return len(revoked)
