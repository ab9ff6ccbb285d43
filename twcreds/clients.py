"""Ready, correctly signed Twython clients from credentials.

Clients are `twython.Twython` instances in OAuth 1.0a user context (Twython's OAuth 2
``access_token`` is never set), with a timeout (per connect and per read) on every call,
sent to ``api_base`` — Twitter by default, or an offline `twcreds.testing.FakeTwitter`.
They survive `pickle` and `copy.deepcopy`, timeout and ``api_base`` included, so they can
be handed to a process pool.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from twcreds.models import Account, AccountList
from twcreds.sources import Format, StrPath, load_account, load_accounts

if TYPE_CHECKING:
    from twython import Twython

__all__ = ["load_client", "load_clients", "make_client"]


def make_client(
    credentials: Account, *, api_base: str | None = None, timeout: float = 30.0
) -> Twython:
    """Build a Twython client for one account; no network I/O happens here.

    Args:
        credentials: the account whose four values sign every request.
        api_base: where calls go; default ``TWCREDS_API_BASE``, else Twitter.
        timeout: seconds per connect and per read, for every call the client makes (not a
            deadline for a whole call: a server that keeps sending slowly can take longer).

    Returns:
        A `twython.Twython` in OAuth 1.0a user context; use it as a context manager, or
        call its ``close()``, to release its connections. It can be pickled and
        deep-copied; the copy keeps the timeout and ``api_base``.

    Raises:
        CredentialsError: ``api_base`` (or ``TWCREDS_API_BASE``) is not an http(s) URL.
        TypeError: ``credentials`` is not an `Account`.
        ValueError: ``timeout`` is not a positive number.
    """
    if not isinstance(credentials, Account):
        msg = (
            f"make_client needs an Account, not {type(credentials).__name__};"
            " build one with Account(...) or load_account(...)"
        )
        raise TypeError(msg)
    # Lazy: twython and requests are heavy to import, and a script that only loads
    # credentials should not pay for them.
    from twcreds._twython import Client, check_timeout, resolve_api_base

    base = resolve_api_base(api_base)
    seconds = check_timeout(timeout)
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
    accounts = load_accounts(source, format=format, prefix=prefix)
    return _clients(accounts, base, seconds)


def _clients(
    accounts: AccountList, api_base: str, timeout: float
) -> Iterator[tuple[Account, Twython]]:
    for account in accounts:
        client = make_client(account, api_base=api_base, timeout=timeout)
        try:
            yield account, client
        finally:
            client.close()
        del client  # the caller's name for it is the only one left until the next step
