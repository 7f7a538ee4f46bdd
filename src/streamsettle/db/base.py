"""Declarative base and column types shared by every table.

Types are chosen to behave the same on PostgreSQL (production) and SQLite (embedded):
ids are BIGINT on PostgreSQL but INTEGER on SQLite so that they alias the rowid and
auto-increment; timestamps are always returned aware, in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    Dialect,
    Integer,
    MetaData,
    String,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import ARRAY, INET
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

BigId = BigInteger().with_variant(Integer(), "sqlite")
IntArray = JSON().with_variant(ARRAY(Integer()), "postgresql")
"""A list of integers (NULL elements allowed): an array on PostgreSQL, JSON on SQLite."""


class IpAddress(TypeDecorator[str]):
    """An IP address: ``inet`` on PostgreSQL (7 bytes for IPv4), text on SQLite; always
    read back as its canonical text."""

    impl = String(45)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(INET() if dialect.name == "postgresql" else String(45))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else str(value)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that refuses naive values and always comes back aware in UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment: datetime = datetime.fromisoformat(value) if isinstance(value, str) else value
        if moment.tzinfo is None:
            return moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class VideoDayRow:
    """A row the batch derives for one video and one business day: keyed by the date and
    the video, and naming the video's creator (whose totals and pages read it)."""

    business_date: Mapped[date] = mapped_column(Date, primary_key=True, sort_order=-1)
    video_id: Mapped[int] = mapped_column(BigId, primary_key=True, sort_order=-1)
    creator_id: Mapped[int] = mapped_column(BigId, sort_order=-1)


def utcnow() -> datetime:
    return datetime.now(UTC)
