"""Check that every account in a credentials file still works (``GET /2/users/me``).

Prints one line per account; the exit status is 1 if any account failed::

    python examples/check_accounts.py accounts.json
"""

from __future__ import annotations

import argparse
import sys

from twcreds import (
    CredentialsRejectedError,
    RateLimitError,
    TwcredsError,
    load_clients,
    verify_account,
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("accounts", nargs="?", help="accounts file (default: twcreds' chain)")
    args = parser.parse_args(argv)

    try:
        # Clients, not bare accounts: an OAuth 2.0 token that is due is refreshed under the
        # file's lock and written back, not spent in memory.
        clients = load_clients(args.accounts)
    except TwcredsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

    failed = 0
    for index, (account, client) in enumerate(clients):
        try:
            me = verify_account(client)
        except CredentialsRejectedError as exc:
            failed += 1
            print(f"[{index}] {account.label}: rejected: {exc.hint}")
        except RateLimitError as exc:
            failed += 1
            print(f"[{index}] {account.label}: rate-limited until {exc.reset_at}")
        except TwcredsError as exc:
            failed += 1
            print(f"[{index}] {account.label}: error: {exc}")
        else:
            print(f"[{index}] {account.label}: ok, @{me.screen_name} (user id {me.user_id})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
