"""Request body limits: a body over its route's limit is refused with the JSON 413 before
anything reads it whole; a declared length over the limit is refused without reading it.

The 100 MB bodies go over a raw socket to uvicorn, with the app wrapped in a counter of the
body bytes it was handed, so the tests assert what the server consumed, not how long it took.
"""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from streamsettle.app import create_app
from streamsettle.runtime import Runtime
from tests.support.auth_helpers import quick_user_headers
from tests.support.servers import serve

KIB = 1024
MB = 1000 * 1000
DEFAULT_LIMIT = 64 * KIB


@dataclass
class BodyCounter:
    """Wraps the app and counts the request body bytes it pulls from the server."""

    app: ASGIApp
    consumed: dict[str, int] = field(default_factory=dict)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        self.consumed.setdefault(path, 0)

        async def counted() -> Message:
            message = await receive()
            self.consumed[path] += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture
def counted_server(runtime: Runtime) -> Iterator[tuple[str, BodyCounter]]:
    counter = BodyCounter(create_app(runtime))
    with serve(counter) as base:
        yield base, counter


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    data = b""
    while b"\r\n\r\n" not in data or not _complete(data):
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return int(status_line.split()[1]), headers, body


def _complete(data: bytes) -> bool:
    head, _, body = data.partition(b"\r\n\r\n")
    for line in head.decode("latin-1").split("\r\n"):
        name, _, value = line.partition(":")
        if name.lower() == "content-length":
            return len(body) >= int(value)
    return False


def _send_until_answered(
    base: str, path: str, headers: list[str], chunks: Iterator[bytes]
) -> tuple[int, dict[str, str], bytes, int]:
    """Send the head, then body chunks until the server answers; the answer and the bytes
    of body that could be sent."""
    address = urlsplit(base)
    sock = socket.create_connection((address.hostname, address.port), timeout=30)
    head = "\r\n".join([f"POST {path} HTTP/1.1", f"Host: {address.netloc}", *headers])
    sock.sendall(head.encode() + b"\r\n\r\n")
    sent = 0
    try:
        for chunk in chunks:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(chunk)
            except OSError:  # the server answered and closed while we were still sending
                break
            sent += len(chunk)
        return (*_read_response(sock), sent)
    finally:
        sock.close()


def _chunked(total: int, size: int = 64 * KIB) -> Iterator[bytes]:
    piece = b"x" * size
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + piece + b"\r\n"
    yield b"0\r\n\r\n"


def _plain(total: int, size: int = 64 * KIB) -> Iterator[bytes]:
    piece = b"x" * size
    for _ in range(total // size):
        yield piece


def _assert_413(status: int, headers: dict[str, str], body: bytes, limit: int) -> None:
    assert status == 413
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    error = json.loads(body)["error"]
    assert error["code"] == "payload_too_large"
    assert error["details"] == {"limit_bytes": limit}


def test_a_declared_100_mb_login_is_refused_unread(
    counted_server: tuple[str, BodyCounter],
) -> None:
    base, counter = counted_server
    headers = ["Content-Type: application/json", f"Content-Length: {100 * MB}"]
    status, answer_headers, body, _ = _send_until_answered(
        base, "/api/v1/auth/login", headers, _plain(100 * MB)
    )
    _assert_413(status, answer_headers, body, DEFAULT_LIMIT)
    assert counter.consumed["/api/v1/auth/login"] == 0


def test_a_streamed_100_mb_login_is_cut_off_at_the_limit(
    counted_server: tuple[str, BodyCounter],
) -> None:
    base, counter = counted_server
    headers = ["Content-Type: application/json", "Transfer-Encoding: chunked"]
    status, answer_headers, body, sent = _send_until_answered(
        base, "/api/v1/auth/login", headers, _chunked(100 * MB)
    )
    _assert_413(status, answer_headers, body, DEFAULT_LIMIT)
    # the app stopped at the limit plus at most a few of the server's buffered chunks
    assert counter.consumed["/api/v1/auth/login"] <= DEFAULT_LIMIT + 256 * KIB
    assert sent < 100 * MB / 4


def test_a_streamed_oversized_heartbeat_is_cut_off_by_the_fast_path(
    counted_server: tuple[str, BodyCounter],
) -> None:
    base, counter = counted_server
    path = "/api/v1/playback/sessions/00000000-0000-4000-8000-000000000001/heartbeats"
    headers = ["Content-Type: application/json", "Transfer-Encoding: chunked"]
    status, answer_headers, body, _ = _send_until_answered(base, path, headers, _chunked(10 * MB))
    _assert_413(status, answer_headers, body, DEFAULT_LIMIT)
    assert counter.consumed[path] <= DEFAULT_LIMIT + 256 * KIB


def test_json_routes_take_bodies_up_to_the_default_limit(client: TestClient) -> None:
    padding = " " * (DEFAULT_LIMIT - 200)
    under = f'{{"email": "a@example.com",{padding} "password": "{"x" * 20}"}}'.encode()
    assert len(under) <= DEFAULT_LIMIT
    json_type = {"Content-Type": "application/json"}
    answer = client.post("/api/v1/auth/login", content=under, headers=json_type)
    assert answer.status_code == 401  # read and checked: no such user
    over = under.replace(b",", b"," + b" " * 300, 1)
    refused = client.post("/api/v1/auth/login", content=over, headers=json_type)
    assert refused.status_code == 413
    assert refused.json()["error"]["details"] == {"limit_bytes": DEFAULT_LIMIT}


def test_the_web_login_form_has_the_default_limit(client: TestClient) -> None:
    form = {"email": "a@example.com", "password": "x" * DEFAULT_LIMIT, "csrf_token": "t"}
    assert client.post("/login", data=form).status_code == 413


def test_a_full_ad_slot_list_fits_its_own_limit(client: TestClient, runtime: Runtime) -> None:
    headers = quick_user_headers(runtime, "both@example.com", ["creator", "advertiser"])
    ad = client.post("/api/v1/ads", json={"title": "a", "duration_seconds": 15}, headers=headers)
    video = client.post(
        "/api/v1/videos", json={"title": "v", "duration_seconds": 2000}, headers=headers
    )
    placements = [{"position_seconds": p, "ad_id": ad.json()["id"]} for p in range(1, 1001)]
    body = json.dumps(placements, indent=8).encode()
    assert len(body) > DEFAULT_LIMIT  # an indented list of the most placements allowed
    placed = client.put(
        f"/api/v1/videos/{video.json()['id']}/ad-slots",
        content=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    assert placed.status_code == 200, placed.text
    assert len(placed.json()) == 1000


def test_the_import_limit_is_its_own_setting(runtime: Runtime) -> None:
    settings = runtime.settings.model_copy(update={"import_max_bytes": 300 * KIB})
    rt = Runtime(settings=settings, db=runtime.db, redis=runtime.redis)
    admin = quick_user_headers(rt, "admin@example.com", ["admin"])
    ndjson = {**admin, "Content-Type": "application/x-ndjson"}
    with TestClient(create_app(rt)) as client:
        blank_lines = b"\n" * (200 * KIB)  # over the JSON limit, under the import's
        url = "/api/v1/admin/watch-logs/import"
        accepted = client.post(url, content=blank_lines, headers=ndjson)
        assert accepted.status_code == 200, accepted.text
        summary = accepted.json()
        assert (summary["inserted"], summary["duplicates"], summary["rejected"]) == (0, 0, [])
        refused = client.post(url, content=b"\n" * (301 * KIB), headers=ndjson)
        assert refused.status_code == 413
        assert refused.json()["error"]["details"] == {"limit_bytes": 300 * KIB}
        streamed = client.post(url, content=(b"\n" * KIB for _ in range(400)), headers=ndjson)
        assert streamed.request.headers.get("transfer-encoding") == "chunked"
        assert streamed.status_code == 413, streamed.text
        assert streamed.json()["error"]["code"] == "payload_too_large"
