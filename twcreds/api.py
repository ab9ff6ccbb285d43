"""Using the credentials: who am I (``GET /2/users/me``) and post (``POST /2/tweets``).

Twitter's error answers are mapped onto the error tree here, with their hints; network
failures are mapped by `twcreds._twython`, the one module that touches twython. Twython keeps
only the HTTP status of an error; Twitter's own code (32, 89, 135, 453, ...) is read back
from the body of the client's last answer.

An answer is read as a hostile server might write it: text quoted from it (an error
message, a title, a detail) goes through `twcreds.errors.printable` and is cut to
`MAX_QUOTED` characters, so it cannot drive the terminal that shows the error; a part of
the wrong type (a message of ``null``) is treated as absent; a body nested too deeply to
parse is not JSON.
"""

from __future__ import annotations

import email.utils
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from twcreds.errors import (
    CredentialsError,
    CredentialsRejectedError,
    RateLimitError,
    TwitterAPIError,
    printable,
)
from twcreds.models import Account, AnyAccount, BearerToken, OAuth2Account

if TYPE_CHECKING:
    from twython import Twython

    from twcreds._twython import Answer

__all__ = ["post_tweet", "verify_account"]

T = TypeVar("T")

_SYNC_CLOCK = "synchronise it (enable NTP) and try again"
HINT_WRONG = (
    "check the consumer key and secret and the access token and secret for typos or stray"
    " spaces; regenerate them in the developer portal if they were revoked"
)
HINTS: dict[int, str] = {
    32: HINT_WRONG,
    89: (
        "the access token is invalid or was revoked; authorize the account again"
        " (`twcreds authorize`) or regenerate the token in the developer portal"
    ),
    135: f"the computer's clock is off; {_SYNC_CLOCK}",
    215: "the request carried no usable credentials; check that all four values are set",
    453: (
        "this endpoint is not in your X API access tier; post with POST /2/tweets"
        " (`post_tweet`) and verify with GET /2/users/me (`verify_account`), which the"
        " free tier serves"
    ),
}
HINT_WRITE = (
    "the token cannot write: set the app to 'Read and write' in the developer portal, then"
    " regenerate the access token and secret (a token issued while the app was read-only"
    " stays read-only)"
)
HINT_RATE = "wait until the limit resets, then try again"
#: A 401 without a code (v2's problem answer): every cause it may have.
HINT_UNAUTHORIZED = (
    "Twitter does not say why on its v2 API: check each key, token and secret for typos or"
    " stray spaces; if they are right, the token was revoked or has expired, or the app's"
    " keys were regenerated: authorize the account again (`twcreds authorize`, with"
    " `--oauth2` for an OAuth 2.0 account) or regenerate the token in the developer portal"
)
#: How far Twitter's ``Date`` may be from this computer's clock before a 401 blames the
#: clock: Twitter refuses an ``oauth_timestamp`` more than about 5 minutes off.
MAX_CLOCK_SKEW = 300.0
#: How much of a server's own text a message quotes.
MAX_QUOTED = 200
#: How far from now a rate-limit reset may be and still be believed: the longest window
#: (24 hours) with a day of clock skew either way. Anything further is a broken header.
MAX_RESET_DISTANCE = 2 * 24 * 3600
_EPOCH = re.compile(r"-?[0-9]{1,12}")


def twitter_error(status: int, body: str, headers: Mapping[str, str], what: str) -> TwitterAPIError:
    """Build the error for an HTTP error answer; the message never includes the request.

    v1.1 and the OAuth endpoints name the cause with a code (32, 89, 135, ...). v2 answers
    every authentication failure with one RFC 7807 problem and no code (``{"title":
    "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"}``), so
    its hint names every cause, unless the answer's ``Date`` shows that this computer's
    clock is off, the one cause an answer can prove.
    """
    parsed = _read_error_body(body)
    code = parsed.code
    hint = HINTS.get(code) if code is not None else None
    if status == 403 and (parsed.type or "").endswith("oauth1-permissions"):
        hint = HINT_WRITE
    message = f"{what}: Twitter answered {status}"
    if code is not None:
        message += f" (code {code})"
    if parsed.message:
        message += f": {parsed.message}"
    problem: dict[str, Any] = {"title": parsed.title, "detail": parsed.detail, "type": parsed.type}
    if status == 429:
        reset_at, retry_after = _rate_limit_reset(headers)
        if reset_at is not None:
            message += f"; the limit resets at {reset_at:%H:%M:%S} UTC"
        return RateLimitError(
            message,
            code=code,
            hint=HINT_RATE,
            reset_at=reset_at,
            retry_after=retry_after,
            **problem,
        )
    if status == 401:
        if code in (None, 32):
            # The causes a code-less 401 cannot tell apart; a clock that is off is provable.
            hint = _clock_hint(headers) or (HINT_UNAUTHORIZED if code is None else hint)
        return CredentialsRejectedError(
            message, status=401, code=code, hint=hint or HINT_WRONG, **problem
        )
    return TwitterAPIError(message, status=status, code=code, hint=hint, **problem)


@dataclass(frozen=True)
class _ErrorBody:
    """What an error answer says: Twitter's code and text, and a v2 problem's members.

    Every text is the server's, made printable and cut short; a member that is absent (or not
    a string) is None. ``message`` is what the error's message quotes: a v1.1 message, else
    the problem's detail or title, else ``""``.
    """

    code: int | None = None
    message: str = ""
    title: str | None = None
    detail: str | None = None
    type: str | None = None


def _read_error_body(body: str) -> _ErrorBody:
    """Twitter's code and message, and a problem's title, detail and type, from an answer.

    A code that is not a plausible Twitter code (a bool, a negative or huge number) is None.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        text = body.strip()
        if text.lower().startswith(("<!doctype", "<html")) or not text:
            return _ErrorBody(
                message="an error page instead of JSON" if text else "an empty answer"
            )
        return _ErrorBody(message=_quoted(text.splitlines()[0]))
    if not isinstance(data, dict):
        return _ErrorBody()
    title = _first_text(data, "title") or None
    detail = _first_text(data, "detail") or None
    problem_type = _first_text(data, "type") or None
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        plausible = isinstance(code, int) and not isinstance(code, bool) and 0 <= code < 10**6
        message = _first_text(first, "message", "detail") or detail or title or ""
        return _ErrorBody(code if plausible else None, message, title, detail, problem_type)
    return _ErrorBody(None, detail or title or "", title, detail, problem_type)


def _clock_hint(headers: Mapping[str, str]) -> str | None:
    """The clock hint, with how far off this computer is, when ``Date`` shows it is off.

    None when the answer has no readable ``Date`` or it is within `MAX_CLOCK_SKEW` of the
    local clock (the few seconds an answer takes, and ``Date``'s whole seconds, fit easily).
    """
    raw = next((v for k, v in headers.items() if str(k).lower() == "date"), None)
    if not isinstance(raw, str):
        return None
    try:
        server = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if server.tzinfo is None:
        # RFC 9110's "-0000": the time is UTC, the zone unknown.
        server = server.replace(tzinfo=timezone.utc)
    skew = (server - datetime.now(timezone.utc)).total_seconds()
    if abs(skew) <= MAX_CLOCK_SKEW:
        return None
    side = "behind" if skew > 0 else "ahead of"
    return (
        f"this computer's clock is {_duration(abs(skew))} {side} Twitter's, by the Date of"
        f" its answer; {_SYNC_CLOCK}"
    )


def _duration(seconds: float) -> str:
    """A rough, readable length of time: ``"45 seconds"``, ``"12 minutes"``, ``"3 hours"``."""
    if seconds < 120:
        return f"{round(seconds)} seconds"
    if seconds < 2 * 3600:
        return f"{round(seconds / 60)} minutes"
    if seconds < 2 * 86400:
        return f"{round(seconds / 3600)} hours"
    return f"{round(seconds / 86400)} days"


def _first_text(data: Mapping[str, Any], *keys: str) -> str:
    """The first of ``keys`` whose value is a non-empty string, quoted; else ``""``."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value.strip():
            return _quoted(value.strip())
    return ""


def _quoted(text: str) -> str:
    """Text of the server's, safe to show: cut to `MAX_QUOTED` characters, then escaped."""
    cut = text[:MAX_QUOTED] + ("..." if len(text) > MAX_QUOTED else "")
    return printable(cut)


def _rate_limit_reset(headers: Mapping[str, str]) -> tuple[datetime | None, float | None]:
    """When the limit resets and how long until then, or (None, None) if not believable.

    ``x-rate-limit-reset`` is whole seconds since the epoch. A value that is not an
    integer, or lies more than `MAX_RESET_DISTANCE` (two days) from now — 1e20, the year
    33658, before 1970 — is a broken header, not a reason to wait for ever: both are None.
    """
    raw = headers.get("x-rate-limit-reset") or headers.get("X-Rate-Limit-Reset")
    text = str(raw).strip()
    if not _EPOCH.fullmatch(text):
        return None, None
    epoch = int(text)
    now = time.time()
    if abs(epoch - now) > MAX_RESET_DISTANCE:
        return None, None
    reset_at = datetime.fromtimestamp(epoch, tz=timezone.utc)
    return reset_at, max(0.0, epoch - now)


def _answer_error(answer: Answer, what: str) -> TwitterAPIError:
    return twitter_error(answer.status, answer.text, answer.headers, what)


def call(client: Twython, what: str, func: Callable[[], T]) -> T:
    """Run one twython API call and translate whatever goes wrong into our error tree.

    Raises:
        CredentialsRejectedError: Twitter answered 401.
        RateLimitError: Twitter answered 429.
        TwitterAPIError: any other error answer, or a success that is not JSON.
        TwitterConnectionError: the network failed or timed out.
    """
    from twcreds import _twython

    return _twython.call(client, what, func, _answer_error)


def _require_client(target: object, what: str) -> None:
    from twython import Twython

    if not isinstance(target, Twython):
        kind = type(target).__name__
        msg = f"{what} needs a client, not {kind}: build one with make_client(account)"
        raise TypeError(msg)


def _account_of(client: Twython) -> Account:
    try:
        return Account(
            consumer_key=client.app_key,
            consumer_secret=client.app_secret,
            access_token=client.oauth_token,
            access_token_secret=client.oauth_token_secret,
        )
    except CredentialsError:
        msg = "verify_account: the client does not carry a full set of OAuth 1.0a user credentials"
        raise CredentialsError(msg) from None


def verify_account(
    target: AnyAccount | Twython, *, api_base: str | None = None, timeout: float = 30.0
) -> AnyAccount:
    """Ask X who the credentials belong to (``GET /2/users/me``).

    Args:
        target: an account of either kind, or a client built by twcreds.
        api_base: where to send the call when ``target`` is an account (default
            ``TWCREDS_API_BASE``, else Twitter); a client keeps its own.
        timeout: seconds per connect and per read (not a deadline for the whole call)
            when ``target`` is an account; a client keeps its own.

    Returns:
        The account with ``screen_name`` and ``user_id`` as X reports them, of the kind
        given: an `OAuth2Account` for an OAuth 2.0 account or client, with the client's
        current tokens (renewed, if the call needed a refresh: keep the returned account).

    Raises:
        CredentialsRejectedError: X answered 401 (wrong or revoked values, clock off), or
            refused an OAuth 2.0 refresh.
        RateLimitError: X answered 429; ``reset_at`` and ``retry_after`` are None
            when ``x-rate-limit-reset`` is missing, not an integer, or more than two days
            from now (a broken header, not a reason to wait for ever).
        TwitterAPIError: any other error answer, or one that cannot be read (JSON nested
            too deeply, a message that is not a string); what it quotes of the answer is
            escaped with `twcreds.errors.printable`.
        TwitterConnectionError: the network failed or timed out.
        CredentialsError: ``target`` is an app-only `BearerToken` (or its client), which
            acts for no user.
        TypeError: ``target`` is neither an account nor a client.
    """
    from twcreds._twython import AppOnlyClient, OAuth2Client
    from twcreds.clients import make_client

    account: AnyAccount
    if isinstance(target, BearerToken):
        target = make_client(target, api_base=api_base, timeout=timeout)
    if isinstance(target, Account | OAuth2Account):
        # A refresh made for this one call is handed back in the result, not warned about.
        with make_client(target, api_base=api_base, timeout=timeout, on_refresh=_keep) as client:
            data = _users_me(client, target.label)
            account = client.tokens.account if isinstance(client, OAuth2Client) else target
    else:
        _require_client(target, "verify_account")
        if isinstance(target, OAuth2Client):
            data = _users_me(target, target.tokens.account.label)
            account = target.tokens.account
        else:
            if isinstance(target, AppOnlyClient):
                msg = (
                    "verify_account: an app-only bearer token acts for no user, so there is"
                    " no account to verify; verify an account (OAuth 1.0a or 2.0) instead"
                )
                raise CredentialsError(msg)
            account = _account_of(target)
            data = _users_me(target, account.label)
    fields = account.model_dump(mode="json")
    fields.update(screen_name=data.get("username"), user_id=data.get("id"))
    try:
        return type(account).model_validate(fields)
    except CredentialsError as exc:
        why = _quoted(str(exc))
    # Raised outside the handler: nothing of the answer rides along as __context__.
    msg = f"verify {account.label}: Twitter's answer does not fit these credentials ({why})"
    raise TwitterAPIError(msg, status=200) from None


def _keep(account: OAuth2Account) -> None:
    """An ``on_refresh`` for a client whose renewed account the caller gets back anyway."""


def _users_me(client: Twython, label: str) -> dict[str, Any]:
    what = f"verify {label}"
    from twcreds._twython import USERS_ME

    answer = call(client, what, lambda: client.request(USERS_ME))
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or "id" not in data:
        raise TwitterAPIError(f"{what}: Twitter's answer has no user data", status=200)
    return data


HINT_APP_ONLY = (
    "an app-only bearer token cannot post; use an account: make_client(account) with an"
    " OAuth 1.0a Account or an OAuth 2.0 OAuth2Account (`twcreds authorize`)"
)


def refuse_app_only(client: Twython, what: str) -> None:
    """Refuse, before any request, an app-only client where a user's credentials are needed.

    Raises:
        CredentialsError: ``client`` was built from a `BearerToken`.
    """
    from twcreds._twython import AppOnlyClient

    if isinstance(client, AppOnlyClient):
        raise CredentialsError(f"{what}: {HINT_APP_ONLY}")


def require_scopes(client: Twython, needed: tuple[str, ...], what: str) -> None:
    """Refuse, before any request, an OAuth 2.0 client whose token lacks ``needed`` scopes.

    Raises:
        CredentialsError: a scope is missing (only when the account records its scopes).
    """
    from twcreds._twython import OAuth2Client

    if not isinstance(client, OAuth2Client):
        return
    account = client.tokens.account
    missing = account.missing_scopes(needed)
    if missing:
        msg = (
            f"{what}: {account.label}'s OAuth 2.0 token lacks the {', '.join(missing)}"
            f" scope{'s' if len(missing) > 1 else ''}; authorize it again with them:"
            " `twcreds authorize --oauth2 APP` asks for every scope a posting bot needs"
        )
        raise CredentialsError(msg)


def post_tweet(client: Twython, text: str) -> dict[str, Any]:
    """Post a tweet with ``POST /2/tweets`` (a JSON body), which every API tier serves.

    Returns:
        Twitter's ``data`` object: ``{"id": ..., "text": ...}``.

    Raises:
        CredentialsRejectedError: Twitter answered 401.
        RateLimitError: Twitter answered 429 (see `verify_account` for ``reset_at``).
        TwitterAPIError: any other error answer (403 for a read-only token, with its hint),
            or one that cannot be read; what it quotes of the answer is escaped.
        TwitterConnectionError: the network failed or timed out.
        CredentialsError: an app-only client (from a `BearerToken`), or an OAuth 2.0
            client whose token lacks a posting scope (``tweet.read``, ``tweet.write``,
            ``users.read``), refused before any request.
        TypeError: ``client`` is not a client (an `Account`, say).
    """
    from twcreds._twython import TWEETS

    _require_client(client, "post_tweet")
    refuse_app_only(client, "post tweet")
    require_scopes(client, ("tweet.read", "tweet.write", "users.read"), "post tweet")
    answer = call(
        client,
        "post tweet",
        lambda: client.request(TWEETS, method="POST", params={"text": text}, json_encoded=True),
    )
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or "id" not in data:
        raise TwitterAPIError("post tweet: Twitter's answer has no tweet data", status=200)
    return data
