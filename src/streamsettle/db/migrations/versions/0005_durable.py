"""Durable playback and revocations: live-session checkpoints and revoked token families.

Revision ID: 0005, revises 0004
"""

from alembic import op

from streamsettle.db.ddl import PLAYBACK_STATE, create_table

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    create_table(
        "playback_checkpoints",
        f"session_id:uuid* business_date:date video_id:big viewer_id:big? {PLAYBACK_STATE}"
        " checkpointed_at:ts^",
    )
    create_table("revoked_token_families", "family_id:uuid* expires_at:ts^")


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table("revoked_token_families")
    op.drop_table("playback_checkpoints")
