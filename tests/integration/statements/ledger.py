"""Helpers of the statements tests: settling date ranges cheaply, and snapshots."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from streamsettle.db import models as m
from streamsettle.domain.periods import DateRange
from streamsettle.services.batch import run_date
from tests.integration.batch.batch_world import World

FROZEN = (m.StatementMonth, m.Statement, m.StatementLine, m.StatementDay)


def settle(world: World, start: date, end: date) -> None:
    """Settle ``start..end`` in order: days with watch logs by a real batch run, empty days
    by a completed run recorded now (what a run of an empty day amounts to). The runs use
    the in-database engine, the quickest on days of a few logs; every engine writes the
    same rows (tests/integration/engines)."""
    with world.runtime.db.session() as session:
        with_logs = set(session.scalars(sa.select(m.WatchLog.business_date).distinct()))
    for day in DateRange(start, end).days():
        if day in with_logs:
            run = run_date(world.runtime, day, engine="sql")
            assert run.status == "completed", run.error
            continue
        world.mark_settled(day, datetime.now(UTC))


def frozen_rows(world: World) -> dict[str, list[tuple[str, ...]]]:
    """Every row of the closed statements' tables, as text, sorted."""
    result = {}
    with world.runtime.db.engine.connect() as conn:
        for model in FROZEN:
            rows = conn.execute(sa.select(model.__table__)).all()
            result[model.__tablename__] = sorted(tuple(str(v) for v in row) for row in rows)
    return result


def daily_totals(world: World) -> dict[tuple[date, int], int]:
    with world.runtime.db.session() as session:
        rows = session.execute(
            sa.select(
                m.DailySettlement.business_date,
                m.DailySettlement.video_id,
                m.DailySettlement.total_amount,
            )
        ).all()
    return {(d, v): int(t) for d, v, t in rows}


def adjustments(world: World) -> list[dict[str, Any]]:
    with world.runtime.db.session() as session:
        rows = session.scalars(sa.select(m.StatementAdjustment).order_by(m.StatementAdjustment.id))
        return [
            {
                "statement_month": a.statement_month,
                "creator_id": a.creator_id,
                "video_id": a.video_id,
                "date": a.business_date,
                "previous": a.previous_amount,
                "new": a.new_amount,
                "amount": a.amount,
            }
            for a in rows
        ]
