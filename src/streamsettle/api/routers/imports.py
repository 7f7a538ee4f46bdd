"""Watch log import (api.md "Watch log import"): JSON Lines streamed, never loaded whole.

The request body is read chunk by chunk on the event loop and handed, line by line, to the
importer running in a worker thread, so a large file costs one chunk of memory at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial

import anyio
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from streamsettle.api.deps import AdminUser, RecordsWrites, RuntimeDep
from streamsettle.services import importer

router = APIRouter(prefix="/api/v1", tags=["imports"])

NDJSON_TYPES = {"application/x-ndjson", "application/jsonl", "application/json-lines"}


class RejectedLine(BaseModel):
    line: int
    error: str


class ImportSummary(BaseModel):
    """Every non-blank line is counted once: ``lines = inserted + duplicates +
    rejected_count``. ``rejected`` lists the first rejections by line number (at most
    ``importer.MAX_LISTED_REJECTIONS``); ``rejected_count`` counts them all."""

    inserted: int
    duplicates: int
    rejected: list[RejectedLine]
    rejected_count: int
    lines: int

    @classmethod
    def of(cls, result: importer.ImportResult) -> ImportSummary:
        return cls(
            inserted=result.inserted,
            duplicates=result.duplicates,
            rejected=[RejectedLine(line=r.line, error=r.error) for r in result.rejected],
            rejected_count=result.rejected_count,
            lines=result.lines,
        )


def _lines(stream: AsyncIterator[bytes]) -> Iterator[bytes]:
    """The body's lines, pulled from the event loop by the worker thread that imports."""

    async def next_chunk() -> bytes | None:
        try:
            return await stream.__anext__()
        except StopAsyncIteration:
            return None

    rest = b""
    while (chunk := anyio.from_thread.run(next_chunk)) is not None:
        *complete, rest = (rest + chunk).split(b"\n")
        yield from complete
    if rest:
        yield rest


@router.post(
    "/admin/watch-logs/import",
    response_model=ImportSummary,
    dependencies=[RecordsWrites],
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/x-ndjson": {"schema": {"type": "string"}}},
        }
    },
)
async def import_watch_logs(
    request: Request, runtime: RuntimeDep, _admin: AdminUser
) -> ImportSummary:
    """One watch log per line; valid lines are stored, broken ones reported by number.

    A lost database connection is a 503 whose details say how many lines were stored;
    sending the same file again is safe (stored lines count as duplicates)."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in NDJSON_TYPES:
        raise HTTPException(415, "send the watch logs as Content-Type: application/x-ndjson")
    result = await anyio.to_thread.run_sync(
        partial(importer.import_watch_logs, runtime, _lines(request.stream()))
    )
    return ImportSummary.of(result)
