"""Heartbeats per second with and without a wrong-password login flood, in the same run.

One ``streamsettle serve`` (as in ``bench.heartbeats``: a throwaway PostgreSQL database,
Redis, ``--sessions`` open sessions, ``wrk`` driving heartbeats for ``--duration`` s).
Rounds alternate the order (without, with; with, without; …) so that a drift of this
machine's speed weighs on both sides alike. During a "with" run a separate process sends
``--flood-rate`` logins per second with wrong passwords from ``--flood-clients``
concurrent clients (each waits for its answer: a slow server slows the flood).

By default the server's login limits are raised so that every flood login reaches the
password check: the worst case, a flood spread over many addresses and accounts, which only
the bounded password pool holds back. ``--default-limits`` keeps the limits of a default
configuration (then, from one address, most of the flood is answered 429).

    python -m bench.login_flood [--quick] [--rounds N] [--duration S] [--workers N]
                                [--flood-clients N] [--flood-rate R] [--default-limits]
                                [--hash-nice N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench.common import emit, parser, throwaway_database
from bench.heartbeats import (
    REDIS_URL,
    WRK_SCRIPT,
    forget_sessions,
    free_port,
    open_sessions,
    run_wrk,
    server_env,
    start_server,
    wait_ready,
)
from bench.import_logs import seed_catalogue

FLOOD_EMAIL = "flood-target@bench.test"
FLOOD_PASSWORD = "the real one, never guessed"


async def flood(base: str, clients: int, rate: float, duration: float) -> dict[str, Any]:
    """``rate`` wrong-password logins per second over ``clients`` connections."""
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    interval = clients / rate  # each client's period
    deadline = time.monotonic() + duration

    async def client(n: int, http: httpx.AsyncClient) -> None:
        next_at = time.monotonic() + n * interval / clients
        while True:
            await asyncio.sleep(max(0.0, next_at - time.monotonic()))
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            try:
                answer = await http.post(
                    "/api/v1/auth/login",
                    json={"email": FLOOD_EMAIL, "password": f"guess-{n}-{next_at}"},
                )
                statuses[str(answer.status_code)] += 1
            except httpx.HTTPError as exc:
                statuses[type(exc).__name__] += 1
            latencies.append(time.perf_counter() - started)
            next_at += interval

    limits = httpx.Limits(max_connections=clients)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60) as http:
        started = time.monotonic()
        await asyncio.gather(*(client(n, http) for n in range(clients)))
        seconds = time.monotonic() - started
    latencies.sort()
    sent = len(latencies)
    return {
        "clients": clients,
        "target_per_second": rate,
        "sent": sent,
        "per_second": round(sent / seconds, 2),
        "statuses": dict(sorted(statuses.items())),
        "p50_ms": round(latencies[sent // 2] * 1000, 1) if sent else None,
        "p99_ms": round(latencies[int(sent * 0.99)] * 1000, 1) if sent else None,
    }


def start_flood(base: str, args: argparse.Namespace) -> subprocess.Popen[str]:
    command = [
        sys.executable,
        "-m",
        "bench.login_flood",
        "--flood-only",
        base,
        "--flood-clients",
        str(args.flood_clients),
        "--flood-rate",
        str(args.flood_rate),
        "--duration",
        str(args.duration + 1),
    ]
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True)


def flood_server_env(url: str, args: argparse.Namespace) -> dict[str, str]:
    env = server_env(url)
    if args.hash_nice is not None:
        env["STREAMSETTLE_PASSWORD_HASH_NICE"] = str(args.hash_nice)
    if not args.default_limits:
        env["STREAMSETTLE_LOGIN_RATE_PER_IP"] = "1000000000"
        env["STREAMSETTLE_LOGIN_RATE_PER_ACCOUNT"] = "1000000000"
    return env


def forget_login_counters() -> None:
    """This run's login counters (the flood's address and account) out of Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter("auth:rl:login-*"))
    if keys:
        client.delete(*keys)
    client.close()


def summary(runs: list[dict[str, Any]], key: str) -> float:
    return float(statistics.median(float(run[key]) for run in runs))


def measure(args: argparse.Namespace) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    without: list[dict[str, Any]] = []
    with_flood: list[dict[str, Any]] = []
    with throwaway_database() as url, tempfile.TemporaryDirectory() as tmp:
        video_ids, _ = seed_catalogue(url, videos=50, viewers=20)
        server = start_server(port, args.workers, flood_server_env(url, args), tmp)
        session_ids: list[str] = []
        try:
            wait_ready(base, server)
            signup = httpx.post(
                f"{base}/api/v1/auth/signup",
                json={"email": FLOOD_EMAIL, "password": FLOOD_PASSWORD, "display_name": "Target"},
                timeout=30,
            )
            signup.raise_for_status()
            lines = open_sessions(base, video_ids, args.sessions, [])
            session_ids = [line.split(" ")[0] for line in lines]
            sessions_file = Path(tmp) / "sessions.txt"
            sessions_file.write_text("\n".join(lines))
            for n in range(args.rounds):
                for flooded in (False, True) if n % 2 == 0 else (True, False):
                    forget_login_counters()
                    flooder = start_flood(base, args) if flooded else None
                    stats = run_wrk(
                        base, WRK_SCRIPT, sessions_file, args.connections, args.duration
                    )
                    if flooder is not None:
                        out, _ = flooder.communicate(timeout=120)
                        stats["flood"] = json.loads(out.strip().splitlines()[-1])
                        with_flood.append(stats)
                    else:
                        without.append(stats)
                    emit({"name": "login_flood_run", "round": n, "flooded": flooded, **stats})
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(15)
            forget_sessions(session_ids)
            forget_login_counters()
    rate_without = summary(without, "requests_per_second")
    rate_with = summary(with_flood, "requests_per_second")
    emit(
        {
            "name": "login_flood",
            "quick": args.quick,
            "sizes": {
                "server_workers": args.workers,
                "connections": args.connections,
                "sessions": args.sessions,
                "duration_s": args.duration,
                "rounds": args.rounds,
                "flood_clients": args.flood_clients,
                "flood_rate": args.flood_rate,
                "login_limits": "default" if args.default_limits else "raised",
                "password_hash_nice": args.hash_nice,
            },
            "without_flood": {
                "requests_per_second": [r["requests_per_second"] for r in without],
                "p99_ms": [r["p99_ms"] for r in without],
                "median_per_second": rate_without,
                "median_p99_ms": summary(without, "p99_ms"),
            },
            "with_flood": {
                "requests_per_second": [r["requests_per_second"] for r in with_flood],
                "p99_ms": [r["p99_ms"] for r in with_flood],
                "median_per_second": rate_with,
                "median_p99_ms": summary(with_flood, "p99_ms"),
                "flood": [r["flood"] for r in with_flood],
            },
            "ratio": round(rate_with / rate_without, 3),
            "target_ratio": 0.8,
        }
    )


def main(argv: Sequence[str] | None = None) -> None:
    args_parser = parser(__doc__, "login flood")
    args_parser.add_argument("--rounds", type=int, help="pairs of runs (default 2, 1 quick)")
    args_parser.add_argument("--duration", type=int, help="seconds per run (default 10, 3 quick)")
    args_parser.add_argument("--connections", type=int, default=64)
    args_parser.add_argument("--sessions", type=int, help="sessions (default 2000, 200 quick)")
    args_parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    args_parser.add_argument("--flood-clients", type=int, default=20)
    args_parser.add_argument("--flood-rate", type=float, default=5.0, help="logins per second")
    args_parser.add_argument(
        "--default-limits", action="store_true", help="keep the default login rate limits"
    )
    args_parser.add_argument(
        "--hash-nice", type=int, help="the server's password_hash_nice (default: its default)"
    )
    args_parser.add_argument("--flood-only", help=argparse.SUPPRESS)  # internal: the flooder
    args = args_parser.parse_args(argv)
    args.rounds = args.rounds or (1 if args.quick else 2)
    args.duration = args.duration or (3 if args.quick else 10)
    args.sessions = args.sessions or (200 if args.quick else 2000)
    if args.flood_only:
        result = asyncio.run(
            flood(args.flood_only, args.flood_clients, args.flood_rate, args.duration)
        )
        print(json.dumps(result))
        return
    measure(args)


if __name__ == "__main__":
    main(sys.argv[1:])
