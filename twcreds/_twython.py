"""The Twython boundary: the only module that touches twython and requests.

It owns where requests go (Twitter's URLs, ``api_base``), how long each connect and each
read may wait (the timeout, on every call, the OAuth-flow calls included; it is not a
deadline for a whole call), and what a failure of twython or requests becomes in our error
tree: a network failure is a `TwitterConnectionError`, and an error answer is handed, as an
:class:`Answer`, to the caller's own translation (Twitter's codes and hints live in
`twcreds.api`, the PIN flow's messages in `twcreds.authorization`).

An answer twython cannot parse (bytes that are not UTF-8, JSON that is not an object or
nests too deeply, an error message that is not a string) is an answer like any other here,
never a raw ``UnicodeDecodeError``, ``TypeError`` or ``RecursionError``. Our errors are
raised outside the ``except`` blocks, so nothing twython or requests raised, which may quote
the whole answer (a token's secret included), is chained to them.

Imported only when a client is first built (or an ``api_base`` checked), so that
``import twcreds`` and ``from twcreds import load_client`` do not pay for twython and
requests.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar
from urllib.parse import urlsplit

import requests
import requests.auth
from twython import Twython, TwythonAuthError, TwythonError
from typing_extensions import Self

from twcreds.errors import CredentialsError, TwcredsError, TwitterAPIError, TwitterConnectionError

if TYPE_CHECKING:
    from twcreds.models import BearerToken, OAuth2Account

__all__ = [
    "MEDIA_UPLOAD",
    "TWEETS",
    "TWITTER_API",
    "USERS_ME",
    "Answer",
    "AppOnlyClient",
    "BearerAuth",
    "Client",
    "FlowFailure",
    "OAuth2Client",
    "TokenKeeper",
    "call",
    "check_timeout",
    "connection_error",
    "flow_call",
    "last_answer",
    "post_form",
    "resolve_api_base",
    "shared_connections",
]

T = TypeVar("T")

#: What twython raises, unguarded, while it parses a hostile answer: a body that is not
#: UTF-8 (UnicodeDecodeError is a ValueError), JSON that is not an object (TypeError,
#: AttributeError), that lacks a key (KeyError, IndexError) or nests 100,000 levels deep.
_PARSE_FAILURES = (ValueError, TypeError, AttributeError, KeyError, IndexError, RecursionError)

TWITTER_API = "https://api.twitter.com"
USERS_ME = f"{TWITTER_API}/2/users/me"
TWEETS = f"{TWITTER_API}/2/tweets"
MEDIA_UPLOAD = f"{TWITTER_API}/2/media/upload"

#: Hosts whose full URLs are sent to ``api_base`` instead (media methods hard-code upload.).
_TWITTER_HOSTS = (
    "https://api.twitter.com/",
    "https://upload.twitter.com/",
    "https://api.x.com/",
    "https://upload.x.com/",
)
_VERSION_SUFFIX = re.compile(r"/(?:1\.1|2)$")


# --- where and how long ----------------------------------------------------------------


def check_timeout(timeout: float) -> float:
    """A timeout is a positive number of seconds.

    Raises:
        TypeError: it is not a number.
        ValueError: it is zero, negative, or not finite.
    """
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        msg = f"timeout must be a number of seconds, not {type(timeout).__name__}"
        raise TypeError(msg)
    if not (timeout > 0 and math.isfinite(timeout)):
        msg = f"timeout must be a positive number of seconds, such as 30, not {timeout!r}"
        raise ValueError(msg)
    return float(timeout)


def resolve_api_base(api_base: str | None = None) -> str:
    """The API base to use: the argument, else ``TWCREDS_API_BASE``, else Twitter.

    A blank argument or variable counts as not given.

    Returns:
        The base URL without a trailing slash, such as ``http://127.0.0.1:8080``.

    Raises:
        CredentialsError: the base is not an ``http://`` or ``https://`` URL of a host.
    """
    if api_base is not None and not isinstance(api_base, str):
        kind = type(api_base).__name__
        msg = f"api_base must be a URL string such as http://127.0.0.1:8080, not {kind}"
        raise CredentialsError(msg)
    # A blank value counts as not given, as a blank TWCREDS_API_BASE does.
    if api_base is not None and api_base.strip():
        name, base = "api_base", api_base
    else:
        name, base = "TWCREDS_API_BASE", os.environ.get("TWCREDS_API_BASE", "")
        if not base.strip():
            return TWITTER_API
    base = base.strip().rstrip("/")
    problem = _url_problem(base)
    if problem is not None:
        msg = (
            f"{name} {problem}; give the scheme and host only, such as https://api.twitter.com"
            " or http://127.0.0.1:8080"
        )
        raise CredentialsError(msg)
    return base


def _url_problem(base: str) -> str | None:
    """What is wrong with an API base URL, or None; the URL itself is never quoted back."""
    if any(char.isspace() or ord(char) < 32 for char in base):
        return "contains a space or control character"
    try:
        url = urlsplit(base)
        url.port  # noqa: B018 - parses the port, raising ValueError if it is not a number
    except ValueError:
        return "is not a valid URL (check the port)"
    if url.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not url.hostname:
        return "names no host"
    if url.username is not None or url.password is not None:
        return "must not contain a user name or password"
    if url.query or url.fragment or base.endswith(("?", "#")):
        return "must not contain a query (?...) or fragment (#...)"
    if _VERSION_SUFFIX.search(url.path):
        return "must not end with an API version (/1.1, /2): twcreds adds it per call"
    return None


# --- the client ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One HTTP answer, as the client last received it.

    Attributes:
        status: the HTTP status.
        headers: the answer's headers (case as sent).
        text: the body, decoded.
    """

    status: int
    headers: Mapping[str, str] = field(repr=False)
    text: str = field(repr=False)

    def json(self) -> Any:
        """The body parsed as JSON, or None where it is not JSON."""
        try:
            return json.loads(self.text)
        except (ValueError, RecursionError):
            return None


# --- connections shared by the clients of one thread ------------------------------------


class _SharedConnections:
    """One thread's connection pool, lent to every client that thread builds meanwhile.

    Attributes:
        adapter: the pool (requests' adapter), mounted for http:// and https://.
        settings: per origin, what requests takes from the environment for a request
            (proxies, ``REQUESTS_CA_BUNDLE``): read once, not on every request.
    """

    def __init__(self) -> None:
        self.adapter = requests.adapters.HTTPAdapter()
        self.settings: dict[str, Any] = {}


_SHARED = threading.local()


@contextlib.contextmanager
def shared_connections() -> Iterator[None]:
    """Let the clients this thread builds inside the block share one connection pool.

    Each client still signs its own requests with its own credentials; what they share is
    the kept-alive TCP (and TLS) connection to the API and what requests reads from the
    environment for it (proxies, CA bundle), so a loop over many accounts pays for a
    connection once, not once per account. Closing such a client leaves the pool open;
    it is closed when the block ends.
    """
    previous = getattr(_SHARED, "pool", None)
    pool = _SHARED.pool = _SharedConnections()
    try:
        yield
    finally:
        _SHARED.pool = previous
        pool.adapter.close()


class _TimeoutSession(requests.Session):
    """A session whose every request has a timeout unless the call sets its own.

    Twython applies ``client_args["timeout"]`` in ``_request`` only; the OAuth-flow methods
    call the session directly and would otherwise wait forever on a silent server. The
    timeout bounds each connect and each read, as in requests.

    Attributes:
        default_timeout: seconds per connect and per read.
        last_status: the status of the last answer, or None while a request is under way
            or failed before an answer came (read by `flow_call`).
    """

    # requests.Session pickles (and deep-copies) only the attributes named here: without
    # this a client sent to a process pool comes back without its timeout.
    __attrs__ = (*requests.Session.__attrs__, "default_timeout")
    last_status: int | None = None
    shared: _SharedConnections | None = None

    def __init__(self, timeout: float | None) -> None:
        super().__init__()
        self.default_timeout = timeout
        shared = getattr(_SHARED, "pool", None)
        if shared is not None:
            self.mount("https://", shared.adapter)
            self.mount("http://", shared.adapter)
            self.shared = shared

    def merge_environment_settings(
        self, url: str | bytes | None, proxies: Any, stream: Any, verify: Any, cert: Any
    ) -> Any:
        """As requests does, but read once per origin while connections are shared.

        Only where nothing but the environment and the URL's origin decides the outcome:
        no proxies, stream, verify or cert given, in the call or on the session.
        """
        shared = self.shared
        given = proxies or self.proxies or (stream, verify, cert) != (None, None, None)
        session = (self.stream, self.verify, self.cert) != (False, True, None)
        if shared is None or given or session or not isinstance(url, str) or not self.trust_env:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        origin = "/".join(url.split("/", 3)[:3])  # scheme://host:port: all that proxies use
        settings: Any = shared.settings.get(origin)
        if settings is None:
            settings = shared.settings[origin] = super().merge_environment_settings(
                url, {}, None, None, None
            )
        return {**settings, "proxies": dict(settings["proxies"])}

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.default_timeout)
        self.last_status = None
        response = super().request(method, url, *args, **kwargs)
        self.last_status = response.status_code
        return response


class _NoToken(TwythonError):  # type: ignore[misc]  # twython is untyped
    """An OAuth-flow answer that parsed but holds no token."""


class Client(Twython):  # type: ignore[misc]  # twython is untyped
    """A `twython.Twython` in OAuth 1.0a user context that can talk to any API base.

    Every URL the client builds or is given — v1.1 endpoints, the OAuth endpoints, full
    ``https://api.twitter.com/...`` and ``https://upload.twitter.com/...`` URLs — goes to
    ``api_base``, ``http://127.0.0.1:PORT`` included. ``timeout`` is seconds per connect and
    per read, for every call. Use it as a context manager, or call :meth:`close`, to release
    its connections. It survives `pickle` and `copy.deepcopy` (process pools), timeout and
    ``api_base`` included, as a stock `twython.Twython` does.
    """

    def __init__(
        self,
        app_key: str,
        app_secret: str | None,
        oauth_token: str | None = None,
        oauth_token_secret: str | None = None,
        *,
        api_base: str = TWITTER_API,
        timeout: float | None = 30.0,
    ) -> None:
        # A fresh dict each time: Twython pops keys out of client_args in place.
        super().__init__(
            app_key,
            app_secret,
            oauth_token,
            oauth_token_secret,
            client_args={"timeout": timeout},
            auth_endpoint="authorize",
        )
        self.api_base = api_base.rstrip("/")
        self.timeout = timeout
        # Twython derives these from a hard-coded https://api.twitter.com in __init__.
        self.api_url = self.api_base + "/%s"
        self.request_token_url = self.api_base + "/oauth/request_token"
        self.access_token_url = self.api_base + "/oauth/access_token"
        self.authenticate_url = self.api_base + "/oauth/authorize"
        plain: requests.Session = self.client
        session = _TimeoutSession(timeout)
        session.auth = plain.auth
        session.headers.update(plain.headers)
        plain.close()
        self.client: _TimeoutSession = session

    def url_for(self, endpoint: str, version: str = "1.1") -> str:
        """The URL a call to ``endpoint`` goes to: Twitter's full URLs move onto ``api_base``."""
        if endpoint.startswith(("https://", "http://")):
            if self.api_base != TWITTER_API:
                for host in _TWITTER_HOSTS:
                    if endpoint.startswith(host):
                        return f"{self.api_base}/{endpoint[len(host) :]}"
            return endpoint
        return f"{self.api_url % version}/{endpoint}.json"

    def request(
        self,
        endpoint: str,
        method: str = "GET",
        params: Any = None,
        version: str = "1.1",
        json_encoded: bool = False,
    ) -> Any:
        """Call ``endpoint`` (relative, or a full URL) on ``api_base``; see `twython.Twython`.

        Raises:
            twython.TwythonError: as Twython does, also for a plain ``http://`` URL that is
                not on ``api_base``: signed credentials never go out in clear text by accident.
        """
        url = self.url_for(endpoint, version)
        if url.startswith("http://") and not url.startswith(self.api_base + "/"):
            msg = (
                "refusing to send credentials over plain http:// to a host other than"
                " api_base; use https://"
            )
            raise TwythonError(msg)
        return self._request(
            url, method=method, params=params, api_call=url, json_encoded=json_encoded
        )

    def get_authentication_tokens(
        self, callback_url: str | None = None, force_login: bool = False, screen_name: str = ""
    ) -> dict[str, str]:
        """Step 1 of the PIN flow, as Twython's, with two of its failures made ordinary.

        Twython reads ``self.callback_url``, which it never sets, when a callback is sent
        and not confirmed (its issue #552: an ``AttributeError``); and an answer without
        ``oauth_token`` escapes as a bare ``KeyError``.

        Raises:
            twython.TwythonError: as Twython does, also for an answer without a token.
        """
        self.callback_url = callback_url
        try:
            tokens: dict[str, str] = super().get_authentication_tokens(
                callback_url, force_login, screen_name
            )
        except KeyError:
            raise _NoToken("the answer holds no oauth_token") from None
        return tokens

    def last_answer(self) -> Answer | None:
        """The answer to the last API call (`request` and Twython's endpoint methods), if any."""
        return last_answer(self)

    def close(self) -> None:
        """Close the connections this client holds; it can still make calls afterwards.

        A client built inside `shared_connections` leaves the shared pool open.
        """
        if self.client.shared is None:
            self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class TokenKeeper(Protocol):
    """What keeps an OAuth 2.0 client's bearer token current (`twcreds.tokens.Refresher`)."""

    @property
    def account(self) -> OAuth2Account:
        """The account as the client now uses it."""

    @property
    def token(self) -> str:
        """The bearer token to send now."""

    def before_call(self) -> None:
        """Renew the token if it is due; raise our error if that fails."""

    def after_rejection(self) -> bool:
        """Renew the token after a 401; True if there is a new one to retry with."""


class BearerAuth(requests.auth.AuthBase):
    """``Authorization: Bearer`` with the keeper's current token, over http:// loopback too.

    requests-oauthlib's ``OAuth2`` (what Twython installs for ``access_token=``) refuses
    plain ``http://`` unless ``OAUTHLIB_INSECURE_TRANSPORT`` is set for the whole process;
    this reads the token at each request, so a refresh needs no new session.
    """

    def __init__(self, keeper: TokenKeeper) -> None:
        self.keeper = keeper

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.keeper.token}"
        return request


class OAuth2Client(Client):
    """A `twython.Twython` in OAuth 2.0 user context whose token renews itself.

    Before each call the keeper renews a token that is due, and after a 401 it renews it
    once and the call is sent again (file-like parameters rewound first). ``app_key`` is
    the client id; no app secret or OAuth 1.0a token is set.
    """

    def __init__(
        self, client_id: str, keeper: TokenKeeper, *, api_base: str, timeout: float | None
    ) -> None:
        super().__init__(client_id, None, api_base=api_base, timeout=timeout)
        self.oauth_version = 2
        self.tokens = keeper
        self.client.auth = BearerAuth(keeper)

    def request(
        self,
        endpoint: str,
        method: str = "GET",
        params: Any = None,
        version: str = "1.1",
        json_encoded: bool = False,
    ) -> Any:
        """As `Client.request`, with the token renewed when due and once after a 401."""
        self.tokens.before_call()
        try:
            return super().request(endpoint, method, params, version, json_encoded)
        except TwythonAuthError as exc:
            if getattr(exc, "error_code", None) != 401:
                raise
            rejected = exc
        # Outside the handler: the 401 must not ride along on whatever the renewal raises.
        # A body that cannot be sent twice (a generator, a stream) is not retried.
        if not _rewind(params) or not self.tokens.after_rejection():
            raise rejected
        return super().request(endpoint, method, params, version, json_encoded)


class _AppOnlyAuth(requests.auth.AuthBase):
    """``Authorization: Bearer`` with an app-only token, over http:// loopback too."""

    def __init__(self, bearer: BearerToken) -> None:
        self.bearer = bearer

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = f"Bearer {self.bearer.bearer_token.get_secret_value()}"
        return request


class AppOnlyClient(Client):
    """A `twython.Twython` in OAuth 2.0 app-only mode: reads public data, acts for no user.

    ``app_key`` is the app's consumer key when the token names it (else empty); no app
    secret or user token is set. twcreds refuses to post or upload with it before any
    request (X would answer 403 ``unsupported-authentication``).
    """

    def __init__(self, bearer: BearerToken, *, api_base: str, timeout: float | None) -> None:
        super().__init__(bearer.consumer_key or "", None, api_base=api_base, timeout=timeout)
        self.oauth_version = 2
        self.bearer = bearer
        self.client.auth = _AppOnlyAuth(bearer)


def _rewind(params: Any) -> bool:
    """Rewind what a call sends, for its retry; False if it cannot be sent again."""
    values = list(params.values()) if isinstance(params, Mapping) else [params]
    for value in values:
        if value is None or isinstance(value, str | bytes | int | float | list | tuple | dict):
            continue
        seek = getattr(value, "seek", None)
        if not callable(seek):
            return False
        seek(0)
    return True


def post_form(
    url: str,
    data: Mapping[str, str],
    *,
    basic: tuple[str, str] | None,
    timeout: float,
    what: str,
) -> Answer:
    """POST a form (an OAuth 2.0 token or revoke call) and return the answer, whatever it is.

    Raises:
        TwitterConnectionError: the network failed or timed out (no answer came).
    """
    failure: TwcredsError
    try:
        with requests.Session() as session:
            response = session.post(url, data=dict(data), auth=basic, timeout=timeout)
            return Answer(response.status_code, dict(response.headers), response.text)
    except requests.RequestException as exc:
        failure = connection_error(exc, url, what, timeout)
    except ValueError:  # a body that is not UTF-8, or a URL requests cannot use
        failure = TwitterConnectionError(f"{what}: the answer could not be read; try again")
    # Outside the handler: requests' exception may quote the request (a secret in its body).
    raise failure from None


def last_answer(client: Twython) -> Answer | None:
    """The last answer any `twython.Twython` recorded (a stock one too), if any."""
    last = client._last_call
    if last is None:
        return None
    return Answer(int(last["status_code"]), last["headers"], str(last["content"]))


# --- failures --------------------------------------------------------------------------


def connection_error(
    exc: BaseException, url: str, what: str, timeout: float | None
) -> TwitterConnectionError:
    """Describe a network failure by host and kind, never by the request's URL or headers."""
    host = urlsplit(url).netloc or url
    if isinstance(exc, requests.Timeout):
        reason = f"no answer within {timeout:g} s" if timeout else "timed out"
    elif isinstance(exc, requests.ConnectionError):
        reason = "could not connect, or the connection was closed"
    else:
        reason = type(exc).__name__
    return TwitterConnectionError(f"{what}: {host}: {reason}; check the network and try again")


def call(
    client: Twython, what: str, func: Callable[[], T], error: Callable[[Answer, str], TwcredsError]
) -> T:
    """Run one API call of ``client`` and translate whatever goes wrong into our error tree.

    Args:
        client: the client making the call (a stock `twython.Twython` too).
        what: what the call does, for messages (``"post tweet"``).
        func: the call itself.
        error: turns an error answer (status 400 and above) into the error to raise.

    Raises:
        TwitterConnectionError: no answer came (the network failed or timed out).
        TwitterAPIError: a success status whose body is not JSON (or JSON nested too
            deeply to read).
        TwcredsError: what ``error`` made of an error answer.
    """
    client._last_call = None
    problem: TwcredsError
    try:
        return func()
    except TwcredsError:
        raise  # ours already (a refresh that failed); a CredentialsError is no parse failure
    except TwythonError as exc:
        # Twython's _request turns requests' exceptions into a bare TwythonError before
        # any answer is recorded: no answer means the network failed.
        answer = last_answer(client)
        if answer is None:
            cause = exc.__context__ or exc
            base = getattr(client, "api_base", TWITTER_API)
            timeout = getattr(client, "timeout", None)
            problem = connection_error(cause, base, what, timeout)
        else:
            problem = _answer_problem(answer, what, error)
    except _PARSE_FAILURES:
        # Twython's _request records the answer, then parses it unguarded: an error
        # message of null or 7 is a TypeError, a 100,000-deep body a RecursionError.
        answer = last_answer(client)
        if answer is None:
            raise  # not an answer twython choked on, but a bug: let it show
        problem = _answer_problem(answer, what, error)
    raise problem from None


def _answer_problem(
    answer: Answer, what: str, error: Callable[[Answer, str], TwcredsError]
) -> TwcredsError:
    if answer.status < 400:
        # JSON nested too deeply to read counts as not JSON: no answer of Twitter's nests so.
        msg = f"{what}: Twitter answered {answer.status} with something that is not JSON"
        return TwitterAPIError(msg, status=answer.status)
    return error(answer, what)


@dataclass(frozen=True)
class FlowFailure:
    """How an OAuth-flow call of Twython's failed, when an answer came.

    Attributes:
        status: the HTTP status, or None where the answer could not be read.
        kind: ``"rejected"`` (a 401 to the consumer credentials at step 1), ``"no_token"``
            (the answer parsed but held no token), ``"unreadable"`` (the answer could not
            be parsed: not UTF-8, or JSON of the wrong shape), or ``"other"``.
    """

    status: int | None
    kind: Literal["rejected", "no_token", "unreadable", "other"]


def flow_call(
    client: Client, what: str, func: Callable[[], T], error: Callable[[FlowFailure], TwcredsError]
) -> T:
    """Run an OAuth-flow call (request token, access token), translating its failures.

    Twython lets requests' exceptions out of these methods raw, reports an error answer by
    its status only, and parses answers unguarded: a step-1 or step-2 answer that is not
    UTF-8 is a ``UnicodeDecodeError`` quoting the whole answer (the token's secret with it),
    a step-2 401 whose JSON is not an object an ``AttributeError``. Each of those is a
    failure of kind ``"unreadable"`` here, and nothing raw is chained to what ``error``
    makes of it.

    Raises:
        TwitterConnectionError: the network failed or timed out.
        TwcredsError: what ``error`` made of a failed answer.
    """
    session = client.client
    session.last_status = None
    problem: TwcredsError
    try:
        return func()
    except requests.RequestException as exc:
        problem = connection_error(exc, client.api_base, what, client.timeout)
    except TwythonError as exc:
        status = getattr(exc, "error_code", None)
        kind: Literal["rejected", "no_token", "unreadable", "other"] = "other"
        if isinstance(exc, TwythonAuthError):
            kind = "rejected"
        elif isinstance(exc, _NoToken):
            kind = "no_token"
        problem = error(FlowFailure(status if isinstance(status, int) else None, kind))
    except _PARSE_FAILURES:
        if session.last_status is None:
            raise  # no answer came, so twython did not choke on one: a bug, let it show
        problem = error(FlowFailure(session.last_status, "unreadable"))
    # Raised here, not in the handlers above: the exception twython or requests raised may
    # hold the whole answer, and must not ride along as __context__.
    raise problem from None
