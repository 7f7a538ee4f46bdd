"""The engine that computed a batch run: sql (in the database), duckdb or spark.

Earlier runs were all computed in the database: they read ``sql``. A plain ``ADD COLUMN``
on both databases (SQLite's table rebuild would trip over the watch_logs trigger that
reads ``batch_runs``).

Revision ID: 0008, revises 0007
"""

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0008", "0007"


def upgrade() -> None:
    op.add_column(
        "batch_runs", sa.Column("engine", sa.String(10), nullable=False, server_default="sql")
    )


def downgrade() -> None:
    op.drop_column("batch_runs", "engine")
