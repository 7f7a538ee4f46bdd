"""The live session store: one interface, a Redis implementation and a database one."""

from streamsettle.sessions.base import (
    Limit,
    LiveSession,
    Report,
    ReportOutcome,
    ReportStatus,
    SessionState,
    SessionStore,
)
from streamsettle.sessions.db_store import DatabaseSessionStore
from streamsettle.sessions.redis_store import RedisSessionStore

__all__ = [
    "DatabaseSessionStore",
    "Limit",
    "LiveSession",
    "RedisSessionStore",
    "Report",
    "ReportOutcome",
    "ReportStatus",
    "SessionState",
    "SessionStore",
]
