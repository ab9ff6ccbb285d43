"""Ready, correctly signed Twython clients from credentials.

Clients are `twython.Twython` instances in OAuth 1.0a user context (Twython's OAuth 2
``access_token`` is never set), with a timeout on every call, sent to ``api_base`` —
Twitter by default, or an offline `twcreds.testing.FakeTwitter`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

from twcreds.models import Account, AccountList
from twcreds.sources import Format, StrPath, load_account, load_accounts

if TYPE_CHECKING:
    from twython import Twython

__all__ = ["load_client", "load_clients", "make_client", "resolve_api_base"]

TWITTER_API = "https://api.twitter.com"


def resolve_api_base(api_base: str | None = None) -> str:
    """The API base to use: the argument, else ``TWCREDS_API_BASE``, else Twitter.

    Raises:
        ValueError: the base is not an ``http://`` or ``https://`` URL.
    """
    base = api_base or os.environ.get("TWCREDS_API_BASE") or TWITTER_API
    base = base.strip().rstrip("/")
    if not base.startswith(("http://", "https://")) or base[-3:] == "://":
        source = "api_base" if api_base else "TWCREDS_API_BASE"
        msg = f"{source} must be an http:// or https:// URL such as http://127.0.0.1:8080"
        raise ValueError(msg)
    return base


def make_client(
    credentials: Account, *, api_base: str | None = None, timeout: float = 30.0
) -> Twython:
    """Build a Twython client for one account; no network I/O happens here.

    Args:
        credentials: the account whose four values sign every request.
        api_base: where calls go; default ``TWCREDS_API_BASE``, else Twitter.
        timeout: seconds per connect and per read, for every call the client makes.

    Raises:
        ValueError: ``api_base`` is not an http(s) URL.
    """
    from twcreds._twython import Client  # lazy: twython and requests are heavy to import

    return Client(
        credentials.consumer_key,
        credentials.consumer_secret.get_secret_value(),
        credentials.access_token,
        credentials.access_token_secret.get_secret_value(),
        api_base=resolve_api_base(api_base),
        timeout=timeout,
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

    Raises:
        CredentialsNotFoundError: nothing at the source or along the default chain.
        CredentialsError: malformed credentials, or several accounts and no choice.
    """
    credentials = load_account(source, account=account, format=format, prefix=prefix)
    return make_client(credentials, api_base=api_base, timeout=timeout)


def load_clients(
    source: StrPath | None = None,
    *,
    format: Format | None = None,
    prefix: str = "TWITTER_",
    api_base: str | None = None,
    timeout: float = 30.0,
) -> Iterator[tuple[Account, Twython]]:
    """Yield ``(account, client)`` for every account of a source, one client at a time.

    The whole source is validated when this is called, before anything is yielded, so a
    broken entry fails before the first post. Each client is built when its step comes and
    its connections are closed when the loop moves on, so memory stays flat however many
    accounts there are.

    Raises:
        CredentialsNotFoundError: nothing at the source or along the default chain.
        CredentialsError: any entry is malformed, or two entries are the same account.
    """
    accounts = load_accounts(source, format=format, prefix=prefix)
    base = resolve_api_base(api_base)
    return _clients(accounts, base, timeout)


def _clients(
    accounts: AccountList, api_base: str, timeout: float
) -> Iterator[tuple[Account, Twython]]:
    for account in accounts:
        client = make_client(account, api_base=api_base, timeout=timeout)
        try:
            yield account, client
        finally:
            client.client.close()
