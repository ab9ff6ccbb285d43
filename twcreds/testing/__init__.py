"""An offline Twitter (X) for tests and demos: :class:`FakeTwitter`.

A real HTTP server on 127.0.0.1 that checks OAuth 1.0a HMAC-SHA1 signatures with oauthlib and
answers like Twitter: the PIN flow, ``GET /2/users/me``, ``POST /2/tweets``,
``DELETE /2/tweets/:id``, and the v1.1 endpoints (code 453 unless ``legacy_v1=True``)::

    from twcreds import make_client
    from twcreds.testing import FakeTwitter

    with FakeTwitter() as fake:
        account = fake.issue_token(fake.create_app(), "alice")
        client = make_client(account, api_base=fake.url)
        ...
        assert fake.tweets[0].text == "hello"

It also speaks OAuth 2.0 as X does: ``/i/oauth2/authorize`` (a consent page),
``/2/oauth2/token`` (authorization code with PKCE S256, refresh tokens that rotate) and
``/2/oauth2/revoke``; the v2 endpoints take bearer user tokens holding their scopes. A test
registers a client with ``create_oauth2_app()``, clicks "Authorize" with
``approve_oauth2(auth_url, "alice")`` (or "Cancel" with ``deny_oauth2``), or skips the flow
with ``issue_oauth2_token(app, "alice", expires_in=0)`` to get an account due a refresh;
``oauth2_refreshes`` counts the refreshes served.

It serves X's v2 media endpoints (one-shot images; initialize, append, finalize and the
status for GIFs and videos) with X's limits and processing states, keeping the bytes on
disk (``fake.media``, ``media_content(id)``, ``fail_next_media()``), and bills and caps
as X does when asked: ``FakeTwitter(credits=..., daily_limit=..., media_processing=...)``.
``create_bearer_token(app)`` issues an app-only token that posting refuses with 403
``unsupported-authentication``; ``set_app_enrolled(app, False)`` gives X's 403
``client-not-enrolled``.

Published test vectors can be registered as they are (``create_app(consumer_key=...,
consumer_secret=...)``, ``issue_token(app, name, access_token=..., access_token_secret=...)``),
and ``FakeTwitter(public_url="https://api.x.com")`` checks signatures made for the URL
clients address rather than for the fake's own.

With pytest, ``pytest_plugins = ["twcreds.testing"]`` in your top-level conftest.py gives
the ``fake_twitter`` fixture (a started server, stopped after the test). pytest is not
required otherwise. From a shell, ``python -m twcreds.testing`` serves one with a ready
account and prints its credentials as a .env block.

PYTEST_DONT_REWRITE: a conftest may import this module before naming it as a plugin, and
pytest would then warn that it cannot rewrite its asserts (it has none).
"""

from __future__ import annotations

from twcreds.testing._records import FaultKind, MediaRecord, RequestRecord, TweetRecord
from twcreds.testing._server import FakeTwitter, Permissions

try:
    from twcreds.testing._pytest import fake_twitter as fake_twitter
except ModuleNotFoundError as exc:  # pragma: no cover - pytest is a test-only dependency
    if exc.name != "pytest":
        raise

__all__ = [
    "FakeTwitter",
    "FaultKind",
    "MediaRecord",
    "Permissions",
    "RequestRecord",
    "TweetRecord",
]
