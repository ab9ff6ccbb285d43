"""The PIN flow: authorize an app to act for another account, as the guide does by hand.

Step 1, :func:`start_authorization`, asks Twitter for a request token (``oauth_callback=oob``)
and returns the URL to open. The person signs in as the account, clicks "Authorize app" and
reads a PIN. Step 2, :func:`complete_authorization`, trades the PIN for the account's access
token. :class:`~twcreds.models.PendingAuthorization` round-trips through JSON, so the two
steps can run in different processes. :func:`authorize` is the interactive whole.

Every failure of the flow is an `AuthorizationError` saying which step failed and why
(a network failure or timeout is a `TwitterConnectionError`), whatever Twitter — or
whatever answers in its place — sends back. Each is raised outside any ``except`` block,
so no exception that quotes the answer (and the token's secret in it) is chained to it.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from twcreds.errors import AuthorizationError, CredentialsError
from twcreds.models import Account, App, PendingAuthorization

if TYPE_CHECKING:
    from twcreds._twython import Client, FlowFailure

__all__ = ["authorize", "complete_authorization", "start_authorization"]

STEP1 = "authorization step 1 of 2 (request token)"
STEP2 = "authorization step 2 of 2 (PIN for access token)"
#: Twitter's PINs are seven digits; an int loses its leading zeros, so they are put back.
PIN_DIGITS = 7
_CONSOLE_BROWSERS = {"www-browser", "links", "elinks", "lynx", "w3m"}
#: Twitter's rule for screen names. What step 2 returns names files (the rescue file), so
#: anything else (``/../../../x``) is refused, not trusted.
_SCREEN_NAME = re.compile(r"[A-Za-z0-9_]{1,15}")
#: User ids are 64-bit integers: at most 20 ASCII digits.
_USER_ID = re.compile(r"[0-9]{1,20}")


def _client(
    app: App, token: str | None, secret: str | None, api_base: str | None, timeout: float
) -> Client:
    from twcreds._twython import Client, check_timeout, resolve_api_base

    return Client(
        app.consumer_key,
        app.consumer_secret.get_secret_value(),
        token,
        secret,
        api_base=resolve_api_base(api_base),
        # Checked here, not by requests in mid-flow, where its ValueError would pass for an
        # unreadable answer.
        timeout=check_timeout(timeout),
    )


def _step1_error(failure: FlowFailure) -> AuthorizationError:
    if failure.kind == "rejected":
        msg = (
            f"{STEP1}: Twitter rejected the consumer key or secret (401); copy both again"
            " from the developer portal's Keys and tokens page"
        )
    elif failure.kind == "no_token":
        msg = f"{STEP1}: Twitter's answer has no request token; try again later"
    elif failure.kind == "unreadable":
        msg = (
            f"{STEP1}: Twitter's answer could not be read (garbled, or not UTF-8); try again later"
        )
    else:
        msg = _unexpected(STEP1, failure.status)
    return AuthorizationError(msg)


def _step2_error(failure: FlowFailure) -> AuthorizationError:
    if failure.status == 401:
        msg = (
            f"{STEP2}: Twitter rejected the PIN (401): it is wrong, was already used,"
            " or expired (PINs last a few minutes), or this pending authorization"
            " belongs to another app; start again with a new URL"
        )
        return AuthorizationError(msg)
    if failure.kind == "unreadable":
        msg = (
            f"{STEP2}: Twitter's answer could not be read (garbled, or not UTF-8); the PIN may be"
            " spent: start again with a new URL"
        )
        return AuthorizationError(msg)
    return AuthorizationError(_unexpected(STEP2, failure.status))


def start_authorization(
    app: App | Account,
    *,
    api_base: str | None = None,
    force_login: bool = False,
    screen_name: str | None = None,
    timeout: float = 30.0,
) -> PendingAuthorization:
    """Step 1: get a request token and the URL where the account's owner approves the app.

    Args:
        app: the app (or any account of it: its consumer half is used).
        api_base: where to send the request (default ``TWCREDS_API_BASE``, else Twitter).
        force_login: make Twitter ask for the password even if someone is signed in, so the
            right account gets authorized.
        screen_name: pre-fill Twitter's sign-in form with this account.
        timeout: seconds per connect and per read (not a deadline for the whole call).

    Raises:
        AuthorizationError: Twitter rejected the consumer key or secret, or did not
            confirm the ``oob`` callback, or answered something unexpected or unreadable.
        TwitterConnectionError: the network failed or timed out.
        TypeError: ``app`` is neither an `App` nor an `Account`, or ``timeout`` is not a
            number.
        ValueError: ``timeout`` is not positive and finite.
    """
    from twcreds._twython import TWITTER_API, flow_call

    if isinstance(app, Account):
        app = app.app
    if not isinstance(app, App):
        msg = f"start_authorization needs an App or Account, not {type(app).__name__}"
        raise TypeError(msg)
    with _client(app, None, None, api_base, timeout) as client:
        tokens = flow_call(
            client,
            STEP1,
            lambda: client.get_authentication_tokens(callback_url="oob"),
            _step1_error,
        )
        if tokens.get("oauth_callback_confirmed") != "true":
            raise AuthorizationError(_not_confirmed())
        base = client.api_base
        params: dict[str, str] = {"oauth_token": tokens["oauth_token"]}
        if force_login:
            params["force_login"] = "true"
        if screen_name:
            params["screen_name"] = screen_name.strip().removeprefix("@")
        try:
            return PendingAuthorization(
                auth_url=f"{client.authenticate_url}?{urlencode(params)}",
                oauth_token=tokens["oauth_token"],
                oauth_token_secret=tokens.get("oauth_token_secret", ""),
                app=app,
                api_base=None if base == TWITTER_API else base,
            )
        except CredentialsError:
            pass
    msg = f"{STEP1}: Twitter's answer has an empty or malformed request token"
    raise AuthorizationError(msg) from None


def _not_confirmed() -> str:
    return (
        f"{STEP1}: Twitter did not confirm the PIN callback (oauth_callback=oob); in the"
        " developer portal, make the app a native/desktop app or allow the 'oob' callback"
    )


def _unexpected(step: str, status: int | None) -> str:
    if status:
        return f"{step}: Twitter answered {status}; check the app's settings and try again"
    return f"{step}: Twitter's answer could not be read; try again later"


def normalize_pin(pin: str | int) -> str:
    """The PIN as Twitter expects it: stripped digits, leading zeros kept.

    An ``int`` has at most Twitter's 7 digits (a longer PIN, should Twitter ever issue
    one, can be given as a string).

    Raises:
        AuthorizationError: the PIN is empty or not made of digits, or an ``int`` that is
            negative or longer than 7 digits.
    """
    if isinstance(pin, bool) or not isinstance(pin, (str, int)):
        raise AuthorizationError(f"{STEP2}: the PIN must be a string or an int")
    if isinstance(pin, int):
        if pin < 0:
            raise AuthorizationError(f"{STEP2}: the PIN cannot be negative")
        # Compared, not formatted: str() of a 5,000-digit int is a ValueError.
        if pin >= 10**PIN_DIGITS:
            msg = (
                f"{STEP2}: Twitter's PINs have {PIN_DIGITS} digits, this int has more;"
                " type the number Twitter shows (as a string if it really is longer)"
            )
            raise AuthorizationError(msg)
        return f"{pin:0{PIN_DIGITS}d}"
    text = pin.strip().replace(" ", "")
    if not text:
        raise AuthorizationError(f"{STEP2}: the PIN is empty; type the digits Twitter shows")
    if not (text.isascii() and text.isdigit()):
        msg = f"{STEP2}: the PIN must be digits only; type the number Twitter shows"
        raise AuthorizationError(msg)
    return text


def complete_authorization(
    pending: PendingAuthorization, pin: str | int, *, timeout: float = 30.0
) -> Account:
    """Step 2: trade the PIN for the account's access token and secret.

    Args:
        pending: what :func:`start_authorization` returned (perhaps in another process).
        pin: the PIN Twitter showed; an ``int`` gets its leading zeros back.
        timeout: seconds per connect and per read (not a deadline for the whole call).

    Returns:
        The new account, with ``screen_name`` and ``user_id`` filled in.

    Raises:
        AuthorizationError: the PIN is malformed, wrong, already used or expired, or the
            pending state belongs to another app; or Twitter's answer is unreadable, or
            names a screen name Twitter cannot have (``[A-Za-z0-9_]{1,15}``) or a user id
            that is not digits.
        TwitterConnectionError: the network failed or timed out.
        TypeError: ``timeout`` is not a number.
        ValueError: ``timeout`` is not positive and finite.
    """
    from twcreds._twython import flow_call

    verifier = normalize_pin(pin)
    secret = pending.oauth_token_secret.get_secret_value()
    with _client(pending.app, pending.oauth_token, secret, pending.api_base, timeout) as client:
        tokens = flow_call(
            client, STEP2, lambda: client.get_authorized_tokens(verifier), _step2_error
        )
    if not isinstance(tokens, dict) or "oauth_token" not in tokens:
        raise AuthorizationError(f"{STEP2}: Twitter's answer has no access token; start again")
    problem = _identity_problem(tokens.get("screen_name"), tokens.get("user_id"))
    if problem is not None:
        raise AuthorizationError(f"{STEP2}: Twitter's answer {problem}; start again")
    try:
        return Account(
            consumer_key=pending.app.consumer_key,
            consumer_secret=pending.app.consumer_secret,
            access_token=tokens.get("oauth_token"),
            access_token_secret=tokens.get("oauth_token_secret"),
            screen_name=tokens.get("screen_name"),
            user_id=tokens.get("user_id"),
        )
    except CredentialsError:
        pass
    # Raised outside the handler: the models' error must not carry the new secret along.
    msg = f"{STEP2}: Twitter's answer holds an empty or malformed access token; start again"
    raise AuthorizationError(msg) from None


def _identity_problem(screen_name: object, user_id: object) -> str | None:
    """What is wrong with the screen name and user id step 2 returned, or None.

    Either may be absent; present, each must be what Twitter issues. The value is not
    quoted: it came from the answer and may be anything.
    """
    if screen_name is not None and not (
        isinstance(screen_name, str) and _SCREEN_NAME.fullmatch(screen_name)
    ):
        return "names a screen name Twitter cannot have (1 to 15 letters, digits or underscores)"
    if user_id is not None and not (isinstance(user_id, str) and _USER_ID.fullmatch(user_id)):
        return "names a user id that is not a Twitter user id (1 to 20 ASCII digits)"
    return None


def browser_usable() -> bool:
    """Whether a graphical browser can be opened here (not over SSH, not on a bare server)."""
    if os.environ.get("SSH_CONNECTION") or os.environ.get("CI"):
        return False
    if sys.platform.startswith("linux") and not (
        os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")
    ):
        return False
    import webbrowser  # lazy: it pulls in subprocess and shlex

    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    # BROWSER=/usr/bin/w3m or BROWSER="lynx -dump" name a console browser by path or with
    # arguments; one would take over the terminal that is waiting at the PIN prompt.
    name = str(getattr(browser, "name", "") or "")
    words = name.split()
    return not words or os.path.basename(words[0]) not in _CONSOLE_BROWSERS


def authorize(
    app: App | Account,
    *,
    api_base: str | None = None,
    open_browser: bool | None = None,
    prompt: Callable[[str], str] = input,
    echo: Callable[[str], Any] = print,
    force_login: bool = False,
    screen_name: str | None = None,
    attempts: int = 3,
    timeout: float = 30.0,
) -> Account:
    """The whole PIN flow, interactively: show the URL, open a browser, ask for the PIN.

    Args:
        app: the app to authorize (or any account of it).
        api_base: where to send the requests (default ``TWCREDS_API_BASE``, else Twitter).
        open_browser: True to open the URL, False never; None opens it where a graphical
            browser is usable. The URL is always shown.
        prompt: asks the person for the PIN (``input`` by default).
        echo: shows a line to the person (``print`` by default).
        force_login: ask Twitter to sign in afresh, to authorize the right account.
        screen_name: pre-fill Twitter's sign-in form.
        attempts: how often to ask again for a PIN that is empty or not digits.
        timeout: seconds per connect and per read, for each of the two requests (not a
            deadline for a whole step, and the time spent at the PIN prompt is not counted).

    Raises:
        AuthorizationError: a step of the flow failed.
        TwitterConnectionError: the network failed or timed out.
        TypeError: ``timeout`` is not a number.
        ValueError: ``attempts`` is below 1, or ``timeout`` is not positive and finite.
    """
    from twcreds._twython import check_timeout

    if attempts < 1:
        raise ValueError(f"attempts must be at least 1, not {attempts}")
    check_timeout(timeout)  # before step 1: a bad value must not cost a request token
    pending = start_authorization(
        app, api_base=api_base, force_login=force_login, screen_name=screen_name, timeout=timeout
    )
    echo("Open this URL, sign in as the account to authorize, and click 'Authorize app':")
    echo(f"  {pending.auth_url}")
    if open_browser or (open_browser is None and browser_usable()):
        import webbrowser

        try:
            webbrowser.open(pending.auth_url)
        except webbrowser.Error:
            echo("(could not open a browser; open the URL yourself)")
    for attempt in range(1, attempts + 1):
        answer = prompt("PIN: ")
        try:
            verifier = normalize_pin(answer)
        except AuthorizationError as exc:
            if attempt == attempts:
                raise
            echo(str(exc).split(": ", 1)[-1])
            continue
        return complete_authorization(pending, verifier, timeout=timeout)
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover
