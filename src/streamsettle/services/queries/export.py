"""CSV files: a creator's settlement (API and CLI) and the pages' tables, one writer for all.

The settlement has one row per video per settled day, streamed from the database in date,
then video id order. In every file, a text that a spreadsheet would read as a formula
(starting with ``=``, ``+``, ``-``, ``@``, tab or carriage return) is prefixed with ``'`` so
that opening the file never runs anything.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from typing import TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamsettle.db.models import DailySettlement, User, Video
from streamsettle.domain.periods import DateRange
from streamsettle.errors import NotFound

COLUMNS = (
    "date",
    "video_id",
    "title",
    "views",
    "ad_views",
    "video_amount",
    "ad_amount",
    "total_amount",
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(value: str) -> str:
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def write_rows(out: TextIO, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> int:
    """Write a header and rows (texts made formula-safe); returns the number of data rows."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    count = 0
    for row in rows:
        writer.writerow([_safe_text(v) if isinstance(v, str) else v for v in row])
        count += 1
    return count


def csv_filename(creator_id: int, dates: DateRange) -> str:
    return f"settlement-creator-{creator_id}-{dates.start.isoformat()}-{dates.end.isoformat()}.csv"


def write_creator_csv(session: Session, creator_id: int, dates: DateRange, out: TextIO) -> int:
    """Write the header and the rows to ``out``; returns the number of data rows."""
    if session.get(User, creator_id) is None:
        raise NotFound(f"creator {creator_id} not found")
    s = DailySettlement
    rows = session.execute(
        select(
            s.business_date,
            s.video_id,
            Video.title,
            s.views,
            s.ad_views,
            s.video_amount,
            s.ad_amount,
            s.total_amount,
        )
        .join(Video, Video.id == s.video_id)
        .where(s.creator_id == creator_id, s.business_date.between(dates.start, dates.end))
        .order_by(s.business_date, s.video_id)
        .execution_options(yield_per=2000)
    )
    return write_rows(out, COLUMNS, rows)  # a date writes as ISO 8601
