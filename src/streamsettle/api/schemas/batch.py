"""Bodies of the admin batch and rate card routes."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from streamsettle.api.params import IsoDate

RunStatus = Literal["running", "completed", "failed"]


class BatchRunCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    date: IsoDate


class BatchRunAccepted(BaseModel):
    run_id: int
    status: RunStatus


class BatchStepPublic(BaseModel):
    name: str
    partition: int
    status: RunStatus
    rows: int
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None


class BatchRunPublic(BaseModel):
    run_id: int
    date: dt.date
    status: RunStatus
    partitions: int
    engine: str
    worker: str
    steps: list[BatchStepPublic]
    started_at: dt.datetime
    heartbeat_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None


class BatchRunList(BaseModel):
    items: list[BatchRunPublic]


class TierIn(BaseModel):
    model_config = ConfigDict(strict=True)

    from_views: int = Field(ge=0, le=2**63 - 1)
    unit_price: str = Field(
        min_length=1, max_length=30, description='a decimal string such as "1.1"'
    )


class RateCardCreate(BaseModel):
    model_config = ConfigDict(strict=True)

    effective_from: IsoDate
    video_tiers: list[TierIn] = Field(min_length=1, max_length=100)
    ad_tiers: list[TierIn] = Field(min_length=1, max_length=100)


class TierPublic(BaseModel):
    from_views: int
    unit_price: str


class RateCardPublic(BaseModel):
    id: int
    effective_from: dt.date
    created_at: dt.datetime
    created_by: int | None
    video_tiers: list[TierPublic]
    ad_tiers: list[TierPublic]


class RateCardList(BaseModel):
    items: list[RateCardPublic]
