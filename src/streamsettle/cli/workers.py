"""``streamsettle flusher`` and ``streamsettle scheduler``: the background workers alone."""

from __future__ import annotations

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

    from streamsettle.cli.common import console, err_console, runtime
    from streamsettle.services.ingest.flusher import flush_once

    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            raise KeyboardInterrupt
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    with runtime() as rt:
        pause = interval or rt.settings.flusher_interval_seconds
        if not once:
            console.print(f"flusher running every {pause:g} s (Ctrl-C to stop)")
        try:
            while not stop.is_set():
                try:
                    moved = flush_once(rt)
                except Exception as exc:  # a pass that fails is retried on the next one
                    if once:
                        raise
                    err_console.print(f"[red]flush failed:[/red] {type(exc).__name__}: {exc}")
                    moved = 0
                if moved or once:
                    stamp = datetime.now(UTC).isoformat(timespec="seconds")
                    console.print(f"{stamp} flushed {moved} session(s)")
                if once:
                    break
                stop.wait(pause)
        except KeyboardInterrupt:
            pass
        if not once:
            console.print("flusher stopped")


def scheduler(
    interval: float = typer.Option(30.0, min=0.1, help="seconds between scheduler ticks"),
) -> None:
    """Run the batch scheduler alone: after STREAMSETTLE_BATCH_SCHEDULE_TIME each day, settle
    yesterday (and any unsettled day before it). Safe to run on several machines."""
    import signal
    import threading

    from streamsettle.cli.common import console, err_console, runtime
    from streamsettle.services.batch.scheduler import make_tick

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with runtime() as rt:
        tick = make_tick(rt)
        console.print(
            f"scheduler running: batch after {rt.settings.batch_schedule_time} "
            f"{rt.settings.timezone}, checking every {interval:g} s (Ctrl-C to stop)"
        )
        try:
            while not stop.is_set():
                try:
                    for run in tick():
                        console.print(f"{run.business_date} {run.status} (run {run.id})")
                except Exception as exc:  # a failed tick is retried on the next one
                    err_console.print(f"[red]scheduler tick failed:[/red] {exc}")
                stop.wait(interval)
        except KeyboardInterrupt:
            pass
        console.print("scheduler stopped")
