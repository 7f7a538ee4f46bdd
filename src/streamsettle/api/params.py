"""Shared path, query and body types of the HTTP edge: ids and dates, checked strictly.

Ids are PostgreSQL ``bigint``: a larger number is a 422 here rather than an out-of-range
error from the database. Dates are ``YYYY-MM-DD`` only: pydantic's lax parsing would read
``0`` or ``1700000000`` as a Unix time.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import BeforeValidator, Field

from streamsettle.api.schemas.catalogue import MAX_ID
from streamsettle.domain.periods import Period

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _iso_date_text(value: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


Id = Annotated[int, Field(ge=1, le=MAX_ID)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date_text), Field(strict=False)]

IdPath = Annotated[Id, Path()]
PeriodQuery = Annotated[Period, Query(description="day, week (ISO, Monday to Sunday) or month")]
DateQuery = Annotated[IsoDate, Query(alias="date", description="any date inside the period")]
DatePath = Annotated[IsoDate, Path(alias="date", description="YYYY-MM-DD")]
