"""Pydantic models for credentials: OAuth 1.0a, OAuth 2.0, app-only, and the pending flows.

`App`, `Account` and `PendingAuthorization` are OAuth 1.0a's (the guide's four values and the
PIN flow); `OAuth2App`, `OAuth2Account` and `PendingOAuth2Authorization` are OAuth 2.0's (a
client id, a two-hour bearer token and a single-use refresh token; the PKCE flow).
`AccountList` holds either kind of account. `BearerToken` is an app's own app-only token:
it reads public data and cannot post, so no account list ever holds one.

Every model is frozen. Secrets are :class:`~pydantic.SecretStr`, masked in ``repr()`` and
``str()``; explicit JSON serialization (``model_dump_json()``, ``model_dump(mode="json")``)
writes the real values so that files round-trip. Validation failures are raised as
:class:`~twcreds.errors.CredentialsError` from every entry point, never as a raw
``pydantic.ValidationError``, and their messages never quote a value.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, Union

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    RootModel,
    SecretStr,
    Tag,
    ValidationError,
    field_serializer,
    model_validator,
)
from pydantic_core import PydanticCustomError
from typing_extensions import Self

from twcreds.errors import CredentialsError

__all__ = [
    "POSTING_SCOPES",
    "Account",
    "AccountList",
    "AnyAccount",
    "App",
    "BearerToken",
    "OAuth2Account",
    "OAuth2App",
    "PendingAuthorization",
    "PendingOAuth2Authorization",
]

#: The OAuth 2.0 scopes a posting bot asks for: read and write posts, know who it is,
#: upload media, and ``offline.access`` for a refresh token (without it, re-authorize
#: every two hours).
POSTING_SCOPES: tuple[str, ...] = (
    "tweet.read",
    "tweet.write",
    "users.read",
    "media.write",
    "offline.access",
)

# Python's str.strip() leaves a byte-order mark alone; editors on Windows put one in. Every
# character str.isspace() knows is here (an ideographic or no-break space pasted around a
# token is still "surrounding whitespace"), plus the BOM and the zero-width space and word
# joiner that web pages put around copyable text.
_STRIP = (
    " \t\n\r\v\f\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005"
    "\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u200b\u2060"
)
#: No Twitter credential, screen name or id comes near this; a longer value is a paste of
#: something else (a whole file, a page), and would only earn a 4xx from Twitter later.
MAX_VALUE_LENGTH = 1000
_TOKEN_USER_ID = re.compile(r"(\d+)-")
# Only a plausible screen name is ever quoted in a message: a value pasted into the wrong
# field (a secret, say) must not be echoed back as "the account's name". Twitter's screen
# names are at most 15 characters; every secret it issues is at least 40.
_SAFE_NAME = re.compile(r"@?\w{1,15}", re.ASCII)

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
#: The fields of an OAuth 2.0 account, in the order files write them. ``scope`` (the token
#: endpoint's own name, a space-separated string) is accepted for ``scopes``.
OAUTH2_FIELDS = (
    "client_id",
    "client_secret",
    "access_token",
    "refresh_token",
    "expires_at",
    "scopes",
    "screen_name",
    "user_id",
)
OAUTH2_ALIASES: dict[str, str] = {**{name: name for name in OAUTH2_FIELDS}, "scope": "scopes"}
_CONSUMER_NAMES = frozenset(ALIASES["consumer_key"] + ALIASES["consumer_secret"])
# OAuth 2.0 scopes are short words with dots (tweet.read, offline.access).
_SCOPE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


def _required(value: object) -> str:
    # Fast path for the common clean value. A value passing it also passes the full check
    # below: the same test (printable, no space, not too long), only without the messages.
    if type(value) is str:
        clean = value.strip(_STRIP)
        if clean and len(clean) <= MAX_VALUE_LENGTH and clean.isprintable() and _plain(clean):
            return clean
    if isinstance(value, SecretStr):
        value = value.get_secret_value()
    if not isinstance(value, str):
        raise PydanticCustomError(
            "not_a_string",
            "must be a string, not {type}",
            {"type": "null" if value is None else type(value).__name__},
        )
    value = value.strip(_STRIP)
    if not value:
        raise PydanticCustomError("empty", "is empty")
    if len(value) > MAX_VALUE_LENGTH:
        length = f"{len(value):,}"
        raise PydanticCustomError("too_long", "is {length} characters long", {"length": length})
    # isprintable() is False for every whitespace but the plain space, every control and
    # format character (zero-width spaces, direction marks, a BOM), a lone surrogate (which
    # could not even be written back as UTF-8) and unassigned code points: all copy-paste
    # accidents that Twitter would answer with a bare 401.
    if not value.isprintable() or " " in value:
        raise PydanticCustomError(
            "inner_whitespace", "contains a space, line break or control character"
        )
    if not _plain(value):
        raise PydanticCustomError("shell_variable", "contains '$', '{' or '}'")
    return value


def _plain(value: str) -> bool:
    """No space, and none of ``$ { }``: no credential Twitter issues holds them.

    They are what a ``.env`` line written for a shell holds (``KEY=${TWITTER_KEY}``), which
    twcreds reads as those very characters: refused here, not answered by a bare 401 later.
    """
    return " " not in value and "$" not in value and "{" not in value and "}" not in value


def _optional(value: object) -> str | None:
    if value is None:
        return None
    if type(value) is str:
        clean = value.strip(_STRIP)
        if not clean:
            return None
        if len(clean) <= MAX_VALUE_LENGTH and clean.isprintable() and _plain(clean):
            return clean
    if isinstance(value, str) and not value.strip(_STRIP):
        return None
    return _required(value)


def _screen_name(value: object) -> str | None:
    name = _optional(value)
    if name is not None and name.startswith("@"):
        name = name[1:] or None
    return name


def _expires_at(value: object) -> datetime:
    """An aware UTC time: a datetime with a zone, ISO 8601 text, or seconds since the epoch."""
    if isinstance(value, str):
        text = _required(value)
        if re.fullmatch(r"[0-9]{1,12}(?:\.[0-9]+)?", text):
            value = float(text)
        else:
            try:
                # Python 3.10's fromisoformat does not take the "Z" that JSON writers use.
                value = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "Zz" else text)
            except ValueError:
                raise PydanticCustomError("not_a_time", "is not a time") from None
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            value = datetime.fromtimestamp(value, tz=timezone.utc)
        except (OverflowError, OSError, ValueError):
            raise PydanticCustomError("not_a_time", "is not a time") from None
    if not isinstance(value, datetime):
        raise PydanticCustomError(
            "not_a_string",
            "must be a string, not {type}",
            {"type": "null" if value is None else type(value).__name__},
        )
    if value.tzinfo is None or value.utcoffset() is None:
        raise PydanticCustomError("naive_time", "has no time zone")
    return value.astimezone(timezone.utc)


def _scopes(value: object) -> tuple[str, ...]:
    """Scopes as a tuple: from a list, or from the token endpoint's space-separated string."""
    if value is None:
        return ()
    items: list[object]
    if isinstance(value, str):
        items = list(value.split())
    elif isinstance(value, list | tuple):
        items = list(value)
    else:
        raise PydanticCustomError(
            "not_scopes", "must be a list of scopes or a space-separated string"
        )
    scopes: dict[str, None] = {}
    for item in items:
        if not (isinstance(item, str) and _SCOPE.fullmatch(item.strip(_STRIP))):
            raise PydanticCustomError("bad_scope", "holds something that is not a scope")
        scopes[item.strip(_STRIP)] = None
    return tuple(scopes)


_Str = Annotated[str, BeforeValidator(_required)]
_Secret = Annotated[SecretStr, BeforeValidator(_required)]
_OptSecret = Annotated[SecretStr | None, BeforeValidator(_optional)]
_Time = Annotated[datetime, BeforeValidator(_expires_at)]
_Scopes = Annotated[tuple[str, ...], BeforeValidator(_scopes)]
_OptStr = Annotated[str | None, BeforeValidator(_optional)]
_ScreenName = Annotated[str | None, BeforeValidator(_screen_name)]


def _aliases(name: str) -> Any:
    return Field(validation_alias=AliasChoices(*ALIASES[name]))


class _Frozen:
    """Refuse attribute changes without pydantic's error, which would quote the new value."""

    def __setattr__(self, name: str, value: object) -> NoReturn:
        self._refuse(name)

    def __delattr__(self, name: str) -> NoReturn:
        self._refuse(name)

    def _refuse(self, name: str) -> NoReturn:
        kind = type(self).__name__
        msg = (
            f"{kind} is immutable: cannot change {name!r};"
            " make a changed copy with .model_copy(update={...})"
        )
        raise AttributeError(msg)


class _Validating(BaseModel):
    """``model_validate*`` that raise `CredentialsError` instead of pydantic's error.

    Each entry point raises outside its ``except`` block, so that the `ValidationError`
    does not ride along as ``__context__`` (where traceback tools would still find it).
    """

    @classmethod
    def _error(cls, exc: ValidationError, data: Any) -> CredentialsError:
        fields = () if issubclass(cls, RootModel) else cls.model_fields
        return credentials_error(exc, cls.__name__, data, fields=fields)

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            error = cls._error(exc, obj)
        raise error from None

    @classmethod
    def model_validate_json(cls, json_data: str | bytes | bytearray, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, **kwargs)
        except ValidationError as exc:
            error = cls._error(exc, _loads_or_none(json_data))
        raise error from None

    @classmethod
    def model_validate_strings(cls, obj: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_strings(obj, **kwargs)
        except ValidationError as exc:
            error = cls._error(exc, obj)
        raise error from None


class _Model(_Frozen, _Validating):
    """Shared configuration: frozen, inputs hidden from errors, unknown keys ignored."""

    model_config = ConfigDict(
        frozen=True,
        hide_input_in_errors=True,
        populate_by_name=True,
        extra="ignore",
    )

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
            return
        except ValidationError as exc:
            error = self._error(exc, data)
        raise error from None

    # Tell pydantic this __init__ only wraps the base one, so nested validation (an Account
    # inside an AccountList) stays in pydantic-core instead of calling back into Python.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copy the model; unlike pydantic's, the ``update`` values are validated too.

        Raises:
            CredentialsError: an updated value is invalid.
        """
        if not update:
            return super().model_copy(deep=deep)
        fields = {name: getattr(self, name) for name in type(self).model_fields}
        for key, value in update.items():
            fields[key if key in fields else CANONICAL.get(key, key)] = value
        return type(self).model_validate(fields)


def _loads_or_none(json_data: str | bytes | bytearray) -> Any:
    """The parsed JSON, only to look for misspelled keys in a message; None if it is broken."""
    try:
        return json.loads(json_data)
    except (ValueError, RecursionError):
        return None


class App(_Model):
    """An application's consumer credentials (the portal's "API Key and Secret")."""

    consumer_key: _Str = _aliases("consumer_key")
    consumer_secret: _Secret = _aliases("consumer_secret")

    @field_serializer("consumer_secret", when_used="json")
    def _reveal_secrets(self, value: SecretStr) -> str:
        return value.get_secret_value()


class _Named:
    """The label both kinds of account show in messages."""

    if TYPE_CHECKING:  # for the type checker only: at run time pydantic would take them
        # as fields of its own and put them first, changing the order files are written in
        screen_name: str | None
        user_id: str | None

    @property
    def label(self) -> str:
        """``@screen_name`` when known, else ``user <id>``, else ``(unnamed)``: for messages."""
        if self.screen_name:
            return f"@{self.screen_name}"
        if self.user_id:
            return f"user {self.user_id}"
        return "(unnamed account)"


class Account(_Named, _Model):
    """One authorized account: the guide's four values, plus who it is when known."""

    consumer_key: _Str = _aliases("consumer_key")
    consumer_secret: _Secret = _aliases("consumer_secret")
    access_token: _Str = _aliases("access_token")
    access_token_secret: _Secret = _aliases("access_token_secret")
    screen_name: _ScreenName = None
    user_id: _OptStr = None

    @field_serializer("consumer_secret", "access_token_secret", when_used="json")
    def _reveal_secrets(self, value: SecretStr) -> str:
        return value.get_secret_value()

    @model_validator(mode="after")
    def _user_id_matches_token(self) -> Self:
        if self.user_id is not None:
            match = _TOKEN_USER_ID.match(self.access_token)
            if match and match.group(1) != self.user_id:
                raise PydanticCustomError("user_id_mismatch", "user_id does not match")
        return self

    @property
    def app(self) -> App:
        """The consumer half of these credentials."""
        return App.model_construct(
            consumer_key=self.consumer_key, consumer_secret=self.consumer_secret
        )

    @property
    def kind(self) -> str:
        """``"OAuth 1.0a"``: for messages and listings."""
        return "OAuth 1.0a"


class OAuth2App(_Model):
    """An app's OAuth 2.0 client, from the developer console's "OAuth 2.0 Client ID and Secret".

    A confidential client ("Web App, Automated App or Bot") has a secret and authenticates
    to the token endpoint with HTTP Basic; a public one ("Native App") has none and sends
    its ``client_id`` in the body, PKCE being its only proof.
    """

    client_id: _Str
    client_secret: _OptSecret = None

    @field_serializer("client_secret", when_used="json")
    def _reveal_secrets(self, value: SecretStr | None) -> str | None:
        return None if value is None else value.get_secret_value()

    @property
    def confidential(self) -> bool:
        """Whether the client has a secret (and authenticates with HTTP Basic)."""
        return self.client_secret is not None


class OAuth2Account(_Named, _Model):
    """One account authorized with OAuth 2.0: a bearer token and, to renew it, a refresh token.

    The access token lives about two hours; the refresh token (issued with the
    ``offline.access`` scope) is single-use: each refresh returns a new pair and kills the
    old refresh token. Clients from `twcreds.load_client` refresh it themselves and write
    the new pair back to the file it came from.
    """

    client_id: _Str
    client_secret: _OptSecret = None
    access_token: _Secret
    refresh_token: _OptSecret = None
    expires_at: _Time
    scopes: _Scopes = Field(default=(), validation_alias=AliasChoices("scopes", "scope"))
    screen_name: _ScreenName = None
    user_id: _OptStr = None

    @field_serializer("client_secret", "access_token", "refresh_token", when_used="json")
    def _reveal_secrets(self, value: SecretStr | None) -> str | None:
        return None if value is None else value.get_secret_value()

    @property
    def app(self) -> OAuth2App:
        """The client half of these credentials."""
        return OAuth2App.model_construct(client_id=self.client_id, client_secret=self.client_secret)

    @property
    def kind(self) -> str:
        """``"OAuth 2.0"``: for messages and listings."""
        return "OAuth 2.0"

    def expires_within(self, seconds: float, *, now: datetime | None = None) -> bool:
        """Whether the access token expires within ``seconds`` from ``now`` (or has expired)."""
        moment = now or datetime.now(timezone.utc)
        return self.expires_at <= moment + timedelta(seconds=seconds)

    def missing_scopes(self, needed: Iterable[str] = POSTING_SCOPES) -> tuple[str, ...]:
        """The scopes of ``needed`` this account was not granted (``()`` when unknown)."""
        if not self.scopes:
            return ()
        return tuple(scope for scope in needed if scope not in self.scopes)


class BearerToken(_Model):
    """An app-only bearer token (the console's "Bearer Token"): reads public data, cannot post.

    It acts for the app, not for any user, so it is never an account: `load_accounts` and
    `load_clients` never return one (a loop over accounts posts from each). Load it with
    `twcreds.load_bearer_tokens`; ``make_client(bearer)`` gives an app-only client.
    """

    bearer_token: _Secret
    consumer_key: _OptStr = Field(
        default=None, validation_alias=AliasChoices(*ALIASES["consumer_key"])
    )

    @field_serializer("bearer_token", when_used="json")
    def _reveal_secrets(self, value: SecretStr) -> str:
        return value.get_secret_value()

    @property
    def label(self) -> str:
        """``app <consumer key>`` when known, else ``(app-only bearer token)``: for messages."""
        if self.consumer_key is not None:
            return f"app {self.consumer_key}"
        return "(app-only bearer token)"

    @property
    def kind(self) -> str:
        """``"app-only"``: for messages and listings."""
        return "app-only"


#: Either kind of user account.
AnyAccount = Union[Account, OAuth2Account]  # noqa: UP007 - a runtime alias, also for 3.10


def is_oauth2_record(data: object) -> bool:
    """Whether a raw record is an OAuth 2.0 account: it has ``client_id`` and no consumer key."""
    return isinstance(data, Mapping) and "client_id" in data and _CONSUMER_NAMES.isdisjoint(data)


_BEARER_KEYS = frozenset({"bearer_token", *_CONSUMER_NAMES})


def is_bearer_record(data: object) -> bool:
    """Whether a raw record is an app-only bearer token alone (with its app's consumer values).

    Such a record is no account: account loaders pass over it, `load_bearer_tokens` reads it.
    """
    return isinstance(data, Mapping) and "bearer_token" in data and _BEARER_KEYS.issuperset(data)


def _kind_of(value: object) -> str:
    if isinstance(value, OAuth2Account) or (
        not isinstance(value, Account) and is_oauth2_record(value)
    ):
        return "oauth2"
    return "oauth1"


_TaggedAccount = Annotated[
    Union[Annotated[Account, Tag("oauth1")], Annotated[OAuth2Account, Tag("oauth2")]],  # noqa: UP007
    Discriminator(_kind_of),
]
_KIND_TAGS = frozenset({"oauth1", "oauth2"})


def names_of(accounts: Iterable[AnyAccount | str], *, limit: int = 10) -> str:
    """The accounts' labels for a message, cut after ``limit``: ``@a, @b and 3 more``.

    A string is taken as a label already made (``[2] @bot``, say); an account gives its own.
    """
    labels = [item if isinstance(item, str) else item.label for item in accounts]
    if len(labels) <= limit:
        return ", ".join(labels)
    return ", ".join(labels[:limit]) + f" and {len(labels) - limit} more"


def _normalize_name(name: str) -> str:
    return name.strip(_STRIP).removeprefix("@").casefold()


class AccountList(_Frozen, _Validating, RootModel[list[_TaggedAccount]]):
    """Several accounts, as in the guide's multi-account JSON list; of either kind.

    Supports ``len()``, iteration, and ``accounts[i]`` by index or
    ``accounts["name"]`` by screen name (case-insensitive, ``@`` optional). A name that
    an OAuth 1.0a and an OAuth 2.0 account share is a `CredentialsError` listing both by
    index: choose one by its index.
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    def __init__(self, root: Any = (), /, **data: Any) -> None:
        try:
            if data:
                super().__init__(**data)
            else:
                # RootModel's __init__ (next in line after _Validating) takes the root.
                super().__init__(list(root) if isinstance(root, tuple) else root)  # type: ignore[call-arg]
            return
        except ValidationError as exc:
            error = self._error(exc, root)
        raise error from None

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """Copy the list; unlike pydantic's, an updated ``root`` is validated too.

        Raises:
            CredentialsError: an account in the update is invalid, or two are the same.
        """
        if not update:
            return super().model_copy(deep=deep)
        return type(self)(update.get("root", self.root))

    @model_validator(mode="after")
    def _no_duplicates(self) -> Self:
        duplicate = find_duplicate(self.root)
        if duplicate is not None:
            raise PydanticCustomError("duplicate_account", "{detail}", {"detail": duplicate})
        return self

    def __iter__(self) -> Iterator[AnyAccount]:  # type: ignore[override]
        return iter(self.root)

    def __len__(self) -> int:
        return len(self.root)

    def __getitem__(self, key: int | str) -> AnyAccount:
        if isinstance(key, str):
            wanted = _normalize_name(key)
            found = [
                index
                for index, account in enumerate(self.root)
                if account.screen_name is not None and account.screen_name.casefold() == wanted
            ]
            if len(found) == 1:
                return self.root[found[0]]
            if found:
                both = names_of(f"[{i}] ({self.root[i].kind})" for i in found)
                msg = (
                    f"@{self.root[found[0]].screen_name} names {len(found)} accounts: {both};"
                    " choose one by its index"
                )
                raise CredentialsError(msg)
            known = names_of(a for a in self.root if a.screen_name) or "none has a screen name"
            raise KeyError(f"no account named @{wanted} (accounts: {known})")
        return self.root[key]

    @property
    def names(self) -> list[str | None]:
        """The screen names, in order; ``None`` for an account without one."""
        return [account.screen_name for account in self.root]


def find_duplicate(accounts: Sequence[AnyAccount], *, per_app: bool = False) -> str | None:
    """Describe the first pair of accounts sharing an access token or screen name.

    Judged per kind: one user may be authorized both with OAuth 1.0a and with OAuth 2.0;
    with ``per_app``, per app as well (a peer tool's file keeps one user's accounts of
    several apps).
    """
    tokens: dict[object, int] = {}
    names: dict[object, int] = {}
    for index, account in enumerate(accounts):
        if isinstance(account, Account):
            token: object = account.access_token
            kind = "oauth1"
        else:
            token, kind = ("oauth2", account.access_token.get_secret_value()), "oauth2"
        first = tokens.setdefault(token, index)
        if first != index:
            return (
                f"accounts [{first}] and [{index}] have the same access token;"
                " keep only one of them"
            )
        if account.screen_name is not None:
            app = ""
            if per_app:
                app = account.consumer_key if isinstance(account, Account) else account.client_id
            first = names.setdefault((kind, app, account.screen_name.casefold()), index)
            if first != index:
                return (
                    f"accounts [{first}] and [{index}] have the same screen name"
                    f" @{account.screen_name}; keep only one of them"
                )
    return None


def _app_of(value: object) -> object:
    return value.app if isinstance(value, Account | OAuth2Account) else value


class PendingAuthorization(_Model):
    """The state between the two halves of the PIN flow; save it to finish elsewhere."""

    auth_url: _Str
    oauth_token: _Str
    oauth_token_secret: _Secret
    app: Annotated[App, BeforeValidator(_app_of)]
    api_base: _OptStr = None

    @field_serializer("oauth_token_secret", when_used="json")
    def _reveal_secrets(self, value: SecretStr) -> str:
        return value.get_secret_value()


class PendingOAuth2Authorization(_Model):
    """The state between the two halves of the PKCE flow; save it to finish elsewhere.

    It holds the PKCE code verifier, the one proof that the code X sends back was asked for
    by this program: keep it as privately as a token.
    """

    auth_url: _Str
    state: _Str
    code_verifier: _Secret
    redirect_uri: _Str
    scopes: _Scopes
    app: Annotated[OAuth2App, BeforeValidator(_app_of)]
    api_base: _OptStr = None

    @field_serializer("code_verifier", when_used="json")
    def _reveal_secrets(self, value: SecretStr) -> str:
        return value.get_secret_value()


# --- error messages --------------------------------------------------------------------

_WHAT = {
    "consumer_key": "the app's API Key (consumer key), from the developer portal's Keys and"
    " tokens page",
    "consumer_secret": "the app's API Key Secret (consumer secret), from the developer portal's"
    " Keys and tokens page",
    "access_token": "the account's Access Token (oauth_token), from the developer portal"
    " or `twcreds authorize`",
    "access_token_secret": "the account's Access Token Secret (oauth_token_secret), from the"
    " developer portal or `twcreds authorize`",
    "screen_name": "the account's screen name",
    "user_id": "the account's numeric user id",
    "bearer_token": "the app's Bearer Token, from the developer console's Keys and tokens page",
    "client_id": "the app's OAuth 2.0 Client ID, from the developer console's Keys and tokens page",
    "client_secret": "the app's OAuth 2.0 Client Secret, from the developer console's Keys and"
    " tokens page",
    "refresh_token": "the account's refresh token, from `twcreds authorize --oauth2`",
    "expires_at": "when the access token expires (ISO 8601 with a time zone, such as"
    " 2026-12-07T15:00:00Z, or seconds since 1970)",
    "scopes": "the scopes the account granted (a list, or a space-separated string)",
}


#: What differs for an OAuth 2.0 record.
_WHAT_OAUTH2 = {
    "access_token": "the account's OAuth 2.0 access token, from `twcreds authorize --oauth2`",
}


def _fix(field: str, verb: str, record: object = None) -> str:
    if is_oauth2_record(record) and field in _WHAT_OAUTH2:
        return f"{verb} {_WHAT_OAUTH2[field]}"
    if field in _WHAT:
        return f"{verb} {_WHAT[field]}"
    # The rest are the pending flows', which only a new authorization can mend.
    return "start the authorization again"


#: Every name a record may use -> its field, both kinds (for spelling hints).
_VOCABULARY: dict[str, str] = {**OAUTH2_ALIASES, **CANONICAL, "bearer_token": "bearer_token"}


def _closest_field(key: str) -> str | None:
    """The canonical field an unknown key most likely misspells, if any is close enough."""
    folded = key.strip().lower().replace("-", "_").replace(" ", "_")
    best, score = None, 0.0
    for alias, name in _VOCABULARY.items():
        ratio = difflib.SequenceMatcher(None, folded, alias).ratio()
        if ratio > score:
            best, score = name, ratio
    return best if score >= 0.75 else None


def did_you_mean(
    record: Mapping[str, Any],
    missing: str,
    names: Mapping[str, str] | None = None,
) -> str | None:
    """Name an unknown key of ``record`` that looks like a misspelling of ``missing``.

    Args:
        record: the raw input.
        missing: the canonical name of the missing field.
        names: input key -> the source's own name for it (``TWITTER_ACCES_TOKEN``), if any.
    """
    names = names or {}
    for key in record:
        if isinstance(key, str) and key not in _VOCABULARY and _closest_field(key) == missing:
            return f"found {names.get(key, key)!r}: did you mean {names.get(missing, missing)!r}?"
    return None


def describe_error(
    error: Mapping[str, Any],
    record: object = None,
    names: Mapping[str, str] | None = None,
    *,
    fields: Collection[str] = (),
) -> str:
    """Turn one pydantic error into a message that never holds the value.

    Args:
        error: one item of ``ValidationError.errors()``, its ``loc`` relative to the record.
        record: the raw input of the record, to look for misspelled keys.
        names: input or canonical key -> the source's own name for it, for the message.
        fields: the model's own field names, which are not aliases even when they look
            like one (`PendingAuthorization.oauth_token`).
    """
    names = names or {}
    path = [part for part in error.get("loc", ()) if isinstance(part, str)]
    kind = error.get("type", "")
    if kind == "user_id_mismatch":
        path = ["user_id"]
    key = path[-1] if path else ""
    field = key if len(path) == 1 and key in fields else _VOCABULARY.get(key, key)
    shown = names.get(key) or names.get(field) or ".".join(path)
    if kind == "missing":
        hint = did_you_mean(record, field, names) if isinstance(record, Mapping) else None
        return f"{shown} is missing; " + (hint or _fix(field, "add it:", record))
    if kind == "empty":
        return f"{shown} is empty; " + _fix(field, "fill in", record)
    if kind == "not_a_string":
        return f"{shown} {error.get('msg', 'must be a string')}; write the value as a string"
    if kind == "too_long":
        length = error.get("msg", "is too long").removeprefix("is ")
        return (
            f"{shown} is {length}, longer than any Twitter credential"
            f" ({MAX_VALUE_LENGTH:,} at most); " + _fix(field, "copy in just", record)
        )
    if kind == "inner_whitespace":
        return (
            f"{shown} contains a space, line break or control character inside the value;"
            " copy it again from the developer portal"
        )
    if kind == "shell_variable":
        return (
            f"{shown} contains '$', '{{' or '}}', as a shell variable does; twcreds reads"
            " values as written and expands no variable: write the value itself, or export"
            " the variable in your shell and let twcreds read it from the environment"
        )
    if kind == "not_a_time":
        return f"{shown} is not a time; " + _fix("expires_at", "write")
    if kind == "naive_time":
        return (
            f"{shown} has no time zone, so it could be any of 24 hours; add one"
            " (2026-12-07T15:00:00Z or +00:00)"
        )
    if kind in ("not_scopes", "bad_scope"):
        return (
            f'{shown} must be a list of scopes (such as ["tweet.read", "users.read"]) or'
            " a space-separated string of them"
        )
    if kind == "user_id_mismatch":
        return (
            f"{shown} does not match the access token, which starts with its account's user id"
            " and a '-'; the two belong to different accounts: copy both from the same account"
        )
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        where = f"{shown} " if path else ""
        return f"{where}must be an object of credentials (a JSON object with named values)"
    if kind == "list_type":
        return "must be a list of accounts"
    if kind == "json_invalid":
        detail = error.get("msg", "")
        return f"is not valid JSON ({detail}); fix it, or check it with `python -m json.tool`"
    if kind == "duplicate_account":
        return str(error.get("msg", ""))
    message = str(error.get("msg", "is invalid"))
    return f"{shown} is invalid: {message}" if path else message


def credentials_error(
    exc: ValidationError, where: str, data: object, *, fields: Collection[str] = ()
) -> CredentialsError:
    """Build one `CredentialsError` from a pydantic ``ValidationError``.

    Args:
        exc: the error; its inputs are never read.
        where: what to name first, e.g. ``"Account"``.
        data: the raw input, used only to look for misspelled keys and screen names.
        fields: the model's own field names (see `describe_error`).
    """
    parts = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = strip_kind_tags(error.get("loc", ()))
        record: object = data
        prefix = ""
        if loc and isinstance(loc[0], int):
            index = loc[0]
            items = data if isinstance(data, Sequence) and not isinstance(data, str) else None
            record = items[index] if items is not None and index < len(items) else None
            prefix = f"[{index}]{name_suffix(record)}: "
            error = {**error, "loc": loc[1:]}
        parts.append(prefix + describe_error(error, record, fields=fields))
    return CredentialsError(f"{where}: " + "; ".join(parts))


def strip_kind_tags(loc: Sequence[Any]) -> tuple[Any, ...]:
    """A pydantic error location without the union's kind tags (``oauth1``, ``oauth2``)."""
    return tuple(part for part in loc if part not in _KIND_TAGS)


def name_suffix(record: object) -> str:
    """`` (@name)`` for a raw record with a plausible screen name, else ``""``."""
    if isinstance(record, Mapping):
        name = record.get("screen_name")
        if isinstance(name, str) and _SAFE_NAME.fullmatch(name.strip(_STRIP)):
            return f" (@{name.strip(_STRIP).removeprefix('@')})"
    return ""
