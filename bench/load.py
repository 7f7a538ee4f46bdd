"""Load N watch logs into PostgreSQL: the generator + binary COPY vs the server alone.

Ours: ``synthetic`` draws the logs with NumPy and writes them with binary COPY straight
into each day's partition, in K streams (processes). Two measurements of the server alone
run on the same database in the same run, with the same index mode:

- ``server_floor``: the very rows we loaded, spooled to local files in binary COPY format
  (one per partition, in stored order, synced to disk, not timed; each file deleted once
  copied) and streamed back unchanged into their
  partitions over K connections, each frozen (``TRUNCATE`` and ``COPY … FREEZE`` in one
  transaction). No client work is left in it, so it is the least this server needs to
  store these rows and build their keys: a loader of this row shape cannot be faster here.
- ``reference``: ``INSERT … SELECT FROM generate_series`` into each partition over K
  connections, with our row counts per day and the same columns and widths (the share of
  anonymous rows, the distribution of reached slots): the server generating rows itself.

Index modes:

- ``rebuild`` (default, faster): the key and foreign keys of ``watch_logs`` are dropped
  before the load and rebuilt per partition after it, inside the timed section;
- ``keep``: they stay in place during the load.

The record also gives ``python_side_one_stream``: drawing + binary encoding alone in one
process, the CPU a stream costs when the server keeps up, and ``phases``: where the time
went (dropping the keys, COPY, the partitions' keys, the parent's).

    python -m bench.load [--quick] [--rows N] [--streams K] [--index-mode rebuild|keep|both]
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import psycopg
from psycopg import sql

from bench import common
from streamsettle.config import Settings
from streamsettle.db.engine import Database
from streamsettle.db.partitions import partition_day
from streamsettle.runtime import Runtime
from streamsettle.synthetic import GenerationPlan, default_streams, generate
from streamsettle.synthetic.catalogue import Catalogue, draw_durations_and_creators
from streamsettle.synthetic.formats import copy_binary
from streamsettle.synthetic.indexes import TABLES, capture, drop, partitions_of, rebuild
from streamsettle.synthetic.model import CHUNK_LOGS, MAX_SLOTS, USER_AGENTS, draw
from streamsettle.synthetic.run import build_tables

SPOOL_BLOCK = 1 << 20
ROWS = common.Size("rows", "watch logs to load", full=50_000_000, quick=1_000_000)
START = date(2026, 1, 1)
INDEX_MODES = {
    "rebuild": "dropped before the load, rebuilt after it per partition (timed)",
    "keep": "present during the load",
}
PARENT = TABLES[0]


@dataclass(frozen=True)
class Sizes:
    rows: int
    videos: int
    creators: int
    days: int

    @classmethod
    def for_rows(cls, rows: int) -> Sizes:
        days = 30 if rows >= 10_000_000 else 5 if rows >= 100_000 else 1
        return cls(
            rows=rows,
            videos=max(100, min(100_000, rows // 500)),
            creators=max(10, min(10_000, rows // 5_000)),
            days=days,
        )


@dataclass(frozen=True)
class Shape:
    """What the reference must reproduce of our rows."""

    per_partition: dict[str, int]
    anonymous: float
    slots: list[int]
    """Rows by number of slots reached (index 0: none)."""


def _runtime(url: str) -> Runtime:
    settings = Settings(
        _env_file=None, database_url=url, jwt_secret=secrets.token_hex(32), log_json=False
    )
    return Runtime(settings=settings, db=Database(url), redis=None)


def _partitions(dsn: str) -> list[str]:
    with psycopg.connect(dsn) as connection:
        return partitions_of(connection, PARENT)


def _in_parallel(count: int, work: Callable[[str], None], partitions: list[str]) -> None:
    with ThreadPoolExecutor(max(1, count)) as pool:
        for done in [pool.submit(work, partition) for partition in partitions]:
            done.result()


def _timed_load(dsn: str, mode: str, load: Callable[[], Any]) -> tuple[dict[str, float], Any]:
    """``load`` between dropping and rebuilding the keys (``rebuild`` mode); the seconds of
    each phase and what ``load`` returned."""
    phases: dict[str, float] = {}
    common.checkpoint(dsn)
    with common.Stopwatch() as total:
        found = None
        if mode == "rebuild":
            with common.Stopwatch() as dropping, psycopg.connect(dsn) as connection:
                found = capture(connection)
                drop(connection, found)
            phases["drop_keys"] = dropping.seconds
        with common.Stopwatch() as loading:
            result = load()
        phases["load"] = loading.seconds
        if found is not None:
            for phase, seconds in rebuild(dsn, found).items():
                phases[f"rebuild_{phase}"] = seconds
    phases["total"] = total.seconds
    return {k: round(v, 3) for k, v in phases.items()}, result


def _shape(dsn: str) -> Shape:
    with psycopg.connect(dsn) as connection:
        per_partition: dict[str, int] = dict(
            connection.execute(
                "SELECT tableoid::regclass::text, count(*) FROM watch_logs GROUP BY 1"
            ).fetchall()
        )
        anonymous = connection.execute(
            "SELECT avg((viewer_id IS NULL)::int)::float FROM watch_logs"
        ).fetchone()
        by_slots: dict[int, int] = dict(
            connection.execute(
                "SELECT coalesce(cardinality(ad_positions), 0), count(*) FROM watch_logs GROUP BY 1"
            ).fetchall()
        )
    return Shape(
        per_partition=per_partition,
        anonymous=float(anonymous[0]) if anonymous and anonymous[0] is not None else 0.0,
        slots=[int(by_slots.get(k, 0)) for k in range(MAX_SLOTS + 1)],
    )


def _int_array(values: Sequence[int]) -> str:
    return "'{" + ",".join(map(str, values)) + "}'::integer[]"


def reference_insert(partition: str, rows: int, shape: Shape, ids: dict[str, int]) -> str:
    """One partition's ``INSERT … SELECT`` (ints only are interpolated)."""
    day = partition_day(partition)
    assert day is not None
    total = sum(shape.slots) or 1
    bounds, cumulative = [], 0
    for k, count in enumerate(shape.slots):
        cumulative += count
        bounds.append((k, round(rows * cumulative / total)))
    positions = " ".join(
        f"WHEN g < {bound} THEN {_int_array([300 * (i + 1) for i in range(k)])}"
        for k, bound in bounds
        if k
    )
    ads = " ".join(
        f"WHEN g < {bound} THEN {_int_array([ids['a0'] + i % ids['na'] for i in range(k)])}"
        for k, bound in bounds
        if k
    )
    no_slots = bounds[0][1]
    anonymous = round(shape.anonymous * 1000)
    t0 = f"'{day.isoformat()} 00:00:00+00'::timestamptz"
    return f"""
INSERT INTO {partition} (started_at, ended_at, session_id, business_date, video_id, viewer_id,
                         user_agent_id, start_position_ms, end_position_ms, watched_seconds,
                         ip, ad_positions, ad_ids)
SELECT {t0} + g * interval '1 ms', {t0} + g * interval '1 ms' + (g % 3600) * interval '1 s',
       ('{day:%Y%m%d}-0000-4000-8000-' || lpad(to_hex(g), 12, '0'))::uuid,
       '{day.isoformat()}'::date,
       {ids["v0"]} + g % {ids["nv"]},
       CASE WHEN g % 1000 < {anonymous} THEN NULL ELSE {ids["u0"]} + g % {ids["nu"]} END,
       {ids["ua0"]} + g % {len(USER_AGENTS)},
       0, (g % 3600) * 1000, g % 3600,
       '10.0.0.0'::inet + g,
       CASE WHEN g < {no_slots} THEN NULL {positions} END,
       CASE WHEN g < {no_slots} THEN NULL {ads} END
FROM generate_series(0, {rows - 1}) AS g
"""  # noqa: S608 (a partition name and integers)


def _reference(dsn: str, mode: str, streams: int, shape: Shape) -> dict[str, float]:
    with psycopg.connect(dsn, autocommit=True) as connection:
        found: Any = connection.execute(
            "SELECT (SELECT min(id) FROM videos), (SELECT count(*) FROM videos), "
            "(SELECT min(id) FROM users), (SELECT count(*) FROM users), "
            "(SELECT min(id) FROM ads), (SELECT count(*) FROM ads), "
            "(SELECT min(id) FROM user_agents)"
        ).fetchone()
    ids = dict(zip(("v0", "nv", "u0", "nu", "a0", "na", "ua0"), found, strict=True))
    ids["na"] = max(1, ids["na"])

    def insert(partition: str) -> None:
        rows = shape.per_partition.get(partition, 0)
        if not rows:
            return
        with psycopg.connect(dsn) as connection:
            connection.execute("SET synchronous_commit TO off")
            connection.execute(reference_insert(partition, rows, shape, ids).encode())

    partitions = sorted(shape.per_partition)
    phases, _ = _timed_load(dsn, mode, lambda: _in_parallel(streams, insert, partitions))
    return phases


def _spool(dsn: str, folder: Path, partitions: list[str]) -> None:
    """Each partition, as binary COPY, to ``folder/<partition>.copy``."""
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        # From the first block: a synchronised scan may start where an earlier one left
        # off, and the file would then not be in stored (key) order.
        cursor.execute("SET synchronize_seqscans TO off")
        for partition in partitions:
            statement = sql.SQL("COPY {} TO STDOUT (FORMAT BINARY)").format(
                sql.Identifier(partition)
            )
            with (folder / f"{partition}.copy").open("wb") as out, cursor.copy(statement) as copy:
                for block in copy:
                    out.write(block)
                # On disk before the timed section, so that its writeback is not timed.
                out.flush()
                os.fsync(out.fileno())


def _copy_back(dsn: str, path: Path) -> None:
    """One partition's file, frozen as the generator stores a day it writes whole."""
    name = sql.Identifier(path.stem)
    with psycopg.connect(dsn) as connection, connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")
        cursor.execute(sql.SQL("TRUNCATE {}").format(name))
        statement = sql.SQL("COPY {} FROM STDIN (FORMAT BINARY, FREEZE)").format(name)
        with path.open("rb") as spooled, cursor.copy(statement) as copy:
            while block := spooled.read(SPOOL_BLOCK):
                copy.write(block)
    # Its cached pages go with it, leaving the memory to the rebuild that follows.
    path.unlink()


def _truncate(dsn: str) -> None:
    with psycopg.connect(dsn) as connection:
        connection.execute(f"TRUNCATE {PARENT}")


def _server_floor(dsn: str, mode: str, streams: int) -> tuple[dict[str, float], int]:
    """Our rows again, streamed unchanged from a spool file per partition (see the
    docstring); the phases and the rows that arrived."""
    partitions = _partitions(dsn)
    with tempfile.TemporaryDirectory(prefix="streamsettle_bench_") as tmp:
        folder = Path(tmp)
        _spool(dsn, folder, partitions)
        _truncate(dsn)
        phases, _ = _timed_load(
            dsn,
            mode,
            lambda: _in_parallel(
                streams, lambda p: _copy_back(dsn, folder / f"{p}.copy"), partitions
            ),
        )
    with psycopg.connect(dsn) as connection:
        count = connection.execute("SELECT count(*) FROM watch_logs").fetchone()
    return phases, int(count[0]) if count else 0


def python_side(plan: GenerationPlan, logs: int) -> dict[str, float]:
    """Draw + binary encoding alone, in this process (one stream's CPU)."""
    durations, creator_index, order = draw_durations_and_creators(plan)
    creators = list(range(1, plan.creators + 1))
    catalogue = Catalogue(
        creator_ids=creators,
        viewer_ids=list(range(plan.creators + 1, plan.creators + 1 + plan.viewer_count)),
        advertiser_ids=[],
        ad_ids=[1, 2, 3, 4, 5],
        active_ad_ids=[1, 2, 3, 4, 5],
        video_ids=list(range(1, plan.videos + 1)),
        video_durations=durations,
        video_creators=[creators[c] for c in creator_index],
        video_creator_index=creator_index,
        popular_videos=order,
        slot_count=0,
        user_agent_ids=list(range(1, len(USER_AGENTS) + 1)),
    )
    tables = build_tables(plan, catalogue, ZoneInfo("Asia/Seoul"))
    units = [u for u in plan.units() if u.count][: max(1, logs // CHUNK_LOGS)]
    drawn_logs = slots = size = 0
    drawing = 0.0
    with common.Stopwatch() as watch:
        for unit in units:
            with common.Stopwatch() as drawing_one:
                drawn = draw(tables, unit)
            drawing += drawing_one.seconds
            rows = copy_binary(tables, unit, drawn)
            slots += rows.slots
            size += rows.today.size + rows.next_day.size
            drawn_logs += drawn.count
    return {
        "logs": drawn_logs,
        "seconds": round(watch.seconds, 3),
        "draw_seconds": round(drawing, 3),
        "encode_seconds": round(watch.seconds - drawing, 3),
        "rows_per_second": common.rate(drawn_logs, watch.seconds),
        "copy_bytes_per_row": round(size / max(1, drawn_logs), 1),
        "slots_per_log": round(slots / max(1, drawn_logs), 3),
    }


def measure(sizes: Sizes, streams: int, modes: Sequence[str], quick: bool) -> None:
    plan = GenerationPlan(
        videos=sizes.videos,
        creators=sizes.creators,
        days=sizes.days,
        logs_per_day=sizes.rows // sizes.days,
        start_date=START,
        seed=2026,
    )
    cpu = python_side(plan, 200_000 if quick else 1_000_000)
    for mode in modes:
        with common.throwaway_database() as url:
            dsn = common.conninfo(url)
            runtime = _runtime(url)
            try:
                phases, result = _timed_load(
                    dsn, mode, partial(generate, runtime, plan, streams=streams, analyze=False)
                )
            finally:
                runtime.close()
            # The catalogue is created inside the load; it is reported apart.
            seconds = phases["total"] - result.catalogue_seconds
            phases["catalogue"] = round(result.catalogue_seconds, 3)
            phases["copy"] = round(result.logs_seconds, 3)
            shape = _shape(dsn)
            floor, floor_rows = _server_floor(dsn, mode, result.streams)
            _truncate(dsn)
            reference = _reference(dsn, mode, result.streams, shape)
        common.emit(
            {
                "name": "load",
                "quick": quick,
                "target": ROWS.quick if quick else ROWS.full,
                "sizes": {
                    "watch_logs": result.watch_logs,
                    "slots_reached": result.slots_reached,
                    "partitions": len(shape.per_partition),
                    "videos": result.videos,
                    "ad_slots": result.ad_slots,
                    "users": result.users,
                    "days": sizes.days,
                    "streams": result.streams,
                },
                "indexes": INDEX_MODES[mode],
                "seconds": round(seconds, 3),
                "rows_per_second": common.rate(result.watch_logs, seconds),
                "copy_seconds": round(result.logs_seconds, 3),
                "index_rebuild_seconds": round(
                    sum(v for k, v in phases.items() if k.startswith("rebuild_")), 3
                ),
                "catalogue_seconds": round(result.catalogue_seconds, 3),
                "phases": phases,
                "vs_floor": round(seconds / floor["total"], 3) if floor["total"] else None,
                "python_side_one_stream": cpu,
                "server_floor": {
                    "name": "the same rows streamed back from binary COPY files per partition, "
                    "no client work",
                    "rows": floor_rows,
                    "seconds": floor["total"],
                    "rows_per_second": common.rate(floor_rows, floor["total"]),
                    "phases": floor,
                },
                "reference": {
                    "name": "INSERT ... SELECT FROM generate_series per partition "
                    "(same rows per day, columns and widths)",
                    "seconds": reference["total"],
                    "rows_per_second": common.rate(result.watch_logs, reference["total"]),
                    "phases": reference,
                },
            }
        )


def main(argv: Sequence[str] | None = None) -> None:
    args_parser = common.parser(__doc__, "load")
    ROWS.add(args_parser)
    args_parser.add_argument("--streams", type=int, help="parallel streams (default: cores, max 8)")
    args_parser.add_argument(
        "--index-mode", choices=[*INDEX_MODES, "both"], default="rebuild", help="see the docstring"
    )
    args = args_parser.parse_args(argv)
    rows = ROWS.of(args)
    modes = list(INDEX_MODES) if args.index_mode == "both" else [args.index_mode]
    measure(Sizes.for_rows(rows), args.streams or default_streams(), modes, args.quick)


if __name__ == "__main__":
    main(sys.argv[1:])
