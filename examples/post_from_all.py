"""Post from every account in a multi-account credentials file.

One account's failure is reported and the loop carries on; the exit status is 1 if any
account failed. Run it offline against the built-in Twitter emulator::

    twcreds emulator --port 8080 &           # prints credentials and TWCREDS_API_BASE
    TWCREDS_API_BASE=http://127.0.0.1:8080 python examples/post_from_all.py accounts.json
"""

from __future__ import annotations

import argparse
import sys

from twcreds import TwcredsError, load_clients, post_tweet


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts", nargs="?", help="accounts file (default: twcreds' chain)")
    parser.add_argument(
        "--text", default="hello from @{name}", help="what to post; {name} is the screen name"
    )
    args = parser.parse_args(argv)

    try:
        clients = load_clients(args.accounts)  # validates the whole file before any post
    except TwcredsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    posted = failed = 0
    for account, client in clients:
        text = args.text.replace("{name}", account.screen_name or "unnamed")
        try:
            tweet = post_tweet(client, text)
        except TwcredsError as exc:
            failed += 1
            print(f"{account.label}: FAILED: {exc}", file=sys.stderr)
            continue
        posted += 1
        print(f"{account.label}: posted tweet {tweet['id']}")
    print(f"{posted} posted, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
