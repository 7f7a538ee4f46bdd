"""Monthly statements (product.md 3.8): closed months, their frozen rows, and adjustments.

Only closed statements are stored: an open month is computed from the daily settlements
when it is read. Every row of ``statement_months``, ``statements``, ``statement_lines``
and ``statement_days`` is part of an issued document, and ``statement_adjustments`` is an
append-only ledger: migration 0006 installs triggers that refuse any UPDATE or DELETE of
them, and any insert into a month that is already closed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from streamsettle.db.base import Base, BigId, UTCDateTime, utcnow
from streamsettle.db.models.settlement import SettledFigures


class StatementMonth(Base):
    """A closed calendar month (``month`` is its first day); written last by the close."""

    __tablename__ = "statement_months"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    payout_threshold: Mapped[int] = mapped_column(BigInteger)
    statements: Mapped[int] = mapped_column(BigInteger)


class Statement(SettledFigures, Base):
    """One creator's closed statement for one month."""

    __tablename__ = "statements"
    __table_args__ = (
        CheckConstraint(
            "payable_amount = carried_in + total_amount + adjustments_amount",
            name="payable_adds_up",
        ),
        CheckConstraint("paid_out + carried_out = payable_amount", name="payout_adds_up"),
        CheckConstraint("paid_out >= 0", name="payout_non_negative"),
        SettledFigures.total_adds_up(),
        Index("ix_statements_creator_month", "creator_id", "month"),
    )

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    creator_id: Mapped[int] = mapped_column(BigId, ForeignKey("users.id"), primary_key=True)
    carried_in: Mapped[int] = mapped_column(BigInteger)
    adjustments_amount: Mapped[int] = mapped_column(BigInteger)
    payable_amount: Mapped[int] = mapped_column(BigInteger)
    paid_out: Mapped[int] = mapped_column(BigInteger)
    carried_out: Mapped[int] = mapped_column(BigInteger)


class StatementLine(SettledFigures, Base):
    """A video's month on a closed statement (its title as it was at the close)."""

    __tablename__ = "statement_lines"
    __table_args__ = (
        ForeignKeyConstraint(
            ["month", "creator_id"], ["statements.month", "statements.creator_id"]
        ),
    )

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    creator_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    video_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    title: Mapped[str] = mapped_column(String(300))


class StatementDay(SettledFigures, Base):
    """A daily settlement as a closed statement holds it: what later adjustments correct."""

    __tablename__ = "statement_days"
    __table_args__ = (Index("ix_statement_days_month_creator", "month", "creator_id"),)

    business_date: Mapped[date] = mapped_column(Date, primary_key=True)
    video_id: Mapped[int] = mapped_column(BigId, primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(BigId)


class StatementAdjustment(Base):
    """A correction of a (video, day) of a closed month, carried by a later statement.

    ``amount`` = ``new_amount`` - ``previous_amount``, where ``previous_amount`` is what the
    closed statement held plus every earlier adjustment of that (video, day).
    """

    __tablename__ = "statement_adjustments"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="non_zero"),
        CheckConstraint("amount = new_amount - previous_amount", name="amount_adds_up"),
        Index("ix_statement_adjustments_date_video", "business_date", "video_id"),
        Index("ix_statement_adjustments_month_creator", "statement_month", "creator_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    statement_month: Mapped[date] = mapped_column(Date)
    creator_id: Mapped[int] = mapped_column(BigId)
    video_id: Mapped[int] = mapped_column(BigId)
    business_date: Mapped[date] = mapped_column(Date)
    previous_amount: Mapped[int] = mapped_column(BigInteger)
    new_amount: Mapped[int] = mapped_column(BigInteger)
    amount: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
