"""OAuth 2.0 as X runs it, on oauthlib's server side: authorize, token, revoke, bearer checks.

oauthlib's :class:`~oauthlib.oauth2.WebApplicationServer` does the protocol (PKCE, client
authentication, exact redirects, the token answers) and asks :class:`_Validator` about the
state, which lives in the :class:`~._registry.Registry`. What X does beyond RFC 6749 is set
up here, each where oauthlib offers a hook:

- S256 only: a ``pre_auth`` validator refuses ``plain`` (and a missing method, which
  oauthlib would read as ``plain``), and takes ``s256`` as ``S256``, as X does.
- Codes live 30 seconds (:data:`CODE_LIFETIME`), on the fake's clock (``clock_skew``
  included, so a test can let one expire without sleeping); single use. An expired, used
  or unknown code is X's 400 ``invalid_request`` ("Value passed for the authorization
  code was invalid."), raised from ``validate_code`` (a False there would be
  ``invalid_grant``).
- Refresh tokens only with ``offline.access``, and they rotate: oauthlib issues a new one
  on every refresh but never retires the old one, so :meth:`_Validator.save_bearer_token`
  does; a spent, revoked or unknown refresh token is X's 400 ``invalid_request``.
- ``"token_type": "bearer"`` in lower case, as X writes it; revoke answers
  ``{"revoked": true}``.

oauthlib's server side checks no transport (only its client side refuses ``http://``), so
the URIs handed to it are the fake's own; nothing sets ``OAUTHLIB_INSECURE_TRANSPORT``.
Its loggers write codes and tokens at DEBUG ("Issuing new token ... {'access_token': ...}"):
records from the fake's own calls into it are dropped (:func:`_quiet`), on the fake's
threads only, so the records of a client that uses oauthlib in the same process stay.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import secrets
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from oauthlib.common import add_params_to_uri  # type: ignore[import-untyped]
from oauthlib.oauth2 import (  # type: ignore[import-untyped]
    RequestValidator,
    WebApplicationServer,
)
from oauthlib.oauth2.rfc6749 import errors  # type: ignore[import-untyped]

from twcreds.testing._registry import AuthCode, BearerGrant, OAuth2Client, Registry

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "CODE_LIFETIME",
    "SCOPES",
    "Authorization",
    "Bearer",
    "OAuth2Refusal",
    "OAuth2Server",
    "RedirectedError",
    "TokenAnswer",
]

CODE_LIFETIME = 30.0
ACCESS_TOKEN_LIFETIME = 7200
#: Every scope X's authorize page knows.
SCOPES = frozenset(
    {
        "tweet.read",
        "tweet.write",
        "tweet.moderate.write",
        "users.email",
        "users.read",
        "follows.read",
        "follows.write",
        "offline.access",
        "space.read",
        "mute.read",
        "mute.write",
        "like.read",
        "like.write",
        "list.read",
        "list.write",
        "block.read",
        "block.write",
        "bookmark.read",
        "bookmark.write",
        "media.write",
        "dm.read",
        "dm.write",
    }
)
_INVALID_TOKEN = "Value passed for the token was invalid."  # noqa: S105 - a message
_INVALID_CODE = "Value passed for the authorization code was invalid."
# The base oauthlib parses authorize URLs against: only their query counts.
_AUTHORIZE = "https://x.com/i/oauth2/authorize"

# --- keeping oauthlib's DEBUG records of codes and tokens out of the logs ------------------

_serving = threading.local()


class _FakesOwnCalls(logging.Filter):
    """Drops oauthlib's records made while this thread is inside the fake's oauthlib calls."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_serving, "active", False)


_FILTER = _FakesOwnCalls()


def _install_filter() -> None:
    # A logger's filters see only its own records, not its children's: so every oauthlib
    # module logger gets one. They exist once their modules are imported (above).
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if (
            name.startswith("oauthlib")
            and isinstance(logger, logging.Logger)
            and _FILTER not in logger.filters
        ):
            logger.addFilter(_FILTER)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    _install_filter()
    before = getattr(_serving, "active", False)
    _serving.active = True
    try:
        yield
    finally:
        _serving.active = before


# --- what the endpoints get back -----------------------------------------------------------


class OAuth2Refusal(Exception):
    """An authorize request with no redirect to send the user back to (fatal for oauthlib).

    Attributes:
        description: oauthlib's description of what is wrong (no secret in it).
    """

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.description = description


@dataclass(frozen=True)
class Authorization:
    """A valid authorize request, as the approve page shows it."""

    client_id: str
    app_name: str
    scopes: tuple[str, ...]
    redirect_uri: str
    state: str | None


@dataclass(frozen=True)
class TokenAnswer:
    """The token or revoke endpoint's answer, and what its record says."""

    status: int
    body: bytes = field(repr=False)  # it holds the tokens
    headers: dict[str, str]
    reason: str | None


@dataclass(frozen=True)
class Bearer:
    """The outcome of checking a bearer token for an endpoint's scopes.

    Attributes:
        status: 200 when it may act; 401 (expired, revoked, unknown) or 403 (missing
            scope) otherwise.
        reason: A short, secret-free account of a refusal.
        client_id: The client the token was issued to.
        user_id: The account it acts for.
    """

    status: int
    reason: str | None = None
    client_id: str | None = None
    user_id: str | None = None


@dataclass
class _Client:
    # What oauthlib wants as request.client: something with a client_id.
    client_id: str


# --- the validator -------------------------------------------------------------------------


class _Validator(RequestValidator):  # type: ignore[misc]
    """oauthlib's questions, answered from the registry on the fake's clock."""

    def __init__(self, registry: Registry, clock: Callable[[], float]) -> None:
        super().__init__()
        self._registry = registry
        self._clock = clock
        #: Why the call being served was refused, more precisely than its error code.
        self.reason: str | None = None

    def _refuse(self, reason: str) -> bool:
        self.reason = reason
        return False

    # clients

    def _client(self, client_id: str | None) -> OAuth2Client | None:
        return self._registry.oauth2_client(client_id) if client_id else None

    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        if _basic_credentials(request) is not None:
            return True  # checked as sent, whoever sends it
        # A confidential client must use Basic; a public one sends only its client_id.
        client = self._client(request.client_id)
        return client is not None and client.secret is not None

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        basic = _basic_credentials(request)
        if basic is None:
            return self._refuse("no Basic authentication from a confidential client")
        client_id, secret = basic
        client = self._client(client_id)
        if client is None:
            return self._refuse("unknown client id")
        if client.secret is None:
            return self._refuse("Basic authentication from a public client")
        if not secrets.compare_digest(secret.encode(), client.secret.encode()):
            return self._refuse("wrong client secret")
        if request.client_id not in (None, client_id):
            return self._refuse("client_id in the body is another client's")
        request.client_id = client_id
        request.client = _Client(client_id)
        return True

    def authenticate_client_id(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        client = self._client(client_id)
        if client is None:
            return self._refuse("unknown client id")
        if client.secret is not None:
            return self._refuse("no Basic authentication from a confidential client")
        request.client = _Client(client_id)
        return True

    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        return self._client(client_id) is not None

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    # the authorize step

    def validate_redirect_uri(
        self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        client = self._client(client_id)
        if client is None:
            return False
        # None: any absolute URI (oauthlib checked that), to be repeated at the token call.
        return client.redirect_uris is None or redirect_uri in client.redirect_uris

    def get_default_redirect_uri(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> str | None:
        return None  # X wants redirect_uri in every authorize request

    def validate_response_type(
        self,
        client_id: str,
        response_type: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return response_type == "code"

    def validate_scopes(
        self,
        client_id: str,
        scopes: list[str],
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        return bool(scopes) and all(scope in SCOPES for scope in scopes)

    def get_default_scopes(
        self, client_id: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        return []

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        return True

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        self._registry.save_code(
            code["code"],
            AuthCode(
                client_id=client_id,
                user_id=request.user_id,
                scopes=tuple(request.scopes),
                redirect_uri=request.redirect_uri,
                challenge=request.code_challenge,
                challenge_method=request.code_challenge_method,
                expires_at=self._clock() + CODE_LIFETIME,
            ),
        )

    # the code grant

    def validate_code(
        self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        grant = self._registry.code(code)
        if grant is None:
            self.reason = "unknown or used authorization code"
        elif grant.client_id != client_id:
            self.reason = "authorization code of another client"
        elif self._clock() > grant.expires_at:
            self.reason = "expired authorization code"
        else:
            request.user_id = grant.user_id
            request.scopes = list(grant.scopes)
            return True
        # X answers 400 invalid_request here, not RFC 6749's invalid_grant.
        raise errors.InvalidRequestError(description=_INVALID_CODE, request=request)

    def get_code_challenge(self, code: str, request: Any) -> str | None:
        grant = self._registry.code(code)
        return grant.challenge if grant is not None else None

    def get_code_challenge_method(self, code: str, request: Any) -> str | None:
        grant = self._registry.code(code)
        return grant.challenge_method if grant is not None else None

    def confirm_redirect_uri(
        self,
        client_id: str,
        code: str,
        redirect_uri: str,
        client: Any,
        request: Any,
        *args: Any,
        **kwargs: Any,
    ) -> bool:
        grant = self._registry.code(code)
        if grant is None or redirect_uri != grant.redirect_uri:
            return self._refuse("redirect_uri differs from the authorize request's")
        return True

    def invalidate_authorization_code(
        self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        self._registry.drop_code(code)

    # the refresh grant

    def validate_refresh_token(
        self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        grant = self._registry.refresh_grant(refresh_token)
        if grant is None or grant.client_id != client.client_id:
            if self._registry.oauth2_token_was_live(refresh_token):
                self.reason = "spent or revoked refresh token"
            else:
                self.reason = "unknown refresh token"
            # X answers 400 invalid_request here, not RFC 6749's invalid_grant.
            raise errors.InvalidRequestError(description=_INVALID_TOKEN, request=request)
        request.user_id = grant.user_id
        return True

    def get_original_scopes(
        self, refresh_token: str, request: Any, *args: Any, **kwargs: Any
    ) -> list[str]:
        grant = self._registry.refresh_grant(refresh_token)
        return list(grant.scopes) if grant is not None else []

    def save_bearer_token(
        self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        if request.grant_type == "refresh_token":
            # oauthlib issued a new refresh token but keeps the old one alive: X does not.
            self._registry.spend_refresh_token(request.refresh_token)
        self._registry.save_oauth2_tokens(
            token["access_token"],
            token.get("refresh_token"),
            BearerGrant(
                client_id=request.client_id or request.client.client_id,
                user_id=request.user_id,
                scopes=tuple(request.scopes),
                expires_at=self._clock() + int(token["expires_in"]),
            ),
        )

    # revocation

    def revoke_token(
        self, token: str, token_type_hint: str | None, request: Any, *args: Any, **kwargs: Any
    ) -> None:
        self._registry.revoke_oauth2_token(token)

    # resources

    def validate_bearer_token(self, token: str | None, scopes: list[str], request: Any) -> bool:
        grant = self._registry.bearer(token) if token else None
        if grant is None:
            dead = token is not None and self._registry.oauth2_token_was_live(token)
            self.reason = "revoked bearer token" if dead else "unknown bearer token"
            return False
        if self._clock() >= grant.expires_at:
            return self._refuse("expired bearer token")
        missing = [scope for scope in scopes if scope not in grant.scopes]
        if missing:
            return self._refuse(f"missing scope {' '.join(missing)}")
        request.client_id, request.user_id = grant.client_id, grant.user_id
        return True


def _basic_credentials(request: Any) -> tuple[str, str] | None:
    """``(client_id, client_secret)`` from an HTTP Basic header (RFC 6749 2.3.1), or None."""
    header = request.headers.get("Authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote(client_id), unquote(secret)


def _s256_only(request: Any) -> dict[str, str]:
    # oauthlib accepts "plain", and reads a missing method as "plain": X takes S256 only,
    # in any case (twitter-api-v2, the most used Node client, sends "s256").
    if request.code_challenge is None:
        return {}
    method = request.code_challenge_method
    if not isinstance(method, str) or method.upper() != "S256":
        raise errors.InvalidRequestError(
            description="code_challenge_method must be S256", request=request
        )
    request.code_challenge_method = "S256"  # the name oauthlib knows
    return {}


def _x_token(token: dict[str, Any], token_handler: Any, request: Any) -> dict[str, Any]:
    # X writes "bearer" in lower case, and gives a refresh token only with offline.access.
    token["token_type"] = "bearer"  # noqa: S105 - a token type, not a token
    if "offline.access" not in (request.scopes or ()):
        token.pop("refresh_token", None)
    return token


# --- the server ----------------------------------------------------------------------------


class OAuth2Server:
    """X's OAuth 2.0 endpoints and bearer checks, over one registry.

    Every method holds the registry's lock throughout, so a code or a refresh token is
    used once however many requests race for it.

    Args:
        registry: The clients, codes and tokens.
        clock: The fake's clock (epoch seconds).
    """

    def __init__(self, registry: Registry, clock: Callable[[], float]) -> None:
        self._registry = registry
        self._clock = clock
        self._validator = _Validator(registry, clock)
        self._server = WebApplicationServer(
            self._validator,
            token_expires_in=ACCESS_TOKEN_LIFETIME,
            token_generator=_token,
            refresh_token_generator=_token,
        )
        self._server.auth_grant.custom_validators.pre_auth.append(_s256_only)
        for grant in (self._server.auth_grant, self._server.refresh_grant):
            grant.register_token_modifier(_x_token)

    # authorize

    def authorization(self, query: str) -> Authorization:
        """Check an authorize request (the query of its URL).

        Raises:
            OAuth2Refusal: No redirect can be trusted (unknown client, redirect URI not
                registered, duplicate parameters): the page says what is wrong.
            RedirectedError: A refusal to send back to the redirect URI.
        """
        with self._registry.lock, _quiet():
            try:
                scopes, info = self._server.validate_authorization_request(f"{_AUTHORIZE}?{query}")
            except errors.FatalClientError as exc:
                raise OAuth2Refusal(exc.description) from None
            except errors.OAuth2Error as exc:
                raise RedirectedError(_error_redirect(exc)) from None
            client = self._registry.oauth2_client(info["client_id"])
            assert client is not None
            return Authorization(
                client_id=info["client_id"],
                app_name=client.name,
                scopes=tuple(scopes),
                redirect_uri=info["redirect_uri"],
                state=info["state"],
            )

    def approve(self, query: str, user_id: str) -> str:
        """The redirect after "Authorize app": the redirect URI with ``code`` and ``state``.

        Raises:
            OAuth2Refusal: As :meth:`authorization`.
            RedirectedError: As :meth:`authorization`.
        """
        with self._registry.lock, _quiet():
            authorization = self.authorization(query)
            headers, _, _ = self._server.create_authorization_response(
                f"{_AUTHORIZE}?{query}",
                scopes=list(authorization.scopes),
                credentials={"user_id": user_id},
            )
            return str(headers["Location"])

    def deny(self, query: str) -> str:
        """The redirect after "Cancel": ``error=access_denied`` and the ``state``.

        Raises:
            OAuth2Refusal: As :meth:`authorization`.
            RedirectedError: As :meth:`authorization`.
        """
        authorization = self.authorization(query)
        params = [("error", "access_denied")]
        if authorization.state is not None:
            params.append(("state", authorization.state))
        return str(add_params_to_uri(authorization.redirect_uri, params))

    # token and revoke

    def token(self, body: str, authorization: str | None) -> TokenAnswer:
        """Answer ``POST /2/oauth2/token`` (a form body)."""
        with self._registry.lock, _quiet():
            self._validator.reason = None
            try:
                headers, text, status = self._server.create_token_response(
                    "https://api.x.com/2/oauth2/token",
                    "POST",
                    body,
                    _form_headers(authorization),
                )
            except ValueError:
                # oauthlib could not parse the body as a form.
                return _oauth_error(400, "invalid_request", "The body is not a form.")
            return self._answer(status, text, headers)

    def revoke(self, body: str, authorization: str | None) -> TokenAnswer:
        """Answer ``POST /2/oauth2/revoke`` (a form body)."""
        with self._registry.lock, _quiet():
            self._validator.reason = None
            try:
                headers, text, status = self._server.create_revocation_response(
                    "https://api.x.com/2/oauth2/revoke",
                    "POST",
                    body,
                    _form_headers(authorization),
                )
            except ValueError:
                return _oauth_error(400, "invalid_request", "The body is not a form.")
            if status == 200:
                text = json.dumps({"revoked": True})
                headers["Content-Type"] = "application/json"
            return self._answer(status, text, headers)

    def _answer(self, status: int, text: str | None, headers: dict[str, str]) -> TokenAnswer:
        reason = None
        if status != 200:
            error = _error_code(text)
            reason = f"{error}: {self._validator.reason}" if self._validator.reason else error
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        return TokenAnswer(status, (text or "").encode(), headers, reason)

    # resources

    def check_bearer(self, authorization: str, scopes: tuple[str, ...]) -> Bearer:
        """Whether a bearer token may call an endpoint that needs ``scopes``."""
        with self._registry.lock, _quiet():
            self._validator.reason = None
            valid, request = self._server.verify_request(
                "https://api.x.com/2/",
                headers={"Authorization": authorization},
                scopes=list(scopes),
            )
            if valid:
                return Bearer(200, client_id=request.client_id, user_id=request.user_id)
            reason = self._validator.reason or "unusable bearer token"
            return Bearer(403 if reason.startswith("missing scope") else 401, reason)

    # helpers for FakeTwitter

    def issue(
        self, client_id: str, user_id: str, scopes: tuple[str, ...], expires_in: float
    ) -> tuple[str, str | None, float]:
        """Issue tokens without the flow, as if it had just run.

        Returns:
            The access token, the refresh token (with ``offline.access`` only) and when the
            access token expires (epoch seconds, on the fake's clock).
        """
        access = _token(None)
        refresh = _token(None) if "offline.access" in scopes else None
        expires_at = self._clock() + expires_in
        self._registry.save_oauth2_tokens(
            access, refresh, BearerGrant(client_id, user_id, scopes, expires_at)
        )
        return access, refresh, expires_at


class RedirectedError(Exception):
    """An authorize request refused with a redirect (``error=...`` and the ``state``).

    Attributes:
        location: The redirect URL.
    """

    def __init__(self, location: str) -> None:
        super().__init__("refused with a redirect")
        self.location = location


def _token(request: Any) -> str:
    # X's tokens are opaque URL-safe strings of about 90 characters.
    return secrets.token_urlsafe(68)


def _form_headers(authorization: str | None) -> dict[str, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if authorization:
        headers["Authorization"] = authorization
    return headers


def _error_redirect(exc: Any) -> str:
    # What oauthlib's own authorization response does with such an error.
    return str(exc.in_uri(exc.redirect_uri))


def _error_code(text: str | None) -> str:
    try:
        data = json.loads(text or "")
    except ValueError:
        return "error"
    error = data.get("error") if isinstance(data, dict) else None
    return error if isinstance(error, str) else "error"


def _oauth_error(status: int, error: str, description: str) -> TokenAnswer:
    body = json.dumps({"error": error, "error_description": description}).encode()
    return TokenAnswer(status, body, {}, error)
