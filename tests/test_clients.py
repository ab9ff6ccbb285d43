"""Tests for twcreds.clients: OAuth 1.0a user context, redirection, timeouts, load_clients.

Requests go to real sockets on 127.0.0.1: a small recording HTTP server, and a server that
accepts connections and never answers (for timeouts). No mocks.
"""

from __future__ import annotations

import copy
import functools
import gc
import inspect
import json
import logging
import pickle
import re
import socket
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
from twython import Twython, TwythonError

from tests.conftest import CANARY, write_private
from twcreds.api import verify_account
from twcreds.authorization import authorize, complete_authorization, start_authorization
from twcreds.clients import load_client, load_clients, make_client
from twcreds.errors import CredentialsError, TwitterConnectionError
from twcreds.models import Account
from twcreds.testing import FakeTwitter

ACCOUNT = Account(
    consumer_key="ck-value",
    consumer_secret=CANARY + "cs",
    access_token="123-token",
    access_token_secret=CANARY + "ats",
)
FOUR = ("ck-value", CANARY + "cs", "123-token", CANARY + "ats")
#: Generous bound for a call that should give up after `timeout` seconds.
TIMEOUT = 0.3
BOUND = 5.0


def oauth_values(client: Twython) -> tuple[str, str, str, str, str]:
    oauth = client.client.auth.client  # requests_oauthlib's oauthlib Client
    return (
        oauth.client_key,
        oauth.client_secret,
        oauth.resource_owner_key,
        oauth.resource_owner_secret,
        oauth.signature_type,
    )


# --- local servers ------------------------------------------------------------------------


class Recorder(ThreadingHTTPServer):
    """An HTTP server on 127.0.0.1 that records each request and answers like Twitter."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: Recorder

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        self.server.requests.append((self.command, self.path, dict(self.headers)))
        if self.path.startswith("/oauth/request_token"):
            body = b"oauth_token=req&oauth_token_secret=reqsecret&oauth_callback_confirmed=true"
            kind = "application/x-www-form-urlencoded"
        else:
            body, kind = b'{"data": {"id": "1"}}', "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    server = Recorder()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=BOUND)


class Silent:
    """Accepts TCP connections on 127.0.0.1 and never answers; counts them."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.05)
        self.accepted: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted.append(conn)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=BOUND)
        for conn in self.accepted:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    server.thread.start()
    try:
        yield server
    finally:
        server.close()


# --- OAuth 1.0a user context from every format -----------------------------------------------


def set_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The four values as TWITTER_* variables: the default chain finds them there."""
    names = ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET")
    for name, value in zip(names, FOUR, strict=True):
        monkeypatch.setenv(f"TWITTER_{name}", value)


SOURCES: dict[str, Callable[[Path, pytest.MonkeyPatch], Path | None]] = {
    "lines": lambda d, _: write_private(d / "creds-twitter", "\r\n".join(FOUR) + "\r\n\r\n"),
    "json-object": lambda d, _: write_private(
        d / "creds.json", ACCOUNT.model_dump_json(include=set(Account.model_fields) - {"user_id"})
    ),
    "json-list": lambda d, _: write_private(d / "creds", f"[{ACCOUNT.model_dump_json()}]"),
    "json-app": lambda d, _: write_private(
        d / "accounts.json",
        json.dumps(
            {
                "app": {"api_key": FOUR[0], "api_secret": FOUR[1]},
                "accounts": [{"oauth_token": FOUR[2], "oauth_token_secret": FOUR[3]}],
            }
        ),
    ),
    "env-file": lambda d, _: write_private(
        d / ".env",
        "".join(
            f"export TWITTER_{k.upper()}='{v}'\n"
            for k, v in zip(
                ("api_key", "api_secret", "oauth_token", "oauth_token_secret"), FOUR, strict=True
            )
        ),
    ),
    "environment": lambda _, mp: set_environment(mp),
}


@pytest.mark.parametrize("make", SOURCES.values(), ids=SOURCES.keys())
def test_client_from_each_format_is_oauth1_user_context(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path, pytest.MonkeyPatch], Path | None],
) -> None:
    source = make(tmp_path, monkeypatch)
    with load_client(source) as client:
        assert isinstance(client, Twython)
        assert oauth_values(client) == (*FOUR, "AUTH_HEADER")
        assert (
            client.app_key,
            client.app_secret,
            client.oauth_token,
            client.oauth_token_secret,
        ) == FOUR
        assert client.access_token is None
        assert client.oauth_version == 1
        assert CANARY not in repr(client)


def test_make_client_refuses_what_is_not_an_account() -> None:
    with pytest.raises(
        TypeError, match="make_client needs an Account, OAuth2Account or BearerToken, not dict"
    ):
        make_client(dict(zip(("consumer_key",), FOUR, strict=False)))  # type: ignore[arg-type]


# --- where the calls go -------------------------------------------------------------------------


def test_default_is_twitter() -> None:
    with make_client(ACCOUNT) as client:
        assert (
            client.url_for("statuses/update") == "https://api.twitter.com/1.1/statuses/update.json"
        )
        assert (
            client.url_for("https://api.twitter.com/2/tweets") == "https://api.twitter.com/2/tweets"
        )
        assert client.request_token_url == "https://api.twitter.com/oauth/request_token"
        assert client.authenticate_url == "https://api.twitter.com/oauth/authorize"


@pytest.mark.parametrize("how", ["argument", "environment"])
def test_api_base_redirects_every_url(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    base = "http://127.0.0.1:8080"
    if how == "environment":
        monkeypatch.setenv("TWCREDS_API_BASE", base + "/")
        client = make_client(ACCOUNT)
    else:
        monkeypatch.setenv("TWCREDS_API_BASE", "https://elsewhere.example")
        client = make_client(ACCOUNT, api_base=base + "/")
    with client:
        assert client.url_for("statuses/update") == f"{base}/1.1/statuses/update.json"
        assert client.url_for("users/show", version="2") == f"{base}/2/users/show.json"
        assert client.url_for("https://api.twitter.com/2/tweets") == f"{base}/2/tweets"
        assert client.url_for("https://upload.twitter.com/1.1/media/upload.json") == (
            f"{base}/1.1/media/upload.json"
        )
        assert client.url_for(f"{base}/2/users/me") == f"{base}/2/users/me"
        assert client.request_token_url == f"{base}/oauth/request_token"
        assert client.access_token_url == f"{base}/oauth/access_token"
        assert client.authenticate_url == f"{base}/oauth/authorize"


def test_calls_reach_the_api_base_signed(recorder: Recorder) -> None:
    with make_client(ACCOUNT, api_base=recorder.url) as client:
        client.update_status(status="hello")
        client.request(
            "https://api.twitter.com/2/tweets", "POST", {"text": "hi"}, json_encoded=True
        )
        client.request(
            "https://upload.twitter.com/1.1/media/upload.json", "POST", {"command": "INIT"}
        )
        client.get("account/verify_credentials")
        tokens = client.get_authentication_tokens(callback_url="oob")
    paths = [(method, path.partition("?")[0]) for method, path, _ in recorder.requests]
    assert paths == [
        ("POST", "/1.1/statuses/update.json"),
        ("POST", "/2/tweets"),
        ("POST", "/1.1/media/upload.json"),
        ("GET", "/1.1/account/verify_credentials.json"),
        ("GET", "/oauth/request_token"),
    ]
    assert "oauth_callback=oob" in recorder.requests[-1][1]
    assert tokens["auth_url"] == f"{recorder.url}/oauth/authorize?oauth_token=req"
    for _, _, headers in recorder.requests:
        assert headers["Authorization"].startswith("OAuth ")
        assert 'oauth_consumer_key="ck-value"' in headers["Authorization"]
        assert 'oauth_signature_method="HMAC-SHA1"' in headers["Authorization"]
        assert CANARY not in headers["Authorization"]


def test_plain_http_elsewhere_is_refused(recorder: Recorder) -> None:
    refused = pytest.raises(TwythonError, match="refusing to send credentials over plain http")
    with make_client(ACCOUNT, api_base=recorder.url) as client, refused:
        client.request("http://api.twitter.com/1.1/statuses/update.json", "POST")
    with make_client(ACCOUNT) as client, pytest.raises(TwythonError):
        client.request(f"{recorder.url}/2/tweets")
    assert recorder.requests == []


@pytest.mark.parametrize(
    ("base", "problem"),
    [
        ("ftp://127.0.0.1", "must start with http:// or https://"),
        ("127.0.0.1:8080", "must start with http:// or https://"),
        ("http://", "names no host"),
        ("http://:8080", "names no host"),
        ("http://exa mple.com", "contains a space"),
        ("http://127.0.0.1:port", "is not a valid URL"),
        ("http://user:pw@127.0.0.1", "must not contain a user name or password"),
        ("http://127.0.0.1/x?y=1", "must not contain a query"),
        ("https://api.twitter.com/1.1", "must not end with an API version"),
        ("https://api.twitter.com/2/", "must not end with an API version"),
    ],
)
def test_bad_api_base_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, base: str, problem: str
) -> None:
    with pytest.raises(CredentialsError, match=f"^api_base {problem}"):
        make_client(ACCOUNT, api_base=base)
    path = write_private(tmp_path / "c.json", ACCOUNT.model_dump_json())
    with pytest.raises(CredentialsError, match=f"^api_base {problem}"):
        load_clients(path, api_base=base)
    monkeypatch.setenv("TWCREDS_API_BASE", base)
    with pytest.raises(CredentialsError, match=f"^TWCREDS_API_BASE {problem}"):
        load_client(path)


@pytest.mark.parametrize("base", ["", "  "])
def test_blank_api_base_means_the_default(monkeypatch: pytest.MonkeyPatch, base: str) -> None:
    with make_client(ACCOUNT, api_base=base) as client:
        assert client.api_url == "https://api.twitter.com/%s"
    monkeypatch.setenv("TWCREDS_API_BASE", "http://127.0.0.1:9")
    with make_client(ACCOUNT, api_base=base) as client:
        assert client.api_url == "http://127.0.0.1:9/%s"


def test_api_base_with_a_path_prefix(recorder: Recorder) -> None:
    with make_client(ACCOUNT, api_base=recorder.url + "/proxy/") as client:
        client.request("https://api.twitter.com/2/users/me")
    assert recorder.requests[0][1] == "/proxy/2/users/me"


# --- timeouts ---------------------------------------------------------------------------------


def _times_out(call: Callable[[], object]) -> tuple[BaseException, float]:
    start = time.monotonic()
    with pytest.raises((requests.Timeout, TwythonError)) as caught:
        call()
    return caught.value, time.monotonic() - start


def test_timeout_applies_to_the_oauth_flow(silent: Silent) -> None:
    with make_client(ACCOUNT, api_base=silent.url, timeout=TIMEOUT) as client:
        error, elapsed = _times_out(lambda: client.get_authentication_tokens(callback_url="oob"))
        assert isinstance(error, requests.Timeout)
        assert elapsed < BOUND
        error, elapsed = _times_out(lambda: client.get_authorized_tokens("0123456"))
        assert isinstance(error, requests.Timeout)
        assert elapsed < BOUND
    assert len(silent.accepted) == 2


def test_timeout_applies_to_requests(silent: Silent) -> None:
    with make_client(ACCOUNT, api_base=silent.url, timeout=TIMEOUT) as client:
        for call in (
            lambda: client.request("statuses/update", "POST", {"status": "x"}),
            lambda: client.request(
                "https://api.twitter.com/2/tweets", "POST", {"text": "x"}, json_encoded=True
            ),
            lambda: client.get_home_timeline(),
        ):
            error, elapsed = _times_out(call)
            assert isinstance(error, TwythonError)
            assert "timed out" in str(error).lower()
            assert elapsed < BOUND
    assert len(silent.accepted) == 3


def test_load_client_passes_the_timeout_on(tmp_path: Path, silent: Silent) -> None:
    path = write_private(tmp_path / "c.json", ACCOUNT.model_dump_json())
    with load_client(path, api_base=silent.url, timeout=TIMEOUT) as client:
        _, elapsed = _times_out(lambda: client.get_authentication_tokens(callback_url="oob"))
    assert elapsed < BOUND
    for _, each in load_clients(path, api_base=silent.url, timeout=TIMEOUT):
        _, elapsed = _times_out(functools.partial(each.request, "statuses/update", "POST"))
        assert elapsed < BOUND


@pytest.mark.parametrize(
    ("timeout", "error"),
    [
        (0, ValueError),
        (-1, ValueError),
        (float("nan"), ValueError),
        (float("inf"), ValueError),
        ("30", TypeError),
        (True, TypeError),
        (None, TypeError),
    ],
)
def test_bad_timeout(tmp_path: Path, timeout: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="timeout must be a"):
        make_client(ACCOUNT, timeout=timeout)
    path = write_private(tmp_path / "c.json", ACCOUNT.model_dump_json())
    with pytest.raises(error, match="timeout must be a"):
        load_clients(path, timeout=timeout)


@pytest.mark.parametrize(
    "documented",
    [
        make_client,
        load_client,
        load_clients,
        verify_account,
        start_authorization,
        complete_authorization,
        authorize,
    ],
    ids=lambda function: function.__name__,
)
def test_every_timeout_is_documented_per_connect_and_per_read(
    documented: Callable[..., object],
) -> None:
    # requests' timeout bounds each connect and each read: a server sending one byte every
    # few seconds keeps a call going far longer. No docstring may promise a deadline.
    assert "timeout" in inspect.signature(documented).parameters
    doc = " ".join((documented.__doc__ or "").split())
    entry = re.search(r"\btimeout: (.*?)(?: \w+: | Returns:| Raises:|$)", doc)
    assert entry is not None, f"{documented.__name__} does not document timeout"
    assert "per connect and per read" in entry.group(1)
    assert "total" not in doc.lower()


# --- pickle and deepcopy (process pools) ---------------------------------------------------


def _pickled(client: Twython) -> Twython:
    copied: Twython = pickle.loads(pickle.dumps(client))  # noqa: S301 - bytes made just above
    return copied


DUPLICATES = pytest.mark.parametrize(
    "duplicate", [_pickled, copy.deepcopy], ids=["pickle", "deepcopy"]
)


@DUPLICATES
def test_a_copied_client_still_calls_its_api_base_signed_with_its_timeout(
    fake_twitter: FakeTwitter, duplicate: Callable[[Twython], Twython]
) -> None:
    account = fake_twitter.issue_token(fake_twitter.create_app(), "pickled")
    with make_client(account, api_base=fake_twitter.url, timeout=TIMEOUT) as original:
        client = duplicate(original)
    assert client is not original
    with client:
        # USERS_ME is Twitter's full URL: reaching the fake means api_base came along.
        assert verify_account(client).screen_name == "pickled"
        assert [(r.endpoint, r.verified) for r in fake_twitter.requests] == [
            ("GET /2/users/me", True)
        ]
        fake_twitter.fail_next("hang")
        start = time.monotonic()
        with pytest.raises(TwitterConnectionError, match=rf"no answer within {TIMEOUT:g} s"):
            verify_account(client)
        assert time.monotonic() - start < BOUND


@DUPLICATES
def test_a_copied_client_keeps_its_timeout_in_the_oauth_flow(
    silent: Silent, duplicate: Callable[[Twython], Twython]
) -> None:
    # The OAuth-flow methods use the session's own default timeout, not Twython's.
    with make_client(ACCOUNT, api_base=silent.url, timeout=TIMEOUT) as original:
        client = duplicate(original)
    with client:
        error, elapsed = _times_out(lambda: client.get_authentication_tokens(callback_url="oob"))
    assert isinstance(error, requests.Timeout)
    assert elapsed < BOUND
    assert len(silent.accepted) == 1


# --- no I/O on construction; load_clients -------------------------------------------------------


def test_construction_does_no_network_io(tmp_path: Path) -> None:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    with server:
        server.bind(("127.0.0.1", 0))
        server.listen(16)
        base = f"http://127.0.0.1:{server.getsockname()[1]}"
        path = write_private(tmp_path / "c.json", json.dumps([account_row(n) for n in range(3)]))
        clients = [make_client(ACCOUNT, api_base=base), load_client(path, account=1, api_base=base)]
        clients += [client for _, client in load_clients(path, api_base=base)]
        server.settimeout(0.2)
        with pytest.raises(TimeoutError):
            server.accept()
    assert len(clients) == 5


def account_row(n: int, **extra: str) -> dict[str, str]:
    return {
        "consumer_key": "ck",
        "consumer_secret": CANARY,
        "access_token": f"{n}-token",
        "access_token_secret": CANARY + str(n),
        "screen_name": f"bot{n}",
        **extra,
    }


def test_load_clients_validates_everything_before_yielding(tmp_path: Path) -> None:
    rows = [account_row(0), account_row(1), account_row(2, access_token_secret=" ")]
    path = write_private(tmp_path / "accounts.json", json.dumps(rows))
    with pytest.raises(CredentialsError, match=r"\[2\] \(@bot2\): access_token_secret is empty"):
        load_clients(path)  # raised by the call itself, before any iteration


def test_load_clients_yields_one_fresh_client_per_step(tmp_path: Path) -> None:
    path = write_private(tmp_path / "accounts.json", json.dumps([account_row(n) for n in range(4)]))
    pairs = load_clients(path)
    assert iter(pairs) is pairs
    seen: list[weakref.ref[Twython]] = []
    names = []
    for account, client in pairs:
        gc.collect()
        # The previous step's client is gone: nothing in the loop holds it any more.
        assert all(ref() is None for ref in seen)
        assert client.oauth_token == account.access_token
        assert isinstance(account, Account)
        assert oauth_values(client)[2:4] == (
            account.access_token,
            account.access_token_secret.get_secret_value(),
        )
        names.append(account.screen_name)
        seen.append(weakref.ref(client))
    del client
    gc.collect()
    assert names == ["bot0", "bot1", "bot2", "bot3"]
    assert all(ref() is None for ref in seen)


def test_load_clients_closes_each_client_when_moving_on(tmp_path: Path, recorder: Recorder) -> None:
    path = write_private(tmp_path / "accounts.json", json.dumps([account_row(n) for n in range(2)]))
    pools = []
    for _, client in load_clients(path, api_base=recorder.url):
        client.request("https://api.twitter.com/2/users/me")
        adapter = client.client.get_adapter(recorder.url)
        assert len(adapter.poolmanager.pools) == 1
        pools.append(adapter.poolmanager)
    assert [len(pool.pools) for pool in pools] == [0, 0]
    assert len(recorder.requests) == 2


def test_client_is_a_context_manager_that_closes_its_connections(recorder: Recorder) -> None:
    client = make_client(ACCOUNT, api_base=recorder.url)
    with client as entered:
        assert entered is client
        assert entered.get("account/settings") == {"data": {"id": "1"}}
        adapter = client.client.get_adapter(recorder.url)
        assert len(adapter.poolmanager.pools) == 1
    assert len(adapter.poolmanager.pools) == 0


# --- secrets and imports --------------------------------------------------------------------


def test_requests_log_no_secret(recorder: Recorder, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with make_client(ACCOUNT, api_base=recorder.url) as client:
        client.update_status(status="hello")
        client.get_authentication_tokens(callback_url="oob")
    assert caplog.records  # requests_oauthlib and urllib3 did log at DEBUG
    assert CANARY not in caplog.text


def test_import_twcreds_is_light() -> None:
    heavy = ("twython", "requests", "dotenv", "platformdirs")
    code = (
        "import sys, twcreds\n"
        "from twcreds import Account, load_accounts, load_client, load_clients, make_client\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
