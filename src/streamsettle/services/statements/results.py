"""The shapes statements answer with (api.md "Statements"), as models.

Months are written ``YYYY-MM``; amounts are whole KRW.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from streamsettle.services.queries.results import CreatorVideoLine, SettlementDay


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True)


class StatementStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


MonthText = str


# A statement's line per video and its daily settlements: the settlement queries' shapes.
StatementLine = CreatorVideoLine
StatementDayLine = SettlementDay


class Adjustment(_Model):
    """A correction of one (video, day) of a closed month."""

    month: MonthText = Field(description="the closed month it corrects, YYYY-MM")
    date: date
    video_id: int
    amount: int = Field(description="new_amount - previous_amount, positive or negative")
    previous_amount: int = Field(description="what the statements held for that video and day")
    new_amount: int = Field(description="the daily settlement now")


class CreatorStatement(_Model):
    """One creator's statement for a month: frozen once closed, live while open.

    An open month's figures are provisional: its settled days so far, the adjustments
    waiting for it, and the payout as if it closed now."""

    creator_id: int
    month: MonthText
    status: StatementStatus
    lines: list[StatementLine]
    adjustments: list[Adjustment]
    carried_in: int
    views: int
    ad_views: int
    video_amount: int
    ad_amount: int
    total_amount: int
    adjustments_amount: int
    payable_amount: int
    paid_out: int
    carried_out: int
    payout_threshold: int
    closed_at: datetime | None = None


class StatementList(_Model):
    month: MonthText
    status: StatementStatus
    items: list[CreatorStatement]


class ClosedMonth(_Model):
    month: MonthText
    statements: int = Field(description="how many statements the month holds")
    closed_now: bool = Field(description="false when the month was already closed")
