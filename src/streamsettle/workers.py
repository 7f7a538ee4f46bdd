"""Periodic work: the one loop behind the flusher and the scheduler (inside ``serve`` or alone
from the CLI) and the batch run's heartbeat. A failed tick is logged the same way wherever
the loop runs, and retried on the next one."""

from __future__ import annotations

import threading
from collections.abc import Callable

from streamsettle.logging import get_logger

log = get_logger(__name__)


def run_periodically(
    name: str,
    interval: float,
    tick: Callable[[], object],
    stop: threading.Event,
    *,
    wait_first: bool = False,
) -> None:
    """Call ``tick`` every ``interval`` seconds until ``stop`` is set or ``tick`` returns
    False; an error is logged, not fatal. ``wait_first``: the first tick after one interval."""
    if wait_first and stop.wait(interval):
        return
    while not stop.is_set():
        try:
            if tick() is False:
                return
        except Exception:
            log.exception("worker tick failed", worker=name)
        if stop.wait(interval):
            return


class PeriodicWorker(threading.Thread):
    """``run_periodically`` on a daemon thread of its own, until ``stop``."""

    def __init__(
        self, name: str, interval: float, tick: Callable[[], object], *, wait_first: bool = False
    ) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.tick = tick
        self.wait_first = wait_first
        self._stop_event = threading.Event()

    def run(self) -> None:
        run_periodically(
            self.name, self.interval, self.tick, self._stop_event, wait_first=self.wait_first
        )

    def stop(self, timeout: float = 10.0) -> None:
        self._stop_event.set()
        self.join(timeout)


def background_workers(runtime: object, *, flusher: bool, scheduler: bool) -> list[PeriodicWorker]:
    """The workers ``serve`` runs beside the API (each may also run alone from the CLI)."""
    workers: list[PeriodicWorker] = []
    if flusher:
        from streamsettle.runtime import Runtime
        from streamsettle.services.ingest.flusher import flush_once

        assert isinstance(runtime, Runtime)
        rt = runtime
        interval = rt.settings.flusher_interval_seconds
        workers.append(PeriodicWorker("flusher", interval, lambda: flush_once(rt)))
    if scheduler:
        from streamsettle.runtime import Runtime
        from streamsettle.services.batch.scheduler import TICK_INTERVAL_SECONDS, make_tick

        assert isinstance(runtime, Runtime)
        workers.append(PeriodicWorker("scheduler", TICK_INTERVAL_SECONDS, make_tick(runtime)))
    return workers
