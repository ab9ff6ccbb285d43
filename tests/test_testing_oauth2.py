"""FakeTwitter's OAuth 2.0, as X runs it: real HTTP on 127.0.0.1, real third-party clients.

authlib's ``OAuth2Session`` (a well-kept OAuth 2.0 client with PKCE) runs the flows, and
requests with oauthlib's PKCE helpers builds what a test must build by hand. Nothing is
mocked; the fake's clock (``clock_skew``) makes codes and tokens expire without sleeping.
"""

from __future__ import annotations

import base64
import logging
import os
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.integrations.requests_client import OAuth2Session  # type: ignore[import-untyped]
from oauthlib.oauth2 import WebApplicationClient  # type: ignore[import-untyped]
from pydantic import SecretStr

from twcreds import make_client, post_tweet
from twcreds.models import POSTING_SCOPES, OAuth2Account, OAuth2App
from twcreds.testing import FakeTwitter

REDIRECT = "http://127.0.0.1:8976/callback"
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "about:blank",
    "status": 401,
    "detail": "Unauthorized",
}
#: X's answer to a spent, revoked or unknown refresh token.
USED_TOKEN = {
    "error": "invalid_request",
    "error_description": "Value passed for the token was invalid.",
}
#: X's answer to an expired, used or unknown authorization code.
BAD_CODE = {
    "error": "invalid_request",
    "error_description": "Value passed for the authorization code was invalid.",
}
#: X's answer to a user token without the scope an endpoint needs.
FORBIDDEN = {"title": "Forbidden", "type": "about:blank", "status": 403, "detail": "Forbidden"}


@pytest.fixture
def fake() -> Iterator[FakeTwitter]:
    with FakeTwitter() as server:
        yield server


def secret(value: Any) -> str:
    return str(value.get_secret_value())


def session(fake: FakeTwitter, app: OAuth2App, scopes: tuple[str, ...] = POSTING_SCOPES) -> Any:
    """authlib's client for the app: HTTP Basic when it has a secret, else client_id in the body."""
    confidential = app.client_secret is not None
    return OAuth2Session(
        app.client_id,
        secret(app.client_secret) if confidential else None,
        scope=" ".join(scopes),
        redirect_uri=REDIRECT,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic" if confidential else "none",
    )


def authorize(
    fake: FakeTwitter, app: OAuth2App, scopes: tuple[str, ...] = POSTING_SCOPES
) -> tuple[Any, str, str]:
    """Run the authorize half with authlib: its client, the code verifier, the redirect."""
    client = session(fake, app, scopes)
    verifier = WebApplicationClient(app.client_id).create_code_verifier(64)
    url, _ = client.create_authorization_url(
        fake.url + "/i/oauth2/authorize", code_verifier=verifier
    )
    return client, verifier, fake.approve_oauth2(url, "alice")


def exchange(fake: FakeTwitter, app: OAuth2App) -> tuple[Any, dict[str, Any]]:
    client, verifier, redirect = authorize(fake, app)
    token = client.fetch_token(
        fake.url + "/2/oauth2/token", authorization_response=redirect, code_verifier=verifier
    )
    return client, dict(token)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def me(fake: FakeTwitter, token: str) -> requests.Response:
    return requests.get(fake.url + "/2/users/me", headers=bearer(token), timeout=5)


def tweet(fake: FakeTwitter, token: str, text: str) -> requests.Response:
    return requests.post(
        fake.url + "/2/tweets", json={"text": text}, headers=bearer(token), timeout=5
    )


def token_call(
    fake: FakeTwitter, form: dict[str, str], app: OAuth2App | None = None
) -> requests.Response:
    """``POST /2/oauth2/token``, with HTTP Basic when ``app`` is given."""
    auth = None if app is None else (app.client_id, secret(app.client_secret))
    return requests.post(fake.url + "/2/oauth2/token", data=form, auth=auth, timeout=5)


def refresh(fake: FakeTwitter, app: OAuth2App, refresh_token: str) -> requests.Response:
    form = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return token_call(fake, form, app)


def pkce_url(
    fake: FakeTwitter,
    app: OAuth2App,
    *,
    method: str | None = "S256",
    redirect_uri: str = REDIRECT,
    scope: str = "tweet.read users.read",
) -> tuple[str, str]:
    """An authorize URL built with oauthlib's PKCE helpers (no transport check involved)."""
    helper = WebApplicationClient(app.client_id)
    verifier = helper.create_code_verifier(43)
    params = {
        "response_type": "code",
        "client_id": app.client_id,
        "redirect_uri": redirect_uri,
        "scope": scope,
        "state": "state-123",
        "code_challenge": helper.create_code_challenge(verifier, "S256"),
    }
    if method is not None:
        params["code_challenge_method"] = method
    return f"{fake.url}/i/oauth2/authorize?{urlencode(params)}", verifier


def code_of(redirect: str) -> str:
    return parse_qs(urlsplit(redirect).query)["code"][0]


def code_form(code: str, verifier: str, redirect_uri: str = REDIRECT) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri,
        "code_verifier": verifier,
    }


# --- the code flow ---------------------------------------------------------------------------


def test_confidential_client_code_flow_with_authlib(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app("poster", redirect_uris=[REDIRECT])
    _, token = exchange(fake, app)

    assert token["token_type"] == "bearer"
    assert token["expires_in"] == 7200
    assert token["scope"].split() == list(POSTING_SCOPES)
    assert token["refresh_token"] != token["access_token"]
    assert me(fake, token["access_token"]).json()["data"]["username"] == "alice"
    posted = tweet(fake, token["access_token"], "hello over OAuth 2.0")
    assert posted.status_code == 201
    [record] = fake.tweets
    assert (record.text, record.screen_name, record.consumer_key) == (
        "hello over OAuth 2.0",
        "alice",
        app.client_id,
    )
    assert [(r.endpoint, r.status, r.verified) for r in fake.requests] == [
        ("POST /2/oauth2/token", 200, False),
        ("GET /2/users/me", 200, True),
        ("POST /2/tweets", 201, True),
    ]
    assert fake.requests[-1].consumer_key == app.client_id


def test_public_client_code_flow_sends_its_client_id_in_the_body(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app("native", confidential=False)
    assert app.client_secret is None
    _, token = exchange(fake, app)
    assert me(fake, token["access_token"]).status_code == 200
    # A public client holding a secret it has not got: refused, not ignored.
    form = {"grant_type": "refresh_token", "refresh_token": token["refresh_token"]}
    forged = requests.post(
        fake.url + "/2/oauth2/token", data=form, auth=(app.client_id, "guess"), timeout=5
    )
    assert forged.status_code == 401
    assert fake.requests[-1].reason == ("invalid_client: Basic authentication from a public client")
    unknown = {**form, "client_id": "nobody"}
    assert requests.post(fake.url + "/2/oauth2/token", data=unknown, timeout=5).status_code == 401
    assert fake.requests[-1].reason == "invalid_client: unknown client id"
    form["client_id"] = app.client_id
    renewed = requests.post(fake.url + "/2/oauth2/token", data=form, timeout=5)
    assert renewed.status_code == 200, renewed.text


def test_a_confidential_client_without_basic_is_refused(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    url, verifier = pkce_url(fake, app)
    code = code_of(fake.approve_oauth2(url, "alice"))
    form = {**code_form(code, verifier), "client_id": app.client_id}
    answer = token_call(fake, form)
    assert answer.status_code == 401
    assert answer.json()["error"] == "invalid_client"
    assert fake.requests[-1].reason == (
        "invalid_client: no Basic authentication from a confidential client"
    )
    wrong = OAuth2App(client_id=app.client_id, client_secret=SecretStr("not-the-secret"))
    assert token_call(fake, code_form(code, verifier), wrong).status_code == 401
    # Neither refusal spent the code.
    assert token_call(fake, code_form(code, verifier), app).status_code == 200


def test_a_wrong_code_verifier_is_refused(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    url, _ = pkce_url(fake, app)
    code = code_of(fake.approve_oauth2(url, "alice"))
    other = WebApplicationClient(app.client_id).create_code_verifier(43)
    answer = token_call(fake, code_form(code, other), app)
    assert answer.status_code == 400
    assert answer.json()["error"] == "invalid_grant"
    assert "access_token" not in answer.text


@pytest.mark.parametrize("method", ["plain", None])
def test_plain_pkce_is_refused_with_a_redirect(fake: FakeTwitter, method: str | None) -> None:
    app = fake.create_oauth2_app()
    url, _ = pkce_url(fake, app, method=method)
    redirect = fake.approve_oauth2(url, "alice")
    query = parse_qs(urlsplit(redirect).query)
    assert redirect.startswith(REDIRECT + "?")
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["state-123"]
    assert "code" not in query
    page = requests.get(url, allow_redirects=False, timeout=5)
    assert page.status_code == 302
    assert parse_qs(urlsplit(page.headers["Location"]).query)["error"] == ["invalid_request"]


def test_a_missing_code_challenge_is_refused(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    url, _ = pkce_url(fake, app)
    bare = url.replace("code_challenge=", "not_a_challenge=")
    assert parse_qs(urlsplit(fake.approve_oauth2(bare, "alice")).query)["error"] == [
        "invalid_request"
    ]


def test_an_unregistered_redirect_uri_gets_an_error_page(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app(redirect_uris=[REDIRECT])
    url, _ = pkce_url(fake, app, redirect_uri="http://127.0.0.1:8977/callback")
    with pytest.raises(ValueError, match="error page"):
        fake.approve_oauth2(url, "alice")
    with pytest.raises(ValueError, match="error page"):
        fake.deny_oauth2(url)
    page = requests.get(url, allow_redirects=False, timeout=5)
    assert page.status_code == 400
    assert "Location" not in page.headers
    # A trailing slash is another URI: matching is exact.
    url, _ = pkce_url(fake, app, redirect_uri=REDIRECT + "/")
    assert requests.get(url, allow_redirects=False, timeout=5).status_code == 400


def test_the_token_call_must_repeat_the_redirect_uri_exactly(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()  # redirect_uris=None: any absolute URI
    url, verifier = pkce_url(fake, app, redirect_uri="https://bot.example/cb?x=1")
    code = code_of(fake.approve_oauth2(url, "alice"))
    answer = token_call(fake, code_form(code, verifier, "https://bot.example/cb"), app)
    assert answer.status_code == 400
    assert fake.requests[-1].reason is not None
    assert "redirect_uri differs" in fake.requests[-1].reason
    assert token_call(fake, code_form(code, verifier, "https://bot.example/cb?x=1"), app).ok


def test_a_code_lives_30_seconds_on_the_fakes_clock(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    url, verifier = pkce_url(fake, app)
    code = code_of(fake.approve_oauth2(url, "alice"))
    fake.clock_skew = 31
    answer = token_call(fake, code_form(code, verifier), app)
    assert (answer.status_code, answer.json()) == (400, BAD_CODE)
    assert fake.requests[-1].reason == "invalid_request: expired authorization code"
    fake.clock_skew = 29
    assert token_call(fake, code_form(code, verifier), app).status_code == 200


def test_a_code_is_single_use(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    url, verifier = pkce_url(fake, app)
    code = code_of(fake.approve_oauth2(url, "alice"))
    assert token_call(fake, code_form(code, verifier), app).status_code == 200
    again = token_call(fake, code_form(code, verifier), app)
    assert (again.status_code, again.json()) == (400, BAD_CODE)
    assert fake.requests[-1].reason == "invalid_request: unknown or used authorization code"
    other = fake.create_oauth2_app("other")
    url, verifier = pkce_url(fake, app)
    code = code_of(fake.approve_oauth2(url, "alice"))
    assert token_call(fake, code_form(code, verifier), other).json() == BAD_CODE
    assert fake.requests[-1].reason == "invalid_request: authorization code of another client"


def test_scopes_without_offline_access_get_no_refresh_token(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    url, verifier = pkce_url(fake, app, scope="tweet.read users.read")
    code = code_of(fake.approve_oauth2(url, "alice"))
    token = token_call(fake, code_form(code, verifier), app).json()
    assert set(token) == {"token_type", "expires_in", "access_token", "scope"}
    assert token["scope"] == "tweet.read users.read"


def test_an_unknown_scope_is_refused(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    url, _ = pkce_url(fake, app, scope="tweet.read tweets.everything")
    query = parse_qs(urlsplit(fake.approve_oauth2(url, "alice")).query)
    assert query["error"] == ["invalid_scope"]


# --- the consent page, by hand --------------------------------------------------------------


def test_the_consent_page_approves_and_denies_over_http(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app("Page <App>")
    url, verifier = pkce_url(fake, app)
    page = requests.get(url, timeout=5)
    assert page.status_code == 200
    assert "Page &lt;App&gt;" in page.text
    assert "<code>users.read</code>" in page.text
    query = urlsplit(url).query
    approved = requests.post(
        fake.url + "/i/oauth2/authorize",
        data={"query": query, "screen_name": "@Carol", "action": "authorize"},
        allow_redirects=False,
        timeout=5,
    )
    assert approved.status_code == 302
    location = approved.headers["Location"]
    assert parse_qs(urlsplit(location).query)["state"] == ["state-123"]
    token = token_call(fake, code_form(code_of(location), verifier), app).json()
    assert me(fake, token["access_token"]).json()["data"]["username"] == "Carol"

    denied = requests.post(
        fake.url + "/i/oauth2/authorize",
        data={"query": query, "action": "cancel"},
        allow_redirects=False,
        timeout=5,
    )
    assert denied.status_code == 302
    assert parse_qs(urlsplit(denied.headers["Location"]).query) == {
        "error": ["access_denied"],
        "state": ["state-123"],
    }


def test_deny_oauth2_gives_the_redirect_with_access_denied(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    url, _ = pkce_url(fake, app)
    redirect = fake.deny_oauth2(url)
    assert redirect == REDIRECT + "?error=access_denied&state=state-123"


# --- refresh tokens rotate -------------------------------------------------------------------


def test_refresh_rotates_and_the_old_refresh_token_dies(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    client, first = exchange(fake, app)
    second = dict(client.refresh_token(fake.url + "/2/oauth2/token"))
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["scope"] == first["scope"]
    assert me(fake, second["access_token"]).status_code == 200

    used = refresh(fake, app, first["refresh_token"])
    assert used.status_code == 400
    assert used.json() == USED_TOKEN
    assert fake.requests[-1].reason == "invalid_request: spent or revoked refresh token"

    third = refresh(fake, app, second["refresh_token"])
    assert third.status_code == 200
    assert fake.oauth2_refreshes == 2
    unknown = refresh(fake, app, "never-issued")
    assert (unknown.status_code, unknown.json()) == (400, USED_TOKEN)
    assert fake.oauth2_refreshes == 2


def test_a_refresh_token_of_another_client_is_refused(fake: FakeTwitter) -> None:
    app, other = fake.create_oauth2_app(), fake.create_oauth2_app("other")
    account = fake.issue_oauth2_token(app, "alice")
    assert account.refresh_token is not None
    assert refresh(fake, other, secret(account.refresh_token)).status_code == 400
    assert refresh(fake, app, secret(account.refresh_token)).status_code == 200


def test_racing_refreshes_of_one_token_rotate_once(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "alice")
    assert account.refresh_token is not None
    start = threading.Barrier(8)
    statuses: list[int] = []

    def worker() -> None:
        start.wait()
        statuses.append(refresh(fake, app, secret(account.refresh_token)).status_code)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [400] * 7
    assert fake.oauth2_refreshes == 1


def test_an_expired_access_token_is_401_until_refreshed(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "alice", expires_in=0)
    assert account.refresh_token is not None
    stale = me(fake, secret(account.access_token))
    assert (stale.status_code, stale.json()) == (401, UNAUTHORIZED)
    assert fake.requests[-1].reason == "expired bearer token"
    renewed = refresh(fake, app, secret(account.refresh_token)).json()
    assert renewed["expires_in"] == 7200
    assert me(fake, renewed["access_token"]).status_code == 200
    # Two hours on, on the fake's clock, the new one has expired too.
    fake.clock_skew = 7201
    assert me(fake, renewed["access_token"]).status_code == 401


def test_a_token_call_can_be_made_to_fail(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "alice")
    assert account.refresh_token is not None
    fake.fail_next("close", path="/2/oauth2/token")
    with pytest.raises(requests.ConnectionError):
        refresh(fake, app, secret(account.refresh_token))
    fake.fail_next("html", path="/2/oauth2/token", status=503)
    assert refresh(fake, app, secret(account.refresh_token)).status_code == 503
    # Neither failure reached the token endpoint: the refresh token is still live.
    assert refresh(fake, app, secret(account.refresh_token)).status_code == 200
    assert [r.status for r in fake.requests] == [0, 503, 200]


# --- revoke ------------------------------------------------------------------------------------


def test_revoke_kills_an_access_token_or_a_refresh_token(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "alice")
    assert account.refresh_token is not None
    auth = (app.client_id, secret(app.client_secret))
    answer = requests.post(
        fake.url + "/2/oauth2/revoke",
        data={"token": secret(account.access_token), "token_type_hint": "access_token"},
        auth=auth,
        timeout=5,
    )
    assert (answer.status_code, answer.json()) == (200, {"revoked": True})
    assert me(fake, secret(account.access_token)).status_code == 401
    assert fake.requests[-1].reason == "revoked bearer token"
    requests.post(
        fake.url + "/2/oauth2/revoke",
        data={"token": secret(account.refresh_token)},
        auth=auth,
        timeout=5,
    ).raise_for_status()
    assert refresh(fake, app, secret(account.refresh_token)).json() == USED_TOKEN


def test_revoke_needs_the_clients_authentication(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "alice")
    answer = requests.post(
        fake.url + "/2/oauth2/revoke", data={"token": secret(account.access_token)}, timeout=5
    )
    assert answer.status_code == 401
    assert me(fake, secret(account.access_token)).status_code == 200


def test_fake_revoke_takes_an_oauth2_account(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "alice")
    fake.revoke(account)
    assert me(fake, secret(account.access_token)).status_code == 401
    assert account.refresh_token is not None
    assert refresh(fake, app, secret(account.refresh_token)).status_code == 400
    with pytest.raises(KeyError):
        fake.revoke(account)


# --- bearer tokens on v2 -------------------------------------------------------------------


def test_each_endpoint_wants_its_scopes(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    reader = fake.issue_oauth2_token(app, "alice", scopes=("tweet.read", "users.read"))
    assert me(fake, secret(reader.access_token)).status_code == 200
    refused = tweet(fake, secret(reader.access_token), "not allowed")
    assert (refused.status_code, refused.json()) == (403, FORBIDDEN)
    assert fake.requests[-1].reason == "missing scope tweet.write"
    blind = fake.issue_oauth2_token(app, "alice", scopes=("tweet.read", "tweet.write"))
    assert me(fake, secret(blind.access_token)).status_code == 403
    assert tweet(fake, secret(blind.access_token), "nope").status_code == 403
    assert fake.tweets == []
    writer = fake.issue_oauth2_token(app, "alice")
    posted = tweet(fake, secret(writer.access_token), "allowed")
    assert posted.status_code == 201
    deleted = requests.delete(
        f"{fake.url}/2/tweets/{posted.json()['data']['id']}",
        headers=bearer(secret(writer.access_token)),
        timeout=5,
    )
    assert deleted.json() == {"data": {"deleted": True}}


def test_an_unknown_bearer_token_is_401(fake: FakeTwitter) -> None:
    answer = me(fake, "AAAAAAAAAAAAAAAAAAAAAnot-a-token")
    assert (answer.status_code, answer.json()) == (401, UNAUTHORIZED)
    assert fake.requests[-1].reason == "unknown bearer token"


def test_oauth1_keeps_working_beside_oauth2(fake: FakeTwitter) -> None:
    oauth2_app = fake.create_oauth2_app()
    fake.issue_oauth2_token(oauth2_app, "alice")
    account = fake.issue_token(fake.create_app(), "alice")
    with make_client(account, api_base=fake.url) as client:
        post_tweet(client, "signed with OAuth 1.0a")
    assert [(t.text, t.consumer_key) for t in fake.tweets] == [
        ("signed with OAuth 1.0a", account.consumer_key)
    ]


def test_bearer_calls_count_against_the_rate_limit(fake: FakeTwitter) -> None:
    fake.rate_limit = 1
    account = fake.issue_oauth2_token(fake.create_oauth2_app(), "alice")
    first = me(fake, secret(account.access_token))
    assert first.headers["x-rate-limit-remaining"] == "0"
    assert me(fake, secret(account.access_token)).status_code == 429


# --- the helpers -------------------------------------------------------------------------------


def test_issue_oauth2_token_gives_a_complete_account(fake: FakeTwitter) -> None:
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "@Alice", scopes=("tweet.read", "users.read"))
    assert isinstance(account, OAuth2Account)
    assert (account.client_id, account.client_secret) == (app.client_id, app.client_secret)
    assert account.refresh_token is None
    assert account.scopes == ("tweet.read", "users.read")
    assert (account.screen_name, account.user_id) == ("Alice", fake.create_user("alice"))
    assert account.expires_at.tzinfo is not None
    with pytest.raises(KeyError):
        fake.issue_oauth2_token(OAuth2App(client_id="nobody"), "alice")
    with pytest.raises(ValueError, match="scopes"):
        fake.issue_oauth2_token(app, "alice", scopes=("tweet.everything",))
    with pytest.raises(ValueError, match="scopes"):
        fake.issue_oauth2_token(app, "alice", scopes=())


@pytest.mark.parametrize(
    "uris",
    [REDIRECT, ["127.0.0.1:8976/callback"], ["ftp://x/cb"], ["http://x/cb#frag"], ["http://x/ cb"]],
)
def test_create_oauth2_app_checks_redirect_uris(fake: FakeTwitter, uris: Any) -> None:
    with pytest.raises(ValueError, match="redirect"):
        fake.create_oauth2_app(redirect_uris=uris)


def test_no_secret_reaches_a_log_record_repr_or_record(
    fake: FakeTwitter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = fake.create_oauth2_app()
    client, verifier, redirect = authorize(fake, app)
    token = dict(
        client.fetch_token(
            fake.url + "/2/oauth2/token", authorization_response=redirect, code_verifier=verifier
        )
    )
    renewed = refresh(fake, app, token["refresh_token"]).json()
    me(fake, renewed["access_token"])
    requests.post(
        fake.url + "/2/oauth2/revoke",
        data={"token": renewed["access_token"]},
        auth=(app.client_id, secret(app.client_secret)),
        timeout=5,
    )
    account = fake.issue_oauth2_token(app, "bob")
    secrets = [
        secret(app.client_secret),
        code_of(redirect),
        verifier,
        token["access_token"],
        token["refresh_token"],
        renewed["access_token"],
        renewed["refresh_token"],
        secret(account.access_token),
        base64.b64encode(f"{app.client_id}:{secret(app.client_secret)}".encode()).decode(),
    ]
    seen = "\n".join(
        [caplog.text, repr(fake), repr(app), repr(account), str(account)]
        + [repr(record) for record in fake.requests]
    )
    for value in secrets:
        assert value not in seen
    # The fake's server-side oauthlib records are dropped; the fake's own are kept.
    assert "twcreds.testing" in {record.name for record in caplog.records}
    # Serving OAuth 2.0 over http:// needed no switch that would weaken every client.
    assert "OAUTHLIB_INSECURE_TRANSPORT" not in os.environ
    assert "AUTHLIB_INSECURE_TRANSPORT" not in os.environ


def test_the_token_endpoint_takes_a_json_body_as_x_does(fake: FakeTwitter) -> None:
    # twitter-api-v2 sends its token calls as JSON, and X serves them.
    app = fake.create_oauth2_app()
    account = fake.issue_oauth2_token(app, "alice")
    assert account.refresh_token is not None
    body = {"grant_type": "refresh_token", "refresh_token": secret(account.refresh_token)}
    auth = (app.client_id, secret(app.client_secret))
    url = fake.url + "/2/oauth2/token"
    odd = requests.post(url, json={**body, "client_id": 7}, auth=auth, timeout=5)
    assert (odd.status_code, odd.json()["error"]) == (400, "invalid_request")
    renewed = requests.post(url, json={**body, "scope": None}, auth=auth, timeout=5)
    assert renewed.status_code == 200, renewed.text
    assert fake.oauth2_refreshes == 1
