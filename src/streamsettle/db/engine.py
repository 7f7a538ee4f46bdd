"""Engines and sessions: writes go to the primary, statistics reads to the read engine.

The read engine defaults to the primary. Point ``STREAMSETTLE_DATABASE_READ_URL`` at a
PostgreSQL streaming replica to take the dashboards' load off the primary: read sessions are
then routed by ``db.replica`` (read-your-writes, lag and outage fallback).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import redis
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from streamsettle.config import Settings
from streamsettle.db.replica import (
    NOT_CONFIGURED,
    READ_SESSIONS,
    LocalWriteMarks,
    RedisWriteMarks,
    ReplicaRouter,
    ReplicaStatus,
    WriteMarks,
)

_KEEPALIVE = {
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
}
"""TCP keepalives, so that an idle pooled connection to a vanished server is noticed."""

TCP_USER_TIMEOUT_MS = 10_000
"""A query sent to a server that stopped answering fails after this, not after minutes."""


def _make_engine(url: str, *, connect_timeout: int, pool_timeout: float) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    # A dead server fails a request in about ``connect_timeout`` seconds (a 503), and the
    # pre-ping replaces connections that died meanwhile, so a restarted server is used again
    # without restarting the process.
    connect_args = {
        "connect_timeout": connect_timeout,
        "tcp_user_timeout": TCP_USER_TIMEOUT_MS,
        **_KEEPALIVE,
    }
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=pool_timeout,
        connect_args=connect_args,
    )


def insert_on_conflict(table: Any, dialect: str) -> postgresql.Insert | sqlite.Insert:
    """The dialect's ``INSERT`` that takes ``ON CONFLICT`` clauses (the two share them)."""
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


class Database:
    """The primary (write) engine, the read engine and their session factories."""

    def __init__(
        self,
        url: str,
        read_url: str | None = None,
        *,
        connect_timeout: int = 2,
        pool_timeout: float = 5.0,
        settings: Settings | None = None,
        redis_client: redis.Redis | None = None,
    ) -> None:
        self.url = url

        def engine(address: str) -> Engine:
            return _make_engine(address, connect_timeout=connect_timeout, pool_timeout=pool_timeout)

        # A replica that cannot be reached fails within the connect timeout: the read then
        # goes to the primary.
        self.engine = engine(url)
        self.read_engine = self.engine if not read_url or read_url == url else engine(read_url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(self.read_engine, expire_on_commit=False)
        self.replica: ReplicaRouter | None = None
        dialects = {self.engine.dialect.name, self.read_engine.dialect.name}
        if self.read_engine is not self.engine and dialects == {"postgresql"}:
            self.replica = _router(self.engine, self.read_engine, settings, redis_client)

    @classmethod
    def from_settings(cls, settings: Settings, redis_client: redis.Redis | None = None) -> Database:
        return cls(
            settings.database_url,
            settings.database_read_url,
            connect_timeout=settings.database_connect_timeout_seconds,
            pool_timeout=settings.database_pool_timeout_seconds,
            settings=settings,
            redis_client=redis_client,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def insert(self, table: Any) -> postgresql.Insert | sqlite.Insert:
        """``INSERT`` into ``table`` that takes ``ON CONFLICT`` clauses, for this database."""
        return insert_on_conflict(table, self.engine.dialect.name)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write unit of work: committed on success, rolled back on any error."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def read_session(self, user_id: int | None = None) -> Iterator[Session]:
        """A session for statistics and settlement reads, on the replica when it may serve
        ``user_id`` (see ``db.replica``), else on the primary."""
        if self.replica is None:
            with self._read_sessions() as session:
                yield session
            return
        target, reason = self.replica.choose(user_id)
        if target == "replica":
            session = self._read_sessions()
            try:
                session.connection()  # fails now, not mid-query, if the replica is gone
            except SQLAlchemyError as exc:
                session.close()
                self.replica.mark_down(type(exc).__name__)
                target, reason = "primary", "replica unreachable"
        if target == "primary":
            session = self._sessions()
        READ_SESSIONS.labels(target, reason).inc()
        with session:
            yield session

    def replica_status(self) -> ReplicaStatus:
        return NOT_CONFIGURED if self.replica is None else self.replica.status()

    @contextmanager
    def writes_by(self, user_id: int | None) -> Iterator[None]:
        """Wrap a user's write: their reads stay on the primary until the replica has it."""
        if self.replica is None or user_id is None:
            yield
            return
        with self.replica.writing(user_id):
            yield

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()


def _router(
    primary: Engine, replica: Engine, settings: Settings | None, client: redis.Redis | None
) -> ReplicaRouter:
    settings = settings or Settings.model_construct()  # the defaults
    ttl = settings.read_your_writes_seconds
    marks: WriteMarks = RedisWriteMarks(client, ttl) if client else LocalWriteMarks(ttl)
    return ReplicaRouter(
        primary,
        replica,
        marks,
        max_lag_seconds=settings.replica_max_lag_seconds,
        check_interval_seconds=settings.replica_check_interval_seconds,
        catch_up_wait_seconds=settings.replica_catch_up_wait_ms / 1000,
    )
