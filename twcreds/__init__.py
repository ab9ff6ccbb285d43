"""twcreds: Twitter (X) bot credentials, loaded, authorized and stored safely.

Load credentials from a JSON, 4-line or .env file (or the environment) and get a ready,
correctly signed Twython client::

    from twcreds import load_client, load_clients, post_tweet

    client = load_client("creds-twitter.json")
    for account, client in load_clients("accounts.json"):
        post_tweet(client, f"hello from {account.screen_name}")
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from twcreds.api import post_tweet, upload_media, verify_account
    from twcreds.authorization import (
        DEFAULT_REDIRECT_URI,
        authorize,
        authorize_oauth2,
        complete_authorization,
        complete_oauth2_authorization,
        start_authorization,
        start_oauth2_authorization,
    )
    from twcreds.clients import load_client, load_clients, make_client
    from twcreds.errors import (
        AuthorizationError,
        CredentialsError,
        CredentialsNotFoundError,
        CredentialsRejectedError,
        CreditsDepletedError,
        InsecurePermissionsWarning,
        RateLimitError,
        TwcredsError,
        TwitterAPIError,
        TwitterConnectionError,
    )
    from twcreds.models import (
        POSTING_SCOPES,
        Account,
        AccountList,
        App,
        BearerToken,
        OAuth2Account,
        OAuth2App,
        PendingAuthorization,
        PendingOAuth2Authorization,
    )
    from twcreds.sources import load_account, load_accounts, load_app, load_bearer_tokens
    from twcreds.store import add_account, remove_account, save_accounts
    from twcreds.tokens import refresh_account

__version__ = "0.1.0.dev0"

# Names are imported on first use, as pydantic does for its own: `import twcreds` stays
# as cheap as `import pydantic`, and a script pays only for the parts it touches.
_EXPORTS: dict[str, str] = {
    "DEFAULT_REDIRECT_URI": "twcreds.authorization",
    "POSTING_SCOPES": "twcreds.models",
    "Account": "twcreds.models",
    "AccountList": "twcreds.models",
    "App": "twcreds.models",
    "AuthorizationError": "twcreds.errors",
    "BearerToken": "twcreds.models",
    "CredentialsError": "twcreds.errors",
    "CredentialsNotFoundError": "twcreds.errors",
    "CredentialsRejectedError": "twcreds.errors",
    "CreditsDepletedError": "twcreds.errors",
    "InsecurePermissionsWarning": "twcreds.errors",
    "OAuth2Account": "twcreds.models",
    "OAuth2App": "twcreds.models",
    "PendingAuthorization": "twcreds.models",
    "PendingOAuth2Authorization": "twcreds.models",
    "RateLimitError": "twcreds.errors",
    "TwcredsError": "twcreds.errors",
    "TwitterAPIError": "twcreds.errors",
    "TwitterConnectionError": "twcreds.errors",
    "add_account": "twcreds.store",
    "authorize": "twcreds.authorization",
    "authorize_oauth2": "twcreds.authorization",
    "complete_authorization": "twcreds.authorization",
    "complete_oauth2_authorization": "twcreds.authorization",
    "load_account": "twcreds.sources",
    "load_accounts": "twcreds.sources",
    "load_app": "twcreds.sources",
    "load_bearer_tokens": "twcreds.sources",
    "load_client": "twcreds.clients",
    "load_clients": "twcreds.clients",
    "make_client": "twcreds.clients",
    "post_tweet": "twcreds.api",
    "refresh_account": "twcreds.tokens",
    "remove_account": "twcreds.store",
    "save_accounts": "twcreds.store",
    "start_authorization": "twcreds.authorization",
    "start_oauth2_authorization": "twcreds.authorization",
    "upload_media": "twcreds.api",
    "verify_account": "twcreds.api",
}

__all__ = [
    "DEFAULT_REDIRECT_URI",
    "POSTING_SCOPES",
    "Account",
    "AccountList",
    "App",
    "AuthorizationError",
    "BearerToken",
    "CredentialsError",
    "CredentialsNotFoundError",
    "CredentialsRejectedError",
    "CreditsDepletedError",
    "InsecurePermissionsWarning",
    "OAuth2Account",
    "OAuth2App",
    "PendingAuthorization",
    "PendingOAuth2Authorization",
    "RateLimitError",
    "TwcredsError",
    "TwitterAPIError",
    "TwitterConnectionError",
    "__version__",
    "add_account",
    "authorize",
    "authorize_oauth2",
    "complete_authorization",
    "complete_oauth2_authorization",
    "load_account",
    "load_accounts",
    "load_app",
    "load_bearer_tokens",
    "load_client",
    "load_clients",
    "make_client",
    "post_tweet",
    "refresh_account",
    "remove_account",
    "save_accounts",
    "start_authorization",
    "start_oauth2_authorization",
    "upload_media",
    "verify_account",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'twcreds' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
