"""Seed the default rate card of rule 3.5, in force since 2000-01-01.

Revision ID: 0002, revises 0001
"""

from datetime import UTC, date, datetime
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision, down_revision = "0002", "0001"

EFFECTIVE_FROM = date(2000, 1, 1)
VIDEO_TIERS = [(0, "1.0"), (100_000, "1.1"), (500_000, "1.3"), (1_000_000, "1.5")]
AD_TIERS = [(0, "10"), (100_000, "12"), (500_000, "15"), (1_000_000, "20")]


def upgrade() -> None:
    rate_cards = sa.table(
        "rate_cards",
        sa.column("id", sa.BigInteger),
        sa.column("effective_from", sa.Date),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    tiers = sa.table(
        "rate_card_tiers",
        sa.column("rate_card_id", sa.BigInteger),
        sa.column("kind", sa.String),
        sa.column("from_views", sa.BigInteger),
        sa.column("unit_price", sa.Numeric(18, 6)),
    )
    op.bulk_insert(
        rate_cards, [{"id": 1, "effective_from": EFFECTIVE_FROM, "created_at": datetime.now(UTC)}]
    )
    op.bulk_insert(
        tiers,
        [
            {"rate_card_id": 1, "kind": kind, "from_views": f, "unit_price": Decimal(p)}
            for kind, table in (("video", VIDEO_TIERS), ("ad", AD_TIERS))
            for f, p in table
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("SELECT setval(pg_get_serial_sequence('rate_cards', 'id'), 1)")


def downgrade() -> None:
    op.execute("DELETE FROM rate_card_tiers WHERE rate_card_id = 1")
    op.execute("DELETE FROM rate_cards WHERE id = 1")
