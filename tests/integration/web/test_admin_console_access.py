"""The admin console over HTTP: only admins get in, every form needs the CSRF token, pages
carry the strict CSP, and what the pages report (a backfill's progress, the days a rate
card re-prices) is read from the database as it is."""

from __future__ import annotations

import re
import time
from datetime import date

import pytest
from fastapi.testclient import TestClient

from streamsettle.db.models import BatchRun, User
from streamsettle.runtime import Runtime
from streamsettle.services import catalogue, rate_cards
from streamsettle.services.batch import run_range
from streamsettle.services.identity import accounts
from streamsettle.services.queries import admin as admin_queries

PASSWORD = "console-password-1"
PAGES = [
    "/admin",
    "/admin/batch",
    "/admin/import",
    "/admin/rate-cards",
    "/admin/videos",
    "/admin/creators",
]


def _users(runtime: Runtime) -> dict[str, int]:
    with runtime.db.session() as session:
        ids = {}
        for name, roles in (("root", ["admin"]), ("maker", ["creator"])):
            user = accounts.create_user(
                session,
                email=f"{name}@web.test",
                password=PASSWORD,
                display_name=name,
                roles=roles,
            )
            ids[name] = user.id
        maker = session.get(User, ids["maker"])
        assert maker is not None
        ids["video"] = catalogue.create_video(
            session, maker, title="<script>alert(1)</script>", duration_seconds=900
        ).id
        return ids


def _csrf(client: TestClient, path: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match, path
    return match.group(1)


def _login(client: TestClient, who: str) -> None:
    answer = client.post(
        "/login",
        data={
            "email": f"{who}@web.test",
            "password": PASSWORD,
            "csrf_token": _csrf(client, "/login"),
        },
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text


def test_anonymous_users_go_to_the_login_and_creators_are_refused(
    runtime: Runtime, client: TestClient
) -> None:
    _users(runtime)
    for path in PAGES:
        answer = client.get(path, follow_redirects=False)
        assert (answer.status_code, answer.headers["location"]) == (303, "/login"), path
    _login(client, "maker")
    for path in PAGES:
        answer = client.get(path)
        assert answer.status_code == 403, path
        assert "The admin console is for admins" in answer.text
    progress = client.get(
        "/admin/batch/progress", params={"run": 1, "from": "2026-10-01", "to": "2026-10-01"}
    )
    assert progress.status_code == 403
    assert progress.json()["error"]["code"] == "forbidden"


def test_pages_escape_titles_and_carry_the_strict_policy(
    runtime: Runtime, client: TestClient
) -> None:
    ids = _users(runtime)
    _login(client, "root")
    for path in [*PAGES, f"/admin/videos/{ids['video']}/ads", f"/admin/creators/{ids['maker']}"]:
        answer = client.get(path)
        assert answer.status_code == 200, path
        policy = answer.headers["content-security-policy"]
        assert "script-src 'self';" in policy and "form-action 'self'" in policy
        assert "<script>alert(1)</script>" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in client.get("/admin/videos").text


def test_the_creators_list_opens_each_creators_studio_and_statements(
    runtime: Runtime, client: TestClient
) -> None:
    ids = _users(runtime)
    _login(client, "root")
    listing = client.get("/admin/creators").text
    for path in (f"/studio?creator_id={ids['maker']}", f"/statements?creator_id={ids['maker']}"):
        assert f'href="{path}"' in listing
        assert client.get(path).status_code == 200, path


def test_forms_without_the_csrf_token_change_nothing(runtime: Runtime, client: TestClient) -> None:
    ids = _users(runtime)
    _login(client, "root")
    forms = [
        ("/admin/batch", {"from": "2026-10-01", "to": "2026-10-02"}),
        (
            "/admin/rate-cards",
            {
                "effective_from": "2026-10-01",
                "video_from": "0",
                "video_price": "5",
                "ad_from": "0",
                "ad_price": "5",
            },
        ),
        (f"/admin/videos/{ids['video']}/ads", {"position": "450", "ad": "1"}),
    ]
    for path, data in forms:
        answer = client.post(path, data=data, follow_redirects=False)
        assert answer.status_code == 303, path
    answer = client.post(
        "/admin/import", files={"file": ("x.ndjson", b"{}\n")}, follow_redirects=False
    )
    assert answer.status_code == 303
    with runtime.db.session() as session:
        assert session.query(BatchRun).count() == 0
        assert [c.effective_from for c in rate_cards.list_rate_cards(session)] == [date(2000, 1, 1)]
        video = catalogue.get_video(session, ids["video"])
        assert [s.position_seconds for s in video.ad_slots] == [300, 600]


def test_a_refused_backfill_says_why_and_starts_nothing(
    runtime: Runtime, client: TestClient
) -> None:
    _users(runtime)
    _login(client, "root")
    token = _csrf(client, "/admin/batch")
    answer = client.post(
        "/admin/batch", data={"from": "2099-01-01", "to": "2099-01-02", "csrf_token": token}
    )
    assert answer.status_code == 409
    assert "2099-01-01 is not over yet" in answer.text
    answer = client.post(
        "/admin/batch", data={"from": "2026-10-05", "to": "2026-10-01", "csrf_token": token}
    )
    assert answer.status_code == 409
    assert "is after the last" in answer.text
    with runtime.db.session() as session:
        assert session.query(BatchRun).count() == 0


def test_progress_and_repriced_days_follow_the_runs(runtime: Runtime, client: TestClient) -> None:
    """Without watch logs a day still settles (to nothing): enough to follow the runs."""
    _users(runtime)
    _login(client, "root")
    token = _csrf(client, "/admin/batch")
    answer = client.post(
        "/admin/batch",
        data={"from": "2026-10-01", "to": "2026-10-03", "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303
    match = re.fullmatch(
        r"/admin/batch\?run=(\d+)&from=2026-10-01&to=2026-10-03", answer.headers["location"]
    )
    assert match
    params = {"run": match.group(1), "from": "2026-10-01", "to": "2026-10-03"}
    deadline = time.monotonic() + 60
    while not (body := client.get("/admin/batch/progress", params=params).json())["finished"]:
        assert time.monotonic() < deadline, body
        time.sleep(0.2)
    assert [(d["date"], d["status"], d["steps_done"]) for d in body["days"]] == [
        ("2026-10-01", "completed", 8),
        ("2026-10-02", "completed", 8),
        ("2026-10-03", "completed", 8),
    ]  # flush, extract, compute (the duckdb engine) .. statement_adjustments, one each
    assert body["completed"] == 3 and body["refused"] is None

    with runtime.db.session() as session:
        card = rate_cards.create_rate_card(
            session,
            effective_from=date(2026, 10, 2),
            video_tiers=[(0, "2")],
            ad_tiers=[(0, "20")],
        )
        later = rate_cards.create_rate_card(
            session,
            effective_from=date(2026, 10, 3),
            video_tiers=[(0, "3")],
            ad_tiers=[(0, "30")],
        )
        assert admin_queries.days_repriced_by(session, card) == [date(2026, 10, 2)]
        assert admin_queries.days_repriced_by(session, later) == [date(2026, 10, 3)]
    page = client.get("/admin/rate-cards", params={"added": card.id})
    assert "2026-10-02" in re.sub(r"\s+", " ", page.text.split('data-testid="repriced-days">')[1])
    assert 'data-testid="rerun-repriced"' in page.text
    run_range(runtime, date(2026, 10, 2), date(2026, 10, 3))
    with runtime.db.session() as session:
        assert admin_queries.days_repriced_by(session, card) == []
        assert admin_queries.days_repriced_by(session, later) == []


@pytest.mark.parametrize("path", ["/admin/creators/999999", "/admin/videos/999999/ads"])
def test_unknown_creators_and_videos_are_404_pages(
    runtime: Runtime, client: TestClient, path: str
) -> None:
    _users(runtime)
    _login(client, "root")
    answer = client.get(path)
    assert answer.status_code == 404
    assert "text/html" in answer.headers["content-type"]


def test_the_overview_groups_days_needing_a_rerun_behind_one_button(
    runtime: Runtime, client: TestClient
) -> None:
    _users(runtime)
    run_range(runtime, date(2026, 10, 1), date(2026, 10, 4))
    run_range(runtime, date(2026, 10, 2), date(2026, 10, 2))  # flags the 3rd and the 4th
    _login(client, "root")
    page = client.get("/admin").text
    section = re.sub(r"\s+", " ", page.split('data-testid="needing-rerun"')[1])
    assert "Days needing a re-run (2)" in section
    assert '2026-10-03 to 2026-10-04 <span class="muted">(2 days)</span>' in section
    assert "2026-10-02 was re-run after it" in section
    button = re.search(
        r'name="from" value="([\d-]+)"> <input type="hidden" name="to" value="([\d-]+)"> '
        r'<button type="submit" data-testid="rerun-stale">',
        section,
    )
    assert button and button.groups() == ("2026-10-03", "2026-10-04")
