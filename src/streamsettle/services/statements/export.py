"""A statement as CSV: its lines, its adjustments, then its balance, one row each."""

from __future__ import annotations

import csv
from typing import TextIO

from streamsettle.services.queries.export import _safe_text
from streamsettle.services.statements.results import CreatorStatement

HEADER = (
    "row",
    "video_id",
    "title",
    "date",
    "corrects_month",
    "views",
    "ad_views",
    "video_amount",
    "ad_amount",
    "amount",
)
BALANCE_ROWS = (
    "carried_in",
    "total_amount",
    "adjustments_amount",
    "payable_amount",
    "paid_out",
    "carried_out",
)


def write_statement_csv(statement: CreatorStatement, out: TextIO) -> None:
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    for line in statement.lines:
        writer.writerow(
            (
                "line",
                line.video_id,
                _safe_text(line.title),
                "",
                "",
                line.views,
                line.ad_views,
                line.video_amount,
                line.ad_amount,
                line.total_amount,
            )
        )
    for adj in statement.adjustments:
        writer.writerow(
            (
                "adjustment",
                adj.video_id,
                "",
                adj.date.isoformat(),
                adj.month,
                "",
                "",
                "",
                "",
                adj.amount,
            )
        )
    for name in BALANCE_ROWS:
        writer.writerow((name, "", "", "", "", "", "", "", "", getattr(statement, name)))


def statement_filename(statement: CreatorStatement) -> str:
    return f"statement-{statement.creator_id}-{statement.month}.csv"
