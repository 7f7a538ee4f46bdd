"""The shapes that statistics and settlement queries answer with (the API's JSON, as models).

Amounts and counts are whole integers. ``from`` is a Python keyword, so the field is
``from_`` and serialises under its alias ``from``.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from streamsettle.domain.periods import DateRange, Period


class Metric(StrEnum):
    VIEWS = "views"
    WATCHED_SECONDS = "watched_seconds"


class _Model(BaseModel):
    model_config = ConfigDict(
        frozen=True, validate_by_name=True, validate_by_alias=True, serialize_by_alias=True
    )


class _Window(_Model):
    """The period asked for and the dates it covers, both inclusive."""

    period: Period
    from_: date = Field(alias="from")
    to: date

    @property
    def range(self) -> DateRange:
        return DateRange(self.from_, self.to)


class TopVideo(_Model):
    rank: int
    video_id: int
    title: str
    views: int
    watched_seconds: int


class TopVideos(_Window):
    metric: Metric
    items: list[TopVideo]


class TopAd(_Model):
    rank: int
    ad_id: int
    title: str
    ad_views: int


class TopAds(_Window):
    items: list[TopAd]


class Amounts(_Model):
    views: int = 0
    ad_views: int = 0
    video_amount: int = 0
    ad_amount: int = 0
    total_amount: int = 0


class SettlementDay(Amounts):
    date: date


class VideoSettlement(_Window):
    video_id: int
    title: str
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int
    days: list[SettlementDay]


class CreatorVideoLine(Amounts):
    video_id: int
    title: str


class CreatorSettlement(_Window):
    """A creator's totals; ``videos`` lists only videos with a settled day in the period."""

    creator_id: int
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int
    videos: list[CreatorVideoLine]
    days: list[SettlementDay]


class AdSettlementDay(_Model):
    date: date
    ad_views: int
    amount: int


class AdSettlement(_Window):
    ad_id: int
    title: str
    ad_views: int
    amount: int
    days: list[AdSettlementDay]


class CreatorTotal(Amounts):
    creator_id: int
    display_name: str
    email: str


class CreatorsOverview(_Window):
    """All creators' totals for a period (admin): the grand total and the top creators."""

    creators_count: int
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int
    creators: list[CreatorTotal]
    days: list[SettlementDay]


class BatchRunLine(_Model):
    run_id: int
    date: date
    status: str
    started_at: datetime
    finished_at: datetime | None
    error: str | None
