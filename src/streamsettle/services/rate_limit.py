"""Rate limits: which windows an event counts against, and refusing it past them.

One concept for every limit: a ``Limit`` allows ``count`` events per fixed window of
``window_ms`` for a key (an address, a session, an account). The runtime's counter counts
them (``sessions.limiter``): with Redis shared by every API node (heartbeats count inside
the session store's own Lua call, logins and refreshes with ``RedisCounter``); without
Redis (the embedded mode, one process) ``WindowCounter`` counts in memory.

An unreachable Redis is an error (the request answers 503), never a reason to let
everything through.
"""

from __future__ import annotations

import hashlib
import math
import time
import uuid
from collections.abc import Sequence

from streamsettle.config import Settings
from streamsettle.errors import RateLimited
from streamsettle.runtime import Runtime
from streamsettle.sessions import Limit


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


def enforce(runtime: Runtime, limits: Sequence[Limit], what: str) -> None:
    """Count one ``what`` (e.g. "login attempts") and refuse it with 429 past a limit."""
    retry_after_ms = runtime.counter(limits, time.time_ns() // 1_000_000)
    if retry_after_ms:
        retry = max(1, math.ceil(retry_after_ms / 1000))
        raise RateLimited(f"too many {what}; retry after {retry} s", {"retry_after_seconds": retry})
