"""Tests for twcreds.models: validation rules, aliases, immutability, secrecy, round-trips."""

from __future__ import annotations

import json
import traceback
from collections.abc import Callable
from typing import Any

import pytest
from pydantic import BaseModel, SecretStr, ValidationError

from tests.conftest import CANARY
from twcreds.errors import CredentialsError
from twcreds.models import Account, AccountList, App, PendingAuthorization

# The guide's placeholder values, as its 4-line file and JSON snippets hold them.
GUIDE = {
    "consumer_key": "abcYOURCONSUMERKEY",
    "consumer_secret": "abcYOURCONSUMERSECRET",
    "access_token": "abcYOURACCESSTOKEN",
    "access_token_secret": "abcYOURACCESSTOKENSECRET",
}
REQUIRED = tuple(GUIDE)
SECRET = {**GUIDE, "consumer_secret": CANARY, "access_token_secret": CANARY + "2"}

# What `get_authorized_tokens` returned in the guide, with the user id made consistent with
# the token's "<user id>-" prefix (the guide's own pair disagree: see the test below).
REALCREDS = {
    "oauth_token": "931657239872432861-yourAccessToken",
    "oauth_token_secret": "888-your-access-token-secret",
    "screen_name": "your_secondary_account",
    "user_id": "931657239872432861",
    "x_auth_expires": "0",
}


def secret_values(model: BaseModel) -> list[str]:
    return [v.get_secret_value() for v in model.__dict__.values() if isinstance(v, SecretStr)]


def assert_no_canary(error: BaseException) -> None:
    text = "".join(traceback.format_exception(error))
    assert CANARY not in text
    assert CANARY not in repr(error)


# --- values in, values out --------------------------------------------------------------


def test_account_keeps_the_guides_four_values() -> None:
    account = Account(**GUIDE)
    assert account.consumer_key == "abcYOURCONSUMERKEY"
    assert account.consumer_secret.get_secret_value() == "abcYOURCONSUMERSECRET"
    assert account.access_token == "abcYOURACCESSTOKEN"
    assert account.access_token_secret.get_secret_value() == "abcYOURACCESSTOKENSECRET"
    assert account.screen_name is None
    assert account.user_id is None


@pytest.mark.parametrize(
    ("alias", "field"),
    [
        ("api_key", "consumer_key"),
        ("app_key", "consumer_key"),
        ("api_secret", "consumer_secret"),
        ("api_key_secret", "consumer_secret"),
        ("app_secret", "consumer_secret"),
        ("oauth_token", "access_token"),
        ("oauth_token_secret", "access_token_secret"),
    ],
)
def test_input_aliases_fill_the_canonical_field(alias: str, field: str) -> None:
    data = {k: v for k, v in GUIDE.items() if k != field}
    data[alias] = "fromAlias"
    for account in (Account(**data), Account.model_validate(data)):
        value = getattr(account, field)
        assert (value.get_secret_value() if isinstance(value, SecretStr) else value) == "fromAlias"
        assert set(json.loads(account.model_dump_json())) == {*REQUIRED, "screen_name", "user_id"}


@pytest.mark.parametrize("alias", ["api_key", "app_key", "api_secret", "app_secret"])
def test_app_accepts_the_consumer_aliases(alias: str) -> None:
    other = "consumer_secret" if "key" in alias else "consumer_key"
    app = App.model_validate({alias: "aliased", other: "plain"})
    dumped = json.loads(app.model_dump_json())
    assert dumped == {
        "consumer_key": "aliased" if "key" in alias else "plain",
        "consumer_secret": "plain" if "key" in alias else "aliased",
    }


def test_get_authorized_tokens_dict_makes_an_account_with_its_own_key_names() -> None:
    account = Account(consumer_key="ck", consumer_secret="cs", **REALCREDS)
    assert account.access_token == "931657239872432861-yourAccessToken"
    assert account.access_token_secret.get_secret_value() == "888-your-access-token-secret"
    assert account.screen_name == "your_secondary_account"
    assert account.user_id == "931657239872432861"


def test_the_guides_printed_realcreds_disagree_on_user_id() -> None:
    # The guide's sample: token "888-..." but user_id "931657239872432861".
    printed = {**REALCREDS, "oauth_token": "888-your-access-token"}
    with pytest.raises(CredentialsError, match="user_id does not match the access token"):
        Account(consumer_key="ck", consumer_secret="cs", **printed)


@pytest.mark.parametrize(
    "raw",
    ["value\n", "value\r\n", "\tvalue\t", "\ufeffvalue", "  value  ", "\ufeff value\r\n\n"],
)
@pytest.mark.parametrize("field", REQUIRED)
def test_values_are_stripped(field: str, raw: str) -> None:
    account = Account(**{**GUIDE, field: raw})
    value = getattr(account, field)
    assert (value.get_secret_value() if isinstance(value, SecretStr) else value) == "value"


@pytest.mark.parametrize("raw", ["", " ", "\n", "\r\n", "\t", "\ufeff"])
@pytest.mark.parametrize("field", REQUIRED)
def test_empty_required_value_is_an_error(field: str, raw: str) -> None:
    with pytest.raises(CredentialsError, match=rf"{field} is empty; fill in the"):
        Account(**{**GUIDE, field: raw})


@pytest.mark.parametrize(
    "inner", [" ", "\t", "\n", "\r", "\x00", "\x1b", "\x7f", "\u200b", "\ufeff", "\xa0"]
)
@pytest.mark.parametrize("field", REQUIRED)
def test_whitespace_or_control_inside_a_value_is_an_error(field: str, inner: str) -> None:
    with pytest.raises(CredentialsError, match=rf"{field} contains a space") as caught:
        Account(**{**GUIDE, field: CANARY[:10] + inner + CANARY[10:]})
    assert CANARY[:10] not in str(caught.value)
    assert "copy it again" in str(caught.value)


@pytest.mark.parametrize("written", ["${KEY}", "$KEY", "{KEY}", "abc$def", "abc}"])
@pytest.mark.parametrize("field", [*REQUIRED, "screen_name"])
def test_a_shell_variable_is_refused_with_the_hint_that_nothing_is_expanded(
    field: str, written: str
) -> None:
    with pytest.raises(CredentialsError) as caught:
        Account(**{**GUIDE, field: written + CANARY})
    message = str(caught.value)
    assert f"{field} contains '$', '{{' or '}}'" in message
    assert "expands no variable" in message
    assert "export the variable" in message
    assert CANARY not in message


NON_STRINGS = [
    (5, "int"),
    (5.0, "float"),
    (True, "bool"),
    (["x"], "list"),
    ({"v": "x"}, "dict"),
    (b"bytes", "bytes"),
]


@pytest.mark.parametrize(("value", "kind"), [*NON_STRINGS, (None, "null")])
@pytest.mark.parametrize("field", REQUIRED)
def test_non_string_required_value_is_an_error(field: str, value: object, kind: str) -> None:
    with pytest.raises(CredentialsError, match=rf"{field} must be a string, not {kind}"):
        Account(**{**GUIDE, field: value})


@pytest.mark.parametrize(("value", "kind"), NON_STRINGS)
@pytest.mark.parametrize("field", ["screen_name", "user_id"])
def test_non_string_optional_value_is_an_error(field: str, value: object, kind: str) -> None:
    # Even a numeric user id: JSON numbers above 2**53 lose digits in many parsers.
    with pytest.raises(CredentialsError, match=rf"{field} must be a string, not {kind}"):
        Account(**{**GUIDE, field: value})


@pytest.mark.parametrize("raw", ["", " ", "\n", "\ufeff\r\n", None])
@pytest.mark.parametrize("field", ["screen_name", "user_id"])
def test_empty_optional_value_is_none(field: str, raw: str | None) -> None:
    assert getattr(Account(**{**GUIDE, field: raw}), field) is None


@pytest.mark.parametrize(
    ("raw", "stored"),
    [
        ("@bot", "bot"),
        (" @bot\n", "bot"),
        ("bot", "bot"),
        ("@", None),
        ("@Mixed_Case", "Mixed_Case"),
    ],
)
def test_screen_name_is_stored_without_at(raw: str, stored: str | None) -> None:
    assert Account(**GUIDE, screen_name=raw).screen_name == stored


@pytest.mark.parametrize(
    ("token", "user_id"),
    [("12345-abc", "12345"), ("abc-12345", "999"), ("12345abc", "999"), ("12345-abc", None)],
)
def test_user_id_agreeing_with_the_token_or_unchecked(token: str, user_id: str | None) -> None:
    account = Account(**{**GUIDE, "access_token": token, "user_id": user_id})
    assert (account.access_token, account.user_id) == (token, user_id)


@pytest.mark.parametrize(("token", "user_id"), [("12345-abc", "1234"), ("7-abc", "77")])
def test_user_id_contradicting_the_token_prefix_is_an_error(token: str, user_id: str) -> None:
    with pytest.raises(CredentialsError, match="user_id does not match") as caught:
        Account(**{**GUIDE, "access_token": token, "user_id": user_id})
    assert "copy both from the same account" in str(caught.value)


# --- misspelled keys --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typo", "field"),
    [
        ("acces_token", "access_token"),
        ("access-token", "access_token"),
        ("ACCESS_TOKEN", "access_token"),
        ("consumer_secert", "consumer_secret"),
        ("consumerkey", "consumer_key"),
        ("access_token_secrte", "access_token_secret"),
    ],
)
def test_missing_key_names_its_misspelling(typo: str, field: str) -> None:
    data = {k: v for k, v in GUIDE.items() if k != field}
    data[typo] = "value"
    with pytest.raises(CredentialsError) as caught:
        Account.model_validate(data)
    assert f"{field} is missing; found {typo!r}: did you mean {field!r}?" in str(caught.value)


def test_each_misspelling_is_offered_for_the_field_it_is_closest_to() -> None:
    data = {
        "consumer_key": "k",
        "consumer_secret": "s",
        "acces_token": "t",
        "acces_token_secret": "x",
    }
    with pytest.raises(CredentialsError) as caught:
        Account.model_validate(data)
    message = str(caught.value)
    assert "found 'acces_token': did you mean 'access_token'?" in message
    assert "found 'acces_token_secret': did you mean 'access_token_secret'?" in message
    assert "found 'acces_token_secret': did you mean 'access_token'?" not in message


def test_unrelated_unknown_keys_are_ignored_and_not_suggested() -> None:
    assert Account(**GUIDE, note="hello", bearer_token="x").access_token == GUIDE["access_token"]
    data = {k: v for k, v in GUIDE.items() if k != "access_token"} | {"note": "hello"}
    with pytest.raises(CredentialsError) as caught:
        Account.model_validate(data)
    message = str(caught.value)
    assert "access_token is missing; add it: the account's Access Token" in message
    assert "did you mean" not in message


# --- immutability -----------------------------------------------------------------------


def _models() -> list[BaseModel]:
    account = Account(**SECRET, screen_name="bot", user_id=None)
    pending = PendingAuthorization(
        auth_url="https://api.twitter.com/oauth/authorize?oauth_token=req",
        oauth_token="req",
        oauth_token_secret=CANARY + "3",
        app=account.app,
        api_base="http://127.0.0.1:8080",
    )
    return [account.app, account, AccountList([account]), pending]


@pytest.mark.parametrize("model", _models(), ids=lambda m: type(m).__name__)
def test_models_are_frozen(model: BaseModel) -> None:
    name = next(iter(type(model).model_fields))
    before = getattr(model, name)
    with pytest.raises(AttributeError, match="immutable") as caught:
        setattr(model, name, CANARY)
    assert CANARY not in str(caught.value)
    with pytest.raises(AttributeError, match="immutable"):
        delattr(model, name)
    assert getattr(model, name) == before


def test_model_copy_validates_its_update() -> None:
    account = Account(**GUIDE)
    assert account.model_copy(update={"screen_name": " @bot\n"}).screen_name == "bot"
    assert account.model_copy(update={"oauth_token": "new"}).access_token == "new"
    assert account.model_copy().access_token == GUIDE["access_token"]
    with pytest.raises(CredentialsError, match="consumer_key contains a space"):
        account.model_copy(update={"consumer_key": "a b"})
    accounts = AccountList([account])
    with pytest.raises(CredentialsError, match=r"\[0\] and \[1\] have the same access token"):
        accounts.model_copy(update={"root": [account, account]})


# --- secrecy and round-trips ------------------------------------------------------------


@pytest.mark.parametrize("model", _models(), ids=lambda m: type(m).__name__)
def test_secrets_are_masked_in_repr_and_str(model: BaseModel) -> None:
    for text in (repr(model), str(model), f"{model}", f"{model!r}", repr(model.model_dump())):
        assert CANARY not in text


@pytest.mark.parametrize("model", _models(), ids=lambda m: type(m).__name__)
def test_explicit_serialization_writes_secrets_and_round_trips(model: BaseModel) -> None:
    dumped = model.model_dump_json()
    assert CANARY in dumped
    assert CANARY in json.dumps(model.model_dump(mode="json"))
    assert type(model).model_validate_json(dumped) == model
    assert type(model).model_validate(model.model_dump(mode="json")) == model
    assert type(model).model_validate(json.loads(dumped)) == model


def test_secret_str_values_are_accepted_as_input() -> None:
    account = Account(**SECRET)
    again = Account(**account.model_dump())
    assert again == account
    assert secret_values(again) == [CANARY, CANARY + "2"]


def test_account_app_is_its_consumer_half() -> None:
    app = Account(**SECRET).app
    assert app == App(consumer_key=GUIDE["consumer_key"], consumer_secret=CANARY)


# --- every entry point raises CredentialsError ------------------------------------------

BAD_ACCOUNT = {**SECRET, "access_token_secret": CANARY + " inner space"}
BAD_PENDING = {
    "auth_url": "https://x",
    "oauth_token": "t",
    "oauth_token_secret": CANARY + " inner space",
    "app": {"consumer_key": "k", "consumer_secret": CANARY},
}
ENTRY_POINTS: dict[str, Callable[[], object]] = {
    "App()": lambda: App(consumer_key=" ", consumer_secret=CANARY),
    "App.model_validate": lambda: App.model_validate({"consumer_secret": CANARY}),
    "App.model_validate_json": lambda: App.model_validate_json(
        json.dumps({"consumer_key": 1, "consumer_secret": CANARY})
    ),
    "App.model_validate_json(syntax)": lambda: App.model_validate_json('{"a": "' + CANARY),
    "App.model_validate_strings": lambda: App.model_validate_strings({"consumer_key": "k"}),
    "Account()": lambda: Account(**BAD_ACCOUNT),
    "Account.model_validate": lambda: Account.model_validate(BAD_ACCOUNT),
    "Account.model_validate(list)": lambda: Account.model_validate([CANARY]),
    "Account.model_validate_json": lambda: Account.model_validate_json(json.dumps(BAD_ACCOUNT)),
    "Account.model_copy": lambda: Account(**SECRET).model_copy(
        update={"access_token": CANARY + " x"}
    ),
    "AccountList()": lambda: AccountList([SECRET, BAD_ACCOUNT]),
    "AccountList.model_validate": lambda: AccountList.model_validate([BAD_ACCOUNT]),
    "AccountList.model_validate(dict)": lambda: AccountList.model_validate(SECRET),
    "AccountList.model_validate_json": lambda: AccountList.model_validate_json(
        json.dumps([SECRET, SECRET])
    ),
    "AccountList.model_validate_strings": lambda: AccountList.model_validate_strings(
        [{"consumer_key": "k", "consumer_secret": CANARY}]
    ),
    "PendingAuthorization()": lambda: PendingAuthorization(**BAD_PENDING),
    "PendingAuthorization.model_validate": lambda: PendingAuthorization.model_validate(BAD_PENDING),
    "PendingAuthorization.model_validate_json": lambda: PendingAuthorization.model_validate_json(
        json.dumps(BAD_PENDING)
    ),
}


@pytest.mark.parametrize("call", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_every_entry_point_raises_credentials_error_without_a_validation_error(
    call: Callable[[], object],
) -> None:
    with pytest.raises(CredentialsError) as caught:
        call()
    error = caught.value
    assert isinstance(error, ValueError)
    assert not isinstance(error, ValidationError)
    assert error.__cause__ is None
    assert error.__context__ is None
    assert_no_canary(error)


def test_error_names_the_model_and_every_problem() -> None:
    with pytest.raises(CredentialsError) as caught:
        Account(consumer_key="k", consumer_secret="", oauth_token="a b")
    message = str(caught.value)
    assert message.startswith("Account: ")
    assert "consumer_secret is empty" in message
    assert "oauth_token contains a space" in message
    assert "access_token_secret is missing; add it" in message


def test_pending_authorization_field_names_are_not_mistaken_for_aliases() -> None:
    data: dict[str, Any] = {**BAD_PENDING, "oauth_token_secret": ""}
    with pytest.raises(CredentialsError) as caught:
        PendingAuthorization.model_validate(data)
    assert "oauth_token_secret is empty; start the authorization again" in str(caught.value)


def test_pending_authorization_takes_an_account_as_its_app() -> None:
    account = Account(**SECRET)
    pending = PendingAuthorization(
        auth_url="https://x",
        oauth_token="t",
        oauth_token_secret="s",
        app=account,
    )
    assert pending.app == account.app
    assert pending.api_base is None


# --- AccountList --------------------------------------------------------------------------


def _three() -> AccountList:
    return AccountList(
        [
            {**GUIDE, "access_token": "t0", "screen_name": "First"},
            {**GUIDE, "access_token": "t1"},
            {**GUIDE, "access_token": "t2", "screen_name": "@third"},
        ]
    )


def test_account_list_sequence_and_names() -> None:
    accounts = _three()
    assert len(accounts) == 3
    assert [a.access_token for a in accounts] == ["t0", "t1", "t2"]
    assert accounts[1].access_token == "t1"
    assert accounts[-1].access_token == "t2"
    assert accounts.names == ["First", None, "third"]
    assert len(AccountList()) == 0


@pytest.mark.parametrize("key", ["first", "FIRST", "@First", " @first "])
def test_account_list_by_name_is_case_insensitive_and_at_optional(key: str) -> None:
    assert _three()[key].access_token == "t0"


def test_account_list_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match=r"no account named @nobody \(accounts: @First, @third\)"):
        _three()["nobody"]


@pytest.mark.parametrize(
    ("second", "what"),
    [
        ({"access_token": "t0"}, "the same access token"),
        ({"screen_name": "FIRST"}, "the same screen name"),
        ({"screen_name": "@first"}, "the same screen name"),
    ],
)
def test_account_list_duplicates_name_both_positions(second: dict[str, str], what: str) -> None:
    rows = [
        {**GUIDE, "access_token": "t0", "screen_name": "first"},
        {**GUIDE, "access_token": "t1"},
        {**GUIDE, "access_token": "t2", **second},
    ]
    with pytest.raises(CredentialsError, match=rf"accounts \[0\] and \[2\] have {what}"):
        AccountList(rows)


def test_account_list_error_names_index_and_screen_name() -> None:
    rows = [GUIDE, {**GUIDE, "access_token": "t1", "screen_name": "@two", "consumer_key": ""}]
    with pytest.raises(
        CredentialsError, match=r"^AccountList: \[1\] \(@two\): consumer_key is empty"
    ):
        AccountList.model_validate(rows)


def test_account_list_does_not_quote_an_implausible_screen_name() -> None:
    rows = [GUIDE, {**GUIDE, "screen_name": CANARY + "!", "access_token_secret": ""}]
    with pytest.raises(CredentialsError, match=r"\[1\]: access_token_secret is empty") as caught:
        AccountList.model_validate(rows)
    assert_no_canary(caught.value)
