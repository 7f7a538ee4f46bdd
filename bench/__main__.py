"""``python -m bench [--quick] [--only NAME ...] [--timeout S] [-- ARGS...]``.

Runs the benchmark suite (see ``bench/suite.py``) and prints one JSON object per line.
Arguments after ``--`` are passed to every selected benchmark, e.g.
``python -m bench --quick --only load -- --rows 20000``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from bench.suite import BENCHMARKS, run


def main(argv: Sequence[str] | None = None) -> int:
    args_list = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in args_list:
        cut = args_list.index("--")
        args_list, extra = args_list[:cut], args_list[cut + 1 :]
    names = [bench.name for bench in BENCHMARKS]
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: the whole suite < 2 min")
    parser.add_argument(
        "--only", nargs="+", metavar="NAME", help=f"run only these, of: {', '.join(names)}"
    )
    parser.add_argument(
        "--timeout", type=float, help="seconds per benchmark (default 300 quick, 21600 full)"
    )
    args = parser.parse_args(args_list)
    selected = list(BENCHMARKS)
    if args.only:
        wanted = {name.replace("-", "_") for name in args.only}
        unknown = wanted - set(names)
        if unknown:
            parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; known: {names}")
        selected = [bench for bench in BENCHMARKS if bench.name in wanted]
    timeout = args.timeout or (300.0 if args.quick else 6 * 3600.0)
    return run(selected, quick=args.quick, extra=extra, timeout=timeout)


if __name__ == "__main__":
    sys.exit(main())
