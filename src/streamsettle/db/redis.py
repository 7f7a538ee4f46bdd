"""The Redis connection, when one is configured (none in the embedded mode)."""

from __future__ import annotations

import redis

from streamsettle.config import Settings


def make_redis(settings: Settings) -> redis.Redis | None:
    if not settings.redis_url:
        return None
    return redis.Redis.from_url(settings.redis_url, decode_responses=True, health_check_interval=30)
