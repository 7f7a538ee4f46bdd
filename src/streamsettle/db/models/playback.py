"""Playback facts: live sessions (embedded store) and watch logs.

Watch logs are the only facts of the product; every daily table is derived from them.
The session id is the idempotency key: storing the same session twice changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from streamsettle.db.base import Base, BigId, IntArray, IpAddress, UTCDateTime, utcnow

Position = Numeric(12, 3)


class SessionProgress:
    """The columns of a live session's state, in integer milliseconds exactly as the Redis
    store keeps it: the embedded store's live row and the flusher's checkpoint of a Redis
    session hold the same."""

    ip: Mapped[str] = mapped_column(String(45))
    user_agent: Mapped[str] = mapped_column(Text, default="")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(BigInteger)
    ad_slots: Mapped[str] = mapped_column(Text, default="")
    """The ad placed in each slot when the session started: ``"300:5,600:"`` (no ad at 600)."""
    start_position_ms: Mapped[int] = mapped_column(BigInteger)
    position_ms: Mapped[int] = mapped_column(BigInteger)
    at_ms: Mapped[int] = mapped_column(BigInteger)
    watched_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    slots_reached: Mapped[str] = mapped_column(Text, default="")


class LivePlaybackSession(SessionProgress, Base):
    """A live session when no Redis is configured (the embedded mode)."""

    __tablename__ = "live_playback_sessions"
    __table_args__ = (
        CheckConstraint("state IN ('live', 'stopped')", name="known_state"),
        Index("ix_live_playback_sessions_state_last_seen", "state", "last_seen_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    video_id: Mapped[int] = mapped_column(BigId, ForeignKey("videos.id"))
    viewer_id: Mapped[int | None] = mapped_column(BigId, ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(10), default="live")
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class PlaybackCheckpoint(SessionProgress, Base):
    """The last checkpointed state of a live session held in Redis.

    The flusher copies the sessions changed since its previous pass here, so that losing
    Redis loses at most one flusher interval of each session's reports: a session Redis no
    longer holds is flushed from its checkpoint. The row goes when its watch log is written.
    No foreign keys: a checkpoint must never be refused; the watch log checks them.
    """

    __tablename__ = "playback_checkpoints"

    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    video_id: Mapped[int] = mapped_column(BigInteger)
    viewer_id: Mapped[int | None] = mapped_column(BigInteger)
    checkpointed_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class UserAgent(Base):
    """The dictionary of user agents: a watch log stores the id, not the text, which repeats
    across millions of rows."""

    __tablename__ = "user_agents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_agent: Mapped[str] = mapped_column(Text, unique=True)


class WatchLog(Base):
    """One ended playback session: the fact every daily table is derived from.

    Narrow on purpose (tens of millions of rows a month): integer keys, the address as
    ``inet``, the user agent as a dictionary id, positions in integer milliseconds, and the
    ad slots the session reached on the row itself: ``ad_positions`` (seconds, ascending)
    and, element for element, ``ad_ids`` (the ad that filled each slot then, NULL for an
    empty slot); both NULL when no slot was reached. On PostgreSQL the table is partitioned
    by business day (``db.partitions``), so a day's batch reads one partition and an old day
    can be archived and detached whole. The key is (session id, business date): the date
    follows from the session's start, so a retried write of the same session meets its row.
    """

    __tablename__ = "watch_logs"
    __table_args__ = (
        CheckConstraint("watched_seconds >= 0", name="watched_non_negative"),
        CheckConstraint("start_position_ms >= 0", name="start_non_negative"),
        CheckConstraint("end_position_ms >= 0", name="end_non_negative"),
        CheckConstraint("ended_at >= started_at", name="ends_after_start"),
        {"postgresql_partition_by": "RANGE (business_date)"},
    )

    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime] = mapped_column(UTCDateTime)
    session_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    video_id: Mapped[int] = mapped_column(Integer, ForeignKey("videos.id"))
    viewer_id: Mapped[int | None] = mapped_column(Integer, ForeignKey("users.id"))
    user_agent_id: Mapped[int] = mapped_column(Integer, ForeignKey("user_agents.id"))
    start_position_ms: Mapped[int] = mapped_column(Integer)
    end_position_ms: Mapped[int] = mapped_column(Integer)
    watched_seconds: Mapped[int] = mapped_column(Integer)
    ip: Mapped[str] = mapped_column(IpAddress)
    ad_positions: Mapped[list[int] | None] = mapped_column(IntArray)
    ad_ids: Mapped[list[int | None] | None] = mapped_column(IntArray)
    agent: Mapped[UserAgent] = relationship(lazy="joined")

    @property
    def user_agent(self) -> str:
        return self.agent.user_agent

    @property
    def start_position_seconds(self) -> Decimal:
        return Decimal(self.start_position_ms).scaleb(-3)

    @property
    def end_position_seconds(self) -> Decimal:
        return Decimal(self.end_position_ms).scaleb(-3)

    @property
    def ad_slots(self) -> list[tuple[int, int | None]]:
        """The reached slots as (position seconds, ad id or None), in position order."""
        return list(zip(self.ad_positions or [], self.ad_ids or [], strict=True))


class WatchLogArchive(Base):
    """A business day whose watch logs were written to a Parquet file and dropped from the
    database (PostgreSQL). Its settled results stay; the batch refuses to settle it again
    until it is restored."""

    __tablename__ = "watch_log_archives"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    path: Mapped[str] = mapped_column(Text)
    rows: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    archived_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


SMALL_BLOCK_ROWS = 10_000
"""A columnar block with fewer logs waits to be merged with its day's other small blocks."""
SMALL_BLOCK = f"rows < {SMALL_BLOCK_ROWS}"
"""The predicate of the partial index of the small blocks; the merging queries use it as is,
so that the planner matches them to the index."""


class WatchLogBlock(Base):
    """Some of a day's watch logs as one Arrow block: the columnar copy that the batch's
    columnar engines read (``db/log_blocks.py``). Written by PostgreSQL's watch-log writer
    only; never the record."""

    __tablename__ = "watch_log_blocks"
    __table_args__ = (
        Index(
            "ix_watch_log_blocks_small",
            "business_date",
            postgresql_where=text(SMALL_BLOCK),
            sqlite_where=text(SMALL_BLOCK),
        ),
    )

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    block_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class ResumePosition(Base):
    """Where a logged-in viewer left a video, written with each watch log."""

    __tablename__ = "resume_positions"

    viewer_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    video_id: Mapped[int] = mapped_column(
        BigId, ForeignKey("videos.id", ondelete="CASCADE"), primary_key=True
    )
    position_seconds: Mapped[Decimal] = mapped_column(Position)
    left_at: Mapped[datetime] = mapped_column(UTCDateTime)
