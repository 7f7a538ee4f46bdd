"""Watched time and ad slots of one session (rule 3.1, 3.2), in integer milliseconds.

Integers keep the rules exact and let the Redis Lua script mirror them step for step
(Lua numbers are doubles, exact for integers up to 2**53).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import ROUND_DOWN, Decimal

WALL_CLOCK_GRACE_MS = 2000
"""A heartbeat may gain up to the wall-clock time since the last one plus this grace."""


def position_to_ms(position: Decimal | int | float) -> int:
    """Seconds (fractions allowed) to whole ms, truncated toward zero.

    A float is read through its shortest repr (``1.001`` -> 1001 ms) so that a JSON number
    parsed as float gives the same result as one parsed as Decimal.
    """
    if isinstance(position, bool) or not isinstance(position, Decimal | int | float):
        raise TypeError(f"position must be a number, not {type(position).__name__}")
    value = Decimal(repr(position)) if isinstance(position, float) else Decimal(position)
    if not value.is_finite():
        raise ValueError(f"position must be finite, got {position!r}")
    return int((value * 1000).to_integral_value(rounding=ROUND_DOWN))


@dataclass(frozen=True)
class Progress:
    """Where a session stands after its last accepted report (the baseline for the next)."""

    position_ms: int
    at_ms: int
    watched_ms: int
    last_seq: int
    slots_reached: frozenset[int]
    """Positions, in whole seconds, of the ad slots this session has reached."""

    @classmethod
    def start(cls, position_ms: int, at_ms: int, duration_ms: int | None = None) -> Progress:
        """A fresh session at its start position (clamped like any position)."""
        upper = position_ms if duration_ms is None else duration_ms
        return cls(
            position_ms=_clamp(position_ms, upper),
            at_ms=at_ms,
            watched_ms=0,
            last_seq=0,
            slots_reached=frozenset(),
        )


def _clamp(position_ms: int, duration_ms: int) -> int:
    return max(0, min(position_ms, duration_ms))


def apply_heartbeat(
    p: Progress,
    *,
    seq: int,
    position_ms: int,
    playing: bool,
    at_ms: int,
    duration_ms: int,
    slot_positions: Sequence[int],
) -> tuple[Progress, bool]:
    """Advance by one report; ``(p, False)`` for a duplicate or out-of-order ``seq``.

    Playing forward gains ``min(Δposition, max(Δwall, 0) + 2 s)`` and reaches every slot
    ``s`` with ``old < s*1000 <= new`` (seeking past a mid-roll plays it). Paused or
    backward gains nothing. The baseline always moves to an accepted report.
    """
    if seq <= p.last_seq:
        return p, False
    if duration_ms < 0:
        raise ValueError(f"duration must not be negative, got {duration_ms}")
    new_pos = _clamp(position_ms, duration_ms)
    gained = 0
    slots = p.slots_reached
    if playing and new_pos > p.position_ms:
        wall_ms = max(at_ms - p.at_ms, 0)
        gained = min(new_pos - p.position_ms, wall_ms + WALL_CLOCK_GRACE_MS)
        passed = {s for s in slot_positions if p.position_ms < s * 1000 <= new_pos}
        if passed - slots:
            slots = slots | passed
    progress = replace(
        p,
        position_ms=new_pos,
        at_ms=at_ms,
        watched_ms=p.watched_ms + gained,
        last_seq=seq,
        slots_reached=slots,
    )
    return progress, True


def apply_stop(
    p: Progress,
    *,
    seq: int,
    position_ms: int,
    at_ms: int,
    duration_ms: int,
    slot_positions: Sequence[int],
) -> Progress:
    """The stop is a final playing report; a stale ``seq`` closes the session, gaining nothing."""
    progress, _accepted = apply_heartbeat(
        p,
        seq=seq,
        position_ms=position_ms,
        playing=True,
        at_ms=at_ms,
        duration_ms=duration_ms,
        slot_positions=slot_positions,
    )
    return progress


def watched_seconds(p: Progress) -> int:
    """Whole seconds for the watch log (rounded down)."""
    return p.watched_ms // 1000
