"""The viewer model: how synthetic watch logs are drawn, a whole unit at a time in NumPy.

One *unit* is a chunk of one business day, drawn from its own PCG64 generator seeded by
``(seed, day, chunk)``; the output therefore depends on the seed and the sizes only, never
on how many parallel streams drew it. Each random quantity is one column of a single
``(draws, count)`` matrix of uniforms, so a unit costs a few dozen array operations and no
Python work per row. Times are integer epoch milliseconds (UTC), positions whole seconds,
addresses IPv4 as 32-bit integers.

Per log:

- **repeat** (``shares.repeat`` of all logs): the same viewer (or anonymous address) opens
  the video of the unit's previous non-repeat, non-self session again 1 to 29 s after it
  started: a repeat view.
- **self view** (``shares.self_view`` of all logs): the video's creator watches it from
  their home address.
- otherwise a viewer: anonymous (``shares.anonymous``, an address out of 4 M in
  100.64.0.0/10) or one of the logged-in viewer pool (uniform; each has a home address
  in 10.0.0.0/8 and a browser). Pools are disjoint, so the shares hold exactly.

The video follows a Zipf law (weight ``1 / rank ** zipf_exponent`` over a shuffled order).
Start times follow a daily curve in the platform's time zone (quiet at 4 am, busiest at
9 pm), so sessions near midnight run into the next day while belonging to the day they
started on. A quarter of sessions resume mid-video; a third play to the end, the rest stop
at a uniform point; one in ten seeks ahead (the skipped part is not watched); one in five
pauses up to 5 minutes. Wall-clock time is watched time plus pauses plus up to 2 s of
buffering, so ``watched_seconds <= ended_at - started_at`` always. A session reaches the ad
slots ``p`` with ``start < p <= end`` (rule 3.2), each with the ad that fills it.

The rows of a unit are numbered (the last part of the session id) after ordering them by
their shape on the wire: whether they start on the next day, whether the viewer is
anonymous and how many slots they reached. The encoder then writes each shape as one block
of fixed-size records, and the ids still ascend in the order the rows are written. A
session id is the run tag, the day, the chunk and the number; a repeat that starts on the
next day takes that day, the reserved chunk 0xFFF and its unit's chunk and number, so it
sorts after the next day's own sessions (written before it): a day's partition is stored
in key order, and its primary key builds from presorted input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from itertools import accumulate

import numpy as np
import numpy.typing as npt

SLOT_EVERY = 300
MAX_SLOTS = 3600 // SLOT_EVERY
"""Most slots a session can reach: videos last at most an hour."""
CHUNK_LOGS = 50_000
"""Logs per unit: the grain of determinism, of parallelism and of the per-unit seed."""
MAX_CHUNKS_PER_DAY = 0xFFF
"""Chunk 0xFFF of a day is reserved: it names the previous day's repeats that start on it."""
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

_HOUR_CUM = np.array(list(accumulate(HOURLY_WEIGHTS)), dtype=np.float64)
_HOUR_LOW = _HOUR_CUM - np.array(HOURLY_WEIGHTS, dtype=np.float64)
_HOUR_MS = 3_600_000 / np.array(HOURLY_WEIGHTS, dtype=np.float64)
_HOUR_OF = np.repeat(np.arange(24), HOURLY_WEIGHTS)
"""The hour of each unit of the (integer) weights: the hour of ``x`` is that of ``int(x)``."""

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
UInt32Array = npt.NDArray[np.uint32]
BoolArray = npt.NDArray[np.bool_]


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
    video_ids: Int32Array
    video_durations: Int32Array
    video_creators: IntArray
    """Creator user id by video index."""
    creator_ips: UInt32Array
    """Home address of each video's creator, by video index."""
    popular_videos: IntArray
    """Video indexes in popularity order (rank 1 first)."""
    popularity_cum: npt.NDArray[np.float64]
    popularity_guide: Int32Array
    """``zipf_guide`` of ``popularity_cum``."""
    viewer_ids: IntArray
    ad_ids: IntArray
    """Active ads in id order: slot ``k`` (1-based) of the video with id ``i`` has
    ``ad_ids[(i - 1 + k - 1) % len(ad_ids)]``, the catalogue's round-robin fill."""
    agent_ids: IntArray
    """The ``user_agents`` id of each of ``USER_AGENTS``."""


@dataclass
class Drawn:
    """A unit's logs as columns, in session-id order (row ``n`` is session ``n``).

    Rows ``[0, today)`` belong to the unit's day, the rest (repeats that started after
    midnight) to the next one. ``shape_bounds`` delimits the runs of rows that share a wire
    shape: ``(next day, anonymous, slots reached)``.
    """

    count: int
    today: int
    started: IntArray
    ended: IntArray
    video_ids: Int32Array
    viewer_ids: IntArray
    """0 where anonymous."""
    anonymous: BoolArray
    agents: IntArray
    """Index into ``USER_AGENTS``."""
    ips: UInt32Array
    start_positions: IntArray
    end_positions: IntArray
    watched: IntArray
    first_slots: IntArray
    """First slot reached, 1-based (position ``300 * k``)."""
    slot_counts: IntArray
    shapes: list[tuple[int, int, bool, bool, int]]
    """``(first row, end row, next day, anonymous, slots)`` of each run of one shape."""


def zipf_cumulative(n: int, exponent: float) -> npt.NDArray[np.float64]:
    """Cumulative weights ``1 / rank ** exponent`` for ranks 1..n."""
    return np.cumsum(1.0 / np.arange(1, n + 1, dtype=np.float64) ** exponent)


def zipf_guide(cumulative: npt.NDArray[np.float64]) -> Int32Array:
    """For ``2**k`` equal steps of the total weight, the rank at each step's start (and one
    past the last): a draw in a step whose two ends have the same rank has that rank, with
    no search. ``k`` gives about eight steps per rank, so most draws need none."""
    steps = 1 << max(16, min(22, (8 * len(cumulative)).bit_length()))
    edges = np.arange(steps + 1) * (cumulative[-1] / steps)
    guide: Int32Array = np.searchsorted(cumulative, edges, side="right").astype(np.int32)
    return guide


def _zipf_ranks(tables: Tables, u: npt.NDArray[np.float64]) -> IntArray:
    """``searchsorted(cum, u * total)``, through the guide (``zipf_guide``)."""
    cum, guide = tables.popularity_cum, tables.popularity_guide
    step = (u * (len(guide) - 1)).astype(np.int64)
    rank = guide[step].astype(np.int64)
    ambiguous = np.flatnonzero(rank != guide[step + 1])
    rank[ambiguous] = np.searchsorted(cum, u[ambiguous] * cum[-1], side="right")
    return np.minimum(rank, len(cum) - 1)


def run_tag(seed: int, first_video_id: int, first_viewer_id: int) -> str:
    """Eight hex digits that start every session id of a run.

    They depend on the seed and where the catalogue's ids begin, so a fresh database gets
    the same ids for the same seed while a second run into the same database does not
    collide with the first.
    """
    digest = hashlib.sha256(f"{seed}:{first_video_id}:{first_viewer_id}".encode()).hexdigest()
    return digest[:8]


def viewer_ip(index: int) -> int:
    """Home address of logged-in viewer ``index`` (10.0.0.0/8) as an integer."""
    return (10 << 24) | (index & 0xFFFFFF)


def creator_ip(index: int) -> int:
    """Home address of creator ``index`` (172.16.0.0/12) as an integer."""
    return (172 << 24) | ((16 + ((index >> 16) & 15)) << 16) | (index & 0xFFFF)


def ip_text(address: int) -> str:
    return f"{address >> 24}.{(address >> 16) & 255}.{(address >> 8) & 255}.{address & 255}"


def _generator(tables: Tables, unit: Unit) -> np.random.Generator:
    entropy = [tables.seed % 2**64, unit.day_index, unit.chunk]
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(entropy)))


def _repeat_sources(repeat: BoolArray, self_view: BoolArray) -> tuple[BoolArray, IntArray]:
    """Which rows repeat and the row each repeats: the latest earlier non-repeat, non-self
    row. A repeat with no such row before it is a first session instead."""
    rows = np.arange(len(repeat))
    while True:
        eligible = ~repeat & ~self_view
        latest = np.maximum.accumulate(np.where(eligible, rows, -1))
        source = np.empty_like(latest)
        source[0] = -1
        source[1:] = latest[:-1]
        orphans = repeat & (source < 0)
        if not orphans.any():
            return repeat, source
        # Only rows before the first eligible one can be orphans: few, once per unit.
        repeat = repeat & ~orphans


def draw(tables: Tables, unit: Unit) -> Drawn:
    """The logs of one unit, always the same for the same tables and unit."""
    n = unit.count
    u = _generator(tables, unit).random((13, n))
    day = tables.days[unit.day_index]
    shares = tables.shares
    # Conditional probabilities that make the shares hold over all logs: repeats copy a
    # non-self first session, so they are anonymous as often as those are.
    p_self = shares.self_view / (1.0 - shares.repeat)
    p_anonymous = shares.anonymous / (1.0 - shares.self_view)
    repeat, source = _repeat_sources(u[0] < shares.repeat, u[4] < p_self)
    first = ~repeat
    self_view = first & (u[4] < p_self)
    anonymous = first & ~self_view & (u[5] < p_anonymous)
    logged_in = first & ~self_view & ~anonymous

    # Video: Zipf over the popularity order; start: piecewise uniform over the hours.
    video = tables.popular_videos[_zipf_ranks(tables, u[2])]
    x = u[3] * _HOUR_CUM[-1]
    hour = _HOUR_OF[x.astype(np.int64)]
    offset = hour * 3_600_000 + ((x - _HOUR_LOW[hour]) * _HOUR_MS[hour]).astype(np.int64)
    started = day.start_ms + np.minimum(offset, day.end_ms - day.start_ms - 1)

    # Who: creators from home, anonymous addresses, the viewer pool with a browser each.
    viewer = np.zeros(n, dtype=np.int64)
    ip = np.zeros(n, dtype=np.uint32)
    agent = np.zeros(n, dtype=np.int64)
    n_agents = len(USER_AGENTS)
    creators = tables.video_creators[video[self_view]]
    viewer[self_view] = creators
    ip[self_view] = tables.creator_ips[video[self_view]]
    agent[self_view] = creators % n_agents
    a = (u[6][anonymous] * (1 << 22)).astype(np.int64)
    ip[anonymous] = ((100 << 24) | ((64 + (a >> 16)) << 16) | (a & 0xFFFF)).astype(np.uint32)
    agent[anonymous] = a % n_agents
    w = (u[7][logged_in] * len(tables.viewer_ids)).astype(np.int64)
    viewer[logged_in] = tables.viewer_ids[w]
    ip[logged_in] = ((10 << 24) | (w & 0xFFFFFF)).astype(np.uint32)
    agent[logged_in] = w % n_agents

    # Repeats copy their source's video, viewer, address and browser, 1 to 29 s later.
    if repeat.any():
        src = source[repeat]
        video[repeat] = video[src]
        viewer[repeat] = viewer[src]
        anonymous[repeat] = anonymous[src]
        ip[repeat] = ip[src]
        agent[repeat] = agent[src]
        started[repeat] = started[src] + 1000 + (u[1][repeat] * 28_000).astype(np.int64)

    # Playback: positions in whole seconds, then the wall clock around them.
    duration = tables.video_durations[video].astype(np.int64)
    start = np.where(u[8] < 0.75, 0, (u[9] * duration * 0.9).astype(np.int64))
    stop = start + ((duration - start) * (u[10] - 0.33) / 0.67).astype(np.int64)
    end = np.where(u[10] < 0.33, duration, stop)
    span = end - start
    seek = u[11]
    # One in ten seeks ahead (skips up to half), one in five pauses up to 5 minutes.
    watched = np.where(seek < 0.1, span - (span * seek * 5.0).astype(np.int64), span)
    wall = watched * 1000 + (u[12] * 2000).astype(np.int64)
    wall += np.where(seek > 0.8, ((seek - 0.8) * 1_500_000).astype(np.int64), 0)
    first_slot = start // SLOT_EVERY + 1
    last_slot = np.minimum(end, duration - 1) // SLOT_EVERY
    slots = np.maximum(last_slot - first_slot + 1, 0)

    # Number the rows by wire shape (stable, so each shape keeps the drawing order).
    later = started >= day.end_ms
    # A 16-bit key: NumPy sorts it stably by radix, in linear time.
    key = ((later.astype(np.int64) << 8) | (anonymous.astype(np.int64) << 7) | slots).astype(
        np.uint16
    )
    order = np.argsort(key, kind="stable")
    key = key[order]
    edges = np.flatnonzero(np.diff(key)) + 1
    starts = np.concatenate(([0], edges)).tolist()
    ends = [*starts[1:], n] if n else []
    shapes = [
        (s, e, bool(k >> 8), bool((k >> 7) & 1), int(k & 0x7F))
        for s, e, k in zip(starts, ends, key[starts].tolist(), strict=True)
    ]
    return Drawn(
        count=n,
        today=int(n - later.sum()),
        started=started[order],
        ended=(started + wall)[order],
        video_ids=tables.video_ids[video[order]],
        viewer_ids=viewer[order],
        anonymous=anonymous[order],
        agents=agent[order],
        ips=ip[order],
        start_positions=start[order],
        end_positions=end[order],
        watched=watched[order],
        first_slots=first_slot[order],
        slot_counts=slots[order],
        shapes=shapes,
    )
