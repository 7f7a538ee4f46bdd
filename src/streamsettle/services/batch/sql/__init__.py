"""The batch's set-based SQL, kept in ``.sql`` files beside this module.

Every step is DELETE + INSERT … SELECT inside the database; partitioned statements are
restricted to the video id range ``[:lo, :hi]`` so partitions never touch each other's
rows. ``<name>.sql`` serves both dialects; ``<name>.<dialect>.sql`` overrides it where they
differ (the repeat window and the exact price, see docs/batch.md). A file may hold several
statements, each ending with ``;`` at the end of a line; they run in order.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def statements(name: str, dialect: str) -> tuple[str, ...]:
    """The statements of step file ``name`` for ``dialect`` ("postgresql" or "sqlite")."""
    folder = resources.files(__package__)
    source = folder / f"{name}.{dialect}.sql"
    if not source.is_file():
        source = folder / f"{name}.sql"
    text = source.read_text(encoding="utf-8")
    parts: list[str] = []
    current: list[str] = []
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    if any(line.strip() for line in current):
        raise ValueError(f"{source.name}: the last statement does not end with ';'")
    return tuple(parts)
