"""Login and refresh rate limits, the bounded password pool and the password policy, on
PostgreSQL + Redis (and the embedded mode's in-process counter).

The limits under test use an hour-long window, so that a slow machine cannot spill the
attempts of one test over two windows; the window's end is tested on the counters with
an explicit clock.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from streamsettle.app import create_app
from streamsettle.errors import ServiceUnavailable
from streamsettle.runtime import Runtime
from streamsettle.services.identity.passwords import password_pool
from streamsettle.services.rate_limit import RedisCounter, WindowCounter
from streamsettle.sessions import Limit
from tests.support.auth_helpers import PASSWORD, login, signup

HOUR = 3600


def _limited_runtime(base: Runtime, **limits: int) -> Runtime:
    """``base``'s connections with other limits (its own counter cache and password pool)."""
    settings = base.settings.model_copy(update={"auth_rate_window_seconds": HOUR, **limits})
    return Runtime(settings=settings, db=base.db, redis=base.redis)


@pytest.fixture
def limited(runtime: Runtime) -> Iterator[tuple[TestClient, Runtime]]:
    """The app with 3 logins per IP, 2 per account, 2 refreshes per IP and per user, an hour
    each; ``X-Forwarded-For`` from the test client is believed, so a test picks its IP."""
    rt = _limited_runtime(
        runtime,
        login_rate_per_ip=3,
        login_rate_per_account=2,
        refresh_rate_per_ip=3,
        refresh_rate_per_account=2,
    )
    rt.settings.trusted_proxies = ["testclient"]
    with TestClient(create_app(rt)) as client:
        yield client, rt
    password_pool(rt).close()


def _login(client: TestClient, email: str, ip: str, password: str = PASSWORD) -> httpx2.Response:
    return client.post(
        "/api/v1/auth/login",
        json={"email": email, "password": password},
        headers={"X-Forwarded-For": ip},
    )


def _refresh(client: TestClient, token: str, ip: str) -> httpx2.Response:
    return client.post(
        "/api/v1/auth/refresh", json={"refresh_token": token}, headers={"X-Forwarded-For": ip}
    )


def assert_rate_limited(response: httpx2.Response, window: int = HOUR) -> None:
    assert response.status_code == 429, response.text
    assert 0 < int(response.headers["retry-after"]) <= window
    error = response.json()["error"]
    assert error["code"] == "rate_limited"
    assert set(error) == {"code", "message", "details"}
    assert error["details"]["retry_after_seconds"] == int(response.headers["retry-after"])


def test_logins_per_ip_are_limited_and_other_ips_are_not(
    limited: tuple[TestClient, Runtime],
) -> None:
    client, _ = limited
    for email in ("a@example.com", "b@example.com", "c@example.com", "d@example.com"):
        signup(client, email)
    ip = "203.0.113.7"
    assert _login(client, "a@example.com", ip).status_code == 200
    assert _login(client, "b@example.com", ip, "wrong-password").status_code == 401
    assert _login(client, "c@example.com", ip).status_code == 200
    refused = _login(client, "d@example.com", ip)  # the 4th from this address
    assert_rate_limited(refused)
    assert "login attempts" in refused.json()["error"]["message"]
    assert_rate_limited(_login(client, "d@example.com", ip, "wrong-password"))
    assert _login(client, "d@example.com", "198.51.100.2").status_code == 200


def test_logins_per_account_are_limited_from_any_ip(limited: tuple[TestClient, Runtime]) -> None:
    client, _ = limited
    signup(client, "alice@example.com")
    signup(client, "bob@example.com")
    for n in range(2):
        wrong = _login(client, "alice@example.com", f"203.0.113.{n}", "wrong-password")
        assert wrong.status_code == 401
    # a third guess, from yet another address, and then even the right password: refused
    assert_rate_limited(_login(client, "Alice@Example.com", "203.0.113.50", "nope-nope"))
    assert_rate_limited(_login(client, "alice@example.com", "203.0.113.51"))
    assert _login(client, "bob@example.com", "203.0.113.52").status_code == 200


def test_refreshes_per_user_and_per_ip_are_limited(limited: tuple[TestClient, Runtime]) -> None:
    client, _ = limited
    signup(client, "r@example.com")
    signup(client, "s@example.com")
    token = _login(client, "r@example.com", "203.0.113.1").json()["refresh_token"]
    other = _login(client, "s@example.com", "203.0.113.2").json()["refresh_token"]
    for n in range(2):
        answer = _refresh(client, token, f"198.51.100.{n}")
        assert answer.status_code == 200, answer.text
        token = answer.json()["refresh_token"]
    assert_rate_limited(_refresh(client, token, "198.51.100.9"))  # the user's 3rd
    assert _refresh(client, other, "198.51.100.10").status_code == 200  # another user

    ip = "192.0.2.77"  # guessing tokens from one address: each try counts
    for _ in range(3):
        assert _refresh(client, "no-such-token", ip).status_code == 401
    assert_rate_limited(_refresh(client, "no-such-token", ip))


def test_the_embedded_mode_counts_in_process(sqlite_runtime: Runtime) -> None:
    rt = _limited_runtime(sqlite_runtime, login_rate_per_ip=2)
    assert rt.redis is None
    with TestClient(create_app(rt)) as client:
        signup(client, "e@example.com")
        assert login(client, "e@example.com")["access_token"]
        assert login(client, "e@example.com")["access_token"]
        assert_rate_limited(
            client.post("/api/v1/auth/login", json={"email": "e@example.com", "password": PASSWORD})
        )
    password_pool(rt).close()


@pytest.mark.parametrize("where", ["redis", "memory"])
def test_a_window_ends_and_counting_starts_again(runtime: Runtime, where: str) -> None:
    assert runtime.redis is not None
    count = RedisCounter(runtime.redis) if where == "redis" else WindowCounter()
    limits = [Limit("login-ip:192.0.2.1", 2, 60_000), Limit("login-account:x", 5, 60_000)]
    start = 1_800_000_000_000 - 1_800_000_000_000 % 60_000  # a window's first millisecond
    assert count(limits, start) == 0
    assert count(limits, start + 10_000) == 0
    assert count(limits, start + 20_000) == 40_000  # the third: refused until the window ends
    assert count(limits, start + 59_999) == 1
    assert count(limits, start + 60_000) == 0  # a new window
    assert count([Limit("login-ip:192.0.2.2", 2, 60_000)], start + 20_000) == 0  # other key


def test_a_full_password_pool_answers_503_at_once(runtime: Runtime) -> None:
    """One hashing thread and no queue: while it is busy a login is refused at once with
    Retry-After (the blocked check is still running when the answer arrives)."""
    rt = _limited_runtime(runtime, password_hash_workers=1, password_hash_queue=0)
    release = threading.Event()
    with TestClient(create_app(rt)) as client:
        signup(client, "p@example.com")
        pool = password_pool(rt)
        holder = threading.Thread(target=pool.run, args=(release.wait,))
        holder.start()
        try:
            deadline = time.monotonic() + 10
            while True:  # until the holder owns the only slot
                refused = client.post(
                    "/api/v1/auth/login", json={"email": "p@example.com", "password": PASSWORD}
                )
                if refused.status_code == 503 or time.monotonic() > deadline:
                    break
            assert refused.status_code == 503, refused.text
            assert not release.is_set() and holder.is_alive()
            assert int(refused.headers["retry-after"]) >= 1
            error: dict[str, Any] = refused.json()["error"]
            assert error["code"] == "unavailable" and error["details"]["reason"] == "busy"
            signup_refused = client.post(
                "/api/v1/auth/signup",
                json={"email": "q@example.com", "password": PASSWORD, "display_name": "Q"},
            )
            assert signup_refused.status_code == 503  # hashing a new password: same pool
        finally:
            release.set()
            holder.join(10)
        assert login(client, "p@example.com")["access_token"]  # free again
    password_pool(rt).close()


def test_the_pool_queues_a_bounded_number_of_checks(runtime: Runtime) -> None:
    rt = _limited_runtime(runtime, password_hash_workers=1, password_hash_queue=2)
    pool = password_pool(rt)
    release = threading.Event()
    holders = [threading.Thread(target=pool.run, args=(release.wait,)) for _ in range(3)]
    try:
        for holder in holders:
            holder.start()
        deadline = time.monotonic() + 10
        while pool.in_flight < pool.capacity and time.monotonic() < deadline:
            time.sleep(0.01)
        assert pool.in_flight == 3
        started = time.monotonic()
        with pytest.raises(ServiceUnavailable):
            pool.run(time.sleep, 5)
        assert time.monotonic() - started < 1
    finally:
        release.set()
        for holder in holders:
            holder.join(10)
    assert pool.run(sum, [1, 2]) == 3
    pool.close()


@pytest.mark.parametrize(
    ("password", "reason"),
    [
        ("password", "common"),
        ("Password", "common"),
        ("12345678", "common"),
        ("qwertyuiop", "common"),
        ("iloveyou", "common"),
        ("aaaaaaaaaaaa", "repeated"),
        (" " * 12, "blank"),
        ("short77", "too_short"),
        ("pol@example.com", "personal"),
        ("x" * 1025, "too_long"),
    ],
)
def test_signup_refuses_passwords_against_the_policy(
    client: TestClient, password: str, reason: str
) -> None:
    body = {"email": "pol@example.com", "password": password, "display_name": "Pol"}
    answer = client.post("/api/v1/auth/signup", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_input" and "password" in error["message"]
    if reason != "too_long" and reason != "too_short":  # these two are the schema's own 422
        assert error["details"] == {"field": "password", "reason": reason}


def test_a_long_passphrase_is_accepted_and_logs_in(client: TestClient) -> None:
    passphrase = "correct horse battery staple on a rainy tuesday, with tea & two biscuits!"
    assert len(passphrase) >= 64
    signup(client, "long@example.com", password=passphrase)
    assert login(client, "long@example.com", password=passphrase)["access_token"]
    signup(client, "plain@example.com", password="e2e-password-1")  # no character classes


def test_the_login_page_answers_429_with_retry_after(limited: tuple[TestClient, Runtime]) -> None:
    client, _ = limited
    signup(client, "page@example.com")
    form_page = client.get("/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', form_page.text)
    assert match is not None
    form = {"email": "page@example.com", "password": "wrong-password", "csrf_token": match[1]}
    ip = {"X-Forwarded-For": "203.0.113.99"}
    for _ in range(2):
        assert client.post("/login", data=form, headers=ip).status_code == 401
    refused = client.post("/login", data=form, headers=ip)  # the account's third
    assert refused.status_code == 429
    assert 0 < int(refused.headers["retry-after"]) <= HOUR
    assert "too many login attempts" in refused.text
