"""A month's life: close it, late logs and a corrected rate card re-settle its days, the
closed statement stays byte-identical and the next open statement carries the difference."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from streamsettle.db.models import RateCard, RateCardTier
from streamsettle.errors import Conflict
from streamsettle.services.statements import close_month, creator_statement
from streamsettle.services.statements.schedule import close_due_month
from tests.integration.batch.batch_world import World
from tests.integration.statements.ledger import adjustments, daily_totals, frozen_rows, settle

OCT, NOV, DEC = date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)
OCT2, OCT5, NOV3 = date(2026, 10, 2), date(2026, 10, 5), date(2026, 11, 3)
THRESHOLD = 10


class Scene:
    """Creator A (v1 with an ad slot, v2) and creator B (v3), settled through October."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.a, self.b = world.user("creator"), world.user("creator")
        self.ad = world.ad(world.user("advertiser"))
        self.v1, self.v2, self.v3 = world.video(self.a), world.video(self.a), world.video(self.b)
        self.ip = 0
        self.views(self.v1, OCT2, 2)
        self.views(self.v1, OCT2, 1, slots={300: self.ad})
        self.views(self.v3, OCT2, 2)
        self.views(self.v2, OCT5, 1)
        settle(world, OCT, date(2026, 10, 31))

    def views(
        self, video: int, day: date, n: int, slots: dict[int, int | None] | None = None
    ) -> None:
        for _ in range(n):
            self.ip += 1
            self.world.log(
                video, self.world.at(day, "10:00:00"), ip=f"10.1.0.{self.ip}", slots=slots
            )

    def statement(self, creator: int, month: date) -> dict[str, Any]:
        with self.world.runtime.db.session() as session:
            return creator_statement(session, creator, month, THRESHOLD).model_dump(mode="json")


@pytest.fixture
def scene(world: World) -> Scene:
    return Scene(world)


def test_close_freezes_one_statement_per_creator(scene: Scene) -> None:
    result = close_month(scene.world.runtime, OCT, threshold=THRESHOLD)
    assert (result.statements, result.closed_now) == (2, True)
    a = scene.statement(scene.a, OCT)
    assert a["status"] == "closed"
    assert [(line["video_id"], line["views"], line["ad_views"], line["total_amount"])
            for line in a["lines"]] == [(scene.v1, 3, 1, 13), (scene.v2, 1, 0, 1)]  # fmt: skip
    assert (a["total_amount"], a["carried_in"], a["payable_amount"]) == (14, 0, 14)
    assert (a["paid_out"], a["carried_out"]) == (14, 0)  # reached the threshold of 10
    b = scene.statement(scene.b, OCT)
    assert (b["total_amount"], b["paid_out"], b["carried_out"]) == (2, 0, 2)

    before = frozen_rows(scene.world)
    again = close_month(scene.world.runtime, OCT, threshold=1)
    assert (again.statements, again.closed_now) == (2, False)
    assert frozen_rows(scene.world) == before  # a no-op: nothing paid twice


def test_late_logs_adjust_the_next_open_statement_only(scene: Scene) -> None:
    world = scene.world
    close_month(world.runtime, OCT, threshold=THRESHOLD)
    closed = frozen_rows(world)
    closed_a = scene.statement(scene.a, OCT)
    old = daily_totals(world)

    scene.views(scene.v1, OCT2, 2)  # late logs for two days of the closed month
    scene.views(scene.v3, OCT5, 1)
    scene.views(scene.v2, NOV3, 5)
    settle(world, OCT2, date(2026, 11, 30))

    assert frozen_rows(world) == closed
    assert scene.statement(scene.a, OCT) == closed_a
    new = daily_totals(world)
    made = adjustments(world)
    assert [(a["video_id"], a["date"], a["previous"], a["new"], a["amount"]) for a in made] == [
        (scene.v1, OCT2, 13, 15, 2),
        (scene.v3, OCT5, 0, 1, 1),
    ]
    for a in made:
        key = (a["date"], a["video_id"])
        assert a["amount"] == new[key] - old.get(key, 0)
        assert a["statement_month"] == NOV

    settle(world, OCT2, date(2026, 11, 30))  # re-running with nothing new adds nothing
    assert adjustments(world) == made

    nov_a = scene.statement(scene.a, NOV)
    assert nov_a["status"] == "open"
    assert nov_a["adjustments"] == [
        {"month": "2026-10", "date": "2026-10-02", "video_id": scene.v1, "amount": 2,
         "previous_amount": 13, "new_amount": 15}
    ]  # fmt: skip
    assert (nov_a["total_amount"], nov_a["adjustments_amount"], nov_a["payable_amount"]) == (
        5,
        2,
        7,
    )
    nov_b = scene.statement(scene.b, NOV)
    assert (nov_b["carried_in"], nov_b["adjustments_amount"], nov_b["payable_amount"]) == (2, 1, 3)


def test_corrections_of_corrections_and_a_negative_balance(scene: Scene) -> None:
    world = scene.world
    close_month(world.runtime, OCT, threshold=THRESHOLD)
    scene.views(scene.v1, OCT2, 2)
    scene.views(scene.v2, NOV3, 5)
    settle(world, OCT2, date(2026, 11, 30))
    assert close_month(world.runtime, NOV, threshold=THRESHOLD).statements == 2
    nov_a = scene.statement(scene.a, NOV)
    assert (nov_a["carried_in"], nov_a["payable_amount"], nov_a["carried_out"]) == (0, 7, 7)

    scene.views(scene.v1, OCT2, 1)  # a correction of the corrected day: only the new view
    settle(world, OCT2, date(2026, 11, 30))
    assert [(a["statement_month"], a["previous"], a["new"], a["amount"])
            for a in adjustments(world)[1:]] == [(DEC, 15, 16, 1)]  # fmt: skip

    with world.runtime.db.session() as session:  # a corrected rate card: every view free
        card = RateCard(effective_from=OCT)
        card.tiers = [RateCardTier(kind=k, from_views=0, unit_price=Decimal(0))
                      for k in ("video", "ad")]  # fmt: skip
        session.add(card)
    settle(world, OCT, date(2026, 11, 30))
    dec_a = scene.statement(scene.a, DEC)
    assert dec_a["carried_in"] == 7
    assert dec_a["adjustments_amount"] == 1 - 16 - 1 - 5
    assert (dec_a["payable_amount"], dec_a["paid_out"], dec_a["carried_out"]) == (-14, 0, -14)
    # Nothing lost, nothing doubled: statements plus adjustments equal the settlements now.
    for creator in (scene.a, scene.b):
        statements = [scene.statement(creator, m) for m in (OCT, NOV, DEC)]
        issued = sum(
            int(str(s["total_amount"])) + int(str(s["adjustments_amount"])) for s in statements
        )
        assert issued == 0 == sum(daily_totals(world).values())


def test_a_month_closes_only_when_settled_and_in_order(scene: Scene) -> None:
    world = scene.world
    with pytest.raises(Conflict, match="the first settled month 2026-10 must close first"):
        close_month(world.runtime, NOV)
    scene.views(scene.v1, OCT5, 1)  # marks 2026-10-05 for a re-run
    with pytest.raises(Conflict, match="need a re-run") as refused:
        close_month(world.runtime, OCT)
    assert refused.value.details["rerun_dates"] == ["2026-10-05"]
    settle(world, OCT5, date(2026, 10, 31))
    assert close_month(world.runtime, OCT).closed_now
    with pytest.raises(Conflict, match="not settled") as unsettled:
        close_month(world.runtime, NOV)
    assert unsettled.value.details["unsettled_dates"][0] == "2026-11-01"


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE statements SET paid_out = 0, carried_out = payable_amount",
        "UPDATE statement_lines SET total_amount = total_amount + 1",
        "UPDATE statement_days SET total_amount = 0",
        "UPDATE statement_months SET payout_threshold = 1",
        "DELETE FROM statements",
        "DELETE FROM statement_days",
        "UPDATE statement_adjustments SET amount = amount",
        "DELETE FROM statement_adjustments",
        "INSERT INTO statement_adjustments (statement_month, creator_id, video_id, "
        "business_date, previous_amount, new_amount, amount, created_at) VALUES "
        "('2026-10-01', 1, 1, '2026-10-02', 0, 5, 5, '2026-12-01 00:00:00')",
    ],
)
def test_the_database_refuses_to_change_a_closed_statement(scene: Scene, sql: str) -> None:
    world = scene.world
    close_month(world.runtime, OCT, threshold=THRESHOLD)
    scene.views(scene.v1, OCT2, 1)
    settle(world, OCT2, date(2026, 11, 30))  # one adjustment, on November
    assert len(adjustments(world)) == 1
    before = frozen_rows(world)
    with (
        pytest.raises(sa.exc.DatabaseError, match="closed statements never change"),
        world.runtime.db.engine.begin() as conn,
    ):
        conn.execute(sa.text(sql))
    assert frozen_rows(world) == before
    assert len(adjustments(world)) == 1


def test_the_scheduler_closes_the_previous_month_from_the_configured_day(scene: Scene) -> None:
    runtime = scene.world.runtime
    on_day_3 = dataclasses.replace(
        runtime, settings=runtime.settings.model_copy(update={"statement_close_day": 3})
    )
    seoul = runtime.settings.tz
    assert close_due_month(on_day_3, datetime(2026, 11, 2, 12, tzinfo=seoul)) is None  # too early
    assert close_due_month(runtime, datetime(2026, 11, 20, 12, tzinfo=seoul)) is None  # off (0)
    assert frozen_rows(scene.world)["statement_months"] == []
    closed = close_due_month(on_day_3, datetime(2026, 11, 3, 0, 1, tzinfo=seoul))
    assert closed is not None and (closed.month, closed.statements) == (OCT, 2)
    assert close_due_month(on_day_3, datetime(2026, 11, 4, tzinfo=seoul)) is None  # done
    # December's close is due but November is not settled: refused, nothing written.
    assert close_due_month(on_day_3, datetime(2026, 12, 5, tzinfo=seoul)) is None
    assert len(frozen_rows(scene.world)["statement_months"]) == 1
