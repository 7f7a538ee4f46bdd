"""The in-process rate-limit counter of the database store (the embedded mode, one process);
with Redis the counting happens inside the store's Lua call instead."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from streamsettle.sessions.base import Limit


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
