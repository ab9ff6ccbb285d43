"""`FakeTwitter`: the offline Twitter (X) itself, a real HTTP server on 127.0.0.1.

:class:`FakeTwitter` is the public face; the work is done by its parts, each in its module:

- :mod:`._http`: the HTTP server, its connections, and the faults it can inject;
- :mod:`._registry`: the state (apps, users, tokens, nonces, rate windows, tweets, records)
  behind one lock;
- :mod:`._auth` (on :mod:`._oauth`): who a request acts as, or why it is refused;
- :mod:`._oauth2`: OAuth 2.0 as X runs it (authorize, token, revoke, bearer checks), on
  oauthlib's server side;
- :mod:`._endpoints`: the routes and each endpoint's answers, in the shapes of
  :mod:`._exchange`.

The server reaches the rest only through :class:`_Service`, the :class:`~._http.Service`
this module wires up: faults first, then the endpoints, a record of every request, and the
latency before the answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import datetime, timedelta, timezone
from types import TracebackType
from urllib.parse import urlsplit

from pydantic import SecretStr

from twcreds.models import POSTING_SCOPES, Account, App, BearerToken, OAuth2Account, OAuth2App
from twcreds.testing._endpoints import Endpoints
from twcreds.testing._exchange import TEXT, Answer, Context, Incoming, Settings
from twcreds.testing._http import FaultQueue, Reply, Server
from twcreds.testing._oauth2 import SCOPES, OAuth2Refusal, RedirectedError
from twcreds.testing._records import FaultKind, MediaRecord, RequestRecord, TweetRecord
from twcreds.testing._registry import Permissions, Registry

__all__ = ["FakeTwitter", "Permissions"]

logger = logging.getLogger("twcreds.testing")


def _checked_public_url(value: str) -> str:
    """A ``public_url``, checked, without its trailing ``/``.

    Raises:
        ValueError: It is not an ``http(s)://host[:port][/path]`` URL.
    """
    msg = (
        f"public_url must be an http:// or https:// URL with a host and, optionally, a "
        f"port and a path, such as 'https://api.x.com'; not {value!r}"
    )
    if not isinstance(value, str) or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(msg)
    parts = urlsplit(value)
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise ValueError(msg) from None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.username is not None
        or parts.password is not None
        or "?" in value
        or "#" in value
    ):
        raise ValueError(msg)
    return value.rstrip("/")


def _checked_redirect_uri(value: object) -> str:
    """A redirect URI to register, checked.

    Raises:
        ValueError: It is not an absolute ``http(s)://`` URI without a fragment.
    """
    msg = f"a redirect URI is an absolute http:// or https:// URI without '#'; not {value!r}"
    if not isinstance(value, str) or any(c.isspace() or not c.isprintable() for c in value):
        raise ValueError(msg)
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or "#" in value:
        raise ValueError(msg)
    return value


class _Service:
    """How the fake answers one request: the :class:`~._http.Service` its server calls."""

    def __init__(
        self, registry: Registry, faults: FaultQueue, endpoints: Endpoints, settings: Settings
    ) -> None:
        self._registry = registry
        self._faults = faults
        self._endpoints = endpoints
        self._settings = settings

    def handle(self, incoming: Incoming) -> Reply:
        """Fail the request as a queued fault says, or answer it; record it either way."""
        fault = self._faults.take(incoming.path)
        if fault is not None:
            ctx = Context(endpoint=self._endpoints.endpoint(incoming.method, incoming.path))
            reply = fault.reply(latency=self._settings.latency)
            # A fault that sends nothing is recorded with status 0.
            shown = reply.answer or Answer(0, b"", TEXT, reason=fault.reason)
            self._record(incoming, ctx, shown)
            return reply
        answer, ctx = self._endpoints.dispatch(incoming)
        self._record(incoming, ctx, answer)
        # Read after answering: a test may change the latency while the server runs.
        return Reply(answer, wait=self._settings.latency)

    def now(self) -> float:
        """The fake's clock: this machine's, plus the ``clock_skew`` set now."""
        return time.time() + self._settings.clock_skew

    def _record(self, incoming: Incoming, ctx: Context, answer: Answer) -> None:
        self._registry.add_record(ctx.record(incoming.method, incoming.path, answer))
        logger.debug(
            "%s %s -> %d%s",
            incoming.method,
            incoming.path,
            answer.status,
            f" ({answer.reason})" if answer.reason else "",
        )


class FakeTwitter:
    """An offline Twitter (X): a real HTTP server on 127.0.0.1 that checks OAuth 1.0a and 2.0.

    Signatures are verified with oauthlib's RFC 5849 code (HMAC-SHA1), and the endpoints a
    bot uses answer as Twitter does: the PIN flow (``/oauth/request_token``,
    ``/oauth/authorize``, ``/oauth/access_token``), ``GET /2/users/me``, ``POST /2/tweets``,
    ``DELETE /2/tweets/:id`` and, with ``legacy_v1``, three v1.1 endpoints (which otherwise
    answer 403 with code 453, as on the free tier).

    OAuth 2.0 runs on oauthlib's server side, as X runs it: ``GET /i/oauth2/authorize`` (a
    consent page; PKCE with S256 only, exact redirect URIs), ``POST /2/oauth2/token`` (codes
    that live 30 seconds and serve once, HTTP Basic for confidential clients, ``client_id``
    in the body for public ones; refresh tokens only with ``offline.access``, rotated on
    every refresh: a spent one gets 400 ``invalid_request``), ``POST /2/oauth2/revoke``.
    The v2 endpoints take ``Authorization: Bearer`` user tokens that are live and hold
    their scopes: ``users/me`` needs ``tweet.read users.read``, posting and deleting
    ``tweet.read tweet.write users.read``; an expired, revoked or unknown token gets 401, a
    missing scope 403. Codes and tokens expire on the fake's clock (``clock_skew``), so a
    test moves time on instead of sleeping.

    Example::

        with FakeTwitter() as fake:
            app = fake.create_app()
            account = fake.issue_token(app, "alice")
            client = make_client(account, api_base=fake.url)
            post_tweet(client, "hello")
            assert fake.tweets[0].text == "hello"

    Refusals come in the shape of their API, as on Twitter: the OAuth and v1.1 endpoints
    name the cause with Twitter's code (32, 89, 135, 215); v2 answers every authentication
    failure with one 401 problem (``{"title": "Unauthorized", "type": "about:blank",
    "status": 401, "detail": "Unauthorized"}``), and :attr:`requests` records the cause.

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
            to provoke code 135 without touching the client. The ``Date`` header of every
            answer follows the fake's clock.
        timestamp_window: How far, in seconds, ``oauth_timestamp`` may be from the fake's
            clock (Twitter: 300).
        reject_duplicates: Refuse a tweet whose text equals one the same account still has
            (403, as X does).
        public_url: The base URL clients address, when it is not :attr:`url`: behind a TLS
            terminator (``https://twitter.internal``), or to check a request signed for
            Twitter itself (``https://api.x.com``, as in X's documented examples). Signatures
            are checked against this URL followed by the request's path; None (the
            default) checks them against ``http://`` and the ``Host`` header sent.
        credits: Pay-per-use credits: each post spends one; once none are left, posts
            and ``GET /2/users/me`` answer 402, as X does when the balance is spent. None
            (the default) for no billing. :attr:`credits` tells what is left.
        daily_limit: Calls per account per 24 hours to each capped endpoint (posts, and
            ``GET /2/users/me``); past it, 429 with X's ``x-user-limit-24hour-*``
            headers, whose reset is a day away while ``x-rate-limit-reset`` says 15
            minutes. None for no cap.
        media_processing: Seconds a video or GIF stays ``in_progress`` after finalize;
            0 makes the first status call report ``succeeded``.

    The v2 media endpoints take OAuth 1.0a (a read-write token) and OAuth 2.0 tokens with
    ``media.write``: ``POST /2/media/upload`` (one image, at most 5 MB),
    ``POST /2/media/upload/initialize``, ``.../{id}/append`` (parts of at most 5 MB,
    ``segment_index`` 0 to 999), ``.../{id}/finalize``, and ``GET /2/media/upload``
    (``command=STATUS``), with X's limits (image 5 MB, GIF 15 MB, video 512 MB) and
    processing states (``pending``, ``in_progress``, ``succeeded``, or ``failed`` after
    :meth:`fail_next_media`). Uploaded bytes are kept on disk, not in memory; a post's
    ``media.media_ids`` must name processed media of its author. A post's text is at
    most 280 characters as X counts them (twitter-text), else 403.

    Raises:
        ValueError: A negative latency, window or processing time, a rate or daily limit
            below 1, negative credits, or a ``public_url`` that is not an
            ``http(s)://host[:port][/path]`` URL.
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
        public_url: str | None = None,
        credits: int | None = None,
        daily_limit: int | None = None,
        media_processing: float = 0.0,
    ) -> None:
        if latency < 0 or timestamp_window < 0 or media_processing < 0:
            msg = "latency, timestamp_window and media_processing must not be negative"
            raise ValueError(msg)
        if rate_limit is not None and rate_limit < 1:
            msg = "rate_limit must be at least 1, or None for no limit"
            raise ValueError(msg)
        if daily_limit is not None and daily_limit < 1:
            msg = "daily_limit must be at least 1, or None for no cap"
            raise ValueError(msg)
        if credits is not None and credits < 0:
            msg = "credits must not be negative (None: no billing)"
            raise ValueError(msg)
        self.latency = latency
        self.legacy_v1 = legacy_v1
        self.rate_limit = rate_limit
        self.confirm_callback = confirm_callback
        self.clock_skew = clock_skew
        self.timestamp_window = timestamp_window
        self.reject_duplicates = reject_duplicates
        self.daily_limit = daily_limit
        self.media_processing = media_processing
        self._public_url: str | None = None
        self.public_url = public_url
        self._port = port
        self._lock = threading.Lock()  # guards _server: start() and stop() may race
        self._server: Server | None = None
        self._registry = Registry()
        self._registry.credits = credits
        self._faults = FaultQueue()
        # The parts read the options above from this object on every request.
        endpoints = Endpoints(self._registry, settings=self)
        self._oauth2 = endpoints.oauth2
        self._service = _Service(self._registry, self._faults, endpoints, settings=self)

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
            server = Server(("127.0.0.1", self._port), self._service)
            self._port = server.port
            self._server = server
        server.start(name=f"FakeTwitter-{self._port}")
        logger.debug("serving on %s", self.url)
        return self

    def stop(self) -> None:
        """Stop serving and close every connection; the registry and records are kept.

        Requests held by latency or a ``"hang"`` fault are released without an answer. The
        server can be started again (on the same port unless it was 0). Stopping a stopped
        server does nothing.
        """
        with self._lock:
            server, self._server = self._server, None
        if server is None:
            return
        server.stop()
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

    @property
    def public_url(self) -> str | None:
        """The base URL signatures are checked against, without a trailing ``/``; None for
        ``http://`` and the ``Host`` header. It can be changed while the server runs.

        Raises:
            ValueError: (on assignment) The value is not an ``http(s)://host[:port][/path]``
                URL.
        """
        return self._public_url

    @public_url.setter
    def public_url(self, value: str | None) -> None:
        self._public_url = None if value is None else _checked_public_url(value)

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<FakeTwitter {where} {self._registry.summary()}>"

    # --- registry ---------------------------------------------------------------------------

    def create_app(
        self,
        name: str = "twcreds-test-app",
        *,
        permissions: Permissions = "read-write",
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
    ) -> App:
        """Register an app, as the developer portal does, with fresh random credentials.

        Args:
            name: The app's name, shown on the authorize page.
            permissions: ``"read-write"`` (posting allowed) or ``"read"``.
            consumer_key: A fixed consumer key (a published test vector's, say) instead
                of a random one: 1 to 200 visible ASCII characters.
            consumer_secret: A fixed consumer secret, likewise.

        Returns:
            The app's consumer key (25 characters unless given) and consumer secret (50).

        Raises:
            ValueError: ``permissions`` is neither ``"read"`` nor ``"read-write"``, a given
                value is malformed, or the consumer key is already registered.
        """
        return self._registry.create_app(name, permissions, consumer_key, consumer_secret)

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
        self._registry.set_app_permissions(app.consumer_key, permissions)

    def create_user(
        self, screen_name: str, *, name: str | None = None, user_id: str | None = None
    ) -> str:
        """Register a Twitter account, or find the existing one with that screen name.

        Args:
            screen_name: 1 to 15 letters, digits or underscores; a leading ``@`` is dropped.
                Screen names are unique regardless of case.
            name: The display name; defaults to the screen name.
            user_id: A fixed user id (digits, no leading zero) for a new account; random
                when None. Given for an existing account, it must be that account's.

        Returns:
            The user id (digits, as a string).

        Raises:
            ValueError: The screen name or the user id is not a valid one, the account
                exists with another user id, or the user id is another account's.
        """
        return self._registry.create_user(screen_name, name, user_id)

    def issue_token(
        self,
        app: App | Account,
        screen_name: str,
        *,
        user_id: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
    ) -> Account:
        """Issue an access token for an account, like the portal's "Create my access token".

        Creates the account when needed. The token carries the app's current permissions.
        Fixed values (a published test vector's, say) replace the random ones; nothing is
        registered unless all of them are valid.

        Args:
            app: The app (or any account of it).
            screen_name: The account the token acts for.
            user_id: The account's user id, for a new account (see :meth:`create_user`).
                When None, a token of the form ``<digits>-...`` gives it its digits.
            access_token: A fixed access token: 1 to 200 visible ASCII characters, never
                issued before by this fake; when it starts with ``<digits>-``, the digits
                must be the account's user id, as on Twitter.
            access_token_secret: A fixed access token secret, likewise.

        Returns:
            The complete account: the app's consumer pair, the access token (by default a
            fresh ``<user_id>-<random>``) and secret, the screen name and the user id.

        Raises:
            KeyError: The app is unknown to this fake.
            ValueError: The screen name or a given value is not a valid one, the access
                token is already registered (live or revoked), or the user id contradicts
                the account or the token.
        """
        return self._registry.issue_token(
            app.consumer_key,
            screen_name,
            user_id=user_id,
            access_token=access_token,
            access_token_secret=access_token_secret,
        )

    def create_bearer_token(self, app: App | Account) -> BearerToken:
        """Issue the app's app-only bearer token, like the console's "Bearer Token".

        X refuses it on every user-context endpoint (``GET /2/users/me``, posting, media)
        with 403 ``unsupported-authentication``; so does the fake.

        Args:
            app: The app (or any account of it).

        Returns:
            The token, with the app's consumer key.

        Raises:
            KeyError: The app is unknown to this fake.
        """
        token = self._registry.create_app_bearer(app.consumer_key)
        return BearerToken(bearer_token=token, consumer_key=app.consumer_key)

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
        return self._registry.approve(oauth_token, screen_name, pin)

    def deny(self, oauth_token: str) -> None:
        """Do what clicking "Cancel" does: the request token can no longer be exchanged.

        Args:
            oauth_token: The request token.

        Raises:
            KeyError: The request token is unknown, already used, approved or denied.
        """
        self._registry.deny(oauth_token)

    def revoke(self, credentials: Account | OAuth2Account | str) -> None:
        """Revoke an access token (as "Revoke access" does) or a pending request token.

        Requests signed with it then get 401: code 89 from the OAuth endpoints and v1.1,
        X's one 401 problem from v2 (the record's ``reason`` says ``"revoked token"``).
        An OAuth 2.0 account loses its access token and its refresh token; an OAuth 2.0
        token given as a string is revoked alone.

        Args:
            credentials: An account (OAuth 1.0a or 2.0), or an access, refresh or request
                token.

        Raises:
            KeyError: The token is unknown to this fake (or, for an OAuth 2.0 account,
                neither of its tokens is live).
        """
        if isinstance(credentials, OAuth2Account):
            tokens = [credentials.access_token, credentials.refresh_token]
            revoked = [
                self._registry.revoke_oauth2_token(token.get_secret_value())
                for token in tokens
                if token is not None
            ]
            if not any(revoked):
                msg = "neither token of that OAuth 2.0 account is live on this FakeTwitter"
                raise KeyError(msg)
            return
        token = credentials if isinstance(credentials, str) else credentials.access_token
        if not self._registry.revoke_oauth2_token(token):
            self._registry.revoke(token)

    # --- OAuth 2.0 --------------------------------------------------------------------------

    def create_oauth2_app(
        self,
        name: str = "twcreds-test-app",
        *,
        confidential: bool = True,
        redirect_uris: Sequence[str] | None = None,
    ) -> OAuth2App:
        """Register an app's OAuth 2.0 client, as the developer portal's settings do.

        Args:
            name: The app's name, shown on the authorize page.
            confidential: True for a confidential client ("Web App, Automated App or
                Bot": it has a secret and authenticates with HTTP Basic); False for a
                public client ("Native App": no secret, ``client_id`` in the body).
            redirect_uris: The callback URIs registered for the app, matched exactly;
                None accepts any absolute URI, which the token call must repeat exactly.

        Returns:
            The client id and, for a confidential client, the client secret.

        Raises:
            ValueError: A redirect URI is not an absolute ``http(s)://`` URI without a
                fragment, or ``redirect_uris`` is a single string.
        """
        uris: tuple[str, ...] | None = None
        if redirect_uris is not None:
            if isinstance(redirect_uris, str):
                msg = "redirect_uris is a list of URIs, such as ['http://127.0.0.1:8976/callback']"
                raise ValueError(msg)
            uris = tuple(_checked_redirect_uri(uri) for uri in redirect_uris)
        client_id, secret = self._registry.create_oauth2_client(name, confidential, uris)
        return OAuth2App(
            client_id=client_id, client_secret=SecretStr(secret) if secret is not None else None
        )

    def approve_oauth2(self, auth_url: str, screen_name: str) -> str:
        """Do what clicking "Authorize app" on X's OAuth 2.0 consent page does.

        Creates the account when needed, as :meth:`approve` does.

        Args:
            auth_url: The authorize URL a client built (``.../i/oauth2/authorize?...``);
                only its query counts, so X's own address works as well as :attr:`url`'s.
            screen_name: The account that authorizes the app.

        Returns:
            The URL the browser is sent back to: the redirect URI with ``code`` (valid 30
            seconds on the fake's clock, single use) and ``state``; or, for a request X
            refuses with a redirect (``code_challenge_method=plain``, an unknown scope, no
            ``code_challenge``), with ``error`` and ``error_description`` instead.

        Raises:
            ValueError: The request cannot be sent back at all (an unknown client, a
                redirect URI not registered, a missing one), as X shows an error page; or
                the screen name is not a valid one.
        """
        query = urlsplit(auth_url).query
        try:
            self._oauth2.authorization(query)
            user_id = self._registry.create_user(screen_name)
            return self._oauth2.approve(query, user_id)
        except OAuth2Refusal as refusal:
            raise ValueError(f"X would show an error page: {refusal.description}") from None
        except RedirectedError as redirected:
            return redirected.location

    def deny_oauth2(self, auth_url: str) -> str:
        """Do what clicking "Cancel" on X's OAuth 2.0 consent page does.

        Args:
            auth_url: The authorize URL.

        Returns:
            The redirect URI with ``error=access_denied`` and the ``state``.

        Raises:
            ValueError: As :meth:`approve_oauth2`.
        """
        query = urlsplit(auth_url).query
        try:
            return self._oauth2.deny(query)
        except OAuth2Refusal as refusal:
            raise ValueError(f"X would show an error page: {refusal.description}") from None
        except RedirectedError as redirected:
            return redirected.location

    def issue_oauth2_token(
        self,
        app: OAuth2App | OAuth2Account,
        screen_name: str,
        *,
        scopes: Sequence[str] = POSTING_SCOPES,
        expires_in: float = 7200,
    ) -> OAuth2Account:
        """Issue OAuth 2.0 tokens for an account, as if the PKCE flow had just run.

        Creates the account when needed.

        Args:
            app: The app's client (or any account of it).
            screen_name: The account the tokens act for.
            scopes: The scopes granted; a refresh token comes only with ``offline.access``.
            expires_in: Seconds the access token lives (X: 7200); 0 or less gives one that
                has already expired, to make a client refresh.

        Returns:
            The account: the client's id and secret, the tokens, ``expires_at`` (now plus
            ``expires_in``, as a client reckons it), the scopes, screen name and user id.

        Raises:
            KeyError: The client is unknown to this fake.
            ValueError: A scope X does not know, no scope, or a bad screen name.
        """
        client = self._registry.oauth2_client(app.client_id)
        if client is None:
            msg = "no OAuth 2.0 client with that client id on this FakeTwitter"
            raise KeyError(msg)
        if isinstance(scopes, str):
            scopes = scopes.split()
        granted = tuple(dict.fromkeys(scopes))
        unknown = sorted(scope for scope in granted if scope not in SCOPES)
        if unknown or not granted:
            msg = f"scopes must be X's, such as {' '.join(POSTING_SCOPES)}; not {unknown or '()'}"
            raise ValueError(msg)
        user_id = self._registry.create_user(screen_name)
        access, refresh, _ = self._oauth2.issue(app.client_id, user_id, granted, expires_in)
        user = self._registry.user(user_id)
        return OAuth2Account(
            client_id=app.client_id,
            client_secret=SecretStr(client.secret) if client.secret is not None else None,
            access_token=SecretStr(access),
            refresh_token=SecretStr(refresh) if refresh is not None else None,
            expires_at=datetime.now(timezone.utc) + timedelta(seconds=expires_in),
            scopes=granted,
            screen_name=user.screen_name,
            user_id=user.user_id,
        )

    @property
    def oauth2_refreshes(self) -> int:
        """How many refresh grants ``POST /2/oauth2/token`` has served (rotations done)."""
        return self._registry.oauth2_refreshes

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
        self._faults.add(kind, path, times, status)

    def clear_faults(self) -> None:
        """Forget every fault not yet triggered."""
        self._faults.clear()

    def fail_next_media(self, reason: str = "Unsupported video format") -> None:
        """Make the processing of the next video or GIF finalized fail, with X's ``reason``.

        Its status then reports ``failed`` with ``{"code": 1, "name": "InvalidMedia",
        "message": reason}``, as X does for a file it cannot play.
        """
        self._registry.media.fail_next = reason

    @property
    def credits(self) -> int | None:
        """The pay-per-use credits left (None: no billing); can be set while serving."""
        return self._registry.credits

    @credits.setter
    def credits(self, value: int | None) -> None:
        if value is not None and value < 0:
            msg = "credits must not be negative (None: no billing)"
            raise ValueError(msg)
        with self._registry.lock:
            self._registry.credits = value

    def set_app_enrolled(self, app: App | Account | OAuth2App, enrolled: bool) -> None:
        """Attach the app to a project with API access (True), or detach it (False).

        A detached app's v2 calls get X's 403 ``client-forbidden`` with reason
        ``client-not-enrolled``.

        Args:
            app: The app (or any account of it): OAuth 1.0a or OAuth 2.0.
            enrolled: Whether it may call the v2 API.
        """
        app_id = app.client_id if isinstance(app, OAuth2App) else app.consumer_key
        self._registry.set_enrolled(app_id, enrolled)

    def reset_rate_limits(self) -> None:
        """Start a fresh 15-minute window for every token."""
        self._registry.reset_rate_limits()

    # --- observation ------------------------------------------------------------------------

    @property
    def tweets(self) -> list[TweetRecord]:
        """The tweets the fake holds, oldest first (a copy; deleted tweets are gone)."""
        return self._registry.tweets()

    @property
    def media(self) -> list[MediaRecord]:
        """Every media item uploaded, oldest first (a copy)."""
        return self._registry.media.records()

    def media_content(self, media_id: str) -> bytes:
        """The bytes the fake holds for a finalized media item.

        Raises:
            KeyError: No such item, or its upload is not finalized.
        """
        return self._registry.media.content(media_id)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request served so far, in order (a copy)."""
        return self._registry.records()

    def clear_records(self) -> None:
        """Forget the request records (the tweets stay)."""
        self._registry.clear_records()
