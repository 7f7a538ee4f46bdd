"""Videos, ads and the ad slots that place an ad at a position of a video."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from streamsettle.db.base import Base, BigId, UTCDateTime, utcnow


class Video(Base):
    __tablename__ = "videos"
    __table_args__ = (
        CheckConstraint("duration_seconds BETWEEN 1 AND 86400", name="duration_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    creator_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ad_slots: Mapped[list[AdSlot]] = relationship(
        cascade="all, delete-orphan", order_by="AdSlot.position_seconds", lazy="selectin"
    )


class Ad(Base):
    __tablename__ = "ads"
    __table_args__ = (CheckConstraint("duration_seconds > 0", name="positive_duration"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    duration_seconds: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AdSlot(Base):
    """The ad currently placed at a position; past ad views keep the ad they had."""

    __tablename__ = "ad_slots"
    __table_args__ = (CheckConstraint("position_seconds > 0", name="positive_position"),)

    video_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    position_seconds: Mapped[int] = mapped_column(Integer, primary_key=True)
    ad_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("ads.id"), index=True)
