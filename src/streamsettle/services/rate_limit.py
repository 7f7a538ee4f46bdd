"""Rate limits: which windows an event counts against, and the counters that count it.

One concept for every limit: a ``Limit`` allows ``count`` events per fixed window of
``window_ms`` for a key (an address, a session, an account). With Redis the counters live
there, shared by every API node (``lua.COUNT``: heartbeats count inside the session store's
own Lua call, logins and refreshes with ``RedisCounter``); without Redis (the embedded
mode, one process) ``WindowCounter`` counts in memory. A counter answers 0 to let an event
through, else the milliseconds until the window that refused it ends.

An unreachable Redis is an error (the request answers 503), never a reason to let
everything through.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from collections.abc import Callable, Sequence

import redis

from streamsettle.config import Settings
from streamsettle.errors import RateLimited
from streamsettle.runtime import Runtime
from streamsettle.sessions import Limit
from streamsettle.sessions.lua import LIMIT

Counter = Callable[[Sequence[Limit], int], int]
"""``(limits, now_ms) -> retry_after_ms`` (0 when allowed); counts the event."""

REDIS_PREFIX = "auth:"


def heartbeat_limits(settings: Settings, ip: str, session_id: uuid.UUID) -> list[Limit]:
    return [
        Limit(f"ip:{ip}", settings.heartbeat_rate_per_ip),
        Limit(f"session:{session_id}", settings.heartbeat_rate_per_session),
    ]


def _minutes(settings: Settings) -> int:
    return settings.auth_rate_window_seconds * 1000


def _account_key(text: str) -> str:
    """A short, fixed-length key for an account name (any text a client sends)."""
    return hashlib.sha256(text.strip().lower().encode()).hexdigest()[:32]


def login_limits(settings: Settings, ip: str | None, email: str) -> list[Limit]:
    """Per address (password guessing from one place) and per account (from many)."""
    window = _minutes(settings)
    limits = [
        Limit(f"login-account:{_account_key(email)}", settings.login_rate_per_account, window)
    ]
    if ip is not None:
        limits.insert(0, Limit(f"login-ip:{ip}", settings.login_rate_per_ip, window))
    return limits


def refresh_ip_limits(settings: Settings, ip: str | None) -> list[Limit]:
    if ip is None:
        return []
    return [Limit(f"refresh-ip:{ip}", settings.refresh_rate_per_ip, _minutes(settings))]


def refresh_account_limits(settings: Settings, user_id: int) -> list[Limit]:
    window = _minutes(settings)
    return [Limit(f"refresh-user:{user_id}", settings.refresh_rate_per_account, window)]


class WindowCounter:
    """Fixed windows in memory; thread-safe, forgets windows once they have ended."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._ends: dict[str, int] = {}
        self._next_sweep = 0

    def __call__(self, limits: Sequence[Limit], now_ms: int) -> int:
        """Count one event against every limit, up to the first that refuses it."""
        with self._lock:
            if now_ms >= self._next_sweep:
                self._forget_ended(now_ms)
            for limit in limits:
                key = limit.window_key(now_ms)
                count = self._counts.get(key, 0) + 1
                self._counts[key] = count
                if count == 1:
                    self._ends[key] = now_ms - now_ms % limit.window_ms + limit.window_ms
                if count > limit.count:
                    return limit.window_ms - now_ms % limit.window_ms
        return 0

    def _forget_ended(self, now_ms: int) -> None:
        ended = [key for key, end in self._ends.items() if end <= now_ms]
        for key in ended:
            del self._counts[key], self._ends[key]
        self._next_sweep = now_ms + 1000


class RedisCounter:
    """The same windows in Redis (``lua.COUNT``): one round trip for all of an event's limits."""

    def __init__(self, client: redis.Redis) -> None:
        self._count = client.register_script(LIMIT)

    def __call__(self, limits: Sequence[Limit], now_ms: int) -> int:
        if not limits:
            return 0
        keys = [REDIS_PREFIX + limit.window_key(now_ms) for limit in limits]
        return int(self._count(keys, [now_ms, *(limit.spec for limit in limits)]))


def counter(runtime: Runtime) -> Counter:
    """The runtime's counter for logins and refreshes: Redis when configured."""

    def build() -> Counter:
        return WindowCounter() if runtime.redis is None else RedisCounter(runtime.redis)

    return runtime.shared("rate-limit-counter", build)


def enforce(runtime: Runtime, limits: Sequence[Limit], what: str) -> None:
    """Count one ``what`` (e.g. "login attempts") and refuse it with 429 past a limit."""
    retry_after_ms = counter(runtime)(limits, time.time_ns() // 1_000_000)
    if retry_after_ms:
        retry = max(1, math.ceil(retry_after_ms / 1000))
        raise RateLimited(f"too many {what}; retry after {retry} s", {"retry_after_seconds": retry})
