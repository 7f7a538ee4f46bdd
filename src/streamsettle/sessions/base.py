"""The live session store: what a live playback session holds and what a store must do.

Two implementations share this contract: Redis (production, one Lua call per report) and the
database (the embedded mode, table ``live_playback_sessions``). Both apply rules 3.1 and 3.2
exactly like ``domain.playback.apply_heartbeat``, in integer milliseconds, with the clock
passed in (``now_ms``) so that callers and tests decide what time it is.

A session moves ``live`` -> ``stopped`` (a stop, or the flusher closing it after the idle
timeout) -> gone (the flusher deletes it after its watch log is committed). ``claim_*``
closes and leases sessions; ``release`` deletes them. Claiming twice is harmless: the watch
log insert is idempotent on the session id, so a crash between commit and release only
means the next claim writes nothing new and releases. A stop's watch log is written before
the stop is answered; the flusher still claims and releases the stopped session.

A store that can lose its data (Redis) reports the sessions changed since they were last
taken (``take_changed``) so that the flusher checkpoints them in the database, says which
sessions it still holds (``holding``) and whether it lost its data (``lost_data``).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Protocol

from streamsettle.domain.playback import Progress


class SessionState(StrEnum):
    LIVE = "live"
    STOPPED = "stopped"
    """Stopped by the player or closed by the flusher; waiting to become a watch log."""


@dataclass(frozen=True)
class LiveSession:
    """Everything needed to go on applying reports and, at the end, to write the watch log."""

    session_id: uuid.UUID
    video_id: int
    duration_ms: int
    ad_slots: tuple[tuple[int, int | None], ...]
    """``(position_seconds, ad_id)`` of each slot as placed when the session started."""
    viewer_id: int | None
    ip: str
    user_agent: str
    started_at_ms: int
    business_date: date
    start_position_ms: int
    progress: Progress
    state: SessionState = SessionState.LIVE
    ended_at_ms: int | None = None

    @property
    def slot_positions(self) -> list[int]:
        return [position for position, _ad in self.ad_slots]


@dataclass(frozen=True)
class Limit:
    """At most ``count`` events for ``key`` (e.g. ``ip:1.2.3.4``) per fixed window of
    ``window_ms``: heartbeats count in one-second windows, logins in minutes."""

    key: str
    count: int
    window_ms: int = 1000

    def window_key(self, now_ms: int) -> str:
        """The counter of the window ``now_ms`` falls in."""
        return f"rl:{self.key}:{self.window_ms}:{now_ms // self.window_ms}"

    @property
    def spec(self) -> str:
        """``count:window_ms``, as the Lua counting function reads it."""
        return f"{self.count}:{self.window_ms}"


@dataclass(frozen=True, slots=True)
class Report:
    """One heartbeat, or the stop (a final playing report), as a store applies it."""

    session_id: uuid.UUID
    caller_id: int | None
    """The signed-in user sending it; None for an anonymous caller."""
    seq: int
    position_ms: int
    playing: bool
    stop: bool
    now_ms: int


class ReportStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    """A seq already seen or older than the newest: ignored, current totals returned."""
    ENDED = "ended"
    """The session is stopped or closed: a heartbeat is refused, a second stop is a no-op."""
    NOT_FOUND = "not_found"
    UNAUTHENTICATED = "unauthenticated"
    REVOKED = "revoked"
    """The caller's access token or its login is revoked (only when the store checks it)."""
    REVOCATIONS_MISSING = "revocations_missing"
    """The store cannot check the caller's token: its copy of the revocations is gone (Redis
    lost its data). Nothing was applied; load them and send the report again."""
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"


@dataclass(frozen=True)
class ReportOutcome:
    status: ReportStatus
    watched_ms: int = 0
    slots_reached: tuple[int, ...] = ()
    retry_after_ms: int = 0


class SessionStore(Protocol):
    """Live playback sessions, keyed by their unguessable uuid4."""

    def create(self, session: LiveSession) -> None:
        """Store a new live session."""

    def report(self, report: Report, *, limits: Sequence[Limit] = ()) -> ReportOutcome:
        """Apply one heartbeat (or the stop, a final playing report) atomically.

        Checks, in order: ``limits`` (fixed one-second windows, counted even for refused
        reports), existence, the viewer (a session started with a token takes reports only
        from that user; an anonymous one from anyone holding its id), the state, the seq.
        """

    def claim_due(
        self, *, now_ms: int, idle_before_ms: int, lease_ms: int, limit: int
    ) -> list[LiveSession]:
        """Close and lease up to ``limit`` sessions that are stopped (and not leased) or
        whose last accepted report is at or before ``idle_before_ms``; a session closed for
        idleness ends at its last accepted report."""

    def claim_day(self, day: date, *, now_ms: int, lease_ms: int, limit: int) -> list[LiveSession]:
        """Close and lease up to ``limit`` sessions that started on business date ``day``,
        idle or not, leased or not."""

    def release(self, sessions: Sequence[LiveSession]) -> None:
        """Delete sessions whose watch logs are committed."""

    def live_count(self) -> int:
        """Sessions held, live or waiting for the flusher."""

    def get(self, session_id: uuid.UUID) -> LiveSession | None:
        """The session as held now, or None once released (or never held)."""

    def take_changed(self, limit: int) -> list[LiveSession]:
        """Up to ``limit`` sessions started or changed by an accepted report since they were
        last taken, as held now (any state); empty for a store that cannot lose them."""

    def holding(self, session_ids: Sequence[uuid.UUID]) -> set[uuid.UUID]:
        """Which of these sessions the store still holds."""

    def lost_data(self) -> bool:
        """True once after the store lost what it held (and the first time it is asked):
        a marker the store keeps was missing; it is set again by this call."""
