"""Ready, correctly signed Twython clients from credentials.

Clients are `twython.Twython` instances in OAuth 1.0a user context (Twython's OAuth 2
``access_token`` is never set), with a timeout on every call, sent to ``api_base`` —
Twitter by default, or an offline `twcreds.testing.FakeTwitter`.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from twcreds.errors import CredentialsError
from twcreds.models import Account, AccountList
from twcreds.sources import Format, StrPath, load_account, load_accounts

if TYPE_CHECKING:
    from twython import Twython

__all__ = ["load_client", "load_clients", "make_client", "resolve_api_base"]

TWITTER_API = "https://api.twitter.com"
_VERSION_SUFFIX = re.compile(r"/(?:1\.1|2)$")


def check_timeout(timeout: float) -> float:
    """A timeout is a positive number of seconds.

    Raises:
        TypeError: it is not a number.
        ValueError: it is zero, negative, or not finite.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        msg = f"timeout must be a number of seconds, not {type(timeout).__name__}"
        raise TypeError(msg)
    if not (timeout > 0 and math.isfinite(timeout)):
        msg = f"timeout must be a positive number of seconds, such as 30, not {timeout!r}"
        raise ValueError(msg)
    return float(timeout)


def resolve_api_base(api_base: str | None = None) -> str:
    """The API base to use: the argument, else ``TWCREDS_API_BASE``, else Twitter.

    A blank argument or variable counts as not given.

    Returns:
        The base URL without a trailing slash, such as ``http://127.0.0.1:8080``.

    Raises:
        CredentialsError: the base is not an ``http://`` or ``https://`` URL of a host.
    """
    if api_base is not None and not isinstance(api_base, str):
        kind = type(api_base).__name__
        msg = f"api_base must be a URL string such as http://127.0.0.1:8080, not {kind}"
        raise CredentialsError(msg)
    # A blank value counts as not given, as a blank TWCREDS_API_BASE does.
    if api_base is not None and api_base.strip():
        name, base = "api_base", api_base
    else:
        name, base = "TWCREDS_API_BASE", os.environ.get("TWCREDS_API_BASE", "")
        if not base.strip():
            return TWITTER_API
    base = base.strip().rstrip("/")
    problem = _url_problem(base)
    if problem is not None:
        msg = (
            f"{name} {problem}; give the scheme and host only, such as https://api.twitter.com"
            " or http://127.0.0.1:8080"
        )
        raise CredentialsError(msg)
    return base


def _url_problem(base: str) -> str | None:
    """What is wrong with an API base URL, or None; the URL itself is never quoted back."""
    if any(char.isspace() or ord(char) < 32 for char in base):
        return "contains a space or control character"
    try:
        url = urlsplit(base)
        url.port  # noqa: B018 - parses the port, raising ValueError if it is not a number
    except ValueError:
        return "is not a valid URL (check the port)"
    if url.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not url.hostname:
        return "names no host"
    if url.username is not None or url.password is not None:
        return "must not contain a user name or password"
    if url.query or url.fragment or base.endswith(("?", "#")):
        return "must not contain a query (?...) or fragment (#...)"
    if _VERSION_SUFFIX.search(url.path):
        return "must not end with an API version (/1.1, /2): twcreds adds it per call"
    return None


def make_client(
    credentials: Account, *, api_base: str | None = None, timeout: float = 30.0
) -> Twython:
    """Build a Twython client for one account; no network I/O happens here.

    Args:
        credentials: the account whose four values sign every request.
        api_base: where calls go; default ``TWCREDS_API_BASE``, else Twitter.
        timeout: seconds per connect and per read, for every call the client makes.

    Returns:
        A `twython.Twython` in OAuth 1.0a user context; use it as a context manager, or
        call its ``close()``, to release its connections.

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
    base = resolve_api_base(api_base)
    seconds = check_timeout(timeout)
    from twcreds._twython import Client  # lazy: twython and requests are heavy to import

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

    Raises:
        CredentialsNotFoundError: nothing at the source or along the default chain.
        CredentialsError: malformed credentials, several accounts and no choice, or a
            bad ``api_base``.
        ValueError: ``timeout`` is not a positive number.
    """
    resolve_api_base(api_base)
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

    Raises:
        CredentialsNotFoundError: nothing at the source or along the default chain.
        CredentialsError: any entry is malformed, two entries are the same account, or
            ``api_base`` is bad.
        ValueError: ``timeout`` is not a positive number.
    """
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
