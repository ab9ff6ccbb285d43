"""Tests for twcreds.sources: every format of the guide, the default chain, selection, errors.

Real files in tmp_path, the real environment (cleaned by conftest), no mocks.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import textwrap
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from tests.conftest import CANARY, write_private
from twcreds.errors import CredentialsError, CredentialsNotFoundError, InsecurePermissionsWarning
from twcreds.models import Account, App, OAuth2Account
from twcreds.sources import default_store_path, load_account, load_accounts, load_app

# --- the guide's snippets, verbatim ------------------------------------------------------

GUIDE_LINES = """\
abcYOURCONSUMERKEY
abcYOURCONSUMERSECRET
abcYOURACCESSTOKEN
abcYOURACCESSTOKENSECRET
"""

GUIDE_OBJECT = """\
{
   "consumer_key": "abcYOURCONSUMERKEY",
   "consumer_secret": "abcYOURCONSUMERSECRET",
   "access_token": "abcYOURACCESSTOKEN",
   "access_token_secret": "abcYOURACCESSTOKENSECRET"
}
"""

# The guide's multi-account file exactly as printed: no commas between the values.
GUIDE_LIST_AS_PRINTED = """\
[
    {
       "consumer_key": "abcYOURCONSUMERKEY"
       "consumer_secret": "abcYOURCONSUMERSECRET"
       "access_token": "abcYOURACCESSTOKEN"
       "access_token_secret": "abcYOURACCESSTOKENSECRET"
    },
    {
       "consumer_key": "xyzYOURCONSUMERKEY"
       "consumer_secret": "xyzYOURCONSUMERSECRET"
       "access_token": "xyzYOURACCESSTOKEN"
       "access_token_secret": "xyzYOURACCESSTOKENSECRET"
    }
]
"""
GUIDE_LIST = GUIDE_LIST_AS_PRINTED.replace('"\n', '",\n').replace(
    'SECRET",\n    }', 'SECRET"\n    }'
)

# The guide's closing advice, printed as Python: single quotes around the screen name.
GUIDE_SCREEN_NAME_AS_PRINTED = """\
{
   "screen_name": 'yoursecondaryaccount',
   "consumer_key": "abcYOURCONSUMERKEY",
   "consumer_secret": "abcYOURCONSUMERSECRET",
   "access_token": "abcYOURACCESSTOKEN",
   "access_token_secret": "abcYOURACCESSTOKENSECRET"
}
"""

GUIDE_VALUES = (
    "abcYOURCONSUMERKEY",
    "abcYOURCONSUMERSECRET",
    "abcYOURACCESSTOKEN",
    "abcYOURACCESSTOKENSECRET",
)
XYZ_VALUES = tuple(v.replace("abc", "xyz") for v in GUIDE_VALUES)


def values(account: Account | OAuth2Account) -> tuple[str, str, str, str]:
    assert isinstance(account, Account)
    return (
        account.consumer_key,
        account.consumer_secret.get_secret_value(),
        account.access_token,
        account.access_token_secret.get_secret_value(),
    )


def account_dict(n: int, **extra: str) -> dict[str, str]:
    return {
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "access_token": f"{n}-token{n}",
        "access_token_secret": f"secret{n}",
        **extra,
    }


def write_bytes(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    path.chmod(0o600)
    return path


def write_json(path: Path, data: object) -> Path:
    return write_private(path, json.dumps(data, indent=2))


def env_text(prefix: str = "TWITTER_", n: int = 1) -> str:
    return (
        f"{prefix}CONSUMER_KEY=ck\n{prefix}CONSUMER_SECRET=cs\n"
        f"{prefix}ACCESS_TOKEN={n}-token{n}\n{prefix}ACCESS_TOKEN_SECRET=secret{n}\n"
    )


# --- lines ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        GUIDE_LINES,
        GUIDE_LINES.replace("\n", "\r\n"),
        GUIDE_LINES + "\n\n\n",
        GUIDE_LINES.replace("\n", "\r\n") + "\r\n\r\n",
        "\ufeff" + GUIDE_LINES,
        GUIDE_LINES.rstrip("\n"),
        "\n" + GUIDE_LINES.replace("\n", "\n\n"),
        textwrap.indent(GUIDE_LINES, "    "),
        GUIDE_LINES.replace("\n", " \t\n"),
    ],
    ids=[
        "plain",
        "crlf",
        "trailing-blank",
        "crlf-trailing",
        "bom",
        "no-newline",
        "blanks",
        "indented",
        "trailing-space",
    ],
)
def test_four_line_file(tmp_path: Path, text: str) -> None:
    path = write_private(tmp_path / "creds-twitter", text)
    assert values(load_account(path)) == GUIDE_VALUES
    assert values(load_account(str(path))) == GUIDE_VALUES


@pytest.mark.parametrize("count", [1, 3, 5])
def test_lines_file_with_wrong_line_count(tmp_path: Path, count: int) -> None:
    path = write_private(tmp_path / "creds-twitter", "value\n" * count)
    with pytest.raises(CredentialsError, match=rf"^{path}: has {count} non-blank lines"):
        load_account(path)


def test_lines_value_with_inner_space_names_file_and_line(tmp_path: Path) -> None:
    text = f"key\n\n{CANARY} {CANARY}\ntoken\nsecret\n"
    path = write_private(tmp_path / "creds-twitter", text)
    with pytest.raises(CredentialsError, match=rf"^{path}:3: consumer secret contains a space"):
        load_account(path)


def test_two_line_file_is_an_app_not_an_account(tmp_path: Path) -> None:
    path = write_private(tmp_path / "app-twitter", "appkey\r\nappsecret\r\n")
    assert load_app(path) == App(consumer_key="appkey", consumer_secret="appsecret")
    with pytest.raises(CredentialsError, match="holds only an app's consumer key and secret"):
        load_account(path)


# --- JSON -----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["creds-twitter", "creds-twitter.json", "creds-twitter-fun.json"])
def test_json_object_from_the_guide(tmp_path: Path, name: str) -> None:
    assert values(load_account(write_private(tmp_path / name, GUIDE_OBJECT))) == GUIDE_VALUES


def test_json_list_from_the_guide_with_its_commas(tmp_path: Path) -> None:
    accounts = load_accounts(write_private(tmp_path / "creds-twitter", GUIDE_LIST))
    assert [values(a) for a in accounts] == [GUIDE_VALUES, XYZ_VALUES]


def test_json_list_from_the_guide_as_printed_names_the_first_missing_comma(tmp_path: Path) -> None:
    path = write_private(tmp_path / "creds-twitter", GUIDE_LIST_AS_PRINTED)
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path)
    message = str(caught.value)
    # Line 3 ends with "abcYOURCONSUMERKEY" and lacks its comma.
    assert message.startswith(f"{path}:3: not valid JSON: a comma is missing at the end of line 3")
    assert "abcYOUR" not in message
    assert caught.value.__context__ is None


def test_json_object_with_screen_name_drops_the_at(tmp_path: Path) -> None:
    text = GUIDE_SCREEN_NAME_AS_PRINTED.replace("'yoursecondaryaccount'", '"@yoursecondaryaccount"')
    account = load_account(write_private(tmp_path / "creds-twitter-fun.json", text))
    assert account.screen_name == "yoursecondaryaccount"
    assert values(account) == GUIDE_VALUES


def test_json_object_with_single_quotes_as_the_guide_prints_it(tmp_path: Path) -> None:
    path = write_private(tmp_path / "creds.json", GUIDE_SCREEN_NAME_AS_PRINTED)
    with pytest.raises(CredentialsError, match=rf"^{path}:2:19: not valid JSON: .*double quotes"):
        load_account(path)


def test_json_with_get_authorized_tokens_key_names(tmp_path: Path) -> None:
    realcreds = {
        "oauth_token": "931657239872432861-token",
        "oauth_token_secret": "tokensecret",
        "screen_name": "your_secondary_account",
        "user_id": "931657239872432861",
        "x_auth_expires": "0",
    }
    single = write_json(tmp_path / "one.json", {"api_key": "ck", "api_secret": "cs", **realcreds})
    shaped = write_json(
        tmp_path / "app.json",
        {"app": {"consumer_key": "ck", "consumer_secret": "cs"}, "accounts": [realcreds]},
    )
    for path in (single, shaped):
        account = load_account(path)
        assert values(account) == ("ck", "cs", "931657239872432861-token", "tokensecret")
        assert (account.screen_name, account.user_id) == (
            "your_secondary_account",
            "931657239872432861",
        )


@pytest.mark.parametrize(
    ("keys", "fmt"),
    [
        (("api_key", "api_secret", "oauth_token", "oauth_token_secret"), "json"),
        (("app_key", "app_secret", "access_token", "access_token_secret"), "json"),
        (("consumer_key", "api_key_secret", "oauth_token", "access_token_secret"), "json"),
        (("api_key", "api_secret", "oauth_token", "oauth_token_secret"), "env"),
        (("app_key", "app_secret", "access_token", "oauth_token_secret"), "env"),
        (("consumer_key", "api_key_secret", "oauth_token", "access_token_secret"), "env"),
    ],
)
def test_aliases_in_json_and_env(tmp_path: Path, keys: tuple[str, ...], fmt: str) -> None:
    if fmt == "json":
        path = write_json(tmp_path / "c.json", dict(zip(keys, GUIDE_VALUES, strict=True)))
    else:
        text = "".join(
            f"TWITTER_{k.upper()}={v}\n" for k, v in zip(keys, GUIDE_VALUES, strict=True)
        )
        path = write_private(tmp_path / ".env", text)
    assert values(load_account(path)) == GUIDE_VALUES


def test_app_with_accounts_inherits_consumer_values(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "accounts.json",
        {
            "app": {"api_key": "appkey", "api_secret": "appsecret"},
            "accounts": [
                {"access_token": "1-a", "access_token_secret": "s1", "screen_name": "one"},
                {**account_dict(2), "screen_name": "two"},
            ],
        },
    )
    one, two = load_accounts(path)
    assert values(one) == ("appkey", "appsecret", "1-a", "s1")
    assert values(two) == ("ck", "cs", "2-token2", "secret2")
    assert load_app(path) == App(consumer_key="appkey", consumer_secret="appsecret")


def test_app_with_accounts_never_mixes_half_an_app(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "accounts.json",
        {
            "app": {"consumer_key": "appkey", "consumer_secret": "appsecret"},
            "accounts": [
                {
                    "consumer_key": "own",
                    "access_token": "1-a",
                    "access_token_secret": "s",
                    "screen_name": "me",
                }
            ],
        },
    )
    with pytest.raises(
        CredentialsError, match=r"accounts\[0\] \(@me\): consumer_secret is missing"
    ):
        load_accounts(path)


def test_app_with_accounts_reports_a_broken_app_section_there(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "accounts.json",
        {"app": {"consumer_key": "k", "consumer_secret": ""}, "accounts": [account_dict(1)]},
    )
    with pytest.raises(CredentialsError, match=rf"^{path}: app: consumer_secret is empty"):
        load_accounts(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "is empty; no accounts in it"),
        ("  \n\n", "is empty; no accounts in it"),
        ("[]", "no accounts in it"),
        ('{"accounts": []}', "no accounts in it"),
        ('{"app": {"consumer_key": "k", "consumer_secret": "s"}}', "holds only an app's"),
    ],
)
@pytest.mark.parametrize("name", ["accounts.json", "creds"])
def test_source_without_accounts(tmp_path: Path, name: str, text: str, expected: str) -> None:
    path = write_private(tmp_path / name, text)
    with pytest.raises(CredentialsError, match=f"^{path}: {expected}") as caught:
        load_accounts(path)
    assert not isinstance(caught.value, CredentialsNotFoundError)


@pytest.mark.parametrize(
    ("rows", "positions", "what"),
    [
        ([account_dict(1), account_dict(2), account_dict(1)], "[0] and [2]", "access token"),
        (
            [
                account_dict(1, screen_name="Bot"),
                account_dict(2),
                account_dict(3, screen_name="@bOT"),
            ],
            "[0] and [2]",
            "screen name",
        ),
        ([account_dict(1), account_dict(1, screen_name="other")], "[0] and [1]", "access token"),
    ],
)
def test_duplicates_name_both_positions(
    tmp_path: Path, rows: list[dict[str, str]], positions: str, what: str
) -> None:
    path = write_json(tmp_path / "accounts.json", rows)
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path)
    assert str(caught.value).startswith(f"{path}: accounts {positions} have the same {what}")


def test_json_list_record_error_names_index_and_screen_name(tmp_path: Path) -> None:
    rows = [account_dict(1), {**account_dict(2, screen_name="@two"), "access_token_secret": " "}]
    path = write_json(tmp_path / "accounts.json", rows)
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path)
    assert str(caught.value).startswith(
        f"{path}: [1] (@two): access_token_secret is empty; fill in"
    )


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([account_dict(1), "text"], r": \[1\]: must be an object of credentials"),
        ([account_dict(1), [account_dict(2)]], r": \[1\]: must be an object of credentials"),
        (5, ": holds a JSON number; expected an account object"),
        ("x", ": holds a JSON string"),
        ({"app": [1], "accounts": []}, ': "app" must be an object'),
        (
            {"app": {"consumer_key": "k", "consumer_secret": "s"}, "accounts": {}},
            ': "accounts" must be a list',
        ),
        ({**account_dict(1), "user_id": 1}, ": user_id must be a string, not int"),
    ],
)
def test_json_shape_errors(tmp_path: Path, data: object, expected: str) -> None:
    path = write_json(tmp_path / "accounts.json", data)
    with pytest.raises(CredentialsError, match=f"^{path}{expected}"):
        load_accounts(path)


@pytest.mark.parametrize(
    ("text", "where", "what"),
    [
        ('{\n  "consumer_key": "k",\n}\n', ":2:22:", "a comma after the last value"),
        ('[\n  {"a": "b"},\n]\n', ":2:13:", "a comma after the last value"),
        ('{"consumer_key": "k" "consumer_secret": "s"}', ":1:", "a comma is missing at column 21"),
        ('[\n  {"a": "b"}\n  {"a": "c"}\n]', ":2:", "a comma is missing at the end of line 2"),
        ('{\n  "consumer_key": "k\n', ":2:", "invalid control character"),
        ("{\n  consumer_key: 1}", ":2:3:", "double quotes around every key"),
        ('{"a": "b"} x', ":1:12:", "extra data"),
        ('{"consumer_key": "k", "consumer_key": "j"}', "", "'consumer_key' appears twice"),
        ("[" * 100_000 + "]" * 100_000, ": JSON", "nested thousands of levels deep"),
        ("[" * 100 + "]" * 100, ": [0]", "must be an object"),
    ],
)
def test_json_syntax_errors_say_where(tmp_path: Path, text: str, where: str, what: str) -> None:
    path = write_private(tmp_path / "creds.json", text)
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path)
    message = str(caught.value)
    assert message.startswith(f"{path}{where}")
    assert what in message
    assert caught.value.__context__ is None


# --- env files ------------------------------------------------------------------------------

DOTENV = """\
# Twitter credentials for the bot
export TWITTER_CONSUMER_KEY='abcYOURCONSUMERKEY'
TWITTER_CONSUMER_SECRET="abcYOURCONSUMERSECRET"  # from the portal
TWITTER_ACCESS_TOKEN = abcYOURACCESSTOKEN

TWITTER_ACCESS_TOKEN_SECRET=abcYOURACCESSTOKENSECRET
TWITTER_SCREEN_NAME=@yourbot
OTHER_SETTING=$HOME/${TWITTER_CONSUMER_KEY}
"""


@pytest.mark.parametrize("name", [".env", "bot.env", ".env.production"])
def test_env_file(tmp_path: Path, name: str) -> None:
    account = load_account(write_private(tmp_path / name, DOTENV))
    assert values(account) == GUIDE_VALUES
    assert account.screen_name == "yourbot"
    assert not any(var.startswith("TWITTER_") for var in os.environ)


def test_env_values_written_for_a_shell_are_refused_not_sent(tmp_path: Path) -> None:
    text = env_text().replace("CONSUMER_KEY=ck", "CONSUMER_KEY=${KEY}")
    path = write_private(tmp_path / ".env", text)
    with pytest.raises(CredentialsError) as caught:
        load_account(path)
    assert str(caught.value).startswith(
        f"{path}:1: TWITTER_CONSUMER_KEY contains '$', '{{' or '}}', as a shell variable does;"
    )


def test_env_file_with_several_prefixes(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".env", env_text("BOT1_", 1) + env_text("BOT2_", 2))
    assert load_account(path, prefix="BOT1_").access_token == "1-token1"
    assert load_account(path, prefix="BOT2_").access_token == "2-token2"
    with pytest.raises(CredentialsError, match=rf"^{path}: defines no TWITTER_\* credentials"):
        load_account(path)


def test_env_value_error_names_file_line_and_variable(tmp_path: Path) -> None:
    text = (
        f"TWITTER_CONSUMER_KEY=ck\nTWITTER_CONSUMER_SECRET='{CANARY} x'\nTWITTER_ACCESS_TOKEN=t\n"
    )
    path = write_private(tmp_path / ".env", text)
    with pytest.raises(CredentialsError) as caught:
        load_account(path)
    message = str(caught.value)
    assert f"{path}:2: TWITTER_CONSUMER_SECRET contains a space" in message
    assert f"{path}: TWITTER_ACCESS_TOKEN_SECRET is missing; add it" in message
    assert CANARY not in message


def test_env_misspelled_variable_is_suggested(tmp_path: Path) -> None:
    path = write_private(
        tmp_path / ".env", env_text().replace("TWITTER_ACCESS_TOKEN=", "TWITTER_ACCES_TOKEN=")
    )
    with pytest.raises(CredentialsError) as caught:
        load_account(path)
    assert (
        "TWITTER_ACCESS_TOKEN is missing; found 'TWITTER_ACCES_TOKEN':"
        " did you mean 'TWITTER_ACCESS_TOKEN'?"
    ) in str(caught.value)


def test_env_unparsable_line_of_ours_is_an_error(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".env", env_text() + 'TWITTER_SCREEN_NAME="unterminated\n')
    with pytest.raises(CredentialsError, match=rf"^{path}:5: cannot parse this line"):
        load_account(path)


def test_env_unparsable_foreign_line_is_skipped_like_python_dotenv(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".env", "some garbage line\n" + env_text())
    assert load_account(path).access_token == "1-token1"


# --- format from the name, from the content, or forced ------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("creds", GUIDE_OBJECT),
        ("creds", "  \n" + GUIDE_LIST),
        ("creds.txt", DOTENV),
        ("creds", GUIDE_LINES),
        ("creds.cfg", GUIDE_LINES),
    ],
)
def test_format_sniffed_from_content(tmp_path: Path, name: str, text: str) -> None:
    assert values(load_accounts(write_private(tmp_path / name, text))[0]) == GUIDE_VALUES


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("creds.json", GUIDE_LINES, "not valid JSON"),
        ("creds.env", GUIDE_LINES, "defines no TWITTER_"),
        ("creds.env", GUIDE_OBJECT, "defines no TWITTER_"),
    ],
)
def test_format_from_name_wins_over_content(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    with pytest.raises(CredentialsError, match=expected):
        load_accounts(write_private(tmp_path / name, text))


def test_format_forced(tmp_path: Path) -> None:
    assert (
        values(load_account(write_private(tmp_path / "a.json", GUIDE_LINES), format="lines"))
        == GUIDE_VALUES
    )
    assert (
        values(load_account(write_private(tmp_path / "b.txt", DOTENV), format="env"))
        == GUIDE_VALUES
    )
    assert (
        values(load_account(write_private(tmp_path / ".env", GUIDE_OBJECT), format="json"))
        == GUIDE_VALUES
    )
    with pytest.raises(CredentialsError, match="has 7 non-blank lines"):
        load_account(tmp_path / "b.txt", format="lines")
    with pytest.raises(CredentialsError, match="format='yaml' is not a credentials format"):
        load_account(tmp_path / "a.json", format="yaml")  # type: ignore[arg-type]
    with pytest.raises(CredentialsError, match="format='yaml' is not a credentials format"):
        load_account(tmp_path / "missing.json", format="yaml")  # type: ignore[arg-type]


# --- reading files ----------------------------------------------------------------------------


def test_missing_explicit_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.json"
    with pytest.raises(CredentialsNotFoundError, match=rf"^{missing}: no such file"):
        load_accounts(missing)


def test_home_is_expanded_in_a_path(tmp_path: Path) -> None:
    write_private(Path.home() / "creds-twitter", GUIDE_LINES)
    assert values(load_account("~/creds-twitter")) == GUIDE_VALUES


@pytest.mark.parametrize(
    ("data", "where", "what"),
    [
        (GUIDE_LINES.encode("utf-16"), "", "is UTF-16 encoded; save it as UTF-8"),
        (b"key\nsecret\n\xe9token\nx\n", ":3", "is not valid UTF-8; save the file as UTF-8"),
        (b"key\nsecret\ntoken\x00\nx\n", ":3", "contains a NUL byte"),
    ],
)
def test_undecodable_file(tmp_path: Path, data: bytes, where: str, what: str) -> None:
    path = write_bytes(tmp_path / "creds-twitter", data)
    with pytest.raises(CredentialsError) as caught:
        load_account(path)
    assert str(caught.value).startswith(f"{path}{where}: {what}")
    assert caught.value.__context__ is None


def test_path_with_a_nul_character(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="a path cannot contain a NUL character"):
        load_accounts(f"{tmp_path}/creds\0.json")


def test_directory_is_not_a_credentials_file(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match=rf"^{tmp_path}: is a directory"):
        load_accounts(tmp_path)


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable_file(tmp_path: Path) -> None:
    path = write_private(tmp_path / "creds", GUIDE_LINES)
    path.chmod(0)
    with pytest.raises(CredentialsError, match=rf"^{path}: permission denied"):
        load_accounts(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o602, 0o620, 0o666, 0o701])
def test_insecure_permissions_warn_naming_file_and_fix(tmp_path: Path, mode: int) -> None:
    path = write_private(tmp_path / "creds-twitter", GUIDE_LINES)
    path.chmod(mode)
    with pytest.warns(InsecurePermissionsWarning) as record:
        account = load_account(path)
    assert values(account) == GUIDE_VALUES
    [warning] = record.list
    assert str(path) in str(warning.message)
    assert f"`chmod 600 {path}`" in str(warning.message)
    assert warning.filename == __file__  # points at the caller, not at twcreds


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_private_file_does_not_warn(tmp_path: Path, mode: int) -> None:
    path = write_private(tmp_path / "creds-twitter", GUIDE_LINES)
    path.chmod(mode)
    assert stat.S_IMODE(path.stat().st_mode) == mode
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        load_account(path)
    assert caught == []


# --- the default chain ------------------------------------------------------------------------


def store_path() -> Path:
    return Path(os.environ["XDG_CONFIG_HOME"]) / "twcreds" / "accounts.json"


def write_store(rows: list[dict[str, str]]) -> Path:
    path = store_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_json(path, rows)


def set_env(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    for line in text.splitlines():
        name, _, value = line.partition("=")
        monkeypatch.setenv(name, value)


def test_store_path_is_under_xdg_config_home() -> None:
    assert default_store_path() == store_path()


def test_default_chain_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    named = write_json(tmp_path / "named.json", account_dict(1))
    set_env(monkeypatch, env_text(n=2))
    write_private(Path(".env"), env_text(n=3))
    write_store([account_dict(4)])
    monkeypatch.setenv("TWCREDS_FILE", str(named))

    assert load_account().access_token == "1-token1"
    monkeypatch.delenv("TWCREDS_FILE")
    assert load_account().access_token == "2-token2"
    for var in [v for v in os.environ if v.startswith("TWITTER_")]:
        monkeypatch.delenv(var)
    assert load_account().access_token == "3-token3"
    Path(".env").unlink()
    assert load_account().access_token == "4-token4"


def test_twcreds_file_naming_a_missing_file_does_not_fall_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_env(monkeypatch, env_text())
    write_store([account_dict(4)])
    monkeypatch.setenv("TWCREDS_FILE", str(tmp_path / "gone.json"))
    with pytest.raises(
        CredentialsNotFoundError, match=f"TWCREDS_FILE names {tmp_path / 'gone.json'}"
    ):
        load_account()


def test_twcreds_file_is_read_with_the_given_format(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWCREDS_FILE", str(write_private(tmp_path / "c.json", GUIDE_LINES)))
    assert values(load_account(format="lines")) == GUIDE_VALUES


def test_process_environment_with_aliases_and_prefix(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, env_text().replace("CONSUMER_KEY", "API_KEY"))
    set_env(monkeypatch, env_text("BOT_", 7))
    assert load_account().access_token == "1-token1"
    assert load_account(prefix="BOT_").access_token == "7-token7"
    assert not Path(".env").exists()


def test_process_environment_error_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    set_env(monkeypatch, env_text())
    monkeypatch.setenv("TWITTER_ACCESS_TOKEN_SECRET", f"{CANARY}\t{CANARY}")
    with pytest.raises(CredentialsError) as caught:
        load_account()
    message = str(caught.value)
    assert message.startswith("the environment: TWITTER_ACCESS_TOKEN_SECRET contains a space")
    assert CANARY not in message


def test_process_environment_with_only_an_app(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWITTER_API_KEY", "ck")
    monkeypatch.setenv("TWITTER_API_SECRET", "cs")
    with pytest.raises(CredentialsError) as caught:
        load_account()
    assert str(caught.value).startswith(
        "the environment: holds only an app's consumer key and secret, no account;"
        " add TWITTER_ACCESS_TOKEN and TWITTER_ACCESS_TOKEN_SECRET"
    )


def test_blank_variables_and_foreign_dotenv_fall_through(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(f"TWITTER_{name}", "")
    write_private(Path(".env"), "DATABASE_URL=sqlite://\nTWITTER_SCREEN_NAME=\n")
    write_store([account_dict(4)])
    assert load_account().access_token == "4-token4"


def test_nothing_found_lists_every_place(monkeypatch: pytest.MonkeyPatch) -> None:
    write_private(Path(".env"), "DATABASE_URL=sqlite://\n")
    with pytest.raises(CredentialsNotFoundError) as caught:
        load_accounts(prefix="BOT_")
    message = str(caught.value)
    for place in ("TWCREDS_FILE", "BOT_CONSUMER_KEY", str(Path.cwd() / ".env"), str(store_path())):
        assert place in message
    assert "twcreds authorize" in message


# --- choosing an account ----------------------------------------------------------------------


@pytest.fixture
def two_named(tmp_path: Path) -> Path:
    # Screen names that look like indexes, to tell "name first, then index" apart.
    rows = [account_dict(0, screen_name="zero"), account_dict(1, screen_name="0"), account_dict(2)]
    return write_json(tmp_path / "accounts.json", rows)


@pytest.mark.parametrize(
    ("choice", "token"),
    [
        ("zero", "0-token0"),
        ("@ZERO", "0-token0"),
        ("0", "1-token1"),
        (0, "0-token0"),
        (2, "2-token2"),
        (-1, "2-token2"),
    ],
)
def test_account_by_name_or_index(two_named: Path, choice: str | int, token: str) -> None:
    assert load_account(two_named, account=choice).access_token == token


@pytest.mark.parametrize(
    ("choice", "token"),
    [("zero", "0-token0"), ("0", "1-token1"), ("2", "2-token2"), ("-3", "0-token0")],
)
def test_twcreds_account_name_first_then_index(
    two_named: Path, monkeypatch: pytest.MonkeyPatch, choice: str, token: str
) -> None:
    monkeypatch.setenv("TWCREDS_ACCOUNT", choice)
    assert load_account(two_named).access_token == token
    assert load_account(two_named, account="zero").access_token == "0-token0"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("nobody", "has no account @nobody (accounts: @zero, @0, (unnamed account))"),
        (
            "2",
            "has no account @2 (accounts: @zero, @0, (unnamed account));"
            " to pick by position, pass account=2",
        ),
        (3, "account=3 is out of range: {path} holds 3 accounts"),
    ],
)
def test_unknown_account_lists_them(two_named: Path, choice: str | int, expected: str) -> None:
    with pytest.raises(CredentialsError) as caught:
        load_account(two_named, account=choice)
    assert expected.format(path=two_named) in str(caught.value)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("nobody", "TWCREDS_ACCOUNT names @nobody, which is not in"),
        ("7", "TWCREDS_ACCOUNT=7 is out of range"),
    ],
)
def test_unknown_twcreds_account(
    two_named: Path, monkeypatch: pytest.MonkeyPatch, choice: str, expected: str
) -> None:
    monkeypatch.setenv("TWCREDS_ACCOUNT", choice)
    with pytest.raises(CredentialsError, match=expected):
        load_account(two_named)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ("9" * 5000, "TWCREDS_ACCOUNT=a 5,000-digit number is out of range: "),
        ("-" + "9" * 19, "TWCREDS_ACCOUNT=a 20-digit number is out of range: "),
        ("\u0661", "TWCREDS_ACCOUNT names @\u0661, which is not in"),  # Arabic-Indic one
        ("\u00b2", "TWCREDS_ACCOUNT names @\u00b2, which is not in"),  # superscript two
        ("x\x1b[2J", "TWCREDS_ACCOUNT names @x\\x1b[2J, which is not in"),
    ],
)
def test_only_ascii_digits_index_and_every_failure_is_a_credentials_error(
    two_named: Path, monkeypatch: pytest.MonkeyPatch, choice: str, expected: str
) -> None:
    monkeypatch.setenv("TWCREDS_ACCOUNT", choice)
    with pytest.raises(CredentialsError) as caught:
        load_account(two_named)
    assert expected in str(caught.value)
    assert len(str(caught.value)) < 300


@pytest.mark.parametrize("choice", [10**5000, -(10**30)], ids=["10**5000", "-10**30"])
def test_a_huge_index_is_out_of_range(two_named: Path, choice: int) -> None:
    with pytest.raises(CredentialsError, match="account=a huge number is out of range"):
        load_account(two_named, account=choice)


def test_a_long_name_is_cut_in_the_message(two_named: Path) -> None:
    with pytest.raises(CredentialsError) as caught:
        load_account(two_named, account="9" * 5000)
    assert f"has no account @{'9' * 40}... (accounts:" in str(caught.value)
    assert "pass account=" not in str(caught.value)


def test_several_accounts_and_no_choice(two_named: Path) -> None:
    with pytest.raises(CredentialsError) as caught:
        load_account(two_named)
    assert str(caught.value) == (
        f"{two_named} holds 3 accounts (@zero, @0, (unnamed account)); choose one with"
        " account='name' or the TWCREDS_ACCOUNT environment variable"
    )


def test_the_only_account_needs_no_choice(tmp_path: Path) -> None:
    path = write_json(tmp_path / "accounts.json", [account_dict(5, screen_name="solo")])
    assert load_account(path).screen_name == "solo"


def test_account_of_the_wrong_type(two_named: Path) -> None:
    with pytest.raises(TypeError, match="account must be a screen name"):
        load_account(two_named, account=True)
    with pytest.raises(TypeError, match="account must be a screen name"):
        load_account(two_named, account=1.0)  # type: ignore[arg-type]


# --- load_app ---------------------------------------------------------------------------------


def test_load_app_from_sources(tmp_path: Path) -> None:
    expected = App(consumer_key="ck", consumer_secret="cs")
    assert load_app(write_private(tmp_path / "app", "ck\ncs\n")) == expected
    assert load_app(write_private(tmp_path / "creds", env_text())) == expected
    assert (
        load_app(write_json(tmp_path / "list.json", [account_dict(1), account_dict(2)])) == expected
    )
    assert (
        load_app(write_private(tmp_path / "app.env", "TWITTER_API_KEY=ck\nTWITTER_API_SECRET=cs\n"))
        == expected
    )
    assert load_app(write_private(tmp_path / "guide", GUIDE_LINES)) == App(
        consumer_key=GUIDE_VALUES[0], consumer_secret=GUIDE_VALUES[1]
    )


def test_load_app_refuses_accounts_of_different_apps(tmp_path: Path) -> None:
    path = write_json(
        tmp_path / "a.json", [account_dict(1), {**account_dict(2), "consumer_key": "other"}]
    )
    with pytest.raises(CredentialsError, match="its accounts belong to different apps"):
        load_app(path)


def test_load_app_errors_say_where(tmp_path: Path) -> None:
    path = write_private(tmp_path / "app", "ck\n\u200bcs\u200bx\n")
    with pytest.raises(CredentialsError, match=rf"^{path}:2: consumer secret contains a space"):
        load_app(path)
    with pytest.raises(
        CredentialsError, match=rf"^{tmp_path / 'e.json'}: no app or accounts in it"
    ):
        load_app(write_private(tmp_path / "e.json", "[]"))
    with pytest.raises(CredentialsNotFoundError):
        load_app(tmp_path / "missing")


# --- secrets never leak -------------------------------------------------------------------------

BROKEN: dict[str, Callable[[Path], Path]] = {
    "lines-inner-space": lambda d: write_private(d / "c", f"k\n{CANARY} {CANARY}\nt\n{CANARY}\n"),
    "lines-count": lambda d: write_private(d / "c", f"k\n{CANARY}\nt\n"),
    "json-syntax": lambda d: write_private(
        d / "c.json", f'{{"consumer_secret": "{CANARY}" "x": 1}}'
    ),
    "json-unterminated": lambda d: write_private(d / "c.json", f'{{"consumer_secret": "{CANARY}'),
    "json-dup-key": lambda d: write_private(d / "c.json", f'{{"{CANARY}": 1, "{CANARY}": 2}}'),
    "json-type": lambda d: write_json(
        d / "c.json", [{"consumer_secret": CANARY, "consumer_key": 5}]
    ),
    "json-missing": lambda d: write_json(d / "c.json", {"consumer_secret": CANARY}),
    "json-screen-name": lambda d: write_json(
        d / "c.json", [{"consumer_secret": CANARY, "screen_name": CANARY + "+"}]
    ),
    "json-duplicate": lambda d: write_json(
        d / "c.json", [account_dict(1, consumer_secret=CANARY)] * 2
    ),
    "json-user-id": lambda d: write_json(
        d / "c.json", account_dict(1, access_token_secret=CANARY, user_id="2")
    ),
    "env-inner-space": lambda d: write_private(
        d / ".env", f"TWITTER_CONSUMER_SECRET='{CANARY} x'\n"
    ),
    "env-unparsable": lambda d: write_private(d / ".env", f'TWITTER_CONSUMER_SECRET="{CANARY}\n'),
    "latin-1": lambda d: write_bytes(d / "c", f"k\n{CANARY}\xe9\nt\ns\n".encode("latin-1")),
    "nul": lambda d: write_bytes(d / "c", f"k\n{CANARY}\x00\nt\ns\n".encode()),
}


@pytest.mark.parametrize("make", BROKEN.values(), ids=BROKEN.keys())
def test_no_error_path_leaks_a_secret(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, make: Callable[[Path], Path]
) -> None:
    path = make(tmp_path)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(CredentialsError) as caught:
        load_account(path)
    error = caught.value
    text = "".join(traceback.format_exception(error))
    assert CANARY not in text
    assert str(path) in str(error)  # where
    assert ";" in str(error)  # what; how to fix
    assert error.__cause__ is None
    assert not isinstance(error.__context__, ValidationError | json.JSONDecodeError | UnicodeError)
    assert CANARY not in caplog.text
    assert all(CANARY not in record.getMessage() for record in caplog.records)


def test_loading_logs_no_secret(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    path = write_private(tmp_path / ".env", env_text().replace("secret1", CANARY))
    account = load_account(path)
    assert isinstance(account, Account)
    assert account.access_token_secret.get_secret_value() == CANARY
    assert CANARY not in caplog.text
    assert CANARY not in repr(account)


def test_several_accounts_and_no_choice_lists_at_most_ten(tmp_path: Path) -> None:
    records = [
        {
            "screen_name": f"bot{i}",
            "consumer_key": "ck",
            "consumer_secret": "cs",
            "access_token": f"{i}-token",
            "access_token_secret": "ts",
        }
        for i in range(25)
    ]
    path = write_private(tmp_path / "many.json", json.dumps(records))
    with pytest.raises(CredentialsError) as caught:
        load_account(path)
    message = str(caught.value)
    assert message.count("@bot") == 10
    assert "and 15 more" in message
    assert "TWCREDS_ACCOUNT" in message
