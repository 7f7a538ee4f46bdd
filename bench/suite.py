"""The benchmark suite: run each measurement in its own process, print its JSON lines.

Each benchmark is a module ``bench.<name>`` with ``main(argv) -> None`` (or runnable as
``python -m bench.<name>``), started in a fresh process group with ``--quick`` when asked.
Its JSON lines are checked and re-printed (``machine`` added when missing); anything else
it prints goes to stderr, so standard output is JSON lines only. A module that does not
exist prints ``{"name": ..., "skipped": "module not present"}``; one that fails or runs
past its time limit prints ``{"name": ..., "error": ...}`` and the suite exits 1 after
running the rest. Databases a benchmark leaves behind (killed, crashed) are dropped by its
pid. Nothing is timed against a threshold, so the suite cannot fail on a slow machine.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.common import drop_databases_of, emit, machine_info

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str


BENCHMARKS = (
    Benchmark("load", "bench.load"),
    Benchmark("heartbeats", "bench.heartbeats"),
    Benchmark("login_flood", "bench.login_flood"),
    Benchmark("import_logs", "bench.import_logs"),
    Benchmark("flusher", "bench.flusher"),
    Benchmark("batch_day", "bench.batch_day"),
    Benchmark("query_latency", "bench.query_latency"),
    Benchmark("statements", "bench.statements"),
)

# Runs a benchmark module: its main(argv) if it has one, else the module as __main__.
# SIGTERM becomes SystemExit so that its ``finally`` blocks drop its databases.
LAUNCHER = """
import importlib, inspect, runpy, signal, sys
def _exit(signum, frame):
    raise SystemExit(128 + signum)
signal.signal(signal.SIGTERM, _exit)
name, argv = sys.argv[1], sys.argv[2:]
module = importlib.import_module(name)
main = getattr(module, "main", None)
if callable(main) and inspect.signature(main).parameters:
    main(argv)
elif callable(main):
    sys.argv = [name, *argv]
    main()
else:
    sys.argv = [name, *argv]
    runpy.run_module(name, run_name="__main__", alter_sys=True)
"""


def _present(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


def _stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    """SIGTERM to the benchmark's process group, SIGKILL if it is still there after grace."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _forward(line: bytes, name: str) -> None:
    """Re-print a JSON object line (with ``name`` and ``machine``); the rest goes to stderr."""
    text = line.decode(errors="replace").rstrip("\n")
    try:
        record: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        record = None
    if isinstance(record, dict):
        record.setdefault("name", name)
        emit(record)
    elif text:
        sys.stderr.write(f"[{name}] {text}\n")
        sys.stderr.flush()


def run_one(bench: Benchmark, argv: Sequence[str], timeout: float) -> bool:
    """Run one benchmark; False when it failed (its error line printed)."""
    if not _present(bench.module):
        sys.stdout.write(
            orjson.dumps({"name": bench.name, "skipped": "module not present"}).decode() + "\n"
        )
        sys.stdout.flush()
        return True
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, bench.module, *argv],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    timed_out = threading.Event()

    def _on_timeout() -> None:
        timed_out.set()
        _stop(process)

    timer = threading.Timer(timeout, _on_timeout)
    timer.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            _forward(line, bench.name)
        code = process.wait()
    except BaseException:
        _stop(process)
        raise
    finally:
        timer.cancel()
        try:
            drop_databases_of(process.pid)
        except Exception as exc:  # never hide the benchmark's own outcome behind cleanup
            sys.stderr.write(f"[{bench.name}] could not drop its databases: {exc}\n")
    if timed_out.is_set():
        emit({"name": bench.name, "error": f"timed out after {timeout:.0f} s"})
        return False
    if code != 0:
        emit({"name": bench.name, "error": f"exited with code {code}"})
        return False
    return True


def run(
    benchmarks: Sequence[Benchmark], *, quick: bool, extra: Sequence[str], timeout: float
) -> int:
    """Run the benchmarks in order; the exit code (1 if any failed)."""
    machine_info()  # once, before any load, and cached for the error lines
    argv = (["--quick"] if quick else []) + list(extra)
    ok = True
    for bench in benchmarks:
        ok = run_one(bench, argv, timeout) and ok
    return 0 if ok else 1
