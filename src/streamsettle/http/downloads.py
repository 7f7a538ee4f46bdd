"""The settlement CSV as an HTTP download, the same from the API and from the page."""

from __future__ import annotations

import io

from sqlalchemy.orm import Session
from starlette.responses import Response

from streamsettle.domain.periods import DateRange
from streamsettle.services.queries.export import csv_filename, write_creator_csv


def settlement_csv(
    session: Session, creator_id: int, dates: DateRange, headers: dict[str, str] | None = None
) -> Response:
    """One row per video per settled day of ``dates``, as an attachment."""
    buffer = io.StringIO()
    write_creator_csv(session, creator_id, dates, buffer)
    disposition = f'attachment; filename="{csv_filename(creator_id, dates)}"'
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": disposition, **(headers or {})},
    )
