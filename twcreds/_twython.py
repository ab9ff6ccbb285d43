"""The Twython subclass behind every client: redirection, timeouts, OAuth 1.0a user context.

Imported only when a client is first built, so that ``import twcreds`` does not pay for
twython and requests.
"""

from __future__ import annotations

from typing import Any

import requests
from twython import Twython, TwythonError
from typing_extensions import Self

from twcreds.clients import TWITTER_API

#: Hosts whose full URLs are sent to ``api_base`` instead (media methods hard-code upload.).
_TWITTER_HOSTS = (
    "https://api.twitter.com/",
    "https://upload.twitter.com/",
    "https://api.x.com/",
    "https://upload.x.com/",
)


class _TimeoutSession(requests.Session):
    """A session whose every request has a timeout unless the call sets its own.

    Twython applies ``client_args["timeout"]`` in ``_request`` only; the OAuth-flow methods
    call the session directly and would otherwise wait forever on a silent server.
    """

    def __init__(self, timeout: float | None) -> None:
        super().__init__()
        self.default_timeout = timeout

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self.default_timeout)
        return super().request(method, url, *args, **kwargs)


class Client(Twython):  # type: ignore[misc]  # twython is untyped
    """A `twython.Twython` in OAuth 1.0a user context that can talk to any API base.

    Every URL the client builds or is given — v1.1 endpoints, the OAuth endpoints, full
    ``https://api.twitter.com/...`` and ``https://upload.twitter.com/...`` URLs — goes to
    ``api_base``, ``http://127.0.0.1:PORT`` included. Use it as a context manager, or call
    :meth:`close`, to release its connections.
    """

    def __init__(
        self,
        app_key: str,
        app_secret: str,
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
        self.client: requests.Session = session

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

    def close(self) -> None:
        """Close the connections this client holds; it can still make calls afterwards."""
        self.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
