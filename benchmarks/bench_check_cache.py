"""The requests ``twcreds check`` makes on a second run, vs the first, over 200 accounts.

Under pay-per-use each ``GET /2/users/me`` is billed. The first run asks about every
account (the baseline); a second run within ``--max-age`` (default 24 hours) should ask
about none; a third with one account revoked meanwhile and ``--max-age 0`` asks about all
again, and a fourth asks only about the rejected one. Requests are counted by the offline
Twitter (in this process); each run is ``python -m twcreds check`` in a fresh process, as
a user or cron runs it, with its own cache dir.

Run: ``python benchmarks/bench_check_cache.py [--accounts 200]``. Prints figures; asserts
nothing (exits 1 only if a run's output is not what it should be).
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


def run_check(path: Path, api_base: str, cache: Path, *extra: str) -> tuple[float, str, str]:
    command = [sys.executable, "-m", "twcreds", "check", str(path), *extra]
    env = {**os.environ, "TWCREDS_API_BASE": api_base, "XDG_CACHE_HOME": str(cache)}
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    return time.perf_counter() - start, result.stdout, result.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=200, help="accounts to check")
    args = parser.parse_args()

    rows: list[tuple[str, float, int, str]] = []
    with FakeTwitter() as fake, tempfile.TemporaryDirectory() as tmp:
        app = fake.create_app()
        accounts = [fake.issue_token(app, f"bot{i}") for i in range(args.accounts)]
        path = Path(tmp) / "accounts.json"
        save_accounts(path, accounts)
        cache = Path(tmp) / "cache"
        runs: list[tuple[str, tuple[str, ...]]] = [
            ("first run", ()),
            ("second run (within 24h)", ()),
            ("--max-age 0, one revoked", ("--max-age", "0")),
            ("next run", ()),
        ]
        for name, extra in runs:
            if name.startswith("--max-age"):
                fake.revoke(accounts[0])
            fake.clear_records()
            elapsed, out, err = run_check(path, fake.url, cache, *extra)
            if not out.strip():
                print(err, file=sys.stderr)
                return 1
            rows.append((name, elapsed, len(fake.requests), err.strip()))

    baseline = rows[0][2]
    print(f"twcreds check: {args.accounts} accounts; billed GET /2/users/me calls per run")
    for name, elapsed, requests, said in rows:
        share = f"{requests / baseline:6.1%}" if baseline else "-"
        print(f"  {name:<26} {requests:5d} requests ({share} of the first)  {elapsed:5.2f} s")
        print(f"  {'':<26} said: {said}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
