"""Shorthand for the migrations' DDL: a table's columns written as ``name:type`` words (see
``Spec``), its constraints and indexes named by the project's naming convention
(``pk_<table>``, ``ck_<table>_<name>``, ``fk_<table>_<column>_<referred table>``,
``uq_<table>_<column>``, ``ix_<table>_<column>``).

Migrations already applied call these helpers, so what a helper emits must never change:
a new need gets a new type word, helper or argument whose default keeps the old output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from alembic import op


def big_id() -> sa.types.TypeEngine[int]:
    """BIGINT on PostgreSQL, INTEGER on SQLite so that an id aliases the rowid."""
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


_TYPES: dict[str, Callable[[], sa.types.TypeEngine[Any]]] = {
    "id": big_id,
    "big": sa.BigInteger,
    "int": sa.Integer,
    "bool": sa.Boolean,
    "date": sa.Date,
    "ts": lambda: sa.DateTime(timezone=True),
    "text": sa.Text,
    "uuid": sa.Uuid,
    "bytes": sa.LargeBinary,
}

# The settled amounts of a day, a creator or a statement, in this order.
AMOUNTS = "views:big ad_views:big video_amount:big ad_amount:big total_amount:big"
# A playback session's state, as live and as checkpointed.
PLAYBACK_STATE = (
    "ip:str(45) user_agent:text started_at:ts duration_ms:big ad_slots:text start_position_ms:big"
    " position_ms:big at_ms:big watched_ms:big last_seq:big slots_reached:text"
)


def column_type(word: str) -> sa.types.TypeEngine[Any]:
    """``id big int bool date ts text uuid bytes``, ``str(<length>)`` or
    ``num(<precision>,<scale>)``."""
    if word.startswith("str("):
        return sa.String(length=int(word[4:-1]))
    if word.startswith("num("):
        precision, scale = word[4:-1].split(",")
        return sa.Numeric(precision=int(precision), scale=int(scale))
    return _TYPES[word]()


@dataclass(frozen=True)
class Spec:
    """A table's columns read from ``name:type`` words, in order. A type may end with marks:
    ``?`` nullable (else NOT NULL), ``*`` part of the primary key (in the order written),
    ``^`` indexed on its own (``ix_<table>_<column>``)."""

    columns: list[sa.Column[Any]]
    primary_key: list[str]
    indexed: list[str]

    @classmethod
    def read(cls, spec: str) -> Spec:
        result = cls([], [], [])
        for word in spec.split():
            name, _, kind = word.partition(":")
            marks = kind[len(kind.rstrip("?*^")) :]
            type_ = column_type(kind.rstrip("?*^"))
            result.columns.append(sa.Column(name, type_, nullable="?" in marks))
            if "*" in marks:
                result.primary_key.append(name)
            if "^" in marks:
                result.indexed.append(name)
        return result


@dataclass(frozen=True)
class Fk:
    """A foreign key from ``columns`` to ``refs`` (``"table.column"``), in that order."""

    columns: str | Sequence[str]
    refs: str | Sequence[str]
    ondelete: str | None = None

    def constraint(self, table: str) -> sa.ForeignKeyConstraint:
        columns = [self.columns] if isinstance(self.columns, str) else list(self.columns)
        refs = [self.refs] if isinstance(self.refs, str) else list(self.refs)
        name = op.f(f"fk_{table}_{columns[0]}_{refs[0].split('.')[0]}")
        if self.ondelete is None:
            return sa.ForeignKeyConstraint(columns, refs, name=name)
        return sa.ForeignKeyConstraint(columns, refs, name=name, ondelete=self.ondelete)


def create_table(
    name: str,
    spec: str,
    *,
    checks: Mapping[str, str] | None = None,
    fks: Sequence[Fk] = (),
    unique: Sequence[Sequence[str]] = (),
    indexes: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """Create a table (checks, foreign keys, primary key, unique constraints in that order),
    then its indexes: the marked columns', then ``indexes`` (name: columns)."""
    table = Spec.read(spec)
    op.create_table(
        name,
        *table.columns,
        *(
            sa.CheckConstraint(sql, name=op.f(f"ck_{name}_{check}"))
            for check, sql in (checks or {}).items()
        ),
        *(fk.constraint(name) for fk in fks),
        sa.PrimaryKeyConstraint(*table.primary_key, name=op.f(f"pk_{name}")),
        *(sa.UniqueConstraint(*cols, name=op.f(f"uq_{name}_{cols[0]}")) for cols in unique),
    )
    for column in table.indexed:
        op.create_index(op.f(f"ix_{name}_{column}"), name, [column], unique=False)
    for index, cols in (indexes or {}).items():
        op.create_index(index, name, list(cols), unique=False)
