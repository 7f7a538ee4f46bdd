"""Watch log import by API and CLI: exact counts, line numbers, idempotence, stored rows."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from streamsettle.cli import app as cli_app
from streamsettle.config import get_settings
from streamsettle.db.models import ResumePosition, User, UserRole, WatchLog
from streamsettle.services.identity.tokens import issue_access_token
from tests.integration.playback.playback_stack import Stack, cli_on

A, B, C = (str(uuid.UUID(int=n, version=4)) for n in (1, 2, 3))


def log(session_id: str, video_id: object, **overrides: object) -> dict[str, object]:
    line: dict[str, object] = {
        "session_id": session_id,
        "video_id": video_id,
        "viewer_id": None,
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0",
        "started_at": "2026-11-01T09:00:00+09:00",
        "ended_at": "2026-11-01T09:05:00+09:00",
        "start_position_seconds": 0,
        "end_position_seconds": 300,
        "watched_seconds": 300,
        "ad_slot_positions": [300],
    }
    line.update(overrides)
    return line


def build_file(stack: Stack) -> tuple[bytes, list[int]]:
    """The test file and the numbers of the lines it should reject."""
    w = stack.world
    v = w.video_id
    lines = [
        json.dumps(log(A, v)),  # 1 valid
        json.dumps(log(B, v, viewer_id=w.viewer_id, ad_slot_positions=[])),  # 2 valid
        "",  # 3 blank: skipped
        json.dumps(log(A, v, watched_seconds=1)),  # 4 duplicate of line 1
        '{"session_id": "' + C,  # 5 bad JSON
        json.dumps(log(str(uuid.uuid4()), 999_999)),  # 6 unknown video
        json.dumps(log(str(uuid.uuid4()), v, watched_seconds=-1)),  # 7 negative seconds
        json.dumps(log(str(uuid.uuid4()), v, watched_seconds=301)),  # 8 beyond wall clock
        json.dumps(log(str(uuid.uuid4()), v, ad_slot_positions=[450])),  # 9 not a slot
        json.dumps(log(str(uuid.uuid4()), v, ended_at="2026-11-01T08:59:59+09:00")),  # 10
        json.dumps(log("not-a-uuid", v)),  # 11 bad UUID
        json.dumps(log(str(uuid.uuid4()), v, started_at="2026-11-01T09:00:00")),  # 12 naive
        json.dumps(log(str(uuid.uuid4()), str(v))),  # 13 wrong type
        json.dumps(  # 14 valid, later than line 2: the viewer's resume position
            log(
                C,
                v,
                viewer_id=w.viewer_id,
                started_at="2026-10-31T23:50:00+09:00",
                ended_at="2026-11-01T10:00:00+09:00",
                start_position_seconds=250.5,
                end_position_seconds=652.25,
                watched_seconds=400,
                ad_slot_positions=[600, 300],
            )
        ),
        "[1, 2]",  # 15 not an object
        json.dumps(log(str(uuid.uuid4()), v, viewer_id=424242)),  # 16 unknown viewer
        json.dumps(log(str(uuid.uuid4()), w.short_video_id, end_position_seconds=61)),  # 17
    ]
    return ("\n".join(lines) + "\n").encode(), [5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 16, 17]


def admin_headers(stack: Stack) -> dict[str, str]:
    with stack.runtime.db.session() as s:
        admin = User(email="admin@example.com", display_name="admin", password_hash=None)
        admin.role_rows = [UserRole(role="admin")]
        s.add(admin)
        s.flush()
        admin_id = admin.id
    token, _ = issue_access_token(stack.runtime.settings, admin_id, ["admin"])
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"}


def chunks(body: bytes, size: int = 7) -> Iterator[bytes]:
    """The body in small pieces, so that lines straddle the chunks of the stream."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


def test_import_counts_rejects_and_is_idempotent(stack: Stack) -> None:
    body, bad_lines = build_file(stack)
    headers = admin_headers(stack)
    url = "/api/v1/admin/watch-logs/import"
    first = stack.client.post(url, content=chunks(body), headers=headers)
    assert first.status_code == 200, first.text
    summary = first.json()
    assert (summary["inserted"], summary["duplicates"]) == (3, 1)
    assert [r["line"] for r in summary["rejected"]] == bad_lines
    errors = {r["line"]: r["error"] for r in summary["rejected"]}
    assert errors[5].startswith("invalid JSON")
    assert errors[6] == "unknown video 999999"
    assert "watched_seconds must be a non-negative integer" in errors[7]
    assert "watched_seconds 301 is beyond ended_at - started_at (300 s)" in errors[8]
    assert f"ad slot(s) 450 are not slots of video {stack.world.video_id}" in errors[9]
    assert "ended_at is before started_at" in errors[10]
    assert "session_id must be a UUID" in errors[11]
    assert "started_at needs a time zone offset" in errors[12]
    assert "video_id must be a positive integer" in errors[13]
    assert errors[15] == "a line must be a JSON object"
    assert errors[16] == "unknown viewer 424242"
    assert "end_position_seconds is beyond the video's duration (60 s)" in errors[17]

    second = stack.client.post(url, content=body, headers=headers)
    assert second.status_code == 200
    again = second.json()
    assert (again["inserted"], again["duplicates"]) == (0, 4)
    assert again["rejected"] == summary["rejected"]

    w = stack.world
    with stack.runtime.db.session() as s:
        stored = {str(x.session_id): x for x in s.scalars(select(WatchLog))}
        assert sorted(stored) == sorted([A, B, C])
        c = stored[C]
        assert c.business_date == date(2026, 10, 31)  # started 23:50 in Seoul
        assert c.started_at == datetime(2026, 10, 31, 14, 50, tzinfo=UTC)
        assert c.start_position_seconds == Decimal("250.5")
        assert c.end_position_seconds == Decimal("652.25")
        assert c.watched_seconds == 400
        assert stored[A].watched_seconds == 300  # the duplicate line changed nothing
        hits = [(sid, p, ad) for sid, log in stored.items() for p, ad in log.ad_slots]
        assert sorted(hits) == sorted([(A, 300, w.ad_a), (C, 300, w.ad_a), (C, 600, w.ad_b)])
        resume = s.get(ResumePosition, (w.viewer_id, w.video_id))
        assert resume is not None
        assert resume.position_seconds == Decimal("652.25")  # line 14 ended after line 2


def test_import_refuses_other_media_types_and_non_admins(stack: Stack) -> None:
    body, _ = build_file(stack)
    url = "/api/v1/admin/watch-logs/import"
    headers = admin_headers(stack)
    wrong = stack.client.post(url, content=body, headers={**headers, "Content-Type": "text/csv"})
    assert wrong.status_code == 415
    assert wrong.json()["error"]["code"] == "unsupported_media_type"
    viewer = {**stack.world.auth(stack.world.viewer_token), "Content-Type": "application/x-ndjson"}
    assert stack.client.post(url, content=body, headers=viewer).status_code == 403
    anonymous = stack.client.post(url, content=body)
    assert anonymous.status_code == 401


def test_cli_prints_the_same_summary(
    stack: Stack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body, bad_lines = build_file(stack)
    path = tmp_path / "logs.jsonl"
    path.write_bytes(body)
    cli_on(stack, monkeypatch, tmp_path)
    try:
        runner = CliRunner()
        first = runner.invoke(cli_app, ["logs", "import", str(path)])
        assert first.exit_code == 2, first.output  # lines were rejected
        assert "inserted 3, duplicates 1, rejected 12 (of 16 lines)" in first.output
        as_json = runner.invoke(cli_app, ["logs", "import", "--json", "-"], input=body)
        assert as_json.exit_code == 2, as_json.output
        summary = json.loads(as_json.stdout)
        assert (summary["inserted"], summary["duplicates"]) == (0, 4)
        assert [r["line"] for r in summary["rejected"]] == bad_lines
        missing = runner.invoke(cli_app, ["logs", "import", str(tmp_path / "nope.jsonl")])
        assert missing.exit_code == 1
    finally:
        get_settings.cache_clear()


def test_chunks_written_side_by_side_count_cross_chunk_duplicates_exactly(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    from streamsettle.services.ingest import importer

    monkeypatch.setattr(importer, "CHUNK_LINES", 2)
    v = stack.world.video_id
    ids = [str(uuid.UUID(int=100 + n, version=4)) for n in range(6)]
    agent = 'back\\slash "quoted" 한국어 \\t \\N'  # what COPY's text format escapes
    order = [0, 1, 1, 0, 2, 3, 3, 2, 4, 5, 5, 4, 0, 5]  # pairs reversed across chunks
    body = "\n".join(json.dumps(log(ids[n], v, user_agent=agent)) for n in order).encode()
    result = importer.import_watch_logs(stack.runtime, body.splitlines())
    assert (result.inserted, result.duplicates, result.rejected) == (6, 8, [])
    with stack.runtime.db.session() as s:
        agents = {log.user_agent for log in s.scalars(select(WatchLog))}
        assert agents == {agent}
    refused = "user_agent must not contain control or bidirectional-override characters"
    for bad in ("a\u0000b", "tab\there", "new\nline", "evil\u202egpj.exe", "\x85"):
        line = json.dumps(log(str(uuid.uuid4()), v, user_agent=bad)).encode()
        rejected = importer.import_watch_logs(stack.runtime, [line])
        assert rejected.rejected == [importer.Rejected(1, refused)], bad
    too_long = json.dumps(log(str(uuid.uuid4()), v, user_agent="x" * 1001)).encode()
    rejected = importer.import_watch_logs(stack.runtime, [too_long])
    assert rejected.rejected == [importer.Rejected(1, "user_agent must be at most 1000 characters")]
