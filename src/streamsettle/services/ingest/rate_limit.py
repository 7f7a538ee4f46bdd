"""Heartbeat rate limits: which one-second windows a report counts against.

The store counts them: with Redis inside its Lua call (no extra round trip), without Redis
(the embedded mode, one process) in memory (``sessions.limiter.WindowCounter``). Windows are
fixed one-second windows of the clock the caller passes in.
"""

from __future__ import annotations

import uuid

from streamsettle.config import Settings
from streamsettle.sessions import Limit


def heartbeat_limits(settings: Settings, ip: str, session_id: uuid.UUID) -> list[Limit]:
    return [
        Limit(f"ip:{ip}", settings.heartbeat_rate_per_ip),
        Limit(f"session:{session_id}", settings.heartbeat_rate_per_session),
    ]
