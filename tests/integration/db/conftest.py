"""Scratch databases for migration tests: one fresh PostgreSQL database or SQLite file each."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get(
    "STREAMSETTLE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


@pytest.fixture
def scratch_pg_url() -> Iterator[str]:
    name = f"streamsettle_migrations_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def scratch_sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'migrations.db'}"


@pytest.fixture(params=["postgresql", "sqlite"])
def scratch_url(request: pytest.FixtureRequest) -> str:
    """A fresh database of each kind in turn."""
    name = "scratch_pg_url" if request.param == "postgresql" else "scratch_sqlite_url"
    url: str = request.getfixturevalue(name)
    return url
