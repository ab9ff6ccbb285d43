"""Using the credentials: who am I (``GET /2/users/me``), post (``POST /2/tweets``), media.

Media goes up through X's v2 endpoints (`upload_media`): one request for an image, or
``initialize`` / ``append`` / ``finalize`` in chunks for a GIF or a video, then the status
until X has processed it. What can be checked without a request is checked first (the
media's type and size, the post's length as X counts it, the client's kind and scopes), so
a post that X would refuse costs no billed call.

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
import math
import os
import re
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, TypeVar

from twcreds.errors import (
    CredentialsError,
    CredentialsRejectedError,
    CreditsDepletedError,
    RateLimitError,
    TwitterAPIError,
    printable,
)
from twcreds.models import Account, AnyAccount, BearerToken, OAuth2Account

if TYPE_CHECKING:
    from twython import Twython

    from twcreds._twython import Answer
    from twcreds.media import MediaItem

__all__ = ["MAX_POST_LENGTH", "post_tweet", "upload_media", "verify_account"]

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
HINTS_RATE: dict[str, str] = {
    "15min": HINT_RATE,
    "24h-user": (
        "this account has used its 24-hour allowance for this endpoint; wait until it"
        " resets (retrying sooner only earns more 429s)"
    ),
    "24h-app": (
        "the app has used its 24-hour allowance for this endpoint, for all its accounts;"
        " wait until it resets, or raise the app's cap in the developer console"
    ),
}
HINT_CREDITS = (
    "the app's pay-per-use credit balance is spent, so X did nothing: add credits in the"
    " developer console (Billing), or wait for the next billing cycle; each post and each"
    " GET /2/users/me costs credits, so `twcreds check` reuses recent answers"
)
HINT_UNSUPPORTED_AUTH = (
    "X does not take this kind of credential here: posting, media uploads and"
    " GET /2/users/me act for a user, so they want an account's credentials (OAuth 1.0a,"
    " or OAuth 2.0 user context), never an app-only bearer token; build the client with"
    " make_client(account)"
)
HINT_NOT_ENROLLED = (
    "the app is not enrolled for this endpoint: in the developer console, attach the app"
    " to a Project with API access (the pay-per-use package), then use that app's keys and"
    " tokens (regenerate them if the app was moved)"
)
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
    problem_type = parsed.type or ""
    if status == 403 and problem_type.endswith("oauth1-permissions"):
        hint = HINT_WRITE
    elif status == 403 and problem_type.endswith("unsupported-authentication"):
        hint = HINT_UNSUPPORTED_AUTH
    elif status == 403 and (
        parsed.reason == "client-not-enrolled" or problem_type.endswith("client-forbidden")
    ):
        hint = HINT_NOT_ENROLLED
    message = f"{what}: Twitter answered {status}"
    if code is not None:
        message += f" (code {code})"
    if parsed.message:
        message += f": {parsed.message}"
    problem: dict[str, Any] = {"title": parsed.title, "detail": parsed.detail, "type": parsed.type}
    if status == 402:
        return CreditsDepletedError(message, status=402, code=code, hint=HINT_CREDITS, **problem)
    if status == 429:
        window, reset_at, retry_after = _exhausted_window(headers)
        if reset_at is not None:
            limit = {"15min": "the limit", "24h-user": "the account's 24-hour limit"}.get(
                window, "the app's 24-hour limit"
            )
            message += f"; {limit} resets at {reset_at:%Y-%m-%d %H:%M:%S} UTC"
            if retry_after is not None:
                message += f" (in {_duration(retry_after)})"
        return RateLimitError(
            message,
            code=code,
            hint=HINTS_RATE[window],
            reset_at=reset_at,
            retry_after=retry_after,
            window=window,
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
    reason: str | None = None


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
    reason = _first_text(data, "reason") or None
    errors = data.get("errors")
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        first = errors[0]
        code = first.get("code")
        plausible = isinstance(code, int) and not isinstance(code, bool) and 0 <= code < 10**6
        message = _first_text(first, "message", "detail") or detail or title or ""
        return _ErrorBody(code if plausible else None, message, title, detail, problem_type, reason)
    return _ErrorBody(None, detail or title or "", title, detail, problem_type, reason)


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


#: The windows a 429 may come from, each with its headers' prefix; the 24-hour caps first.
_WINDOWS = (
    ("24h-user", "x-user-limit-24hour-"),
    ("24h-app", "x-app-limit-24hour-"),
    ("15min", "x-rate-limit-"),
)


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """A header's value, whatever the case of its name as sent."""
    value = headers.get(name)
    if value is None:
        value = next((v for k, v in headers.items() if str(k).lower() == name), None)
    return None if value is None else str(value)


def _exhausted_window(
    headers: Mapping[str, str],
) -> tuple[str, datetime | None, float | None]:
    """Which limit a 429 comes from, when it resets, and how long until then.

    A window whose ``remaining`` is 0 is exhausted; when several are, the one that resets
    last is the one to wait for. A 24-hour window's reset is the real one: the 15-minute
    ``x-rate-limit-reset`` would send a bot back hours too early. With no window reporting
    0 left, the 15-minute window's headers are all there is.
    """
    exhausted: list[tuple[float, str, datetime, float]] = []
    for window, prefix in _WINDOWS:
        if (_header(headers, prefix + "remaining") or "").strip() != "0":
            continue
        reset_at, retry_after = _rate_limit_reset(headers, prefix + "reset")
        if reset_at is not None and retry_after is not None:
            exhausted.append((reset_at.timestamp(), window, reset_at, retry_after))
    if exhausted:
        _, window, reset_at, retry_after = max(exhausted)
        return window, reset_at, retry_after
    reset, after = _rate_limit_reset(headers, "x-rate-limit-reset")
    return "15min", reset, after


def _rate_limit_reset(
    headers: Mapping[str, str], name: str = "x-rate-limit-reset"
) -> tuple[datetime | None, float | None]:
    """When the limit resets and how long until then, or (None, None) if not believable.

    A reset header is whole seconds since the epoch. A value that is not an integer, or
    lies more than `MAX_RESET_DISTANCE` (two days) from now — 1e20, the year 33658, before
    1970 — is a broken header, not a reason to wait for ever: both are None.
    """
    raw = _header(headers, name)
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
        current tokens. Given a bare `OAuth2Account` whose token is due, the refresh
        happens in memory and warns (`UserWarning`) that the account's source now holds a
        spent refresh token: keep the returned account, or verify a client from
        `load_client` / `load_clients`, which writes a refresh back to its file.

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
        # A refresh made for this one call is handed back in the result; it warns too, for
        # wherever the account came from now holds a spent refresh token.
        with make_client(target, api_base=api_base, timeout=timeout) as client:
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


#: X's limit for a post's text, in weighted characters (twitter-text's counting).
MAX_POST_LENGTH = 280
#: The longest twcreds waits in all for X to process one video or GIF.
MAX_PROCESSING_WAIT = 15 * 60.0
#: The longest single pause between two status calls, whatever X's check_after_secs says.
_MAX_CHECK_AFTER = 60.0
_POST_SCOPES = ("tweet.read", "tweet.write", "users.read")
_MEDIA_SCOPES = ("media.write",)
_POST_ID = re.compile(r"[0-9]{1,19}")

MediaSource = str | os.PathLike[str] | bytes | bytearray | memoryview


def check_post_length(text: str, what: str = "post tweet") -> None:
    """Refuse a text longer than X takes, counted as X counts (before a billed request).

    twitter-text's weighting, version 3: most characters count 1, CJK ideographs, Hangul,
    kana and emoji (a whole emoji sequence, skin tone and joiners included) count 2, and
    every URL counts 23 whatever its length.

    Raises:
        CredentialsError: the text is over `MAX_POST_LENGTH`.
        TypeError: ``text`` is not a string.
    """
    if not isinstance(text, str):
        msg = f"{what}: the text must be a string, not {type(text).__name__}"
        raise TypeError(msg)
    if len(text) <= MAX_POST_LENGTH // 2:
        return  # even at weight 2 a character, it fits: spare the parser
    from twitter_text import parse_tweet  # lazy: it compiles large regexes on import

    weighted = int(parse_tweet(text).weightedLength)
    if weighted > MAX_POST_LENGTH:
        msg = (
            f"{what}: the text is {weighted} characters as X counts them (URLs as 23, CJK"
            f" and emoji as 2), over X's limit of {MAX_POST_LENGTH}; shorten it by"
            f" {weighted - MAX_POST_LENGTH}, or split it into a thread (reply_to=)"
        )
        raise CredentialsError(msg)


def upload_media(
    client: Twython,
    media: MediaSource,
    *,
    media_type: str | None = None,
    category: str | None = None,
) -> str:
    """Upload one image, GIF or video with X's v2 media endpoints; return its media id.

    An image goes up in one ``POST /2/media/upload``; a GIF or a video in chunks of at
    most 4 MiB (``initialize``, ``append``..., ``finalize``), after which X's processing is
    awaited, pausing as X's ``check_after_secs`` asks. A file is streamed, one chunk in
    memory at a time, however large. Works with OAuth 1.0a clients and OAuth 2.0 clients
    holding the ``media.write`` scope.

    Args:
        client: a client built by twcreds (`make_client`, `load_client`).
        media: a path, or the content as bytes.
        media_type: its MIME type (``image/png``, ``video/mp4``, ...); None sniffs it from
            the first bytes (PNG, JPEG, GIF, WebP, MP4).
        category: X's media category; None takes ``tweet_image``, ``tweet_gif`` or
            ``tweet_video`` by type (``dm_*`` for direct messages).

    Returns:
        The media id, for ``post_tweet(..., media=...)`` or X's ``media_ids``.

    Raises:
        CredentialsError: before any request: an app-only client, an OAuth 2.0 token
            without ``media.write``, a file that cannot be read, a type X does not take,
            or media over X's limit for its kind (image 5 MB, GIF 15 MB, video 512 MB).
        TwitterAPIError: X refused the upload, or could not process the media (its
            reason in the message and ``.detail``); `CredentialsRejectedError` (401),
            `RateLimitError` (429) as for every call.
        TwitterConnectionError: the network failed or timed out.
        TypeError: ``client`` is not a client, or ``media`` neither a path nor bytes.
    """
    from twcreds.media import prepare_media

    _require_client(client, "upload_media")
    refuse_app_only(client, "upload media")
    require_scopes(client, _MEDIA_SCOPES, "upload media")
    item = prepare_media(media, media_type=media_type, category=category)
    return _upload(client, item)


def post_tweet(
    client: Twython,
    text: str,
    *,
    media: MediaSource | Sequence[MediaSource] = (),
    reply_to: str | None = None,
) -> dict[str, Any]:
    """Post with ``POST /2/tweets`` (a JSON body), with media and as a reply if asked.

    Everything that can be checked without X is checked before the first request: the
    text's length as X counts it, each media item's type and size, that the media fit in
    one post (up to four images, or one GIF, or one video), the client's kind and its
    OAuth 2.0 scopes. Then the media are uploaded (see `upload_media`) and the post sent.

    Args:
        client: a client built by twcreds.
        text: the post's text: at most 280 characters as X counts them (URLs as 23, CJK
            and emoji as 2).
        media: paths or bytes of up to four images, or of one GIF or one video (one
            path, or one bytes, bytearray or memoryview, alone is taken as a list of one).
        reply_to: the id of the post this one answers, for a thread.

    Returns:
        Twitter's ``data`` object: ``{"id": ..., "text": ...}``.

    Raises:
        CredentialsError: refused before any request: an app-only client (from a
            `BearerToken`); an OAuth 2.0 token lacking a posting scope (``tweet.read``,
            ``tweet.write``, ``users.read``, and ``media.write`` with media); a text over
            280; media X would refuse; a ``reply_to`` that is not a post id.
        CreditsDepletedError: X answered 402: the app's credits are spent.
        CredentialsRejectedError: Twitter answered 401.
        RateLimitError: Twitter answered 429; ``.window`` says which limit (the 24-hour
            caps included) and ``reset_at`` when it resets.
        TwitterAPIError: any other error answer (403 for a read-only token, for the wrong
            kind of credential, or an app not enrolled, each with its hint), or one that
            cannot be read; what it quotes of the answer is escaped.
        TwitterConnectionError: the network failed or timed out.
        TypeError: ``client`` is not a client (an `Account`, say).
    """
    from twcreds._twython import TWEETS
    from twcreds.media import check_post_media, prepare_media

    _require_client(client, "post_tweet")
    refuse_app_only(client, "post tweet")
    # One path or bytes-like object alone is one item: a bytearray iterated would be ints.
    items: Sequence[MediaSource] = (
        [media] if isinstance(media, str | bytes | bytearray | memoryview | os.PathLike) else media
    )
    require_scopes(client, _POST_SCOPES + (_MEDIA_SCOPES if items else ()), "post tweet")
    check_post_length(text)
    payload: dict[str, Any] = {"text": text}
    if reply_to is not None:
        if not isinstance(reply_to, str | int) or not _POST_ID.fullmatch(str(reply_to)):
            msg = "post tweet: reply_to must be the id of a post (its digits, as a string)"
            raise CredentialsError(msg)
        payload["reply"] = {"in_reply_to_tweet_id": str(reply_to)}
    prepared = [prepare_media(item, index=i) for i, item in enumerate(items)]
    check_post_media(prepared)
    if prepared:
        payload["media"] = {"media_ids": [_upload(client, item) for item in prepared]}
    answer = call(
        client,
        "post tweet",
        lambda: client.request(TWEETS, method="POST", params=payload, json_encoded=True),
    )
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or "id" not in data:
        raise TwitterAPIError("post tweet: Twitter's answer has no tweet data", status=200)
    return data


# --- media ----------------------------------------------------------------------------


def _upload(client: Twython, item: MediaItem) -> str:
    """Send one checked item (one shot, or in chunks), then await X's processing."""
    from twcreds._twython import MEDIA_UPLOAD

    what = f"upload {item.label}"
    with item.open() as stream:
        if not item.chunked:
            params: dict[str, Any] = {
                "media": next(item.pieces(stream, item.size)),
                "media_category": item.category,
                "media_type": item.media_type,
            }
            answer = call(
                client, what, lambda: client.request(MEDIA_UPLOAD, method="POST", params=params)
            )
            media_id = _media_id(answer, what)
        else:
            media_id, answer = _upload_chunks(client, item, stream, what)
    _await_processing(client, media_id, answer, what)
    return media_id


def _upload_chunks(client: Twython, item: MediaItem, stream: Any, what: str) -> tuple[str, Any]:
    from twcreds._twython import MEDIA_UPLOAD

    start = {
        "media_type": item.media_type,
        "total_bytes": item.size,
        "media_category": item.category,
    }
    answer = call(
        client,
        what,
        lambda: client.request(
            f"{MEDIA_UPLOAD}/initialize", method="POST", params=start, json_encoded=True
        ),
    )
    media_id = _media_id(answer, what)
    url = f"{MEDIA_UPLOAD}/{media_id}/append"
    for index, piece in enumerate(item.pieces(stream)):
        # A fresh dict per part: Twython moves file-like values out of it.
        part = {"media": piece, "segment_index": index}
        call(client, what, lambda part=part: client.request(url, method="POST", params=part))  # type: ignore[misc]
    answer = call(
        client, what, lambda: client.request(f"{MEDIA_UPLOAD}/{media_id}/finalize", method="POST")
    )
    return media_id, answer


def _media_id(answer: object, what: str) -> str:
    data = answer.get("data") if isinstance(answer, dict) else None
    media_id = data.get("id") if isinstance(data, dict) else None
    if isinstance(media_id, int) and not isinstance(media_id, bool):
        media_id = str(media_id)
    if not isinstance(media_id, str) or not _POST_ID.fullmatch(media_id):
        raise TwitterAPIError(f"{what}: X's answer holds no media id", status=200)
    return media_id


def _processing(answer: object) -> Mapping[str, Any] | None:
    data = answer.get("data") if isinstance(answer, dict) else None
    info = data.get("processing_info") if isinstance(data, dict) else None
    return info if isinstance(info, dict) else None


def _await_processing(client: Twython, media_id: str, answer: object, what: str) -> None:
    """Poll the status while X processes the media, pausing as it asks.

    Raises:
        TwitterAPIError: processing failed (X's reason quoted), X answered a state it never
            documented, or processing took longer than `MAX_PROCESSING_WAIT`.
    """
    from twcreds._twython import MEDIA_UPLOAD

    waited = 0.0
    status = {"command": "STATUS", "media_id": media_id}
    info = _processing(answer)
    while info is not None:
        state = info.get("state")
        if state == "succeeded":
            return
        if state == "failed":
            raise _processing_failure(info, what)
        if state not in ("pending", "in_progress"):
            shown = _quoted(str(state))
            msg = f"{what}: X reports the processing state {shown!r}, which twcreds does not know"
            raise TwitterAPIError(msg, status=200)
        pause = _check_after(info.get("check_after_secs"))
        if waited + pause > MAX_PROCESSING_WAIT:
            msg = (
                f"{what}: X was still processing it after {_duration(waited)}; the media id"
                f" {media_id} may still become usable: try posting with it later"
            )
            raise TwitterAPIError(msg, status=200)
        time.sleep(pause)
        waited += pause
        info = _processing(call(client, what, lambda: client.request(MEDIA_UPLOAD, params=status)))


def _check_after(value: object) -> float:
    """X's pause before the next status call, in seconds: 1 when absent or unreadable."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return min(max(float(value), 0.0), _MAX_CHECK_AFTER)
    return 1.0


def _processing_failure(info: Mapping[str, Any], what: str) -> TwitterAPIError:
    error = info.get("error")
    error = error if isinstance(error, dict) else {}
    reason = _first_text(error, "message", "name") or "no reason given"
    name = _first_text(error, "name") or None
    code = error.get("code")
    plausible = isinstance(code, int) and not isinstance(code, bool) and 0 <= code < 10**6
    return TwitterAPIError(
        f"{what}: X could not process it: {reason}",
        status=200,
        code=code if plausible else None,
        hint=(
            "X takes MP4 (H.264 video, AAC audio) and GIFs within its duration, size and"
            " frame-rate limits; convert the file (ffmpeg) and upload it again"
        ),
        title=name,
        detail=reason,
    )
