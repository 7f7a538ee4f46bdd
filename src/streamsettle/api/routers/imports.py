"""Watch log import (the import format, docs/playback.md): JSON Lines streamed, never loaded whole.

The request body is read chunk by chunk on the event loop and handed, line by line, to the
importer running in a worker thread, so a large file costs one chunk of memory at a time.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from functools import partial

import anyio
from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel

from streamsettle.api.deps import AdminUser, RecordsWrites
from streamsettle.api.openapi import errors
from streamsettle.http.deps import RuntimeDep
from streamsettle.services.ingest import importer

router = APIRouter(prefix="/api/v1", tags=["imports"])

NDJSON_TYPES = {"application/x-ndjson", "application/jsonl", "application/json-lines"}


NDJSON_EXAMPLE = (
    '{"session_id": "7d0f6f4e-2b1a-4c53-9a57-3c6f1f0e9b11", "video_id": 1, "viewer_id": 7, '
    '"ip": "203.0.113.9", "user_agent": "Mozilla/5.0", '
    '"started_at": "2026-11-01T09:00:00+09:00", "ended_at": "2026-11-01T09:05:00+09:00", '
    '"start_position_seconds": 0, "end_position_seconds": 300, "watched_seconds": 300, '
    '"ad_slot_positions": [300]}\n'
    '{"session_id": "0b5e4c1d-8f2e-4a6b-b1c9-5d7e3f2a1c44", "video_id": 2, "viewer_id": null, '
    '"ip": "198.51.100.4", "user_agent": "curl/8.5", '
    '"started_at": "2026-11-01T21:30:00+09:00", "ended_at": "2026-11-01T21:31:00+09:00", '
    '"start_position_seconds": 120, "end_position_seconds": 180, "watched_seconds": 60, '
    '"ad_slot_positions": []}\n'
)


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
    responses=errors({415: "the body is not sent as application/x-ndjson"}),
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "one watch log per line, as JSON",
            "content": {
                "application/x-ndjson": {
                    "schema": {"type": "string"},
                    "example": NDJSON_EXAMPLE,
                }
            },
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
