"""`streamsettle settlements export`: the same CSV as the API, to a file or standard output."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from streamsettle.cli import app
from streamsettle.config import get_settings
from streamsettle.runtime import Runtime
from tests.integration.queries.queries_dataset import Settled


@pytest.fixture
def cli_env(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Iterator[CliRunner]:
    settings = runtime.settings
    monkeypatch.setenv("STREAMSETTLE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STREAMSETTLE_JWT_SECRET", settings.jwt_secret.get_secret_value())
    monkeypatch.delenv("STREAMSETTLE_REDIS_URL", raising=False)
    get_settings.cache_clear()
    yield CliRunner()
    get_settings.cache_clear()


def test_export_to_file_matches_the_api_csv(
    settled: Settled, cli_env: CliRunner, tmp_path: Path
) -> None:
    creator = str(settled.ids["A"])
    out = tmp_path / "a.csv"
    args = ["settlements", "export", "--creator", creator, "--from", "2026-11-30"]
    result = cli_env.invoke(app, [*args, "--to", "2026-12-06", "--out", str(out)])
    assert result.exit_code == 0, result.output
    api = settled.client.get(
        "/api/v1/settlements/creators/me.csv",
        params={"period": "week", "date": "2026-11-30"},
        headers=settled.auth("A"),
    )
    assert out.read_text(encoding="utf-8") == api.text
    assert len(api.text.splitlines()) == 1 + 8
    assert not (tmp_path / "a.csv.partial").exists()


def test_export_any_range_to_stdout(settled: Settled, cli_env: CliRunner) -> None:
    creator = str(settled.ids["A"])
    args = ["settlements", "export", "--creator", creator, "--from", "2026-11-28"]
    result = cli_env.invoke(app, [*args, "--to", "2026-11-29", "--out", "-"])
    assert result.exit_code == 0, result.output
    v1, v2 = settled.ids["v1"], settled.ids["v2"]
    assert result.stdout.splitlines() == [
        "date,video_id,title,views,ad_views,video_amount,ad_amount,total_amount",
        f"2026-11-28,{v1},Morning walk,10,4,10,40,50",
        f"2026-11-29,{v2},Tea ceremony,20,5,21,52,73",
    ]


def test_export_refuses_bad_input(settled: Settled, cli_env: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    base = ["settlements", "export", "--out", str(out)]
    unknown = cli_env.invoke(
        app, [*base, "--creator", "999999", "--from", "2026-11-01", "--to", "2026-11-30"]
    )
    assert unknown.exit_code == 1
    assert "creator 999999 not found" in unknown.output
    backwards = cli_env.invoke(
        app, [*base, "--creator", "1", "--from", "2026-12-01", "--to", "2026-11-01"]
    )
    assert backwards.exit_code == 1
    assert "after" in backwards.output
    bad_date = cli_env.invoke(
        app, [*base, "--creator", "1", "--from", "2026-11-31", "--to", "2026-12-01"]
    )
    assert bad_date.exit_code == 2
    assert not out.exists()
    assert not (tmp_path / "x.csv.partial").exists()
