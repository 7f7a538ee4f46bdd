"""Background workers that run inside ``serve`` (or alone from the CLI): periodic ticks."""

from __future__ import annotations

import threading
from collections.abc import Callable

from streamsettle.logging import get_logger

log = get_logger(__name__)


class PeriodicWorker(threading.Thread):
    """Calls ``tick`` every ``interval`` seconds until stopped; an error is logged, not fatal."""

    def __init__(self, name: str, interval: float, tick: Callable[[], object]) -> None:
        super().__init__(name=name, daemon=True)
        self.interval = interval
        self.tick = tick
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.tick()
            except Exception:
                log.exception("worker tick failed", worker=self.name)
            self._stop_event.wait(self.interval)

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
