"""Partitions: a day split into video id ranges that run in parallel, one connection each.

Ranges are contiguous and together cover every possible video id (the first starts at the
smallest BIGINT, the last ends at the largest), so a partition's DELETE also removes rows
of videos that no longer have logs that day. A video is never split across partitions, and
window functions partition by video, so each range is self-contained: partitions never
read or write each other's rows and cannot deadlock.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Date, bindparam, text

from streamsettle.config import Settings
from streamsettle.services.batch.sql import statements

MIN_VIDEO_ID = -(2**63)
MAX_VIDEO_ID = 2**63 - 1
# Each partition holds one pooled connection (pool 10 + overflow 20), plus the heartbeat's.
MAX_THREADS = 16

T = TypeVar("T")


@dataclass(frozen=True)
class VideoRange:
    """Partition ``index`` covers video ids ``lo..hi`` (both inclusive)."""

    index: int
    lo: int
    hi: int


FULL_RANGE = VideoRange(0, MIN_VIDEO_ID, MAX_VIDEO_ID)


def partition_count(settings: Settings, requested: int | None, *, is_sqlite: bool) -> int:
    """How many partitions: the request, else the setting, else the cores; 1 on SQLite
    (a single writer: parallel write transactions would only queue)."""
    if is_sqlite:
        return 1
    count = requested if requested else settings.batch_partitions
    if count < 0:
        raise ValueError(f"partitions must not be negative, got {count}")
    return count or os.cpu_count() or 1


def plan_ranges(conn: Connection, day: date, parts: int) -> list[VideoRange]:
    """Up to ``parts`` ranges with about the same number of the day's watch logs each."""
    if parts <= 1:
        return [FULL_RANGE]
    (sql,) = statements("partition_starts", conn.dialect.name)
    query = text(sql).bindparams(bindparam("day", type_=Date()))
    starts = [row[0] for row in conn.execute(query, {"day": day, "parts": parts})]
    return _ranges(starts)


def plan_ranges_from_counts(
    video_ids: npt.NDArray[np.int64], weights: npt.NDArray[np.int64], parts: int
) -> list[VideoRange]:
    """Up to ``parts`` ranges with about the same total ``weights`` each, from each video's
    weight: given each video's number of the day's logs, the ranges ``plan_ranges`` finds,
    without reading the day's logs again."""
    total = int(weights.sum())
    if parts <= 1 or total == 0:
        return [FULL_RANGE]
    order = np.argsort(video_ids, kind="stable")
    videos, counts = video_ids[order], weights[order]
    group = (np.cumsum(counts) - counts) * parts // total
    first = np.concatenate(([True], group[1:] != group[:-1]))
    return _ranges([int(video) for video in videos[first]])


def _ranges(starts: list[int]) -> list[VideoRange]:
    """The ranges that begin at ``starts`` (the first widened to the smallest id)."""
    if len(starts) <= 1:
        return [FULL_RANGE]
    bounds = [MIN_VIDEO_ID, *starts[1:], MAX_VIDEO_ID + 1]
    return [VideoRange(i, bounds[i], bounds[i + 1] - 1) for i in range(len(bounds) - 1)]


def run_parallel(ranges: Sequence[VideoRange], work: Callable[[VideoRange], T]) -> list[T]:
    """``work`` on every range, in parallel threads (psycopg releases the GIL while the
    database works). Every partition runs to its end even if another fails, then the first
    error is raised, so no transaction is left behind."""
    if len(ranges) == 1:
        return [work(ranges[0])]
    with ThreadPoolExecutor(
        max_workers=min(len(ranges), MAX_THREADS), thread_name_prefix="batch-partition"
    ) as pool:
        futures = [pool.submit(work, r) for r in ranges]
        errors = [f.exception() for f in futures]
    for error in errors:
        if error is not None:
            raise error
    return [f.result() for f in futures]
