"""The job repository of the daily batch: one run per attempt at a business date."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from streamsettle.db.base import Base, BigId, UTCDateTime, utcnow

RUN_STATUSES = ("running", "completed", "failed")


class BatchRun(Base):
    __tablename__ = "batch_runs"
    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUSES!r}", name="known_status"),
        Index(
            "uq_batch_runs_one_running_per_date",
            "business_date",
            unique=True,
            postgresql_where=text("status = 'running'"),
            sqlite_where=text("status = 'running'"),
        ),
        Index("ix_batch_runs_business_date", "business_date"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    business_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="running")
    partitions: Mapped[int] = mapped_column(Integer, default=1)
    worker: Mapped[str] = mapped_column(String(200), default="")
    engine: Mapped[str] = mapped_column(String(10), default="sql", server_default="sql")
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    steps: Mapped[list[BatchStep]] = relationship(
        cascade="all, delete-orphan", order_by="BatchStep.id", lazy="selectin"
    )


class BatchStep(Base):
    __tablename__ = "batch_steps"
    __table_args__ = (
        CheckConstraint(f"status IN {RUN_STATUSES!r}", name="known_status"),
        UniqueConstraint("run_id", "name", "partition"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(BigId, ForeignKey("batch_runs.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    partition: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="running")
    rows: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class Lease(Base):
    """A named lease so that only one server runs a scheduled job at a time."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RerunMark(Base):
    """A batch-run date that got new watch logs after a run began: it must be settled again.

    Written only by the database (the ``watch_logs`` insert trigger of migration 0006, so
    every writer is covered in its own transaction); ``version`` grows with every marking
    insert, so a run clears the mark only if nothing marked the date again since it read
    the logs. ``marked_at`` is when the date was first marked.
    """

    __tablename__ = "rerun_marks"

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, default=1)
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
