"""On a 20,000-log sample the anonymous, self and repeat shares land near their targets,
as classified by the reference rules (domain.views.classify_views)."""

from __future__ import annotations

from collections import Counter
from datetime import date

import sqlalchemy as sa

from streamsettle.domain.views import LogKey, ViewKind, classify_views
from streamsettle.runtime import Runtime
from streamsettle.synthetic import GenerationPlan, Shares, generate


def _kinds(runtime: Runtime) -> tuple[Counter[ViewKind], int, int]:
    with runtime.db.engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT w.session_id, w.video_id, w.viewer_id, w.ip, w.started_at, v.creator_id "
                "FROM watch_logs w JOIN videos v ON v.id = w.video_id"
            )
        ).all()
    logs = [
        LogKey(str(sid), video, viewer, str(ip), started, creator)
        for sid, video, viewer, ip, started, creator in rows
    ]
    kinds = classify_views(logs, runtime.settings.repeat_view_window_seconds)
    anonymous = sum(1 for log in logs if log.viewer_id is None)
    return Counter(kinds.values()), anonymous, len(logs)


def test_default_shares_on_20k_logs(runtime: Runtime) -> None:
    plan = GenerationPlan(
        videos=200, creators=20, days=2, logs_per_day=10_000, start_date=date(2026, 6, 1), seed=11
    )
    generate(runtime, plan, streams=2)
    kinds, anonymous, total = _kinds(runtime)
    assert total == 20_000
    # Binomial standard deviations at n = 20,000: 0.25, 0.07 and 0.12 points.
    assert abs(anonymous / total - 0.15) < 0.01
    assert abs(kinds[ViewKind.SELF] / total - 0.01) < 0.003
    assert abs(kinds[ViewKind.REPEAT] / total - 0.03) < 0.005
    assert kinds[ViewKind.COUNTED] == total - kinds[ViewKind.SELF] - kinds[ViewKind.REPEAT]


def test_custom_shares_are_honoured(runtime: Runtime) -> None:
    plan = GenerationPlan(
        videos=200,
        creators=20,
        days=1,
        logs_per_day=20_000,
        start_date=date(2026, 6, 1),
        seed=12,
        shares=Shares(anonymous=0.4, self_view=0.05, repeat=0.1),
    )
    generate(runtime, plan)
    kinds, anonymous, total = _kinds(runtime)
    assert abs(anonymous / total - 0.4) < 0.015
    assert abs(kinds[ViewKind.SELF] / total - 0.05) < 0.006
    assert abs(kinds[ViewKind.REPEAT] / total - 0.1) < 0.01
