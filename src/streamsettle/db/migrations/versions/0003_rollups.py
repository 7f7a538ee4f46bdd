"""Rollups for the admin's views: each video's week and month (top 5), each creator's day
(overview of all creators), and the indexes of a day's top 5.

Existing settled days are rolled up here once; from now on the batch keeps them up to date
for every date it settles.

Revision ID: 0003, revises 0002
"""

from alembic import op

from streamsettle.db.ddl import AMOUNTS, Fk, create_table

revision, down_revision = "0003", "0002"

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

# A day's top 5 by views and by watched time.
_DAY_INDEXES = {
    "ix_daily_video_stats_date_views": "views",
    "ix_daily_video_stats_date_watched": "watched_seconds",
}


def upgrade() -> None:
    create_table(
        "period_video_stats",
        "period:str(5)* period_start:date* video_id:id* views:big watched_seconds:big",
        checks={
            "known_period": "period IN ('week', 'month')",
            "non_negative": "views >= 0 AND watched_seconds >= 0",
        },
        fks=[Fk("video_id", "videos.id")],
        indexes={
            "ix_period_video_stats_views": ["period", "period_start", "views"],
            "ix_period_video_stats_watched": ["period", "period_start", "watched_seconds"],
        },
    )
    for index, column in _DAY_INDEXES.items():
        op.create_index(index, "daily_video_stats", ["business_date", column])
    create_table(
        "daily_creator_settlements",
        f"business_date:date* creator_id:id* {AMOUNTS}",
        checks={
            "non_negative": "views >= 0 AND ad_views >= 0 AND video_amount >= 0 AND ad_amount >= 0",
            "total_adds_up": "total_amount = video_amount + ad_amount",
        },
        fks=[Fk("creator_id", "users.id")],
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
    for index in reversed(_DAY_INDEXES):
        op.drop_index(index, table_name="daily_video_stats")
    op.drop_table("period_video_stats")
