"""The connections one process holds, built once from the settings.

Services take what they need from a ``Runtime``; the edges (HTTP app, CLI, workers)
build one at start-up and close it at shutdown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

import redis

from streamsettle.config import Settings, get_settings
from streamsettle.db.engine import Database
from streamsettle.db.redis import make_redis

T = TypeVar("T")


@dataclass
class Runtime:
    settings: Settings
    db: Database
    redis: redis.Redis | None
    _shared: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)
    _shared_lock: threading.Lock = field(
        default_factory=threading.Lock, init=False, repr=False, compare=False
    )

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Runtime:
        settings = settings or get_settings()
        client = make_redis(settings)
        return cls(settings=settings, db=Database.from_settings(settings, client), redis=client)

    def shared(self, name: str, build: Callable[[], T]) -> T:
        """One object of this runtime's (a counter, a thread pool), built on first use and
        closed with the runtime when it has a ``close``."""
        with self._shared_lock:
            if name not in self._shared:
                self._shared[name] = build()
            return cast(T, self._shared[name])

    def close(self) -> None:
        with self._shared_lock:
            for value in self._shared.values():
                close = getattr(value, "close", None)
                if close is not None:
                    close()
            self._shared.clear()
        self.db.dispose()
        if self.redis is not None:
            self.redis.close()
