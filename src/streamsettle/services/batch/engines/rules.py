"""The one SQL text of the rules (``rules.sql``), rendered for an engine's dialect.

The text is written in the SQL that DuckDB and Spark SQL share; what differs between them
is injected as named tokens (``Dialect``), and the day's parameters as literals (a date and
two integers, formatted here, never user text). The extraction queries (``extract.sql``)
are written in the same file format and read and rendered by the same two functions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

from streamsettle.services.batch.engines.day import DayParams

_RELATION = re.compile(r"^-- relation: (\w+)\s*$")


@dataclass(frozen=True)
class Dialect:
    """The few expressions an engine's SQL spells its own way."""

    session_text: str
    """``session_id`` as text that PostgreSQL reads as a uuid."""
    explode: str
    """The function that turns an array into one row per element."""


DUCKDB = Dialect(session_text="CAST(session_id AS VARCHAR)", explode="unnest")
SPARK = Dialect(
    session_text=(
        "lower(concat_ws('-', substr(hex(session_id), 1, 8), substr(hex(session_id), 9, 4),"
        " substr(hex(session_id), 13, 4), substr(hex(session_id), 17, 4),"
        " substr(hex(session_id), 21, 12)))"
    ),
    explode="explode",
)


@dataclass(frozen=True)
class Relation:
    name: str
    sql: str


@cache
def read_relations(filename: str) -> tuple[tuple[str, str], ...]:
    """The ``-- relation: <name>`` sections of the SQL file ``filename`` beside this module,
    in order, as (name, SELECT) without comments or the closing ``;``."""
    text = resources.files(__package__).joinpath(filename).read_text(encoding="utf-8")
    relations: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        match = _RELATION.match(line)
        if match:
            relations.append((match.group(1), []))
        elif relations and line.strip() and not line.lstrip().startswith("--"):
            relations[-1][1].append(line)
    return tuple((name, "\n".join(lines).rstrip().rstrip(";")) for name, lines in relations)


def relations(dialect: Dialect, params: DayParams) -> list[Relation]:
    """The relations of ``rules.sql`` in order, ready to run."""
    values = {
        "day": f"DATE '{params.day.isoformat()}'",
        "window_seconds": str(params.window_seconds),
        "rate_card_id": str(int(params.rate_card_id)),
        "session_text": dialect.session_text,
        "explode": dialect.explode,
    }

    return [Relation(name, render(sql, values)) for name, sql in read_relations("rules.sql")]


def render(sql: str, values: dict[str, str]) -> str:
    """``sql`` with each ``{token}`` replaced by its value (literals formatted by the caller,
    never user text); ValueError if a brace is left."""
    rendered = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], sql)
    if "{" in rendered or "}" in rendered:
        raise ValueError(f"unrendered token in {rendered!r}")
    return rendered
