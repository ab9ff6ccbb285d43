"""`FakeTwitter`: the offline Twitter (X) itself, a real HTTP server on 127.0.0.1.

The server is the standard library's :class:`~http.server.ThreadingHTTPServer` speaking
HTTP/1.1 with keep-alive; each connection is served on a daemon thread. All state lives on
the :class:`FakeTwitter` object behind one lock; handler threads only parse and write bytes.

Secrets (consumer secrets, token secrets) live only in that state and in the answers of the
OAuth endpoints that hand them out: never in a record, a ``repr()`` or a log line.
"""

from __future__ import annotations

import contextlib
import heapq
import http.server
import json
import logging
import re
import secrets
import socket
import string
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

from twcreds.models import Account, App
from twcreds.testing import _pages
from twcreds.testing._oauth import (
    MalformedOAuth,
    SignedRequest,
    parse_signed_request,
    verify_hmac_sha1,
)
from twcreds.testing._records import FaultKind, RequestRecord, TweetRecord

__all__ = ["FakeTwitter", "Permissions"]

logger = logging.getLogger("twcreds.testing")

#: An app's access level, as set in the developer portal.
Permissions = Literal["read", "read-write"]

RATE_LIMIT_WINDOW = 15 * 60
#: What ``x-rate-limit-limit`` reports when no ``rate_limit`` is set.
UNLIMITED = 1_000_000
MAX_BODY = 1024 * 1024
#: How long a ``"hang"`` fault holds a request when the server is not stopped first.
HANG_LIMIT = 60.0

_ALNUM = string.ascii_letters + string.digits
_SCREEN_NAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_DIGITS = re.compile(r"[0-9]+")
_JSON = "application/json; charset=utf-8"
_PROBLEM = "application/problem+json"
_HTML = "text/html; charset=utf-8"
_TEXT = "text/plain; charset=utf-8"

_MSG_32 = "Could not authenticate you."
_MSG_89 = "Invalid or expired token."
_MSG_135 = "Timestamp out of bounds."
_MSG_215 = "Bad Authentication data."
_MSG_417 = "Desktop applications only support the oauth_callback value 'oob'"
_MSG_453 = (
    "You currently have access to a subset of X API V2 endpoints and limited v1.1 endpoints "
    "(e.g. media post, oauth) only. If you need access to this endpoint, you may need a "
    "different access level. You can learn more here: https://developer.x.com/en/portal/product"
)
_MSG_BAD_VERIFIER = "Error processing your OAuth request: Invalid oauth_verifier parameter"
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _random(length: int) -> str:
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def _twitter_date(epoch: float) -> str:
    # By hand rather than strftime: %a and %b follow the process locale.
    t = time.gmtime(epoch)
    return (
        f"{_DAYS[t.tm_wday]} {_MONTHS[t.tm_mon - 1]} {t.tm_mday:02d} "
        f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} +0000 {t.tm_year}"
    )


def _screen_name(value: str) -> str:
    name = value.strip().removeprefix("@")
    if not _SCREEN_NAME.fullmatch(name):
        msg = "a screen name is 1 to 15 letters, digits or underscores (an '@' is optional)"
        raise ValueError(msg)
    return name


# --- state ----------------------------------------------------------------------------------


@dataclass
class _AppState:
    name: str
    secret: str = field(repr=False)
    permissions: Permissions


@dataclass(frozen=True)
class _User:
    user_id: str
    screen_name: str
    name: str


@dataclass(frozen=True)
class _AccessToken:
    secret: str = field(repr=False)
    consumer_key: str
    user_id: str
    # Twitter keeps the level an access token was issued with, whatever the app says later.
    permissions: Permissions


@dataclass
class _RequestToken:
    secret: str = field(repr=False)
    consumer_key: str
    user_id: str | None = None
    verifier: str | None = field(default=None, repr=False)
    denied: bool = False


@dataclass
class _Window:
    reset: int
    count: int = 0


@dataclass(frozen=True)
class _Fault:
    kind: FaultKind
    path: str | None
    status: int


# --- one exchange ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Incoming:
    method: str
    path: str
    query: str = field(repr=False)
    host: str
    authorization: str | None = field(repr=False)
    content_type: str | None
    body: bytes = field(repr=False)


@dataclass
class _Answer:
    status: int
    body: bytes
    content_type: str
    headers: dict[str, str] = field(default_factory=dict)
    error_code: int | None = None
    reason: str | None = None


@dataclass
class _Context:
    """What the record of the exchange will say, filled in as the request is handled."""

    endpoint: str
    verified: bool = False
    consumer_key: str | None = None
    screen_name: str | None = None
    user_id: str | None = None
    rate_headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class _Auth:
    consumer_key: str
    app: _AppState
    signed: SignedRequest
    access_token: str | None = None
    access: _AccessToken | None = None
    request_token: str | None = None
    pending: _RequestToken | None = None


class _Reject(Exception):
    def __init__(self, answer: _Answer) -> None:
        super().__init__(answer.reason)
        self.answer = answer


def _json(status: int, payload: object, content_type: str = _JSON) -> _Answer:
    body = json.dumps(payload, separators=(",", ":")).encode()
    return _Answer(status, body, content_type)


def _v1_error(status: int, code: int, message: str, reason: str) -> _Answer:
    answer = _json(status, {"errors": [{"code": code, "message": message}]})
    answer.error_code = code
    answer.reason = reason
    if status == 401:
        answer.headers["WWW-Authenticate"] = (
            f'OAuth realm="https://api.twitter.com", api_error_code={code}'
        )
    return answer


def _problem(status: int, title: str, detail: str, reason: str, **extra: object) -> _Answer:
    payload: dict[str, object] = {"title": title, "detail": detail, "type": "about:blank"}
    payload.update(extra)
    payload.setdefault("status", status)
    answer = _json(status, payload, _PROBLEM)
    answer.reason = reason
    return answer


def _invalid_request(message: str, reason: str) -> _Answer:
    return _problem(
        400,
        "Invalid Request",
        "One or more parameters to your request was invalid.",
        reason,
        type="https://api.twitter.com/2/problems/invalid-request",
        errors=[{"message": message}],
    )


def _text(status: int, text: str, reason: str | None = None) -> _Answer:
    return _Answer(status, text.encode(), _TEXT, reason=reason)


def _html(status: int, page: str, reason: str | None = None) -> _Answer:
    return _Answer(status, page.encode(), _HTML, reason=reason)


def _form(values: Mapping[str, str]) -> _Answer:
    # Twitter labels its form-encoded OAuth answers text/html; clients parse them regardless.
    return _Answer(200, urlencode(values).encode(), _HTML)


# --- routing --------------------------------------------------------------------------------

_Kind = Literal["oauth", "page", "v2", "v1.1"]
_Endpoint = Callable[["FakeTwitter", _Incoming, "re.Match[str]", _Context], _Answer]


@dataclass(frozen=True)
class _Route:
    methods: frozenset[str]
    pattern: re.Pattern[str]
    name: str
    kind: _Kind
    handler: _Endpoint


# --- the server -----------------------------------------------------------------------------


class FakeTwitter:
    """An offline Twitter (X): a real HTTP server on 127.0.0.1 that checks OAuth 1.0a.

    Signatures are verified with oauthlib's RFC 5849 code (HMAC-SHA1), and the endpoints a
    bot uses answer as Twitter does: the PIN flow (``/oauth/request_token``,
    ``/oauth/authorize``, ``/oauth/access_token``), ``GET /2/users/me``, ``POST /2/tweets``,
    ``DELETE /2/tweets/:id`` and, with ``legacy_v1``, three v1.1 endpoints (which otherwise
    answer 403 with code 453, as on the free tier).

    Example::

        with FakeTwitter() as fake:
            app = fake.create_app()
            account = fake.issue_token(app, "alice")
            client = make_client(account, api_base=fake.url)
            post_tweet(client, "hello")
            assert fake.tweets[0].text == "hello"

    Every registry method is thread-safe. The options below are also plain attributes that
    can be changed while the server runs.

    Args:
        port: The TCP port to listen on; 0 picks a free one (see :attr:`url`).
        latency: Seconds added before every answer, for benchmarks and timeout tests.
        legacy_v1: Serve the v1.1 endpoints (``account/verify_credentials``,
            ``account/settings``, ``statuses/update``) instead of answering code 453.
        rate_limit: Requests per access token per 15-minute window on the API endpoints
            before a 429; None for no limit (the headers then report 1,000,000).
        confirm_callback: When False, ``request_token`` answers
            ``oauth_callback_confirmed=false`` (what trips Twython's bug #552).
        clock_skew: Seconds the fake's clock runs ahead of this machine's (negative: behind),
            to provoke code 135 without touching the client.
        timestamp_window: How far, in seconds, ``oauth_timestamp`` may be from the fake's
            clock (Twitter: 300).
        reject_duplicates: Refuse a tweet whose text equals one the same account still has
            (403, as X does).

    Raises:
        ValueError: A negative latency or window, or a rate limit below 1.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        latency: float = 0.0,
        legacy_v1: bool = False,
        rate_limit: int | None = None,
        confirm_callback: bool = True,
        clock_skew: float = 0.0,
        timestamp_window: float = 300.0,
        reject_duplicates: bool = True,
    ) -> None:
        if latency < 0 or timestamp_window < 0:
            msg = "latency and timestamp_window must not be negative"
            raise ValueError(msg)
        if rate_limit is not None and rate_limit < 1:
            msg = "rate_limit must be at least 1, or None for no limit"
            raise ValueError(msg)
        self.latency = latency
        self.legacy_v1 = legacy_v1
        self.rate_limit = rate_limit
        self.confirm_callback = confirm_callback
        self.clock_skew = clock_skew
        self.timestamp_window = timestamp_window
        self.reject_duplicates = reject_duplicates
        self._port = port
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._apps: dict[str, _AppState] = {}
        self._users: dict[str, _User] = {}
        self._user_ids: dict[str, str] = {}  # lower-cased screen name -> user id
        self._access: dict[str, _AccessToken] = {}
        self._revoked: set[str] = set()
        self._pending: dict[str, _RequestToken] = {}
        self._nonces: set[tuple[str, str, str]] = set()
        self._nonce_expiry: list[tuple[float, tuple[str, str, str]]] = []
        self._windows: dict[str, _Window] = {}
        self._faults: deque[_Fault] = deque()
        self._tweets: dict[str, TweetRecord] = {}
        self._records: list[RequestRecord] = []
        self._next_tweet_id = 1_800_000_000_000_000_000 + secrets.randbelow(10**17)

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> FakeTwitter:
        """Start serving on a background thread.

        Returns:
            The server itself, so that ``fake = FakeTwitter().start()`` reads well.

        Raises:
            RuntimeError: The server is already running.
            OSError: The port cannot be bound.
        """
        with self._lock:
            if self._server is not None:
                msg = "FakeTwitter is already running"
                raise RuntimeError(msg)
            self._stopping.clear()
            server = _Server(("127.0.0.1", self._port), self)
            self._port = server.server_address[1]
            thread = threading.Thread(
                target=server.serve_forever,
                # A short poll keeps stop() quick: shutdown() waits for the loop to notice.
                kwargs={"poll_interval": 0.01},
                name=f"FakeTwitter-{self._port}",
                daemon=True,
            )
            self._server, self._thread = server, thread
        thread.start()
        logger.debug("serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; the registry and records are kept.

        Requests held by latency or a ``"hang"`` fault are released without an answer. The
        server can be started again (on the same port unless it was 0). Stopping a stopped
        server does nothing.
        """
        with self._lock:
            server, thread = self._server, self._thread
            self._server = self._thread = None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.drop_connections(timeout=5.0)
        server.server_close()
        if thread is not None:
            thread.join(timeout=5.0)
        logger.debug("stopped serving on port %d", self._port)

    def __enter__(self) -> FakeTwitter:
        if not self.running:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`stop`."""
        return self._server is not None

    @property
    def port(self) -> int:
        """The TCP port: the one chosen at start when 0 was asked for."""
        return self._port

    @property
    def url(self) -> str:
        """The base URL, ``http://127.0.0.1:PORT``, to use as ``api_base``.

        Raises:
            RuntimeError: The server was never started and was asked for port 0.
        """
        if self._port == 0:
            msg = "FakeTwitter has no port yet: call start() or use it as a context manager"
            raise RuntimeError(msg)
        return f"http://127.0.0.1:{self._port}"

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        with self._lock:
            return (
                f"<FakeTwitter {where} apps={len(self._apps)} users={len(self._users)} "
                f"tweets={len(self._tweets)} requests={len(self._records)}>"
            )

    # --- registry ---------------------------------------------------------------------------

    def create_app(
        self, name: str = "twcreds-test-app", *, permissions: Permissions = "read-write"
    ) -> App:
        """Register an app, as the developer portal does, with fresh random credentials.

        Args:
            name: The app's name, shown on the authorize page.
            permissions: ``"read-write"`` (posting allowed) or ``"read"``.

        Returns:
            The app's consumer key (25 characters) and consumer secret (50 characters).

        Raises:
            ValueError: ``permissions`` is neither ``"read"`` nor ``"read-write"``.
        """
        self._check_permissions(permissions)
        with self._lock:
            key = _random(25)
            while key in self._apps:
                key = _random(25)
            secret = _random(50)
            self._apps[key] = _AppState(name=name, secret=secret, permissions=permissions)
        return App(consumer_key=key, consumer_secret=secret)

    def set_app_permissions(self, app: App | Account, permissions: Permissions) -> None:
        """Change an app's access level, as in the portal's "User authentication settings".

        Access tokens issued before keep their old level, as on Twitter: a token issued
        while the app was read-only stays read-only until it is issued again.

        Args:
            app: The app (or any account of it).
            permissions: ``"read-write"`` or ``"read"``.

        Raises:
            KeyError: The app is unknown to this fake.
            ValueError: ``permissions`` is neither ``"read"`` nor ``"read-write"``.
        """
        self._check_permissions(permissions)
        with self._lock:
            self._app(app.consumer_key).permissions = permissions

    def create_user(self, screen_name: str, *, name: str | None = None) -> str:
        """Register a Twitter account, or find the existing one with that screen name.

        Args:
            screen_name: 1 to 15 letters, digits or underscores; a leading ``@`` is dropped.
                Screen names are unique regardless of case.
            name: The display name; defaults to the screen name.

        Returns:
            The user id (digits, as a string).

        Raises:
            ValueError: The screen name is not a valid one.
        """
        screen_name = _screen_name(screen_name)
        with self._lock:
            existing = self._user_ids.get(screen_name.lower())
            if existing is not None:
                return existing
            user_id = str(10**18 + secrets.randbelow(9 * 10**18))
            while user_id in self._users:
                user_id = str(10**18 + secrets.randbelow(9 * 10**18))
            self._users[user_id] = _User(user_id, screen_name, name or screen_name)
            self._user_ids[screen_name.lower()] = user_id
            return user_id

    def issue_token(self, app: App | Account, screen_name: str) -> Account:
        """Issue an access token for an account, like the portal's "Create my access token".

        Creates the account when needed. The token carries the app's current permissions.

        Args:
            app: The app (or any account of it).
            screen_name: The account the token acts for.

        Returns:
            The complete account: the app's consumer pair, a fresh access token
            (``<user_id>-<random>``) and secret, the screen name and the user id.

        Raises:
            KeyError: The app is unknown to this fake.
            ValueError: The screen name is not a valid one.
        """
        user_id = self.create_user(screen_name)
        with self._lock:
            state = self._app(app.consumer_key)
            token, secret = self._issue_access_token(app.consumer_key, state, user_id)
            user = self._users[user_id]
        return Account(
            consumer_key=app.consumer_key,
            consumer_secret=state.secret,
            access_token=token,
            access_token_secret=secret,
            screen_name=user.screen_name,
            user_id=user_id,
        )

    def approve(self, oauth_token: str, screen_name: str, *, pin: str | None = None) -> str:
        """Do what clicking "Authorize app" does for a pending request token.

        Creates the account when needed.

        Args:
            oauth_token: The request token (``oauth_token`` in the authorize URL).
            screen_name: The account that authorizes the app.
            pin: The verifier to hand out, digits only (a PIN may start with 0); random
                7 digits when None.

        Returns:
            The PIN (``oauth_verifier``) to send to ``/oauth/access_token``.

        Raises:
            KeyError: The request token is unknown, already used, approved or denied.
            ValueError: The screen name or the PIN is not a valid one.
        """
        if pin is not None and not _DIGITS.fullmatch(pin):
            msg = "a PIN is a string of digits, such as '0012345'"
            raise ValueError(msg)
        screen_name = _screen_name(screen_name)
        with self._lock:
            pending = self._pending_token(oauth_token)
            user_id = self.create_user(screen_name)
            pending.user_id = user_id
            pending.verifier = pin if pin is not None else f"{secrets.randbelow(10**7):07d}"
            return pending.verifier

    def deny(self, oauth_token: str) -> None:
        """Do what clicking "Cancel" does: the request token can no longer be exchanged.

        Args:
            oauth_token: The request token.

        Raises:
            KeyError: The request token is unknown, already used, approved or denied.
        """
        with self._lock:
            self._pending_token(oauth_token).denied = True

    def revoke(self, credentials: Account | str) -> None:
        """Revoke an access token (as "Revoke access" does) or a pending request token.

        Requests signed with it then get 401 with code 89.

        Args:
            credentials: An account, or an access or request token.

        Raises:
            KeyError: The token is unknown to this fake.
        """
        token = credentials if isinstance(credentials, str) else credentials.access_token
        with self._lock:
            if self._access.pop(token, None) is not None:
                self._revoked.add(token)
            elif self._pending.pop(token, None) is None:
                msg = "no such access or request token"
                raise KeyError(msg)

    # --- faults and limits ------------------------------------------------------------------

    def fail_next(
        self, kind: FaultKind, *, path: str | None = None, times: int = 1, status: int = 500
    ) -> None:
        """Make the next request(s) fail the way networks and overloaded servers do.

        Faults queue up and are used in order, before any other check.

        Args:
            kind: ``"close"``: close the connection without answering. ``"hang"``: read the
                request, then answer nothing until :meth:`stop` (or 60 s) and close.
                ``"html"``: an HTML error page with ``status``. ``"garbage"``: 200 with a
                body that is not JSON.
            path: Only a request for this exact path (``"/2/tweets"``) triggers it;
                None for any request.
            times: How many requests fail.
            status: The status of an ``"html"`` fault.

        Raises:
            ValueError: An unknown kind, or ``times`` below 1.
        """
        if kind not in ("close", "hang", "html", "garbage"):
            msg = f"unknown fault kind {kind!r}: use 'close', 'hang', 'html' or 'garbage'"
            raise ValueError(msg)
        if times < 1:
            msg = "times must be at least 1"
            raise ValueError(msg)
        with self._lock:
            self._faults.extend(_Fault(kind, path, status) for _ in range(times))

    def clear_faults(self) -> None:
        """Forget every fault not yet triggered."""
        with self._lock:
            self._faults.clear()

    def reset_rate_limits(self) -> None:
        """Start a fresh 15-minute window for every token."""
        with self._lock:
            self._windows.clear()

    # --- observation ------------------------------------------------------------------------

    @property
    def tweets(self) -> list[TweetRecord]:
        """The tweets the fake holds, oldest first (a copy; deleted tweets are gone)."""
        with self._lock:
            return list(self._tweets.values())

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request served so far, in order (a copy)."""
        with self._lock:
            return list(self._records)

    def clear_records(self) -> None:
        """Forget the request records (the tweets stay)."""
        with self._lock:
            self._records.clear()

    # --- internals: registry ----------------------------------------------------------------

    @staticmethod
    def _check_permissions(permissions: str) -> None:
        if permissions not in ("read", "read-write"):
            msg = f"permissions must be 'read' or 'read-write', not {permissions!r}"
            raise ValueError(msg)

    def _app(self, consumer_key: str) -> _AppState:
        try:
            return self._apps[consumer_key]
        except KeyError:
            msg = "unknown app: create it with create_app() on this FakeTwitter"
            raise KeyError(msg) from None

    def _pending_token(self, oauth_token: str) -> _RequestToken:
        pending = self._pending.get(oauth_token)
        if pending is None or pending.denied or pending.user_id is not None:
            msg = "no pending request token with that value (unknown, used, approved or denied)"
            raise KeyError(msg)
        return pending

    def _issue_access_token(
        self, consumer_key: str, app: _AppState, user_id: str
    ) -> tuple[str, str]:
        token = f"{user_id}-{_random(40)}"
        secret = _random(45)
        self._access[token] = _AccessToken(secret, consumer_key, user_id, app.permissions)
        return token, secret

    def _now(self) -> float:
        return time.time() + self.clock_skew

    # --- internals: serving -----------------------------------------------------------------

    def _take_fault(self, path: str) -> _Fault | None:
        with self._lock:
            for fault in self._faults:
                if fault.path is None or fault.path == path:
                    self._faults.remove(fault)
                    return fault
        return None

    def _record(self, method: str, path: str, ctx: _Context, answer: _Answer) -> None:
        record = RequestRecord(
            method=method,
            path=path,
            endpoint=ctx.endpoint,
            status=answer.status,
            verified=ctx.verified,
            error_code=answer.error_code,
            reason=answer.reason,
            consumer_key=ctx.consumer_key,
            screen_name=ctx.screen_name,
            user_id=ctx.user_id,
        )
        with self._lock:
            self._records.append(record)
        logger.debug(
            "%s %s -> %d%s",
            method,
            path,
            answer.status,
            f" ({answer.reason})" if answer.reason else "",
        )

    def _route(self, method: str, path: str) -> tuple[_Route | None, re.Match[str] | None]:
        for route in _ROUTES:
            match = route.pattern.fullmatch(path)
            if match is not None and method in route.methods:
                return route, match
        return None, None

    def _endpoint(self, method: str, path: str) -> str:
        route, _ = self._route(method, path)
        return f"{method} {route.name}" if route is not None else "unknown"

    def _fault_answer(self, req: _Incoming, fault: _Fault) -> _Answer | None:
        """Record a fault; the answer to send, or None to send nothing."""
        ctx = _Context(endpoint=self._endpoint(req.method, req.path))
        answer: _Answer | None
        if fault.kind == "html":
            page = (
                "<!DOCTYPE html><html><head><title>Over capacity</title></head>"
                "<body><h1>Something is technically wrong.</h1>"
                "<p>Thanks for noticing, we're going to fix it up and have things back to "
                "normal soon.</p></body></html>"
            )
            answer = _html(fault.status, page)
        elif fault.kind == "garbage":
            answer = _Answer(200, b"<<this is not JSON>>", _JSON)
        else:
            answer = None
        shown = answer if answer is not None else _Answer(0, b"", _TEXT)
        shown.reason = f"fault: {fault.kind}"
        self._record(req.method, req.path, ctx, shown)
        return answer

    def _dispatch(self, req: _Incoming) -> _Answer:
        route, match = self._route(req.method, req.path)
        ctx = _Context(endpoint=f"{req.method} {route.name}" if route else "unknown")
        try:
            with self._lock:
                if route is None or match is None:
                    answer = self._not_found(req.path)
                else:
                    try:
                        answer = route.handler(self, req, match, ctx)
                    except _Reject as reject:
                        answer = reject.answer
                    # On every answer past authentication, refusals included, as Twitter does.
                    answer.headers.update(ctx.rate_headers)
        except Exception:
            logger.exception("FakeTwitter failed on %s %s", req.method, req.path)
            answer = _text(500, "FakeTwitter internal error", "internal error")
        self._record(req.method, req.path, ctx, answer)
        return answer

    @staticmethod
    def _not_found(path: str) -> _Answer:
        if path.startswith("/2/"):
            return _problem(
                404,
                "Not Found Error",
                "Sorry, that page does not exist",
                "unknown endpoint",
                type="https://api.twitter.com/2/problems/resource-not-found",
            )
        return _v1_error(404, 34, "Sorry, that page does not exist", "unknown endpoint")

    # --- internals: OAuth checks ------------------------------------------------------------

    def _authenticate(
        self, req: _Incoming, ctx: _Context, *, expect: Literal["none", "request", "access"]
    ) -> _Auth:
        if req.authorization and req.authorization.lower().startswith("bearer "):
            if req.path.startswith("/2/"):
                raise _Reject(
                    _problem(
                        403,
                        "Unsupported Authentication",
                        "Authenticating with OAuth 2.0 Application-Only is forbidden for "
                        "this endpoint.  Supported authentication types are "
                        "[OAuth 1.0a User Context, OAuth 2.0 User Context].",
                        "bearer token on a user-context endpoint",
                        type="https://api.twitter.com/2/problems/unsupported-authentication",
                    )
                )
            raise _Reject(_v1_error(401, 89, _MSG_89, "bearer token"))
        try:
            signed = parse_signed_request(
                method=req.method,
                host=req.host,
                path=req.path,
                query=req.query,
                authorization=req.authorization,
                content_type=req.content_type,
                body=req.body,
            )
        except MalformedOAuth as exc:
            raise _Reject(_v1_error(400, 215, _MSG_215, exc.reason)) from None

        ctx.consumer_key = signed.consumer_key
        app = self._apps.get(signed.consumer_key)
        if app is None:
            raise _Reject(_v1_error(401, 32, _MSG_32, "unknown consumer key"))
        if signed.signature_method.upper() != "HMAC-SHA1":
            raise _Reject(_v1_error(401, 32, _MSG_32, "unsupported signature method"))
        if signed.version not in (None, "1.0"):
            raise _Reject(_v1_error(401, 32, _MSG_32, "unsupported oauth_version"))
        if not _DIGITS.fullmatch(signed.timestamp):
            raise _Reject(_v1_error(401, 32, _MSG_32, "malformed timestamp"))
        if abs(int(signed.timestamp) - self._now()) > self.timestamp_window:
            raise _Reject(_v1_error(401, 135, _MSG_135, "timestamp out of bounds"))

        auth = _Auth(signed.consumer_key, app, signed)
        token_secret: str | None = None
        if expect == "request":
            pending = self._pending.get(signed.token or "")
            if pending is None or pending.consumer_key != signed.consumer_key:
                raise _Reject(_v1_error(401, 89, _MSG_89, "unknown or used request token"))
            auth = _Auth(
                signed.consumer_key, app, signed, request_token=signed.token, pending=pending
            )
            token_secret = pending.secret
        elif expect == "access" or signed.token is not None:
            if signed.token is None:
                raise _Reject(_v1_error(400, 215, _MSG_215, "missing oauth_token"))
            access = self._access.get(signed.token)
            if access is None:
                reason = "revoked token" if signed.token in self._revoked else "unknown token"
                raise _Reject(_v1_error(401, 89, _MSG_89, reason))
            if access.consumer_key != signed.consumer_key:
                raise _Reject(_v1_error(401, 89, _MSG_89, "token of another app"))
            auth = _Auth(signed.consumer_key, app, signed, access_token=signed.token, access=access)
            token_secret = access.secret

        if not verify_hmac_sha1(signed, app.secret, token_secret):
            raise _Reject(_v1_error(401, 32, _MSG_32, "bad signature"))
        self._check_nonce(signed)
        ctx.verified = True
        if auth.access is not None:
            user = self._users[auth.access.user_id]
            ctx.screen_name, ctx.user_id = user.screen_name, user.user_id
        return auth

    def _check_nonce(self, signed: SignedRequest) -> None:
        now = time.time()
        while self._nonce_expiry and self._nonce_expiry[0][0] < now:
            self._nonces.discard(heapq.heappop(self._nonce_expiry)[1])
        key = (signed.consumer_key, signed.nonce, signed.timestamp)
        if key in self._nonces:
            raise _Reject(_v1_error(401, 32, _MSG_32, "replayed nonce"))
        self._nonces.add(key)
        # Past this moment the timestamp check refuses the request anyway.
        expiry = int(signed.timestamp) - self.clock_skew + self.timestamp_window + 1
        heapq.heappush(self._nonce_expiry, (expiry, key))

    def _api_auth(self, req: _Incoming, ctx: _Context, kind: _Kind) -> tuple[_Auth, _User]:
        """Authenticate a user-context API call and count it against the rate limit."""
        auth = self._authenticate(req, ctx, expect="access")
        assert auth.access is not None
        assert auth.access_token is not None
        now = int(time.time())
        window = self._windows.get(auth.access_token)
        if window is None or now >= window.reset:
            window = self._windows[auth.access_token] = _Window(reset=now + RATE_LIMIT_WINDOW)
        window.count += 1
        limit = self.rate_limit if self.rate_limit is not None else UNLIMITED
        headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - window.count)),
            "x-rate-limit-reset": str(window.reset),
        }
        if window.count > limit:
            if kind == "v2":
                answer = _problem(429, "Too Many Requests", "Too Many Requests", "rate limited")
            else:
                answer = _v1_error(429, 88, "Rate limit exceeded", "rate limited")
            ctx.rate_headers = headers
            raise _Reject(answer)
        ctx.rate_headers = headers
        return auth, self._users[auth.access.user_id]

    # --- internals: endpoints ---------------------------------------------------------------

    def _request_token(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        auth = self._authenticate(req, ctx, expect="none")
        callback = auth.signed.callback
        if not callback:
            return _v1_error(401, 215, _MSG_215, "missing oauth_callback")
        if callback != "oob":
            return _v1_error(403, 417, _MSG_417, "callback is not 'oob'")
        token, secret = _random(27), _random(32)
        self._pending[token] = _RequestToken(secret=secret, consumer_key=auth.consumer_key)
        return _form(
            {
                "oauth_token": token,
                "oauth_token_secret": secret,
                "oauth_callback_confirmed": "true" if self.confirm_callback else "false",
            }
        )

    def _access_token(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        auth = self._authenticate(req, ctx, expect="request")
        pending, token = auth.pending, auth.request_token
        assert pending is not None
        assert token is not None
        if pending.denied:
            return _text(401, _MSG_BAD_VERIFIER, "authorization was denied")
        if pending.user_id is None or pending.verifier is None:
            return _text(401, _MSG_BAD_VERIFIER, "request token not approved")
        if auth.signed.verifier is None or not secrets.compare_digest(
            auth.signed.verifier.encode(), pending.verifier.encode()
        ):
            return _text(401, _MSG_BAD_VERIFIER, "wrong verifier")
        del self._pending[token]
        user = self._users[pending.user_id]
        access, secret = self._issue_access_token(auth.consumer_key, auth.app, user.user_id)
        ctx.screen_name, ctx.user_id = user.screen_name, user.user_id
        return _form(
            {
                "oauth_token": access,
                "oauth_token_secret": secret,
                "user_id": user.user_id,
                "screen_name": user.screen_name,
            }
        )

    def _authorize_page(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        query = dict(parse_qsl(req.query))
        token = query.get("oauth_token", "")
        try:
            pending = self._pending_token(token)
        except KeyError:
            page = _pages.invalid_token_page(detail="No valid oauth_token in this address.")
            return _html(400, page, "unknown or used request token")
        app = self._apps[pending.consumer_key]
        ctx.consumer_key = pending.consumer_key
        page = _pages.authorize_page(
            action=req.path,
            oauth_token=token,
            app_name=app.name,
            permissions=app.permissions,
            screen_name=query.get("screen_name", ""),
            known_users=sorted(user.screen_name for user in self._users.values()),
        )
        return _html(200, page)

    def _authorize_submit(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        try:
            form = dict(parse_qsl(req.body.decode("utf-8")))
        except UnicodeDecodeError:
            form = {}
        token = form.get("oauth_token", "")
        pending = self._pending.get(token)
        if pending is None:
            page = _pages.invalid_token_page(detail="This request token is unknown or used.")
            return _html(400, page, "unknown or used request token")
        app = self._apps[pending.consumer_key]
        ctx.consumer_key = pending.consumer_key
        try:
            if form.get("action") == "cancel":
                self.deny(token)
                return _html(200, _pages.denied_page(app_name=app.name), "denied by the user")
            pin = self.approve(token, form.get("screen_name", ""))
        except KeyError:
            page = _pages.invalid_token_page(detail="This request token was already used.")
            return _html(400, page, "request token already approved or denied")
        except ValueError as exc:
            return _html(400, _pages.invalid_token_page(detail=str(exc)), "bad screen name")
        user = self._users[pending.user_id or ""]
        ctx.screen_name, ctx.user_id = user.screen_name, user.user_id
        return _html(200, _pages.pin_page(app_name=app.name, screen_name=user.screen_name, pin=pin))

    def _users_me(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        _, user = self._api_auth(req, ctx, "v2")
        data = {"id": user.user_id, "name": user.name, "username": user.screen_name}
        return _json(200, {"data": data})

    def _create_tweet(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        auth, user = self._api_auth(req, ctx, "v2")
        assert auth.access is not None
        if auth.access.permissions != "read-write":
            return self._v2_read_only()
        try:
            payload: Any = json.loads(req.body)
        except ValueError:
            return _invalid_request("Request body is not JSON.", "not JSON")
        text = payload.get("text") if isinstance(payload, dict) else None
        if not isinstance(text, str) or not text.strip():
            return _invalid_request("Tweet text is empty or missing.", "empty text")
        if self._is_duplicate(user.user_id, text):
            return _problem(
                403,
                "Forbidden",
                "You are not allowed to create a Tweet with duplicate content.",
                "duplicate tweet",
            )
        tweet = self._add_tweet(auth.consumer_key, user, text, "v2")
        data = {"id": tweet.id, "text": tweet.text, "edit_history_tweet_ids": [tweet.id]}
        return _json(201, {"data": data})

    def _delete_tweet(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        auth, user = self._api_auth(req, ctx, "v2")
        assert auth.access is not None
        if auth.access.permissions != "read-write":
            return self._v2_read_only()
        tweet_id = match["id"]
        if not _DIGITS.fullmatch(tweet_id):
            return _invalid_request("The id is not a tweet id.", "bad id")
        tweet = self._tweets.get(tweet_id)
        if tweet is None:
            return _problem(
                404,
                "Not Found Error",
                f"Could not find tweet with id: [{tweet_id}].",
                "no such tweet",
                type="https://api.twitter.com/2/problems/resource-not-found",
            )
        if tweet.user_id != user.user_id:
            return _problem(
                403, "Forbidden", "You are not allowed to delete this Tweet.", "not the author"
            )
        del self._tweets[tweet_id]
        return _json(200, {"data": {"deleted": True}})

    def _verify_credentials(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        _, user = self._api_auth(req, ctx, "v1.1")
        if not self.legacy_v1:
            return _v1_error(403, 453, _MSG_453, "v1.1 not in this tier")
        return _json(200, self._v1_user(user))

    def _settings(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        _, user = self._api_auth(req, ctx, "v1.1")
        if not self.legacy_v1:
            return _v1_error(403, 453, _MSG_453, "v1.1 not in this tier")
        settings = {
            "screen_name": user.screen_name,
            "protected": False,
            "language": "en",
            "always_use_https": True,
            "geo_enabled": False,
            "discoverable_by_email": False,
            "discoverable_by_mobile_phone": False,
            "use_cookie_personalization": False,
            "allow_contributor_request": "none",
            "time_zone": {"name": "UTC", "utc_offset": 0, "tzinfo_name": "Etc/UTC"},
            "sleep_time": {"enabled": False, "end_time": None, "start_time": None},
        }
        return _json(200, settings)

    def _statuses_update(self, req: _Incoming, match: re.Match[str], ctx: _Context) -> _Answer:
        auth, user = self._api_auth(req, ctx, "v1.1")
        assert auth.access is not None
        if not self.legacy_v1:
            return _v1_error(403, 453, _MSG_453, "v1.1 not in this tier")
        if auth.access.permissions != "read-write":
            message = "Application cannot perform write actions."
            return _v1_error(403, 261, message, "read-only app")
        text = dict(auth.signed.params).get("status", "")
        if not text.strip():
            message = "Missing required parameter: status."
            return _v1_error(403, 170, message, "empty text")
        if self._is_duplicate(user.user_id, text):
            return _v1_error(403, 187, "Status is a duplicate.", "duplicate tweet")
        tweet = self._add_tweet(auth.consumer_key, user, text, "v1.1")
        status = {
            "created_at": _twitter_date(time.time()),
            "id": int(tweet.id),
            "id_str": tweet.id,
            "text": tweet.text,
            "truncated": False,
            "source": f'<a href="https://example.com" rel="nofollow">{auth.app.name}</a>',
            "user": self._v1_user(user),
        }
        return _json(200, status)

    # --- internals: helpers for endpoints ---------------------------------------------------

    @staticmethod
    def _v2_read_only() -> _Answer:
        return _problem(
            403,
            "Forbidden",
            "Your client app is not configured with the appropriate oauth1 app permissions "
            "for this endpoint.",
            "read-only app",
            type="https://api.twitter.com/2/problems/oauth1-permissions",
        )

    def _v1_user(self, user: _User) -> dict[str, object]:
        count = sum(1 for tweet in self._tweets.values() if tweet.user_id == user.user_id)
        return {
            "id": int(user.user_id),
            "id_str": user.user_id,
            "name": user.name,
            "screen_name": user.screen_name,
            "location": "",
            "description": "",
            "protected": False,
            "verified": False,
            "followers_count": 0,
            "friends_count": 0,
            "statuses_count": count,
        }

    def _is_duplicate(self, user_id: str, text: str) -> bool:
        return self.reject_duplicates and any(
            tweet.user_id == user_id and tweet.text == text for tweet in self._tweets.values()
        )

    def _add_tweet(
        self, consumer_key: str, user: _User, text: str, api: Literal["v2", "v1.1"]
    ) -> TweetRecord:
        self._next_tweet_id += 1 + secrets.randbelow(1 << 22)
        tweet = TweetRecord(
            id=str(self._next_tweet_id),
            text=text,
            screen_name=user.screen_name,
            user_id=user.user_id,
            consumer_key=consumer_key,
            api=api,
        )
        self._tweets[tweet.id] = tweet
        return tweet


def _route(methods: str, pattern: str, kind: _Kind, handler: _Endpoint) -> _Route:
    name = re.sub(r"\(\?P<(\w+)>[^)]*\)", r":\1", pattern).replace("\\", "")
    return _Route(frozenset(methods.split()), re.compile(pattern), name, kind, handler)


_ROUTES = (
    _route("GET POST", r"/oauth/request_token", "oauth", FakeTwitter._request_token),
    _route("GET", r"/oauth/authorize", "page", FakeTwitter._authorize_page),
    _route("GET", r"/oauth/authenticate", "page", FakeTwitter._authorize_page),
    _route("POST", r"/oauth/authorize", "page", FakeTwitter._authorize_submit),
    _route("POST", r"/oauth/authenticate", "page", FakeTwitter._authorize_submit),
    _route("GET POST", r"/oauth/access_token", "oauth", FakeTwitter._access_token),
    _route("GET", r"/2/users/me", "v2", FakeTwitter._users_me),
    _route("POST", r"/2/tweets", "v2", FakeTwitter._create_tweet),
    _route("DELETE", r"/2/tweets/(?P<id>[^/]+)", "v2", FakeTwitter._delete_tweet),
    _route(
        "GET", r"/1\.1/account/verify_credentials\.json", "v1.1", FakeTwitter._verify_credentials
    ),
    _route("GET", r"/1\.1/account/settings\.json", "v1.1", FakeTwitter._settings),
    _route("POST", r"/1\.1/statuses/update\.json", "v1.1", FakeTwitter._statuses_update),
)


# --- HTTP plumbing --------------------------------------------------------------------------


class _Server(http.server.ThreadingHTTPServer):
    """A threading HTTP server that can drop its open keep-alive connections on stop."""

    daemon_threads = True
    # socketserver's default backlog of 5 makes the 6th simultaneous client wait a second
    # for a TCP retry: concurrent bots (and `twcreds check`) open more than that at once.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], fake: FakeTwitter) -> None:
        self.fake = fake
        self._connections: set[socket.socket] = set()
        self._idle = threading.Condition()
        super().__init__(address, _RequestHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._idle:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            with self._idle:
                self._connections.discard(request)
                self._idle.notify_all()

    def drop_connections(self, timeout: float) -> None:
        with self._idle:
            for conn in self._connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
            self._idle.wait_for(lambda: not self._connections, timeout)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that hung up mid-answer is normal here (timeouts, faults); no traceback
        # on stderr. The message carries no request data.
        logger.debug("connection error", exc_info=True)


class _RequestHandler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # Twitter's front door calls itself tsa_b; http.server would add "Python/3.x".
    server_version = "tsa_b"
    # Idle keep-alive connections end after this many seconds.
    timeout = 30

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # The request line holds the query string (oauth_token, oauth_verifier): FakeTwitter
        # logs its own line, method and path only.
        return

    def log_message(self, format: str, *args: Any) -> None:
        # Never the arguments: http.server passes the raw request line among them.
        command = getattr(self, "command", None) or "-"
        path = (getattr(self, "path", None) or "-").partition("?")[0]
        logger.debug("%s %s: %s", command, path, format)

    def _serve(self) -> None:
        fake = self.server.fake
        path, _, query = self.path.partition("?")
        body = self._read_body()
        if body is None:
            return
        incoming = _Incoming(
            method=self.command,
            path=path,
            query=query,
            host=self.headers.get("Host") or f"127.0.0.1:{self.server.server_address[1]}",
            authorization=self.headers.get("Authorization"),
            content_type=self.headers.get("Content-Type"),
            body=body,
        )
        fault = fake._take_fault(path)
        if fault is not None:
            answer = fake._fault_answer(incoming, fault)
            if fault.kind == "hang":
                fake._stopping.wait(HANG_LIMIT)
            if answer is None:
                self.close_connection = True
                return
        else:
            answer = fake._dispatch(incoming)
        if fake.latency > 0:
            fake._stopping.wait(fake.latency)
        self._send(answer)

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding"):
            self._send(_text(411, "Length Required"), close=True)
            return None
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY:
            self._send(_text(413 if length > 0 else 400, "Bad Content-Length"), close=True)
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, answer: _Answer, *, close: bool = False) -> None:
        try:
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", answer.content_type)
            self.send_header("Content-Length", str(len(answer.body)))
            if close:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            self.wfile.write(answer.body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
