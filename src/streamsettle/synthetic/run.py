"""Generate a catalogue and its watch logs: into PostgreSQL (COPY, K streams), into SQLite
(``executemany``, small sizes) or into a JSON Lines file for the import.

The catalogue (with the user agents the logs name) always goes to the database: the import
checks videos and slots against it. The logs go to the database or to the file. Slices of
units are spread over the streams, but each unit's content depends only on the seed, so
any number of streams writes the same rows.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from streamsettle.db import partitions
from streamsettle.db.models import WatchLog
from streamsettle.runtime import Runtime
from streamsettle.synthetic import streams
from streamsettle.synthetic.catalogue import Catalogue, create_catalogue
from streamsettle.synthetic.formats import sql_parameters
from streamsettle.synthetic.indexes import rebuilt_after_load
from streamsettle.synthetic.model import (
    Tables,
    Unit,
    creator_ip,
    draw,
    run_tag,
    zipf_cumulative,
    zipf_guide,
)
from streamsettle.synthetic.plan import GenerationPlan, Slice

Progress = Callable[[int], None]


@dataclass(frozen=True)
class GenerationResult:
    users: int
    videos: int
    ads: int
    ad_slots: int
    watch_logs: int
    slots_reached: int
    """Reached ad slots the logs list (elements of ``ad_positions``)."""
    catalogue_seconds: float
    logs_seconds: float
    streams: int
    out: Path | None


def build_tables(plan: GenerationPlan, catalogue: Catalogue, tz: ZoneInfo) -> Tables:
    first_viewer = catalogue.viewer_ids[0] if catalogue.viewer_ids else 0
    cum = zipf_cumulative(plan.videos, plan.zipf_exponent)
    return Tables(
        seed=plan.seed,
        run_tag=run_tag(plan.seed, catalogue.video_ids[0], first_viewer),
        shares=plan.shares,
        days=plan.business_days(tz),
        video_ids=np.array(catalogue.video_ids, dtype=np.int32),
        video_durations=np.array(catalogue.video_durations, dtype=np.int32),
        video_creators=np.array(catalogue.video_creators, dtype=np.int64),
        creator_ips=np.array(
            [creator_ip(c) for c in catalogue.video_creator_index], dtype=np.uint32
        ),
        popular_videos=np.array(catalogue.popular_videos, dtype=np.int64),
        popularity_cum=cum,
        popularity_guide=zipf_guide(cum),
        viewer_ids=np.array(catalogue.viewer_ids, dtype=np.int64),
        ad_ids=np.array(catalogue.active_ad_ids, dtype=np.int64),
        agent_ids=np.array(catalogue.user_agent_ids, dtype=np.int64),
    )


def conninfo(database_url: str) -> str:
    """The libpq URI of a SQLAlchemy PostgreSQL URL."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _pool(count: int, tables: Tables, dsn: str | None) -> Any:
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    context = multiprocessing.get_context(method)
    return context.Pool(count, initializer=streams.init_worker, initargs=(tables, dsn))


def _to_postgres(
    tables: Tables, pieces: list[Slice], dsn: str, count: int, on_progress: Progress | None
) -> tuple[int, int]:
    """The slices over ``count`` streams, then the repeats that start on a next day."""
    logs = slots = 0
    later: list[tuple[tuple[int, int], bytes]] = []

    def done(written: streams.Written) -> None:
        nonlocal logs, slots
        logs, slots = logs + written.logs, slots + written.slots
        if written.next_day is not None:
            later.append(written.next_day)
        if on_progress:
            on_progress(written.logs)

    if count > 1:
        pool = _pool(count, tables, dsn)
        try:
            for written in pool.imap_unordered(streams.copy_slice, pieces):
                done(written)
            pool.close()
            pool.join()
        finally:
            pool.terminate()
    # Opened after the pool's fork (the workers must not share its socket).
    stream = streams.CopyStream(tables, dsn)
    try:
        if count == 1:
            for piece in pieces:
                done(stream.write(piece))
        if later:
            stream.write_next_day(later)
    finally:
        stream.close()
    return logs, slots


def _jsonl_parts(
    tables: Tables, units: list[Unit], count: int
) -> Iterator[tuple[Unit, bytes, int]]:
    if count == 1:
        for unit in units:
            yield unit, *streams.unit_jsonl(tables, unit)
        return
    pool = _pool(count, tables, None)
    try:
        # imap keeps the order of the units, so the file is the same for any stream count.
        for unit, (data, slots) in zip(units, pool.imap(streams.jsonl_unit, units), strict=True):
            yield unit, data, slots
        pool.close()
        pool.join()
    finally:
        pool.terminate()


def _to_jsonl(
    tables: Tables, units: list[Unit], out: Path, count: int, on_progress: Progress | None
) -> tuple[int, int]:
    logs = slots = 0
    partial = out.with_name(out.name + ".partial")
    try:
        with partial.open("wb") as file:
            for unit, data, unit_slots in _jsonl_parts(tables, units, count):
                file.write(data)
                logs, slots = logs + unit.count, slots + unit_slots
                if on_progress:
                    on_progress(unit.count)
        partial.replace(out)
    finally:
        partial.unlink(missing_ok=True)
    return logs, slots


def _to_sqlite(
    runtime: Runtime, tables: Tables, units: list[Unit], on_progress: Progress | None
) -> tuple[int, int]:
    logs = slots = 0
    with runtime.db.engine.begin() as connection:
        for unit in units:
            drawn = draw(tables, unit)
            connection.execute(sa.insert(WatchLog), sql_parameters(tables, unit, drawn))
            logs, slots = logs + drawn.count, slots + int(drawn.slot_counts.sum())
            if on_progress:
                on_progress(unit.count)
    return logs, slots


def _days(first: date, count: int) -> list[date]:
    return [first + timedelta(days=i) for i in range(count)]


def default_streams() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def generate(
    runtime: Runtime,
    plan: GenerationPlan,
    *,
    out: Path | None = None,
    streams: int = 1,
    rebuild_indexes: bool = False,
    analyze: bool = True,
    on_progress: Progress | None = None,
) -> GenerationResult:
    """Create the plan's catalogue, then its ``plan.total_logs`` watch logs.

    ``rebuild_indexes`` (PostgreSQL only) drops the watch logs' key and foreign keys for
    the load and rebuilds them after it, partition by partition: several times faster, but
    only for a database nobody else writes to meanwhile. A failed load leaves the slices
    committed so far; generate into a fresh database.
    """
    tz = runtime.settings.tz
    started = time.perf_counter()
    with runtime.db.engine.begin() as connection:
        catalogue = create_catalogue(connection, plan, tz)
    catalogue_seconds = time.perf_counter() - started
    tables = build_tables(plan, catalogue, tz)
    units = [unit for unit in plan.units() if unit.count]
    started = time.perf_counter()
    if out is not None:
        count = max(1, min(streams, len(units)))
        logs, slots = _to_jsonl(tables, units, out, count, on_progress)
    elif runtime.db.is_sqlite:
        count = 1
        logs, slots = _to_sqlite(runtime, tables, units, on_progress)
    else:
        pieces = plan.slices(streams)
        count = max(1, min(streams, len(pieces)))
        with runtime.db.engine.begin() as connection:
            # A repeat late on the last day starts on the day after it.
            partitions.ensure_days(connection, _days(plan.start_date, plan.days + 1))
        dsn = conninfo(runtime.settings.database_url)
        with rebuilt_after_load(dsn) if rebuild_indexes else nullcontext():
            logs, slots = _to_postgres(tables, pieces, dsn, count, on_progress)
        if analyze:
            with runtime.db.engine.connect() as connection:
                connection.execute(sa.text("ANALYZE watch_logs"))
                connection.commit()
    return GenerationResult(
        users=plan.creators + plan.viewer_count + plan.advertiser_count,
        videos=plan.videos,
        ads=plan.ads,
        ad_slots=catalogue.slot_count,
        watch_logs=logs,
        slots_reached=slots,
        catalogue_seconds=catalogue_seconds,
        logs_seconds=time.perf_counter() - started,
        streams=count,
        out=out,
    )
