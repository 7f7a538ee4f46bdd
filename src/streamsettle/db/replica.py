"""Read routing to a PostgreSQL streaming replica, with read-your-writes for the writer.

Reads of statistics and settlements go to the replica; everything else stays on the primary.
Two rules keep that invisible to users:

* **Read-your-writes.** While a user's write is in flight the user is *pinned* to the
  primary; when it ends, the primary's WAL position (``pg_current_wal_lsn()``) is remembered
  for that user (Redis with a short expiry when configured, else this process). That user's
  reads use the replica only once its ``pg_last_wal_replay_lsn()`` has passed the position,
  waiting a bounded moment for it; otherwise they go to the primary. Other users may see the
  replica's slightly older state.
* **Health.** A cached check (at most one per ``check_interval`` per process) measures the
  replica's lag in bytes and seconds. A replica that is unreachable, not in recovery, or
  more than ``max_lag_seconds`` behind is skipped until a later check finds it healthy again;
  a connection that fails when a read session opens falls back to the primary in the same
  request.

Lag in seconds is how long the replica has been missing WAL that the primary had at one of
the checks (the primary's position is sampled at each check), so it is exact to one check
interval, never inflated by an idle primary.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Literal, Protocol

import redis
from prometheus_client import Counter, Gauge
from sqlalchemy import Engine, text
from sqlalchemy.exc import SQLAlchemyError

from streamsettle.logging import get_logger

log = get_logger(__name__)

State = Literal["ok", "lagging", "down", "not configured"]

REPLICA_UP = Gauge("streamsettle_replica_up", "1 when the read replica is used for reads")
REPLICA_LAG_BYTES = Gauge(
    "streamsettle_replica_lag_bytes", "WAL bytes the replica has yet to replay (last check)"
)
REPLICA_LAG_SECONDS = Gauge(
    "streamsettle_replica_lag_seconds", "how long the replica has been missing data (last check)"
)
READ_SESSIONS = Counter(
    "streamsettle_read_sessions_total",
    "read sessions opened, by the server that served them and why",
    ["target", "reason"],
)

PIN_SECONDS = 3600
"""How long a pin outlives a process that died mid-write (the user reads from the primary)."""


def parse_lsn(value: str) -> int:
    """``'16/B374D848'`` -> a byte position, comparable and subtractable."""
    high, _, low = value.partition("/")
    return (int(high, 16) << 32) | int(low, 16)


@dataclass(frozen=True)
class ReplicaStatus:
    """The last health check's verdict."""

    state: State
    lag_bytes: int | None = None
    lag_seconds: float | None = None
    replay_lsn: int | None = None
    error: str | None = None

    def as_dict(self) -> dict[str, object]:
        """The fields ``/readyz`` shows."""
        body: dict[str, object] = {"replica": self.state}
        if self.state != "not configured":
            body["replica_lag_bytes"] = self.lag_bytes
            body["replica_lag_seconds"] = self.lag_seconds
        if self.error:
            body["replica_error"] = self.error
        return body


NOT_CONFIGURED = ReplicaStatus("not configured")


@dataclass(frozen=True)
class WriteMark:
    pinned: bool
    lsn: int | None


class WriteMarks(Protocol):
    """Per-user memory of writes: in-flight pins and the WAL position of the last one."""

    def pin(self, user_id: int) -> None: ...

    def release(self, user_id: int, lsn: int | None) -> None: ...

    def get(self, user_id: int) -> WriteMark: ...


_RELEASE = """
local pins = redis.call('HINCRBY', KEYS[1], 'pins', -1)
if pins < 0 then
  pins = 0
  redis.call('HSET', KEYS[1], 'pins', 0)
end
if ARGV[1] ~= '' then
  local current = tonumber(redis.call('HGET', KEYS[1], 'lsn') or '0')
  if tonumber(ARGV[1]) > current then redis.call('HSET', KEYS[1], 'lsn', ARGV[1]) end
end
if pins > 0 then
  redis.call('EXPIRE', KEYS[1], ARGV[3])
else
  redis.call('EXPIRE', KEYS[1], ARGV[2])
end
return pins
"""


class RedisWriteMarks:
    """Marks shared by every API node: one hash per user, ``pins`` and ``lsn``."""

    def __init__(self, client: redis.Redis, ttl_seconds: int) -> None:
        self._client = client
        self._ttl = ttl_seconds
        self._release = client.register_script(_RELEASE)

    @staticmethod
    def _key(user_id: int) -> str:
        return f"streamsettle:writes:{user_id}"

    def pin(self, user_id: int) -> None:
        with self._client.pipeline(transaction=True) as pipe:
            pipe.hincrby(self._key(user_id), "pins", 1)
            pipe.expire(self._key(user_id), PIN_SECONDS)
            pipe.execute()

    def release(self, user_id: int, lsn: int | None) -> None:
        args: list[str | int] = ["" if lsn is None else str(lsn), self._ttl, PIN_SECONDS]
        self._release(keys=[self._key(user_id)], args=args)

    def get(self, user_id: int) -> WriteMark:
        pins, lsn = self._client.hmget(self._key(user_id), ["pins", "lsn"])
        return WriteMark(pinned=int(pins or 0) > 0, lsn=int(lsn) if lsn else None)


class LocalWriteMarks:
    """The same marks within one process, for deployments without Redis."""

    def __init__(self, ttl_seconds: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._marks: dict[int, tuple[int, int | None, float]] = {}

    def _live(self, user_id: int) -> tuple[int, int | None]:
        pins, lsn, expires = self._marks.get(user_id, (0, None, 0.0))
        return (pins, lsn) if expires > self._clock() else (0, None)

    def pin(self, user_id: int) -> None:
        with self._lock:
            pins, lsn = self._live(user_id)
            self._marks[user_id] = (pins + 1, lsn, self._clock() + PIN_SECONDS)
            self._forget_expired()

    def release(self, user_id: int, lsn: int | None) -> None:
        with self._lock:
            pins, old = self._live(user_id)
            pins = max(0, pins - 1)
            best = max((p for p in (old, lsn) if p is not None), default=None)
            ttl = PIN_SECONDS if pins else self._ttl
            self._marks[user_id] = (pins, best, self._clock() + ttl)

    def get(self, user_id: int) -> WriteMark:
        with self._lock:
            pins, lsn = self._live(user_id)
        return WriteMark(pinned=pins > 0, lsn=lsn)

    def _forget_expired(self) -> None:
        if len(self._marks) > 10_000:
            now = self._clock()
            self._marks = {u: m for u, m in self._marks.items() if m[2] > now}


Target = Literal["primary", "replica"]


class ReplicaRouter:
    """Chooses the engine of each read session, and remembers each user's writes."""

    def __init__(
        self,
        primary: Engine,
        replica: Engine,
        marks: WriteMarks,
        *,
        max_lag_seconds: float,
        check_interval_seconds: float,
        catch_up_wait_seconds: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary = primary
        self.replica = replica
        self.marks = marks
        self.max_lag_seconds = max_lag_seconds
        self.check_interval = check_interval_seconds
        self.catch_up_wait = catch_up_wait_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._status: ReplicaStatus | None = None
        self._checked_at = 0.0
        # (time first seen, primary WAL position) at each check where the position moved
        self._samples: deque[tuple[float, int]] = deque(maxlen=1000)

    # -- health -----------------------------------------------------------------------------

    def status(self) -> ReplicaStatus:
        """The cached verdict, refreshed by one caller at a time once it is older than the
        check interval; the others keep using the previous one meanwhile."""
        fresh = self._status is not None and self._clock() - self._checked_at < self.check_interval
        if fresh or not self._lock.acquire(blocking=self._status is None):
            assert self._status is not None
            return self._status
        try:
            if self._status is None or self._clock() - self._checked_at >= self.check_interval:
                return self._publish(self._check())
            return self._status
        finally:
            self._lock.release()

    def refresh(self) -> ReplicaStatus:
        """A check now, whatever the cache holds."""
        with self._lock:
            return self._publish(self._check())

    def _publish(self, status: ReplicaStatus) -> ReplicaStatus:
        if status.state != (self._status.state if self._status else None):
            report = log.info if status.state == "ok" else log.warning
            report("replica state", **status.as_dict())
        self._status = status
        self._checked_at = self._clock()
        REPLICA_UP.set(1 if status.state == "ok" else 0)
        REPLICA_LAG_BYTES.set(status.lag_bytes if status.lag_bytes is not None else -1)
        REPLICA_LAG_SECONDS.set(status.lag_seconds if status.lag_seconds is not None else -1)
        return status

    def _check(self) -> ReplicaStatus:
        try:
            with self.replica.connect() as connection:
                in_recovery, replay = connection.execute(
                    text("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text")
                ).one()
        except SQLAlchemyError as exc:
            return ReplicaStatus("down", error=type(exc).__name__)
        if not in_recovery or replay is None:
            return ReplicaStatus("down", error="not a standby in recovery")
        replay_lsn = parse_lsn(replay)
        now = self._clock()
        try:
            with self.primary.connect() as connection:
                current = parse_lsn(
                    connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
                )
        except SQLAlchemyError:
            # The primary is unreachable: the replica's state is the best there is.
            return ReplicaStatus("ok", replay_lsn=replay_lsn, error="primary unreachable")
        if not self._samples or self._samples[-1][1] < current:
            self._samples.append((now, current))
        behind_since = next((t for t, lsn in self._samples if lsn > replay_lsn), None)
        lag_seconds = 0.0 if behind_since is None else round(now - behind_since, 3)
        state: State = "lagging" if lag_seconds > self.max_lag_seconds else "ok"
        return ReplicaStatus(state, max(0, current - replay_lsn), lag_seconds, replay_lsn)

    def mark_down(self, error: str) -> None:
        """A read found the replica unreachable: skip it until the next check."""
        with self._lock:
            self._publish(ReplicaStatus("down", error=error))

    # -- routing ----------------------------------------------------------------------------

    def choose(self, user_id: int | None) -> tuple[Target, str]:
        """Where this user's next read session goes, and why."""
        status = self.status()
        if status.state != "ok":
            return "primary", f"replica {status.state}"
        if user_id is None:
            return "replica", "anonymous"
        try:
            mark = self.marks.get(user_id)
        except redis.RedisError:
            return "primary", "write marks unavailable"
        if mark.pinned:
            return "primary", "write in flight"
        if mark.lsn is None:
            return "replica", "no recent write"
        if status.replay_lsn is not None and status.replay_lsn >= mark.lsn:
            return "replica", "replayed own writes"
        if self._await_replay(mark.lsn):
            return "replica", "replayed own writes"
        return "primary", "replica behind own writes"

    def _await_replay(self, lsn: int) -> bool:
        """Whether the replica replays up to ``lsn`` within the bounded wait."""
        deadline = self._clock() + self.catch_up_wait
        try:
            with self.replica.connect() as connection:
                query = text("SELECT pg_last_wal_replay_lsn()::text")
                while True:
                    replay = connection.execute(query).scalar_one()
                    connection.rollback()
                    if replay is not None and parse_lsn(replay) >= lsn:
                        return True
                    if self._clock() >= deadline:
                        return False
                    time.sleep(0.01)
        except SQLAlchemyError as exc:
            self.mark_down(type(exc).__name__)
            return False

    # -- writes -----------------------------------------------------------------------------

    def pin(self, user_id: int) -> None:
        """A write by ``user_id`` starts: their reads go to the primary until ``release``."""
        try:
            self.marks.pin(user_id)
        except redis.RedisError as exc:
            log.warning("write mark not stored", user_id=user_id, error=type(exc).__name__)

    def release(self, user_id: int) -> None:
        """The write has ended (committed or not): remember the primary's WAL position."""
        lsn: int | None = None
        try:
            with self.primary.connect() as connection:
                lsn = parse_lsn(
                    connection.execute(text("SELECT pg_current_wal_lsn()::text")).scalar_one()
                )
        except SQLAlchemyError as exc:
            log.warning("primary WAL position unknown", error=type(exc).__name__)
        try:
            self.marks.release(user_id, lsn)
        except redis.RedisError as exc:
            log.warning("write mark not stored", user_id=user_id, error=type(exc).__name__)

    @contextmanager
    def writing(self, user_id: int) -> Iterator[None]:
        self.pin(user_id)
        try:
            yield
        finally:
            self.release(user_id)
