"""The viewer model: how synthetic watch logs are drawn (stdlib only, plain integers).

One *unit* is a chunk of one business day, drawn from its own ``random.Random`` seeded by
``(seed, day, chunk)``; the output therefore depends on the seed and the sizes only, never
on how many parallel streams drew it. Times are integer epoch milliseconds (UTC) and
positions whole seconds, so no datetime object is built per row.

Per log, in this order:

- **repeat** (``shares.repeat`` of all logs): the same viewer (or anonymous IP) opens the
  previous non-self session's video again 1 to 29 s after it started: a repeat view.
- **self view** (``shares.self_view`` of all logs): the video's creator watches it.
- otherwise a viewer: anonymous (``shares.anonymous``, an address out of 4 M in
  100.64.0.0/10) or one of the logged-in viewer pool (uniform; each has a home address
  in 10.0.0.0/8 and a browser). Pools are disjoint, so the shares hold exactly.

The video follows a Zipf law (weight ``1 / rank ** zipf_exponent`` over a shuffled order).
Start times follow a daily curve (quiet at 4 am, busiest at 9 pm local), so sessions near
midnight run into the next day while belonging to the day they started on. A quarter of
sessions resume mid-video; a third play to the end, the rest stop at a uniform point; one
in ten seeks ahead (the skipped part is not watched); one in five pauses up to 5 minutes.
Wall-clock time is watched time plus pauses plus up to 2 s of buffering, so
``watched_seconds <= ended_at - started_at`` always. A session reaches the ad slots ``p``
with ``start < p <= end`` (rule 3.2), each with the ad that fills it.
"""

from __future__ import annotations

import hashlib
import random
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import accumulate

SLOT_EVERY = 300
CHUNK_LOGS = 50_000
"""Logs per unit: the grain of parallelism, of progress and of the per-unit seed."""
MAX_CHUNKS_PER_DAY = 0x1000
MAX_DAYS = 0x10000

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; SM-S918N) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/124.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "StreamSettlePlayer/3.2 (Android TV; 12)",
    "StreamSettlePlayer/3.2 (tvOS 17.4)",
)

HOURLY_WEIGHTS = (
    30, 18, 10, 6, 4, 5, 10, 20, 30, 32, 34, 38,
    45, 44, 40, 42, 48, 58, 72, 88, 98, 100, 86, 55,
)  # fmt: skip
"""Relative share of sessions starting in each local hour (0 h .. 23 h)."""


@dataclass(frozen=True)
class Shares:
    """Target shares of all logs."""

    anonymous: float = 0.15
    self_view: float = 0.01
    repeat: float = 0.03

    def __post_init__(self) -> None:
        for name in ("anonymous", "self_view", "repeat"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"the {name} share must be in [0, 1)")
        if self.anonymous + self.self_view + self.repeat >= 1.0:
            raise ValueError("the shares must leave room for logged-in, counted views")


@dataclass(frozen=True)
class Unit:
    """A chunk of one day: ``count`` logs drawn with the seed of ``(day_index, chunk)``."""

    day_index: int
    chunk: int
    count: int


@dataclass(frozen=True)
class Day:
    """A business day as the model needs it: its bounds in epoch ms and its date."""

    start_ms: int
    end_ms: int
    iso: str
    next_iso: str


@dataclass
class Tables:
    """Everything a stream needs to draw logs, precomputed once (picklable)."""

    seed: int
    run_tag: str
    shares: Shares
    days: list[Day]
    video_ids: list[int]
    video_durations: list[int]
    video_creators: list[int]
    creator_ips: list[str]
    """Home address of each video's creator, by video index."""
    popular_videos: list[int]
    """Video indexes in popularity order (rank 1 first)."""
    popularity_cum: list[float]
    viewer_ids: list[int]
    ad_ids: list[int]
    """Active ads in id order: slot ``k`` (1-based) of the video with id ``i`` has
    ``ad_ids[(i - 1 + k - 1) % len(ad_ids)]``, the catalogue's round-robin fill."""


LogRow = tuple[int, bool, int, int | None, str, int, int, int, int, int, int, int, int]
"""Number in the unit, starts on the next day (a repeat after 23:59:31), video id, viewer id,
ip, user agent index, started and ended (epoch ms), start and end position, watched
seconds, first and last slot reached (1-based, ``300 * k``; none when last < first)."""


def zipf_cumulative(n: int, exponent: float) -> list[float]:
    """Cumulative weights ``1 / rank ** exponent`` for ranks 1..n."""
    return list(accumulate(1.0 / rank**exponent for rank in range(1, n + 1)))


def run_tag(seed: int, first_video_id: int, first_viewer_id: int) -> str:
    """Eight hex digits that start every session id of a run.

    They depend on the seed and where the catalogue's ids begin, so a fresh database gets
    the same ids for the same seed while a second run into the same database does not
    collide with the first.
    """
    digest = hashlib.sha256(f"{seed}:{first_video_id}:{first_viewer_id}".encode()).hexdigest()
    return digest[:8]


def viewer_ip(index: int) -> str:
    return f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


def creator_ip(index: int) -> str:
    return f"172.{16 + ((index >> 16) & 15)}.{(index >> 8) & 255}.{index & 255}"


def draw_unit(tables: Tables, unit: Unit) -> list[LogRow]:
    """The logs of one unit, always the same for the same tables and unit."""
    return [row for block in iter_unit(tables, unit) for row in block]


def iter_unit(tables: Tables, unit: Unit, block: int = 5_000) -> Iterator[list[LogRow]]:
    """The logs of one unit in blocks of ``block`` rows, so a writer can stream them while
    the rest is drawn; the rows do not depend on ``block``."""
    rng = random.Random(f"{tables.seed}/{unit.day_index}/{unit.chunk}")
    rnd = rng.random
    bits = rng.getrandbits
    day = tables.days[unit.day_index]
    start_of_day, end_of_day = day.start_ms, day.end_ms
    last_ms = end_of_day - start_of_day - 1
    # Start times: piecewise uniform over the hours, one random number per draw.
    hour_cum = list(accumulate(HOURLY_WEIGHTS))
    hour_low = [c - w for c, w in zip(hour_cum, HOURLY_WEIGHTS, strict=True)]
    hour_ms = [3_600_000 / w for w in HOURLY_WEIGHTS]
    hour_total = hour_cum[-1]
    shares = tables.shares
    p_repeat = shares.repeat
    # Conditional probabilities that make the shares hold over all logs: repeats copy a
    # non-self log, so they are anonymous as often as non-self first sessions are.
    p_self = shares.self_view / (1.0 - p_repeat)
    p_anonymous = shares.anonymous / (1.0 - shares.self_view)
    popular = tables.popular_videos
    cum = tables.popularity_cum
    total_weight = cum[-1]
    top = len(cum) - 1
    ids = tables.video_ids
    durations = tables.video_durations
    creators = tables.video_creators
    creator_ips = tables.creator_ips
    viewers = tables.viewer_ids
    n_viewers = len(viewers)
    n_agents = len(USER_AGENTS)
    viewer_ips: dict[int, str] = {}
    rows: list[LogRow] = []
    append = rows.append
    flush_at = block
    # The last non-self first session: what a repeat repeats.
    last: tuple[int, int | None, str, int, int] | None = None

    for n in range(unit.count):
        if n == flush_at:
            yield rows
            rows = []
            append = rows.append
            flush_at += block
        if last is not None and rnd() < p_repeat:
            v, viewer, ip, agent, previous_start = last
            started = previous_start + 1000 + int(rnd() * 28_000)
        else:
            v = popular[bisect_right(cum, rnd() * total_weight, 0, top)]
            x = rnd() * hour_total
            hour = bisect_right(hour_cum, x, 0, 23)
            offset = hour * 3_600_000 + int((x - hour_low[hour]) * hour_ms[hour])
            started = start_of_day + (offset if offset < last_ms else last_ms)
            if rnd() < p_self:
                viewer = creators[v]
                ip = creator_ips[v]
                agent = viewer % n_agents
            elif rnd() < p_anonymous:
                viewer = None
                a = bits(22)
                ip = f"100.{64 + (a >> 16)}.{(a >> 8) & 255}.{a & 255}"
                agent = a % n_agents
                last = (v, viewer, ip, agent, started)
            else:
                w = int(rnd() * n_viewers)
                viewer = viewers[w]
                ip = viewer_ips.get(w) or viewer_ips.setdefault(w, viewer_ip(w))
                agent = w % n_agents
                last = (v, viewer, ip, agent, started)
        duration = durations[v]
        start_pos = 0 if rnd() < 0.75 else int(rnd() * duration * 0.9)
        u = rnd()
        if u < 0.33:
            end_pos = duration
        else:
            end_pos = start_pos + int((duration - start_pos) * (u - 0.33) / 0.67)
        span = end_pos - start_pos
        u = rnd()
        # One in ten seeks ahead (skips up to half), one in five pauses up to 5 minutes.
        watched = span - int(span * u * 5.0) if u < 0.1 else span
        wall = watched * 1000 + int(rnd() * 2000)
        if u > 0.8:
            wall += int((u - 0.8) * 1_500_000)
        append(
            (
                n,
                started >= end_of_day,
                ids[v],
                viewer,
                ip,
                agent,
                started,
                started + wall,
                start_pos,
                end_pos,
                watched,
                start_pos // SLOT_EVERY + 1,
                (end_pos if end_pos < duration else duration - 1) // SLOT_EVERY,
            )
        )
    if rows:
        yield rows
