"""OAuth 2.0 accounts in models, files and the store: validation, masking, both kinds mixed.

Nothing here talks to X; the token endpoint, the PKCE flow and refreshes are tested against
the offline Twitter in tests/test_oauth2.py.
"""

from __future__ import annotations

import json
import os
import traceback
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import CANARY, write_private
from twcreds import (
    POSTING_SCOPES,
    Account,
    CredentialsError,
    OAuth2Account,
    OAuth2App,
    PendingOAuth2Authorization,
    add_account,
    load_account,
    load_accounts,
    remove_account,
    save_accounts,
)
from twcreds.formats import dump_accounts
from twcreds.sources import load_app, load_oauth2_app

EXPIRES = "2030-01-02T03:04:05Z"
WHEN = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def oauth2_fields(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "client_id": "Y2xpZW50LWlkLW9mLXRoZS1hcHA",
        "client_secret": CANARY + "client",
        "access_token": CANARY + "access",
        "refresh_token": CANARY + "refresh",
        "expires_at": EXPIRES,
        "scopes": list(POSTING_SCOPES),
        "screen_name": "bot2",
        "user_id": "2244994945",
    }
    fields.update(changes)
    return {key: value for key, value in fields.items() if value is not None}


def oauth1_fields(**changes: Any) -> dict[str, Any]:
    fields = {
        "consumer_key": "consumerKEY0001",
        "consumer_secret": CANARY + "consumer",
        "access_token": "2244994945-accessTOKEN0001",
        "access_token_secret": CANARY + "tokensecret",
        "screen_name": "bot2",
        "user_id": "2244994945",
    }
    fields.update(changes)
    return fields


def everything_shown(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


# --- the models ------------------------------------------------------------------------


def test_an_oauth2_account_masks_every_secret_and_round_trips() -> None:
    account = OAuth2Account(**oauth2_fields())
    assert account.expires_at == WHEN
    assert account.scopes == POSTING_SCOPES
    shown = repr(account) + str(account) + repr(account.app) + str(account.app)
    assert CANARY not in shown
    assert OAuth2Account.model_validate_json(account.model_dump_json()) == account
    dumped = account.model_dump(mode="json")
    assert dumped["access_token"] == CANARY + "access"
    assert dumped["refresh_token"] == CANARY + "refresh"
    assert dumped["client_secret"] == CANARY + "client"
    assert dumped["expires_at"] == EXPIRES
    assert account.app == OAuth2App(client_id=account.client_id, client_secret=CANARY + "client")
    assert account.app.confidential


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2030-01-02T03:04:05Z", WHEN),
        ("2030-01-02T04:04:05+01:00", WHEN),
        ("1893553445", WHEN),
        (1893553445, WHEN),
        (1893553445.0, WHEN),
        (WHEN, WHEN),
    ],
)
def test_expires_at_takes_iso_8601_and_epoch_seconds(given: object, expected: datetime) -> None:
    assert OAuth2Account(**oauth2_fields(expires_at=given)).expires_at == expected


@pytest.mark.parametrize(
    ("given", "words"),
    [
        ("2030-01-02T03:04:05", "has no time zone"),
        ("tuesday", "is not a time"),
        (10**30, "is not a time"),
        (True, "must be a string"),
        ("", "is empty"),
    ],
)
def test_a_bad_expiry_names_the_field_and_the_fix(given: object, words: str) -> None:
    with pytest.raises(CredentialsError, match=words) as info:
        OAuth2Account(**oauth2_fields(expires_at=given))
    assert "expires_at" in str(info.value)
    assert CANARY not in everything_shown(info.value)


def test_scopes_come_as_a_list_or_as_the_token_endpoints_string() -> None:
    from_string = OAuth2Account(**oauth2_fields(scopes=None, scope="tweet.read  users.read"))
    assert from_string.scopes == ("tweet.read", "users.read")
    assert from_string.missing_scopes() == ("tweet.write", "media.write", "offline.access")
    unknown = OAuth2Account(**oauth2_fields(scopes=None))
    assert unknown.scopes == ()
    assert unknown.missing_scopes() == ()  # unknown is not missing
    with pytest.raises(CredentialsError, match="list of scopes"):
        OAuth2Account(**oauth2_fields(scopes=["tweet.read", "two words"]))


def test_a_public_client_has_no_secret() -> None:
    app = OAuth2App(client_id="abc", client_secret="  ")
    assert app.client_secret is None
    assert not app.confidential


def test_oauth2_values_are_checked_as_oauth1_ones_are() -> None:
    with pytest.raises(CredentialsError, match="access_token contains a space") as info:
        OAuth2Account(**oauth2_fields(access_token=CANARY + " x"))
    assert CANARY not in everything_shown(info.value)
    with pytest.raises(CredentialsError, match="client_id is missing"):
        OAuth2Account(**{k: v for k, v in oauth2_fields().items() if k != "client_id"})


def test_a_misspelled_oauth2_key_gets_a_did_you_mean() -> None:
    fields = oauth2_fields()
    fields["acess_token"] = fields.pop("access_token")
    with pytest.raises(CredentialsError, match="found 'acess_token': did you mean 'access_token'"):
        OAuth2Account(**fields)


def test_the_pending_half_round_trips_with_its_verifier() -> None:
    pending = PendingOAuth2Authorization(
        auth_url="https://x.com/i/oauth2/authorize?state=s",
        state="s",
        code_verifier=CANARY,
        redirect_uri="http://127.0.0.1:8976/callback",
        scopes=POSTING_SCOPES,
        app=OAuth2App(client_id="abc"),
    )
    assert CANARY not in repr(pending) + str(pending)
    again = PendingOAuth2Authorization.model_validate_json(pending.model_dump_json())
    assert again == pending
    assert again.code_verifier.get_secret_value() == CANARY


def test_expires_within() -> None:
    account = OAuth2Account(**oauth2_fields())
    assert not account.expires_within(300, now=WHEN - timedelta(seconds=301))
    assert account.expires_within(300, now=WHEN - timedelta(seconds=299))
    assert account.expires_within(0, now=WHEN)


# --- files of both kinds -------------------------------------------------------------


def test_a_json_list_may_mix_both_kinds_in_order(tmp_path: Path) -> None:
    path = write_private(
        tmp_path / "accounts.json",
        json.dumps(
            [
                oauth1_fields(),
                oauth2_fields(),
                oauth1_fields(screen_name="bot3", user_id=None, access_token="other-token"),
            ]
        ),
    )
    accounts = load_accounts(path)
    assert [type(a) for a in accounts] == [Account, OAuth2Account, Account]
    # One user may be authorized both ways: not a duplicate, but the name is ambiguous.
    with pytest.raises(CredentialsError, match=r"names 2 accounts: \[0\] .*, \[1\] "):
        load_account(path, account="bot2")
    chosen = load_account(path, account=1)
    assert isinstance(chosen, OAuth2Account)


def test_two_oauth2_entries_of_one_screen_name_are_a_duplicate(tmp_path: Path) -> None:
    path = write_private(
        tmp_path / "accounts.json",
        json.dumps([oauth2_fields(), oauth2_fields(access_token="another", user_id=None)]),
    )
    with pytest.raises(CredentialsError, match=r"\[0\] and \[1\] have the same screen name"):
        load_accounts(path)


def test_errors_in_a_mixed_list_name_each_entry(tmp_path: Path) -> None:
    path = write_private(
        tmp_path / "accounts.json",
        json.dumps([oauth1_fields(access_token_secret=""), oauth2_fields(expires_at="soon")]),
    )
    with pytest.raises(CredentialsError) as info:
        load_accounts(path)
    message = str(info.value)
    assert f"{path}: [0] (@bot2): access_token_secret is empty" in message
    assert f"{path}: [1] (@bot2): expires_at is not a time" in message
    assert CANARY not in everything_shown(info.value)


def test_an_app_section_is_not_merged_into_an_oauth2_entry(tmp_path: Path) -> None:
    app = {"consumer_key": "consumerKEY0001", "consumer_secret": "appsecret"}
    path = write_private(
        tmp_path / "accounts.json",
        json.dumps({"app": app, "accounts": [oauth2_fields()]}),
    )
    [account] = load_accounts(path)
    assert isinstance(account, OAuth2Account)


def test_env_variables_define_an_oauth2_account(tmp_path: Path) -> None:
    path = write_private(
        tmp_path / ".env",
        "\n".join(
            [
                "TWITTER_CLIENT_ID=abc",
                f"TWITTER_OAUTH2_ACCESS_TOKEN={CANARY}",
                "TWITTER_OAUTH2_REFRESH_TOKEN=refresh",
                f"TWITTER_OAUTH2_EXPIRES_AT={EXPIRES}",
                "TWITTER_OAUTH2_SCOPES='tweet.read users.read'",
                "TWITTER_SCREEN_NAME=bot2",
            ]
        ),
    )
    account = load_account(path)
    assert isinstance(account, OAuth2Account)
    assert (account.client_id, account.client_secret, account.screen_name) == ("abc", None, "bot2")
    assert account.scopes == ("tweet.read", "users.read")


def test_env_holding_both_kinds_gives_both_accounts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in oauth1_fields().items():
        monkeypatch.setenv(f"TWITTER_{key.upper()}", value)
    monkeypatch.setenv("TWITTER_CLIENT_ID", "abc")
    monkeypatch.setenv("TWITTER_OAUTH2_ACCESS_TOKEN", "bearer")
    monkeypatch.setenv("TWITTER_OAUTH2_EXPIRES_AT", EXPIRES)
    accounts = load_accounts()
    assert [type(a) for a in accounts] == [Account, OAuth2Account]


def test_a_misspelled_oauth2_variable_is_named(tmp_path: Path) -> None:
    path = write_private(
        tmp_path / ".env",
        f"TWITTER_CLIENT_ID=abc\nTWITTER_OAUTH2_ACCES_TOKEN=x\nTWITTER_OAUTH2_EXPIRES_AT={EXPIRES}\n",
    )
    with pytest.raises(CredentialsError) as info:
        load_account(path)
    assert "TWITTER_OAUTH2_ACCESS_TOKEN is missing" in str(info.value)
    assert "found 'TWITTER_OAUTH2_ACCES_TOKEN'" in str(info.value)


@pytest.mark.parametrize("format", ["json", "env"])
def test_dump_and_load_an_oauth2_account(tmp_path: Path, format: str) -> None:
    account = OAuth2Account(**oauth2_fields())
    path = write_private(tmp_path / f"out.{format}", dump_accounts(account, format))  # type: ignore[arg-type]
    assert load_account(path, format=format) == account  # type: ignore[arg-type]


def test_a_lines_file_cannot_hold_an_oauth2_account() -> None:
    with pytest.raises(CredentialsError, match=r"not an OAuth 2\.0 account; write json or env"):
        dump_accounts(OAuth2Account(**oauth2_fields()), "lines")


def test_the_apps_of_each_kind_load_apart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    both = write_private(tmp_path / "a.json", json.dumps([oauth1_fields(), oauth2_fields()]))
    assert load_app(both).consumer_key == "consumerKEY0001"
    assert load_oauth2_app(both).client_id == oauth2_fields()["client_id"]
    client = write_private(tmp_path / "client.json", '{"client_id": "abc", "client_secret": "s"}')
    assert load_oauth2_app(client) == OAuth2App(client_id="abc", client_secret="s")
    with pytest.raises(CredentialsError, match=r"holds no app OAuth 2\.0 client_id"):
        load_oauth2_app(write_private(tmp_path / "o1.json", json.dumps(oauth1_fields())))
    monkeypatch.setenv("TWITTER_CLIENT_ID", "fromenv")
    assert load_oauth2_app() == OAuth2App(client_id="fromenv")


# --- the store -------------------------------------------------------------------------


def test_a_store_of_oauth1_accounts_alone_is_written_as_before(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    save_accounts(path, [Account(**oauth1_fields())])
    assert json.loads(path.read_text()) == [oauth1_fields()]


def test_the_store_keeps_both_kinds_and_replaces_per_kind(tmp_path: Path) -> None:
    path = tmp_path / "accounts.json"
    add_account(path, Account(**oauth1_fields()))
    add_account(path, OAuth2Account(**oauth2_fields()))
    # The same user again, with new tokens: each replaces its own kind only.
    renewed = OAuth2Account(**oauth2_fields(access_token="new", refresh_token="newer"))
    stored = add_account(path, renewed)
    assert [type(a) for a in stored] == [Account, OAuth2Account]
    assert stored[1] == renewed
    assert os.stat(path).st_mode & 0o777 == 0o600
    with pytest.raises(CredentialsError, match="names 2 accounts"):
        remove_account(path, "bot2")
    assert load_accounts(path) == stored


def test_an_environment_with_an_account_and_an_oauth2_client_gives_both_apps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # What `twcreds emulator` prints, exported: an OAuth 1.0a account and an OAuth 2.0
    # client with no tokens, for `twcreds authorize --oauth2`.
    for key, value in oauth1_fields().items():
        monkeypatch.setenv(f"TWITTER_{key.upper()}", value)
    monkeypatch.setenv("TWITTER_CLIENT_ID", "abc")
    monkeypatch.setenv("TWITTER_CLIENT_SECRET", "def")
    [account] = load_accounts()
    assert isinstance(account, Account)
    assert load_oauth2_app() == OAuth2App(client_id="abc", client_secret="def")
