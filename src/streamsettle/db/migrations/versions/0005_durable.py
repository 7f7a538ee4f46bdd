"""Durable playback and revocations: live-session checkpoints and revoked token families.

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "playback_checkpoints",
        sa.Column("session_id", sa.Uuid(), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("video_id", sa.BigInteger(), nullable=False),
        sa.Column("viewer_id", sa.BigInteger(), nullable=True),
        sa.Column("ip", sa.String(length=45), nullable=False),
        sa.Column("user_agent", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_ms", sa.BigInteger(), nullable=False),
        sa.Column("ad_slots", sa.Text(), nullable=False),
        sa.Column("start_position_ms", sa.BigInteger(), nullable=False),
        sa.Column("position_ms", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("watched_ms", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("slots_reached", sa.Text(), nullable=False),
        sa.Column("checkpointed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("session_id", name=op.f("pk_playback_checkpoints")),
    )
    op.create_index(
        op.f("ix_playback_checkpoints_checkpointed_at"),
        "playback_checkpoints",
        ["checkpointed_at"],
        unique=False,
    )
    op.create_table(
        "revoked_token_families",
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("family_id", name=op.f("pk_revoked_token_families")),
    )
    op.create_index(
        op.f("ix_revoked_token_families_expires_at"),
        "revoked_token_families",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_revoked_token_families_expires_at"), table_name="revoked_token_families")
    op.drop_table("revoked_token_families")
    op.drop_index(
        op.f("ix_playback_checkpoints_checkpointed_at"), table_name="playback_checkpoints"
    )
    op.drop_table("playback_checkpoints")
