"""Typed settings, read once from the environment (prefix ``STREAMSETTLE_``).

The defaults give the embedded mode: a SQLite file, no Redis, a development JWT secret.
Outside that mode a default secret is refused, so a forgotten variable fails at start-up
instead of signing tokens with a public key.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "dev-only-insecure-secret-change-me-please-0123456789"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STREAMSETTLE_", env_file=".env", extra="ignore")

    database_url: str = "sqlite:///var/streamsettle.db"
    database_read_url: str | None = None
    redis_url: str | None = None
    database_connect_timeout_seconds: int = Field(
        default=2, ge=1, description="libpq's connect_timeout (it treats 1 as 2)"
    )
    database_pool_timeout_seconds: float = Field(
        default=5.0, gt=0, description="wait for a pooled connection before answering 503"
    )
    redis_connect_timeout_seconds: float = Field(default=1.0, gt=0)
    redis_socket_timeout_seconds: float = Field(
        default=2.0, gt=0, description="per command; no command blocks on the server"
    )
    max_body_bytes: int = Field(
        default=64 * 1024, gt=0, description="request body limit of the JSON and form routes"
    )
    import_max_bytes: int = Field(
        default=1024**3, gt=0, description="request body limit of the NDJSON watch-log import"
    )
    replica_max_lag_seconds: float = Field(
        default=30, gt=0, description="a replica further behind is skipped for reads"
    )
    replica_check_interval_seconds: float = Field(
        default=1.0, gt=0, description="how often one process checks the replica's health"
    )
    replica_catch_up_wait_ms: int = Field(
        default=200, ge=0, description="how long a writer's read waits for the replica"
    )
    read_your_writes_seconds: int = Field(
        default=60, gt=0, description="how long a user's last write position is remembered"
    )
    timezone: str = "Asia/Seoul"
    archive_dir: Path = Field(
        default=Path("var/archive"), description="where archived days of watch logs go"
    )
    embedded: bool | None = Field(
        default=None, description="Demo mode; defaults to true when the database is SQLite."
    )

    jwt_secret: SecretStr = SecretStr(DEV_JWT_SECRET)
    jwt_private_key_file: Path | None = None
    jwt_public_key_file: Path | None = None
    jwt_algorithm: str = "HS256"
    access_token_ttl_seconds: int = Field(default=900, gt=0)
    refresh_token_ttl_seconds: int = Field(default=30 * 24 * 3600, gt=0)

    oidc_provider: str = "google"
    oidc_issuer: str = "https://accounts.google.com"
    oidc_client_id: str | None = None
    oidc_client_secret: SecretStr | None = None
    oidc_redirect_base_url: str = "http://127.0.0.1:8000"

    repeat_view_window_seconds: int = Field(default=30, ge=0)
    heartbeat_interval_seconds: int = Field(default=10, gt=0)
    session_idle_timeout_seconds: int = Field(default=60, gt=0)
    flusher_interval_seconds: float = Field(default=2.0, gt=0)
    flusher_batch_size: int = Field(default=1000, gt=0)
    heartbeat_rate_per_ip: int = Field(default=100, gt=0, description="heartbeats/s per IP")
    heartbeat_rate_per_session: int = Field(default=5, gt=0, description="heartbeats/s per session")
    trusted_proxies: list[str] = Field(default_factory=list)

    auth_rate_window_seconds: int = Field(
        default=60, gt=0, description="the fixed window of the login and refresh limits"
    )
    login_rate_per_ip: int = Field(default=30, gt=0, description="logins per window per IP")
    login_rate_per_account: int = Field(
        default=10, gt=0, description="logins per window per email, from any address"
    )
    refresh_rate_per_ip: int = Field(default=60, gt=0, description="refreshes per window per IP")
    refresh_rate_per_account: int = Field(
        default=30, gt=0, description="refreshes per window per user"
    )
    password_hash_workers: int = Field(
        default=1, gt=0, description="threads per process that hash and check passwords"
    )
    password_hash_queue: int = Field(
        default=4, ge=0, description="password checks that may wait for a thread; more: 503"
    )
    password_hash_nice: int = Field(
        default=19, ge=0, le=19, description="the hashing threads' CPU niceness (Linux)"
    )

    batch_partitions: int = Field(default=0, ge=0, description="0 means the number of cores")
    batch_schedule_time: str = "00:30"
    batch_stale_after_seconds: int = Field(default=120, gt=0)
    batch_engine: Literal["", "sql", "duckdb", "spark"] = Field(
        default="",
        description="where the batch computes the rules: sql, duckdb or spark "
        "(empty: duckdb on PostgreSQL, sql on SQLite)",
    )
    spark_master: str = Field(
        default="local[*]",
        description="the spark engine's master: local[N], spark://, k8s://, yarn or sc:// "
        "(Spark Connect)",
    )
    spark_data_dir: str = Field(
        default="var/spark",
        description="where the spark engine writes each day's inputs as Parquet: a directory, "
        "or s3://, gs://, hdfs:// that every executor can read",
    )

    payout_threshold_krw: int = Field(
        default=10_000, ge=0, description="a statement pays out a payable balance from here on"
    )
    statement_close_day: int = Field(
        default=0, ge=0, le=28, description="the scheduler closes the previous month on this day"
    )

    run_flusher: bool = Field(default=True, description="serve also runs the flusher")
    run_scheduler: bool = Field(default=True, description="serve also runs the scheduler")

    metrics_token: SecretStr | None = Field(
        default=None, description="a bearer token that may read /metrics (for Prometheus)"
    )

    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("database_url", "database_read_url")
    @classmethod
    def _supported_database(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("sqlite", "postgresql")):
            raise ValueError(
                "must be a SQLAlchemy URL starting with sqlite:// or postgresql+psycopg://"
            )
        return value

    @property
    def engine(self) -> str:
        """The batch engine in use: the setting, else duckdb on PostgreSQL, sql on SQLite."""
        if self.batch_engine:
            return self.batch_engine
        return "sql" if self.database_url.startswith("sqlite") else "duckdb"

    @field_validator("metrics_token")
    @classmethod
    def _long_metrics_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    @field_validator("batch_schedule_time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        hours, sep, minutes = value.partition(":")
        if not (sep and hours.isdigit() and minutes.isdigit()):
            raise ValueError("must be HH:MM")
        if not (0 <= int(hours) < 24 and 0 <= int(minutes) < 60):
            raise ValueError("must be HH:MM within a day")
        return value

    @model_validator(mode="after")
    def _no_default_secret_in_production(self) -> Settings:
        if self.embedded is None:
            self.embedded = self.database_url.startswith("sqlite")
        uses_secret = self.jwt_algorithm.startswith("HS")
        if (
            not self.embedded
            and uses_secret
            and self.jwt_secret.get_secret_value() == DEV_JWT_SECRET
        ):
            raise ValueError(
                "STREAMSETTLE_JWT_SECRET must be set outside the embedded mode "
                "(or set STREAMSETTLE_EMBEDDED=true for a local demo)"
            )
        if uses_secret and len(self.jwt_secret.get_secret_value()) < 32:
            raise ValueError("STREAMSETTLE_JWT_SECRET must be at least 32 characters")
        return self

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def read_url(self) -> str:
        return self.database_read_url or self.database_url

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_client_id)


@lru_cache
def get_settings() -> Settings:
    return Settings()
