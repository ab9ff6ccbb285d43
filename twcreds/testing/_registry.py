"""What the offline Twitter knows: apps, users, tokens, nonces, rate windows, tweets, records.

All of it lives on one :class:`Registry` behind one re-entrant lock: every method takes it,
and a request is handled with it held throughout (see :mod:`._endpoints`), so an exchange
sees and changes the state as one step.

Secrets (consumer secrets, token secrets, verifiers) live only here and in the answers of
the OAuth endpoints that hand them out: never in a record, a ``repr()`` or a log line.
"""

from __future__ import annotations

import heapq
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass, field
from typing import Literal

from twcreds.models import Account, App
from twcreds.testing._media import MediaStore
from twcreds.testing._records import RequestRecord, TweetRecord

__all__ = [
    "DAILY_WINDOW",
    "DIGITS",
    "RATE_LIMIT_WINDOW",
    "AccessToken",
    "AppState",
    "AuthCode",
    "BearerGrant",
    "OAuth2Client",
    "Permissions",
    "RefreshGrant",
    "Registry",
    "RequestToken",
    "User",
    "random_string",
    "screen_name",
]

#: An app's access level, as set in the developer portal.
Permissions = Literal["read", "read-write"]

RATE_LIMIT_WINDOW = 15 * 60
#: X's daily caps run over 24 hours.
DAILY_WINDOW = 24 * 3600
DIGITS = re.compile(r"[0-9]+")

_ALNUM = string.ascii_letters + string.digits
_SCREEN_NAME = re.compile(r"[A-Za-z0-9_]{1,15}")
# What a given key, token or secret may be: what an Authorization header carries unharmed.
_GIVEN = re.compile(r"[\x21-\x7e]{1,200}")
_USER_ID = re.compile(r"[1-9][0-9]{0,19}")
# An access token's user id, when it starts with one: "<user id>-...".
_TOKEN_USER = re.compile(r"([0-9]+)-")

# (consumer key, nonce, timestamp): what a replayed request repeats.
_NonceKey = tuple[str, str, str]


def random_string(length: int) -> str:
    """Random letters and digits, as Twitter's keys, tokens and secrets are made of."""
    return "".join(secrets.choice(_ALNUM) for _ in range(length))


def screen_name(value: str) -> str:
    """A screen name without its optional ``@``.

    Raises:
        ValueError: It is not 1 to 15 letters, digits or underscores.
    """
    name = value.strip().removeprefix("@")
    if not _SCREEN_NAME.fullmatch(name):
        msg = "a screen name is 1 to 15 letters, digits or underscores (an '@' is optional)"
        raise ValueError(msg)
    return name


def _given(value: object, what: str) -> str:
    """A given credential, checked; the message never quotes it (it may be a secret).

    Raises:
        ValueError: It is not 1 to 200 visible ASCII characters.
    """
    if not isinstance(value, str) or not _GIVEN.fullmatch(value):
        msg = f"{what} must be 1 to 200 visible ASCII characters (no spaces or control characters)"
        raise ValueError(msg)
    return value


def _user_id(value: object) -> str:
    if not isinstance(value, str) or not _USER_ID.fullmatch(value):
        msg = "user_id must be digits without a leading zero, such as '783214'"
        raise ValueError(msg)
    return value


def _check_permissions(permissions: str) -> None:
    if permissions not in ("read", "read-write"):
        msg = f"permissions must be 'read' or 'read-write', not {permissions!r}"
        raise ValueError(msg)


@dataclass
class AppState:
    """A registered app."""

    name: str
    secret: str = field(repr=False)
    permissions: Permissions


@dataclass(frozen=True)
class User:
    """A registered Twitter account."""

    user_id: str
    screen_name: str
    name: str


@dataclass(frozen=True)
class AccessToken:
    """A live access token (the token itself is its key in the registry)."""

    secret: str = field(repr=False)
    consumer_key: str
    user_id: str
    # Twitter keeps the level an access token was issued with, whatever the app says later.
    permissions: Permissions


@dataclass
class RequestToken:
    """A request token of the PIN flow, from ``request_token`` until it is exchanged."""

    secret: str = field(repr=False)
    consumer_key: str
    user_id: str | None = None
    verifier: str | None = field(default=None, repr=False)
    denied: bool = False


@dataclass(frozen=True)
class OAuth2Client:
    """An app's OAuth 2.0 client (its client id is its key in the registry).

    Attributes:
        name: The app's name, shown on the authorize page.
        secret: The client secret; None for a public client.
        redirect_uris: The callback URIs registered for the app; None for any absolute URI.
    """

    name: str
    secret: str | None = field(repr=False)
    redirect_uris: tuple[str, ...] | None


@dataclass(frozen=True)
class AuthCode:
    """An authorization code, from approval until it is exchanged or expires."""

    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    challenge: str = field(repr=False)
    challenge_method: str
    expires_at: float


@dataclass(frozen=True)
class BearerGrant:
    """A live OAuth 2.0 access token (the token itself is its key in the registry)."""

    client_id: str
    user_id: str
    scopes: tuple[str, ...]
    expires_at: float


@dataclass(frozen=True)
class RefreshGrant:
    """A live refresh token: single use, as X's are."""

    client_id: str
    user_id: str
    scopes: tuple[str, ...]


@dataclass
class _Window:
    reset: int
    count: int = 0


class Registry:
    """The fake's state and its operations; every method is thread-safe."""

    def __init__(self) -> None:
        #: Held by every method, and by whoever needs several of them to act as one.
        self.lock = threading.RLock()
        self._apps: dict[str, AppState] = {}
        self._users: dict[str, User] = {}
        self._user_ids: dict[str, str] = {}  # lower-cased screen name -> user id
        self._access: dict[str, AccessToken] = {}
        self._revoked: set[str] = set()
        self._pending: dict[str, RequestToken] = {}
        self._nonces: set[_NonceKey] = set()
        self._nonce_expiry: list[tuple[float, _NonceKey]] = []
        self._windows: dict[str, _Window] = {}
        self._tweets: dict[str, TweetRecord] = {}
        self._records: list[RequestRecord] = []
        self._oauth2_clients: dict[str, OAuth2Client] = {}
        self._codes: dict[str, AuthCode] = {}
        self._bearers: dict[str, BearerGrant] = {}
        self._refresh: dict[str, RefreshGrant] = {}
        self._oauth2_dead: set[str] = set()  # revoked access tokens, spent refresh tokens
        self._app_bearers: dict[str, str] = {}  # app-only bearer token -> consumer key
        self._daily: dict[tuple[str, str], _Window] = {}  # (user id, endpoint) -> window
        self._unenrolled: set[str] = set()  # consumer keys and client ids
        #: Credits left (each post spends one); None for no billing.
        self.credits: int | None = None
        #: Uploaded media, their bytes on disk.
        self.media = MediaStore()
        self.oauth2_refreshes = 0
        self._next_tweet_id = 1_800_000_000_000_000_000 + secrets.randbelow(10**17)

    def summary(self) -> str:
        """How much the registry holds, for a ``repr()``."""
        with self.lock:
            return (
                f"apps={len(self._apps)} oauth2_apps={len(self._oauth2_clients)} "
                f"users={len(self._users)} "
                f"tweets={len(self._tweets)} requests={len(self._records)}"
            )

    # --- apps -------------------------------------------------------------------------------

    def create_app(
        self,
        name: str,
        permissions: Permissions,
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
    ) -> App:
        """Register an app with the given consumer key and secret, or fresh ones (25 and 50).

        Raises:
            ValueError: ``permissions`` is neither ``"read"`` nor ``"read-write"``, a given
                value is malformed, or the consumer key is already registered.
        """
        _check_permissions(permissions)
        if consumer_key is not None:
            _given(consumer_key, "consumer_key")
        secret = (
            _given(consumer_secret, "consumer_secret")
            if consumer_secret is not None
            else random_string(50)
        )
        with self.lock:
            if consumer_key is None:
                key = random_string(25)
                while key in self._apps:
                    key = random_string(25)
            elif consumer_key in self._apps:
                msg = f"consumer key {consumer_key!r} is already registered on this FakeTwitter"
                raise ValueError(msg)
            else:
                key = consumer_key
            self._apps[key] = AppState(name=name, secret=secret, permissions=permissions)
        return App(consumer_key=key, consumer_secret=secret)

    def set_app_permissions(self, consumer_key: str, permissions: Permissions) -> None:
        """Change an app's access level (tokens issued before keep theirs).

        Raises:
            KeyError: The app is unknown.
            ValueError: ``permissions`` is neither ``"read"`` nor ``"read-write"``.
        """
        _check_permissions(permissions)
        with self.lock:
            self.known_app(consumer_key).permissions = permissions

    def create_app_bearer(self, consumer_key: str) -> str:
        """Issue an app-only bearer token for a known app, shaped as X's are.

        Raises:
            KeyError: The app is unknown to this fake.
        """
        with self.lock:
            self.known_app(consumer_key)
            token = "A" * 22 + random_string(90)
            self._app_bearers[token] = consumer_key
            return token

    def app_bearer(self, token: str) -> str | None:
        """The consumer key of the app an app-only bearer token belongs to, if it is one."""
        with self.lock:
            return self._app_bearers.get(token)

    def app(self, consumer_key: str) -> AppState | None:
        """The app with that consumer key, if any."""
        with self.lock:
            return self._apps.get(consumer_key)

    def known_app(self, consumer_key: str) -> AppState:
        """The app with that consumer key.

        Raises:
            KeyError: The app is unknown (a message for the test's author).
        """
        with self.lock:
            try:
                return self._apps[consumer_key]
            except KeyError:
                msg = "unknown app: create it with create_app() on this FakeTwitter"
                raise KeyError(msg) from None

    # --- users ------------------------------------------------------------------------------

    def create_user(
        self, name: str, display_name: str | None = None, user_id: str | None = None
    ) -> str:
        """Register an account, or find the one with that screen name (in any case).

        Args:
            name: The screen name.
            display_name: The display name; defaults to the screen name.
            user_id: The user id to give a new account; random when None.

        Returns:
            The user id.

        Raises:
            ValueError: The screen name or the user id is not a valid one, the account
                exists with another user id, or the user id belongs to another account.
        """
        name = screen_name(name)
        if user_id is not None:
            _user_id(user_id)
        with self.lock:
            found = self._find_user(name, user_id)
            if found is not None:
                return found
            if user_id is None:
                user_id = str(10**18 + secrets.randbelow(9 * 10**18))
                while user_id in self._users:
                    user_id = str(10**18 + secrets.randbelow(9 * 10**18))
            self._users[user_id] = User(user_id, name, display_name or name)
            self._user_ids[name.lower()] = user_id
            return user_id

    def _find_user(self, name: str, user_id: str | None) -> str | None:
        """The user id of the account ``name``, if it exists; checks a wanted ``user_id``.

        Raises:
            ValueError: The account has another user id, or the id is another account's.
        """
        existing = self._user_ids.get(name.lower())
        if existing is not None and user_id is not None and existing != user_id:
            msg = f"screen name {name!r} already has user id {existing}, not {user_id}"
            raise ValueError(msg)
        if existing is None and user_id is not None and user_id in self._users:
            msg = f"user id {user_id} is already @{self._users[user_id].screen_name}"
            raise ValueError(msg)
        return existing

    def user(self, user_id: str) -> User:
        """The account with that user id (which the caller got from this registry)."""
        with self.lock:
            return self._users[user_id]

    def screen_names(self) -> list[str]:
        """Every account's screen name, sorted."""
        with self.lock:
            return sorted(user.screen_name for user in self._users.values())

    # --- access tokens ----------------------------------------------------------------------

    def issue_token(
        self,
        consumer_key: str,
        name: str,
        *,
        user_id: str | None = None,
        access_token: str | None = None,
        access_token_secret: str | None = None,
    ) -> Account:
        """Issue an access token for an account (created when needed) of a known app.

        Given values are used as they are; the others are made up. A new account's user id
        defaults to the digits an access token starts with (``<user id>-...``). Nothing is
        registered unless everything is valid.

        Raises:
            KeyError: The app is unknown.
            ValueError: The screen name or a given value is not a valid one, the access
                token is already registered (live or revoked), or the user id contradicts
                the account or the token.
        """
        name = screen_name(name)
        if user_id is not None:
            _user_id(user_id)
        if access_token is not None:
            _given(access_token, "access_token")
        secret = (
            _given(access_token_secret, "access_token_secret")
            if access_token_secret is not None
            else random_string(45)
        )
        with self.lock:
            state = self.known_app(consumer_key)
            existing = self._find_user(name, user_id)
            prefix = _TOKEN_USER.match(access_token or "")
            wanted = user_id or existing
            if prefix is not None:
                token_user = prefix.group(1)
                if wanted is not None and token_user != wanted:
                    msg = (
                        f"the access token starts with {token_user}- but the user id is "
                        f"{wanted}: a token starts with its user's id"
                    )
                    raise ValueError(msg)
                if not _USER_ID.fullmatch(token_user):
                    msg = f"the access token starts with {token_user}-, which is not a user id"
                    raise ValueError(msg)
                self._find_user(name, token_user)
                wanted = token_user
            if access_token is not None and self._token_known(access_token):
                msg = "that access token is already registered on this FakeTwitter"
                raise ValueError(msg)
            user_id = self.create_user(name, user_id=wanted)
            token = access_token or f"{user_id}-{random_string(40)}"
            self._access[token] = AccessToken(secret, consumer_key, user_id, state.permissions)
            user = self._users[user_id]
        return Account(
            consumer_key=consumer_key,
            consumer_secret=state.secret,
            access_token=token,
            access_token_secret=secret,
            screen_name=user.screen_name,
            user_id=user_id,
        )

    def access_token(self, token: str) -> AccessToken | None:
        """The live access token with that value, if any."""
        with self.lock:
            return self._access.get(token)

    def _token_known(self, token: str) -> bool:
        return token in self._access or token in self._revoked or token in self._pending

    def was_revoked(self, token: str) -> bool:
        """True when that access token existed and was revoked."""
        with self.lock:
            return token in self._revoked

    def revoke(self, token: str) -> None:
        """Revoke an access token or drop a pending request token.

        Raises:
            KeyError: The token is unknown.
        """
        with self.lock:
            if self._access.pop(token, None) is not None:
                self._revoked.add(token)
            elif self._pending.pop(token, None) is None:
                msg = "no such access or request token"
                raise KeyError(msg)

    def _issue_access_token(
        self, consumer_key: str, app: AppState, user_id: str
    ) -> tuple[str, str]:
        token = f"{user_id}-{random_string(40)}"
        secret = random_string(45)
        self._access[token] = AccessToken(secret, consumer_key, user_id, app.permissions)
        return token, secret

    # --- request tokens (the PIN flow) ------------------------------------------------------

    def create_request_token(self, consumer_key: str) -> tuple[str, str]:
        """A fresh request token and its secret, pending for that app."""
        token, secret = random_string(27), random_string(32)
        with self.lock:
            self._pending[token] = RequestToken(secret=secret, consumer_key=consumer_key)
        return token, secret

    def request_token(self, token: str) -> RequestToken | None:
        """The request token with that value, whatever its state, until it is exchanged."""
        with self.lock:
            return self._pending.get(token)

    def pending_token(self, token: str) -> RequestToken:
        """The request token with that value, neither approved nor denied yet.

        Raises:
            KeyError: The request token is unknown, already used, approved or denied.
        """
        with self.lock:
            pending = self._pending.get(token)
            if pending is None or pending.denied or pending.user_id is not None:
                msg = "no pending request token with that value (unknown, used, approved or denied)"
                raise KeyError(msg)
            return pending

    def approve(self, token: str, name: str, pin: str | None) -> str:
        """Approve a pending request token for an account (created when needed).

        Returns:
            The verifier: ``pin``, or random 7 digits when None.

        Raises:
            KeyError: The request token is unknown, already used, approved or denied.
            ValueError: The screen name or the PIN is not a valid one.
        """
        if pin is not None and not DIGITS.fullmatch(pin):
            msg = "a PIN is a string of digits, such as '0012345'"
            raise ValueError(msg)
        name = screen_name(name)
        with self.lock:
            pending = self.pending_token(token)
            user_id = self.create_user(name)
            pending.user_id = user_id
            pending.verifier = pin if pin is not None else f"{secrets.randbelow(10**7):07d}"
            return pending.verifier

    def deny(self, token: str) -> None:
        """Deny a pending request token.

        Raises:
            KeyError: The request token is unknown, already used, approved or denied.
        """
        with self.lock:
            self.pending_token(token).denied = True

    def exchange(self, token: str, app: AppState) -> tuple[str, str, User]:
        """Trade an approved request token for an access token (the request token is used up).

        Returns:
            The access token, its secret and the account it acts for.
        """
        with self.lock:
            pending = self._pending.pop(token)
            assert pending.user_id is not None
            user = self._users[pending.user_id]
            access, secret = self._issue_access_token(pending.consumer_key, app, user.user_id)
            return access, secret, user

    # --- OAuth 2.0 ---------------------------------------------------------------------------

    def create_oauth2_client(
        self, name: str, confidential: bool, redirect_uris: tuple[str, ...] | None
    ) -> tuple[str, str | None]:
        """Register an OAuth 2.0 client.

        Returns:
            Its client id (34 characters) and, for a confidential client, its secret (50).
        """
        secret = random_string(50) if confidential else None
        with self.lock:
            client_id = random_string(34)
            while client_id in self._oauth2_clients:
                client_id = random_string(34)
            self._oauth2_clients[client_id] = OAuth2Client(name, secret, redirect_uris)
        return client_id, secret

    def oauth2_client(self, client_id: str) -> OAuth2Client | None:
        """The OAuth 2.0 client with that id, if any."""
        with self.lock:
            return self._oauth2_clients.get(client_id)

    def save_code(self, code: str, grant: AuthCode) -> None:
        """Keep an authorization code until it is exchanged."""
        with self.lock:
            self._codes[code] = grant

    def code(self, code: str) -> AuthCode | None:
        """The authorization code with that value, unless it was exchanged."""
        with self.lock:
            return self._codes.get(code)

    def drop_code(self, code: str) -> None:
        """Forget an authorization code: it was exchanged."""
        with self.lock:
            self._codes.pop(code, None)

    def save_oauth2_tokens(
        self, access_token: str, refresh_token: str | None, grant: BearerGrant
    ) -> None:
        """Keep a new access token and, if any, its refresh token."""
        with self.lock:
            self._bearers[access_token] = grant
            if refresh_token is not None:
                self._refresh[refresh_token] = RefreshGrant(
                    grant.client_id, grant.user_id, grant.scopes
                )

    def bearer(self, token: str) -> BearerGrant | None:
        """The access token with that value, expired or not, unless it was revoked."""
        with self.lock:
            return self._bearers.get(token)

    def oauth2_token_was_live(self, token: str) -> bool:
        """True when that OAuth 2.0 token existed and was revoked or, if a refresh token, spent."""
        with self.lock:
            return token in self._oauth2_dead

    def refresh_grant(self, token: str) -> RefreshGrant | None:
        """The live refresh token with that value, if any."""
        with self.lock:
            return self._refresh.get(token)

    def spend_refresh_token(self, token: str) -> None:
        """Retire a refresh token that was just used, and count the refresh."""
        with self.lock:
            if self._refresh.pop(token, None) is not None:
                self._oauth2_dead.add(token)
                self.oauth2_refreshes += 1

    def revoke_oauth2_token(self, token: str) -> bool:
        """Revoke an OAuth 2.0 access or refresh token; False when it is not a live one."""
        with self.lock:
            if self._bearers.pop(token, None) is None and self._refresh.pop(token, None) is None:
                return False
            self._oauth2_dead.add(token)
            return True

    # --- nonces and rate limits -------------------------------------------------------------

    def use_nonce(self, key: _NonceKey, expiry: float) -> bool:
        """Remember a nonce until ``expiry`` (epoch seconds); False when it was seen already."""
        now = time.time()
        with self.lock:
            while self._nonce_expiry and self._nonce_expiry[0][0] < now:
                self._nonces.discard(heapq.heappop(self._nonce_expiry)[1])
            if key in self._nonces:
                return False
            self._nonces.add(key)
            heapq.heappush(self._nonce_expiry, (expiry, key))
            return True

    def count_request(self, token: str) -> tuple[int, int]:
        """Count a request against a token's 15-minute window.

        Returns:
            The requests counted in the window, this one included, and when it ends (epoch).
        """
        now = int(time.time())
        with self.lock:
            window = self._windows.get(token)
            if window is None or now >= window.reset:
                window = self._windows[token] = _Window(reset=now + RATE_LIMIT_WINDOW)
            window.count += 1
            return window.count, window.reset

    def reset_rate_limits(self) -> None:
        """Start a fresh window for every token, and a fresh day for every account."""
        with self.lock:
            self._windows.clear()
            self._daily.clear()

    def count_daily(self, user_id: str, endpoint: str, now: float) -> tuple[int, int]:
        """Count a call against an account's 24-hour window for one endpoint.

        Returns:
            The calls counted in the window, this one included, and when it ends (epoch).
        """
        with self.lock:
            window = self._daily.get((user_id, endpoint))
            if window is None or now >= window.reset:
                window = self._daily[user_id, endpoint] = _Window(int(now) + DAILY_WINDOW)
            window.count += 1
            return window.count, window.reset

    def set_enrolled(self, app_id: str, enrolled: bool) -> None:
        """Put an app in a project with API access (True), or take it out (False)."""
        with self.lock:
            if enrolled:
                self._unenrolled.discard(app_id)
            else:
                self._unenrolled.add(app_id)

    def enrolled(self, app_id: str) -> bool:
        """Whether the app (consumer key or client id) may call the v2 API."""
        with self.lock:
            return app_id not in self._unenrolled

    def spend_credit(self) -> bool:
        """Spend one credit; False (and nothing spent) when none are left."""
        with self.lock:
            if self.credits is None:
                return True
            if self.credits <= 0:
                return False
            self.credits -= 1
            return True

    # --- tweets -----------------------------------------------------------------------------

    def add_tweet(
        self,
        consumer_key: str,
        user: User,
        text: str,
        api: Literal["v2", "v1.1"],
        *,
        media_ids: tuple[str, ...] = (),
        reply_to: str | None = None,
    ) -> TweetRecord:
        """Hold a new tweet, with a fresh id greater than every earlier one."""
        with self.lock:
            self._next_tweet_id += 1 + secrets.randbelow(1 << 22)
            tweet = TweetRecord(
                id=str(self._next_tweet_id),
                text=text,
                screen_name=user.screen_name,
                user_id=user.user_id,
                consumer_key=consumer_key,
                api=api,
                media_ids=media_ids,
                reply_to=reply_to,
            )
            self._tweets[tweet.id] = tweet
            return tweet

    def has_tweet(self, user_id: str, text: str) -> bool:
        """True when that account holds a tweet with exactly that text."""
        with self.lock:
            return any(
                tweet.user_id == user_id and tweet.text == text for tweet in self._tweets.values()
            )

    def tweet(self, tweet_id: str) -> TweetRecord | None:
        """The tweet with that id, if held."""
        with self.lock:
            return self._tweets.get(tweet_id)

    def delete_tweet(self, tweet_id: str) -> None:
        """Drop a held tweet."""
        with self.lock:
            del self._tweets[tweet_id]

    def tweet_count(self, user_id: str) -> int:
        """How many tweets that account holds."""
        with self.lock:
            return sum(1 for tweet in self._tweets.values() if tweet.user_id == user_id)

    def tweets(self) -> list[TweetRecord]:
        """The tweets held, oldest first (a copy)."""
        with self.lock:
            return list(self._tweets.values())

    # --- records ----------------------------------------------------------------------------

    def add_record(self, record: RequestRecord) -> None:
        """Keep the record of a request served."""
        with self.lock:
            self._records.append(record)

    def records(self) -> list[RequestRecord]:
        """Every request record kept, in order (a copy)."""
        with self.lock:
            return list(self._records)

    def clear_records(self) -> None:
        """Forget the request records."""
        with self.lock:
            self._records.clear()
