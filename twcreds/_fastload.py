"""The fast path of `twcreds.load_accounts`: the guide's JSON list of clean OAuth 1.0a accounts.

`load_json_list` validates the text of a JSON file in one call into pydantic-core, whose
schema builds the real `Account` instances: each value must already be clean (printable
ASCII, no space, none of ``$ { }``, 1 to 1,000 characters: a Rust-side pattern with the
length cap inside it), each object must hold only the six canonical keys (no alias, no
other kind of record, nothing unknown), and the file must be a list. What the schema
cannot say is checked after it, in Python, with sets and ``str.startswith``: no key twice
in one object, no two accounts alike, ``user_id`` matching the access token.

Anything else, valid or not, makes it answer None, and the caller takes the precise path
(`twcreds.formats.read_json` and `twcreds.sources.validate_records`), which owns every
message, place, did-you-mean and warning. So the fast path never raises, and on input it
accepts, it returns what the precise path returns: the property tests hold the two to that.
"""

from __future__ import annotations

import gc
from operator import attrgetter

from pydantic import SecretStr, ValidationError
from pydantic_core import CoreConfig, SchemaValidator, core_schema

from twcreds.models import _TOKEN_USER_ID, MAX_VALUE_LENGTH, Account, AccountList

__all__ = ["load_json_list"]

# Printable ASCII without the space and without '$', '{', '}' (0x24, 0x7B, 0x7D): a value
# matching it has nothing to strip around it and nothing the models refuse inside it, so
# the models' own check (`twcreds.models._required`) would return it unchanged.
_CLEAN = "[!-#%-z|~]"
_VALUE = rf"^{_CLEAN}{{1,{MAX_VALUE_LENGTH}}}$"
# A screen name written with its '@' is stored without it: that one goes the precise way.
_NAME = rf"^[!-#%-?A-z|~]{_CLEAN}{{0,{MAX_VALUE_LENGTH - 1}}}$"

_VALIDATOR: SchemaValidator | None = None
_ACCESS_TOKEN = attrgetter("access_token")
_SCREEN_NAME = attrgetter("screen_name")
_USER_ID = attrgetter("user_id")
_FIELDS_SET = attrgetter("__pydantic_fields_set__")


class _SharedSecrets(dict[str, SecretStr]):
    """One `SecretStr` per distinct value during a load: the accounts of one app share it.

    A lookup that hits stays in C; only a new value runs Python (``__missing__``). Emptied
    at the end of every load, so that no secret outlives the accounts that hold it; a
    load that runs alongside another in a thread only misses more often.
    """

    def __missing__(self, value: str) -> SecretStr:
        secret = self[value] = SecretStr(value)
        return secret


_CONSUMER_SECRETS = _SharedSecrets()


def _clean(pattern: str) -> core_schema.StringSchema:
    return core_schema.str_schema(pattern=pattern, strict=True, regex_engine="rust-regex")


def _optional(pattern: str) -> core_schema.ModelField:
    value = core_schema.nullable_schema(_clean(pattern))
    return core_schema.model_field(core_schema.with_default_schema(value, default=None))


def _validator() -> SchemaValidator:
    """The schema of a list of plain accounts; built on first use (about a millisecond)."""
    global _VALIDATOR
    if _VALIDATOR is None:
        value = core_schema.model_field(_clean(_VALUE))
        secret = core_schema.model_field(
            core_schema.no_info_after_validator_function(SecretStr, _clean(_VALUE))
        )
        shared_secret = core_schema.model_field(
            core_schema.no_info_after_validator_function(
                _CONSUMER_SECRETS.__getitem__, _clean(_VALUE)
            )
        )
        fields = core_schema.model_fields_schema(
            {
                "consumer_key": value,
                "consumer_secret": shared_secret,
                "access_token": value,
                "access_token_secret": secret,
                "screen_name": _optional(_NAME),
                "user_id": _optional(_VALUE),
            },
            extra_behavior="forbid",
        )
        account = core_schema.model_schema(
            Account, fields, extra_behavior="forbid", frozen=True, custom_init=False
        )
        _VALIDATOR = SchemaValidator(
            core_schema.list_schema(account, min_length=1, fail_fast=True),
            CoreConfig(hide_input_in_errors=True),
        )
    return _VALIDATOR


def load_json_list(text: str) -> AccountList | None:
    """The accounts of a JSON list of clean, plain OAuth 1.0a accounts; None for anything else.

    Args:
        text: the whole file, decoded (its BOM, if any, already removed).

    Returns:
        The accounts, exactly as the precise path would validate them; None if the text is
        anything but the plain case, whether or not it is valid.
    """
    # A value the fast path takes is ASCII, and so are the keys and JSON's own syntax:
    # other text can only go the precise way. (For a str, isascii() costs nothing.)
    if not text.isascii():
        return None
    data = text.encode("ascii")
    # Every key is followed by one ':', and a ':' elsewhere is only ever inside a string;
    # so if the text holds no more ':' than the keys the objects ended up with, no key
    # appeared twice in one object (the parser keeps one of the two, silently). Counted by
    # what removing them takes away: bytes.replace() runs at memchr's pace, count() does not.
    colons = len(data) - len(data.replace(b":", b""))
    if not colons:
        return None
    enabled = gc.isenabled()
    # Each Account is four objects that the cyclic collector tracks: 10,000 of them would
    # run it dozens of times, its older generations too, over objects that hold nothing
    # but strings. Paused, it makes one pass over them once it runs again.
    gc.disable()
    try:
        return _validated(data, colons)
    finally:
        _CONSUMER_SECRETS.clear()
        if enabled:
            gc.enable()


def _validated(data: bytes, colons: int) -> AccountList | None:
    try:
        accounts: list[Account] = _validator().validate_json(data)
    except ValidationError:
        return None  # returned outside the handler's reach: nothing of it is kept
    if sum(map(len, map(_FIELDS_SET, accounts))) != colons:
        return None
    tokens = list(map(_ACCESS_TOKEN, accounts))
    if len(set(tokens)) != len(tokens):
        return None
    names = list(map(_SCREEN_NAME, accounts))
    if None in names:
        names = [name for name in names if name is not None]
    if len(set(map(str.casefold, names))) != len(names):
        return None
    if not _user_ids_fit(tokens, list(map(_USER_ID, accounts))):
        return None
    return AccountList.model_construct(list(accounts))


def _user_ids_fit(tokens: list[str], user_ids: list[str | None]) -> bool:
    """`Account`'s own check that user_id matches the access token, for every account.

    The usual case, every user id given and every token starting with it and a '-', is
    settled with C-level ``str`` methods; anything else is checked one by one.
    """
    if None not in user_ids:
        ids: list[str] = user_ids  # type: ignore[assignment]
        # The values are ASCII here, so isdigit() is [0-9]: the model's greedy (\d+)-
        # reads exactly such a user id at the start of a token that starts with it and '-'.
        if all(map(str.isdigit, ids)) and all(
            map(str.startswith, tokens, [user_id + "-" for user_id in ids])
        ):
            return True
    return all(map(_user_id_fits, tokens, user_ids))


def _user_id_fits(token: str, user_id: str | None) -> bool:
    if user_id is None:
        return True
    match = _TOKEN_USER_ID.match(token)
    return match is None or match.group(1) == user_id
