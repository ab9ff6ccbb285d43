"""OAuth 2.0 refreshes: what a due token costs, and what 20 processes sharing one account pay.

Against a FakeTwitter with ``--latency`` seconds per answer (default 50 ms):

1. A call made with a due token (one refresh, then the call) against the same call with a
   fresh token, measured in the same run: the refresh should add one round trip (~2.0x).
2. ``--processes`` processes (default 20), each holding the same stored account whose token
   has expired, released together to post once, ``--expiries`` times: the refreshes the
   offline Twitter served per expiry (must be 1), and the time each post took against a
   post with a fresh token (the lock wait and the one refresh they share; median, max).
3. The window where a crash loses a rotated token: from X's answer in hand to the new pair
   renamed into place (median, max over ``--flows`` refreshes).

Run: ``python benchmarks/bench_refresh.py [--latency S]``. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from twcreds import OAuth2Account, load_accounts, make_client, post_tweet, save_accounts
from twcreds.testing import FakeTwitter

_CHILD = """
import sys, time
from twcreds import load_client, post_tweet
client = load_client(sys.argv[1], api_base=sys.argv[2])
print("ready", flush=True)
sys.stdin.readline()
start = time.perf_counter()
post_tweet(client, "x" + sys.argv[3])
print(time.perf_counter() - start, flush=True)
"""


def _median_ms(values: list[float]) -> str:
    return f"{statistics.median(values) * 1e3:.1f} ms"


def due_vs_fresh(twitter: FakeTwitter, flows: int) -> None:
    app = twitter.create_oauth2_app()
    fresh, due = [], []
    for n in range(flows):
        account = twitter.issue_oauth2_token(app, f"fresh{n}")
        with make_client(account, api_base=twitter.url) as client:
            start = time.perf_counter()
            post_tweet(client, f"fresh {n}")
            fresh.append(time.perf_counter() - start)
        expired = twitter.issue_oauth2_token(app, f"due{n}", expires_in=0)
        served = len(twitter.requests)
        with make_client(expired, api_base=twitter.url, on_refresh=lambda a: None) as client:
            start = time.perf_counter()
            post_tweet(client, f"due {n}")
            due.append(time.perf_counter() - start)
        requests = len(twitter.requests) - served
    ratio = statistics.median(due) / statistics.median(fresh)
    print(f"refresh: a call with a fresh token {_median_ms(fresh)} (median of {flows})")
    print(
        f"refresh: a call with a due token  {_median_ms(due)}: {ratio:.2f}x, {requests}"
        " requests (one refresh + the call; target: one extra round trip, ~2.0x)"
    )


def shared_account(twitter: FakeTwitter, processes: int, expiries: int, folder: Path) -> None:
    app = twitter.create_oauth2_app()
    account = twitter.issue_oauth2_token(app, "shared")
    path = folder / "accounts.json"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    per_expiry: list[int] = []
    times: list[float] = []
    for round_ in range(expiries):
        [stored] = load_accounts(path) if path.exists() else [account]
        assert isinstance(stored, OAuth2Account)
        expired = stored.model_copy(
            update={"expires_at": datetime.now(timezone.utc) - timedelta(minutes=1)}
        )
        save_accounts(path, [expired])
        children = [
            subprocess.Popen(
                [sys.executable, "-c", _CHILD, str(path), twitter.url, f"{round_}-{n}"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
                env=env,
            )
            for n in range(processes)
        ]
        for child in children:
            assert child.stdout is not None
            child.stdout.readline()  # ready: imports done, account loaded
        before = twitter.oauth2_refreshes
        for child in children:
            assert child.stdin is not None
            child.stdin.write("go\n")
            child.stdin.flush()
        for child in children:
            out, _ = child.communicate(timeout=120)
            times.append(float(out.strip()))
        per_expiry.append(twitter.oauth2_refreshes - before)
    with make_client(twitter.issue_oauth2_token(app, "alone"), api_base=twitter.url) as client:
        start = time.perf_counter()
        post_tweet(client, "alone")
        alone = time.perf_counter() - start
    extra = [t - alone for t in times]
    print(
        f"shared: {processes} processes x {expiries} expiries: refreshes per expiry"
        f" {per_expiry} (target: 1 each)"
    )
    print(
        f"shared: a post took {_median_ms(times)} median, {max(times) * 1e3:.1f} ms max;"
        f" a lone post {alone * 1e3:.1f} ms: lock wait and shared refresh add"
        f" {_median_ms(extra)} median, {max(extra) * 1e3:.1f} ms max"
    )


def crash_window(twitter: FakeTwitter, flows: int, folder: Path) -> None:
    import twcreds.store
    import twcreds.tokens
    from twcreds import refresh_account

    answered: list[float] = []
    windows: list[float] = []
    exchange = twcreds.tokens.exchange_refresh
    rename = twcreds.store._fill_and_rename

    def timed_exchange(*args: object, **kwargs: object) -> OAuth2Account:
        renewed = exchange(*args, **kwargs)  # type: ignore[arg-type]
        answered.append(time.perf_counter())
        return renewed

    def timed_rename(*args: object, **kwargs: object) -> None:
        rename(*args, **kwargs)  # type: ignore[arg-type]
        windows.append(time.perf_counter() - answered[-1])

    app = twitter.create_oauth2_app()
    path = folder / "window.json"
    save_accounts(path, [twitter.issue_oauth2_token(app, "window")])
    twcreds.tokens.exchange_refresh = timed_exchange
    twcreds.store._fill_and_rename = timed_rename
    try:
        latency, twitter.latency = twitter.latency, 0.0
        for _ in range(flows):
            refresh_account(path, "window", api_base=twitter.url)
        twitter.latency = latency
    finally:
        twcreds.tokens.exchange_refresh = exchange
        twcreds.store._fill_and_rename = rename
    print(
        f"window: answer in hand -> new pair renamed into place: {_median_ms(windows)} median,"
        f" {max(windows) * 1e3:.2f} ms max over {flows} refreshes (a crash here loses the pair)"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--flows", type=int, default=21)
    parser.add_argument("--processes", type=int, default=20)
    parser.add_argument("--expiries", type=int, default=3)
    args = parser.parse_args(argv)
    with FakeTwitter(latency=args.latency) as twitter, tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        due_vs_fresh(twitter, args.flows)
        shared_account(twitter, args.processes, args.expiries, folder)
        crash_window(twitter, args.flows * 5, folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
