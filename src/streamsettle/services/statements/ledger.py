"""Where the statements stand: the latest closed month, and one lock for all writers.

Closing a month and recording adjustments both decide "the next open statement"; the lock
serialises them so an adjustment can never land on a month closing at the same moment.
PostgreSQL: a transaction-scoped advisory lock. SQLite has one writer at a time anyway,
and the database's insert guard refuses an adjustment into a closed month in both.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, func, select, text

from streamsettle.db.models import StatementMonth

# An arbitrary constant naming the statements' advisory lock ("STMT").
_LOCK_KEY = 0x53544D54


def lock_statements(conn: Connection) -> None:
    """Hold the statements lock until the transaction ends (PostgreSQL)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})


def latest_closed_month(conn: Connection) -> date | None:
    """The first day of the latest closed month, or None before the first close."""
    return conn.scalar(select(func.max(StatementMonth.month)))


def is_closed(conn: Connection, month: date) -> bool:
    found = conn.scalar(select(StatementMonth.month).where(StatementMonth.month == month))
    return found is not None
