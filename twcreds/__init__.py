"""twcreds: Twitter (X) bot credentials, loaded, authorized and stored safely.

Load credentials from a JSON, 4-line or .env file (or the environment) and get a ready,
correctly signed Twython client::

    from twcreds import load_client, load_clients, post_tweet

    client = load_client("creds-twitter.json")
    for account, client in load_clients("accounts.json"):
        post_tweet(client, f"hello from {account.screen_name}")
"""

from __future__ import annotations

from twcreds.clients import load_client, load_clients, make_client
from twcreds.errors import (
    AuthorizationError,
    CredentialsError,
    CredentialsNotFoundError,
    CredentialsRejectedError,
    InsecurePermissionsWarning,
    RateLimitError,
    TwcredsError,
    TwitterAPIError,
    TwitterConnectionError,
)
from twcreds.models import Account, AccountList, App, PendingAuthorization
from twcreds.sources import load_account, load_accounts, load_app

__version__ = "0.1.0.dev0"

__all__ = [
    "Account",
    "AccountList",
    "App",
    "AuthorizationError",
    "CredentialsError",
    "CredentialsNotFoundError",
    "CredentialsRejectedError",
    "InsecurePermissionsWarning",
    "PendingAuthorization",
    "RateLimitError",
    "TwcredsError",
    "TwitterAPIError",
    "TwitterConnectionError",
    "__version__",
    "load_account",
    "load_accounts",
    "load_app",
    "load_client",
    "load_clients",
    "make_client",
]
