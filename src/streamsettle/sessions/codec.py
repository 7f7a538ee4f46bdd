"""How a session is stored, shared by the stores and the flusher's checkpoints: the text
forms of its ad slots and reached slots, epoch milliseconds, and a row back to a session."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from streamsettle.domain.playback import Progress
from streamsettle.sessions.base import LiveSession, SessionState

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ms_to_datetime(ms: int) -> datetime:
    return _EPOCH + timedelta(milliseconds=ms)


def datetime_to_ms(moment: datetime) -> int:
    return (moment - _EPOCH) // timedelta(milliseconds=1)


def encode_slots(ad_slots: Sequence[tuple[int, int | None]]) -> str:
    """``((300, 5), (600, None))`` -> ``"300:5,600:"``."""
    return ",".join(f"{position}:{'' if ad is None else ad}" for position, ad in ad_slots)


def decode_slots(text: str) -> tuple[tuple[int, int | None], ...]:
    pairs = []
    for item in filter(None, text.split(",")):
        position, _, ad = item.partition(":")
        pairs.append((int(position), int(ad) if ad else None))
    return tuple(pairs)


def encode_reached(positions: Iterable[int]) -> str:
    return ",".join(str(p) for p in sorted(positions))


def decode_reached(text: str) -> tuple[int, ...]:
    """Slot positions, ascending (the Lua script appends them in the order reached)."""
    return tuple(sorted(int(s) for s in text.split(",") if s))


class StoredSession(Protocol):
    """A session as a table row holds it: the live sessions of the database store, and the
    flusher's checkpoints of Redis sessions."""

    video_id: int
    duration_ms: int
    ad_slots: str
    viewer_id: int | None
    ip: str
    user_agent: str
    started_at: datetime
    start_position_ms: int
    position_ms: int
    at_ms: int
    watched_ms: int
    last_seq: int
    slots_reached: str


def stored_progress(row: StoredSession) -> Progress:
    return Progress(
        position_ms=row.position_ms,
        at_ms=row.at_ms,
        watched_ms=row.watched_ms,
        last_seq=row.last_seq,
        slots_reached=frozenset(decode_reached(row.slots_reached)),
    )


def stored_session(
    row: StoredSession,
    session_id: uuid.UUID,
    business_date: date,
    state: SessionState = SessionState.LIVE,
    ended_at_ms: int | None = None,
) -> LiveSession:
    """The ``LiveSession`` a row holds."""
    return LiveSession(
        session_id=session_id,
        video_id=row.video_id,
        duration_ms=row.duration_ms,
        ad_slots=decode_slots(row.ad_slots),
        viewer_id=row.viewer_id,
        ip=row.ip,
        user_agent=row.user_agent,
        started_at_ms=datetime_to_ms(row.started_at),
        business_date=business_date,
        start_position_ms=row.start_position_ms,
        progress=stored_progress(row),
        state=state,
        ended_at_ms=ended_at_ms,
    )


def stored_columns(session: LiveSession) -> dict[str, Any]:
    """The columns a row holds for ``session`` (the inverse of ``stored_session``; the
    row's key, date and state are the caller's)."""
    p = session.progress
    return {
        "video_id": session.video_id,
        "viewer_id": session.viewer_id,
        "ip": session.ip,
        "user_agent": session.user_agent,
        "started_at": ms_to_datetime(session.started_at_ms),
        "duration_ms": session.duration_ms,
        "ad_slots": encode_slots(session.ad_slots),
        "start_position_ms": session.start_position_ms,
        "position_ms": p.position_ms,
        "at_ms": p.at_ms,
        "watched_ms": p.watched_ms,
        "last_seq": p.last_seq,
        "slots_reached": encode_reached(p.slots_reached),
    }
