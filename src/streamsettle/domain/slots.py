"""Ad slots (docs/rules.md): default positions and the round-robin fill at video creation."""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_SLOT_INTERVAL_SECONDS = 300


def default_slot_positions(
    duration_seconds: int, every: int = DEFAULT_SLOT_INTERVAL_SECONDS
) -> list[int]:
    """Positions ``every, 2*every, ...`` strictly below the duration (900 s -> [300, 600])."""
    if every <= 0:
        raise ValueError(f"slot interval must be positive, got {every}")
    if duration_seconds < 0:
        raise ValueError(f"duration must not be negative, got {duration_seconds}")
    return list(range(every, duration_seconds, every))


def fill_round_robin(
    positions: Sequence[int], active_ad_ids: Sequence[int], offset: int = 0
) -> list[tuple[int, int | None]]:
    """Slot i gets ``active_ad_ids[(offset + i) % n]``; None when no ad is active."""
    n = len(active_ad_ids)
    return [
        (position, active_ad_ids[(offset + i) % n] if n else None)
        for i, position in enumerate(positions)
    ]
