"""The exceptions and the warning twcreds raises.

Every error derives from :class:`TwcredsError`; a leaf also inherits the builtin it
refines, so ``except ValueError`` keeps working around our loaders::

    TwcredsError
    ├── CredentialsError (also ValueError)    malformed or incomplete credentials
    │   └── CredentialsNotFoundError           nothing to load at the source or along the chain
    ├── AuthorizationError                    the PIN or PKCE flow failed
    ├── TwitterAPIError                       Twitter answered with an error: .status, .code, .hint,
    │   │                                     and X's problem .title, .detail, .type
    │   ├── CredentialsRejectedError          401: wrong, revoked or mistimed credentials;
    │   │                                     or a refused OAuth 2.0 refresh (400)
    │   ├── CreditsDepletedError              402: the app's pay-per-use credits are spent
    │   └── RateLimitError                    429: .reset_at, .retry_after, .window
    │                                         ("15min", "24h-user", "24h-app")
    └── TwitterConnectionError                the network failed or timed out
    InsecurePermissionsWarning (UserWarning)

No message ever quotes a secret: they say where (file, line, account, variable), what is
wrong, and how to fix it.
"""

from __future__ import annotations

import re
from datetime import datetime

__all__ = [
    "AuthorizationError",
    "CredentialsError",
    "CredentialsNotFoundError",
    "CredentialsRejectedError",
    "CreditsDepletedError",
    "InsecurePermissionsWarning",
    "RateLimitError",
    "TwcredsError",
    "TwitterAPIError",
    "TwitterConnectionError",
]


class TwcredsError(Exception):
    """The root of every exception twcreds raises."""


class CredentialsError(TwcredsError, ValueError):
    """Credentials are malformed, incomplete or ambiguous."""


class CredentialsNotFoundError(CredentialsError):
    """There is nothing to load at the given source, or anywhere along the default chain."""


class AuthorizationError(TwcredsError):
    """A step of the PIN authorization flow failed."""


class TwitterAPIError(TwcredsError):
    """Twitter answered with an error.

    Attributes:
        status: The HTTP status code.
        code: Twitter's own error code (32, 89, 135, 453, ...) when it sent one.
        hint: What usually causes this and how to fix it, or ``None``.
        title: The ``title`` of X's problem answer (v2's RFC 7807 errors), or ``None``.
        detail: Its ``detail``, or ``None``.
        type: Its ``type``, a URI such as ``https://api.x.com/2/problems/usage-capped``
            (``about:blank`` for a bare HTTP status), or ``None``.

    The texts come from the server: they are escaped with :func:`printable` and cut short.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: int | None = None,
        hint: str | None = None,
        title: str | None = None,
        detail: str | None = None,
        type: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.hint = hint
        self.title = title
        self.detail = detail
        self.type = type

    def __str__(self) -> str:
        message = super().__str__()
        return f"{message} ({self.hint})" if self.hint else message


class CredentialsRejectedError(TwitterAPIError):
    """Twitter answered 401: the credentials are wrong, revoked, or the clock is off."""


class CreditsDepletedError(TwitterAPIError):
    """X answered 402: the app's pay-per-use credit balance is spent; nothing was done."""


class RateLimitError(TwitterAPIError):
    """Twitter answered 429.

    Attributes:
        reset_at: When the exhausted limit resets (an aware UTC datetime), or ``None`` if
            unknown.
        retry_after: Seconds to wait from now until ``reset_at`` (never negative), or ``None``.
        window: Which limit was exhausted: ``"15min"`` (the per-endpoint window,
            ``x-rate-limit-*``), ``"24h-user"`` (the account's daily cap,
            ``x-user-limit-24hour-*``) or ``"24h-app"`` (the app's daily cap,
            ``x-app-limit-24hour-*``).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = 429,
        code: int | None = None,
        hint: str | None = None,
        reset_at: datetime | None = None,
        retry_after: float | None = None,
        window: str = "15min",
        title: str | None = None,
        detail: str | None = None,
        type: str | None = None,
    ) -> None:
        super().__init__(
            message, status=status, code=code, hint=hint, title=title, detail=detail, type=type
        )
        self.reset_at = reset_at
        self.retry_after = retry_after
        self.window = window


class TwitterConnectionError(TwcredsError, ConnectionError):
    """The network failed or a request timed out before Twitter answered."""


class InsecurePermissionsWarning(UserWarning):
    """A credentials file can be read or written by users other than its owner."""


# C0 and C1 controls, DEL, and the bidirectional overrides that reorder what a terminal shows.
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """Text from outside (a server's answer, a file name) made safe to show on a terminal.

    Control characters are written as Python escapes (``\\x1b``, ``\\n``, ``\\u202e``), as
    OpenSSH and git neutralise remote text: an answer cannot clear the screen, ring the bell,
    move the cursor, or forge a line of output.
    """
    return UNPRINTABLE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
