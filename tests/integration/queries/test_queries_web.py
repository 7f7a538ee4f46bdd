"""The settlement page over HTTP: cookie login with CSRF, role sections, CSV, logout."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from streamsettle.app import create_app
from streamsettle.db.models import User, Video
from streamsettle.runtime import Runtime
from streamsettle.services.identity.passwords import hash_password
from streamsettle.services.identity.tokens import issue_access_token
from streamsettle.web.i18n import LANGUAGE_COOKIE, Formats
from streamsettle.web.session import ACCESS_COOKIE, CSRF_COOKIE, REFRESH_COOKIE
from tests.integration.queries.queries_dataset import Settled

PASSWORD = "page-password-1"
WEEK = "/?period=week&date=2026-12-02"


@functools.cache
def _password_hash() -> str:
    return hash_password(PASSWORD)


@pytest.fixture
def page(settled: Settled, runtime: Runtime) -> Settled:
    """The data set with a password for everyone and an HTML-looking title on v5."""
    with runtime.db.session() as session:
        for name in ("admin", "A", "B", "P", "viewer"):
            user = session.get(User, settled.ids[name])
            assert user is not None
            user.password_hash = _password_hash()
        video = session.get(Video, settled.ids["v5"])
        assert video is not None
        video.title = "<script>alert(1)</script>"
    return settled


def _csrf(client: TestClient, path: str = "/login") -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert match
    return match.group(1)


def _login(client: TestClient, email: str, language: str | None = "en") -> None:
    """Logs in; the page's English is chosen unless ``language`` is None (Korean, the default)."""
    if language is not None:
        client.cookies.set(LANGUAGE_COOKIE, language)
    token = _csrf(client)
    response = client.post(
        "/login",
        data={"email": email, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


def _text(html: str, testid: str) -> str:
    match = re.search(rf'data-testid="{testid}"[^>]*>([^<]*)<', html)
    assert match, testid
    return match.group(1)


def test_anonymous_visitor_is_sent_to_the_login_form(page: Settled) -> None:
    response = page.client.get("/", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    form = page.client.get("/login")
    assert form.status_code == 200
    assert '<meta name="viewport"' in form.text
    assert 'name="csrf_token"' in form.text
    assert "oidc-login" not in form.text  # no OIDC client configured
    assert "default-src 'self'" in form.headers["content-security-policy"]
    cookie = form.headers["set-cookie"]
    assert cookie.startswith(CSRF_COOKIE) and "HttpOnly" in cookie and "SameSite=strict" in cookie


def test_login_needs_the_csrf_token_and_the_right_password(page: Settled) -> None:
    client = page.client
    client.cookies.set(LANGUAGE_COOKIE, "en")
    token = _csrf(client)
    forged = client.post(
        "/login", data={"email": "a@q.test", "password": PASSWORD, "csrf_token": "x" * 43}
    )
    assert forged.status_code == 403
    assert ACCESS_COOKIE not in client.cookies
    wrong = client.post(
        "/login", data={"email": "a@q.test", "password": "nope-nope", "csrf_token": token}
    )
    assert wrong.status_code == 401
    assert "incorrect email or password" in wrong.text
    assert ACCESS_COOKIE not in client.cookies


def test_creator_sees_their_own_numbers_escaped(page: Settled) -> None:
    _login(page.client, "A@q.test")
    response = page.client.get(WEEK)
    assert response.status_code == 200
    html = response.text
    assert response.headers["cache-control"] == "no-store"
    assert _text(html, "range") == "Week: 2026-11-30 to 2026-12-06"
    assert _text(html, "total-amount") == "₩235"
    assert (_text(html, "video-amount"), _text(html, "ad-amount")) == ("₩85", "₩150")
    assert (_text(html, "views"), _text(html, "ad-views")) == ("81", "14")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)" not in html
    assert "admin-section" not in html
    assert '"video": [19, 42, 24, 0, 0, 0, 0]' in html
    assert '"ad": [66, 54, 30, 0, 0, 0, 0]' in html
    assert "B&#39;s only video" not in html and "B's only video" not in html
    csv = page.client.get("/settlements.csv?period=week&date=2026-12-02")
    assert csv.status_code == 200
    assert csv.text.splitlines()[-1] == f"2026-12-02,{page.ids['v6']},'=HYPERLINK(1),22,3,22,30,52"
    other = page.client.get(
        f"/settlements.csv?period=week&date=2026-12-02&creator_id={page.ids['B']}"
    )
    assert other.status_code == 403


def test_unsettled_period_shows_what_to_do(page: Settled) -> None:
    _login(page.client, "a@q.test")
    html = page.client.get("/?period=day&date=2026-12-03").text
    assert _text(html, "total-amount") == "₩0"
    assert "No settled days in this period yet" in html
    assert "streamsettle batch run --date" in html


def test_bad_period_falls_back_and_says_so(page: Settled) -> None:
    _login(page.client, "a@q.test")
    response = page.client.get("/?period=year&date=someday")
    assert response.status_code == 200
    assert "unknown period &#39;year&#39;" in response.text
    assert "&#39;someday&#39; is not a date" in response.text


def test_a_period_past_the_supported_dates_falls_back(page: Settled) -> None:
    _login(page.client, "a@q.test")
    for period, day in (("week", "9999-12-31"), ("month", "0001-01-01")):
        response = page.client.get(f"/?period={period}&date={day}")
        assert response.status_code == 200
        assert "showing the default instead" in response.text


def test_admin_sees_every_creator_and_the_batch_runs(page: Settled) -> None:
    _login(page.client, "admin@q.test")
    html = page.client.get(WEEK).text
    assert "admin-section" in html and "creator-section" not in html
    assert _text(html, "total-amount") == "₩468"
    assert "Creators (2)" in html
    assert "No batch run yet" in html
    csv = page.client.get(
        f"/settlements.csv?period=week&date=2026-12-02&creator_id={page.ids['B']}"
    )
    assert csv.status_code == 200
    assert csv.text.count("\n") == 1 + 2


def test_advertiser_and_viewer_sections(page: Settled) -> None:
    _login(page.client, "p@q.test")
    html = page.client.get(WEEK).text
    assert "advertiser-section" in html and "creator-section" not in html
    assert "Ad ad2" in html
    assert page.client.get("/settlements.csv?period=week&date=2026-12-02").status_code == 403
    page.client.cookies.clear()
    _login(page.client, "viewer@q.test")
    assert "none of these roles" in page.client.get(WEEK).text


def test_an_expired_access_token_is_renewed_from_the_refresh_cookie(
    page: Settled, runtime: Runtime
) -> None:
    _login(page.client, "a@q.test")
    refresh = page.client.cookies[REFRESH_COOKIE]
    past = datetime.now(UTC) - timedelta(hours=1)
    expired, _ = issue_access_token(runtime.settings, page.ids["A"], ["creator"], now=past)
    with TestClient(create_app(runtime)) as browser:
        browser.cookies.set(ACCESS_COOKIE, expired)
        browser.cookies.set(REFRESH_COOKIE, refresh)
        response = browser.get(WEEK)
    assert response.status_code == 200
    assert _text(response.text, "total-amount") == "₩235"
    renewed = {c.split("=", 1)[0]: c for c in response.headers.get_list("set-cookie")}
    assert {ACCESS_COOKIE, REFRESH_COOKIE} <= set(renewed)
    assert f"{REFRESH_COOKIE}={refresh};" not in renewed[REFRESH_COOKIE]
    assert "HttpOnly" in renewed[ACCESS_COOKIE] and "SameSite=lax" in renewed[ACCESS_COOKIE]
    # The spent refresh token now counts as reuse: it revokes the family.
    assert (
        page.client.post("/api/v1/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    )


def test_logout_revokes_both_tokens(page: Settled, runtime: Runtime) -> None:
    client = page.client
    _login(client, "a@q.test")
    access, refresh = client.cookies[ACCESS_COOKIE], client.cookies[REFRESH_COOKIE]
    token = _csrf(client, WEEK)
    forged = client.post("/logout", data={"csrf_token": "y" * 43}, follow_redirects=False)
    assert forged.status_code == 303 and ACCESS_COOKIE in client.cookies
    response = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (303, "/login")
    assert ACCESS_COOKIE not in client.cookies
    api = client.get("/api/v1/me", headers={"Authorization": f"Bearer {access}"})
    assert api.status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": refresh}).status_code == 401
    with TestClient(create_app(runtime)) as fresh:
        fresh.cookies.set(ACCESS_COOKIE, access)
        fresh.cookies.set(REFRESH_COOKIE, refresh)
        assert fresh.get("/", follow_redirects=False).status_code == 303


def test_oidc_button_when_configured(page: Settled, runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"oidc_client_id": "client-1"})
    rt = Runtime(settings=settings, db=runtime.db, redis=runtime.redis)
    with TestClient(create_app(rt)) as client:
        html = client.get("/login").text
    assert 'href="/api/v1/auth/oidc/google/login"' in html


def test_static_assets_are_served_locally(page: Settled) -> None:
    chart = page.client.get("/static/vendor/chart.umd.min.js")
    assert chart.status_code == 200
    assert chart.content.startswith(b"/*!\n * Chart.js v4.6.1")
    assert page.client.get("/static/dashboard.js").status_code == 200
    assert page.client.get("/static/../routes.py").status_code == 404


KO = Formats("ko")


def _korean(html: str) -> None:
    assert '<html lang="ko">' in html
    assert 'data-testid="language-switch"' in html and ">English</a>" in html


def test_login_page_is_korean_by_default_and_english_on_request(page: Settled) -> None:
    html = page.client.get("/login").text
    _korean(html)
    assert "로그인" in html and "Log in to see" not in html
    english = page.client.get("/login?lang=en")
    assert '<html lang="en">' in english.text and "Log in to see your settlements" in english.text
    assert english.cookies.get(LANGUAGE_COOKIE) == "en"
    assert "Content-Security-Policy" in english.headers
    page.client.cookies.delete(LANGUAGE_COOKIE)
    wrong = page.client.post(
        "/login", data={"email": "a@q.test", "password": "nope", "csrf_token": _csrf(page.client)}
    )
    assert wrong.status_code == 401
    assert _text(wrong.text, "login-error") == "이메일 또는 비밀번호가 올바르지 않습니다."


def test_dashboard_is_korean_by_default_with_the_studio_formats(page: Settled) -> None:
    _login(page.client, "a@q.test", language=None)
    html = page.client.get(WEEK).text
    _korean(html)
    assert "내 수익" in html
    assert _text(html, "range") == "주: 2026-11-30 ~ 2026-12-06"
    assert _text(html, "total-amount") == KO.krw(235) == "₩235"
    assert (_text(html, "views"), _text(html, "ad-views")) == (KO.num(81), KO.num(14))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html  # still escaped
    csv = page.client.get("/settlements.csv?period=week&date=2026-12-02")
    assert csv.text.splitlines()[0].startswith("date,")  # the CSV stays as it is


def test_statement_pages_are_korean_by_default_with_the_studio_formats(page: Settled) -> None:
    _login(page.client, "a@q.test", language=None)
    api = page.client.get(
        "/api/v1/statements/creators/me",
        params={"month": "2026-12"},
        headers={"Authorization": f"Bearer {page.tokens['A']}"},
    ).json()
    html = page.client.get("/statements?month=2026-12").text
    _korean(html)
    assert "정산 명세서 2026-12" in _text(html, "statement-title")
    assert _text(html, "statement-total") == KO.krw(api["total_amount"])
    assert _text(html, "payable") == KO.krw(api["payable_amount"])
    printable = page.client.get("/statements?month=2026-12&view=print").text
    assert '<html lang="ko">' in printable and "이월 받은 금액" in printable
    day = page.client.get(f"/videos/{page.ids['v1']}/days/2026-12-01")
    assert day.status_code == 200, day.text
    _korean(day.text)
    assert "시청 로그" in day.text
    breakdown = page.client.get(
        f"/api/v1/settlements/videos/{page.ids['v1']}/days/2026-12-01/breakdown",
        headers={"Authorization": f"Bearer {page.tokens['A']}"},
    ).json()
    assert _text(day.text, "day-total") == KO.krw(breakdown["total_amount"])
    english = page.client.get("/statements?month=2026-12&lang=en").text
    assert '<html lang="en">' in english and "Carried in" in english
