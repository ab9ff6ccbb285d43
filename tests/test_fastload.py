"""The fast path of `load_accounts` gives what the precise path gives, for every input.

`twcreds._fastload` takes only a JSON list of clean, plain OAuth 1.0a accounts and hands
everything else to the precise path (`twcreds.formats.read_json`, then
`twcreds.sources.validate_records`). Here every input is loaded twice, with the fast path
and with it switched off, and the two outcomes must be the same: the same accounts (values,
types, which fields were given) or the same error, message and warnings included. Inputs
are the bad-input corpus of `tests/test_corpus.py` and JSON lists that hypothesis builds
around the guide's format, with the unusual things a file can hold mixed in: aliases,
unknown keys, OAuth 2.0 records, a key twice, the same account twice, spaced or escaped
values, '@' names, user ids that do not match their token, a BOM, odd spacing.
"""

from __future__ import annotations

import contextlib
import gc
import json
import os
import string
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr

import twcreds.sources
from twcreds import _fastload as fastload
from twcreds import load_accounts
from twcreds._fastload import load_json_list
from twcreds.errors import CredentialsError
from twcreds.models import Account, AccountList

CORPUS = Path(__file__).parent / "corpus"

PROPERTY = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

REQUIRED = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
ALIASES = {
    "consumer_key": ("api_key", "app_key"),
    "consumer_secret": ("api_secret", "api_key_secret", "app_secret"),
    "access_token": ("oauth_token",),
    "access_token_secret": ("oauth_token_secret",),
}

# --- loading both ways ---------------------------------------------------------------------

Outcome = tuple[Any, ...]


def outcome(path: Path, *, fast: bool) -> Outcome:
    """What loading ``path`` gives: the accounts' full state, or the error; and the warnings."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with _fast_path(fast):
            try:
                accounts = load_accounts(path)
            except CredentialsError as exc:
                result: Outcome = ("error", type(exc), str(exc))
            else:
                result = ("ok", type(accounts), [_state(account) for account in accounts])
    return (*result, [(w.category, str(w.message)) for w in caught])


def _state(account: Any) -> Outcome:
    # The whole pickled state: values (secrets compared by value), which fields were given,
    # extra and private parts; and the secrets themselves, which == on SecretStr compares.
    state = account.__getstate__()
    values = state["__dict__"].values()
    secrets = tuple(v.get_secret_value() if isinstance(v, SecretStr) else None for v in values)
    return type(account), state, secrets, tuple(map(type, values))


class _Count:
    taken = 0


@pytest.fixture
def fast_taken() -> type[_Count]:
    _Count.taken = 0
    return _Count


_real = load_json_list


def _counting(text: str) -> AccountList | None:
    result = _real(text)
    _Count.taken += result is not None
    return result


def _refused(text: str) -> None:
    return None


@contextlib.contextmanager
def _fast_path(enabled: bool) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(twcreds.sources, "load_json_list", _counting if enabled else _refused)
        yield


def assert_same(path: Path) -> Outcome:
    fast = outcome(path, fast=True)
    precise = outcome(path, fast=False)
    assert fast == precise
    return fast


def write(path: Path, data: bytes) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fastload")


# --- the corpus ----------------------------------------------------------------------------


def corpus_names() -> list[str]:
    return sorted(p.name for p in CORPUS.iterdir() if p.name != "README.md")


@pytest.mark.parametrize("name", corpus_names())
def test_corpus_gives_the_same_on_both_paths(name: str, folder: Path) -> None:
    path = write(folder / name, (CORPUS / name).read_bytes())
    assert_same(path)


# --- generated JSON lists ------------------------------------------------------------------

clean = st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=1, max_size=50)
# Values that are valid but not clean, invalid, or on a boundary of the fast path's pattern.
odd_values = st.sampled_from(
    [
        "",
        " ",
        " padded",
        "padded\t",
        "\ufeffbom",
        "zero\u200bwidth",
        "in side",
        "$VAR",
        "${VAR}",
        "{x}",
        "a:b",
        'quote"d',
        "back\\slash",
        "caf\u00e9",
        "\u0410ccount",
        "@",
        "@bot",
        "@@bot",
        "x" * 1000,
        "x" * 1001,
        "~!#%&'()*+,-./;<=>?[]^`|",
        "12-",
        "0012-abc",
    ]
)
odd_json = st.sampled_from([None, 0, 12, 1.5, True, [], {}, ["x"], {"a": "b"}])
values: st.SearchStrategy[Any] = st.one_of(
    clean, clean, clean, odd_values, odd_json, st.text(max_size=12)
)
extra_keys = st.sampled_from(
    [
        "client_id",
        "refresh_token",
        "expires_at",
        "scopes",
        "bearer_token",
        "acces_token",
        "Screen_Name",
        "note",
        "",
        "consumer_key ",
    ]
)


@st.composite
def records(draw: st.DrawFn, index: int) -> list[tuple[str, Any]]:
    """One account object as (key, value) pairs, a key possibly twice."""
    user_id = str(draw(st.integers(1, 10**12)))
    token = draw(clean)
    if draw(st.booleans()):
        token = f"{user_id}-{token}"
    pairs: list[tuple[str, Any]] = [
        ("consumer_key", draw(clean)),
        ("consumer_secret", draw(clean)),
        ("access_token", token),
        ("access_token_secret", draw(clean)),
    ]
    if draw(st.booleans()):
        pairs.append(("screen_name", draw(st.sampled_from([f"bot{index}", f"Bot{index}"]))))
    if draw(st.booleans()):
        pairs.append(("user_id", draw(st.sampled_from([user_id, str(index), "7"]))))
    for _ in range(draw(st.integers(0, 2))):
        kind = draw(st.sampled_from(["value", "alias", "extra", "twice", "drop", "null"]))
        at = draw(st.integers(0, len(pairs) - 1))
        key, value = pairs[at]
        if kind == "value":
            pairs[at] = (key, draw(values))
        elif kind == "alias" and key in ALIASES:
            pairs[at] = (draw(st.sampled_from(ALIASES[key])), value)
        elif kind == "extra":
            pairs.insert(at, (draw(extra_keys), draw(values)))
        elif kind == "twice":
            pairs.insert(at, (key, draw(st.sampled_from([value, draw(values)]))))
        elif kind == "drop":
            del pairs[at]
        elif kind == "null":
            pairs[at] = (key, None)
    return draw(st.permutations(pairs)) if draw(st.booleans()) else pairs


@st.composite
def json_texts(draw: st.DrawFn) -> bytes:
    count = draw(st.integers(1, 5))
    objects = [draw(records(i)) for i in range(count)]
    if draw(st.integers(0, 9)) == 0 and objects:  # the same account twice
        objects.append(list(draw(st.sampled_from(objects))))
    if draw(st.integers(0, 9)) == 0:
        objects = []
    ascii_only = draw(st.booleans())
    key_sep = draw(st.sampled_from([": ", ":", " : ", "\t:\n"]))
    item_sep = draw(st.sampled_from([", ", ",", ",\n  ", " ,\r\n"]))

    def dump(value: Any) -> str:
        return json.dumps(value, ensure_ascii=ascii_only)

    items = [
        "{" + item_sep.join(dump(key) + key_sep + dump(value) for key, value in pairs) + "}"
        for pairs in objects
    ]
    text = "[" + item_sep.join(items) + "]"
    if draw(st.integers(0, 9)) == 0:  # one object alone, or an app with its accounts
        text = items[0] if items else "{}"
    prefix = draw(st.sampled_from(["", "", "\ufeff", "\n", " \t"]))
    suffix = draw(st.sampled_from(["", "", "\n", "\r\n", " x", ","]))
    return (prefix + text + suffix).encode("utf-8", "surrogatepass")


@PROPERTY
@given(data=json_texts())
def test_generated_lists_give_the_same_on_both_paths(data: bytes, folder: Path) -> None:
    assert_same(write(folder / "accounts.json", data))


# --- the fast path is taken, and only where it should be --------------------------------------


@st.composite
def clean_lists(draw: st.DrawFn) -> bytes:
    """The guide's file as twcreds and json.dumps write it: clean values, canonical keys."""
    accounts = []
    for index in range(draw(st.integers(1, 6))):
        user_id = str(10_000 + index)
        account = {
            "consumer_key": draw(clean),
            "consumer_secret": draw(clean),
            "access_token": f"{user_id}-{draw(clean)}",
            "access_token_secret": draw(clean),
        }
        if draw(st.booleans()):
            account["screen_name"] = f"bot{index}"
        if draw(st.booleans()):
            account["user_id"] = user_id
        accounts.append(account)
    indent = draw(st.sampled_from([None, 2, 4]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    return (bom + json.dumps(accounts, indent=indent) + "\n").encode("utf-8")


@PROPERTY
@given(data=clean_lists())
def test_clean_lists_take_the_fast_path(
    data: bytes, folder: Path, fast_taken: type[_Count]
) -> None:
    before = fast_taken.taken
    result = assert_same(write(folder / "guide.json", data))
    assert result[0] == "ok"
    assert fast_taken.taken == before + 1


UNUSUAL = {
    "alias": '[{"api_key": "k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts"}]',
    "oauth2 record": '[{"client_id": "c", "access_token": "t", "expires_at":'
    ' "2030-01-01T00:00:00Z", "scopes": ["tweet.read"]}]',
    "oauth2 key beside oauth1": '[{"consumer_key": "k", "consumer_secret": "s",'
    ' "access_token": "t", "access_token_secret": "ts", "client_id": "c"}]',
    "unknown key": '[{"consumer_key": "k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts", "note": "x"}]',
    "key twice": '[{"consumer_key": "k", "consumer_key": "k", "consumer_secret": "s",'
    ' "access_token": "t", "access_token_secret": "ts"}]',
    "key twice, one spaced": '[{"consumer_key": "k", "consumer_key" : "k",'
    ' "consumer_secret" : "s", "access_token": "t", "access_token_secret": "ts"}]',
    "same token twice": '[{"consumer_key": "k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts"}, {"consumer_key": "k", "consumer_secret": "s",'
    ' "access_token": "t", "access_token_secret": "x"}]',
    "same name twice": '[{"consumer_key": "k", "consumer_secret": "s", "access_token": "t1",'
    ' "access_token_secret": "ts", "screen_name": "Bot"}, {"consumer_key": "k",'
    ' "consumer_secret": "s", "access_token": "t2", "access_token_secret": "x",'
    ' "screen_name": "bot"}]',
    "user id mismatch": '[{"consumer_key": "k", "consumer_secret": "s", "access_token":'
    ' "12-t", "access_token_secret": "ts", "user_id": "13"}]',
    "user id with a dash": '[{"consumer_key": "k", "consumer_secret": "s", "access_token":'
    ' "1-2-t", "access_token_secret": "ts", "user_id": "1-2"}]',
    "padded value": '[{"consumer_key": " k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts"}]',
    "@name": '[{"consumer_key": "k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts", "screen_name": "@bot"}]',
    "empty user id": '[{"consumer_key": "k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts", "user_id": ""}]',
    "one object": '{"consumer_key": "k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts"}',
    "app and accounts": '{"app": {"consumer_key": "k", "consumer_secret": "s"},'
    ' "accounts": [{"access_token": "t", "access_token_secret": "ts"}]}',
    "empty list": "[]",
    # What JSON refuses and a lenient parser might take: never the fast path's.
    "form feed as space": '[\x0c{"consumer_key": "k", "consumer_secret": "s",'
    ' "access_token": "t", "access_token_secret": "ts"}]',
    "trailing comma": '[{"consumer_key": "k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts"},]',
    "comment": '[{"consumer_key": "k", "consumer_secret": "s", "access_token": "t",'
    ' "access_token_secret": "ts"}] // bots',
    "raw tab in a value": '[{"consumer_key": "k\tx", "consumer_secret": "s",'
    ' "access_token": "t", "access_token_secret": "ts"}]',
    "unknown escape": '[{"consumer_key": "k\\qx", "consumer_secret": "s",'
    ' "access_token": "t", "access_token_secret": "ts"}]',
    "lone surrogate escape": '[{"consumer_key": "k\\ud800", "consumer_secret": "s",'
    ' "access_token": "t", "access_token_secret": "ts"}]',
    "non-ascii value": '[{"consumer_key": "k\u00e9", "consumer_secret": "s",'
    ' "access_token": "t", "access_token_secret": "ts"}]',
}


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_input_goes_the_precise_way(name: str, folder: Path) -> None:
    assert load_json_list(UNUSUAL[name]) is None
    assert_same(write(folder / "unusual.json", UNUSUAL[name].encode("utf-8")))


GUIDE_TEXT = json.dumps(
    [{"consumer_key": "k", "consumer_secret": "s", "access_token": "t", "access_token_secret": "u"}]
)


def test_the_collector_is_paused_during_the_load_and_left_as_it_was(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    original = fastload._validated

    def watching(data: bytes, colons: int) -> AccountList | None:
        seen.append(gc.isenabled())
        return original(data, colons)

    monkeypatch.setattr(fastload, "_validated", watching)
    assert load_json_list(GUIDE_TEXT) is not None
    assert gc.isenabled()
    gc.disable()
    try:
        assert load_json_list(GUIDE_TEXT) is not None
        assert not gc.isenabled()
    finally:
        gc.enable()
    assert seen == [False, False]


def test_no_secret_is_kept_after_a_load() -> None:
    accounts = load_json_list(GUIDE_TEXT)
    assert accounts is not None
    first = accounts[0]
    assert isinstance(first, Account)
    assert first.consumer_secret.get_secret_value() == "s"
    assert not fastload._CONSUMER_SECRETS
