"""What a columnar engine is given and what it gives back: one business day as Arrow tables.

An engine is a function from ``DayInputs`` to ``DayResults``: it never reads or writes the
database itself, so every engine can be checked against the pure domain rules on the same
inputs, and the runner extracts and writes back the same way whichever engine computed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pyarrow as pa

from streamsettle.domain.pricing import RateCard

SESSION_ID = pa.binary(16)
UNIT_PRICE = pa.decimal128(18, 6)

LOGS_SCHEMA = pa.schema(
    [
        ("session_id", SESSION_ID),
        ("business_date", pa.date32()),
        ("video_id", pa.int32()),
        ("viewer_id", pa.int32()),
        ("ip", pa.binary()),
        ("started_at", pa.timestamp("us")),
        ("watched_seconds", pa.int32()),
        ("ad_ids", pa.list_(pa.int32())),
    ]
)
"""The day's watch logs plus the tail of earlier days inside the repeat window (whose
``watched_seconds`` and ``ad_ids`` are unused). ``session_id`` holds the UUID's 16 bytes
(compared bytewise, as PostgreSQL orders uuid), ``ip`` any exact encoding of the address
(compared for equality only), ``started_at`` UTC."""

VIDEOS_SCHEMA = pa.schema([("video_id", pa.int64()), ("creator_id", pa.int64())])
ADS_SCHEMA = pa.schema([("ad_id", pa.int64()), ("owner_id", pa.int64())])
VIDEO_BEFORE_SCHEMA = pa.schema([("video_id", pa.int64()), ("views_before", pa.int64())])
PAIR_BEFORE_SCHEMA = pa.schema(
    [("video_id", pa.int64()), ("ad_id", pa.int64()), ("ad_views_before", pa.int64())]
)
TIERS_SCHEMA = pa.schema(
    [("kind", pa.string()), ("from_views", pa.int64()), ("unit_price", UNIT_PRICE)]
)

# The result tables, named and ordered as the database tables the runner writes them to.
RESULT_COLUMNS: dict[str, tuple[str, ...]] = {
    "view_classifications": (
        "business_date", "video_id", "session_id", "kind", "watched_seconds",
    ),
    "daily_video_stats": (
        "business_date", "video_id", "creator_id", "sessions", "views", "self_views",
        "repeat_views", "watched_seconds", "ad_views",
    ),
    "daily_ad_stats": ("business_date", "ad_id", "owner_id", "ad_views"),
    "daily_ad_settlements": (
        "business_date", "video_id", "ad_id", "rate_card_id", "ad_views", "ad_views_before",
        "amount",
    ),
    "daily_settlements": (
        "business_date", "video_id", "creator_id", "rate_card_id", "views", "views_before",
        "ad_views", "video_amount", "ad_amount", "total_amount",
    ),
    "daily_creator_settlements": (
        "business_date", "creator_id", "views", "ad_views", "video_amount", "ad_amount",
        "total_amount",
    ),
}  # fmt: skip
PER_VIDEO = (
    "view_classifications",
    "daily_video_stats",
    "daily_ad_settlements",
    "daily_settlements",
)
"""Result tables keyed by video id: written per partition (video id range)."""
TOTALS = ("daily_ad_stats", "daily_creator_settlements")
"""Result tables over all videos: written once, after every partition."""


@dataclass(frozen=True)
class DayParams:
    day: date
    window: timedelta
    rate_card_id: int

    @property
    def window_seconds(self) -> int:
        """The repeat window in whole seconds (the setting is an integer of seconds)."""
        seconds, rest = divmod(self.window, timedelta(seconds=1))
        if rest:
            raise ValueError(f"the repeat window must be whole seconds, got {self.window}")
        return int(seconds)


@dataclass(frozen=True)
class DayInputs:
    """Everything the rules of one day need (schemas above)."""

    params: DayParams
    logs: pa.Table
    videos: pa.Table
    ads: pa.Table
    video_before: pa.Table
    pair_before: pa.Table
    tiers: pa.Table
    logs_source: str = "table"
    """Where the day's logs were read: ``blocks`` (their columnar copy) or ``table``."""

    def tables(self) -> dict[str, pa.Table]:
        return {
            "logs": self.logs,
            "videos": self.videos,
            "ads": self.ads,
            "video_before": self.video_before,
            "pair_before": self.pair_before,
            "tiers": self.tiers,
        }


@dataclass(frozen=True)
class DayResults:
    """The result tables by name (``RESULT_COLUMNS``); money in whole KRW (int64)."""

    tables: dict[str, pa.Table]

    def rows(self, name: str) -> list[tuple[object, ...]]:
        """One table's rows as sorted tuples: equal lists mean identical results."""
        table = self.tables[name].select(list(RESULT_COLUMNS[name]))
        return sorted(tuple(row.values()) for row in table.to_pylist())

    @property
    def row_count(self) -> int:
        return sum(table.num_rows for table in self.tables.values())


def tiers_table(card: RateCard) -> pa.Table:
    """The rate card's tiers as the ``tiers`` input."""
    rows: list[tuple[str, int, Decimal]] = [
        (kind, tier.from_views, tier.unit_price)
        for kind, schedule in (("video", card.video_tiers), ("ad", card.ad_tiers))
        for tier in schedule.tiers
    ]
    return pa.table(
        {
            "kind": pa.array([r[0] for r in rows], pa.string()),
            "from_views": pa.array([r[1] for r in rows], pa.int64()),
            "unit_price": pa.array([r[2] for r in rows], UNIT_PRICE),
        }
    )
