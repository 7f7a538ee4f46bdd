"""Heartbeats per second through the real HTTP stack (uvicorn + FastAPI + Redis Lua).

Starts ``streamsettle serve`` in a subprocess on a free port against a throwaway PostgreSQL
database and Redis (``STREAMSETTLE_BENCH_REDIS_URL``, default db 0; only this run's keys are
touched), opens ``--sessions`` playback sessions, then drives heartbeats from a separate
load process: ``wrk`` with a Lua script when installed, else an httpx async client. Rate
limits are raised for the run (one client IP sends everything). The reference is
``GET /healthz`` on the same server with the same load: the framework's own ceiling.

    python -m bench.heartbeats [--quick] [--duration S] [--connections N] [--sessions N]
                               [--workers N] [--auth] [--tool wrk|httpx]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx
import redis

from bench.common import emit, parser, throwaway_database
from bench.import_logs import BENCH_SECRET, seed_catalogue

REDIS_URL = os.environ.get("STREAMSETTLE_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

WRK_SCRIPT = r"""
local sessions = {}
local seqs = {}
local tokens = {}
local i = 0
local thread_id = 0
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  local threads = tonumber(args[2])
  local n = 0
  for line in io.lines(args[1]) do
    local sid, token = line:match("([^ ]+) ?(.*)")
    if n % threads == id then
      sessions[#sessions + 1] = sid
      tokens[#tokens + 1] = token
      seqs[#seqs + 1] = 0
    end
    n = n + 1
  end
end

function request()
  i = i % #sessions + 1
  seqs[i] = seqs[i] + 1
  local headers = {["Content-Type"] = "application/json"}
  if tokens[i] ~= "" then headers["Authorization"] = "Bearer " .. tokens[i] end
  local body = string.format('{"seq": %d, "position_seconds": %d, "state": "playing"}',
                             seqs[i], seqs[i] * 10 % 890)
  return wrk.format("POST", "/api/v1/playback/sessions/" .. sessions[i] .. "/heartbeats",
                    headers, body)
end

function done(summary, latency, requests)  -- shared with the reference script
  local non2xx = summary.errors.status
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "p50_us": %d, "p99_us": %d, "non_2xx": %d, ' ..
    '"socket_errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    non2xx, summary.errors.connect + summary.errors.read + summary.errors.write +
    summary.errors.timeout))
end
"""


HEALTHZ_SCRIPT = """
function init(args) end
function request() return wrk.format("GET", "/healthz") end
""" + WRK_SCRIPT[WRK_SCRIPT.index("function done") :]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_ready(base: str, server: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"server exited with {server.returncode}")
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise SystemExit("server did not start")


def open_sessions(base: str, video_ids: list[int], count: int, tokens: list[str]) -> list[str]:
    """``session_id token`` lines (token empty for anonymous sessions)."""
    lines = []
    with httpx.Client(base_url=base, timeout=10) as client:
        for n in range(count):
            token = tokens[n % len(tokens)] if tokens else ""
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = client.post(
                "/api/v1/playback/sessions",
                json={"video_id": video_ids[n % len(video_ids)]},
                headers=headers,
            )
            response.raise_for_status()
            lines.append(f"{response.json()['session_id']} {token}".rstrip())
    return lines


def run_wrk(
    base: str, script_text: str, sessions_file: Path, connections: int, duration: int
) -> dict[str, Any]:
    threads = min(connections, 2)
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(script_text)
    command = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "-s",
        script.name,
        base,
        "--",
        str(sessions_file),
        str(threads),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True)
    finally:
        os.unlink(script.name)
    if done.returncode != 0:
        raise SystemExit(f"wrk failed: {done.stderr or done.stdout}")
    stats = json.loads(done.stdout.strip().splitlines()[-1])
    seconds = stats["duration_us"] / 1e6
    return {
        "requests": stats["requests"],
        "requests_per_second": round(stats["requests"] / seconds, 1),
        "p50_ms": round(stats["p50_us"] / 1000, 2),
        "p99_ms": round(stats["p99_us"] / 1000, 2),
        "non_2xx": stats["non_2xx"],
        "socket_errors": stats["socket_errors"],
    }


async def drive_httpx(
    base: str, sessions: list[str], connections: int, duration: float
) -> dict[str, Any]:
    """The load process's loop when wrk is not installed."""
    latencies: list[float] = []
    errors = 0
    deadline = time.monotonic() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)

    async def worker(mine: list[str], client: httpx.AsyncClient) -> None:
        nonlocal errors
        seq = 0
        while time.monotonic() < deadline:
            seq += 1
            for line in mine:
                sid, _, token = line.partition(" ")
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                started = time.perf_counter()
                response = await client.post(
                    f"/api/v1/playback/sessions/{sid}/heartbeats",
                    json={"seq": seq, "position_seconds": seq * 10 % 890, "state": "playing"},
                    headers=headers,
                )
                latencies.append(time.perf_counter() - started)
                errors += response.status_code != 200

    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:
        started = time.monotonic()
        workers = (worker(sessions[i::connections], client) for i in range(connections))
        await asyncio.gather(*workers)
        seconds = time.monotonic() - started
    latencies.sort()
    return {
        "requests": len(latencies),
        "requests_per_second": round(len(latencies) / seconds, 1),
        "p50_ms": round(latencies[len(latencies) // 2] * 1000, 2),
        "p99_ms": round(latencies[int(len(latencies) * 0.99)] * 1000, 2),
        "non_2xx": errors,
    }


def run_httpx(base: str, sessions_file: Path, connections: int, duration: int) -> dict[str, Any]:
    """The httpx driver in its own process, so that it does not share the bench's GIL."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.heartbeats",
            "--drive",
            str(sessions_file),
            "--connections",
            str(connections),
            "--duration",
            str(duration),
        ],
        env={**os.environ, "BENCH_BASE": base},
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def forget_sessions(session_ids: list[str]) -> None:
    """Remove this run's sessions from Redis (nothing else in that database is touched)."""
    if not session_ids:
        return
    client = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    pipe = client.pipeline()
    pipe.delete(*(f"playback:session:{sid}" for sid in session_ids))
    pipe.zrem("playback:live", *session_ids)
    pipe.srem("playback:changed", *session_ids)
    for key in client.scan_iter("playback:day:*"):
        pipe.zrem(key, *session_ids)
    pipe.execute()
    client.close()


def server_env(url: str) -> dict[str, str]:
    """The server's settings: this run's database, Redis, heartbeat limits out of the way
    (one client address sends everything)."""
    return {
        **os.environ,
        "STREAMSETTLE_DATABASE_URL": url,
        "STREAMSETTLE_REDIS_URL": REDIS_URL,
        "STREAMSETTLE_JWT_SECRET": BENCH_SECRET,
        "STREAMSETTLE_HEARTBEAT_RATE_PER_IP": "1000000000",
        "STREAMSETTLE_HEARTBEAT_RATE_PER_SESSION": "1000000000",
        "STREAMSETTLE_LOG_LEVEL": "WARNING",
    }


def start_server(port: int, workers: int, env: dict[str, str], cwd: str) -> subprocess.Popen[bytes]:
    """``streamsettle serve`` without workers, in its own process group."""
    command = [
        str(Path(sys.executable).parent / "streamsettle"),
        "serve",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--no-flusher",
        "--no-scheduler",
        "--no-access-log",
    ]
    return subprocess.Popen(command, env=env, cwd=cwd, start_new_session=True)


def measure(args: argparse.Namespace) -> None:
    tool = args.tool or ("wrk" if shutil.which("wrk") else "httpx")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with throwaway_database() as url, tempfile.TemporaryDirectory() as tmp:
        video_ids, viewer_ids = seed_catalogue(url, videos=50, viewers=200)
        tokens: list[str] = []
        if args.auth:
            from streamsettle.config import Settings
            from streamsettle.services.identity.tokens import issue_access_token

            settings = Settings(_env_file=None, jwt_secret=BENCH_SECRET, embedded=False)
            tokens = [issue_access_token(settings, v, ["viewer"])[0] for v in viewer_ids]
        server = start_server(port, args.workers, server_env(url), tmp)
        session_ids: list[str] = []
        try:
            wait_ready(base, server)
            lines = open_sessions(base, video_ids, args.sessions, tokens)
            session_ids = [line.split(" ")[0] for line in lines]
            sessions_file = Path(tmp) / "sessions.txt"
            sessions_file.write_text("\n".join(lines))
            if tool == "wrk":
                stats = run_wrk(base, WRK_SCRIPT, sessions_file, args.connections, args.duration)
                reference = run_wrk(
                    base, HEALTHZ_SCRIPT, sessions_file, args.connections, args.duration
                )
            else:
                stats = run_httpx(base, sessions_file, args.connections, args.duration)
                reference = {}
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(15)
            forget_sessions(session_ids)
    emit(
        {
            "name": "heartbeats",
            "quick": args.quick,
            "tool": tool,
            "sizes": {
                "server_workers": args.workers,
                "connections": args.connections,
                "sessions": args.sessions,
                "signed_in": args.auth,
                "duration_s": args.duration,
            },
            **stats,
            "reference": {"name": "GET /healthz, same server and load", **reference},
        }
    )


def main(argv: Sequence[str] | None = None) -> None:
    args_parser = parser(__doc__, "heartbeats")
    args_parser.add_argument("--duration", type=int, help="seconds of load (default 10, 3 quick)")
    args_parser.add_argument("--connections", type=int, default=64)
    args_parser.add_argument("--sessions", type=int, help="sessions (default 2000, 200 quick)")
    args_parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="uvicorn worker processes (default: one per core here)",
    )
    args_parser.add_argument("--auth", action="store_true", help="sessions of signed-in viewers")
    args_parser.add_argument("--tool", choices=["wrk", "httpx"])
    args_parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: the httpx process
    args = args_parser.parse_args(argv)
    args.duration = args.duration or (3 if args.quick else 10)
    args.sessions = args.sessions or (200 if args.quick else 2000)
    if args.drive:
        sessions = Path(args.drive).read_text().split("\n")
        base = os.environ["BENCH_BASE"]
        result = asyncio.run(drive_httpx(base, sessions, args.connections, args.duration))
        print(json.dumps(result))
        return
    measure(args)


if __name__ == "__main__":
    main(sys.argv[1:])
