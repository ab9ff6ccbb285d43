"""Stand-ins for the OAuth 2.0 models, until ``twcreds.models`` holds the real ones.

Another branch is writing ``OAuth2App``, ``OAuth2Account`` and ``POSTING_SCOPES`` in
``twcreds.models`` (API.md, "OAuth 2.0 user context"). Only :mod:`twcreds.testing` imports
these, and only to hand back what its OAuth 2.0 helpers return; when the real models land,
this module goes and that one import line points at ``twcreds.models``. Nothing here is
exported from ``twcreds``.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, SecretStr

__all__ = ["POSTING_SCOPES", "OAuth2Account", "OAuth2App"]

#: What a posting bot asks for: read and write tweets, read itself, upload media, refresh.
POSTING_SCOPES = ("tweet.read", "tweet.write", "users.read", "media.write", "offline.access")


class OAuth2App(BaseModel, frozen=True):
    """An app's OAuth 2.0 client; ``client_secret`` None for a public client."""

    client_id: str
    client_secret: SecretStr | None = None


class OAuth2Account(BaseModel, frozen=True):
    """One account authorized with OAuth 2.0."""

    client_id: str
    client_secret: SecretStr | None = None
    access_token: SecretStr
    refresh_token: SecretStr | None = None
    expires_at: datetime  # aware, UTC
    scopes: tuple[str, ...]
    screen_name: str | None = None
    user_id: str | None = None
