"""Post every hour from an OAuth 2.0 account, for a week, without authorizing it again.

X's OAuth 2.0 access tokens last two hours and each refresh token works once. The client
that `load_client` builds renews its own token before a call when it is due, under the
file's lock, and writes the new pair back to the file before using it: a week of hourly
posts makes 84 refreshes, and the file always holds the live refresh token, even with
other bots (or `twcreds token`) sharing the account. Authorize the account once with::

    twcreds authorize --oauth2 client.json     # see the README: "OAuth 2.0, step by step"

then run this under cron, systemd or nohup. A passing failure (the network, X's 5xx) is
reported and the next hour tries again; a refused refresh token stops the bot with the
command that fixes it. Offline, against the built-in Twitter emulator::

    TWCREDS_API_BASE=http://127.0.0.1:8080 python examples/post_every_hour.py --every 1 --times 3
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timezone

from twcreds import (
    CredentialsRejectedError,
    TwcredsError,
    TwitterAPIError,
    TwitterConnectionError,
    load_client,
    post_tweet,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", help="accounts file (default: the user store)")
    parser.add_argument("--account", help="screen name or index, if the file holds several")
    parser.add_argument("--every", type=float, default=3600.0, help="seconds between posts")
    parser.add_argument("--times", type=int, default=7 * 24, help="how many posts (a week)")
    args = parser.parse_args(argv)

    try:
        client = load_client(args.source, account=args.account)
    except TwcredsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    failed = 0
    for number in range(1, args.times + 1):
        now = datetime.now(timezone.utc)
        try:
            tweet = post_tweet(client, f"post {number} of {args.times}, at {now:%H:%M:%S} UTC")
        except CredentialsRejectedError as exc:
            # Revoked, or the refresh token was spent by a copy of the file elsewhere.
            print(f"error: {exc}", file=sys.stderr)
            return 1
        except (TwitterConnectionError, TwitterAPIError) as exc:
            failed += 1
            print(f"post {number}: not posted, will try next time: {exc}", file=sys.stderr)
        else:
            print(f"post {number}: tweet {tweet['id']}")
        if number < args.times:
            time.sleep(args.every)
    print(f"{args.times - failed} posted, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
