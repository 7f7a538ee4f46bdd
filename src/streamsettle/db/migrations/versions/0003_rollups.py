"""Rollups for the admin's views: each video's week and month (top 5), each creator's day
(overview of all creators), and the indexes of a day's top 5.

Existing settled days are rolled up here once; from now on the batch keeps them up to date
for every date it settles.

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The ISO week's Monday and the month's first day of a business date, per dialect.
_STARTS = {
    "postgresql": (
        "date_trunc('week', business_date)::date",
        "date_trunc('month', business_date)::date",
    ),
    "sqlite": (
        "date(business_date, '-' || ((CAST(strftime('%w', business_date) AS INTEGER) + 6) % 7)"
        " || ' days')",
        "date(business_date, 'start of month')",
    ),
}


def upgrade() -> None:
    op.create_table(
        "period_video_stats",
        sa.Column("period", sa.String(length=5), nullable=False),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("video_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("watched_seconds", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "period IN ('week', 'month')", name=op.f("ck_period_video_stats_known_period")
        ),
        sa.CheckConstraint(
            "views >= 0 AND watched_seconds >= 0", name=op.f("ck_period_video_stats_non_negative")
        ),
        sa.ForeignKeyConstraint(
            ["video_id"], ["videos.id"], name=op.f("fk_period_video_stats_video_id_videos")
        ),
        sa.PrimaryKeyConstraint(
            "period", "period_start", "video_id", name=op.f("pk_period_video_stats")
        ),
    )
    op.create_index(
        "ix_period_video_stats_views", "period_video_stats", ["period", "period_start", "views"]
    )
    op.create_index(
        "ix_period_video_stats_watched",
        "period_video_stats",
        ["period", "period_start", "watched_seconds"],
    )
    op.create_index(
        "ix_daily_video_stats_date_views", "daily_video_stats", ["business_date", "views"]
    )
    op.create_index(
        "ix_daily_video_stats_date_watched",
        "daily_video_stats",
        ["business_date", "watched_seconds"],
    )
    op.create_table(
        "daily_creator_settlements",
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column(
            "creator_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False
        ),
        sa.Column("views", sa.BigInteger(), nullable=False),
        sa.Column("ad_views", sa.BigInteger(), nullable=False),
        sa.Column("video_amount", sa.BigInteger(), nullable=False),
        sa.Column("ad_amount", sa.BigInteger(), nullable=False),
        sa.Column("total_amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint(
            "views >= 0 AND ad_views >= 0 AND video_amount >= 0 AND ad_amount >= 0",
            name=op.f("ck_daily_creator_settlements_non_negative"),
        ),
        sa.CheckConstraint(
            "total_amount = video_amount + ad_amount",
            name=op.f("ck_daily_creator_settlements_total_adds_up"),
        ),
        sa.ForeignKeyConstraint(
            ["creator_id"],
            ["users.id"],
            name=op.f("fk_daily_creator_settlements_creator_id_users"),
        ),
        sa.PrimaryKeyConstraint(
            "business_date", "creator_id", name=op.f("pk_daily_creator_settlements")
        ),
    )
    op.execute(
        "INSERT INTO daily_creator_settlements (business_date, creator_id, views, ad_views, "
        "video_amount, ad_amount, total_amount) SELECT business_date, creator_id, sum(views), "
        "sum(ad_views), sum(video_amount), sum(ad_amount), sum(total_amount) "
        "FROM daily_settlements GROUP BY business_date, creator_id"
    )
    week_start, month_start = _STARTS[op.get_bind().dialect.name]
    for period, start in (("week", week_start), ("month", month_start)):
        # Constants of this file only: nothing from outside reaches the statement.
        rollup = (
            "INSERT INTO period_video_stats (period, period_start, video_id, views, "  # noqa: S608
            f"watched_seconds) SELECT '{period}', {start}, video_id, sum(views), "
            f"sum(watched_seconds) FROM daily_video_stats GROUP BY {start}, video_id"
        )
        op.execute(rollup)


def downgrade() -> None:
    op.drop_table("daily_creator_settlements")
    op.drop_index("ix_daily_video_stats_date_watched", table_name="daily_video_stats")
    op.drop_index("ix_daily_video_stats_date_views", table_name="daily_video_stats")
    op.drop_index("ix_period_video_stats_watched", table_name="period_video_stats")
    op.drop_index("ix_period_video_stats_views", table_name="period_video_stats")
    op.drop_table("period_video_stats")
