"""The rate-limit counters: fixed windows counted in memory (the embedded mode, one process)
or in Redis (shared by every API node; heartbeats count inside the session store's own Lua
call instead). A counter answers 0 to let an event through, else the milliseconds until
the window that refused it ends. Which limits an event counts against is the services'
business (``services.rate_limit``); the runtime chooses the counter."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import redis

from streamsettle.sessions.base import Limit
from streamsettle.sessions.lua import LIMIT

Counter = Callable[[Sequence[Limit], int], int]
"""``(limits, now_ms) -> retry_after_ms`` (0 when allowed); counts the event."""

REDIS_PREFIX = "auth:"


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
    """The same windows in Redis (``lua.LIMIT``): one round trip for all of an event's limits."""

    def __init__(self, client: redis.Redis) -> None:
        self._count = client.register_script(LIMIT)

    def __call__(self, limits: Sequence[Limit], now_ms: int) -> int:
        if not limits:
            return 0
        keys = [REDIS_PREFIX + limit.window_key(now_ms) for limit in limits]
        return int(self._count(keys, [now_ms, *(limit.spec for limit in limits)]))
