"""`streamsettle statements close|show|list` on the PostgreSQL runtime."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from typer.testing import CliRunner

from streamsettle.cli import app
from streamsettle.config import get_settings
from streamsettle.runtime import Runtime
from tests.integration.batch.batch_world import World
from tests.integration.statements.ledger import settle


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    settings = runtime.settings
    monkeypatch.setenv("STREAMSETTLE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STREAMSETTLE_JWT_SECRET", settings.jwt_secret.get_secret_value())
    monkeypatch.setenv("STREAMSETTLE_PAYOUT_THRESHOLD_KRW", "3")
    monkeypatch.delenv("STREAMSETTLE_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_close_show_and_list(pg_world: World, cli: CliRunner) -> None:
    creator = pg_world.user("creator")
    video = pg_world.video(creator)
    for i in range(4):
        pg_world.log(video, pg_world.at(date(2026, 10, 9), "08:00:00"), ip=f"10.9.0.{i}")

    refused = cli.invoke(app, ["statements", "close", "--month", "2026-10"])
    assert refused.exit_code == 1
    assert "not settled" in refused.output

    settle(pg_world, date(2026, 10, 1), date(2026, 10, 31))
    closed = cli.invoke(app, ["statements", "close", "--month", "2026-10"])
    assert closed.exit_code == 0, closed.output
    assert "2026-10 closed: 1 statements" in closed.output
    again = cli.invoke(app, ["statements", "close", "--month", "2026-10"])
    assert "already closed: 1 statements" in again.output

    shown = cli.invoke(app, ["statements", "show", "--creator", str(creator), "--month", "2026-10"])
    assert shown.exit_code == 0, shown.output
    assert "(closed)" in shown.output
    assert "paid out: ₩4" in shown.output  # 4 views of 1 reach the threshold of 3
    assert "carried out: ₩0" in shown.output

    listed = cli.invoke(app, ["statements", "list", "--month", "2026-10"])
    assert listed.exit_code == 0 and "1 statements" in listed.output
    bad = cli.invoke(app, ["statements", "close", "--month", "2026-13"])
    assert bad.exit_code == 1 and "no such month" in bad.output
