"""Request authentication: from an incoming request to an identity, or to Twitter's refusal.

:mod:`._oauth` parses and verifies OAuth 1.0a signatures; this module decides what a request
may act as, in the order Twitter checks: the scheme, the parameters, the app, the clock, the
token, the signature, then the nonce. On v2, an OAuth 2.0 user token (``Authorization:
Bearer``) is the other way in: :mod:`._oauth2` checks it is live and holds the endpoint's
scopes (401 when expired, revoked or unknown; 403 for a missing scope). An OAuth 1.0a access
token sent as a bearer token (the classic mistake) gets X's 403 for app-only authentication.
User-context API calls also count against the token's rate limit here. A refusal is raised
as :class:`~._exchange.Reject` carrying the answer to send, in the shape of the API asked:
the OAuth endpoints and v1.1 name the cause with Twitter's code (``{"errors": [{"code": 89,
...}]}``); v2 answers every authentication failure with the same 401 problem, as X does
(``{"title": "Unauthorized", "detail": "Unauthorized", ...}``), and only the record's
``reason`` tells them apart.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Literal

from twcreds.testing._exchange import (
    Answer,
    Context,
    Incoming,
    Reject,
    Settings,
    problem,
    v1_error,
)
from twcreds.testing._oauth import (
    MalformedOAuth,
    SignedRequest,
    parse_signed_request,
    verify_hmac_sha1,
)
from twcreds.testing._oauth2 import OAuth2Server
from twcreds.testing._registry import (
    DIGITS,
    AccessToken,
    AppState,
    Registry,
    RequestToken,
    User,
)

__all__ = [
    "MSG_32",
    "MSG_89",
    "MSG_215",
    "UNLIMITED",
    "Api",
    "Auth",
    "Authenticator",
    "Caller",
    "Expect",
]

#: What ``x-rate-limit-limit`` reports when no ``rate_limit`` is set.
UNLIMITED = 1_000_000

MSG_32 = "Could not authenticate you."
MSG_89 = "Invalid or expired token."
MSG_135 = "Timestamp out of bounds."
MSG_215 = "Bad Authentication data."

#: The token a request must be signed with: none needed (``request_token``; an access
#: token is still checked when sent), a request token, or an access token.
Expect = Literal["none", "request", "access"]
#: Which API a request is for, and so the shape of its refusals.
Api = Literal["oauth", "v1.1", "v2"]
#: More digits than any timestamp within reach of a clock has, leading zeros aside: such a
#: timestamp is out of bounds, without turning it into a number (which Python refuses past
#: 4,300 digits, and cannot compare with a float past about 300).
_TIMESTAMP_DIGITS = 15


class _Refused(Exception):
    """An authentication failure, before it is given the shape of the API asked."""

    def __init__(self, status: int, code: int, message: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.message, self.reason = status, code, message, reason

    def answer(self, api: Api) -> Answer:
        if api == "v2":
            return problem(401, "Unauthorized", "Unauthorized", self.reason)
        return v1_error(self.status, self.code, self.message, self.reason)


@dataclass(frozen=True)
class Auth:
    """A request that passed authentication, and what it was signed with.

    Attributes:
        consumer_key: The app's consumer key.
        app: The app.
        signed: The OAuth 1.0a parameters of the request.
        access_token: The access token it was signed with, if any.
        access: That token's state.
        request_token: The request token it was signed with, if any.
        pending: That token's state.
    """

    consumer_key: str
    app: AppState
    signed: SignedRequest
    access_token: str | None = None
    access: AccessToken | None = None
    request_token: str | None = None
    pending: RequestToken | None = None


@dataclass(frozen=True)
class Caller:
    """Who a v2 call acts for.

    Attributes:
        app_id: The app: its consumer key (OAuth 1.0a) or its client id (OAuth 2.0).
        user: The account.
    """

    app_id: str
    user: User


class Authenticator:
    """Authenticates requests against a registry, with the fake's live settings.

    Args:
        registry: The apps, users and tokens to check against.
        settings: The clock skew, timestamp window and rate limit, read on every request.
        oauth2: What checks OAuth 2.0 bearer tokens.
    """

    def __init__(self, registry: Registry, settings: Settings, oauth2: OAuth2Server) -> None:
        self._registry = registry
        self._settings = settings
        self._oauth2 = oauth2

    def v2_caller(
        self, req: Incoming, ctx: Context, *, scopes: tuple[str, ...], write: bool = False
    ) -> Caller:
        """Authenticate a v2 call, by OAuth 1.0a or an OAuth 2.0 user token.

        Args:
            req: The request.
            ctx: Filled in as the caller is known.
            scopes: The OAuth 2.0 scopes the endpoint needs.
            write: The endpoint writes: an OAuth 1.0a token must be read-write.

        Raises:
            Reject: 401 (authentication failed), 403 (a missing scope, a read-only token,
                an app-only or OAuth 1.0a token sent as a bearer token), or 429.
        """
        if _is_bearer(req):
            return self._bearer_caller(req, ctx, scopes)
        auth, user = self.user_context(req, ctx, "v2")
        assert auth.access is not None
        if write and auth.access.permissions != "read-write":
            raise Reject(_v2_read_only())
        return Caller(auth.consumer_key, user)

    def _bearer_caller(self, req: Incoming, ctx: Context, scopes: tuple[str, ...]) -> Caller:
        assert req.authorization is not None
        token = req.authorization.split(None, 1)[1].strip() if " " in req.authorization else ""
        if self._registry.access_token(token) is not None or self._registry.app_bearer(token):
            _refuse_bearer(req, "v2")
        checked = self._oauth2.check_bearer(req.authorization, scopes)
        if checked.status == 401:
            raise Reject(problem(401, "Unauthorized", "Unauthorized", checked.reason or ""))
        if checked.status != 200:
            raise Reject(problem(403, "Forbidden", "Forbidden", checked.reason or ""))
        assert checked.client_id is not None
        assert checked.user_id is not None
        user = self._registry.user(checked.user_id)
        ctx.verified = True
        ctx.consumer_key, ctx.screen_name, ctx.user_id = (
            checked.client_id,
            user.screen_name,
            user.user_id,
        )
        self._count(ctx, token, "v2")
        return Caller(checked.client_id, user)

    def authenticate(
        self, req: Incoming, ctx: Context, *, expect: Expect, api: Api = "oauth"
    ) -> Auth:
        """Check a request's OAuth 1.0a credentials, filling ``ctx`` in as they are known.

        Raises:
            Reject: With Twitter's answer: for the OAuth endpoints and v1.1, codes 32, 89,
                135 or 215; for v2, a 401 problem (or 403 for an app-only bearer token).
        """
        try:
            return self._authenticate(req, ctx, expect, api)
        except _Refused as refused:
            raise Reject(refused.answer(api)) from None

    def _authenticate(self, req: Incoming, ctx: Context, expect: Expect, api: Api) -> Auth:
        _refuse_bearer(req, api)
        signed = self._parse(req)
        ctx.consumer_key = signed.consumer_key
        app = self._app(signed)
        timestamp = self._check_timestamp(signed)
        if expect == "request":
            auth, token_secret = self._request_token(signed, app)
        elif expect == "access" or signed.token is not None:
            auth, token_secret = self._access_token(signed, app)
        else:
            auth, token_secret = Auth(signed.consumer_key, app, signed), None
        if not verify_hmac_sha1(signed, app.secret, token_secret):
            raise _Refused(401, 32, MSG_32, "bad signature")
        self._check_nonce(signed, timestamp)
        ctx.verified = True
        if auth.access is not None:
            user = self._registry.user(auth.access.user_id)
            ctx.screen_name, ctx.user_id = user.screen_name, user.user_id
        return auth

    def user_context(
        self, req: Incoming, ctx: Context, api: Literal["v2", "v1.1"]
    ) -> tuple[Auth, User]:
        """Authenticate a user-context API call and count it against the rate limit.

        The rate-limit headers go into ``ctx``: they come with every answer past this point,
        refusals included, as on Twitter.

        Returns:
            The authentication (with an access token) and the account it acts for.

        Raises:
            Reject: Authentication failed, or the window's limit is used up (429).
        """
        auth = self.authenticate(req, ctx, expect="access", api=api)
        assert auth.access is not None
        assert auth.access_token is not None
        self._count(ctx, auth.access_token, api)
        return auth, self._registry.user(auth.access.user_id)

    def _count(self, ctx: Context, token: str, api: Literal["v2", "v1.1"]) -> None:
        """Count a call against the token's window; its headers go into ``ctx``.

        Raises:
            Reject: The window's limit is used up (429).
        """
        count, reset = self._registry.count_request(token)
        rate_limit = self._settings.rate_limit
        limit = rate_limit if rate_limit is not None else UNLIMITED
        ctx.rate_headers = {
            "x-rate-limit-limit": str(limit),
            "x-rate-limit-remaining": str(max(0, limit - count)),
            "x-rate-limit-reset": str(reset),
        }
        if count > limit:
            if api == "v2":
                raise Reject(problem(429, "Too Many Requests", "Too Many Requests", "rate limited"))
            raise Reject(v1_error(429, 88, "Rate limit exceeded", "rate limited"))

    # --- the checks, in order ---------------------------------------------------------------

    def _parse(self, req: Incoming) -> SignedRequest:
        try:
            return parse_signed_request(
                method=req.method,
                host=req.host,
                path=req.path,
                query=req.query,
                authorization=req.authorization,
                content_type=req.content_type,
                body=req.body,
                public_url=self._settings.public_url,
            )
        except MalformedOAuth as exc:
            raise _Refused(400, 215, MSG_215, exc.reason) from None

    def _app(self, signed: SignedRequest) -> AppState:
        app = self._registry.app(signed.consumer_key)
        if app is None:
            raise _Refused(401, 32, MSG_32, "unknown consumer key")
        if signed.signature_method.upper() != "HMAC-SHA1":
            raise _Refused(401, 32, MSG_32, "unsupported signature method")
        if signed.version not in (None, "1.0"):
            raise _Refused(401, 32, MSG_32, "unsupported oauth_version")
        return app

    def _check_timestamp(self, signed: SignedRequest) -> int:
        """The timestamp's value, once it is known to be within the window."""
        if not DIGITS.fullmatch(signed.timestamp):
            raise _Refused(401, 32, MSG_32, "malformed timestamp")
        digits = signed.timestamp.lstrip("0") or "0"
        now = time.time() + self._settings.clock_skew
        if (
            len(digits) > _TIMESTAMP_DIGITS
            or abs(int(digits) - now) > self._settings.timestamp_window
        ):
            raise _Refused(401, 135, MSG_135, "timestamp out of bounds")
        return int(digits)

    def _request_token(self, signed: SignedRequest, app: AppState) -> tuple[Auth, str]:
        pending = self._registry.request_token(signed.token or "")
        if pending is None or pending.consumer_key != signed.consumer_key:
            raise _Refused(401, 89, MSG_89, "unknown or used request token")
        auth = Auth(signed.consumer_key, app, signed, request_token=signed.token, pending=pending)
        return auth, pending.secret

    def _access_token(self, signed: SignedRequest, app: AppState) -> tuple[Auth, str]:
        if signed.token is None:
            raise _Refused(400, 215, MSG_215, "missing oauth_token")
        access = self._registry.access_token(signed.token)
        if access is None:
            revoked = self._registry.was_revoked(signed.token)
            raise _Refused(401, 89, MSG_89, "revoked token" if revoked else "unknown token")
        if access.consumer_key != signed.consumer_key:
            raise _Refused(401, 89, MSG_89, "token of another app")
        auth = Auth(signed.consumer_key, app, signed, access_token=signed.token, access=access)
        return auth, access.secret

    def _check_nonce(self, signed: SignedRequest, timestamp: int) -> None:
        # Past this moment the timestamp check refuses the request anyway.
        settings = self._settings
        expiry = timestamp - settings.clock_skew + settings.timestamp_window + 1
        key = (signed.consumer_key, signed.nonce, str(timestamp))
        if not self._registry.use_nonce(key, expiry):
            raise _Refused(401, 32, MSG_32, "replayed nonce")


def _is_bearer(req: Incoming) -> bool:
    return bool(req.authorization and req.authorization.lower().startswith("bearer "))


def _v2_read_only() -> Answer:
    return problem(
        403,
        "Forbidden",
        "Your client app is not configured with the appropriate oauth1 app permissions "
        "for this endpoint.",
        "read-only app",
        type="https://api.twitter.com/2/problems/oauth1-permissions",
    )


def _refuse_bearer(req: Incoming, api: Api) -> None:
    # OAuth 2.0 user tokens are checked apart (v2_caller); any other bearer token is
    # refused as app-only authentication, on the OAuth endpoints and v1.1 as on v2.
    if not _is_bearer(req):
        return
    if api == "v2":
        raise Reject(
            problem(
                403,
                "Unsupported Authentication",
                "Authenticating with OAuth 2.0 Application-Only is forbidden for "
                "this endpoint.  Supported authentication types are "
                "[OAuth 1.0a User Context, OAuth 2.0 User Context].",
                "bearer token on a user-context endpoint",
                type="https://api.twitter.com/2/problems/unsupported-authentication",
            )
        )
    raise _Refused(401, 89, MSG_89, "bearer token")
