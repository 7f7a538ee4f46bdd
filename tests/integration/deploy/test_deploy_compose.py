"""``deploy/compose.yaml`` describes the production topology and is a valid Compose file.

With the docker CLI's Compose plugin, ``docker compose config`` validates it (no engine
needed); without it, the structure is checked with PyYAML. Either way the topology itself
is asserted: who writes where, who reads where, Redis with its append-only file.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import yaml

COMPOSE = Path(__file__).resolve().parents[3] / "deploy" / "compose.yaml"
SECRETS = {
    "STREAMSETTLE_JWT_SECRET": "j" * 40,
    "POSTGRES_PASSWORD": "pw",
    "REPLICATION_PASSWORD": "rpw",
}


def _has_compose() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


def _resolved() -> dict[str, Any]:
    """The file as Compose resolves it (or, without Compose, merge keys resolved by YAML and
    ``${VAR:?…}`` interpolated the same way)."""
    if _has_compose():
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE), "config", "--format", "yaml"],
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, **SECRETS},
        )
        assert result.returncode == 0, result.stderr
        config: dict[str, Any] = yaml.safe_load(result.stdout)
        return config
    text = COMPOSE.read_text()
    for name, value in SECRETS.items():
        text = text.replace(f"${{{name}:?", f"{value}${{IGNORED:?")
    text = _drop_messages(text).replace("${STREAMSETTLE_VERSION:-latest}", "latest")
    assert "${" not in text, "an unresolved variable is left"
    config = yaml.safe_load(text)
    return config


def _drop_messages(text: str) -> str:
    """Remove the ``${IGNORED:?message}`` leftovers of the substitution above."""
    while (start := text.find("${IGNORED:?")) >= 0:
        text = text[:start] + text[text.index("}", start) + 1 :]
    return text


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_compose_file_describes_the_production_topology() -> None:
    config = _resolved()
    services = config["services"]
    assert set(services) >= {"primary", "replica", "redis", "api", "flusher", "scheduler"}
    for name, service in services.items():
        for needed in service.get("depends_on", {}):
            assert needed in services, f"{name} depends on unknown {needed}"

    assert "wal_level=replica" in services["primary"]["command"]
    assert "pg_basebackup" in (COMPOSE.parent / "postgres" / "standby-entrypoint.sh").read_text()
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command

    for name in ("api", "flusher", "scheduler", "migrate"):
        env = _env(services[name])
        assert "@primary:5432/" in env["STREAMSETTLE_DATABASE_URL"], name
        assert env["STREAMSETTLE_REDIS_URL"] == "redis://redis:6379/0", name
    assert "@replica:5432/" in _env(services["api"])["STREAMSETTLE_DATABASE_READ_URL"]
    api_command = " ".join(services["api"]["command"])
    assert "--no-flusher" in api_command and "--no-scheduler" in api_command
    assert services["flusher"]["command"] == ["streamsettle", "flusher"]
    assert services["scheduler"]["command"] == ["streamsettle", "scheduler"]
    # a lost replica degrades reads; it must not keep the API from starting
    assert services["api"]["depends_on"]["replica"]["condition"] == "service_started"
    assert set(config["volumes"]) >= {"primary-data", "replica-data", "redis-data"}
