"""Ready, correctly signed Twython clients from credentials.

An `Account` gives a `twython.Twython` in OAuth 1.0a user context (Twython's OAuth 2
``access_token`` is never set); an `OAuth2Account` gives one in OAuth 2.0 user context
(``Authorization: Bearer``) that renews its own token, under the lock of the file it came
from (see `twcreds.tokens`). Every client has a timeout (per connect and per read) on
every call, and sends its calls to ``api_base`` — X by default, or an offline
`twcreds.testing.FakeTwitter`. They survive `pickle` and `copy.deepcopy`, timeout and
``api_base`` included, so they can be handed to a process pool.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from twcreds.models import Account, AccountList, AnyAccount, BearerToken, OAuth2Account
from twcreds.sources import (
    Format,
    StrPath,
    locate_account,
    locate_accounts,
)

if TYPE_CHECKING:
    from twython import Twython

__all__ = ["load_client", "load_clients", "make_client"]


def make_client(
    credentials: AnyAccount | BearerToken,
    *,
    api_base: str | None = None,
    timeout: float = 30.0,
    store: StrPath | None = None,
    on_refresh: Callable[[OAuth2Account], object] | None = None,
    refresh: bool | Literal["stored"] = True,
) -> Twython:
    """Build a Twython client for one account; no network I/O happens here.

    Args:
        credentials: an `Account` (its four values sign every request with OAuth 1.0a),
            an `OAuth2Account` (its bearer token goes with every request), or an app-only
            `BearerToken` (reads public data; cannot post or upload).
        api_base: where calls go; default ``TWCREDS_API_BASE``, else Twitter.
        timeout: seconds per connect and per read, for every call the client makes (not a
            deadline for a whole call: a server that keeps sending slowly can take longer).
        store: OAuth 2.0 only: the JSON file the account is stored in. Renewals then
            happen under its lock, take a token another process already renewed, and are
            written back before use. `load_client` and `load_clients` set it for you.
        on_refresh: OAuth 2.0 only: called with the renewed account after each refresh
            (after it was written back, with ``store``).
        refresh: OAuth 2.0 only: False never refreshes (a due token is sent as it is, and
            X's 401 raised): for a look at credentials whose refresh token must not be
            spent, such as a check of a file that cannot take a new one. ``"stored"``
            refreshes only where the new pair is written back to ``store`` (never in
            memory, for an entry whose secrets a secret manager or the keyring keeps).

    Returns:
        A `twython.Twython` in OAuth 1.0a or OAuth 2.0 user context, or in OAuth 2.0
        app-only mode for a `BearerToken`; use it as a context
        manager, or call its ``close()``, to release its connections. It can be pickled
        and deep-copied; the copy keeps the timeout and ``api_base``. An OAuth 2.0
        client renews its token before a call when it expires within 5 minutes, and once
        after a 401.

    Raises:
        CredentialsError: ``api_base`` (or ``TWCREDS_API_BASE``) is not an http(s) URL.
        TypeError: ``credentials`` is not an `Account`, `OAuth2Account` or `BearerToken`.
        ValueError: ``timeout`` is not a positive number.
    """
    if not isinstance(credentials, Account | OAuth2Account | BearerToken):
        msg = (
            "make_client needs an Account, OAuth2Account or BearerToken, not"
            f" {type(credentials).__name__}; build one with Account(...) or load_account(...)"
        )
        raise TypeError(msg)
    # Lazy: twython and requests are heavy to import, and a script that only loads
    # credentials should not pay for them.
    from twcreds._twython import (
        AppOnlyClient,
        Client,
        OAuth2Client,
        check_timeout,
        resolve_api_base,
    )

    base = resolve_api_base(api_base)
    seconds = check_timeout(timeout)
    if isinstance(credentials, BearerToken):
        return AppOnlyClient(credentials, api_base=base, timeout=seconds)
    if isinstance(credentials, OAuth2Account):
        from twcreds.tokens import Refresher

        # Absolute: a daemon that changes directory still refreshes the file it loaded.
        path = None if store is None else Path(os.fspath(store)).expanduser().absolute()
        keeper = Refresher(
            credentials,
            store=path,
            on_refresh=on_refresh,
            api_base=base,
            timeout=seconds,
            refresh=refresh,
        )
        return OAuth2Client(credentials.client_id, keeper, api_base=base, timeout=seconds)
    return Client(
        credentials.consumer_key,
        credentials.consumer_secret.get_secret_value(),
        credentials.access_token,
        credentials.access_token_secret.get_secret_value(),
        api_base=base,
        timeout=seconds,
    )


def load_client(
    source: StrPath | None = None,
    *,
    account: str | int | None = None,
    format: Format | None = None,
    prefix: str = "TWITTER_",
    api_base: str | None = None,
    timeout: float = 30.0,
) -> Twython:
    """Load one account (see `load_account`) and build its client.

    Args:
        source: a credentials file; None follows the default chain.
        account: which account, by screen name or index (see `load_account`).
        format: the source's format; None takes it from the name or the content.
        prefix: the variables' prefix, for the environment and ``.env`` files.
        api_base: where calls go; default ``TWCREDS_API_BASE``, else Twitter.
        timeout: seconds per connect and per read, for every call the client makes (not a
            deadline for a whole call).

    Raises:
        CredentialsNotFoundError: nothing at the source or along the default chain.
        CredentialsError: malformed credentials, several accounts and no choice, or a
            bad ``api_base``.
        ValueError: ``timeout`` is not a positive number.
    """
    from twcreds._twython import check_timeout, resolve_api_base

    resolve_api_base(api_base)  # before the file is read: a bad argument fails first
    check_timeout(timeout)
    credentials, path = locate_account(source, account=account, format=format, prefix=prefix)
    return make_client(credentials, api_base=api_base, timeout=timeout, store=path)


def load_clients(
    source: StrPath | None = None,
    *,
    format: Format | None = None,
    prefix: str = "TWITTER_",
    api_base: str | None = None,
    timeout: float = 30.0,
) -> Iterator[tuple[AnyAccount, Twython]]:
    """Yield ``(account, client)`` for every account of a source, one client at a time.

    The whole source is validated when this is called, before anything is yielded, so a
    broken entry fails before the first post. Each client is built when its step comes and
    its connections are closed when the loop moves on, so memory stays flat however many
    accounts there are.

    Args:
        source: a credentials file; None follows the default chain.
        format: the source's format; None takes it from the name or the content.
        prefix: the variables' prefix, for the environment and ``.env`` files.
        api_base: where every client's calls go; default ``TWCREDS_API_BASE``, else
            Twitter.
        timeout: seconds per connect and per read, for every call of every client (not a
            deadline for a whole call).

    Raises:
        CredentialsNotFoundError: nothing at the source or along the default chain.
        CredentialsError: any entry is malformed, two entries are the same account, or
            ``api_base`` is bad.
        ValueError: ``timeout`` is not a positive number.
    """
    from twcreds._twython import check_timeout, resolve_api_base

    base = resolve_api_base(api_base)
    seconds = check_timeout(timeout)
    accounts, path = locate_accounts(source, format=format, prefix=prefix)
    return _clients(accounts, base, seconds, path)


def _clients(
    accounts: AccountList, api_base: str, timeout: float, store: Path | None
) -> Iterator[tuple[AnyAccount, Twython]]:
    for account in accounts:
        client = make_client(account, api_base=api_base, timeout=timeout, store=store)
        try:
            yield account, client
        finally:
            client.close()
        del client  # the caller's name for it is the only one left until the next step
