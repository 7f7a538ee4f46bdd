"""``streamsettle flusher`` and ``streamsettle scheduler``: the background workers alone."""

from __future__ import annotations

from contextlib import suppress

import typer


def flusher(
    once: bool = typer.Option(False, "--once", help="flush what is due once, then exit"),
    interval: float = typer.Option(
        0, min=0, help="seconds between passes (default: STREAMSETTLE_FLUSHER_INTERVAL_SECONDS)"
    ),
) -> None:
    """Run the flusher alone: move stopped and idle playback sessions to watch logs.

    Ctrl-C or SIGTERM stops it cleanly after the pass in progress; a second Ctrl-C at once.
    """
    import signal
    import threading
    from datetime import UTC, datetime

    from streamsettle.cli.common import console, runtime
    from streamsettle.logging import configure_logging
    from streamsettle.services.ingest.flusher import flush_once
    from streamsettle.workers import run_periodically

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with runtime() as rt:
        configure_logging(rt.settings.log_level, rt.settings.log_json)
        pause = interval or rt.settings.flusher_interval_seconds

        def flush() -> None:
            moved = flush_once(rt)
            if moved or once:
                stamp = datetime.now(UTC).isoformat(timespec="seconds")
                console.print(f"{stamp} flushed {moved} session(s)")

        if once:
            flush()
            return
        console.print(f"flusher running every {pause:g} s (Ctrl-C to stop)")
        with suppress(KeyboardInterrupt):
            run_periodically("flusher", pause, flush, stop)
        console.print("flusher stopped")


def scheduler(
    interval: float = typer.Option(30.0, min=0.1, help="seconds between scheduler ticks"),
) -> None:
    """Run the batch scheduler alone: after STREAMSETTLE_BATCH_SCHEDULE_TIME each day, settle
    yesterday (and any unsettled day before it). Safe to run on several machines."""
    import signal
    import threading

    from streamsettle.cli.common import console, runtime
    from streamsettle.logging import configure_logging
    from streamsettle.services.batch.scheduler import make_tick
    from streamsettle.workers import run_periodically

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with runtime() as rt:
        configure_logging(rt.settings.log_level, rt.settings.log_json)
        tick = make_tick(rt)
        console.print(
            f"scheduler running: batch after {rt.settings.batch_schedule_time} "
            f"{rt.settings.timezone}, checking every {interval:g} s (Ctrl-C to stop)"
        )

        def settle_due() -> None:
            for run in tick():
                console.print(f"{run.business_date} {run.status} (run {run.id})")

        with suppress(KeyboardInterrupt):
            run_periodically("scheduler", interval, settle_due, stop)
        console.print("scheduler stopped")
