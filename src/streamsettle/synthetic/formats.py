"""Drawn logs as bytes: PostgreSQL binary COPY, JSON Lines for the import, SQLite parameters.

The COPY path writes PostgreSQL's binary format without a Python loop: the rows of a unit
come ordered by shape (next day or not, anonymous or not, number of slots reached, see
``model``), and every row of one shape has the same byte layout. Each shape is one NumPy
structured array laid over its slice of the output buffer: the constant parts (field
lengths, the session id's prefix, array headers, ``inet`` header, NULLs) are copied from a
one-record template, the rest assigned column by column. Timestamps go as integer
microseconds since 2000, the date as days, the address as ``inet`` bytes, the reached slots
as two ``integer[]`` (NULL when none). Neither side formats or parses text per row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import orjson

from streamsettle.synthetic.model import SLOT_EVERY, USER_AGENTS, Drawn, Tables, Unit, ip_text

WATCH_LOG_COLUMNS = (
    "started_at",
    "ended_at",
    "session_id",
    "business_date",
    "video_id",
    "viewer_id",
    "user_agent_id",
    "start_position_ms",
    "end_position_ms",
    "watched_seconds",
    "ip",
    "ad_positions",
    "ad_ids",
)
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
COPY_TRAILER = b"\xff\xff"
_PG_EPOCH_MS = 946_684_800_000
_PG_EPOCH_DATE = date(2000, 1, 1)
_UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_INT4_OID = 23
_INET_HEADER = (2 << 24) | (32 << 16) | 4  # PGSQL_AF_INET, 32 bits, not CIDR, 4 bytes
_ELEMENT = np.dtype([("length", ">i4"), ("value", ">i4")])


def copy_statement(table: str, *, freeze: bool = False) -> str:
    options = "FORMAT BINARY, FREEZE" if freeze else "FORMAT BINARY"
    return f"COPY {table} ({', '.join(WATCH_LOG_COLUMNS)}) FROM STDIN ({options})"


def session_id(tag: str, unit: Unit, n: int, next_day: bool = False) -> str:
    """The text form of the session id the binary path writes (a version-4 UUID); see
    ``model`` for the ids of repeats that start on the next day."""
    if next_day:
        return f"{tag}-{unit.day_index + 1:04x}-4fff-8000-{(unit.chunk << 32) | n:012x}"
    return f"{tag}-{unit.day_index:04x}-4{unit.chunk:03x}-8000-{n:012x}"


def _id_prefix(tag: str, unit: Unit, next_day: bool) -> bytes:
    """The first 8 bytes of the unit's session ids (run tag, day, version and chunk)."""
    day = unit.day_index + next_day
    chunk = 0xFFF if next_day else unit.chunk
    return bytes.fromhex(tag) + bytes([day >> 8, day & 255, 0x40 | (chunk >> 8), chunk & 255])


def _int4(name: str) -> list[tuple[Any, ...]]:
    return [(f"{name}_length", ">i4"), (name, ">i4")]


@lru_cache(maxsize=64)
def _layout(anonymous: bool, slots: int, ads_null: bool) -> np.dtype[np.void]:
    """The record of one wire shape, in the table's column order."""
    fields: list[tuple[Any, ...]] = [
        ("fields", ">i2"),
        ("started_length", ">i4"),
        ("started", ">i8"),
        ("ended_length", ">i4"),
        ("ended", ">i8"),
        ("sid_length", ">i4"),
        ("sid_prefix", "V8"),
        ("sid_tail", ">u8"),  # the variant (0x8000) and the 48-bit number
        *_int4("date"),
        *_int4("video"),
        *(_int4("viewer") if not anonymous else [("viewer_length", ">i4")]),
        *_int4("agent"),
        *_int4("start"),
        *_int4("end"),
        *_int4("watched"),
        ("ip_length", ">i4"),
        ("ip_header", ">u4"),
        ("ip", ">u4"),
        ("positions_length", ">i4"),
    ]
    if slots:
        fields += [("positions_header", ">i4", (5,)), ("positions", _ELEMENT, (slots,))]
    fields.append(("ads_length", ">i4"))
    if slots:
        fields.append(("ads_header", ">i4", (5,)))
        fields.append(("ads_null", ">i4", (slots,)) if ads_null else ("ads", _ELEMENT, (slots,)))
    return np.dtype(fields)


@lru_cache(maxsize=64)
def _template(anonymous: bool, slots: int, ads_null: bool) -> np.ndarray[Any, np.dtype[np.void]]:
    """A record of the shape with every constant part set (but the unit's id prefix and
    date)."""
    layout = _layout(anonymous, slots, ads_null)
    record = np.zeros(1, dtype=layout)
    names = layout.names or ()
    for name in names:
        if name.endswith("_length"):
            record[name] = 4
    record["fields"] = len(WATCH_LOG_COLUMNS)
    record["started_length"] = record["ended_length"] = 8
    record["sid_length"] = 16
    record["ip_length"] = 8
    record["ip_header"] = _INET_HEADER
    if "viewer" not in names:
        record["viewer_length"] = -1
    if not slots:
        record["positions_length"] = record["ads_length"] = -1
        return record
    record["positions_length"] = 20 + 8 * slots
    record["positions_header"] = (1, 0, _INT4_OID, slots, 1)
    record["positions"]["length"] = 4
    if ads_null:
        record["ads_length"] = 20 + 4 * slots
        record["ads_header"] = (1, 1, _INT4_OID, slots, 1)
        record["ads_null"] = -1
    else:
        record["ads_length"] = 20 + 8 * slots
        record["ads_header"] = (1, 0, _INT4_OID, slots, 1)
        record["ads"]["length"] = 4
    return record


@dataclass(frozen=True)
class CopyRows:
    """A unit's rows as binary COPY tuples (no header): those of its day and of the next."""

    today: np.ndarray[Any, np.dtype[np.uint8]]
    next_day: np.ndarray[Any, np.dtype[np.uint8]]
    slots: int


def copy_binary(tables: Tables, unit: Unit, drawn: Drawn) -> CopyRows:
    """Binary COPY tuples of the unit's watch logs, split by business day."""
    day = (date.fromisoformat(tables.days[unit.day_index].iso) - _PG_EPOCH_DATE).days
    ads = tables.ad_ids
    n_ads = len(ads)
    ads_null = n_ads == 0
    layouts = [_layout(anonymous, k, ads_null) for _, _, _, anonymous, k in drawn.shapes]
    sizes = [
        (shape[1] - shape[0]) * layout.itemsize
        for shape, layout in zip(drawn.shapes, layouts, strict=True)
    ]
    # Every byte is written below, so the buffers need no zeroing.
    buffers = {
        later: np.empty(
            sum(size for size, shape in zip(sizes, drawn.shapes, strict=True) if shape[2] == later),
            dtype=np.uint8,
        )
        for later in (False, True)
    }
    offsets = {False: 0, True: 0}
    started = (drawn.started - _PG_EPOCH_MS) * 1000
    ended = (drawn.ended - _PG_EPOCH_MS) * 1000
    # The last 8 bytes of a session id: the variant, then the number (for a repeat on the
    # next day, its chunk and number; see ``model``).
    tails = np.arange(drawn.count, dtype=np.uint64) | np.uint64(0x8000 << 48)
    tails[drawn.today :] |= np.uint64(unit.chunk << 32)
    for (begin, end, later, anonymous, slots), layout, size in zip(
        drawn.shapes, layouts, sizes, strict=True
    ):
        at = offsets[later]
        offsets[later] = at + size
        raw = buffers[later][at : at + size]
        template = _template(anonymous, slots, ads_null).copy()
        template["sid_prefix"] = np.void(_id_prefix(tables.run_tag, unit, later))
        template["date"] = day + later
        # Copied as bytes: a structured assignment would go field by field, row by row.
        raw.reshape(-1, layout.itemsize)[:] = template.view(np.uint8)
        rows = raw.view(layout)
        part = slice(begin, end)
        rows["started"] = started[part]
        rows["ended"] = ended[part]
        rows["sid_tail"] = tails[part]
        rows["video"] = drawn.video_ids[part]
        if not anonymous:
            rows["viewer"] = drawn.viewer_ids[part]
        rows["agent"] = tables.agent_ids[drawn.agents[part]]
        rows["start"] = drawn.start_positions[part] * 1000
        rows["end"] = drawn.end_positions[part] * 1000
        rows["watched"] = drawn.watched[part]
        rows["ip"] = drawn.ips[part]
        if slots:
            k = drawn.first_slots[part, None] + np.arange(slots)
            rows["positions"]["value"] = k * SLOT_EVERY
            if not ads_null:
                rows["ads"]["value"] = ads[(drawn.video_ids[part, None] + k - 2) % n_ads]
    return CopyRows(
        today=buffers[False],
        next_day=buffers[True],
        slots=int(drawn.slot_counts.sum()),
    )


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


def _rows(drawn: Drawn) -> zip[tuple[Any, ...]]:
    """The drawn columns as Python values, row by row."""
    viewers = np.where(drawn.anonymous, -1, drawn.viewer_ids)
    return zip(
        viewers.tolist(),
        drawn.video_ids.tolist(),
        drawn.ips.tolist(),
        drawn.agents.tolist(),
        drawn.started.tolist(),
        drawn.ended.tolist(),
        drawn.start_positions.tolist(),
        drawn.end_positions.tolist(),
        drawn.watched.tolist(),
        drawn.first_slots.tolist(),
        drawn.slot_counts.tolist(),
        strict=True,
    )


def jsonl(tables: Tables, unit: Unit, drawn: Drawn) -> bytes:
    """One import line (the import format, docs/playback.md) per log, in session order."""
    stamp = TimestampText()
    dumps = orjson.dumps
    tag = tables.run_tag
    out = bytearray()
    for n, row in enumerate(_rows(drawn)):
        viewer, video, ip, agent, started, ended, start, end, watched, first, slots = row
        out += dumps(
            {
                "session_id": session_id(tag, unit, n, n >= drawn.today),
                "video_id": video,
                "viewer_id": None if viewer < 0 else viewer,
                "ip": ip_text(ip),
                "user_agent": USER_AGENTS[agent],
                "started_at": stamp(started),
                "ended_at": stamp(ended),
                "start_position_seconds": start,
                "end_position_seconds": end,
                "watched_seconds": watched,
                "ad_slot_positions": [k * SLOT_EVERY for k in range(first, first + slots)],
            }
        )
        out += b"\n"
    return bytes(out)


def _moment(ms: int) -> datetime:
    return _UNIX_EPOCH + timedelta(milliseconds=ms)


def sql_parameters(tables: Tables, unit: Unit, drawn: Drawn) -> list[dict[str, Any]]:
    """``watch_logs`` parameter dicts for ``executemany`` (the SQLite path; small sizes)."""
    day = date.fromisoformat(tables.days[unit.day_index].iso)
    ads = tables.ad_ids.tolist()
    agents = tables.agent_ids.tolist()
    n_ads = len(ads)
    logs: list[dict[str, Any]] = []
    for n, row in enumerate(_rows(drawn)):
        viewer, video, ip, agent, started, ended, start, end, watched, first, slots = row
        reached = range(first, first + slots)
        logs.append(
            {
                "started_at": _moment(started),
                "ended_at": _moment(ended),
                "session_id": uuid.UUID(session_id(tables.run_tag, unit, n, n >= drawn.today)),
                "business_date": day + timedelta(days=int(n >= drawn.today)),
                "video_id": video,
                "viewer_id": None if viewer < 0 else viewer,
                "user_agent_id": agents[agent],
                "start_position_ms": start * 1000,
                "end_position_ms": end * 1000,
                "watched_seconds": watched,
                "ip": ip_text(ip),
                "ad_positions": [k * SLOT_EVERY for k in reached] if slots else None,
                "ad_ids": (
                    [ads[(video + k - 2) % n_ads] if n_ads else None for k in reached]
                    if slots
                    else None
                ),
            }
        )
    return logs
