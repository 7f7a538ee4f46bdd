"""Alembic environment: the URL comes from the config that ``streamsettle migrate`` builds."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from streamsettle.db import models  # noqa: F401  (registers every table)
from streamsettle.db.base import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url, "sqlalchemy.url is not set"
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    connectable.dispose()


run_migrations_online()
