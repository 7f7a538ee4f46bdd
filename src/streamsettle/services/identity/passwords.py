"""Password hashing with argon2id, in a small pool of low-priority threads with a bounded
queue.

The parameters are OWASP's recommended argon2id configuration (19 MiB, 2 passes, 1 lane):
about 20 ms of one core per check, against ~175 ms over four lanes for argon2-cffi's
RFC 9106 default. An attacker's offline guessing cost stays what OWASP calls adequate, and a
wrong-password flood costs the server an eighth of the CPU. Hashes made with other
parameters still verify and are re-hashed with these at the next successful login.

Each process hashes on ``password_hash_workers`` threads at CPU niceness
``password_hash_nice`` (19 by default: at 19 a thread weighs about 1.5 % of a normal one, so
the heartbeats keep the CPU they need and hashing takes what is left; an idle CPU still
hashes at full speed), and at most ``password_hash_queue`` more checks wait: past that a
login answers 503 with Retry-After at once instead of queueing CPU work without end.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from streamsettle.config import Settings
from streamsettle.errors import ServiceUnavailable
from streamsettle.runtime import Runtime

T = TypeVar("T")
BUSY_RETRY_AFTER_SECONDS = 1

# OWASP Password Storage Cheat Sheet: argon2id, m = 19 MiB, t = 2, p = 1.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher.check_needs_rehash(password_hash)


def _lower_priority(nice: int) -> None:
    """Lower this thread's CPU priority (Linux applies niceness per thread, and argon2's
    lane threads inherit it); raising it back is not allowed, so never go below the
    current value."""
    if not nice or not hasattr(os, "setpriority"):
        return
    tid = threading.get_native_id()
    try:
        current = os.getpriority(os.PRIO_PROCESS, tid)
        os.setpriority(os.PRIO_PROCESS, tid, max(current, nice))
    except OSError:  # a platform without per-thread niceness: run at normal priority
        pass


class PasswordPool:
    """Hashes and checks passwords on a few threads; refuses work past a bounded queue."""

    def __init__(self, workers: int = 1, queue: int = 4, nice: int = 19) -> None:
        self.workers = workers
        self.capacity = workers + queue
        self._slots = threading.BoundedSemaphore(self.capacity)
        self._lock = threading.Lock()
        self._in_flight = 0
        self._executor = ThreadPoolExecutor(
            workers, thread_name_prefix="passwords", initializer=_lower_priority, initargs=(nice,)
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> PasswordPool:
        return cls(
            settings.password_hash_workers,
            settings.password_hash_queue,
            settings.password_hash_nice,
        )

    def run(self, work: Callable[..., T], *args: object) -> T:
        """``work(*args)`` on a pool thread, waited for; a 503 at once when the pool is full."""
        if not self._slots.acquire(blocking=False):
            raise ServiceUnavailable(
                "too many password checks in progress; retry shortly",
                {"reason": "busy", "retry_after_seconds": BUSY_RETRY_AFTER_SECONDS},
            )
        self._count(+1)
        try:
            future = self._executor.submit(work, *args)
        except BaseException:
            self._done()
            raise
        future.add_done_callback(lambda _: self._done())
        return future.result()

    @property
    def in_flight(self) -> int:
        """Checks running or waiting now."""
        return self._in_flight

    def _count(self, change: int) -> None:
        with self._lock:
            self._in_flight += change

    def _done(self) -> None:
        self._count(-1)
        self._slots.release()

    def hash(self, password: str) -> str:
        return self.run(hash_password, password)

    def verify(self, password_hash: str, password: str) -> bool:
        return self.run(verify_password, password_hash, password)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def password_pool(runtime: Runtime) -> PasswordPool:
    """The runtime's pool, started on first use."""
    return runtime.shared("password-pool", lambda: PasswordPool.from_settings(runtime.settings))
