"""Durable playback and revocations: live-session checkpoints and revoked token families.

Revision ID: 0005, revises 0004
"""

from alembic import op

from streamsettle.db.ddl import PLAYBACK_STATE, create_table

revision, down_revision = "0005", "0004"


def upgrade() -> None:
    create_table(
        "playback_checkpoints",
        f"session_id:uuid business_date:date video_id:big viewer_id:big? {PLAYBACK_STATE}"
        " checkpointed_at:ts",
        pk=["session_id"],
        indexes={"ix_playback_checkpoints_checkpointed_at": ["checkpointed_at"]},
    )
    create_table(
        "revoked_token_families",
        "family_id:uuid expires_at:ts",
        pk=["family_id"],
        indexes={"ix_revoked_token_families_expires_at": ["expires_at"]},
    )


def downgrade() -> None:
    # Dropping a table drops its indexes.
    op.drop_table("revoked_token_families")
    op.drop_table("playback_checkpoints")
