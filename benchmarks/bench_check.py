"""``twcreds check`` with 8 workers vs 1, over 200 accounts on an offline Twitter.

Every answer of the offline Twitter (`twcreds.testing.FakeTwitter`, in this process) is
held back by a latency (50 ms by default), as a real network would. The command runs as a
user runs it, ``python -m twcreds check FILE --workers N`` in a fresh process, so both
timings include the interpreter's start; both are measured in this same run, and the
ratio is what the workers buy (target: at least 6x).

Run: ``python benchmarks/bench_check.py [--accounts 200] [--latency 0.05] [--workers 8]``.
Prints figures; exits 1 if a check run fails (not if the ratio misses the target).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from twcreds import save_accounts
from twcreds.testing import FakeTwitter

TARGET = 6.0


def time_check(path: Path, api_base: str, workers: int, expected: int) -> float:
    """Wall time of one ``twcreds check`` run, in seconds; fails loudly if it did not pass."""
    command = [sys.executable, "-m", "twcreds", "check", str(path), "--workers", str(workers)]
    command += ["--max-age", "0"]  # both runs ask X: the second must not come from the cache
    env = {**os.environ, "TWCREDS_API_BASE": api_base}
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    elapsed = time.perf_counter() - start
    if result.returncode != 0 or f"All {expected} accounts ok." not in result.stdout:
        print(result.stdout[-2000:], result.stderr[-2000:], sep="\n", file=sys.stderr)
        msg = f"twcreds check --workers {workers} failed with exit status {result.returncode}"
        raise SystemExit(msg)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200, help="accounts to check")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--workers", type=int, default=8, help="workers of the fast run")
    args = parser.parse_args()

    with FakeTwitter(latency=args.latency) as fake, tempfile.TemporaryDirectory() as tmp:
        app = fake.create_app()
        accounts = [fake.issue_token(app, f"bot{i}") for i in range(args.accounts)]
        path = Path(tmp) / "accounts.json"
        save_accounts(path, accounts)

        sequential = time_check(path, fake.url, 1, args.accounts)
        concurrent = time_check(path, fake.url, args.workers, args.accounts)

    ratio = sequential / concurrent
    floor = args.accounts * args.latency
    print(f"twcreds check: {args.accounts} accounts, {args.latency * 1000:g} ms latency per answer")
    print(f"  --workers 1:  {sequential:6.2f} s  (latency alone: {floor:.2f} s)")
    ideal = floor / args.workers
    print(f"  --workers {args.workers}:  {concurrent:6.2f} s  (latency alone: {ideal:.2f} s)")
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"  speed-up:     {ratio:6.2f}x  ({verdict} the {TARGET:g}x target)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
