"""Text forms of a session's ad slots and reached slots, shared by both stores."""

from __future__ import annotations

from collections.abc import Iterable, Sequence


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
