"""The batch's set-based SQL, kept in ``.sql`` files beside this module.

Every step is DELETE + INSERT … SELECT inside the database; partitioned statements are
restricted to the video id range ``[:lo, :hi]`` so partitions never touch each other's
rows. ``<name>.sql`` serves both dialects; ``<name>.<dialect>.sql`` would override it. A
file may hold several statements, each ending with ``;`` at the end of a line; they run in
order. Two things keep one text per step where the dialects differ only a little:

- ``{word}`` is replaced by the dialect's piece of SQL of that name (``DIALECT_SQL``:
  the timestamp to order by, the elements of an array, the exact price arithmetic and
  the graduated price built from it, see docs/batch.md).
- A line ``-- snapshot: <name>`` starts a group that runs to the end of the file: a SELECT,
  then INSERTs that read its rows as the table ``<name>``. Every row of the group comes
  from one snapshot of the database and the SELECT runs once. On PostgreSQL the group is
  one statement (the SELECT a ``MATERIALIZED`` CTE, each INSERT a data-modifying CTE,
  answering the number of rows written); on SQLite, whose write transaction already is one
  snapshot, it is a temporary table that the INSERTs read and that is then dropped.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources

_SQLITE_MICROSECONDS = (
    "(CAST(strftime('%s', started_at) AS INTEGER) * 1000000"
    " + CAST(substr(started_at, 21, 6) AS INTEGER))"
)
DIALECT_SQL: dict[str, dict[str, str]] = {
    "postgresql": {
        # The key that orders sessions in time, and the repeat window in the same unit.
        "start_key": "started_at",
        "window": ":window",
        # k.ad_ids as rows a.value; the number of its non-NULL elements.
        "ad_ids_of_k": "unnest(k.ad_ids) AS a(value)",
        "ad_count": "COALESCE(cardinality(array_remove(ad_ids, NULL)), 0)",
        # Exact prices: NUMERIC unit prices, the exact sum truncated once.
        "price": "unit_price",
        "trunc": "trunc",
        "per_unit": "",
        "greatest": "GREATEST",
        "least": "LEAST",
    },
    "sqlite": {
        # Timestamps are 'YYYY-MM-DD HH:MM:SS.ffffff' text: exact integer microseconds.
        "start_key": _SQLITE_MICROSECONDS,
        "window": ":window_us",
        "ad_ids_of_k": "json_each(k.ad_ids) AS a",
        "ad_count": "(SELECT count(value) FROM json_each(ad_ids))",
        # NUMERIC is a binary REAL here: integer micro-KRW, summed and integer-divided.
        "price": "CAST(round(unit_price * 1000000) AS INTEGER)",
        "trunc": "",
        "per_unit": " / 1000000",
        "greatest": "max",
        "least": "min",
    },
}
# Rules 3.5 and 3.6, written once for the steps that price (a pair's ad views in
# video_stats.sql, a video's views in settle.sql): ``tiers`` of one kind of the rate card
# :card, each with the last view number it prices; and the exact price of the counts ``c``
# (``n`` views numbered after ``n_before``) over them, summed and truncated once.
_CARD_TIERS = (
    "SELECT from_views, {price} AS price,"
    " COALESCE(lead(from_views) OVER (ORDER BY from_views) - 1, 9223372036854775807)"
    " AS last_view FROM rate_card_tiers WHERE rate_card_id = :card"
)
_GRADUATED_AMOUNT = (
    "(SELECT {trunc}(COALESCE(sum({greatest}(0, {least}(c.n_before + c.n, t.last_view)"
    " - {greatest}(c.n_before + 1, t.from_views) + 1) * t.price), 0){per_unit})"
    " FROM tiers AS t)"
)
for _pieces in DIALECT_SQL.values():
    _pieces["card_tiers"] = _CARD_TIERS.format(**_pieces)
    _pieces["graduated_amount"] = _GRADUATED_AMOUNT.format(**_pieces)
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_SNAPSHOT = re.compile(r"^\s*--\s*snapshot:\s*(\w+)\s*$")


@cache
def statements(name: str, dialect: str) -> tuple[str, ...]:
    """The statements of step file ``name`` for ``dialect`` ("postgresql" or "sqlite")."""
    folder = resources.files(__package__)
    source = folder / f"{name}.{dialect}.sql"
    if not source.is_file():
        source = folder / f"{name}.sql"
    pieces = DIALECT_SQL[dialect]
    text = _PLACEHOLDER.sub(lambda m: pieces[m.group(1)], source.read_text(encoding="utf-8"))
    parts: list[str] = []
    current: list[str] = []
    snapshot: tuple[str, int] | None = None
    for line in text.splitlines():
        if not current and (not line.strip() or line.lstrip().startswith("--")):
            marker = _SNAPSHOT.match(line)
            if marker:
                snapshot = (marker.group(1), len(parts))
            continue
        current.append(line)
        if line.rstrip().endswith(";"):
            parts.append("\n".join(current).rstrip().rstrip(";"))
            current = []
    if any(line.strip() for line in current):
        raise ValueError(f"{source.name}: the last statement does not end with ';'")
    if snapshot is None:
        return tuple(parts)
    table, start = snapshot
    select, *inserts = parts[start:]
    if not inserts:
        raise ValueError(f"{source.name}: snapshot {table} is read by no INSERT")
    return (*parts[:start], *_one_snapshot(dialect, table, select, inserts))


def _one_snapshot(dialect: str, table: str, select: str, inserts: list[str]) -> list[str]:
    if dialect != "postgresql":
        return [f"CREATE TEMP TABLE {table} AS\n{select}", *inserts, f"DROP TABLE temp.{table}"]
    ctes = [f"{table} AS MATERIALIZED (\n{select}\n)"]
    ctes += [f"written_{i} AS (\n{sql}\nRETURNING 1\n)" for i, sql in enumerate(inserts)]
    counts = " + ".join(f"(SELECT count(*) FROM written_{i})" for i in range(len(inserts)))  # noqa: S608
    return ["WITH " + ",\n".join(ctes) + f"\nSELECT {counts}"]
