"""``streamsettle generate`` end to end: into PostgreSQL, into a file, and bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from streamsettle.runtime import Runtime

CLI = str(Path(sys.executable).with_name("streamsettle"))
SIZES = ["--videos", "5", "--creators", "2", "--days", "2", "--logs-per-day", "300"]


def _cli(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(
        os.environ,
        STREAMSETTLE_DATABASE_URL=runtime.settings.database_url,
        STREAMSETTLE_JWT_SECRET=runtime.settings.jwt_secret.get_secret_value(),
        COLUMNS="200",
    )
    return subprocess.run(
        [CLI, "generate", *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _count(runtime: Runtime, table: str) -> int:
    with runtime.db.engine.connect() as connection:
        return int(connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_generate_into_postgres(runtime: Runtime) -> None:
    done = _cli(runtime, *SIZES, "--seed", "4", "--start-date", "2026-02-01", "--streams", "2")
    assert done.returncode == 0, done.stderr
    assert "600 watch logs" in done.stdout
    assert "business days 2026-02-01 .. 2026-02-02" in done.stdout
    assert _count(runtime, "watch_logs") == 600
    assert _count(runtime, "videos") == 5


def test_generate_to_a_file_keeps_the_logs_out_of_the_database(
    runtime: Runtime, tmp_path: Path
) -> None:
    out = tmp_path / "logs.jsonl"
    done = _cli(runtime, *SIZES, "--start-date", "2026-02-01", "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert len(out.read_text().splitlines()) == 600
    assert _count(runtime, "watch_logs") == 0
    assert _count(runtime, "videos") == 5  # the import needs the catalogue


def test_bad_input_is_a_clear_error(runtime: Runtime) -> None:
    done = _cli(runtime, *SIZES, "--start-date", "01/02/2026")
    assert done.returncode == 1
    assert "--start-date must be YYYY-MM-DD" in done.stderr
    done = _cli(runtime, "--videos", "0", "--creators", "1", "--days", "1", "--logs-per-day", "1")
    assert done.returncode == 2  # Typer's own range check
    assert _count(runtime, "videos") == 0
