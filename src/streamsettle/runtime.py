"""The connections one process holds, built once from the settings.

Services take what they need from a ``Runtime``; the edges (HTTP app, CLI, workers)
build one at start-up and close it at shutdown.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis

from streamsettle.config import Settings, get_settings
from streamsettle.db.engine import Database
from streamsettle.db.redis import make_redis


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: redis.Redis | None

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Runtime:
        settings = settings or get_settings()
        client = make_redis(settings)
        return cls(settings=settings, db=Database.from_settings(settings, client), redis=client)

    def close(self) -> None:
        self.db.dispose()
        if self.redis is not None:
            self.redis.close()
