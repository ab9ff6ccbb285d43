"""The guide's whole journey, offline, in one call: what ``twcreds demo`` runs.

Against an in-process `twcreds.testing.FakeTwitter` that checks real OAuth 1.0a
signatures over real HTTP: register an app and the owner's access token; authorize a
second account through the real PIN flow; save both to a private multi-account file; load
them with `load_clients`; verify and post from each; confirm every post on the fake's
record.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path

__all__ = ["run_demo"]

PRIMARY = "primary_bot"
SECONDARY = "secondary_bot"


def run_demo(echo: Callable[[str], object] = print, *, directory: Path | None = None) -> int:
    """Run the journey, printing every step; return 0 only if every post is confirmed.

    Args:
        echo: shows one line (``print`` by default).
        directory: where to write the accounts file; a temporary folder, removed after, if None.
    """
    if directory is not None:
        return _journey(echo, Path(directory))
    with tempfile.TemporaryDirectory(prefix="twcreds-demo-") as tmp:
        return _journey(echo, Path(tmp))


def _journey(echo: Callable[[str], object], directory: Path) -> int:
    from twcreds import (
        TwcredsError,
        complete_authorization,
        load_clients,
        post_tweet,
        save_accounts,
        start_authorization,
        verify_account,
    )
    from twcreds.testing import FakeTwitter

    with FakeTwitter() as twitter:
        echo(f"1. An offline Twitter is serving at {twitter.url} (real OAuth 1.0a checks).")
        app = twitter.create_app(name="twcreds-demo")
        echo(f"2. Registered an app; its consumer key ends in ...{app.consumer_key[-4:]}.")
        primary = twitter.issue_token(app, PRIMARY)
        echo(f"3. 'Create my access token' for the app's owner: @{primary.screen_name}.")

        echo(f"4. Authorizing a second account, @{SECONDARY}, with the PIN flow:")
        pending = start_authorization(app, api_base=twitter.url, force_login=True)
        echo(f"   open {pending.auth_url}")
        pin = twitter.approve(pending.oauth_token, SECONDARY)
        echo("   ... the account's owner clicks 'Authorize app' and reads a 7-digit PIN")
        secondary = complete_authorization(pending, pin)
        echo(f"   authorized @{secondary.screen_name} (user id {secondary.user_id}).")

        path = directory / "accounts.json"
        save_accounts(path, [primary, secondary])
        mode = stat.S_IMODE(os.stat(path).st_mode)
        echo(f"5. Saved both accounts to {path} (mode {mode:04o}).")

        echo("6. Loading them with load_clients() and posting from each:")
        posted: list[tuple[str, str]] = []
        failures = 0
        for account, client in load_clients(path, api_base=twitter.url):
            try:
                me = verify_account(client)
                tweet = post_tweet(client, f"hello from @{me.screen_name}, via twcreds")
            except TwcredsError as exc:
                failures += 1
                echo(f"   {account.label}: FAILED: {exc}")
                continue
            posted.append((str(me.screen_name), str(tweet["id"])))
            echo(f"   @{me.screen_name}: verified, posted tweet {tweet['id']}")

        recorded = {(t.screen_name, str(t.id)) for t in twitter.tweets}
        confirmed = [post for post in posted if post in recorded]
        echo(
            f"7. The offline Twitter recorded {len(confirmed)} of {len(posted) + failures}"
            " posts from the right accounts."
        )
    ok = failures == 0 and len(confirmed) == len(posted) == 2
    echo("Demo complete: every step worked." if ok else "Demo FAILED: see the steps above.")
    return 0 if ok else 1
