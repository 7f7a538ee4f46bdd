"""Watch log import, line by line: every line is stored, a duplicate, or rejected by number;
an impossible timestamp or a line the database refuses never costs the other lines; the
listed rejections are capped and counted in full. By API and CLI, on both databases."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest
from sqlalchemy import delete, func, select
from typer.testing import CliRunner

from streamsettle.cli import app as cli_app
from streamsettle.config import get_settings
from streamsettle.db.models import Video, WatchLog
from streamsettle.services.ingest import importer
from tests.integration.playback.playback_stack import Stack
from tests.integration.playback.test_playback_import import admin_headers, log

URL = "/api/v1/admin/watch-logs/import"
LINES = 25_000
FAR_FUTURE = {"started_at": "9999-12-31T23:00:00+00:00", "ended_at": "9999-12-31T23:05:00+00:00"}
YEAR_ONE = {"started_at": "0001-01-01T00:00:00+09:00", "ended_at": "0001-01-01T00:05:00+09:00"}
BAD = {1: FAR_FUTURE, 12_500: FAR_FUTURE, LINES: YEAR_ONE}


def big_file(stack: Stack) -> bytes:
    """25,000 lines, all valid but the first, the middle and the last (impossible dates)."""
    lines = []
    for number in range(1, LINES + 1):
        sid = str(uuid.UUID(int=number, version=4))
        lines.append(json.dumps(log(sid, stack.world.video_id, **BAD.get(number, {}))))
    return ("\n".join(lines) + "\n").encode()


def stored(stack: Stack) -> int:
    with stack.runtime.db.session() as session:
        return int(session.scalar(select(func.count()).select_from(WatchLog)) or 0)


def test_impossible_dates_are_rejected_by_line_and_every_other_line_stored(stack: Stack) -> None:
    response = stack.client.post(URL, content=big_file(stack), headers=admin_headers(stack))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["inserted"], summary["duplicates"]) == (LINES - 3, 0)
    assert (summary["rejected_count"], summary["lines"]) == (3, LINES)
    assert [r["line"] for r in summary["rejected"]] == [1, 12_500, LINES]
    errors = [r["error"] for r in summary["rejected"]]
    assert errors[0].startswith("started_at '9999-12-31T23:00:00+00:00' is out of range")
    assert "ended_at '0001-01-01T00:05:00+09:00' is out of range" in errors[2]
    assert stored(stack) == LINES - 3


def test_cli_gives_the_same_summary_and_exits_non_zero(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "logs.jsonl"
    path.write_bytes(big_file(stack))
    settings = stack.runtime.settings
    monkeypatch.setenv("STREAMSETTLE_DATABASE_URL", settings.database_url)
    if settings.redis_url:
        monkeypatch.setenv("STREAMSETTLE_REDIS_URL", settings.redis_url)
    monkeypatch.setenv("STREAMSETTLE_JWT_SECRET", settings.jwt_secret.get_secret_value())
    monkeypatch.chdir(tmp_path)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        first = runner.invoke(cli_app, ["logs", "import", str(path)], env={"COLUMNS": "200"})
        assert first.exit_code == 2, first.output
        assert f"inserted {LINES - 3}, duplicates 0, rejected 3 (of {LINES} lines)" in (
            first.output
        )
        assert "12500" in first.output and "is out of range" in first.output
        again = runner.invoke(cli_app, ["logs", "import", "--json", str(path)])
        assert again.exit_code == 2, again.output
        summary = json.loads(again.stdout)
        assert (summary["inserted"], summary["duplicates"]) == (0, LINES - 3)
        assert [r["line"] for r in summary["rejected"]] == [1, 12_500, LINES]
        assert summary["rejected_count"] == 3
    finally:
        get_settings.cache_clear()
    assert stored(stack) == LINES - 3


def test_rejections_listed_are_capped_and_counted_in_full(stack: Stack) -> None:
    v = stack.world.video_id
    lines = [json.dumps(log(str(uuid.uuid4()), 999_999)) for _ in range(1_500)]  # unknown video
    lines += ["not json"] * 1_000
    lines.insert(1_700, json.dumps(log(str(uuid.uuid4()), v)))  # one valid line, at 1,701
    body = "\n".join(lines).encode()
    response = stack.client.post(URL, content=body, headers=admin_headers(stack))
    assert response.status_code == 200, response.text
    summary = response.json()
    assert (summary["inserted"], summary["rejected_count"], summary["lines"]) == (1, 2_500, 2_501)
    assert len(summary["rejected"]) == importer.MAX_LISTED_REJECTIONS == 1_000
    assert [r["line"] for r in summary["rejected"]] == list(range(1, 1_001))
    assert len(response.content) < 100_000


def test_a_line_the_database_refuses_costs_only_that_line(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A video deleted while the import runs: its line fails in the database (foreign key),
    the chunk is written again in halves, and only that line is rejected."""
    monkeypatch.setattr(importer, "CHUNK_LINES", 4)
    w = stack.world
    with stack.runtime.db.session() as session:
        doomed = Video(creator_id=w.creator_id, title="doomed", duration_seconds=900)
        session.add(doomed)
        session.flush()
        doomed_id = doomed.id
    ids = [str(uuid.UUID(int=500 + n, version=4)) for n in range(24)]
    lines = [json.dumps(log(ids[n], w.video_id)) for n in range(24)]
    # Line 1 makes the import look the video up (and remember it); line 1 itself is
    # rejected (unknown viewer). Line 15 is checked against what was remembered.
    lines[0] = json.dumps(log(ids[0], doomed_id, viewer_id=424242, ad_slot_positions=[]))
    lines[14] = json.dumps(log(ids[14], doomed_id, ad_slot_positions=[]))
    deleted: list[int] = []

    def progress(upto: int) -> None:
        if not deleted:
            with stack.runtime.db.session() as session:
                session.execute(delete(Video).where(Video.id == doomed_id))
            deleted.append(upto)

    result = importer.import_watch_logs(stack.runtime, lines, on_progress=progress)
    assert deleted == [4]
    assert (result.inserted, result.duplicates, result.rejected_count) == (22, 0, 2)
    assert [r.line for r in result.rejected] == [1, 15]
    assert result.rejected[1].error.startswith("not stored: ")
    assert "foreign key" in result.rejected[1].error.lower()
    assert stored(stack) == 22
    with stack.runtime.db.session() as session:
        ids_stored = {str(x) for x in session.scalars(select(WatchLog.session_id))}
    assert ids_stored == set(ids) - {ids[0], ids[14]}
