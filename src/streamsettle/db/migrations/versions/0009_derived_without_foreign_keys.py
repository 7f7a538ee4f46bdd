"""The batch's derived tables lose their foreign keys (like ``view_classifications``).

A foreign key is checked row by row by a trigger that also locks the referenced row: on a
day of 10 M logs that is 70 % of writing the results back. The batch writes only ids
read from one snapshot of the catalogue and checks them in bulk before it commits
(``services/batch/sql/check_references.sql``); nothing in the application deletes a
video, an ad, a user or a rate card.

Revision ID: 0009, revises 0008
"""

from alembic import op

revision, down_revision = "0009", "0008"

# (table, column, referred table) of every foreign key of a derived table.
FOREIGN_KEYS = (
    ("daily_video_stats", "video_id", "videos"),
    ("daily_video_stats", "creator_id", "users"),
    ("period_video_stats", "video_id", "videos"),
    ("daily_video_ad_stats", "video_id", "videos"),
    ("daily_video_ad_stats", "ad_id", "ads"),
    ("daily_ad_stats", "ad_id", "ads"),
    ("daily_ad_stats", "owner_id", "users"),
    ("daily_settlements", "video_id", "videos"),
    ("daily_settlements", "creator_id", "users"),
    ("daily_settlements", "rate_card_id", "rate_cards"),
    ("daily_creator_settlements", "creator_id", "users"),
    ("daily_ad_settlements", "video_id", "videos"),
    ("daily_ad_settlements", "ad_id", "ads"),
    ("daily_ad_settlements", "rate_card_id", "rate_cards"),
)


def _tables() -> list[str]:
    return list(dict.fromkeys(table for table, _, _ in FOREIGN_KEYS))


def upgrade() -> None:
    for table in _tables():
        # SQLite rebuilds the table; PostgreSQL drops the constraints in place.
        with op.batch_alter_table(table) as batch:
            for name, column, referred in FOREIGN_KEYS:
                if name == table:
                    batch.drop_constraint(f"fk_{table}_{column}_{referred}", type_="foreignkey")


def downgrade() -> None:
    for table in _tables():
        with op.batch_alter_table(table) as batch:
            for name, column, referred in FOREIGN_KEYS:
                if name == table:
                    batch.create_foreign_key(
                        f"fk_{table}_{column}_{referred}", referred, [column], ["id"]
                    )
