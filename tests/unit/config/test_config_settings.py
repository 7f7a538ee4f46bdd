"""Settings: safe embedded defaults, and a clear error for a bad or unsafe value."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from streamsettle.config import Settings


def _settings(**values: Any) -> Settings:
    return Settings(_env_file=None, **values)


def test_defaults_are_the_embedded_mode() -> None:
    settings = _settings()
    assert settings.database_url.startswith("sqlite:///")
    assert settings.redis_url is None
    assert settings.embedded is True
    assert settings.timezone == "Asia/Seoul"
    assert settings.read_url == settings.database_url
    assert settings.repeat_view_window_seconds == 30
    assert settings.replica_max_lag_seconds == 30
    assert settings.replica_catch_up_wait_ms == 200


def test_default_secret_refused_outside_embedded_mode() -> None:
    with pytest.raises(ValidationError, match="STREAMSETTLE_JWT_SECRET must be set"):
        _settings(database_url="postgresql+psycopg://u@h/db")


def test_short_secret_refused() -> None:
    with pytest.raises(ValidationError, match="at least 32 characters"):
        _settings(jwt_secret="short")


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("timezone", "Mars/Olympus", "unknown time zone"),
        ("database_url", "mysql://x", "must be a SQLAlchemy URL"),
        ("batch_schedule_time", "25:00", "HH:MM"),
        ("session_idle_timeout_seconds", 0, "greater than 0"),
        ("replica_max_lag_seconds", 0, "greater than 0"),
        ("replica_catch_up_wait_ms", -1, "greater than or equal to 0"),
    ],
)
def test_bad_values_name_the_problem(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _settings(**{field: value})


def test_environment_variables_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMSETTLE_TIMEZONE", "Europe/Berlin")
    monkeypatch.setenv("STREAMSETTLE_DATABASE_READ_URL", "sqlite:///replica.db")
    settings = Settings(_env_file=None)
    assert settings.timezone == "Europe/Berlin"
    assert settings.read_url == "sqlite:///replica.db"
