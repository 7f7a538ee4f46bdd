"""Bulk import of historical watch logs (JSON Lines; the import format, docs/playback.md).

Every line is either stored, a duplicate, or rejected with its number and reason, never
lost. Lines are validated one by one and every broken line is reported with all its
problems; valid lines are stored in chunks of ``CHUNK_LINES``, one transaction each:
PostgreSQL gets them by ``COPY`` into a temporary table and one
``INSERT … SELECT … ON CONFLICT (session_id) DO NOTHING RETURNING`` (so duplicates are
counted exactly); SQLite by ``executemany`` after looking up the ids already stored.
A session id stored before, or seen earlier in the same input, is a duplicate and changes
nothing, so importing a file twice inserts nothing the second time.

A chunk the database refuses (say, a video deleted while the import runs) is split in
halves and written again, down to single lines, so one failing line is rejected with the
database's reason and every other line is stored. Only a lost database connection stops
the import (``ServiceUnavailable``, with what was stored so far; sending the same file
again stores the rest, the stored lines then counting as duplicates). The rejections are
counted in full but only the first ``MAX_LISTED_REJECTIONS`` by line number are listed, so
a file of broken lines cannot make an answer as big as itself.

The ad of a reached slot is the one placed in that slot *at import time*: the historical
placement is not part of the format. Resume positions are upserted when the imported log
ended later than the one they hold.
"""

from __future__ import annotations

import heapq
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

import psycopg
from psycopg.errors import DeadlockDetected
from sqlalchemy import Connection, Table, select
from sqlalchemy.exc import DBAPIError, OperationalError

from streamsettle.db.models import AdSlot, User, Video, WatchLog, WatchLogAdSlot
from streamsettle.errors import ServiceUnavailable
from streamsettle.logging import get_logger
from streamsettle.runtime import Runtime
from streamsettle.services.ingest.resume import LeftAt, record_positions
from streamsettle.services.ingest.watch_log_lines import NULL, ParsedLine, Rejected, parse_line

CHUNK_LINES = 10_000
WRITERS = 2
"""Chunks written at once on PostgreSQL (each on its own connection)."""
DEADLOCK_RETRIES = 3
MAX_LISTED_REJECTIONS = 1_000
"""Rejections listed in a result (the first by line number); ``rejected_count`` has them all."""

log = get_logger(__name__)

_WATCH_LOGS: Table = WatchLog.__table__  # type: ignore[assignment]
_AD_SLOTS: Table = WatchLogAdSlot.__table__  # type: ignore[assignment]


@dataclass
class ImportResult:
    """``lines`` (non-blank) = ``inserted`` + ``duplicates`` + ``rejected_count``."""

    inserted: int = 0
    duplicates: int = 0
    rejected: list[Rejected] = field(default_factory=list)
    """The first ``MAX_LISTED_REJECTIONS`` rejections by line number, in order."""
    rejected_count: int = 0
    lines: int = 0
    _kept: list[tuple[int, Rejected]] = field(default_factory=list, repr=False)

    def reject(self, rejection: Rejected) -> None:
        """Count a rejection; keep it if it is among the first listed (a bounded max-heap)."""
        self.rejected_count += 1
        item = (-rejection.line, rejection)
        if len(self._kept) < MAX_LISTED_REJECTIONS:
            heapq.heappush(self._kept, item)
        elif rejection.line < -self._kept[0][0]:
            heapq.heapreplace(self._kept, item)

    def finish(self) -> None:
        self.rejected = sorted((r for _, r in self._kept), key=lambda r: r.line)


@dataclass(frozen=True)
class _VideoInfo:
    duration_ms: int
    ads: dict[int, int | None]
    """Slot position -> the ad placed there now."""


class _Catalogue:
    """Videos and users looked up once per import, a chunk's unknown ids at a time."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.videos: dict[int, _VideoInfo | None] = {}
        self.users: dict[int, bool] = {}

    def load(self, lines: Sequence[ParsedLine]) -> None:
        videos = {x.video_id for x in lines} - self.videos.keys()
        users = {x.viewer_id for x in lines if x.viewer_id is not None} - self.users.keys()
        if not videos and not users:
            return
        with self.runtime.db.session() as s:
            found: dict[int, _VideoInfo | None] = dict.fromkeys(videos)
            for vid, duration in s.execute(
                select(Video.id, Video.duration_seconds).where(Video.id.in_(videos))
            ):
                found[vid] = _VideoInfo(duration * 1000, {})
            for vid, position, ad in s.execute(
                select(AdSlot.video_id, AdSlot.position_seconds, AdSlot.ad_id).where(
                    AdSlot.video_id.in_(videos)
                )
            ):
                info = found[vid]
                assert info is not None
                info.ads[position] = ad
            self.videos.update(found)
            self.users.update(dict.fromkeys(users, False))
            self.users.update(
                dict.fromkeys(s.scalars(select(User.id).where(User.id.in_(users))), True)
            )

    def check(self, line: ParsedLine) -> str | None:
        info = self.videos.get(line.video_id)
        if info is None:
            return f"unknown video {line.video_id}"
        errors = []
        if line.viewer_id is not None and not self.users.get(line.viewer_id):
            errors.append(f"unknown viewer {line.viewer_id}")
        for name, ms in (
            ("start_position_seconds", line.start_position_ms),
            ("end_position_seconds", line.end_position_ms),
        ):
            if ms > info.duration_ms:
                seconds = info.duration_ms // 1000
                errors.append(f"{name} is beyond the video's duration ({seconds} s)")
        strangers = ", ".join(str(p) for p in line.slots if p not in info.ads)
        if strangers:
            errors.append(f"ad slot(s) {strangers} are not slots of video {line.video_id}")
        return "; ".join(errors) or None


_PG_CREATE_TEMP = """
CREATE TEMP TABLE import_watch_logs ON COMMIT DROP AS
SELECT session_id, business_date, video_id, viewer_id, ip, user_agent, started_at, ended_at,
       start_position_seconds, end_position_seconds, watched_seconds
FROM watch_logs WITH NO DATA;
CREATE TEMP TABLE import_ad_slots ON COMMIT DROP AS
SELECT session_id, position_seconds, ad_id FROM watch_log_ad_slots WITH NO DATA
"""
_PG_COPY_LOGS = "COPY import_watch_logs FROM STDIN"
_PG_COPY_SLOTS = "COPY import_ad_slots FROM STDIN"
_PG_INSERT = """
WITH ins AS (
    INSERT INTO watch_logs (session_id, business_date, video_id, viewer_id, ip, user_agent,
                            started_at, ended_at, start_position_seconds,
                            end_position_seconds, watched_seconds)
    SELECT * FROM import_watch_logs
    ON CONFLICT (session_id) DO NOTHING
    RETURNING session_id, viewer_id, video_id, end_position_seconds, ended_at
), hits AS (
    INSERT INTO watch_log_ad_slots (session_id, position_seconds, ad_id)
    SELECT s.session_id, s.position_seconds, s.ad_id
    FROM import_ad_slots s JOIN ins USING (session_id)
), resume AS (
    INSERT INTO resume_positions (viewer_id, video_id, position_seconds, left_at)
    SELECT DISTINCT ON (viewer_id, video_id) viewer_id, video_id, end_position_seconds, ended_at
    FROM ins WHERE viewer_id IS NOT NULL
    ORDER BY viewer_id, video_id, ended_at DESC
    ON CONFLICT (viewer_id, video_id) DO UPDATE
    SET position_seconds = EXCLUDED.position_seconds, left_at = EXCLUDED.left_at
    WHERE resume_positions.left_at < EXCLUDED.left_at
)
SELECT count(*) FROM ins
"""


def _pg_write(connection: Connection, lines: Sequence[ParsedLine], catalogue: _Catalogue) -> int:
    """COPY into temporary tables, then one statement inserts what is new and reports it.

    Rows go in session id order, so two writers that share new ids lock them in the same
    order and cannot deadlock on each other."""
    driver = connection.connection.driver_connection
    assert driver is not None
    lines = sorted(lines, key=lambda line: line.session_id)
    hits = []
    for line in lines:
        if line.slots:
            ads = catalogue.videos[line.video_id].ads  # type: ignore[union-attr]
            for position in line.slots:
                ad = ads[position]
                hits.append(f"{line.session_id}\t{position}\t{NULL if ad is None else ad}\n")
    with driver.cursor() as cur:
        cur.execute(_PG_CREATE_TEMP)
        with cur.copy(_PG_COPY_LOGS) as copy:
            copy.write("".join([line.copy_text() for line in lines]))
        with cur.copy(_PG_COPY_SLOTS) as copy:
            copy.write("".join(hits))
        cur.execute(_PG_INSERT)
        row = cur.fetchone()
        assert row is not None
        return int(row[0])


def _sqlite_write(
    connection: Connection, lines: Sequence[ParsedLine], catalogue: _Catalogue
) -> int:
    ids = [uuid.UUID(line.session_id) for line in lines]
    stored: set[str] = set()
    for start in range(0, len(ids), 500):
        stored.update(
            str(found)
            for found in connection.scalars(
                select(_WATCH_LOGS.c.session_id).where(
                    _WATCH_LOGS.c.session_id.in_(ids[start : start + 500])
                )
            )
        )
    new = [line for line in lines if line.session_id not in stored]
    if not new:
        return 0
    connection.execute(_WATCH_LOGS.insert(), [x.log_row() for x in new])
    hits = []
    for line in new:
        ads = catalogue.videos[line.video_id].ads  # type: ignore[union-attr]
        hits += [
            {"session_id": uuid.UUID(line.session_id), "position_seconds": p, "ad_id": ads[p]}
            for p in line.slots
        ]
    if hits:
        connection.execute(_AD_SLOTS.insert(), hits)
    record_positions(
        connection,
        (
            LeftAt(x.viewer_id, x.video_id, Decimal(x.end_position_ms).scaleb(-3), x.ended_at)
            for x in new
            if x.viewer_id is not None
        ),
    )
    return len(new)


def _write_with_retry(runtime: Runtime, chunk: Sequence[ParsedLine], catalogue: _Catalogue) -> int:
    """One chunk, one transaction. Should PostgreSQL still abort one writer as a deadlock
    victim, its transaction rolled back whole and the chunk is simply written again."""
    write = _sqlite_write if runtime.db.is_sqlite else _pg_write
    for attempt in range(DEADLOCK_RETRIES + 1):
        try:
            with runtime.db.engine.begin() as connection:
                return write(connection, chunk, catalogue)
        except (OperationalError, DeadlockDetected) as exc:
            # The COPY path talks to psycopg directly, so its errors arrive unwrapped.
            cause = exc.orig if isinstance(exc, OperationalError) else exc
            if not isinstance(cause, DeadlockDetected) or attempt == DEADLOCK_RETRIES:
                raise
    raise AssertionError("unreachable")


def _connection_lost(exc: BaseException) -> bool:
    """True when the database itself is unusable (lost connection, shutdown, cancelled):
    retrying smaller pieces would only fail again, line after line."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    if isinstance(cause, psycopg.OperationalError):
        # SQLSTATE class 40 is a rolled-back transaction (a deadlock victim): not fatal.
        return not (getattr(cause, "sqlstate", None) or "").startswith("40")
    return isinstance(exc, OperationalError)  # SQLite: locked, disk I/O, no such table


def _reason(exc: BaseException) -> str:
    cause = exc.orig if isinstance(exc, DBAPIError) else exc
    first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
    return f"not stored: {type(cause).__name__}: {first}"[:300]


def _store(
    runtime: Runtime, lines: Sequence[ParsedLine], catalogue: _Catalogue
) -> tuple[int, list[Rejected]]:
    """Write lines; if the database refuses them, write each half again, down to single
    lines, so only the lines that fail are rejected. (New rows, rejected lines.)"""
    try:
        return _write_with_retry(runtime, lines, catalogue), []
    except Exception as exc:
        if _connection_lost(exc):
            raise
        if len(lines) == 1:
            log.warning("import line not stored", line=lines[0].number, error=_reason(exc))
            return 0, [Rejected(lines[0].number, _reason(exc))]
        log.warning("import chunk refused; writing it in halves", size=len(lines))
    half = len(lines) // 2
    first, first_rejected = _store(runtime, lines[:half], catalogue)
    second, second_rejected = _store(runtime, lines[half:], catalogue)
    return first + second, first_rejected + second_rejected


class _Writers:
    """Chunks written by a few threads (one per connection) while the next chunk is parsed;
    results are taken in submission order so that progress and counts stay exact."""

    def __init__(
        self,
        runtime: Runtime,
        catalogue: _Catalogue,
        result: ImportResult,
        on_progress: Callable[[int], None] | None,
    ) -> None:
        self.runtime = runtime
        self.catalogue = catalogue
        self.result = result
        self.on_progress = on_progress
        self.size = 1 if runtime.db.is_sqlite else WRITERS
        self.pool = ThreadPoolExecutor(self.size, thread_name_prefix="import-writer")
        self.in_flight: deque[tuple[Future[tuple[int, list[Rejected]]], int, int]] = deque()

    def submit(self, chunk: list[ParsedLine], upto: int) -> None:
        while len(self.in_flight) >= self.size:
            self.settle_one()
        future = self.pool.submit(_store, self.runtime, chunk, self.catalogue)
        self.in_flight.append((future, len(chunk), upto))

    def settle_one(self) -> None:
        future, size, upto = self.in_flight.popleft()
        inserted, rejected = future.result()
        self.result.inserted += inserted
        self.result.duplicates += size - inserted - len(rejected)
        for rejection in rejected:
            self.result.reject(rejection)
        if self.on_progress is not None:
            self.on_progress(upto)

    def settle_all(self) -> BaseException | None:
        """Every chunk in flight counted; the first failure, if any (the import stops)."""
        failure: BaseException | None = None
        while self.in_flight:
            try:
                self.settle_one()
            except Exception as exc:
                failure = failure or exc
        return failure

    def close(self) -> None:
        self.pool.shutdown(wait=True)


def _parse(raw: bytes | str, number: int, tz: ZoneInfo) -> ParsedLine | Rejected | None:
    try:
        return parse_line(raw, number, tz)
    except Exception as exc:  # a bug must cost one line, not the import
        log.exception("import line could not be checked", line=number)
        return Rejected(number, f"internal error checking the line: {type(exc).__name__}")


def _check(catalogue: _Catalogue, line: ParsedLine) -> str | None:
    try:
        return catalogue.check(line)
    except Exception as exc:
        log.exception("import line could not be checked", line=line.number)
        return f"internal error checking the line: {type(exc).__name__}"


def import_watch_logs(
    runtime: Runtime,
    lines: Iterable[bytes | str],
    *,
    on_progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Validate and store watch logs; ``on_progress`` gets the number of lines stored so far.

    Raises ``ServiceUnavailable`` only when the database becomes unreachable; its details
    say what was stored until then.
    """
    result = ImportResult()
    catalogue = _Catalogue(runtime)
    writers = _Writers(runtime, catalogue, result, on_progress)
    tz = runtime.settings.tz

    def submit(pending: list[ParsedLine], upto: int) -> None:
        catalogue.load(pending)
        unique: dict[str, ParsedLine] = {}
        for line in pending:
            error = _check(catalogue, line)
            if error is not None:
                result.reject(Rejected(line.number, error))
            elif line.session_id in unique:
                result.duplicates += 1
            else:
                unique[line.session_id] = line
        if unique:
            writers.submit(list(unique.values()), upto)

    failure: BaseException | None = None
    try:
        pending: list[ParsedLine] = []
        number = 0
        for number, raw in enumerate(lines, start=1):
            parsed = _parse(raw, number, tz)
            if parsed is None:
                continue
            result.lines += 1
            if isinstance(parsed, Rejected):
                result.reject(parsed)
            else:
                pending.append(parsed)
                if len(pending) >= CHUNK_LINES:
                    submit(pending, number)
                    pending = []
        submit(pending, number)
    except Exception as exc:
        failure = exc
    finally:
        failure = writers.settle_all() or failure
        writers.close()
    result.finish()
    if failure is not None:
        if not _connection_lost(failure):
            raise failure
        stored = {"inserted": result.inserted, "duplicates": result.duplicates}
        raise ServiceUnavailable(
            f"the database became unreachable during the import; {result.inserted} new "
            "watch logs were stored before it. Sending the same file again stores the rest "
            "(lines already stored count as duplicates).",
            stored,
        ) from failure
    if on_progress is not None:
        on_progress(number)
    return result


__all__ = [
    "CHUNK_LINES",
    "MAX_LISTED_REJECTIONS",
    "ImportResult",
    "Rejected",
    "import_watch_logs",
]
