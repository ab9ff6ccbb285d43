"""App-only bearer tokens: the model, `load_bearer_tokens`, and app-only clients.

A bearer token acts for the app, not for a user: it is loaded apart, never by
`load_accounts`, and its client is refused, before any request, wherever a user is needed.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
from twython import Twython

from tests.conftest import CANARY, write_private
from twcreds import (
    BearerToken,
    CredentialsError,
    CredentialsNotFoundError,
    load_accounts,
    load_bearer_tokens,
    load_clients,
    make_client,
    post_tweet,
    verify_account,
)
from twcreds.testing import FakeTwitter

ACCOUNT = {
    "consumer_key": "ck-bearer-test",
    "consumer_secret": "cs-bearer-test",
    "access_token": "1-at-bearer-test",
    "access_token_secret": "ats-bearer-test",
}


def test_the_model_masks_validates_and_round_trips() -> None:
    token = BearerToken(bearer_token=f"  {CANARY}\n", api_key="ck")
    assert token.bearer_token.get_secret_value() == CANARY
    assert token.consumer_key == "ck"
    assert CANARY not in repr(token)
    assert CANARY not in str(token)
    assert token.label == "app ck"
    assert BearerToken.model_validate_json(token.model_dump_json()) == token
    with pytest.raises(AttributeError, match="immutable"):
        token.bearer_token = "x"  # type: ignore[misc,assignment]
    with pytest.raises(CredentialsError, match="bearer_token is empty") as caught:
        BearerToken(bearer_token="  ")
    assert "Bearer Token" in str(caught.value)
    with pytest.raises(CredentialsError, match="contains a space") as caught:
        BearerToken(bearer_token=f"{CANARY} {CANARY}")
    assert CANARY not in str(caught.value)
    with pytest.raises(CredentialsError, match="did you mean 'bearer_token'"):
        BearerToken.model_validate({"bearer-token": CANARY})
    assert BearerToken(bearer_token=CANARY).label == "(app-only bearer token)"


def test_json_shapes_each_give_their_tokens(tmp_path: Path) -> None:
    one = write_private(tmp_path / "one.json", json.dumps({"bearer_token": "AAAA1"}))
    assert load_bearer_tokens(one) == [BearerToken(bearer_token="AAAA1")]

    app_file = {
        "app": {"consumer_key": "ck", "consumer_secret": "cs", "bearer_token": "AAAA2"},
        "accounts": [{"access_token": "1-a", "access_token_secret": "s1"}],
    }
    with_app = write_private(tmp_path / "app.json", json.dumps(app_file))
    # The app's token, once, though every inheriting account carries it.
    assert load_bearer_tokens(with_app) == [BearerToken(bearer_token="AAAA2", consumer_key="ck")]
    assert len(load_accounts(with_app)) == 1

    listed = write_private(
        tmp_path / "list.json",
        json.dumps([ACCOUNT, {"bearer_token": "AAAA3", "api_key": "ck3"}]),
    )
    assert load_bearer_tokens(listed) == [BearerToken(bearer_token="AAAA3", consumer_key="ck3")]


def test_load_accounts_never_returns_a_bearer_token(
    tmp_path: Path, fake_twitter: FakeTwitter
) -> None:
    app = fake_twitter.create_app()
    account = fake_twitter.issue_token(app, "alice")
    bearer = fake_twitter.create_bearer_token(app)
    records = [
        {"bearer_token": bearer.bearer_token.get_secret_value(), "consumer_key": app.consumer_key},
        account.model_dump(mode="json"),
    ]
    path = write_private(tmp_path / "accounts.json", json.dumps(records))

    accounts = load_accounts(path)
    assert [a.screen_name for a in accounts] == ["alice"]
    # A loop over accounts posts from each: no app-only client among them.
    for loaded, client in load_clients(path, api_base=fake_twitter.url):
        post_tweet(client, f"hello from {loaded.screen_name}")
    assert [t.screen_name for t in fake_twitter.tweets] == ["alice"]

    only = write_private(tmp_path / "only.json", json.dumps(records[:1]))
    with pytest.raises(CredentialsError, match=r"only app-only bearer tokens.*load_bearer_tokens"):
        load_accounts(only)


def test_env_files_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = write_private(
        tmp_path / "bot.env",
        "TWITTER_CONSUMER_KEY=ck\nTWITTER_BEARER_TOKEN=AAAA4\nOTHER_BEARER_TOKEN=AAAA5\n",
    )
    assert load_bearer_tokens(env) == [BearerToken(bearer_token="AAAA4", consumer_key="ck")]
    assert load_bearer_tokens(env, prefix="OTHER_") == [BearerToken(bearer_token="AAAA5")]

    monkeypatch.setenv("TWITTER_BEARER_TOKEN", "AAAA6")
    assert load_bearer_tokens() == [BearerToken(bearer_token="AAAA6")]
    # The environment's bearer token is no account: the chain goes on past it.
    with pytest.raises(CredentialsNotFoundError):
        load_accounts()


def test_the_default_chain_and_its_failures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(CredentialsNotFoundError, match="TWITTER_BEARER_TOKEN not set"):
        load_bearer_tokens()
    Path(".env").write_text("TWITTER_BEARER_TOKEN=AAAA7\n", encoding="utf-8")
    Path(".env").chmod(0o600)
    assert load_bearer_tokens() == [BearerToken(bearer_token="AAAA7")]

    named = write_private(tmp_path / "named.json", json.dumps({"bearer_token": "AAAA8"}))
    monkeypatch.setenv("TWCREDS_FILE", str(named))
    assert load_bearer_tokens() == [BearerToken(bearer_token="AAAA8")]
    monkeypatch.setenv("TWCREDS_FILE", str(tmp_path / "missing.json"))
    with pytest.raises(CredentialsNotFoundError, match="TWCREDS_FILE names"):
        load_bearer_tokens()

    none = write_private(tmp_path / "accounts.json", json.dumps([ACCOUNT]))
    with pytest.raises(CredentialsError, match="holds no app-only bearer token"):
        load_bearer_tokens(none)
    lines = write_private(tmp_path / "four.txt", "a\nb\nc\nd\n")
    with pytest.raises(CredentialsError, match="a lines file holds no app-only bearer token"):
        load_bearer_tokens(lines)
    broken = write_private(
        tmp_path / "broken.json", json.dumps([{"bearer_token": f"{CANARY} {CANARY}"}])
    )
    with pytest.raises(CredentialsError, match=r"broken.json: \[0\]: bearer_token contains") as c:
        load_bearer_tokens(broken)
    assert CANARY not in str(c.value)


def test_an_app_only_client_reads_as_the_app_and_never_posts(
    fake_twitter: FakeTwitter,
) -> None:
    app = fake_twitter.create_app()
    bearer = fake_twitter.create_bearer_token(app)
    client = make_client(bearer, api_base=fake_twitter.url, timeout=5)
    assert isinstance(client, Twython)
    assert client.oauth_version == 2
    assert client.app_key == app.consumer_key
    assert not client.oauth_token
    assert not client.access_token  # Twython's own OAuth 2 path (https only) stays unused
    copy = pickle.loads(pickle.dumps(client))  # noqa: S301 - our own bytes
    assert copy.bearer == bearer

    with pytest.raises(CredentialsError, match="app-only bearer token cannot post; use an account"):
        post_tweet(client, "hello")
    with pytest.raises(CredentialsError, match="acts for no user"):
        verify_account(client)
    with pytest.raises(CredentialsError, match="acts for no user"):
        verify_account(bearer, api_base=fake_twitter.url)
    assert fake_twitter.requests == []

    # Sent anyway, X's answer: the wrong kind of credential for the endpoint.
    answer = client.client.get(f"{fake_twitter.url}/2/users/me")
    assert answer.status_code == 403
    assert answer.json()["type"].endswith("/unsupported-authentication")
    assert fake_twitter.requests[-1].reason == "bearer token on a user-context endpoint"
