"""The Redis connections, when Redis is configured (none in the embedded mode).

Both clients fail fast: a dead or frozen server costs a command about the connect or socket
timeout and one quick retry, not redis-py's default ten retries, so a request during an
outage is answered 503 within a second or two. A reconnect happens on the next command, so
a restarted server is used again without restarting the process.
"""

from __future__ import annotations

from typing import Any

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry as AsyncRetry
from redis.backoff import ExponentialWithJitterBackoff
from redis.retry import Retry

from streamsettle.config import Settings

RETRIES = 1
"""One retry: enough to replace a connection a restarted server dropped, little else."""


def redis_options(settings: Settings) -> dict[str, Any]:
    return {
        "decode_responses": True,
        "health_check_interval": 30,
        "socket_connect_timeout": settings.redis_connect_timeout_seconds,
        "socket_timeout": settings.redis_socket_timeout_seconds,
        "socket_keepalive": True,
    }


def make_redis(settings: Settings) -> redis.Redis | None:
    if not settings.redis_url:
        return None
    retry = Retry(ExponentialWithJitterBackoff(base=0.01, cap=0.05), RETRIES)
    return redis.Redis.from_url(settings.redis_url, retry=retry, **redis_options(settings))


def make_async_redis(settings: Settings) -> aioredis.Redis | None:
    if not settings.redis_url:
        return None
    retry = AsyncRetry(ExponentialWithJitterBackoff(base=0.01, cap=0.05), RETRIES)
    return aioredis.Redis.from_url(settings.redis_url, retry=retry, **redis_options(settings))
