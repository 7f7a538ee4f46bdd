"""The ``streamsettle`` command as a user runs it: a real process on an embedded SQLite file
with the demo data, its output read as printed (80 columns, no colour)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.servers import free_port

STREAMSETTLE = str(Path(sys.executable).parent / "streamsettle")


class Demo:
    """An embedded database with the demo loaded, and a way to run commands against it."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / "streamsettle.db"
        self.env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("STREAMSETTLE_") and key not in ("FORCE_COLOR", "NO_COLOR")
        }
        self.env.update(
            STREAMSETTLE_DATABASE_URL=f"sqlite:///{self.path}",
            STREAMSETTLE_LOG_JSON="false",
            COLUMNS="80",
            TERM="dumb",
            NO_COLOR="1",
        )
        self.cwd = directory

    def run(self, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [STREAMSETTLE, *args],
            env=self.env,
            cwd=self.cwd,
            input=stdin.decode() if stdin is not None else None,
            capture_output=True,
            text=True,
            timeout=120,
        )

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.path) as conn:
            return conn.execute(sql, params).fetchall()

    @property
    def dates(self) -> list[date]:
        rows = self.query("SELECT DISTINCT business_date FROM batch_runs ORDER BY 1")
        return [date.fromisoformat(str(row[0])) for row in rows]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    world = Demo(tmp_path_factory.mktemp("cli"))
    for args in (("migrate",), ("demo", "load", "--days", "8")):
        result = world.run(*args)
        assert result.returncode == 0, result.stderr
    return world


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    for stream in (result.stdout, result.stderr):
        assert "Traceback" not in stream and "Error:" not in stream, stream


def test_a_range_run_prints_one_line_per_date_and_the_rerun_hint_with_dates(demo: Demo) -> None:
    days = demo.dates
    first, last = days[0], days[-1]
    result = demo.run("batch", "run", "--from", str(first), "--to", str(first + timedelta(3)))
    assert result.returncode == 0, result.stdout + result.stderr
    _no_traceback(result)
    printed = " ".join(result.stdout.split())
    for offset in range(4):
        assert re.search(rf"{first + timedelta(offset)} completed in [\d.]+ s \(run \d+\)", printed)
    # Re-settling the first days changes the cumulative views the later ones were priced on.
    later = first + timedelta(4)
    assert "4 later settled date(s)" in printed and f"from {later} to {last}" in printed
    assert f"streamsettle batch run --from {later} --to {last}" in printed
    assert printed.count("need a re-run") == 1, printed


def test_batch_status_fits_80_columns(demo: Demo) -> None:
    result = demo.run("batch", "status")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80, result.stdout
    assert "…" not in result.stdout
    for day in demo.dates:  # every date in full, on one line with its status
        assert any(str(day) in line and "completed" in line for line in lines), day
    header = next(line for line in lines if " run " in f" {line} ")
    assert header.split() == [
        "run", "date", "status", "engine", "parts", "started", "took", "note",
    ]  # fmt: skip
    assert all("sql" in line for line in lines if "completed" in line)  # SQLite's engine


def test_the_settle_step_reports_the_rows_it_wrote_on_sqlite(demo: Demo) -> None:
    day = demo.dates[-1]
    result = demo.run("batch", "run", "--date", str(day))
    assert result.returncode == 0, result.stdout + result.stderr
    written = demo.query(
        "SELECT count(*) FROM daily_settlements WHERE business_date = ?", str(day)
    )[0][0]
    assert isinstance(written, int) and written > 0
    status = demo.run("batch", "status", "--date", str(day))
    assert status.returncode == 0, status.stderr
    settle = next(line for line in status.stdout.splitlines() if line.split()[:1] == ["settle"])
    assert settle.split()[:4] == ["settle", "0", "completed", str(written)]
    recorded = demo.query(
        "SELECT s.rows FROM batch_steps s JOIN batch_runs r ON r.id = s.run_id"
        " WHERE r.business_date = ? AND s.name = 'settle' ORDER BY s.id DESC LIMIT 1",
        str(day),
    )
    assert recorded == [(written,)]


def _line(video_id: int, started: str, **overrides: object) -> str:
    line: dict[str, object] = {
        "session_id": str(uuid.uuid4()),
        "video_id": video_id,
        "viewer_id": None,
        "ip": "203.0.113.9",
        "user_agent": "cli-test",
        "started_at": started,
        "ended_at": started.replace("T10:00", "T10:05"),
        "start_position_seconds": 0,
        "end_position_seconds": 300,
        "watched_seconds": 300,
        "ad_slot_positions": [],
    }
    line.update(overrides)
    return json.dumps(line)


def test_logs_import_exits_2_when_lines_are_rejected_and_0_otherwise(
    demo: Demo, tmp_path: Path
) -> None:
    video_id = int(str(demo.query("SELECT min(id) FROM videos")[0][0]))
    started = f"{demo.dates[-1]}T10:00:00+09:00"
    good = tmp_path / "good.ndjson"
    good.write_text(_line(video_id, started) + "\n")
    result = demo.run("logs", "import", str(good))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "inserted 1, duplicates 0, rejected 0 (of 1 lines)" in result.stdout

    mixed = tmp_path / "mixed.ndjson"
    mixed.write_text(
        "\n".join([_line(video_id, started), "not json", _line(video_id, started, ip="x")]) + "\n"
    )
    result = demo.run("logs", "import", str(mixed))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "inserted 1, duplicates 0, rejected 2 (of 3 lines)" in result.stdout
    assert re.search(r"\b2\W+invalid JSON", result.stdout), result.stdout

    again = demo.run("logs", "import", "--json", "-", stdin=mixed.read_bytes())
    assert again.returncode == 2
    summary = json.loads(again.stdout)
    assert (summary["inserted"], summary["duplicates"], summary["rejected_count"]) == (0, 1, 2)
    help_text = " ".join(demo.run("logs", "import", "--help").stdout.split())
    assert "2 lines were rejected (the valid ones are stored)" in help_text


def test_flags_have_no_type_label_in_the_help(demo: Demo) -> None:
    for command in (("batch", "run"), ("logs", "import"), ("serve",)):
        result = demo.run(*command, "--help")
        assert result.returncode == 0
        assert "<bool>" not in result.stdout, result.stdout
    assert "--skip-completed" in demo.run("batch", "run", "--help").stdout


def test_serve_prints_its_url_and_logs_each_request(demo: Demo) -> None:
    port = free_port()
    server = subprocess.Popen(
        [STREAMSETTLE, "serve", "--port", str(port), "--no-flusher", "--no-scheduler"],
        env=demo.env,
        cwd=demo.cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "serve did not start"
            time.sleep(0.1)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/" in output and f"http://127.0.0.1:{port}/docs" in output
    assert re.search(r'"GET /healthz HTTP/1.1" 200', output), output
