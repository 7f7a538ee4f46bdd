"""The generator is a function of its seed and sizes: same seed, same bytes and same rows,
whatever the number of streams, and the COPY path stores what the import would store."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import sqlalchemy as sa

from streamsettle.runtime import Runtime
from streamsettle.services.ingest.importer import import_watch_logs
from streamsettle.synthetic import GenerationPlan, generate

TABLES = {
    "users": "id",
    "user_roles": "user_id, role",
    "ads": "id",
    "videos": "id",
    "ad_slots": "video_id, position_seconds",
    "user_agents": "id",
    "watch_logs": "session_id",
}


def _plan(seed: int = 7) -> GenerationPlan:
    # Two days of 3,000 logs: two units, so two streams really split the work.
    return GenerationPlan(
        videos=60, creators=8, days=2, logs_per_day=3_000, start_date=date(2026, 3, 1), seed=seed
    )


def _snapshot(runtime: Runtime) -> dict[str, tuple[int, str]]:
    """Row count and an md5 of every row in key order, per table."""
    with runtime.db.engine.connect() as connection:
        return {
            table: tuple(
                connection.execute(
                    sa.text(
                        f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' "
                        f"ORDER BY {order}), '')) FROM {table} t"
                    )
                ).one()
            )
            for table, order in TABLES.items()
        }


def _reset(runtime: Runtime) -> None:
    names = ", ".join(TABLES)
    with runtime.db.engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {names}, resume_positions RESTART IDENTITY CASCADE"))


def test_same_seed_gives_identical_jsonl_bytes_for_any_stream_count(
    runtime: Runtime, tmp_path: Path
) -> None:
    files: list[bytes] = []
    for streams in (1, 2, 1):
        _reset(runtime)
        out = tmp_path / f"logs-{len(files)}.jsonl"
        result = generate(runtime, _plan(), out=out, streams=streams)
        assert result.watch_logs == 6_000
        files.append(out.read_bytes())
    assert files[0] == files[1] == files[2]
    assert files[0].count(b"\n") == 6_000
    assert not list(tmp_path.glob("*.partial"))

    _reset(runtime)
    generate(runtime, _plan(seed=8), out=tmp_path / "other.jsonl")
    assert (tmp_path / "other.jsonl").read_bytes() != files[0]


def test_same_seed_gives_identical_rows_in_postgres(runtime: Runtime) -> None:
    first = generate(runtime, _plan(), streams=2)
    rows = _snapshot(runtime)
    _reset(runtime)
    second = generate(runtime, _plan(), streams=1)
    assert _snapshot(runtime) == rows
    assert first.watch_logs == second.watch_logs == rows["watch_logs"][0] == 6_000
    assert first.slots_reached == second.slots_reached > 0
    assert rows["videos"][0] == 60
    # 8 creators, the default pool of 3,000 / 10 viewers, 3 advertisers for the 5 ads.
    assert rows["users"][0] == rows["user_roles"][0] == 311
    assert rows["user_agents"][0] == 7


def test_a_second_run_into_the_same_database_adds_new_sessions(runtime: Runtime) -> None:
    generate(runtime, _plan())
    generate(runtime, _plan())
    with runtime.db.engine.connect() as connection:
        logs = connection.execute(sa.text("SELECT count(*) FROM watch_logs")).scalar_one()
        videos = connection.execute(sa.text("SELECT count(*) FROM videos")).scalar_one()
        agents = connection.execute(sa.text("SELECT count(*) FROM user_agents")).scalar_one()
    assert (logs, videos, agents) == (12_000, 120, 7)


def test_the_import_of_the_jsonl_stores_exactly_the_rows_copy_writes(
    runtime: Runtime, tmp_path: Path
) -> None:
    generate(runtime, _plan())
    copied = _snapshot(runtime)
    _reset(runtime)
    out = tmp_path / "logs.jsonl"
    generate(runtime, _plan(), out=out)
    with out.open("rb") as lines:
        result = import_watch_logs(runtime, lines)
    assert result.rejected == []
    assert (result.inserted, result.duplicates) == (6_000, 0)
    assert _snapshot(runtime) == copied
