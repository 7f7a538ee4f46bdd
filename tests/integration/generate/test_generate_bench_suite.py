"""The benchmark suite prints valid JSON lines, skips missing modules, reports failures and
time-outs, and leaves no database behind (tiny sizes: seconds)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

ROOT = Path(__file__).resolve().parents[3]
PG_URL = os.environ.get(
    "STREAMSETTLE_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

REDIS_URL = os.environ.get("STREAMSETTLE_BENCH_REDIS_SERVER", "redis://127.0.0.1:6379")

# Our own prefix, so that other runs' databases never count as ours.
PREFIX = f"streamsettle_bench_t{os.getpid()}_"


def _run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, STREAMSETTLE_BENCH_PG_URL=PG_URL, STREAMSETTLE_BENCH_DB_PREFIX=PREFIX)
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _lines(stdout: str) -> list[dict[str, Any]]:
    records = [json.loads(line) for line in stdout.splitlines()]
    assert all(isinstance(record, dict) for record in records)
    return records


def _our_databases() -> list[str]:
    dsn = PG_URL.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as connection:
        rows = connection.execute(
            "SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (PREFIX,)
        ).fetchall()
    return [row[0] for row in rows]


def test_quick_load_prints_one_valid_json_line_with_its_reference() -> None:
    done = _run("-m", "bench", "--quick", "--only", "load", "--", "--rows", "3000")
    assert done.returncode == 0, done.stderr
    (record,) = _lines(done.stdout)
    assert record["name"] == "load"
    assert record["sizes"]["watch_logs"] == 3_000
    assert record["sizes"]["slots_reached"] > 0
    assert record["seconds"] > 0 and record["rows_per_second"] > 0
    assert record["reference"]["seconds"] > 0
    floor = record["server_floor"]
    assert floor["rows"] == 3_000
    assert floor["seconds"] > 0
    assert "generate_series" in record["reference"]["name"]
    assert record["indexes"].startswith("dropped before the load")
    # Every timed section: drop, load, the partitions' keys, the parent's.
    for phases in (record["phases"], floor["phases"], record["reference"]["phases"]):
        assert {"drop_keys", "load", "rebuild_partitions", "rebuild_parents"} <= phases.keys()
    assert record["python_side_one_stream"]["rows_per_second"] > 0
    machine = record["machine"]
    assert machine["cpu_count"] >= 1 and machine["pg_version"] and machine["ram_gib"] > 0
    assert _our_databases() == []


def test_quick_flusher_stores_every_session_and_leaves_its_redis_database_empty() -> None:
    done = _run("-m", "bench", "--quick", "--only", "flusher", "--", "--sessions", "500")
    assert done.returncode == 0, done.stderr
    (record,) = _lines(done.stdout)
    assert record["name"] == "flusher"
    # ``stored`` is counted in the database after the flush.
    assert record["sessions"] == record["stored"] == record["sizes"]["sessions"] == 500
    assert record["passes"] >= 1 and record["batch_size"] == 1000
    # Seeded sessions: the same heartbeats and slots reached on every run.
    assert record["sizes"]["heartbeats"] == 2224
    assert record["sizes"]["sessions_with_ad_slots_reached"] == 123
    assert record["seconds"] > 0 and record["logs_per_second"] > 0
    assert record["reference"]["share_of_flush"] > 0
    assert redis.Redis.from_url(f"{REDIS_URL}/{record['redis_db']}").dbsize() == 0
    assert _our_databases() == []


def _suite(code: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return _run(
        "-c", "import sys\nfrom bench.suite import Benchmark, run\n" + code, timeout=timeout
    )


def test_a_missing_module_is_skipped_and_the_rest_still_runs() -> None:
    done = _suite(
        "sys.exit(run([Benchmark('ghost', 'bench.no_such_module')],"
        " quick=True, extra=[], timeout=60))"
    )
    assert done.returncode == 0, done.stderr
    assert _lines(done.stdout) == [{"name": "ghost", "skipped": "module not present"}]


def test_a_failing_benchmark_gets_an_error_line_and_exit_code_1() -> None:
    # json.tool's main() refuses the unknown --quick option: exit code 2.
    done = _suite(
        "sys.exit(run([Benchmark('bad', 'json.tool'), Benchmark('ghost', 'bench.nope')],"
        " quick=True, extra=[], timeout=60))"
    )
    assert done.returncode == 1
    records = _lines(done.stdout)
    assert [r["name"] for r in records] == ["bad", "ghost"]
    assert records[0]["error"] == "exited with code 2"
    assert "machine" in records[0]


def test_a_benchmark_past_its_time_limit_is_stopped() -> None:
    # http.server serves until stopped: the runner must end its process group.
    done = _suite(
        "sys.exit(run([Benchmark('slow', 'http.server')],"
        " quick=False, extra=['--bind', '127.0.0.1', '0'], timeout=2))",
        timeout=60,
    )
    assert done.returncode == 1
    (record,) = _lines(done.stdout)
    assert record == {**record, "name": "slow", "error": "timed out after 2 s"}


def test_unknown_names_are_refused() -> None:
    done = _run("-m", "bench", "--only", "nonsense")
    assert done.returncode == 2
    assert "unknown benchmark" in done.stderr


HANGING = """
import os, time
from bench.common import throwaway_database

def main(argv):
    with throwaway_database(migrate=False):
        print('{"name": "stuck", "ready": true}', flush=True)
        if argv == ["--crash"]:
            os._exit(3)  # no finally: the runner must drop the database by pid
        time.sleep(600)
"""


def test_databases_of_a_stopped_or_crashed_benchmark_are_dropped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "stuck_bench.py").write_text(HANGING)
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    stopped = _suite(
        "sys.exit(run([Benchmark('stuck', 'stuck_bench')], quick=False, extra=[], timeout=4))"
    )
    crashed = _suite(
        "sys.exit(run([Benchmark('stuck', 'stuck_bench')],"
        " quick=False, extra=['--crash'], timeout=60))"
    )
    for done, error in ((stopped, "timed out after 4 s"), (crashed, "exited with code 3")):
        assert done.returncode == 1, done.stderr
        ready, failed = _lines(done.stdout)
        assert ready["ready"] is True and "machine" in ready
        assert failed["error"] == error
    assert _our_databases() == []


FLOORS_ON_A_SMALL_DAY = """
import json
from datetime import timedelta

import psycopg

from bench.batch_day import (
    BENCH_SECRET, DAY, RULES_FLOOR, RULES_FLOOR_SEMI_JOIN, floor_params, generate
)
from bench.common import conninfo, throwaway_database
from streamsettle.config import Settings
from streamsettle.runtime import Runtime
from streamsettle.services.batch import run_date

PER_VIDEO = (
    "SELECT video_id, count(*) FROM {} WHERE business_date = %(day)s {} GROUP BY video_id"
)
with throwaway_database() as url:
    settings = Settings(
        _env_file=None, database_url=url, jwt_secret=BENCH_SECRET, embedded=False
    )
    generate(url, 5000, 100, settings.tz)
    runtime = Runtime.from_settings(settings)
    try:
        run_date(runtime, DAY - timedelta(days=1), partitions=1)
        run_date(runtime, DAY, partitions=1)
    finally:
        runtime.close()
    params = floor_params(settings)
    queries = {
        "not_repeats": RULES_FLOOR,
        "repeats": RULES_FLOOR_SEMI_JOIN,
        "logs": PER_VIDEO.format("watch_logs", ""),
        "classified_repeats": PER_VIDEO.format("view_classifications", "AND kind = 'repeat'"),
        "classified_self": PER_VIDEO.format("view_classifications", "AND kind = 'self'"),
    }
    with psycopg.connect(conninfo(url)) as conn:
        out = {k: dict(conn.execute(q, params).fetchall()) for k, q in queries.items()}
print(json.dumps({k: {str(v): n for v, n in d.items()} for k, d in out.items()}))
"""


def test_the_two_batch_floors_split_the_day_as_the_batch_does() -> None:
    """The floors must do the rule's real work: the window formulation's non-repeats and
    the semi-join formulation's repeats add up to each video's logs, and they find every
    repeat the batch classified (the rest of theirs are self views, which win in 3.3)."""
    done = _run("-c", FLOORS_ON_A_SMALL_DAY)
    assert done.returncode == 0, done.stderr
    counts = json.loads(done.stdout)
    repeats, classified = counts["repeats"], counts["classified_repeats"]
    assert sum(classified.values()) > 100
    for video, logs in counts["logs"].items():
        assert counts["not_repeats"].get(video, 0) + repeats.get(video, 0) == logs
        assert classified.get(video, 0) <= repeats.get(video, 0)
        extra = repeats.get(video, 0) - classified.get(video, 0)
        assert extra <= counts["classified_self"].get(video, 0)
    assert _our_databases() == []
