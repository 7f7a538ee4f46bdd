"""Heartbeat rate limits: which windows a report counts against, and an in-process counter.

With Redis the counting happens inside the session store's Lua call (no extra round trip);
without Redis (the embedded mode, one process) ``WindowCounter`` counts in memory.
Windows are fixed one-second windows of the clock the caller passes in.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence

from streamsettle.config import Settings
from streamsettle.sessions import Limit


def heartbeat_limits(settings: Settings, ip: str, session_id: uuid.UUID) -> list[Limit]:
    return [
        Limit(f"ip:{ip}", settings.heartbeat_rate_per_ip),
        Limit(f"session:{session_id}", settings.heartbeat_rate_per_session),
    ]


class WindowCounter:
    """Fixed one-second windows in memory; thread-safe, forgets windows as time moves on."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._window = -1
        self._counts: dict[str, int] = {}

    def __call__(self, limits: Sequence[Limit], now_ms: int) -> int:
        """Count one report against every limit; the ms until the window ends if one is over."""
        window = now_ms // 1000
        with self._lock:
            if window != self._window:
                self._window, self._counts = window, {}
            for limit in limits:
                count = self._counts.get(limit.key, 0) + 1
                self._counts[limit.key] = count
                if count > limit.per_second:
                    return 1000 - now_ms % 1000
        return 0
