"""Fault points: the places where a test makes a process die as if killed.

Recovery is only proven by dying at the worst moment: right after the flusher committed a
batch but before it released the sessions, or between two steps of the daily batch. The code
marks those moments with ``reached(point)``; it does nothing unless the process was started
with the environment variable ``STREAMSETTLE_FAULT`` naming that point (``armed(point)``
gives the entry a test adds to a child process's environment). Production never sets it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

ENV = "STREAMSETTLE_FAULT"


@dataclass(frozen=True)
class Point:
    name: str
    exit_code: int
    """What the process exits with, so that a test tells the fault from another failure."""


FLUSHER_AFTER_COMMIT = Point("flusher-after-commit", 75)
"""A flush batch's watch logs are committed; its sessions are still held by the store."""


def batch_after_step(step: str) -> Point:
    """A step of the daily batch finished; the run is still marked running."""
    return Point(f"batch-after-{step}", 1)


def armed(point: Point) -> dict[str, str]:
    """The environment entry that arms ``point`` in a child process."""
    return {ENV: point.name}


def reached(point: Point) -> None:
    """Exit at once (no clean-up, like a kill) when ``point`` is armed."""
    if os.environ.get(ENV) == point.name:
        os._exit(point.exit_code)
