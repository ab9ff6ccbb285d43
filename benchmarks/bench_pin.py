"""The PIN flow's round trips: how many requests reach Twitter, and how long each flow takes.

Against a FakeTwitter with ``--latency`` seconds per answer (default 50 ms, a realistic
round trip to Twitter), the flow should cost exactly 2 requests: the request token and the
access token. Baseline, measured in the same run: one signed ``GET /2/users/me``.

Run: ``python benchmarks/bench_pin.py [--latency S] [--flows N]``. Prints figures.
"""

from __future__ import annotations

import argparse
import sys
import time

from twcreds import complete_authorization, start_authorization, verify_account
from twcreds.testing import FakeTwitter


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--flows", type=int, default=10)
    args = parser.parse_args(argv)

    with FakeTwitter(latency=args.latency) as twitter:
        app = twitter.create_app()
        owner = twitter.issue_token(app, "owner")

        start = time.perf_counter()
        for _ in range(args.flows):
            verify_account(owner, api_base=twitter.url)
        one_call = (time.perf_counter() - start) / args.flows
        twitter.clear_records()

        start = time.perf_counter()
        for n in range(args.flows):
            pending = start_authorization(app, api_base=twitter.url)
            complete_authorization(pending, twitter.approve(pending.oauth_token, f"user{n}"))
        per_flow = (time.perf_counter() - start) / args.flows
        requests = len(twitter.requests)

    print(f"PIN flow: {requests / args.flows:g} requests to Twitter per flow (target: exactly 2)")
    print(f"PIN flow: {per_flow * 1e3:.1f} ms per flow at {args.latency * 1e3:g} ms latency")
    print(f"baseline: {one_call * 1e3:.1f} ms per signed GET /2/users/me")
    print(f"ratio: {per_flow / one_call:.2f}x one call (2 round trips: ideal 2.0x)")
    return 0 if requests == 2 * args.flows else 1


if __name__ == "__main__":
    sys.exit(main())
