"""Authorize your app to act for a second account, save it, and tweet from it.

The guide's secondary-account flow, with the library doing the plumbing: it prints the
authorization URL, you sign in as the second account, click "Authorize app" and type the
PIN. The account is added to the accounts file (mode 0600), then verified and used::

    python examples/authorize_account.py creds-twitter.json --save accounts.json
"""

from __future__ import annotations

import argparse
import sys

from twcreds import (
    TwcredsError,
    add_account,
    authorize,
    load_app,
    make_client,
    post_tweet,
    verify_account,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", help="a file holding the app's consumer key and secret")
    parser.add_argument("--save", required=True, help="the accounts file to add the account to")
    parser.add_argument("--no-browser", action="store_true", help="only print the URL")
    parser.add_argument("--text", default="hello world for the second time")
    args = parser.parse_args(argv)

    try:
        app = load_app(args.app)
        account = authorize(app, open_browser=False if args.no_browser else None)
        add_account(args.save, account)
        print(f"authorized @{account.screen_name}; saved to {args.save}")
        with make_client(account) as client:
            me = verify_account(client)
            tweet = post_tweet(client, args.text)
        print(f"@{me.screen_name} can read and write: posted tweet {tweet['id']}")
    except TwcredsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
