"""Bodies of the catalogue routes: videos, ads and ad slots."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**63 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]


class _Request(BaseModel):
    model_config = ConfigDict(strict=True)


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class VideoCreate(_Request):
    title: str = Field(min_length=1, max_length=300)
    duration_seconds: int = Field(ge=1, le=86_400)


class AdSlotPlacement(_Request):
    position_seconds: int = Field(description="0 < position < the video's duration")
    ad_id: DbId


class AdSlotPublic(_Public):
    position_seconds: int
    ad_id: int | None = Field(description="null when no ad was active to fill the slot")


class VideoPublic(_Public):
    id: int
    creator_id: int
    title: str
    duration_seconds: int
    created_at: datetime
    ad_slots: list[AdSlotPublic]


class VideoPage(BaseModel):
    items: list[VideoPublic]
    total: int
    limit: int
    offset: int


class AdCreate(_Request):
    title: str = Field(min_length=1, max_length=300)
    duration_seconds: int = Field(ge=1, le=3_600)
    active: bool = True


class AdUpdate(_Request):
    title: str | None = Field(default=None, min_length=1, max_length=300)
    active: bool | None = None


class AdPublic(_Public):
    id: int
    owner_id: int
    title: str
    duration_seconds: int
    active: bool
    created_at: datetime


class AdPage(BaseModel):
    items: list[AdPublic]
    total: int
    limit: int
    offset: int
