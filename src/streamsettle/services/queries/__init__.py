"""Read-side use cases: statistics and settlements, answered from the daily tables only.

The watch logs are never scanned here; every number comes from the rows the batch wrote
(``daily_video_stats``, ``daily_ad_stats``, ``daily_settlements``, ``daily_ad_settlements``).
Callers pass a session on the read engine.
"""

from streamsettle.services.queries.batch_runs import latest_batch_runs
from streamsettle.services.queries.results import (
    AdSettlement,
    BatchRunLine,
    CreatorSettlement,
    CreatorsOverview,
    Metric,
    TopAds,
    TopVideos,
    VideoSettlement,
)
from streamsettle.services.queries.settlements import (
    ad_settlement,
    creator_settlement,
    creators_overview,
    video_settlement,
)
from streamsettle.services.queries.stats import top_ads, top_videos
from streamsettle.services.queries.window import period_dates

__all__ = [
    "AdSettlement",
    "BatchRunLine",
    "CreatorSettlement",
    "CreatorsOverview",
    "Metric",
    "TopAds",
    "TopVideos",
    "VideoSettlement",
    "ad_settlement",
    "creator_settlement",
    "creators_overview",
    "latest_batch_runs",
    "period_dates",
    "top_ads",
    "top_videos",
    "video_settlement",
]
