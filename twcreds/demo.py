"""The guide's whole journey, offline, in one call: what ``twcreds demo`` runs.

Against an in-process `twcreds.testing.FakeTwitter` that checks real OAuth 1.0a
signatures and real OAuth 2.0 tokens over real HTTP: register an app and the owner's access
token; authorize a second account through the real PIN flow and a third through the real
PKCE flow (OAuth 2.0); save all three to a private multi-account file; load them with
`load_clients`; verify and post from each, with a picture uploaded through X's v2 media
endpoints; let the OAuth 2.0 token expire and post again, which refreshes it and writes
the new pair back to the file; confirm every post (and every picture) on the fake's record.
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
import tempfile
import zlib
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

__all__ = ["run_demo"]

PRIMARY = "primary_bot"
SECONDARY = "secondary_bot"
MODERN = "oauth2_bot"


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


def picture(width: int = 64, height: int = 64) -> bytes:
    """A small PNG (a blue-to-green gradient), made here so the demo needs no file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((0, 4 * x, 4 * y)) for x in range(width)) for y in range(height)
    )
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def _journey(echo: Callable[[str], object], directory: Path) -> int:
    from twcreds import (
        OAuth2Account,
        TwcredsError,
        complete_authorization,
        complete_oauth2_authorization,
        load_accounts,
        load_clients,
        post_tweet,
        save_accounts,
        start_authorization,
        start_oauth2_authorization,
        verify_account,
    )
    from twcreds.testing import FakeTwitter

    with FakeTwitter() as twitter:
        echo(f"1. An offline Twitter is serving at {twitter.url} (real OAuth 1.0a and 2.0 checks).")
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

        echo(f"5. Authorizing a third account, @{MODERN}, with OAuth 2.0 (PKCE):")
        client = twitter.create_oauth2_app(name="twcreds-demo")
        pending2 = start_oauth2_authorization(client, api_base=twitter.url)
        echo(f"   open {pending2.auth_url[:72]}...")
        redirect = twitter.approve_oauth2(pending2.auth_url, MODERN)
        echo("   ... the owner clicks 'Authorize app'; X sends the browser back with a code")
        modern = complete_oauth2_authorization(pending2, redirect)
        echo(
            f"   authorized @{modern.screen_name}: a 2-hour bearer token and a single-use"
            f" refresh token, scopes {' '.join(modern.scopes)}."
        )

        path = directory / "accounts.json"
        save_accounts(path, [primary, secondary, modern])
        mode = stat.S_IMODE(os.stat(path).st_mode)
        echo(f"6. Saved the three accounts to {path} (mode {mode:04o}).")

        image = directory / "hello.png"
        image.write_bytes(picture())
        echo(
            f"7. Loading them with load_clients() and posting from each, with a picture"
            f" ({image.stat().st_size} bytes, uploaded with X's v2 media endpoints):"
        )
        posted: list[tuple[str, str]] = []
        failures = 0

        def post_from_all(greeting: str, media: list[Path]) -> None:
            nonlocal failures
            for account, client in load_clients(path, api_base=twitter.url):
                text = f"{greeting} from @{account.screen_name}, via twcreds"
                try:
                    me = verify_account(client)
                    tweet = post_tweet(client, text, media=media)
                except TwcredsError as exc:
                    failures += 1
                    echo(f"   {account.label}: FAILED: {exc}")
                    continue
                posted.append((str(me.screen_name), str(tweet["id"])))
                extra = " with a picture" if media else ""
                echo(
                    f"   @{me.screen_name} ({account.kind}): verified, posted tweet"
                    f" {tweet['id']}{extra}"
                )

        post_from_all("hello", [image])
        echo(f"8. Two hours later, @{MODERN}'s bearer token has expired:")
        expired = modern.model_copy(
            update={"expires_at": datetime.now(timezone.utc) - timedelta(minutes=1)}
        )
        save_accounts(path, [primary, secondary, expired])
        spent = modern.refresh_token
        post_from_all("hello again", [])
        stored = [a for a in load_accounts(path) if isinstance(a, OAuth2Account)]
        renewed = len(stored) == 1 and stored[0].refresh_token != spent
        echo(
            f"   the client refreshed it before posting ({twitter.oauth2_refreshes} refresh)"
            " and wrote the new pair to the file first"
            + (": the old refresh token is spent, the stored one is live." if renewed else ".")
        )

        recorded = {(t.screen_name, str(t.id)) for t in twitter.tweets}
        confirmed = [post for post in posted if post in recorded]
        held = {m.id: m.sha256 for m in twitter.media}
        want = hashlib.sha256(image.read_bytes()).hexdigest()
        pictured = [
            t for t in twitter.tweets if t.media_ids and all(held[i] == want for i in t.media_ids)
        ]
        echo(
            f"9. The offline Twitter recorded {len(confirmed)} of {len(posted) + failures}"
            f" posts from the right accounts, {len(pictured)} with the picture intact."
        )
    ok = (
        failures == 0
        and len(confirmed) == len(posted) == 6
        and len(pictured) == 3
        and renewed
        and twitter.oauth2_refreshes == 1
    )
    echo("Demo complete: every step worked." if ok else "Demo FAILED: see the steps above.")
    return 0 if ok else 1
