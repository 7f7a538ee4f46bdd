"""A page's table, described once: shown as HTML (sortable, money columns kept in view) and CSV.

Each column has a kind that decides how a value is shown in the page's language, how it
sorts and how it is written to CSV (raw numbers, ISO dates, whole won), so that every table
on a page has its CSV by construction.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from streamsettle.services.queries.export import write_rows
from streamsettle.web.i18n import N_, NO_FIGURE, Formats


class Kind(StrEnum):
    TEXT = "text"
    ID = "id"
    DATE = "date"
    COUNT = "count"
    HOURS = "hours"
    SECONDS = "seconds"
    KRW = "krw"


@dataclass(frozen=True)
class Column:
    key: str
    """The CSV header and the cell's ``data-column``."""
    label: str
    """A message id, translated when shown."""
    kind: Kind

    @property
    def numeric(self) -> bool:
        return self.kind not in (Kind.TEXT, Kind.DATE)

    @property
    def money(self) -> bool:
        return self.kind is Kind.KRW

    @property
    def css(self) -> str:
        """``num`` or ``text``, ``money`` for amounts, ``id`` for an id (left out on phones)."""
        classes = ["num" if self.numeric else "text"]
        if self.money:
            classes.append("money")
        if self.kind is Kind.ID:
            classes.append("id")
        return " ".join(classes)

    def show(self, value: Any, f: Formats) -> str:
        if value is None:
            return NO_FIGURE
        match self.kind:
            case Kind.DATE:
                return f.day(value)
            case Kind.COUNT:
                return f.num(value)
            case Kind.HOURS:
                return f.hours(value)
            case Kind.SECONDS:
                return f.duration(value)
            case Kind.KRW:
                return f.krw(value)
        return str(value)

    def sort_key(self, value: Any) -> str:
        """What the page's script sorts on: the raw number or text."""
        if value is None:
            return ""
        return value.isoformat() if isinstance(value, date) else str(value)


@dataclass(frozen=True)
class Row:
    values: Sequence[Any]
    link: str | None = None
    """Where the first cell leads (a video's own page)."""


@dataclass(frozen=True)
class Table:
    name: str
    """Its ``data-testid`` and the ``table=`` of its CSV."""
    caption: str
    columns: list[Column]
    rows: list[Row] = field(default_factory=list)
    empty: str = N_("Nothing in this range.")

    @property
    def link_column(self) -> int:
        """The column whose cell carries the row's link: the first text column."""
        return next((i for i, c in enumerate(self.columns) if c.kind is Kind.TEXT), 0)

    def write_csv(self, out: io.StringIO) -> int:
        return write_rows(
            out,
            [c.key for c in self.columns],
            ([_csv_value(v) for v in row.values] for row in self.rows),
        )


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value
