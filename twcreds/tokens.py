"""OAuth 2.0 tokens: X's token endpoint, and refreshes that never lose a rotated token.

X's access tokens live two hours; its refresh tokens are single-use: each refresh returns a
new pair and retires the old refresh token at once. Two processes refreshing one account
at the same moment burn each other's token, and a refreshed pair that is not written
down before the process dies is lost for good. So a client loaded from a file renews its
token under the file's lock (`twcreds.store.refresh_stored`): it reads the file again
first, takes a token another process already renewed instead of spending its own, and
writes a new pair back atomically before using it. Any number of processes sharing one
stored account make one refresh per expiry.

A refresh that fails for a passing reason (the network, a timeout, X's 5xx) changes
nothing stored and is not retried here: the call that needed it fails, and the next one
tries again. A refused refresh (400 ``invalid_grant`` or ``invalid_request``: revoked, or
already spent elsewhere) is a `CredentialsRejectedError` saying how to authorize again;
the stored account is never deleted.
"""

from __future__ import annotations

import math
import os
import re
import threading
import warnings
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from twcreds.errors import CredentialsError, CredentialsRejectedError, TwitterAPIError, printable
from twcreds.models import OAuth2Account, OAuth2App
from twcreds.sources import _caller_stacklevel
from twcreds.store import refresh_stored

if TYPE_CHECKING:
    from twcreds._twython import Answer
    from twcreds.sources import StrPath

__all__ = ["REFRESH_MARGIN", "Refresher", "refresh_account", "request_token", "token_url"]

#: Seconds before expiry at which a token counts as due: a call never starts with a token
#: that could expire on the way.
REFRESH_MARGIN = 300.0
#: X's access tokens last 7,200 seconds; an answer without ``expires_in`` is taken as that.
DEFAULT_LIFETIME = 7200
#: A lifetime longer than this (a year) is a broken answer, not a token to trust for ever.
_MAX_LIFETIME = 366 * 24 * 3600


def token_url(api_base: str) -> str:
    """X's token endpoint under ``api_base`` (``https://api.twitter.com/2/oauth2/token``)."""
    return f"{api_base}/2/oauth2/token"


#: How to authorize an account again, for the hints of refused refreshes.
HINT_REAUTHORIZE = (
    "authorize it again: `twcreds authorize --oauth2 APP` (APP: a file or the"
    " TWITTER_CLIENT_ID variables), then load the account from where it saved it"
)


def request_token(
    app: OAuth2App,
    form: Mapping[str, str],
    *,
    api_base: str,
    timeout: float,
    what: str,
) -> Answer:
    """POST ``form`` to the token endpoint as ``app``.

    A confidential client authenticates with HTTP Basic; a public one sends its
    ``client_id`` in the body, as X asks.

    Returns:
        X's answer, whatever its status.

    Raises:
        TwitterConnectionError: no answer came.
    """
    from twcreds._twython import post_form

    data = dict(form)
    basic = None
    if app.client_secret is not None:
        basic = (app.client_id, app.client_secret.get_secret_value())
    else:
        data["client_id"] = app.client_id
    return post_form(token_url(api_base), data, basic=basic, timeout=timeout, what=what)


def token_error(answer: Answer) -> tuple[str, str]:
    """X's OAuth error code and description from a failed token answer, safe to show."""
    data = answer.json()
    if not isinstance(data, dict):
        return "", ""
    code = data.get("error")
    detail = data.get("error_description")
    shown_code = printable(code[:60]) if isinstance(code, str) else ""
    shown_detail = printable(detail[:200]) if isinstance(detail, str) else ""
    return shown_code, shown_detail


def account_from_answer(
    answer: Answer, previous: OAuth2Account | OAuth2App, what: str, *, now: datetime
) -> OAuth2Account:
    """The account X's token answer describes, keeping what the answer does not say.

    Raises:
        TwitterAPIError: the answer holds no usable token.
    """
    data = answer.json()
    problem = None
    if not isinstance(data, dict) or not isinstance(data.get("access_token"), str):
        problem = "holds no access token"
    else:
        lifetime = data.get("expires_in", DEFAULT_LIFETIME)
        if isinstance(lifetime, str) and re.fullmatch(r"[0-9]{1,9}(?:\.[0-9]{1,6})?", lifetime):
            lifetime = float(lifetime)
        if (
            isinstance(lifetime, bool)
            or not isinstance(lifetime, int | float)
            or not math.isfinite(lifetime)
            or not 0 < lifetime <= _MAX_LIFETIME
        ):
            problem = "gives no sensible lifetime (expires_in)"
    if problem is None:
        fields: dict[str, Any] = {
            "client_id": previous.client_id,
            "client_secret": previous.client_secret,
            "access_token": data["access_token"],
            "refresh_token": data.get("refresh_token"),
            "expires_at": now + timedelta(seconds=float(lifetime)),
            "scopes": data.get("scope", getattr(previous, "scopes", ())),
        }
        if isinstance(previous, OAuth2Account):
            fields["screen_name"] = previous.screen_name
            fields["user_id"] = previous.user_id
            if fields["refresh_token"] is None:
                fields["refresh_token"] = previous.refresh_token
        try:
            return OAuth2Account.model_validate(fields)
        except CredentialsError:
            problem = "holds a malformed token or scope"
    # Raised outside any handler: the model's error must not carry the new token along.
    raise TwitterAPIError(f"{what}: X's answer {problem}", status=answer.status) from None


def _refresh_failure(answer: Answer, account: OAuth2Account, what: str) -> TwitterAPIError:
    code, detail = token_error(answer)
    said = f"X answered {answer.status}" + (f" ({code})" if code else "")
    if detail:
        said += f": {detail}"
    if answer.status == 400 and code in ("invalid_grant", "invalid_request", ""):
        msg = (
            f"{what}: {said}; the refresh token was refused: it was revoked, or already"
            " spent by another program holding a copy of it"
        )
        return CredentialsRejectedError(msg, status=400, hint=HINT_REAUTHORIZE)
    if answer.status == 401 or code == "invalid_client":
        msg = f"{what}: {said}; X refused the app's client id or secret"
        hint = "copy the OAuth 2.0 Client ID and Secret again from the developer console"
        return CredentialsRejectedError(msg, status=answer.status, hint=hint)
    msg = f"{what}: {said}; nothing stored was changed: try again later"
    return TwitterAPIError(msg, status=answer.status)


def exchange_refresh(account: OAuth2Account, *, api_base: str, timeout: float) -> OAuth2Account:
    """Spend ``account``'s refresh token for a new pair (one request to the token endpoint).

    Raises:
        CredentialsRejectedError: X refused the refresh token or the app's credentials, or
            the account has no refresh token.
        TwitterAPIError: X answered with another error, or something unreadable.
        TwitterConnectionError: the network failed or timed out.
    """
    what = f"refresh {account.label}"
    if account.refresh_token is None:
        msg = (
            f"{what}: the access token has expired and there is no refresh token (the"
            " account was authorized without the offline.access scope)"
        )
        raise CredentialsRejectedError(msg, status=None, hint=HINT_REAUTHORIZE)
    form = {
        "grant_type": "refresh_token",
        "refresh_token": account.refresh_token.get_secret_value(),
    }
    now = datetime.now(timezone.utc)
    answer = request_token(account.app, form, api_base=api_base, timeout=timeout, what=what)
    if answer.status != 200:
        raise _refresh_failure(answer, account, what)
    return account_from_answer(answer, account, what, now=now)


class Refresher:
    """Keeps one client's OAuth 2.0 account current (the `twcreds._twython.TokenKeeper`).

    With ``store`` (the JSON file the account came from) every renewal happens under the
    file's lock and is written back before it is used; without one, it happens in memory
    and the new account goes to ``on_refresh`` (with neither, a warning says the refresh
    token the account was configured with is now spent).

    Attributes:
        account: the account as the client now uses it.
    """

    def __init__(
        self,
        account: OAuth2Account,
        *,
        store: Path | None,
        on_refresh: Callable[[OAuth2Account], object] | None,
        api_base: str,
        timeout: float,
        refresh: bool | Literal["stored"] = True,
    ) -> None:
        self.account = account
        self.refresh = refresh
        self.store = store
        self.on_refresh = on_refresh
        self.api_base = api_base
        self.timeout = timeout
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        del state["_lock"]  # a lock cannot be pickled; each copy gets its own
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    @property
    def token(self) -> str:
        """The access token to send now."""
        return self.account.access_token.get_secret_value()

    def before_call(self) -> None:
        """Renew the token if it expires within `REFRESH_MARGIN` seconds."""
        if self.refresh and self.account.expires_within(REFRESH_MARGIN):
            self._renew(lambda stored: stored.expires_within(REFRESH_MARGIN))

    def after_rejection(self) -> bool:
        """Renew after a 401, unless another process already did; True if the token changed."""
        held = self.token
        if not self.refresh or (self.store is None and self.account.refresh_token is None):
            return False
        # In the store, a token other than the one just refused is one another process
        # renewed: retry with it instead of spending the refresh token again.
        self._renew(lambda stored: stored.access_token.get_secret_value() == held)
        return self.token != held

    def force(self) -> OAuth2Account:
        """Renew now, whatever the expiry (`twcreds.refresh_account`)."""
        self._renew(lambda stored: True)
        return self.account

    def renew_if(self, needed: Callable[[OAuth2Account], bool]) -> OAuth2Account:
        """Renew if ``needed`` says so of the newest account (the stored one, with a store)."""
        self._renew(needed)
        return self.account

    def _renew(self, needed: Callable[[OAuth2Account], bool]) -> None:
        with self._lock:
            before = self.account

            def exchange(stored: OAuth2Account) -> OAuth2Account:
                return exchange_refresh(stored, api_base=self.api_base, timeout=self.timeout)

            written = None
            if self.store is not None:
                written = refresh_stored(
                    self.store, before, exchange, needed=needed, request_timeout=self.timeout
                )
                if written is None:  # its entry keeps the secrets elsewhere: no write-back
                    self.store = None
            if written is not None:
                renewed = written
            elif self.refresh == "stored":
                return  # only where the pair can be written back: not in memory
            elif needed(before):
                renewed = exchange(before)
            else:
                return
            self.account = renewed
            if renewed.access_token == before.access_token:
                return
            if self.on_refresh is not None:
                self.on_refresh(renewed)
            elif self.store is None:
                msg = (
                    f"{renewed.label}: its OAuth 2.0 token was refreshed, and the refresh"
                    " token it was loaded with is now spent: it came from the environment,"
                    " a .env file, another tool's file or a secret manager, none of which"
                    " twcreds rewrites."
                    " Store the account (`twcreds add SOURCE`, or `twcreds import` for"
                    " another tool's file) and load it from the store, or pass on_refresh="
                    " to keep each new token yourself"
                )
                warnings.warn(msg, UserWarning, stacklevel=_caller_stacklevel())


def refresh_account(
    path: StrPath, name: str, *, api_base: str | None = None, timeout: float = 30.0
) -> OAuth2Account:
    """Refresh one stored OAuth 2.0 account now, writing the new pair back to ``path``.

    The refresh happens under the file's lock and is written back atomically before this
    returns, as a client's own refresh is.

    Args:
        path: the JSON file holding the account (the user store, say).
        name: the account's screen name (case-insensitive, ``@`` optional) or index.
        api_base: where the token endpoint is; default ``TWCREDS_API_BASE``, else X.
        timeout: seconds per connect and per read (not a deadline for the whole call).

    Returns:
        The account with its new tokens.

    Raises:
        CredentialsNotFoundError: there is no file at ``path``.
        CredentialsError: no such account, or it is not an OAuth 2.0 account.
        CredentialsRejectedError: X refused the refresh (the stored account is kept).
        TwitterAPIError: X answered with another error; nothing stored changed.
        TwitterConnectionError: the network failed or timed out; nothing stored changed.
    """
    from twcreds._twython import check_timeout, resolve_api_base
    from twcreds.sources import load_account

    base = resolve_api_base(api_base)
    seconds = check_timeout(timeout)
    try:
        account = load_account(path, account=name, format="json")
    except CredentialsError:
        if not (name.isascii() and name.isdigit() and len(name) < 10):
            raise
        account = load_account(path, account=int(name), format="json")
    if not isinstance(account, OAuth2Account):
        msg = (
            f"{os.fspath(path)}: {account.label} is an OAuth 1.0a account, whose tokens do"
            " not expire; only OAuth 2.0 accounts are refreshed"
        )
        raise CredentialsError(msg)
    refresher = Refresher(
        account,
        store=Path(os.fspath(path)).expanduser().absolute(),
        on_refresh=None,
        api_base=base,
        timeout=seconds,
    )
    return refresher.force()
