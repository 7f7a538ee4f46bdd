"""Daily statistics, derived from one business day's watch logs by the batch."""

from __future__ import annotations

import uuid
from datetime import date

from sqlalchemy import BigInteger, CheckConstraint, Date, Index, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from streamsettle.db.base import Base, BigId, VideoDayRow


class DailyVideoStats(VideoDayRow, Base):
    __tablename__ = "daily_video_stats"
    __table_args__ = (
        CheckConstraint(
            "views >= 0 AND watched_seconds >= 0 AND ad_views >= 0 "
            "AND sessions >= 0 AND self_views >= 0 AND repeat_views >= 0",
            name="non_negative",
        ),
        Index("ix_daily_video_stats_creator_date", "creator_id", "business_date"),
        # A day's top 5 over all videos: read backwards through these, five rows at most.
        Index("ix_daily_video_stats_date_views", "business_date", "views"),
        Index("ix_daily_video_stats_date_watched", "business_date", "watched_seconds"),
        # The batch sums a video's earlier days (views_before) through this index.
        Index("ix_daily_video_stats_video_date", "video_id", "business_date"),
    )

    sessions: Mapped[int] = mapped_column(BigInteger)
    views: Mapped[int] = mapped_column(BigInteger)
    self_views: Mapped[int] = mapped_column(BigInteger)
    repeat_views: Mapped[int] = mapped_column(BigInteger)
    watched_seconds: Mapped[int] = mapped_column(BigInteger)
    ad_views: Mapped[int] = mapped_column(BigInteger)


class PeriodVideoStats(Base):
    """A video's views and watched seconds over one ISO week or calendar month so far.

    Derived from ``daily_video_stats`` by the batch, which recomputes the week and the
    month of the date it settles (so a re-run of any day keeps them exact): the admin's
    top 5 of a week or month then reads five rows instead of summing a month of days for
    every video. Days not yet settled are simply not in the sums.
    """

    __tablename__ = "period_video_stats"
    __table_args__ = (
        CheckConstraint("period IN ('week', 'month')", name="known_period"),
        CheckConstraint("views >= 0 AND watched_seconds >= 0", name="non_negative"),
        Index("ix_period_video_stats_views", "period", "period_start", "views"),
        Index("ix_period_video_stats_watched", "period", "period_start", "watched_seconds"),
    )

    period: Mapped[str] = mapped_column(String(5), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date, primary_key=True)
    video_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    views: Mapped[int] = mapped_column(BigInteger)
    watched_seconds: Mapped[int] = mapped_column(BigInteger)


class DailyAdStats(Base):
    __tablename__ = "daily_ad_stats"
    __table_args__ = (
        CheckConstraint("ad_views >= 0", name="non_negative"),
        Index("ix_daily_ad_stats_owner_date", "owner_id", "business_date"),
    )

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    ad_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    owner_id: Mapped[int] = mapped_column(BigId)
    ad_views: Mapped[int] = mapped_column(BigInteger)


class ViewClassification(Base):
    """The business day's watch logs that do not count (rule 3.3): ``self`` or ``repeat``.

    A log of the day with no row here was counted: writing down only the exceptions spares
    the batch a row per view (most logs count). The batch writes these rows and the daily
    statistics from one snapshot of the logs, so a log that arrives while a run is in
    progress is in neither (it marks the date for a re-run). Derived, rewritten per video id
    range on every run, and kept as the audit trail of why a session did not count. No
    foreign keys: it is bulk-written by the batch. (``counted`` is still a valid kind, not
    written.)
    """

    __tablename__ = "view_classifications"
    __table_args__ = (CheckConstraint("kind IN ('counted', 'self', 'repeat')", name="known_kind"),)

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    video_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    kind: Mapped[str] = mapped_column(String(7))
    watched_seconds: Mapped[int] = mapped_column(BigInteger)
