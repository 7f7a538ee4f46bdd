"""What to generate: sizes, seed and shape, validated once, and its split into units."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from itertools import pairwise
from math import ceil
from zoneinfo import ZoneInfo

from streamsettle.domain.periods import business_day_bounds
from streamsettle.errors import InvalidInput
from streamsettle.synthetic.model import (
    CHUNK_LOGS,
    MAX_CHUNKS_PER_DAY,
    MAX_DAYS,
    Day,
    Shares,
    Unit,
)

MAX_VIEWERS = 1 << 24
"""Logged-in viewers get home addresses in 10.0.0.0/8."""
MAX_CREATORS = 1 << 20
"""Creators get home addresses in 172.16.0.0/12."""


def default_viewers(logs_per_day: int) -> int:
    """A pool big enough that accidental repeat views stay rare (one viewer per 10 logs/day)."""
    return max(100, min(logs_per_day // 10, 1_000_000))


@dataclass(frozen=True)
class Slice:
    """Consecutive units of one day, written by one COPY into the day's partition."""

    units: tuple[Unit, ...]
    whole_day: bool = False
    """The slice is all of its day: the only writer of the day's partition."""

    @property
    def day_index(self) -> int:
        return self.units[0].day_index

    @property
    def count(self) -> int:
        return sum(unit.count for unit in self.units)

    def describe(self) -> str:
        first, last = self.units[0].chunk + 1, self.units[-1].chunk + 1
        chunks = f"chunk {first}" if first == last else f"chunks {first} to {last}"
        return f"day {self.day_index + 1}, {chunks}"


@dataclass(frozen=True)
class GenerationPlan:
    videos: int
    creators: int
    days: int
    logs_per_day: int
    start_date: date
    seed: int = 0
    viewers: int | None = None
    """Logged-in viewer pool; ``None`` for :func:`default_viewers`."""
    ads: int = 5
    zipf_exponent: float = 1.0
    shares: Shares = field(default_factory=Shares)

    def __post_init__(self) -> None:
        checks = [
            (1 <= self.videos <= 10_000_000, "videos must be from 1 to 10,000,000"),
            (1 <= self.creators <= MAX_CREATORS, f"creators must be from 1 to {MAX_CREATORS:,}"),
            (1 <= self.days < MAX_DAYS, f"days must be from 1 to {MAX_DAYS - 1:,}"),
            (
                0 <= self.logs_per_day <= CHUNK_LOGS * MAX_CHUNKS_PER_DAY,
                f"logs per day must be from 0 to {CHUNK_LOGS * MAX_CHUNKS_PER_DAY:,}",
            ),
            (0 <= self.ads <= 10_000, "ads must be from 0 to 10,000"),
            (0.0 <= self.zipf_exponent <= 5.0, "the Zipf exponent must be from 0 to 5"),
            (
                self.viewers is None or 1 <= self.viewers <= MAX_VIEWERS,
                f"viewers must be from 1 to {MAX_VIEWERS:,}",
            ),
        ]
        problems = [message for ok, message in checks if not ok]
        if problems:
            raise InvalidInput("; ".join(problems), {"problems": problems})

    @property
    def viewer_count(self) -> int:
        return self.viewers if self.viewers is not None else default_viewers(self.logs_per_day)

    @property
    def advertiser_count(self) -> int:
        return min(self.ads, 3)

    @property
    def total_logs(self) -> int:
        return self.days * self.logs_per_day

    def units(self) -> list[Unit]:
        """Day by day, chunks of at most ``CHUNK_LOGS`` logs."""
        units = []
        for day in range(self.days):
            for chunk, first in enumerate(range(0, self.logs_per_day, CHUNK_LOGS)):
                units.append(Unit(day, chunk, min(CHUNK_LOGS, self.logs_per_day - first)))
        return units

    def slices(self, streams: int) -> list[Slice]:
        """The units cut into runs of one day, one COPY each, in day order.

        A day is one slice when there are at least two days per stream (the streams then
        end within a day of each other), so one writer stores it in key order and may
        freeze it (``streams``); with fewer days, each is cut in pieces to keep the
        streams busy. Only the grouping depends on ``streams``, never a row.
        """
        units = [unit for unit in self.units() if unit.count]
        per_day = len(units) // self.days
        if not per_day:
            return []
        whole = self.days >= 2 * streams
        pieces = 1 if whole else max(1, min(per_day, ceil(4 * streams / self.days)))
        slices = []
        for day in range(self.days):
            of_day = units[day * per_day : (day + 1) * per_day]
            bounds = [round(i * per_day / pieces) for i in range(pieces + 1)]
            slices += [
                Slice(tuple(of_day[a:b]), whole_day=pieces == 1)
                for a, b in pairwise(bounds)
                if b > a
            ]
        return slices

    def business_days(self, tz: ZoneInfo) -> list[Day]:
        return business_days(self.start_date, self.days, tz)


def business_days(first: date, count: int, tz: ZoneInfo) -> list[Day]:
    """Each day's bounds in epoch ms (23 or 25 h across a DST change)."""
    days = []
    for i in range(count):
        current = first + timedelta(days=i)
        start, end = business_day_bounds(current, tz)
        days.append(
            Day(
                start_ms=int(start.timestamp()) * 1000,
                end_ms=int(end.timestamp()) * 1000,
                iso=current.isoformat(),
                next_iso=(current + timedelta(days=1)).isoformat(),
            )
        )
    return days
