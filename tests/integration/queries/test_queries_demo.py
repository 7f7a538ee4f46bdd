"""The demo data set: real accounts, imported watch logs and settled days, loaded once."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from streamsettle.db.models import BatchRun, DailySettlement, DailyVideoStats, User, WatchLog
from streamsettle.domain.periods import Period
from streamsettle.runtime import Runtime
from streamsettle.services.identity.auth import login
from streamsettle.services.queries import creator_settlement
from streamsettle.synthetic.demo import ADMIN_EMAIL, DEMO_PASSWORD, load_demo

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)  # 18:00 in Seoul: yesterday is 2026-12-02


def test_demo_loads_once_and_settles_every_day(sqlite_runtime: Runtime) -> None:
    rt = sqlite_runtime
    result = load_demo(rt, days=3, now=NOW)
    assert result.created
    assert result.dates is not None
    assert (result.dates.start, result.dates.end) == (date(2026, 11, 30), date(2026, 12, 2))
    assert result.runs == [
        (date(2026, 11, 30), "completed"),
        (date(2026, 12, 1), "completed"),
        (date(2026, 12, 2), "completed"),
    ]
    assert {a.email for a in result.accounts} == {
        ADMIN_EMAIL,
        "creator1@demo.test",
        "creator2@demo.test",
        "advertiser@demo.test",
    }
    with rt.db.session() as session:
        logs = session.scalar(select(func.count()).select_from(WatchLog))
        assert logs == result.logs_inserted and 3 * 250 <= logs <= 3 * 2 * 900 * 1.2
        stats = session.execute(
            select(
                func.sum(DailyVideoStats.sessions),
                func.sum(DailyVideoStats.views),
                func.sum(DailyVideoStats.self_views),
                func.sum(DailyVideoStats.repeat_views),
                func.sum(DailyVideoStats.ad_views),
            )
        ).one()
        sessions, views, self_views, repeat_views, ad_views = (int(x) for x in stats)
        assert sessions == logs
        assert views > 0 and self_views > 0 and repeat_views > 0 and ad_views > 0
        settled_days = session.scalars(select(DailySettlement.business_date).distinct()).all()
        assert sorted(settled_days) == [date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)]
        creator = session.scalar(select(User).where(User.email == "creator1@demo.test"))
        assert creator is not None
        week = creator_settlement(session, creator.id, period=Period.WEEK, day=date(2026, 12, 2))
        assert week.total_amount > 0 and len(week.days) == 3
        pair = login(session, rt, email=ADMIN_EMAIL, password=DEMO_PASSWORD)
        assert pair.access_token

    again = load_demo(rt, days=3, now=NOW)
    assert not again.created
    with rt.db.session() as session:
        assert session.scalar(select(func.count()).select_from(WatchLog)) == logs
        assert session.scalar(select(func.count()).select_from(BatchRun)) == 3
