"""``twcreds check`` with 32 workers vs 1, over 200 accounts on an offline Twitter.

Every answer of the offline Twitter (`twcreds.testing.FakeTwitter`, in this process) is
held back by a latency (50 ms by default), as a real network would. The command runs as a
user runs it, ``python -m twcreds check FILE --workers N`` in a fresh process, so every
timing includes the interpreter's start; all are measured in this same run, and the ratio
is what the workers buy (target: at least 15x with 32 workers).

Besides wall time it reports CPU time: the command's own (user + system, from the child's
resource usage), per account as ``(CPU of N accounts - CPU of 1 account) / (N - 1)``, so
that the interpreter's start and the imports fall out; and the offline Twitter's, which
runs in this process and shares the machine's two cores with the command.

Run: ``python benchmarks/bench_check.py [--accounts 200] [--latency 0.05] [--workers 32]``.
Prints figures; exits 1 if a check run fails (not if the ratio misses the target).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

from twcreds import save_accounts
from twcreds.testing import FakeTwitter

TARGET = 15.0


class Run(NamedTuple):
    wall: float  # seconds
    cpu: float  # the command's user + system seconds
    server: float  # this process's CPU seconds meanwhile: the offline Twitter's


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_check(path: Path, api_base: str, workers: int, expected: int) -> Run:
    """One ``twcreds check`` run; fails loudly if it did not pass."""
    command = [sys.executable, "-m", "twcreds", "check", str(path), "--workers", str(workers)]
    command += ["--max-age", "0"]  # both runs ask X: the second must not come from the cache
    env = {**os.environ, "TWCREDS_API_BASE": api_base}
    cpu, server = _children_cpu(), time.process_time()
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - start
    cpu, server = _children_cpu() - cpu, time.process_time() - server
    ok = f"All {expected} accounts ok." if expected > 1 else "All 1 account ok."
    if result.returncode != 0 or ok not in result.stdout:
        print(result.stdout[-2000:], result.stderr[-2000:], sep="\n", file=sys.stderr)
        msg = f"twcreds check --workers {workers} failed with exit status {result.returncode}"
        raise SystemExit(msg)
    return Run(wall, cpu, server)


def median_run(runs: list[Run]) -> Run:
    return Run(*(statistics.median(values) for values in zip(*runs, strict=True)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200, help="accounts to check")
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per answer")
    parser.add_argument("--workers", type=int, default=32, help="workers of the fast run")
    parser.add_argument("--runs", type=int, default=3, help="runs of the fast and 1-account checks")
    args = parser.parse_args()

    with FakeTwitter(latency=args.latency) as fake, tempfile.TemporaryDirectory() as tmp:
        app = fake.create_app()
        accounts = [fake.issue_token(app, f"bot{i}") for i in range(args.accounts)]
        path, one = Path(tmp) / "accounts.json", Path(tmp) / "one.json"
        save_accounts(path, accounts)
        save_accounts(one, accounts[:1])

        single = median_run([time_check(one, fake.url, 1, 1) for _ in range(args.runs)])
        sequential = time_check(path, fake.url, 1, args.accounts)
        concurrent = median_run(
            [time_check(path, fake.url, args.workers, args.accounts) for _ in range(args.runs)]
        )

    n = args.accounts
    ratio = sequential.wall / concurrent.wall
    floor = n * args.latency
    ideal = floor / args.workers
    print(f"twcreds check: {n} accounts, {args.latency * 1000:g} ms latency per answer")
    print(f"  1 account:      {single.wall:6.2f} s wall  (the interpreter's start and imports)")
    print(f"  --workers 1:    {sequential.wall:6.2f} s wall  (latency alone: {floor:.2f} s)")
    print(
        f"  --workers {args.workers}:   {concurrent.wall:6.2f} s wall  (latency alone:"
        f" {ideal:.2f} s; median of {args.runs})"
    )
    verdict = "meets" if ratio >= TARGET else "MISSES"
    print(f"  speed-up:       {ratio:6.2f}x  ({verdict} the {TARGET:g}x target)")
    for name, run in (("--workers 1", sequential), (f"--workers {args.workers}", concurrent)):
        per_account = (run.cpu - single.cpu) / (n - 1) * 1e3
        print(
            f"  CPU {name + ':':14} command {run.cpu:5.2f} s ({per_account:.2f} ms per account"
            f" after the start's {single.cpu:.2f} s); offline Twitter {run.server:5.2f} s"
            f" ({run.server / n * 1e3:.2f} ms per request)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
