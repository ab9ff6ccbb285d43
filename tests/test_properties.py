"""Property-based tests: any input gives accounts or a `CredentialsError`; formats round-trip.

Files are real, written into one folder per test (``tmp_path_factory``), reused by every
example of that test. The autouse `clean_environment` fixture is function-scoped but holds
no per-example state (it only cleans the environment and moves to a scratch folder), so the
health check about function-scoped fixtures is suppressed on purpose.
"""

from __future__ import annotations

import json
import os
import re
import string
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.conftest import CANARY
from twcreds import load_account, load_accounts, load_app, save_accounts
from twcreds.errors import CredentialsError
from twcreds.models import Account, AccountList, App, PendingAuthorization

Format = Literal["json", "lines", "env"]

PROPERTY = settings(
    max_examples=250,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

REQUIRED = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
FIELDS = (*REQUIRED, "screen_name", "user_id")
ALIASES = {
    "consumer_key": ("consumer_key", "api_key", "app_key"),
    "consumer_secret": ("consumer_secret", "api_secret", "api_key_secret", "app_secret"),
    "access_token": ("access_token", "oauth_token"),
    "access_token_secret": ("access_token_secret", "oauth_token_secret"),
    "screen_name": ("screen_name",),
    "user_id": ("user_id",),
}
# Everything str.strip() knows as whitespace, plus the BOM, the zero-width space and the
# word joiner: what the contract strips from around a value.
SURROUNDING = (
    "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace()) + "\ufeff\u200b\u2060"
)
# What must never be inside a value: whitespace, control and format characters, lone
# surrogates, private-use and unassigned code points (all but the space: not printable).
INSIDE = st.one_of(
    st.characters(categories=["Zs", "Zl", "Zp", "Cc", "Cf", "Cs", "Co", "Cn"]),
    st.sampled_from(" \t\n\r\x0b\x0c\x00\x1b\x7f\x85\xa0\u200b\u200d\u202e\u2060\u3000\ufeff"),
)
TOKEN_USER_ID = re.compile(r"(\d+)-")

# --- strategies ----------------------------------------------------------------------------

# Tokens and secrets as Twitter issues them are letters, digits and '-'; any printable,
# non-space ASCII is accepted but '$', '{' and '}' (a shell's variables, refused).
ACCEPTED_PUNCTUATION = "".join(c for c in string.punctuation if c not in "${}")
tokens = st.text(
    alphabet=string.ascii_letters + string.digits + ACCEPTED_PUNCTUATION, min_size=1, max_size=60
)
screen_names = st.from_regex(r"[A-Za-z0-9_]{1,15}", fullmatch=True)
user_ids = st.from_regex(r"[1-9][0-9]{0,19}", fullmatch=True)


@st.composite
def accounts(draw: st.DrawFn) -> Account:
    user_id = draw(st.none() | user_ids)
    token = draw(tokens)
    match = TOKEN_USER_ID.match(token)
    if user_id is not None and (draw(st.booleans()) or (match and match.group(1) != user_id)):
        token = f"{user_id}-{token}"  # as Twitter issues them
    return Account(
        consumer_key=draw(tokens),
        consumer_secret=draw(tokens),
        access_token=token,
        access_token_secret=draw(tokens),
        screen_name=draw(st.none() | screen_names),
        user_id=user_id,
    )


def _name_key(account: Account) -> object:
    # Accounts without a screen name never clash by name: key them by their token instead.
    return (account.screen_name or "").casefold() or ("token", account.access_token)


account_lists = st.lists(
    accounts(),
    min_size=1,
    max_size=5,
    unique_by=(lambda a: a.access_token, _name_key),
)

apps = st.builds(App, consumer_key=tokens, consumer_secret=tokens)
pendings = st.builds(
    PendingAuthorization,
    auth_url=tokens,
    oauth_token=tokens,
    oauth_token_secret=tokens,
    app=apps,
    api_base=st.none() | tokens,
)

# Bytes that reach past the first checks: fragments of every format, the canary among them.
FRAGMENTS = [
    *"{}[],:\"'\\\n\r\t #=\ufeff\u00a0\x00",
    *("\r\n", "export ", "null", "true", "1e999", "-0", "1" * 5000, "12-", "12", "@bot"),
    *(f'"{name}"' for name in ("app", "accounts", "api_key", "oauth_token", *FIELDS)),
    *(f"TWITTER_{name.upper()}=" for name in FIELDS),
    *(CANARY, f'"{CANARY}"', f"'{CANARY}'", "twitter_", "\ud800"),
]
texts = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=8), max_size=40).map("".join)
raw_inputs = st.one_of(
    st.binary(max_size=400),
    texts.map(lambda t: t.encode("utf-8", "surrogatepass")),
    texts.map(lambda t: t.encode("utf-8", "replace")),
)
formats: st.SearchStrategy[Format | None] = st.sampled_from(["json", "lines", "env", None])
NAMES: dict[Format | None, str] = {
    "json": "creds.json",
    "lines": "creds.txt",
    "env": ".env",
    None: "creds",
}


def write(path: Path, data: bytes | str) -> Path:
    """Replace ``path`` with a private file holding ``data``."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(raw)
    return path


def env_quote(value: str) -> str:
    """A python-dotenv single-quoted value: literal but for \\\\ and \\'."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def env_text(account: Account, prefix: str, *, quoted: bool, export: bool) -> str:
    lines = []
    for field, value in plain_values(account).items():
        if value is None:
            continue
        # An unquoted value that starts with a quote would be read as a quoted one.
        shown = env_quote(value) if quoted or value[0] in "'\"" else value
        lines.append(f"{'export ' if export else ''}{prefix}{field.upper()}={shown}")
    return "\n".join(lines) + "\n"


def plain_values(model: Account) -> dict[str, str | None]:
    dumped: dict[str, str | None] = model.model_dump(mode="json")
    return dumped


def assert_secret_free(exc: BaseException) -> None:
    shown = "".join(traceback.format_exception(exc))
    assert CANARY not in shown
    assert CANARY not in repr(exc)
    assert exc.__context__ is None or exc.__suppress_context__


# --- any input: accounts or a CredentialsError --------------------------------------------


@PROPERTY
@given(data=raw_inputs, fmt=formats, want_app=st.booleans())
def test_any_bytes_give_accounts_or_a_credentials_error(
    tmp_path_factory: pytest.TempPathFactory, data: bytes, fmt: Format | None, want_app: bool
) -> None:
    folder = _folder(tmp_path_factory, "anybytes")
    path = write(folder / NAMES[fmt], data)
    load: Callable[..., object] = load_app if want_app else load_accounts
    error: CredentialsError | None = None
    try:
        result = load(path, format=fmt)
    except CredentialsError as exc:  # anything else fails the test
        error = exc
    if error is not None:
        assert str(path) in str(error)
        assert_secret_free(error)
    elif want_app:
        assert isinstance(result, App)
    else:
        assert isinstance(result, AccountList)
        assert len(result) >= 1


_FOLDERS: dict[str, Path] = {}


def _folder(factory: pytest.TempPathFactory, name: str) -> Path:
    """One folder per test, made on its first example (tmp_path_factory is session-wide)."""
    if name not in _FOLDERS:
        _FOLDERS[name] = factory.mktemp(name)
    return _FOLDERS[name]


# --- round trips ------------------------------------------------------------------------------


@PROPERTY
@given(accounts=account_lists)
def test_save_then_load_gives_the_same_accounts(
    tmp_path_factory: pytest.TempPathFactory, accounts: list[Account]
) -> None:
    path = _folder(tmp_path_factory, "save") / "accounts.json"
    save_accounts(path, accounts)
    assert list(load_accounts(path)) == accounts
    # The guide's own loop reads it too.
    with path.open(encoding="utf-8") as f:
        assert [Account(**entry) for entry in json.load(f)] == accounts


@PROPERTY
@given(accounts=account_lists, data=st.data())
def test_json_with_aliases_loads_the_same_accounts(
    tmp_path_factory: pytest.TempPathFactory, accounts: list[Account], data: st.DataObject
) -> None:
    entries = []
    for account in accounts:
        entry = {}
        for field, value in plain_values(account).items():
            if value is not None or data.draw(st.booleans()):
                entry[data.draw(st.sampled_from(ALIASES[field]))] = value
        entries.append(entry)
    path = write(_folder(tmp_path_factory, "aliases") / "accounts.json", json.dumps(entries))
    assert list(load_accounts(path)) == accounts


@PROPERTY
@given(
    account=accounts(),
    prefix=st.just("TWITTER_") | st.from_regex(r"[A-Z][A-Z0-9]{0,8}_", fullmatch=True),
    quoted=st.booleans(),
    export=st.booleans(),
)
def test_json_to_lines_and_env_and_back(
    tmp_path_factory: pytest.TempPathFactory,
    account: Account,
    prefix: str,
    quoted: bool,
    export: bool,
) -> None:
    folder = _folder(tmp_path_factory, "convert")
    source = folder / "accounts.json"
    save_accounts(source, [account])
    original = load_account(source)
    assert original == account

    # The 4-line file holds the four values only.
    values = plain_values(original)
    lines = write(folder / "creds-twitter", "\n".join(str(values[f]) for f in REQUIRED) + "\n")
    from_lines = load_account(lines, format="lines")
    assert from_lines == account.model_copy(update={"screen_name": None, "user_id": None})
    assert load_app(lines, format="lines") == account.app

    # A .env holds the screen name and user id too, behind any prefix.
    env = write(folder / "bot.env", env_text(original, prefix, quoted=quoted, export=export))
    from_env = load_account(env, prefix=prefix)
    assert from_env == account

    # And back to the JSON list.
    again = folder / "again.json"
    save_accounts(again, [from_env])
    assert list(load_accounts(again)) == [account]
    save_accounts(again, [from_lines])
    assert load_account(again) == from_lines


@PROPERTY
@given(
    model=st.one_of(
        apps,
        accounts(),
        account_lists.map(AccountList),
        pendings,
    )
)
def test_models_round_trip_through_json(model: BaseModel) -> None:
    kind = type(model)
    assert kind.model_validate_json(model.model_dump_json()) == model
    assert kind.model_validate(model.model_dump(mode="json")) == model
    assert kind.model_validate_json(model.model_dump_json().encode()) == model


# --- stripping and refusing ---------------------------------------------------------------------

surrounding = st.text(alphabet=SURROUNDING, max_size=6)
fields = st.sampled_from(FIELDS)


def bare_value(field: str) -> st.SearchStrategy[str]:
    if field == "screen_name":
        return screen_names
    if field == "user_id":
        return user_ids
    return tokens


BASE = {
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "access_token": "at",
    "access_token_secret": "ats",
}


@PROPERTY
@given(field=fields, data=st.data(), before=surrounding, after=surrounding)
def test_surrounding_whitespace_is_stripped(
    tmp_path_factory: pytest.TempPathFactory,
    field: str,
    data: st.DataObject,
    before: str,
    after: str,
) -> None:
    bare = data.draw(bare_value(field))
    wrapped = before + bare + after
    expected = Account(**{**BASE, field: bare})
    assert Account(**{**BASE, field: wrapped}) == expected

    folder = _folder(tmp_path_factory, "strip")
    as_json = write(folder / "a.json", json.dumps({**BASE, field: wrapped}))
    assert load_account(as_json) == expected
    env = "".join(f"TWITTER_{k.upper()}={v}\n" for k, v in BASE.items() if k != field)
    env += f"TWITTER_{field.upper()}={env_quote(wrapped)}\n"
    assert load_account(write(folder / ".env", env)) == expected
    if field in REQUIRED:
        values = [wrapped if k == field else v for k, v in BASE.items()]
        # Line breaks around a value only add blank lines, which do not count.
        lines = write(folder / "creds-twitter", "\n".join(values) + "\n")
        assert load_account(lines, format="lines") == expected


#: Values for the inner-character property: long and odd enough not to occur in a message.
halves = st.text(alphabet=string.ascii_letters + string.digits, min_size=6, max_size=20).map(
    lambda s: "Q9" + s
)


@PROPERTY
@given(field=fields, left=halves, inside=INSIDE, right=halves, data=st.data())
def test_a_value_with_a_character_inside_is_refused_unquoted(
    tmp_path_factory: pytest.TempPathFactory,
    field: str,
    left: str,
    inside: str,
    right: str,
    data: st.DataObject,
) -> None:
    value = left + inside + right
    if field == "user_id":
        assert TOKEN_USER_ID.match(BASE["access_token"]) is None
    with pytest.raises(CredentialsError) as caught:
        Account(**{**BASE, field: value})
    _assert_not_quoted(caught.value, value, left, right)
    assert field in str(caught.value)

    folder = _folder(tmp_path_factory, "inside")
    path = write(folder / "a.json", json.dumps({**BASE, field: value}))
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path)
    _assert_not_quoted(caught.value, value, left, right)
    assert f"{path}: {field}" in str(caught.value)

    if "\ud800" <= inside <= "\udfff":
        return  # a lone surrogate cannot be written as UTF-8: only JSON can carry it
    fmt: Format = data.draw(st.sampled_from(["env", "lines"]))
    if fmt == "env":
        text = "".join(f"TWITTER_{k.upper()}={v}\n" for k, v in BASE.items() if k != field)
        text += f"TWITTER_{field.upper()}={env_quote(value)}\n"
        path = write(folder / ".env", text)
    elif field in REQUIRED and len(f"x{inside}x".splitlines()) == 1:
        values = [value if k == field else v for k, v in BASE.items()]
        path = write(folder / "creds-twitter", "\n".join(values) + "\n")
    else:
        return
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path, format=fmt)
    _assert_not_quoted(caught.value, value, left, right)
    assert str(caught.value).startswith(f"{path}:")


def _assert_not_quoted(exc: CredentialsError, value: str, *parts: str) -> None:
    shown = "".join(traceback.format_exception(exc))
    for text in (value, *parts):
        assert text not in str(exc)
        assert text not in repr(exc)
        assert text not in shown
