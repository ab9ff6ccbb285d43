"""Authorizing an app to act for an account: the PIN flow (OAuth 1.0a) and the PKCE flow
(OAuth 2.0).

The PIN flow, as the guide does it by hand:

Step 1, :func:`start_authorization`, asks Twitter for a request token (``oauth_callback=oob``)
and returns the URL to open. The person signs in as the account, clicks "Authorize app" and
reads a PIN. Step 2, :func:`complete_authorization`, trades the PIN for the account's access
token. :class:`~twcreds.models.PendingAuthorization` round-trips through JSON, so the two
steps can run in different processes. :func:`authorize` is the interactive whole.

Every failure of the flow is an `AuthorizationError` saying which step failed and why
(a network failure or timeout is a `TwitterConnectionError`), whatever Twitter — or
whatever answers in its place — sends back. Each is raised outside any ``except`` block,
so no exception that quotes the answer (and the token's secret in it) is chained to it.

The PKCE flow (X's recommended way to act for a user): :func:`start_oauth2_authorization`
builds the URL (an S256 code challenge and a random ``state``; no request is made),
the person approves, X redirects the browser to ``redirect_uri`` with a code, and
:func:`complete_oauth2_authorization` checks the ``state`` and trades the code (it lives
30 seconds) for a bearer token and a refresh token. :func:`authorize_oauth2` does both,
catching the redirect on a one-shot listener on 127.0.0.1, or asking for the redirected
URL to be pasted (``headless=True``) on a host without a browser.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from twcreds.errors import AuthorizationError, CredentialsError, TwcredsError
from twcreds.models import (
    POSTING_SCOPES,
    Account,
    App,
    OAuth2Account,
    OAuth2App,
    PendingAuthorization,
    PendingOAuth2Authorization,
)

if TYPE_CHECKING:
    from twcreds._twython import Client, FlowFailure

__all__ = [
    "DEFAULT_REDIRECT_URI",
    "authorize",
    "authorize_oauth2",
    "complete_authorization",
    "complete_oauth2_authorization",
    "start_authorization",
    "start_oauth2_authorization",
]

#: The redirect URI `authorize_oauth2` listens on. X matches callbacks exactly against
#: those registered for the app, so the port is fixed: register exactly this URI in the
#: app's "User authentication settings".
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8976/callback"
#: Where people approve an app with OAuth 2.0 when no ``api_base`` is given.
X_AUTHORIZE_URL = "https://x.com/i/oauth2/authorize"
OAUTH2_START = "OAuth 2.0 authorization (authorize URL)"
OAUTH2_STEP = "OAuth 2.0 authorization (code for token)"
#: How long `authorize_oauth2` waits for the browser to come back, by default.
REDIRECT_WAIT = 300.0

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
    show_url(pending.auth_url, echo, open_browser=open_browser)
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


# --- OAuth 2.0: authorization code with PKCE -----------------------------------------


def _scope_list(scopes: Iterable[str]) -> tuple[str, ...]:
    if isinstance(scopes, str):
        scopes = scopes.split()
    chosen = tuple(dict.fromkeys(scope.strip() for scope in scopes if scope.strip()))
    if not chosen:
        raise AuthorizationError(f"{OAUTH2_START}: no scopes asked for; use POSTING_SCOPES")
    return chosen


def _authorize_base(api_base: str | None) -> str:
    from twcreds._twython import TWITTER_API, resolve_api_base

    base = resolve_api_base(api_base)
    return X_AUTHORIZE_URL if base == TWITTER_API else f"{base}/i/oauth2/authorize"


def start_oauth2_authorization(
    app: OAuth2App | OAuth2Account,
    *,
    scopes: Iterable[str] = POSTING_SCOPES,
    redirect_uri: str | None = None,
    api_base: str | None = None,
) -> PendingOAuth2Authorization:
    """Step 1: the URL where the account's owner approves the app; no request is made.

    Args:
        app: the app's OAuth 2.0 client (or any account of it).
        scopes: what to ask for; `POSTING_SCOPES` covers posting with media and refreshing.
        redirect_uri: where X sends the browser back; default `DEFAULT_REDIRECT_URI`. It
            must be registered for the app exactly as given.
        api_base: where the authorize page is (default ``TWCREDS_API_BASE``, else
            ``https://x.com/i/oauth2/authorize``).

    Returns:
        The pending half: the URL to open, and the ``state`` and PKCE code verifier that
        step 2 needs. It round-trips through ``model_dump_json()``; keep it private.

    Raises:
        AuthorizationError: no scopes, or a redirect URI that is not an absolute URL.
        CredentialsError: ``api_base`` is not an http(s) URL.
        TypeError: ``app`` is not an `OAuth2App` or `OAuth2Account`.
    """
    # oauthlib (beneath twython already) makes the PKCE verifier and its S256 challenge.
    from oauthlib.oauth2 import WebApplicationClient  # type: ignore[import-untyped]

    if isinstance(app, OAuth2Account):
        app = app.app
    if not isinstance(app, OAuth2App):
        msg = f"start_oauth2_authorization needs an OAuth2App, not {type(app).__name__}"
        raise TypeError(msg)
    chosen = _scope_list(scopes)
    redirect = DEFAULT_REDIRECT_URI if redirect_uri is None else redirect_uri.strip()
    parts = urlsplit(redirect)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        msg = (
            f"{OAUTH2_START}: the redirect URI must be an absolute http(s) URL, such as"
            f" {DEFAULT_REDIRECT_URI}, registered for the app"
        )
        raise AuthorizationError(msg)
    base = _authorize_base(api_base)
    helper = WebApplicationClient(app.client_id)
    verifier = helper.create_code_verifier(64)
    state = secrets.token_urlsafe(24)
    query = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect,
        "scope": " ".join(chosen),
        "state": state,
        "code_challenge": helper.create_code_challenge(verifier, "S256"),
        "code_challenge_method": "S256",
    }
    from twcreds._twython import TWITTER_API, resolve_api_base

    api = resolve_api_base(api_base)
    return PendingOAuth2Authorization(
        auth_url=f"{base}?{urlencode(query)}",
        state=state,
        code_verifier=verifier,
        redirect_uri=redirect,
        scopes=chosen,
        app=app,
        api_base=None if api == TWITTER_API else api,
    )


#: What X (or the person) may say in ``error=``, in words.
_REDIRECT_ERRORS = {
    "access_denied": "the person cancelled, or did not authorize the app",
    "invalid_scope": "X does not offer a scope asked for",
    "invalid_request": "X refused the request (check the client id and the redirect URI"
    " registered for the app)",
    "unauthorized_client": "the app may not use this flow (check its type in the developer"
    " console)",
    "server_error": "X failed; try again",
    "temporarily_unavailable": "X is busy; try again",
}


def _redirect_code(pending: PendingOAuth2Authorization, redirect: str) -> str:
    """The code from the redirected URL, once its ``state`` has been checked."""
    if not isinstance(redirect, str) or not redirect.strip():
        raise AuthorizationError(f"{OAUTH2_STEP}: no redirected URL given; paste the whole URL")
    text = redirect.strip()
    query = urlsplit(text).query if "?" in text or "://" in text else text.lstrip("?")
    params = parse_qs(query, keep_blank_values=True)

    def one(name: str) -> str | None:
        values = params.get(name)
        return values[0] if values and len(values) == 1 else None

    error = one("error")
    state = one("state")
    if error is not None:
        why = _REDIRECT_ERRORS.get(error, "X refused the authorization")
        shown = error if re.fullmatch(r"[a-z_]{1,40}", error) else "an unknown error"
        raise AuthorizationError(f"{OAUTH2_STEP}: X sent back {shown}: {why}")
    if state is None or not secrets.compare_digest(state, pending.state):
        msg = (
            f"{OAUTH2_STEP}: the redirect's state does not match this authorization: it"
            " belongs to another attempt (or was forged); start again with a new URL"
        )
        raise AuthorizationError(msg)
    code = one("code")
    if not code:
        msg = f"{OAUTH2_STEP}: the redirected URL holds no code; paste the whole URL"
        raise AuthorizationError(msg)
    return code


def complete_oauth2_authorization(
    pending: PendingOAuth2Authorization, redirect: str, *, timeout: float = 30.0
) -> OAuth2Account:
    """Step 2: check the redirect's ``state``, trade its code for tokens, learn who it is.

    The code lives 30 seconds at X: call this as soon as the browser comes back.

    Args:
        pending: what :func:`start_oauth2_authorization` returned (perhaps elsewhere).
        redirect: the whole URL the browser was sent back to (or just its query).
        timeout: seconds per connect and per read (not a deadline for the whole call).

    Returns:
        The new account, with ``screen_name`` and ``user_id`` from ``GET /2/users/me``
        when its scopes allow that call (``users.read``); if that call fails, the account
        is returned without them rather than lost (its tokens cannot be had again).

    Raises:
        AuthorizationError: the redirect carries an ``error=`` (denied, say), its
            ``state`` does not match, it has no code, or X refused the code (expired,
            already used, a wrong verifier or redirect URI, the app's credentials).
        TwitterConnectionError: the network failed or timed out.
    """
    from twcreds._twython import check_timeout, resolve_api_base
    from twcreds.tokens import account_from_answer, request_token, token_error

    seconds = check_timeout(timeout)
    code = _redirect_code(pending, redirect)
    base = resolve_api_base(pending.api_base)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": pending.redirect_uri,
        "code_verifier": pending.code_verifier.get_secret_value(),
    }
    now = datetime.now(timezone.utc)
    answer = request_token(pending.app, form, api_base=base, timeout=seconds, what=OAUTH2_STEP)
    if answer.status != 200:
        error, detail = token_error(answer)
        said = f"X answered {answer.status}" + (f" ({error})" if error else "")
        if detail:
            said += f": {detail}"
        if answer.status == 401 or error == "invalid_client":
            why = "it refused the app's client id or secret: copy them again from the console"
        elif answer.status == 400:
            why = (
                "the code expired (it lives 30 seconds), was already used, or does not fit"
                " this authorization's verifier or redirect URI; start again"
            )
        else:
            why = "try again later"
        raise AuthorizationError(f"{OAUTH2_STEP}: {said}; {why}")
    try:
        account = account_from_answer(answer, pending.app, OAUTH2_STEP, now=now)
    except TwcredsError as exc:
        problem = str(exc)
    else:
        return _identified(account, base, seconds)
    raise AuthorizationError(problem) from None


def _identified(account: OAuth2Account, api_base: str, timeout: float) -> OAuth2Account:
    """The account with its screen name and user id, if ``GET /2/users/me`` can tell them."""
    from twcreds.api import verify_account

    if account.scopes and account.missing_scopes(("tweet.read", "users.read")):
        return account
    try:
        found = verify_account(account, api_base=api_base, timeout=timeout)
    except TwcredsError:
        return account  # the tokens matter more than the names: never lose them here
    problem = _identity_problem(found.screen_name, found.user_id)
    return account if problem is not None or not isinstance(found, OAuth2Account) else found


def authorize_oauth2(
    app: OAuth2App | OAuth2Account,
    *,
    scopes: Iterable[str] = POSTING_SCOPES,
    headless: bool = False,
    open_browser: bool | None = None,
    prompt: Callable[[str], str] = input,
    echo: Callable[[str], Any] = print,
    timeout: float = 30.0,
    api_base: str | None = None,
    redirect_uri: str | None = None,
    wait: float = REDIRECT_WAIT,
) -> OAuth2Account:
    """The whole PKCE flow, interactively: show the URL, catch the redirect, trade the code.

    Args:
        app: the app's OAuth 2.0 client (or any account of it).
        scopes: what to ask for (default `POSTING_SCOPES`).
        headless: ask for the redirected URL to be pasted instead of listening for it,
            for a host without a browser (open the URL on any other device; the page it
            ends on will not load, which is expected: copy its address).
        open_browser: True to open the URL, False never; None opens it where a graphical
            browser is usable (never when ``headless``). The URL is always shown.
        prompt: asks for the pasted URL (``headless``).
        echo: shows a line to the person.
        timeout: seconds per connect and per read for the token and identity calls.
        api_base: where X is (default ``TWCREDS_API_BASE``, else X).
        redirect_uri: default `DEFAULT_REDIRECT_URI`; listened on unless ``headless``.
        wait: seconds to wait for the browser to come back.

    Raises:
        AuthorizationError: a step failed, the redirect port is taken, or no redirect
            came within ``wait`` seconds.
        TwitterConnectionError: the network failed or timed out.
    """
    from twcreds._twython import check_timeout

    check_timeout(timeout)
    pending = start_oauth2_authorization(
        app, scopes=scopes, redirect_uri=redirect_uri, api_base=api_base
    )
    if headless:
        show_url(pending.auth_url, echo, open_browser=bool(open_browser))
        echo("After approving, paste the whole address the browser was sent to.")
        return complete_oauth2_authorization(pending, prompt("Redirected URL: "), timeout=timeout)
    with _RedirectListener(pending.redirect_uri, pending.state) as listener:
        show_url(pending.auth_url, echo, open_browser=open_browser)
        echo(f"Waiting for X to send the browser back to {pending.redirect_uri} ...")
        redirect = listener.wait(wait)
    return complete_oauth2_authorization(pending, redirect, timeout=timeout)


def show_url(url: str, echo: Callable[[str], Any], *, open_browser: bool | None) -> None:
    """Show the authorize URL, and open it where a browser is usable (or ``open_browser``)."""
    echo("Open this URL, sign in as the account to authorize, and click 'Authorize app':")
    echo(f"  {url}")
    if open_browser or (open_browser is None and browser_usable()):
        import webbrowser

        try:
            webbrowser.open(url)
        except webbrowser.Error:
            echo("(could not open a browser; open the URL yourself)")


class _RedirectListener:
    """A one-shot HTTP listener on the redirect URI's loopback port, for the browser's return."""

    def __init__(self, redirect_uri: str, state: str) -> None:
        self.state = state
        parts = urlsplit(redirect_uri)
        host = parts.hostname or ""
        if parts.scheme != "http" or host not in ("127.0.0.1", "localhost", "::1"):
            msg = (
                f"{OAUTH2_START}: can only listen on an http://127.0.0.1 redirect URI, not"
                " this one; use headless=True (`--headless`) to paste the redirected URL"
            )
            raise AuthorizationError(msg)
        self.path = parts.path or "/"
        self.host = "127.0.0.1" if host == "localhost" else host
        self.port = parts.port or 80
        self.redirect_uri = redirect_uri
        self.received: str | None = None

    def __enter__(self) -> _RedirectListener:
        import http.server

        listener = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # A connection that sends nothing (a browser's preconnect) is dropped after
            # this, instead of holding the one-shot listener past its deadline.
            timeout = 2.0

            def do_GET(self) -> None:
                target = urlsplit(self.path)
                if target.path != listener.path:
                    self.send_error(404)
                    return
                # Only the redirect of this authorization ends the wait: a reload, a
                # prefetch or a forged request (another page's <img>) is answered and
                # ignored, and the real redirect can still come.
                states = parse_qs(target.query).get("state", [])
                if len(states) != 1 or not secrets.compare_digest(states[0], listener.state):
                    self.send_error(400, "not the redirect of this authorization")
                    return
                listener.received = f"{listener.redirect_uri.split('?')[0]}?{target.query}"
                page = (
                    b"<!doctype html><title>twcreds</title><p>Done: you can close this tab"
                    b" and go back to the terminal."
                )
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(page)))
                self.end_headers()
                self.wfile.write(page)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the query holds the code: never logged

        family_server = http.server.HTTPServer
        try:
            self.server = family_server((self.host, self.port), Handler)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            msg = (
                f"{OAUTH2_START}: cannot listen on {self.host}:{self.port} ({reason}); stop"
                " what uses that port, or use headless=True (`--headless`) and paste the URL"
            )
            raise AuthorizationError(msg) from None
        return self

    def wait(self, seconds: float) -> str:
        import time

        deadline = time.monotonic() + seconds
        while self.received is None:
            left = deadline - time.monotonic()
            if left <= 0:
                msg = (
                    f"{OAUTH2_STEP}: the browser did not come back to {self.redirect_uri}"
                    f" within {seconds:g} s; start again (or use --headless and paste the URL)"
                )
                raise AuthorizationError(msg)
            self.server.timeout = min(left, 1.0)
            self.server.handle_request()
        return self.received

    def __exit__(self, *exc_info: object) -> None:
        self.server.server_close()
