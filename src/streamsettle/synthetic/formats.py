"""Drawn logs as bytes: PostgreSQL binary COPY, JSON Lines for the import, SQLite parameters.

The COPY path writes PostgreSQL's binary format with precompiled ``struct`` layouts:
timestamps go as integer microseconds, positions as fixed two-digit numerics, so neither
Python nor the server formats or parses a date string per row. JSON Lines write UTC
timestamps through cached date prefixes and a table of the 86,400 ``HH:MM:SS`` strings.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from struct import Struct
from typing import Any

import orjson

from streamsettle.synthetic.model import (
    CHUNK_LOGS,
    SLOT_EVERY,
    USER_AGENTS,
    LogRow,
    Tables,
    Unit,
)

WATCH_LOG_COLUMNS = (
    "session_id",
    "business_date",
    "video_id",
    "viewer_id",
    "ip",
    "user_agent",
    "started_at",
    "ended_at",
    "start_position_seconds",
    "end_position_seconds",
    "watched_seconds",
)
SLOT_COLUMNS = ("session_id", "position_seconds", "ad_id")
COPY_WATCH_LOGS = f"COPY watch_logs ({', '.join(WATCH_LOG_COLUMNS)}) FROM STDIN (FORMAT BINARY)"
COPY_SLOTS = f"COPY watch_log_ad_slots ({', '.join(SLOT_COLUMNS)}) FROM STDIN (FORMAT BINARY)"

COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"
_PG_EPOCH_MS = 946_684_800_000
_PG_EPOCH_DATE = date(2000, 1, 1)
_NULL = b"\xff\xff\xff\xff"
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# A session id is 4 bytes of run tag, the day, 0x4000 | chunk, 0x8000 and n (48 bits,
# n < 65,536 as a unit has at most CHUNK_LOGS logs): all but n's last 2 bytes are constant
# in a unit, so a row packs only what varies (each struct argument costs).
_LOG_HEAD = Struct(">20sH8siqiq")  # prefix, n, date field, video, viewer
_LOG_HEAD_ANONYMOUS = Struct(">20sH8siqi")  # prefix, n, date field, video, NULL viewer
_LOG_TAIL = Struct(">iqiq16s16siq")  # started, ended (µs since 2000), positions, watched
_SLOT = Struct(">20sH")  # prefix, n; then the position and ad fields (or a NULL ad)
_PREFIX = Struct(">hi4sHHHI")
_NUMERIC = Struct(">ihhhhhh")
_DATE = Struct(">ii")
_POSITION_AD = Struct(">iiiq")
_POSITION_NO_AD = Struct(">iii")
_TEXT_LENGTH = Struct(">i")
assert CHUNK_LOGS <= 0x10000


def _numeric_field(value: int) -> bytes:
    """A non-negative integer below 10**8 as a binary numeric: two base-10000 digits."""
    return _NUMERIC.pack(12, 2, 1, 0, 0, value // 10_000, value % 10_000)


def session_id(tag: str, unit: Unit, n: int) -> str:
    """The text form of the session id the binary path writes (a version-4 UUID)."""
    return f"{tag}-{unit.day_index:04x}-4{unit.chunk:03x}-8000-{n:012x}"


def _text_field(value: str) -> bytes:
    data = value.encode()
    return _TEXT_LENGTH.pack(len(data)) + data


_AGENT_FIELDS = tuple(_text_field(agent) for agent in USER_AGENTS)
_NUMERICS = [_numeric_field(value) for value in range(65_536)]


def copy_binary(tables: Tables, unit: Unit, rows: list[LogRow]) -> tuple[bytes, bytes, int]:
    """Binary COPY tuples (no header) of the watch logs and of their ad slots, and the
    number of slot rows."""
    tag = bytes.fromhex(tables.run_tag)
    day = tables.days[unit.day_index]
    pg_day = (date.fromisoformat(day.iso) - _PG_EPOCH_DATE).days
    uuid_prefix = (tag, unit.day_index, 0x4000 | unit.chunk, 0x8000, 0)
    log_prefix = _PREFIX.pack(11, 16, *uuid_prefix)
    slot_prefix = _PREFIX.pack(3, 16, *uuid_prefix)
    dates = (_DATE.pack(4, pg_day), _DATE.pack(4, pg_day + 1))
    numerics = _NUMERICS
    head = _LOG_HEAD.pack
    head_anonymous = _LOG_HEAD_ANONYMOUS.pack
    tail = _LOG_TAIL.pack
    slot_row = _SLOT.pack
    agents = _AGENT_FIELDS
    ads = tables.ad_ids
    n_ads = len(ads)
    # (4, position, 8, ad) of slot k by ad index; -1 length when no ad is active.
    position_ads: dict[tuple[int, int], bytes] = {}
    # The address decides the browser within a unit, so both fields are cached together.
    ip_fields: dict[str, bytes] = {}
    logs = bytearray()
    slots = bytearray()
    slot_count = 0
    for row in rows:
        n, later, video, viewer, ip, agent, started, ended, start, end, watched, first, last = row
        if viewer is None:
            logs += head_anonymous(log_prefix, n, dates[later], 8, video, -1)
        else:
            logs += head(log_prefix, n, dates[later], 8, video, 8, viewer)
        ip_field = ip_fields.get(ip)
        if ip_field is None:
            ip_field = ip_fields[ip] = _text_field(ip) + agents[agent]
        logs += ip_field
        logs += tail(
            8,
            (started - _PG_EPOCH_MS) * 1000,
            8,
            (ended - _PG_EPOCH_MS) * 1000,
            numerics[start] if start < 65_536 else _numeric_field(start),
            numerics[end] if end < 65_536 else _numeric_field(end),
            8,
            watched,
        )
        for k in range(first, last + 1):
            a = (video + k - 2) % n_ads if n_ads else -1
            field = position_ads.get((k, a))
            if field is None:
                position = k * SLOT_EVERY
                field = position_ads[(k, a)] = (
                    _POSITION_AD.pack(4, position, 8, ads[a])
                    if n_ads
                    else _POSITION_NO_AD.pack(4, position, -1)
                )
            slots += slot_row(slot_prefix, n)
            slots += field
            slot_count += 1
    return bytes(logs), bytes(slots), slot_count


_HMS: list[str] = []


def _hms() -> list[str]:
    if not _HMS:
        _HMS.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400))
    return _HMS


class TimestampText:
    """Epoch ms -> ``YYYY-MM-DDTHH:MM:SS.mmm+00:00`` with a per-day cache."""

    def __init__(self) -> None:
        self._days: dict[int, str] = {}
        self._hms = _hms()

    def __call__(self, ms: int) -> str:
        seconds, milli = divmod(ms, 1000)
        day, second = divmod(seconds, 86_400)
        prefix = self._days.get(day)
        if prefix is None:
            prefix = self._days[day] = (_UNIX_EPOCH + timedelta(days=day)).date().isoformat()
        return f"{prefix}T{self._hms[second]}.{milli:03d}+00:00"


def jsonl(tables: Tables, unit: Unit, rows: list[LogRow]) -> bytes:
    """One import line (the import format, docs/playback.md) per log."""
    stamp = TimestampText()
    agents = USER_AGENTS
    dumps = orjson.dumps
    tag = tables.run_tag
    out = bytearray()
    for (
        n,
        _next,
        video,
        viewer,
        ip,
        agent,
        started,
        ended,
        start,
        end,
        watched,
        first,
        last,
    ) in rows:
        out += dumps(
            {
                "session_id": session_id(tag, unit, n),
                "video_id": video,
                "viewer_id": viewer,
                "ip": ip,
                "user_agent": agents[agent],
                "started_at": stamp(started),
                "ended_at": stamp(ended),
                "start_position_seconds": start,
                "end_position_seconds": end,
                "watched_seconds": watched,
                "ad_slot_positions": [k * SLOT_EVERY for k in range(first, last + 1)],
            }
        )
        out += b"\n"
    return bytes(out)


def _moment(ms: int) -> datetime:
    return _UNIX_EPOCH + timedelta(milliseconds=ms)


def sql_parameters(
    tables: Tables, unit: Unit, rows: list[LogRow]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Parameter dicts for ``executemany`` (the SQLite path; small sizes)."""
    day = date.fromisoformat(tables.days[unit.day_index].iso)
    ads = tables.ad_ids
    n_ads = len(ads)
    logs: list[dict[str, Any]] = []
    slots: list[dict[str, Any]] = []
    for (
        n,
        next_day,
        video,
        viewer,
        ip,
        agent,
        started,
        ended,
        start,
        end,
        watched,
        first,
        last,
    ) in rows:
        sid = uuid.UUID(session_id(tables.run_tag, unit, n))
        logs.append(
            {
                "session_id": sid,
                "business_date": day + timedelta(days=int(next_day)),
                "video_id": video,
                "viewer_id": viewer,
                "ip": ip,
                "user_agent": USER_AGENTS[agent],
                "started_at": _moment(started),
                "ended_at": _moment(ended),
                "start_position_seconds": Decimal(start),
                "end_position_seconds": Decimal(end),
                "watched_seconds": watched,
            }
        )
        for k in range(first, last + 1):
            slots.append(
                {
                    "session_id": sid,
                    "position_seconds": k * SLOT_EVERY,
                    "ad_id": ads[(video + k - 2) % n_ads] if n_ads else None,
                }
            )
    return logs, slots
