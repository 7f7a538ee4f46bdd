"""Late watch logs: a log stored for a date the batch has run marks the date (a database
trigger, whatever the writer), and the scheduler settles it again on its own, oldest first,
without losing a log that arrives while that re-run is reading."""

from __future__ import annotations

import functools
import json
import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from typer.testing import CliRunner

from streamsettle.app import create_app
from streamsettle.cli import app
from streamsettle.cli.common import console
from streamsettle.config import get_settings
from streamsettle.db.models import AdSlot, DailySettlement, RerunMark, User
from streamsettle.services.batch import BatchEvent, run_date
from streamsettle.services.batch import repository as repo
from streamsettle.services.batch.scheduler import due_dates, tick
from streamsettle.services.identity.passwords import hash_password
from streamsettle.services.ingest.importer import import_watch_logs
from streamsettle.web.i18n import LANGUAGE_COOKIE
from tests.integration.batch.batch_world import World

D1 = date(2024, 6, 1)
D2 = date(2024, 6, 2)
D3 = date(2024, 6, 3)


class Site:
    """One creator, one video with an ad in slot 30, and a few logs on D1 and D2."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.creator = world.user("creator")
        self.video = world.video(self.creator)
        self.ad = world.ad(world.user("advertiser"))
        with world.runtime.db.session() as session:
            session.add(AdSlot(video_id=self.video, position_seconds=30, ad_id=self.ad))
        for day, count in ((D1, 3), (D2, 2)):
            for i in range(count):
                world.log(
                    self.video,
                    world.at(day, f"10:0{i}:00"),
                    ip=f"10.1.{day.day}.{i}",
                    slots={30: self.ad},
                )

    def import_lines(self, day: date, count: int, first_ip: int = 0) -> list[bytes]:
        """``count`` valid import lines of ``day``, each from its own address (all counted)."""
        lines = []
        for i in range(count):
            started = self.world.at(day, "15:00:00") + timedelta(seconds=i)
            line = {
                "session_id": str(uuid.uuid4()),
                "video_id": self.video,
                "viewer_id": None,
                "ip": f"10.9.{(first_ip + i) // 250}.{(first_ip + i) % 250}",
                "user_agent": "late",
                "started_at": started.isoformat(),
                "ended_at": (started + timedelta(seconds=60)).isoformat(),
                "start_position_seconds": 0,
                "end_position_seconds": 60,
                "watched_seconds": 60,
                "ad_slot_positions": [30],
            }
            lines.append(json.dumps(line).encode())
        return lines

    def settlement(self, day: date) -> tuple[int, int, int, int, int]:
        row = self.world.one(DailySettlement, business_date=day, video_id=self.video)
        return (row.views, row.views_before, row.video_amount, row.ad_amount, row.total_amount)


def _marks(world: World) -> dict[date, int]:
    with world.runtime.db.session() as session:
        rows = session.execute(sa.select(RerunMark.business_date, RerunMark.version)).all()
    return {day: version for day, version in rows}


def _gauge() -> float | None:
    return REGISTRY.get_sample_value("streamsettle_batch_dates_needing_rerun")


def test_late_import_is_settled_again_by_the_scheduler(world: World) -> None:
    site = Site(world)
    settled_at = world.at(D3, "00:31:00")
    runs = tick(world.runtime, holder="h", now=settled_at)
    assert [(r.business_date, r.status) for r in runs] == [(D1, "completed"), (D2, "completed")]
    # Default card: 1 KRW a view, 10 KRW an ad view.
    assert site.settlement(D1) == (3, 0, 3, 30, 33)
    assert site.settlement(D2) == (2, 3, 2, 20, 22)
    assert _marks(world) == {}
    assert tick(world.runtime, holder="h", now=settled_at + timedelta(minutes=1)) == []
    assert _gauge() == 0

    result = import_watch_logs(world.runtime, site.import_lines(D1, 50))
    assert (result.inserted, result.rejected) == (50, [])
    assert set(_marks(world)) == {D1}
    again = import_watch_logs(world.runtime, site.import_lines(D1, 0))
    assert again.inserted == 0
    with world.runtime.db.session() as session:
        reasons = repo.dates_needing_rerun(session)
    assert list(reasons) == [D1]
    assert reasons[D1].startswith("watch logs arrived after it was run")

    # The next tick, later the same day and long past the schedule time, re-settles D1
    # without anyone asking; D2's views_before changed, so D2 is then flagged as stale.
    later = settled_at + timedelta(hours=9)
    assert due_dates(world.runtime, later) == [D1]
    runs = tick(world.runtime, holder="h", now=later)
    assert [(r.business_date, r.status) for r in runs] == [(D1, "completed")]
    assert site.settlement(D1) == (53, 0, 53, 530, 583)
    assert _marks(world) == {}
    with world.runtime.db.session() as session:
        assert list(repo.dates_needing_rerun(session)) == [D2]
    assert _gauge() == 1
    assert tick(world.runtime, holder="h", now=later + timedelta(minutes=1)) == []


def test_a_log_stored_while_the_run_reads_keeps_the_mark(world: World) -> None:
    """The run clears only the marks it saw before reading the logs: a log stored after its
    video_stats step is not in this run's figures, so the date stays marked for the next."""
    site = Site(world)
    assert run_date(world.runtime, D1, now=world.at(D2, "01:00:00")).status == "completed"
    import_watch_logs(world.runtime, site.import_lines(D1, 4))
    assert set(_marks(world)) == {D1}
    late = site.import_lines(D1, 2, first_ip=100)

    def during(event: BatchEvent) -> None:
        if event.kind == "step_finished" and event.step == "video_stats":
            assert import_watch_logs(world.runtime, late).inserted == 2

    run = run_date(world.runtime, D1, on_event=during, now=world.at(D2, "02:00:00"))
    assert run.status == "completed"
    assert site.settlement(D1)[0] == 3 + 4  # the two logs came after video_stats read
    assert set(_marks(world)) == {D1}
    runs = tick(world.runtime, holder="h", now=world.at(D2, "02:00:30"))
    assert [r.business_date for r in runs] == [D1]
    assert site.settlement(D1)[0] == 3 + 4 + 2
    assert _marks(world) == {}


def test_every_writer_marks_and_only_dates_already_run(world: World) -> None:
    site = Site(world)
    assert run_date(world.runtime, D1, now=world.at(D3, "01:00:00")).status == "completed"
    assert _marks(world) == {}
    # D2 and D3 have no run yet: their logs are simply waiting for their first run.
    world.log(site.video, world.at(D3, "09:00:00"))
    import_watch_logs(world.runtime, site.import_lines(D2, 3))
    assert _marks(world) == {}
    # A plain INSERT by any writer marks D1; so does a day before the first one run.
    duplicate = world.log(site.video, world.at(D1, "20:00:00"))
    assert set(_marks(world)) == {D1}
    first_version = _marks(world)[D1]
    before = D1 - timedelta(days=3)
    with world.batch():
        world.log(site.video, world.at(before, "20:00:00"))
        world.log(site.video, world.at(D1, "21:00:00"))
    marks = _marks(world)
    assert set(marks) == {before, D1}
    assert marks[D1] > first_version
    # A session id already stored is not stored again and marks nothing.
    with world.runtime.db.engine.begin() as conn:
        conn.execute(sa.text("DELETE FROM rerun_marks"))
    line = json.loads(site.import_lines(D1, 1)[0])
    line["session_id"] = str(duplicate)
    assert import_watch_logs(world.runtime, [json.dumps(line)]).duplicates == 1
    assert _marks(world) == {}


def test_copy_into_watch_logs_marks_the_date(pg_world: World) -> None:
    """The PostgreSQL trigger is per statement with a transition table: COPY fires it too."""
    site = Site(pg_world)
    assert run_date(pg_world.runtime, D1, now=pg_world.at(D2, "01:00:00")).status == "completed"
    started = pg_world.at(D1, "23:00:00")
    with pg_world.runtime.db.engine.begin() as conn:
        agent = conn.execute(
            sa.text("INSERT INTO user_agents (user_agent) VALUES ('copy') RETURNING id")
        ).scalar_one()
    row = "\t".join(
        [
            started.isoformat(),
            (started + timedelta(seconds=30)).isoformat(),
            str(uuid.uuid4()),
            D1.isoformat(),
            str(site.video),
            "\\N",
            str(agent),
            "0",
            "30000",
            "30",
            "10.7.0.1",
            "{30}",
            f"{{{site.ad}}}",
        ]
    )
    columns = (
        "started_at, ended_at, session_id, business_date, video_id, viewer_id, user_agent_id, "
        "start_position_ms, end_position_ms, watched_seconds, ip, ad_positions, ad_ids"
    )
    with pg_world.runtime.db.engine.begin() as conn:
        driver = conn.connection.driver_connection
        assert driver is not None
        with driver.cursor() as cur, cur.copy(f"COPY watch_logs ({columns}) FROM STDIN") as copy:
            copy.write(row + "\n")
    assert set(_marks(pg_world)) == {D1}


def test_batch_status_lists_marked_dates(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = Site(world)
    assert run_date(world.runtime, D1, now=world.at(D2, "01:00:00")).status == "completed"
    import_watch_logs(world.runtime, site.import_lines(D1, 1))
    settings = world.runtime.settings
    monkeypatch.setenv("STREAMSETTLE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STREAMSETTLE_JWT_SECRET", settings.jwt_secret.get_secret_value())
    monkeypatch.chdir(tmp_path)
    # The console was made when the CLI was first imported: widen it, so no cell wraps.
    monkeypatch.setattr(console, "width", 250)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["batch", "status"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "needs a re-run: watch logs arrived after it was run" in result.output
    assert "1 date(s) need a re-run: 2024-06-01" in result.output


def test_marks_survive_only_until_a_completed_run(world: World) -> None:
    """A failed re-run keeps the mark, so the scheduler tries the date again."""
    site = Site(world)
    assert run_date(world.runtime, D1, now=world.at(D2, "01:00:00")).status == "completed"
    import_watch_logs(world.runtime, site.import_lines(D1, 1))
    with world.runtime.db.session() as session:
        run_id = repo.insert_run(session, D1, partitions=1, worker="test")
    repo.finish_run(world.runtime.db, run_id, error="boom", mark=(D1, _marks(world)[D1]))
    assert set(_marks(world)) == {D1}
    assert due_dates(world.runtime, datetime.combine(D2, datetime.min.time(), world.tz)) == [D1]


@functools.cache
def _password_hash() -> str:
    return hash_password("page-password-1")


def _page(world: World, user_id: int, path: str) -> str:
    """``path`` as the user sees it after logging in on the web page."""
    with world.runtime.db.session() as session:
        user = session.get(User, user_id)
        assert user is not None
        user.password_hash = _password_hash()
        email = user.email
    with TestClient(create_app(world.runtime)) as client:
        client.cookies.set(LANGUAGE_COOKIE, "en")
        form = client.get("/login").text
        match = re.search(r'name="csrf_token" value="([^"]+)"', form)
        assert match
        login = {"email": email, "password": "page-password-1", "csrf_token": match.group(1)}
        assert client.post("/login", data=login, follow_redirects=False).status_code == 303
        response = client.get(path)
        assert response.status_code == 200
        return response.text


def test_pages_say_when_figures_are_being_recomputed(world: World) -> None:
    site = Site(world)
    tick(world.runtime, holder="h", now=world.at(D3, "00:31:00"))
    day_page = "/?period=day&date=2024-06-01"
    assert 'data-testid="recomputing"' not in _page(world, site.creator, day_page)
    import_watch_logs(world.runtime, site.import_lines(D1, 2))
    creator_page = _page(world, site.creator, day_page)
    assert "Figures for 2024-06-01 are being recomputed" in creator_page
    assert 'data-testid="recomputing"' not in _page(
        world, site.creator, "/?period=day&date=2024-06-02"
    )
    admin = world.user("admin")
    admin_page = _page(world, admin, "/?period=month&date=2024-06-01")
    assert 'data-testid="needing-rerun"' in admin_page
    assert "<td>2024-06-01</td><td>watch logs arrived after it was run" in admin_page
    tick(world.runtime, holder="h", now=world.at(D3, "00:40:00"))
    assert 'data-testid="recomputing"' not in _page(world, site.creator, day_page)
