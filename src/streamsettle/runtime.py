"""Everything one process holds, built once from the settings.

This is the one place that chooses the backends: the database engines (write and read), the
synchronous Redis client when Redis is configured, and from those the live session store,
its heartbeat reporter, its rate limiter and the token revocations (Redis: one Lua call
counts and applies a report, revocations cached in Redis in front of the database; without
Redis: the database store and revocations, an in-process counter and a thread-pool hop).
Services take what they need from a ``Runtime``; the edges (HTTP app, CLI, workers) build
one at start-up and close it at shutdown. ``clock`` is the time every edge passes to the
services; tests replace it to pin the time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

import redis
import redis.asyncio as aioredis

from streamsettle.config import Settings, get_settings
from streamsettle.db.engine import Database
from streamsettle.db.redis import make_async_redis, make_redis
from streamsettle.sessions import DatabaseSessionStore, RedisSessionStore, SessionStore
from streamsettle.sessions.base import HeartbeatReporter
from streamsettle.sessions.db_store import ThreadReporter
from streamsettle.sessions.limiter import Counter, RedisCounter, WindowCounter
from streamsettle.sessions.redis_store import LoopReporters
from streamsettle.sessions.revocations import CachedRevocations, DatabaseRevocations, Revocations


def utc_now() -> datetime:
    return datetime.now(UTC)


T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: redis.Redis | None
    clock: Callable[[], datetime] = utc_now
    sessions: SessionStore = field(init=False)
    """The live session store: Redis when configured, else the database."""
    heartbeats: HeartbeatReporter = field(init=False)
    """The store's heartbeat reporter for async callers."""
    counter: Counter = field(init=False)
    """The rate-limit counter for logins and refreshes (heartbeats count in the store)."""
    revocations: Revocations = field(init=False)
    """Revoked tokens and logins: the database, cached in Redis when configured."""
    _shared: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _shared_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        in_database = DatabaseRevocations(self.db)
        if self.redis is not None:
            self.sessions = RedisSessionStore(self.redis)
            self.heartbeats = LoopReporters(self._async_redis)
            self.counter = RedisCounter(self.redis)
            self.revocations = CachedRevocations(self.redis, in_database)
        else:
            in_memory = WindowCounter()
            store = DatabaseSessionStore(self.db, self.settings.tz, in_memory)
            self.sessions = store
            self.heartbeats = ThreadReporter(store)
            self.counter = in_memory
            self.revocations = in_database

    def _async_redis(self) -> aioredis.Redis:
        client = make_async_redis(self.settings)
        assert client is not None, "an async Redis client without STREAMSETTLE_REDIS_URL"
        return client

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Runtime:
        settings = settings or get_settings()
        client = make_redis(settings)
        return cls(settings=settings, db=Database.from_settings(settings, client), redis=client)

    def shared(self, name: str, build: Callable[[], T]) -> T:
        """One object of this runtime's (a thread pool), built on first use and
        closed with the runtime when it has a ``close``."""
        with self._shared_lock:
            if name not in self._shared:
                self._shared[name] = build()
            return cast(T, self._shared[name])

    def close(self) -> None:
        with self._shared_lock:
            for value in self._shared.values():
                close = getattr(value, "close", None)
                if close is not None:
                    close()
            self._shared.clear()
        self.db.dispose()
        if self.redis is not None:
            self.redis.close()
