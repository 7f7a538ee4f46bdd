"""Rate cards (versioned tiered prices) and the daily settlements priced with them.

Amounts are whole KRW in BIGINT columns; unit prices are exact NUMERIC.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Numeric,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from streamsettle.db.base import Base, BigId, UTCDateTime, VideoDayRow, utcnow

UnitPrice = Numeric(18, 6)


class RateCard(Base):
    __tablename__ = "rate_cards"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))

    tiers: Mapped[list[RateCardTier]] = relationship(
        cascade="all, delete-orphan",
        order_by="(RateCardTier.kind, RateCardTier.from_views)",
        lazy="selectin",
    )


class RateCardTier(Base):
    __tablename__ = "rate_card_tiers"
    __table_args__ = (
        CheckConstraint("kind IN ('video', 'ad')", name="known_kind"),
        CheckConstraint("from_views >= 0", name="from_non_negative"),
        CheckConstraint("unit_price >= 0", name="price_non_negative"),
    )

    rate_card_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("rate_cards.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(5), primary_key=True)
    from_views: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    unit_price: Mapped[Decimal] = mapped_column(UnitPrice)


class SettledFigures:
    """What a day's settlement of a video, or of all a creator's videos, adds up to."""

    views: Mapped[int] = mapped_column(BigInteger)
    ad_views: Mapped[int] = mapped_column(BigInteger)
    video_amount: Mapped[int] = mapped_column(BigInteger)
    ad_amount: Mapped[int] = mapped_column(BigInteger)
    total_amount: Mapped[int] = mapped_column(BigInteger)

    @staticmethod
    def total_adds_up() -> CheckConstraint:
        return CheckConstraint("total_amount = video_amount + ad_amount", name="total_adds_up")


class DailySettlement(VideoDayRow, SettledFigures, Base):
    """A video's earnings for one business day."""

    __tablename__ = "daily_settlements"
    __table_args__ = (
        CheckConstraint(
            "views >= 0 AND ad_views >= 0 AND views_before >= 0 "
            "AND video_amount >= 0 AND ad_amount >= 0",
            name="non_negative",
        ),
        SettledFigures.total_adds_up(),
        Index("ix_daily_settlements_creator_date", "creator_id", "business_date"),
        # One video's days for a period (the primary key leads with the date).
        Index("ix_daily_settlements_video_date", "video_id", "business_date"),
    )

    rate_card_id: Mapped[int] = mapped_column(BigId)
    views_before: Mapped[int] = mapped_column(BigInteger)


class DailyCreatorSettlement(SettledFigures, Base):
    """A creator's earnings for one business day: the sum of their videos' daily settlements.

    Written by the batch's ``creator_totals`` step (after every partition has settled), so
    the admin overview of all creators reads one row per creator and day instead of one
    per video and day.
    """

    __tablename__ = "daily_creator_settlements"
    __table_args__ = (
        CheckConstraint(
            "views >= 0 AND ad_views >= 0 AND video_amount >= 0 AND ad_amount >= 0",
            name="non_negative",
        ),
        SettledFigures.total_adds_up(),
    )

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    creator_id: Mapped[int] = mapped_column(BigId, primary_key=True)


class DailyAdSettlement(Base):
    """One (video, ad) pair's day: its ad views (the unit ad pricing works on) and their
    earnings, truncated per pair (rule 3.6)."""

    __tablename__ = "daily_ad_settlements"
    __table_args__ = (
        CheckConstraint(
            "ad_views >= 0 AND ad_views_before >= 0 AND amount >= 0", name="non_negative"
        ),
        Index("ix_daily_ad_settlements_ad_date", "ad_id", "business_date"),
        # The batch sums a pair's earlier days (ad_views_before) through this index.
        Index("ix_daily_ad_settlements_pair_date", "video_id", "ad_id", "business_date"),
    )

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    video_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ad_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rate_card_id: Mapped[int] = mapped_column(BigId)
    ad_views: Mapped[int] = mapped_column(BigInteger)
    ad_views_before: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
