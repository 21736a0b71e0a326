"""``python -m bench [options]``: run the benchmark and print the ratios."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .runner import Options, run


def main(argv: list[str] | None = None) -> int:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--customers", type=int, default=defaults.customers)
    parser.add_argument("--requests", type=int, default=defaults.requests,
                        help="requests per side per round under load (page comparisons)")
    parser.add_argument("--serial-requests", type=int, default=defaults.serial_requests,
                        help="requests per side per round one at a time, for latency percentiles")
    parser.add_argument("--fast-requests", type=int, default=defaults.fast_requests,
                        help="requests per side per round for the empty-page comparison")
    parser.add_argument("--saves", type=int, default=defaults.saves, help="saves per side per round")
    parser.add_argument("--warmup", type=int, default=defaults.warmup)
    parser.add_argument("--rounds", type=int, default=defaults.rounds)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--home", type=Path, help="build the site here instead of a temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary site afterwards")
    parser.add_argument("--profile", action="store_true",
                        help="also sample where fuwu's list page spends its time")
    parser.add_argument("--strict", action="store_true", help="exit with status 1 if a target is missed")
    args = parser.parse_args(argv)
    if args.home is not None and args.home.exists() and any(args.home.iterdir()):
        parser.error(f"{args.home} is not empty")
    options = Options(customers=args.customers, requests=args.requests, serial_requests=args.serial_requests,
                      fast_requests=args.fast_requests, saves=args.saves, warmup=args.warmup,
                      rounds=args.rounds, concurrency=args.concurrency, home=args.home, keep=args.keep,
                      profile=args.profile)
    result = run(options)
    if result.errors:
        return 2  # a page that does not work is not a timing miss
    return 1 if args.strict and not result.all_passed else 0


if __name__ == "__main__":
    sys.exit(main())
