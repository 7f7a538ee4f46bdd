"""Test harness: a fresh PostgreSQL database per test run and a Redis database, both real.

Servers come from ``STREAMSETTLE_TEST_PG_URL`` (an admin URL to the server, default
``postgresql+psycopg://postgres@127.0.0.1:5432/postgres``) and ``STREAMSETTLE_TEST_REDIS_URL``
(default ``redis://127.0.0.1:6379``). A missing server fails the tests loudly; nothing is
mocked. Each test that asks for ``runtime`` starts from empty tables (the default rate card
stays) and an empty Redis database.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from streamsettle.app import create_app
from streamsettle.config import Settings
from streamsettle.db.base import Base
from streamsettle.db.migrate import upgrade
from streamsettle.runtime import Runtime
from tests.support.replica import ReplicaPair, replica_pair
from tests.support.servers import serve

PG_ADMIN_URL = os.environ.get(
    "STREAMSETTLE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("STREAMSETTLE_TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_SECRET = "test-secret-" + "x" * 40
KEEP_TABLES = {"rate_cards", "rate_card_tiers", "alembic_version"}
__all__ = ["replica_pair"]  # the session's primary + standby pair, built on first use


def _admin_engine() -> sa.Engine:
    return sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A database created for this test run and dropped after it."""
    name = f"streamsettle_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    except sa.exc.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}", pytrace=False)
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    upgrade(url)
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


_REDIS_CLAIM_KEY = "streamsettle-test-run"


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A Redis logical database claimed for this run alone, so parallel runs never share one.

    A run claims the first of databases 1 to 15 whose claim key it can set (``SET NX`` with
    an hour's expiry, so a killed run frees its database) and deletes the key at the end.
    """
    token = f"{os.getpid()}-{uuid.uuid4().hex}"
    for number in range(1, 16):
        client = redis.Redis.from_url(f"{REDIS_URL}/{number}")
        try:
            claimed = client.set(_REDIS_CLAIM_KEY, token, nx=True, ex=3600)
        except redis.ConnectionError as exc:
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}", pytrace=False)
        if claimed:
            break
        client.close()
    else:
        pytest.fail("every Redis database 1-15 is claimed by another test run", pytrace=False)
    yield f"{REDIS_URL}/{number}"
    if client.get(_REDIS_CLAIM_KEY) == token.encode():
        client.delete(_REDIS_CLAIM_KEY)
    client.close()


def make_settings(**overrides: object) -> Settings:
    values: dict[str, Any] = {
        "jwt_secret": TEST_SECRET,
        "embedded": False,
        "log_json": False,
        "run_flusher": False,
        "run_scheduler": False,
        # Tests log in and refresh far more often than people do; the limit tests set theirs.
        "login_rate_per_ip": 1_000_000,
        "login_rate_per_account": 1_000_000,
        "refresh_rate_per_ip": 1_000_000,
        "refresh_rate_per_account": 1_000_000,
        "password_hash_queue": 64,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


_default_card: dict[str, list[dict[str, object]]] = {}


def _remember_default_card(connection: sa.Connection) -> None:
    """Keep the migration's rate card 1 once, so that any truncation can put it back."""
    if _default_card:
        return
    for table, key in (("rate_cards", "id"), ("rate_card_tiers", "rate_card_id")):
        rows = connection.execute(sa.text(f"SELECT * FROM {table} WHERE {key} = 1")).mappings()
        _default_card[table] = [dict(r) for r in rows]
    assert _default_card["rate_cards"], "migration 0002 must create rate card 1"


def _truncate(runtime: Runtime) -> None:
    tables = [t.name for t in Base.metadata.sorted_tables if t.name not in KEEP_TABLES]
    with runtime.db.engine.begin() as connection:
        if runtime.db.is_sqlite:
            # The closed statements' guards refuse DELETE; like PostgreSQL's TRUNCATE (which
            # row triggers do not see), emptying the database goes around them.
            triggers = connection.execute(
                sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")
            ).all()
            guards = [(str(name), str(sql)) for name, sql in triggers if "_refuse_" in name]
            for name, _sql in guards:
                connection.execute(sa.text(f"DROP TRIGGER {name}"))
            for name in reversed(tables):
                connection.execute(sa.text(f"DELETE FROM {name}"))
            for _name, sql in guards:
                connection.execute(sa.text(sql))
            connection.execute(sa.text("DELETE FROM rate_card_tiers WHERE rate_card_id <> 1"))
            connection.execute(sa.text("DELETE FROM rate_cards WHERE id <> 1"))
            return
        _remember_default_card(connection)
        # CASCADE also empties rate_cards (its created_by references users): put card 1 back,
        # from the copy taken once, even if a test truncated it on its own.
        connection.execute(
            sa.text(
                f"TRUNCATE {', '.join(tables)}, rate_cards, rate_card_tiers "
                "RESTART IDENTITY CASCADE"
            )
        )
        for table in ("rate_cards", "rate_card_tiers"):
            rows = _default_card[table]
            connection.execute(sa.table(table, *map(sa.column, rows[0])).insert(), rows)
        connection.execute(sa.text("SELECT setval(pg_get_serial_sequence('rate_cards', 'id'), 1)"))


@pytest.fixture(scope="session")
def settings(pg_url: str, redis_url: str) -> Settings:
    return make_settings(database_url=pg_url, redis_url=redis_url)


@pytest.fixture(scope="session")
def _session_runtime(settings: Settings) -> Iterator[Runtime]:
    rt = Runtime.from_settings(settings)
    yield rt
    rt.close()


def _flush_keeping_claim(client: redis.Redis) -> None:
    claim = client.get(_REDIS_CLAIM_KEY)
    client.flushdb()
    if claim is not None:
        client.set(_REDIS_CLAIM_KEY, claim, ex=3600)


@pytest.fixture
def runtime(_session_runtime: Runtime) -> Runtime:
    """The PostgreSQL + Redis runtime, emptied before the test."""
    _truncate(_session_runtime)
    assert _session_runtime.redis is not None
    _flush_keeping_claim(_session_runtime.redis)
    return _session_runtime


@pytest.fixture(scope="session")
def _session_replica_runtime(replica_pair: ReplicaPair, redis_url: str) -> Iterator[Runtime]:
    settings = make_settings(
        database_url=replica_pair.primary_url,
        database_read_url=replica_pair.standby_url,
        redis_url=redis_url,
        # Paused replay must read as "behind", not "lagging", however slow the machine is;
        # the lag test sets its own threshold.
        replica_max_lag_seconds=3600,
    )
    rt = Runtime.from_settings(settings)
    yield rt
    rt.close()


@pytest.fixture
def replica_runtime(_session_replica_runtime: Runtime, replica_pair: ReplicaPair) -> Runtime:
    """A runtime on the pair's primary that reads from its hot standby, emptied before the
    test, with the standby streaming, caught up and known healthy."""
    replica_pair.ensure_streaming()
    _truncate(_session_replica_runtime)
    assert _session_replica_runtime.redis is not None
    _flush_keeping_claim(_session_replica_runtime.redis)
    replica_pair.wait_caught_up()
    assert _session_replica_runtime.db.replica is not None
    _session_replica_runtime.db.replica.refresh()
    return _session_replica_runtime


@pytest.fixture
def replica_client(replica_runtime: Runtime) -> Iterator[TestClient]:
    """The whole app over ASGI, writing to the pair's primary and reading from its standby."""
    with TestClient(create_app(replica_runtime)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def _session_sqlite_runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    path: Path = tmp_path_factory.mktemp("embedded") / "streamsettle.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    rt = Runtime.from_settings(make_settings(database_url=url, embedded=True))
    yield rt
    rt.close()


@pytest.fixture
def sqlite_runtime(_session_sqlite_runtime: Runtime) -> Runtime:
    """The embedded runtime: SQLite, no Redis, emptied before the test."""
    _truncate(_session_sqlite_runtime)
    return _session_sqlite_runtime


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    """The whole app over ASGI, on PostgreSQL + Redis."""
    with TestClient(create_app(runtime)) as test_client:
        yield test_client


@pytest.fixture
def sqlite_client(sqlite_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(sqlite_runtime)) as test_client:
        yield test_client


@pytest.fixture
def live_server(runtime: Runtime) -> Iterator[str]:
    """The app served by uvicorn on a free loopback port, for tests over real HTTP."""
    with serve(create_app(runtime)) as base:
        yield base
