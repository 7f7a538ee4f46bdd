"""One row per (video, ad) pair and day: ``daily_video_ad_stats`` merged into
``daily_ad_settlements``.

A pair's day was written twice, once as statistics (its ad views) and once as settlement
(the same ad views, the views before, the rate card and the amount), each row with its own
indexes. No reader used the statistics row but the batch itself, which now sums a pair's
earlier days from the settlements (``ix_daily_ad_settlements_pair_date``). The settlements
already hold every pair's ad views; the statistics rows of days whose settlement is missing
(a run that failed between its steps) are recomputed when that day is run again.

Revision ID: 0011, revises 0010
"""

from alembic import op

from streamsettle.db.ddl import create_table

revision, down_revision = "0011", "0010"


def upgrade() -> None:
    op.create_index(
        "ix_daily_ad_settlements_pair_date",
        "daily_ad_settlements",
        ["video_id", "ad_id", "business_date"],
    )
    op.drop_index("ix_daily_video_ad_stats_pair_date", "daily_video_ad_stats")
    op.drop_index("ix_daily_video_ad_stats_ad_date", "daily_video_ad_stats")
    op.drop_table("daily_video_ad_stats")


def downgrade() -> None:
    create_table(
        "daily_video_ad_stats",
        "business_date:date* video_id:id* ad_id:id* ad_views:big",
        checks={"non_negative": "ad_views >= 0"},
        indexes={
            "ix_daily_video_ad_stats_ad_date": ["ad_id", "business_date"],
            "ix_daily_video_ad_stats_pair_date": ["video_id", "ad_id", "business_date"],
        },
    )
    op.execute(
        "INSERT INTO daily_video_ad_stats (business_date, video_id, ad_id, ad_views)"
        " SELECT business_date, video_id, ad_id, ad_views FROM daily_ad_settlements"
    )
    op.drop_index("ix_daily_ad_settlements_pair_date", "daily_ad_settlements")
