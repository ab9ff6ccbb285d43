"""Pydantic models for credentials: `App`, `Account`, `AccountList`, `PendingAuthorization`.

Every model is frozen. Secrets are :class:`~pydantic.SecretStr`, masked in ``repr()`` and
``str()``; explicit JSON serialization (``model_dump_json()``, ``model_dump(mode="json")``)
writes the real values so that files round-trip. Validation failures are raised as
:class:`~twcreds.errors.CredentialsError` from every entry point, never as a raw
``pydantic.ValidationError``, and their messages never quote a value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Annotated, Any

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    RootModel,
    SecretStr,
    ValidationError,
    field_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import Self

from twcreds.errors import CredentialsError

__all__ = ["Account", "AccountList", "App", "PendingAuthorization"]

# Python's str.strip() leaves a byte-order mark alone; editors on Windows put one in.
_STRIP = " \t\n\r\v\f\x1c\x1d\x1e\x1f\x85\xa0\u2028\u2029\ufeff\u200b"
# Any whitespace, C0/C1 control, zero-width or BOM character left after stripping is a
# copy-paste accident: Twitter would answer 401 with no further clue.
_FORBIDDEN = re.compile(r"[\s\x00-\x1f\x7f-\x9f\u200b-\u200d\u2060\ufeff]")
_TOKEN_USER_ID = re.compile(r"(\d+)-")

#: Canonical field name -> the names accepted for it on input.
ALIASES: dict[str, tuple[str, ...]] = {
    "consumer_key": ("consumer_key", "api_key", "app_key"),
    "consumer_secret": ("consumer_secret", "api_secret", "api_key_secret", "app_secret"),
    "access_token": ("access_token", "oauth_token"),
    "access_token_secret": ("access_token_secret", "oauth_token_secret"),
    "screen_name": ("screen_name",),
    "user_id": ("user_id",),
}
#: Every accepted input name -> its canonical name.
CANONICAL: dict[str, str] = {alias: name for name, names in ALIASES.items() for alias in names}
SECRET_FIELDS = frozenset({"consumer_secret", "access_token_secret", "oauth_token_secret"})


def _required(value: object) -> str:
    if not isinstance(value, str):
        raise PydanticCustomError(
            "not_a_string", "must be a string, not {type}", {"type": type(value).__name__}
        )
    value = value.strip(_STRIP)
    if not value:
        raise PydanticCustomError("empty", "is empty")
    if _FORBIDDEN.search(value):
        raise PydanticCustomError(
            "inner_whitespace",
            "contains a space, line break or control character inside the value;"
            " copy it again from the developer portal",
        )
    return value


def _optional(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        # Twitter's own JSON gives user ids as numbers; keep them exact as digits.
        value = str(value)
    if isinstance(value, str) and not value.strip(_STRIP):
        return None
    return _required(value)


def _screen_name(value: object) -> str | None:
    name = _optional(value)
    if name is not None and name.startswith("@"):
        name = name[1:] or None
    return name


_Str = Annotated[str, BeforeValidator(_required)]
_Secret = Annotated[SecretStr, BeforeValidator(_required)]
_OptStr = Annotated[str | None, BeforeValidator(_optional)]


def _aliases(name: str) -> Any:
    return Field(validation_alias=AliasChoices(*ALIASES[name]))


class _Model(BaseModel):
    """Shared configuration; turns pydantic's errors into `CredentialsError`."""

    model_config = ConfigDict(
        frozen=True,
        hide_input_in_errors=True,
        populate_by_name=True,
        extra="ignore",
    )

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise credentials_error(exc, type(self).__name__, data) from None

    # Tell pydantic this __init__ only wraps the base one, so nested validation (an Account
    # inside an AccountList) stays in pydantic-core instead of calling back into Python.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise credentials_error(exc, cls.__name__, obj) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            raise credentials_error(exc, cls.__name__, None) from None

    @classmethod
    def model_validate_strings(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_strings(obj, **kwargs)
        except ValidationError as exc:
            raise credentials_error(exc, cls.__name__, obj) from None


class App(_Model):
    """An application's consumer credentials (the portal's "API Key and Secret")."""

    consumer_key: _Str = _aliases("consumer_key")
    consumer_secret: _Secret = _aliases("consumer_secret")

    @field_serializer("consumer_secret", when_used="json")
    def _reveal(self, value: SecretStr) -> str:
        return value.get_secret_value()


class Account(_Model):
    """One authorized account: the guide's four values, plus who it is when known."""

    consumer_key: _Str = _aliases("consumer_key")
    consumer_secret: _Secret = _aliases("consumer_secret")
    access_token: _Str = _aliases("access_token")
    access_token_secret: _Secret = _aliases("access_token_secret")
    screen_name: Annotated[str | None, BeforeValidator(_screen_name)] = None
    user_id: _OptStr = None

    @field_serializer("consumer_secret", "access_token_secret", when_used="json")
    def _reveal(self, value: SecretStr) -> str:
        return value.get_secret_value()

    @model_validator(mode="after")
    def _user_id_matches_token(self) -> Self:
        if self.user_id is not None:
            match = _TOKEN_USER_ID.match(self.access_token)
            if match and match.group(1) != self.user_id:
                raise PydanticCustomError(
                    "user_id_mismatch",
                    "user_id does not match the access token, which starts with its"
                    " account's user id; the values belong to different accounts",
                )
        return self

    @property
    def app(self) -> App:
        """The consumer half of these credentials."""
        return App.model_construct(
            consumer_key=self.consumer_key, consumer_secret=self.consumer_secret
        )

    @property
    def label(self) -> str:
        """``@screen_name`` when known, else ``user <id>``, else ``(unnamed)``: for messages."""
        if self.screen_name:
            return f"@{self.screen_name}"
        if self.user_id:
            return f"user {self.user_id}"
        return "(unnamed account)"


def _normalize_name(name: str) -> str:
    return name.strip().removeprefix("@").casefold()


class AccountList(RootModel[list[Account]]):
    """Several accounts, as in the guide's multi-account JSON list.

    Supports ``len()``, iteration, and ``accounts[i]`` by index or
    ``accounts["name"]`` by screen name (case-insensitive, ``@`` optional).
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    def __init__(self, root: Any = None, /, **data: Any) -> None:
        try:
            if data:
                super().__init__(**data)
            else:
                super().__init__(root)
        except ValidationError as exc:
            raise credentials_error(exc, type(self).__name__, root) from None

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            raise credentials_error(exc, cls.__name__, obj) from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            raise credentials_error(exc, cls.__name__, None) from None

    @model_validator(mode="after")
    def _no_duplicates(self) -> Self:
        duplicate = find_duplicate(self.root)
        if duplicate is not None:
            raise PydanticCustomError("duplicate_account", duplicate)
        return self

    def __iter__(self) -> Iterator[Account]:  # type: ignore[override]
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __getitem__(self, key: int | str) -> Account:
        if isinstance(key, str):
            wanted = _normalize_name(key)
            for account in self.root:
                if account.screen_name is not None and account.screen_name.casefold() == wanted:
                    return account
            known = ", ".join(f"@{n}" for n in self.names if n) or "none has a screen name"
            raise KeyError(f"no account named @{wanted} (accounts: {known})")
        return self.root[key]

    @property
    def names(self) -> list[str | None]:
        """The screen names, in order; ``None`` for an account without one."""
        return [account.screen_name for account in self.root]


def find_duplicate(accounts: Sequence[Account]) -> str | None:
    """Describe the first pair of accounts sharing an access token or screen name."""
    tokens: dict[str, int] = {}
    names: dict[str, int] = {}
    for index, account in enumerate(accounts):
        first = tokens.setdefault(account.access_token, index)
        if first != index:
            return (
                f"accounts [{first}] and [{index}] have the same access token; remove one of them"
            )
        if account.screen_name is not None:
            first = names.setdefault(account.screen_name.casefold(), index)
            if first != index:
                return (
                    f"accounts [{first}] and [{index}] have the same screen name"
                    f" @{account.screen_name}; remove one of them"
                )
    return None


class PendingAuthorization(_Model):
    """The state between the two halves of the PIN flow; save it to finish elsewhere."""

    auth_url: str
    oauth_token: str
    oauth_token_secret: SecretStr
    app: App
    api_base: str | None = None

    @field_serializer("oauth_token_secret", when_used="json")
    def _reveal(self, value: SecretStr) -> str:
        return value.get_secret_value()


# --- error messages --------------------------------------------------------------------

_HOW_TO_FIX = {
    "consumer_key": "the app's API Key, from the developer portal's Keys and tokens page",
    "consumer_secret": "the app's API Key Secret, from the developer portal",
    "access_token": "the account's Access Token (oauth_token)",
    "access_token_secret": "the account's Access Token Secret (oauth_token_secret)",
}


def did_you_mean(record: Mapping[str, Any], missing: str) -> str | None:
    """Name an unknown key of ``record`` that looks like a misspelling of ``missing``."""
    unknown = [k for k in record if isinstance(k, str) and k not in CANONICAL]
    wanted = dict.fromkeys(ALIASES.get(missing, (missing,)), missing)
    for key in unknown:
        folded = key.strip().lower().replace("-", "_").replace(" ", "_")
        close = difflib.get_close_matches(folded, wanted, n=1, cutoff=0.75)
        if close:
            return f"found {key!r}: did you mean {missing!r}?"
    return None


def describe_error(error: Mapping[str, Any], record: object = None) -> tuple[str, str]:
    """Turn one pydantic error into (field, message); the message never holds the value."""
    loc = [part for part in error.get("loc", ()) if isinstance(part, str)]
    field = CANONICAL.get(loc[-1], loc[-1]) if loc else ""
    kind = error.get("type", "")
    if kind == "missing":
        hint = did_you_mean(record, field) if isinstance(record, Mapping) else None
        fix = hint or f"add it: {_HOW_TO_FIX.get(field, 'see the README')}"
        return field, f"{field} is missing; {fix}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return field, "must be an object of credentials (a JSON object with named values)"
    if kind == "list_type":
        return field, "must be a list of accounts"
    if kind == "string_type":
        return field, f"{field or 'value'} must be a string"
    name = loc[-1] if loc else "value"
    return field, f"{name} {error.get('msg', 'is invalid')}" if loc else error.get("msg", "")


def credentials_error(exc: ValidationError, where: str, data: object) -> CredentialsError:
    """Build one `CredentialsError` from a pydantic ``ValidationError``.

    Args:
        exc: the error; its inputs are never read.
        where: what to name first, e.g. a file name or ``"Account"``.
        data: the raw input, used only to look for misspelled keys and screen names.
    """
    parts = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = error.get("loc", ())
        record: object = data
        prefix = ""
        if loc and isinstance(loc[0], int):
            index = loc[0]
            record = data[index] if isinstance(data, list) and index < len(data) else None
            prefix = f"[{index}]" + _name_suffix(record) + ": "
        _, message = describe_error(error, record)
        parts.append(prefix + message)
    return CredentialsError(f"{where}: " + "; ".join(parts))


def _name_suffix(record: object) -> str:
    if isinstance(record, Mapping):
        name = record.get("screen_name")
        if isinstance(name, str) and name.strip() and not _FORBIDDEN.search(name.strip()):
            return f" (@{name.strip().removeprefix('@')})"
    return ""
