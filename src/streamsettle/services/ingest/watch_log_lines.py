"""One line of a watch log import, checked on its own (the import format, docs/playback.md).

Everything here needs no database: JSON, types, UUID, address, timestamps with an offset,
positions, watched seconds against the wall-clock length. ``importer`` then checks what
needs the catalogue (known video and viewer, slots of the video, positions within it).
Valid lines become ``WatchLogRow`` tuples (millions are made, so a tuple, not a dataclass),
the rows ``watch_log_writer`` stores (the flusher makes them from ended sessions).
"""

from __future__ import annotations

import ipaddress
import math
import socket
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, NamedTuple, TypeGuard
from zoneinfo import ZoneInfo

import orjson

from streamsettle.domain.periods import business_date
from streamsettle.domain.playback import MAX_POSITION_SECONDS, position_to_ms
from streamsettle.domain.text import MAX_USER_AGENT, has_control_characters

MAX_ID = 2**63 - 1
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9999, 1, 1, tzinfo=UTC)
"""Timestamps must lie in ``[EARLIEST, LATEST)``: a watch log cannot predate the epoch, and
the batch computes the day after a business date and its instants in the platform time
zone, which must stay representable (year 9999 overflows there)."""


@dataclass(frozen=True)
class Rejected:
    line: int
    error: str


class WatchLogRow(NamedTuple):
    """A watch log to store: an import line that passed the checks that need no database,
    or an ended live session."""

    number: int
    """The import line's number (0 for a live session)."""
    session_id: str
    """Canonical lower-case text form."""
    video_id: int
    viewer_id: int | None
    ip: str
    user_agent: str
    started_at: datetime
    ended_at: datetime
    business_date: date
    start_position_ms: int
    end_position_ms: int
    watched_seconds: int
    slots: tuple[int, ...]
    """The positions (seconds) of the ad slots reached."""

    def log_row(self, user_agent_id: int, ad_ids: list[int | None]) -> dict[str, Any]:
        """The ``watch_logs`` row, given the user agent's id and the ad of each reached slot."""
        return {
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "session_id": uuid.UUID(self.session_id),
            "business_date": self.business_date,
            "video_id": self.video_id,
            "viewer_id": self.viewer_id,
            "user_agent_id": user_agent_id,
            "start_position_ms": self.start_position_ms,
            "end_position_ms": self.end_position_ms,
            "watched_seconds": self.watched_seconds,
            "ip": self.ip,
            "ad_positions": list(self.slots) if self.slots else None,
            "ad_ids": ad_ids if self.slots else None,
        }

    def copy_text(self, ad_positions: str, ad_ids: str) -> str:
        """The row in COPY's text format (tab-separated, ``\\N`` for NULL), with the user
        agent as text and the two slot arrays already formatted."""
        viewer = NULL if self.viewer_id is None else self.viewer_id
        return (
            f"{self.started_at.isoformat()}\t{self.ended_at.isoformat()}\t{self.session_id}\t"
            f"{self.business_date.isoformat()}\t{self.video_id}\t{viewer}\t"
            f"{self.user_agent.translate(_COPY_ESCAPES)}\t{self.start_position_ms}\t"
            f"{self.end_position_ms}\t{self.watched_seconds}\t{self.ip}\t"
            f"{ad_positions}\t{ad_ids}\n"
        )


NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _is_int(value: object) -> TypeGuard[int]:
    return type(value) is int  # not bool


def _id(obj: dict[str, Any], name: str, errors: list[str], *, nullable: bool = False) -> int | None:
    value = obj.get(name)
    if value is None and nullable:
        return None
    if not _is_int(value) or not 1 <= value <= MAX_ID:
        errors.append(f"{name} must be a positive integer{' or null' if nullable else ''}")
        return None
    return int(value)


def _timestamp(obj: dict[str, Any], name: str, errors: list[str]) -> datetime | None:
    value = obj.get(name)
    if not isinstance(value, str):
        errors.append(f"{name} must be an ISO 8601 timestamp string")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        errors.append(f"{name} is not an ISO 8601 timestamp: {value[:40]!r}")
        return None
    if moment.utcoffset() is None:
        errors.append(f"{name} needs a time zone offset (naive timestamps are ambiguous)")
        return None
    try:
        in_range = EARLIEST <= moment < LATEST
    except OverflowError:  # year 1 with a positive offset is before 0001-01-01 UTC
        in_range = False
    if not in_range:
        errors.append(
            f"{name} {value[:40]!r} is out of range (from {EARLIEST.date().isoformat()} "
            f"to {LATEST.year - 1}-12-31 UTC)"
        )
        return None
    return moment


def _position(obj: dict[str, Any], name: str, errors: list[str]) -> int | None:
    value = obj.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        errors.append(f"{name} must be a number")
        return None
    if not math.isfinite(value) or value < 0:
        errors.append(f"{name} must not be negative")
        return None
    if value > MAX_POSITION_SECONDS:
        errors.append(f"{name} is beyond {MAX_POSITION_SECONDS} s")
        return None
    if isinstance(value, int):
        return value * 1000
    return int(value) * 1000 if value.is_integer() else position_to_ms(value)


def _uuid_text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = uuid.UUID(value)
    except ValueError:
        return None
    canonical = len(value) == 36 and value[8] == value[13] == value[18] == value[23] == "-"
    return value.lower() if canonical else str(parsed)


def _ip(value: object) -> str | None:
    """The address in its canonical text form; None if it is not one."""
    if not isinstance(value, str):
        return None
    try:
        socket.inet_pton(socket.AF_INET, value)  # fast path: dotted quad, no leading zeros
        return value
    except OSError:
        pass
    try:
        text = str(ipaddress.ip_address(value))
    except ValueError:
        return None
    return text if len(text) <= 45 else None


def parse_line(raw: bytes | str, number: int, tz: ZoneInfo) -> WatchLogRow | Rejected | None:
    """One line checked on its own (None for a blank line)."""
    if not raw.strip():
        return None
    try:
        obj = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        return Rejected(number, f"invalid JSON: {exc}")
    if not isinstance(obj, dict):
        return Rejected(number, "a line must be a JSON object")
    errors: list[str] = []
    session_id = _uuid_text(obj.get("session_id"))
    if session_id is None:
        errors.append("session_id must be a UUID string")
    video_id = _id(obj, "video_id", errors)
    viewer_id = _id(obj, "viewer_id", errors, nullable=True)
    ip = _ip(obj.get("ip"))
    if ip is None:
        errors.append("ip must be an IPv4 or IPv6 address")
    user_agent = obj.get("user_agent", "")
    if not isinstance(user_agent, str):
        errors.append("user_agent must be a string")
    elif len(user_agent) > MAX_USER_AGENT:
        errors.append(f"user_agent must be at most {MAX_USER_AGENT} characters")
    elif has_control_characters(user_agent):
        errors.append("user_agent must not contain control or bidirectional-override characters")
    started_at = _timestamp(obj, "started_at", errors)
    ended_at = _timestamp(obj, "ended_at", errors)
    start_ms = _position(obj, "start_position_seconds", errors)
    end_ms = _position(obj, "end_position_seconds", errors)
    watched = obj.get("watched_seconds")
    if not _is_int(watched) or watched < 0:
        errors.append("watched_seconds must be a non-negative integer")
        watched = None
    slots = obj.get("ad_slot_positions", [])
    if type(slots) is not list or any(type(s) is not int for s in slots):
        errors.append("ad_slot_positions must be a list of integers")
        slots = []
    elif len(set(slots)) != len(slots):
        errors.append("ad_slot_positions repeats a slot")
    if started_at is not None and ended_at is not None:
        length = (ended_at - started_at).total_seconds()
        if length < 0:
            errors.append("ended_at is before started_at")
        elif watched is not None and watched > length:
            errors.append(
                f"watched_seconds {watched} is beyond ended_at - started_at ({length:g} s)"
            )
    if errors:
        return Rejected(number, "; ".join(errors))
    assert session_id is not None and video_id is not None and ip is not None
    assert started_at is not None and ended_at is not None and watched is not None
    assert start_ms is not None and end_ms is not None
    return WatchLogRow(
        number=number,
        session_id=session_id,
        video_id=video_id,
        viewer_id=viewer_id,
        ip=ip,
        user_agent=user_agent,
        started_at=started_at,
        ended_at=ended_at,
        business_date=business_date(started_at, tz),
        start_position_ms=start_ms,
        end_position_ms=end_ms,
        watched_seconds=int(watched),
        slots=tuple(sorted(slots)),
    )
