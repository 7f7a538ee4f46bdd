"""CSV downloads: one way to answer a CSV attachment, for the API and the pages."""

from __future__ import annotations

import io
from collections.abc import Callable

from sqlalchemy.orm import Session
from starlette.responses import Response

from streamsettle.domain.periods import DateRange
from streamsettle.services.queries.export import csv_filename, write_creator_csv
from streamsettle.services.statements import statement_filename, write_statement_csv
from streamsettle.services.statements.results import CreatorStatement


def csv_attachment(
    write: Callable[[io.StringIO], object], filename: str, headers: dict[str, str] | None = None
) -> Response:
    """What ``write`` writes, as the attachment ``filename``."""
    buffer = io.StringIO()
    write(buffer)
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )


def settlement_csv(
    session: Session, creator_id: int, dates: DateRange, headers: dict[str, str] | None = None
) -> Response:
    """A creator's settlement: one row per video per settled day of ``dates``."""
    return csv_attachment(
        lambda out: write_creator_csv(session, creator_id, dates, out),
        csv_filename(creator_id, dates),
        headers,
    )


def statement_csv(statement: CreatorStatement, headers: dict[str, str] | None = None) -> Response:
    """A statement: its lines, its adjustments, then its balance rows."""
    return csv_attachment(
        lambda out: write_statement_csv(statement, out), statement_filename(statement), headers
    )
