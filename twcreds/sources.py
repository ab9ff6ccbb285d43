"""Loaders that act: safe file reads, the default chain, one validation step, account choice.

The formats themselves (text <-> records) are `twcreds.formats`; this module reads files
safely (`read_bytes`), follows the default chain (`find_source`), turns records of every
format into models in one step (`validate_records`), so that all formats share the same
rules and messages, and picks one account (`select_account`).
"""

from __future__ import annotations

import os
import re
import stat
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from twcreds._fastload import load_json_list
from twcreds.errors import (
    CredentialsError,
    CredentialsNotFoundError,
    InsecurePermissionsWarning,
    printable,
)
from twcreds.formats import (
    BEARER_READERS,
    BEARER_VARIABLE,
    FORMATS,
    Format,
    Parsed,
    Record,
    decode,
    guess_format,
    read_bearer_environ,
    read_env,
    read_environ,
    read_json,
    read_lines,
)
from twcreds.models import (
    _STRIP,
    ALIASES,
    CANONICAL,
    Account,
    AccountList,
    AnyAccount,
    App,
    BearerToken,
    OAuth2Account,
    OAuth2App,
    describe_error,
    find_duplicate,
    is_bearer_record,
    is_oauth2_record,
    names_of,
    strip_kind_tags,
)

__all__ = [
    "MAX_FILE_SIZE",
    "Format",
    "StrPath",
    "default_store_path",
    "find_source",
    "load_account",
    "load_accounts",
    "load_app",
    "load_bearer_tokens",
    "load_oauth2_app",
    "locate_account",
    "locate_accounts",
    "parse_source",
    "read_bytes",
    "read_source",
    "select_account",
    "validate_app",
    "validate_records",
]

StrPath = str | os.PathLike[str]
AppT = TypeVar("AppT", App, OAuth2App)

#: Files larger than this are refused before they are read: no credentials file comes close.
MAX_FILE_SIZE = 16 * 1024 * 1024

# Input names that are only aliases (api_key, oauth_token, ...): a record naming none of
# them cannot give one value twice, which keeps the check below off the common path.
_ALIAS_ONLY = frozenset(CANONICAL) - frozenset(ALIASES)
_ACCOUNTS_ADAPTER: TypeAdapter[list[Account]] | None = None
_OAUTH2_ADAPTER: TypeAdapter[list[OAuth2Account]] | None = None


# --- reading files ---------------------------------------------------------------------


def read_bytes(path: Path) -> bytes:
    """Read a credentials file, refusing anything that is not a regular, sane-sized file.

    Warns with `InsecurePermissionsWarning` if other users may read or write it.

    Raises:
        CredentialsNotFoundError: the file does not exist.
        CredentialsError: it cannot be read, is not a regular file, or is too large.
    """
    # O_NONBLOCK: opening a FIFO must not wait for a writer; we refuse it right after.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        msg = f"{path}: no such file; check the path"
        raise CredentialsNotFoundError(msg) from None
    except PermissionError:
        msg = f"{path}: permission denied; make it readable by you: `chmod 600 {path}`"
        raise CredentialsError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot open it ({exc.strerror or type(exc).__name__})"
        raise CredentialsError(msg) from None
    except ValueError:  # os.open's answer to a NUL character in the path
        msg = f"{path!r}: a path cannot contain a NUL character; check where it comes from"
        raise CredentialsError(msg) from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            msg = f"{path}: is a directory; name the credentials file inside it"
            raise CredentialsError(msg)
        if not stat.S_ISREG(info.st_mode):
            msg = f"{path}: not a regular file (a pipe, socket or device); name a credentials file"
            raise CredentialsError(msg)
        if info.st_size > MAX_FILE_SIZE:
            msg = (
                f"{path}: {info.st_size:,} bytes is larger than the {MAX_FILE_SIZE:,}-byte limit"
                " for a credentials file; is this the right file?"
            )
            raise CredentialsError(msg)
        if os.name == "posix" and info.st_mode & 0o077:
            _warn_insecure(path)
        data = _read_to_end(fd, info.st_size)
    except OSError as exc:
        msg = f"{path}: cannot read it ({exc.strerror or type(exc).__name__})"
        raise CredentialsError(msg) from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_SIZE:
        msg = f"{path}: larger than the {MAX_FILE_SIZE:,}-byte limit for a credentials file"
        raise CredentialsError(msg)
    return data


def _read_to_end(fd: int, size: int) -> bytes:
    """The file's bytes, at most one past `MAX_FILE_SIZE`, in a buffer of its own size.

    ``size + 1`` bytes are asked for first: a file that has grown since it was measured
    fills them, and only then is more read, in steps that double, until the end or one
    byte past the limit. (Asking for the limit at once would reserve 16 MiB per read.)
    """
    chunks: list[bytes] = []
    total = 0
    want = size + 1
    while total <= MAX_FILE_SIZE:
        want = min(want, MAX_FILE_SIZE + 1 - total)
        chunk = os.read(fd, want)
        chunks.append(chunk)
        total += len(chunk)
        if len(chunk) < want:  # a regular file reads short only at its end
            break
        want = max(total, 64 * 1024)
    return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _warn_insecure(path: Path) -> None:
    msg = (
        f"{path}: readable or writable by other users; "
        f"run `chmod 600 {path}` so that only you can read your credentials"
    )
    warnings.warn(msg, InsecurePermissionsWarning, stacklevel=_caller_stacklevel())


def _caller_stacklevel() -> int:
    """The stack level of the first frame outside twcreds, so warnings point at user code."""
    frame = sys._getframe(1)
    level = 1
    package = os.path.dirname(__file__) + os.sep
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


# --- validation ------------------------------------------------------------------------


def _accounts_adapter() -> TypeAdapter[list[Account]]:
    global _ACCOUNTS_ADAPTER
    if _ACCOUNTS_ADAPTER is None:  # built on first use: it costs milliseconds at import
        _ACCOUNTS_ADAPTER = TypeAdapter(list[Account])
    return _ACCOUNTS_ADAPTER


def validate_records(parsed: Parsed) -> AccountList:
    """Validate every record in one step; a failure names the record and the value's place.

    Raises:
        CredentialsError: a value is missing or malformed, there are no accounts, or two
            accounts are the same.
    """
    if parsed.app is not None:
        validate_app(parsed.app)
    # An app-only bearer token beside the accounts is no account (load_bearer_tokens).
    records = [record for record in parsed.records if not is_bearer_record(record.data)]
    if not records and parsed.records:
        msg = (
            f"{parsed.label}: holds only app-only bearer tokens, which cannot act for an"
            " account; load them with load_bearer_tokens(), or add an account"
        )
        raise CredentialsError(msg)
    if not records:
        if parsed.app is not None:
            names = parsed.app.names
            token = names.get("access_token", "the access token")
            secret = names.get("access_token_secret", "the access token secret")
            msg = (
                f"{parsed.label}: holds only an app's consumer key and secret, no account;"
                f" add {token} and {secret}, or run `twcreds authorize` to authorize one"
            )
            raise CredentialsError(msg)
        raise CredentialsError(f"{parsed.label}: no accounts in it; add at least one")
    oauth2 = [is_oauth2_record(record.data) for record in records]
    values = []
    for record, is_oauth2 in zip(records, oauth2, strict=True):
        data = record.data
        if not is_oauth2 and type(data) is dict and not _ALIAS_ONLY.isdisjoint(data):
            _check_aliases(record)
        values.append(data)
    try:
        accounts: list[AnyAccount]
        if any(oauth2):
            accounts = _validate_mixed(values, records, oauth2)
        else:
            accounts = list(_accounts_adapter().validate_python(values))
    except ValidationError as exc:
        error = _located_error(exc, records)
    except CredentialsError as exc:
        error = exc
    else:
        duplicate = find_duplicate(accounts)
        if duplicate is None:
            return AccountList.model_construct(accounts)
        error = CredentialsError(f"{parsed.label}: {duplicate}")
    raise error from None


def _oauth2_adapter() -> TypeAdapter[list[OAuth2Account]]:
    global _OAUTH2_ADAPTER
    if _OAUTH2_ADAPTER is None:
        _OAUTH2_ADAPTER = TypeAdapter(list[OAuth2Account])
    return _OAUTH2_ADAPTER


def _validate_mixed(
    values: list[Any], records: Sequence[Record], oauth2: Sequence[bool]
) -> list[AnyAccount]:
    """Validate a list holding both kinds, each with its own model, keeping the order.

    Raises:
        CredentialsError: every error of both kinds, each at its record's place.
    """
    results: dict[int, AnyAccount] = {}
    problems: list[str] = []
    for kind in (False, True):
        where = [i for i, is_oauth2 in enumerate(oauth2) if is_oauth2 is kind]
        if not where:
            continue
        adapter = _oauth2_adapter() if kind else _accounts_adapter()
        try:
            validated = adapter.validate_python([values[i] for i in where])
        except ValidationError as exc:
            problems.append(str(_located_error(exc, [records[i] for i in where])))
            continue
        results.update(zip(where, validated, strict=True))
    if problems:
        raise CredentialsError("; ".join(problems))
    return [results[i] for i in range(len(values))]


def _check_aliases(record: Record, fields: Collection[str] = ALIASES.keys()) -> None:
    """Refuse two names for one value (``consumer_key`` and ``api_key``) that disagree.

    pydantic would silently take the first name it knows; with two different values, one
    of them is stale, and signing with it earns a bare 401 later.
    """
    data: dict[Any, Any] = record.data
    keys_of: dict[str, list[str]] = {}
    for key in data:
        if isinstance(key, str) and CANONICAL.get(key) in fields:
            keys_of.setdefault(CANONICAL[key], []).append(key)
    for field, keys in keys_of.items():
        first = _comparable(data[keys[0]])
        if any(_comparable(data[key]) != first for key in keys[1:]):
            shown = " and ".join(repr(record.names.get(key, key)) for key in keys)
            place = record.places.get(keys[-1], record.where)
            msg = (
                f"{place}: {shown} both give the {field.replace('_', ' ')}, with different"
                " values; keep only one of them"
            )
            raise CredentialsError(msg)


def _comparable(value: object) -> object:
    return value.strip(_STRIP) if isinstance(value, str) else value


def validate_app(record: Record) -> App | OAuth2App:
    """Validate an app section, a 2-line file, or the app half of an account record.

    A record with ``client_id`` (and no consumer key) is an OAuth 2.0 client.

    Raises:
        CredentialsError: the consumer key or secret (or the client id) is missing or
            malformed.
    """
    if is_oauth2_record(record.data):
        model: type[App | OAuth2App] = OAuth2App
    else:
        model = App
        if isinstance(record.data, dict) and not _ALIAS_ONLY.isdisjoint(record.data):
            _check_aliases(record, ("consumer_key", "consumer_secret"))
    try:
        return model.__pydantic_validator__.validate_python(record.data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        error = _located_error(exc, [record], indexed=False)
    raise error from None


def _located_error(
    exc: ValidationError, records: Sequence[Record], *, indexed: bool = True
) -> CredentialsError:
    """One message for every error: ``<place>: <what>; <how to fix>``, joined by ``; ``."""
    parts: list[str] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = strip_kind_tags(error["loc"])
        record = records[loc[0]] if indexed and isinstance(loc[0], int) else records[0]
        if indexed:
            loc = loc[1:]
        key = loc[0] if loc and isinstance(loc[0], str) else None
        if error["type"] == "user_id_mismatch":
            key = "user_id"
        place = record.places.get(key, record.where) if key else record.where
        message = describe_error({**error, "loc": loc}, record.data, record.names)
        parts.append(f"{place}: {message}")
    return CredentialsError("; ".join(parts))


# --- loaders ---------------------------------------------------------------------------


def default_store_path() -> Path:
    """The user's credentials store: ``<user config dir>/twcreds/accounts.json``."""
    import platformdirs  # lazy: keep `import twcreds` fast

    return Path(platformdirs.user_config_dir()) / "twcreds" / "accounts.json"


def _check_format(format: str | None) -> None:
    if format is not None and format not in FORMATS:
        msg = f"format={format!r} is not a credentials format; use 'json', 'lines' or 'env'"
        raise CredentialsError(msg)


def read_source(
    source: StrPath, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> Parsed:
    """Read a file of any format into records, without validating them.

    Raises:
        CredentialsNotFoundError: the file does not exist.
        CredentialsError: it cannot be read or parsed.
    """
    path, text = _read_text(source, format)
    return _parse_text(path, text, format, prefix)


def _read_text(source: StrPath, format: Format | None) -> tuple[Path, str]:
    _check_format(format)
    path = Path(os.fspath(source)).expanduser()
    label = str(path)
    text = decode(read_bytes(path), label)
    if not text.strip(_STRIP):
        raise CredentialsError(f"{label}: is empty; no accounts in it")
    return path, text


def _parse_text(path: Path, text: str, format: Format | None, prefix: str) -> Parsed:
    label = str(path)
    fmt = format or guess_format(path, text)
    if fmt == "json":
        return replace(read_json(text, label), path=path)
    if fmt == "env":
        parsed = read_env(text, label, prefix)
        if parsed is None:
            msg = (
                f"{label}: defines no {prefix}* credentials;"
                f" set {prefix}CONSUMER_KEY, {prefix}CONSUMER_SECRET, {prefix}ACCESS_TOKEN"
                f" and {prefix}ACCESS_TOKEN_SECRET, or pass the prefix it uses (prefix=...)"
            )
            raise CredentialsError(msg)
        return parsed
    return read_lines(text, label)


def find_source(
    *,
    format: Format | None = None,
    prefix: str = "TWITTER_",
    environ: Mapping[str, str] | None = None,
) -> Parsed:
    """Follow the default chain; the first place holding credentials wins.

    ``TWCREDS_FILE`` (read as ``format``, if given); the ``{prefix}*`` environment
    variables; ``./.env`` if it defines them; the user store.

    Raises:
        CredentialsNotFoundError: ``TWCREDS_FILE`` names a missing file, or nothing was
            found anywhere (the message lists every place looked at).
        CredentialsError: the first place found cannot be read or parsed.
    """
    env = os.environ if environ is None else environ
    named = env.get("TWCREDS_FILE", "").strip()
    if named:
        try:
            return read_source(named, format=format, prefix=prefix)
        except CredentialsNotFoundError:
            path = Path(named).expanduser()
            msg = f"TWCREDS_FILE names {path}, which does not exist; fix or unset TWCREDS_FILE"
            raise CredentialsNotFoundError(msg) from None
    from_env = read_environ(env, prefix)
    if from_env is not None:
        return from_env
    dotenv = Path(".env")
    if dotenv.is_file():
        label = str(dotenv)
        found = read_env(decode(read_bytes(dotenv), label), label, prefix, blank_ok=False)
        if found is not None:
            return found
    store = default_store_path()
    try:
        return read_source(store, format="json", prefix=prefix)
    except CredentialsNotFoundError:
        pass
    msg = (
        "no Twitter credentials found; looked at: TWCREDS_FILE (not set); "
        f"the environment ({prefix}CONSUMER_KEY, {prefix}ACCESS_TOKEN, ... not set); "
        f"{Path.cwd() / '.env'} (no {prefix}* values); {store} (no such file). "
        "Pass a file, set TWCREDS_FILE, or run `twcreds authorize` to create the store"
    )
    raise CredentialsNotFoundError(msg)


def parse_source(
    source: StrPath | None, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> Parsed:
    """Read a source, or the default chain if it is None, into records, without validating.

    Raises:
        CredentialsNotFoundError: nothing at the source or along the chain.
        CredentialsError: the first place found cannot be read or parsed.
    """
    if source is None:
        _check_format(format)
        return find_source(format=format, prefix=prefix)
    return read_source(source, format=format, prefix=prefix)


def load_accounts(
    source: StrPath | None = None, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> AccountList:
    """Load every account from a source (a path), or from the default chain if it is None.

    Args:
        source: a JSON, lines or .env file; None follows ``TWCREDS_FILE``, the environment,
            ``./.env`` and the user store, in that order.
        format: ``"json"``, ``"lines"`` or ``"env"``; None takes it from the file name,
            else from the content. With no source it applies to ``TWCREDS_FILE`` only.
        prefix: the variable prefix for .env files and the environment.

    Raises:
        CredentialsNotFoundError: nothing at the source or along the chain.
        CredentialsError: the credentials are malformed, empty or duplicated.
    """
    return _load(source, format, prefix)[1]


def _load(
    source: StrPath | None, format: Format | None, prefix: str
) -> tuple[str, AccountList, Path | None]:
    """`parse_source` then `validate_records`: the label, the accounts, the JSON file's path.

    A file's text goes first to the fast path (`twcreds._fastload`), which takes only a
    JSON list of clean, plain OAuth 1.0a accounts; whatever it does not take, valid or not,
    goes the precise way, which owns every message.
    """
    if source is not None:
        path, text = _read_text(source, format)
        if (format or guess_format(path, text)) == "json":
            accounts = load_json_list(text)
            if accounts is not None:
                return str(path), accounts, path
        parsed = _parse_text(path, text, format, prefix)
    else:
        parsed = parse_source(source, format=format, prefix=prefix)
    return parsed.label, validate_records(parsed), parsed.path


def select_account(
    accounts: AccountList,
    account: str | int | None,
    label: str,
    environ: Mapping[str, str] | None = None,
) -> AnyAccount:
    """Pick one account: by ``account``, else ``TWCREDS_ACCOUNT``, else the only one.

    Raises:
        CredentialsError: no account matches, or there are several and no choice.
        TypeError: ``account`` is neither a screen name nor an index.
    """
    env = os.environ if environ is None else environ
    names = names_of(accounts)
    if account is None:
        choice = env.get("TWCREDS_ACCOUNT", "").strip()
        if choice:
            try:
                return accounts[choice]
            except KeyError:
                pass
            if _INDEX.fullmatch(choice):
                return _by_index(accounts, choice, label, names, "TWCREDS_ACCOUNT")
            wanted = _shown(choice.removeprefix("@"))
            msg = (
                f"TWCREDS_ACCOUNT names @{wanted}, which is not in {label} (accounts: {names});"
                " set it to one of those, or to an index"
            )
            raise CredentialsError(msg)
        if len(accounts) == 1:
            return accounts[0]
        msg = (
            f"{label} holds {len(accounts)} accounts ({names}); choose one with"
            " account='name' or the TWCREDS_ACCOUNT environment variable"
        )
        raise CredentialsError(msg)
    if isinstance(account, bool) or not isinstance(account, int | str):
        msg = f"account must be a screen name (str) or an index (int), not {type(account).__name__}"
        raise TypeError(msg)
    if isinstance(account, int):
        return _by_index(accounts, account, label, names, "account")
    try:
        return accounts[account]
    except KeyError:
        wanted = account.strip().removeprefix("@")
        hint = ""
        if _INDEX.fullmatch(wanted) and len(wanted) < 20:
            hint = f"; to pick by position, pass account={wanted} (an int)"
        msg = f"{label} has no account @{_shown(wanted)} (accounts: {names}){hint}"
        raise CredentialsError(msg) from None


# An index is ASCII digits: str.isdigit() and \d also take the Arabic-Indic digits and "²".
_INDEX = re.compile(r"-?[0-9]+")


def _shown(text: str, limit: int = 40) -> str:
    """A name given by the user, for a message: control characters escaped, cut if long."""
    return printable(text if len(text) <= limit else text[:limit] + "...")


def _by_index(
    accounts: AccountList, index: int | str, label: str, names: str, what: str
) -> AnyAccount:
    """The account at ``index``; a str is ASCII digits, of any length."""
    # int() and str() of thousands of digits raise ValueError (CPython's digit limit): no
    # list is that long, so a number of more than 18 digits is out of range, unconverted.
    if isinstance(index, str):
        shown = index if len(index) <= 18 else f"a {len(index):,}-digit number"
        index = int(index) if len(index) <= 18 else len(accounts)
    else:
        shown = str(index) if abs(index) < 10**18 else "a huge number"
    if -len(accounts) <= index < len(accounts):
        return accounts[index]
    msg = (
        f"{what}={shown} is out of range: {label} holds {len(accounts)} accounts ({names});"
        f" use 0 to {len(accounts) - 1} or a screen name"
    )
    raise CredentialsError(msg)


def load_account(
    source: StrPath | None = None,
    *,
    account: str | int | None = None,
    format: Format | None = None,
    prefix: str = "TWITTER_",
) -> AnyAccount:
    """Load one account: ``account`` (screen name or index), ``TWCREDS_ACCOUNT``, or the only one.

    Args:
        source: a file, or None for the default chain (see `load_accounts`).
        account: a screen name (case-insensitive, ``@`` optional) or an index.
        format: ``"json"``, ``"lines"`` or ``"env"``; None guesses.
        prefix: the variable prefix for .env files and the environment.

    Raises:
        CredentialsNotFoundError: nothing at the source or along the chain.
        CredentialsError: malformed credentials, an unknown account, or several accounts
            and no choice.
    """
    return locate_account(source, account=account, format=format, prefix=prefix)[0]


def locate_accounts(
    source: StrPath | None = None, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> tuple[AccountList, Path | None]:
    """`load_accounts`, and the JSON file they came from (None for other formats).

    That file is where a refreshed OAuth 2.0 token is written back.
    """
    _, accounts, path = _load(source, format, prefix)
    return accounts, path


def locate_account(
    source: StrPath | None = None,
    *,
    account: str | int | None = None,
    format: Format | None = None,
    prefix: str = "TWITTER_",
) -> tuple[AnyAccount, Path | None]:
    """`load_account`, and the JSON file it came from (None for other formats).

    That file is where a refreshed OAuth 2.0 token is written back.
    """
    label, accounts, path = _load(source, format, prefix)
    return select_account(accounts, account, label), path


def load_app(source: StrPath, *, format: Format | None = None, prefix: str = "TWITTER_") -> App:
    """Load an app's consumer key and secret (OAuth 1.0a).

    The source is a 2-line file, a JSON ``{"app": ...}`` section, or any account source
    (its consumer half).

    Raises:
        CredentialsNotFoundError: the file does not exist.
        CredentialsError: no consumer values, or accounts of different apps.
    """
    parsed = read_source(source, format=format, prefix=prefix)
    return _only_app(parsed, App, "consumer key and secret")


def load_oauth2_app(
    source: StrPath | None = None, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> OAuth2App:
    """Load an app's OAuth 2.0 client: ``client_id`` and, for a confidential client, its secret.

    The source is a JSON object with ``client_id`` (and ``client_secret``), a .env file
    with ``{prefix}CLIENT_ID`` (and ``{prefix}CLIENT_SECRET``), or any OAuth 2.0 account
    source; None reads the environment's ``{prefix}CLIENT_ID`` and ``{prefix}CLIENT_SECRET``.

    Raises:
        CredentialsNotFoundError: the file does not exist, or (no source) the variables
            are not set.
        CredentialsError: no client id, or accounts of different clients.
    """
    if source is None:
        from_env = read_environ(os.environ, prefix)
        if from_env is None:
            msg = (
                f"no OAuth 2.0 client in the environment: set {prefix}CLIENT_ID (and"
                f" {prefix}CLIENT_SECRET for a confidential client), or name a file"
            )
            raise CredentialsNotFoundError(msg)
        parsed = from_env
    else:
        parsed = read_source(source, format=format, prefix=prefix)
    return _only_app(parsed, OAuth2App, "OAuth 2.0 client_id (and client_secret)")


def _only_app(parsed: Parsed, kind: type[AppT], what: str) -> AppT:
    """The one app of ``kind`` a source holds: its app section, or its accounts' app half."""
    records = [parsed.app] if parsed.app is not None else parsed.records
    apps = [app for app in (validate_app(record) for record in records) if isinstance(app, kind)]
    if not apps:
        if not records:
            msg = f"{parsed.label}: no app or accounts in it; add the app's {what}"
        else:
            msg = f"{parsed.label}: holds no app {what}; add them, or name the right file"
        raise CredentialsError(msg)
    if any(app != apps[0] for app in apps):
        msg = (
            f"{parsed.label}: its accounts belong to different apps;"
            f" keep the app's {what} in a file of their own"
        )
        raise CredentialsError(msg)
    return apps[0]


# --- app-only bearer tokens ------------------------------------------------------------


def load_bearer_tokens(
    source: StrPath | None = None, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> list[BearerToken]:
    """Load app-only bearer tokens, which `load_accounts` never returns.

    Args:
        source: a JSON file (every object with a ``bearer_token``, with its app's
            ``consumer_key`` if given) or a .env file (``{prefix}BEARER_TOKEN``, and
            ``{prefix}CONSUMER_KEY``); None follows the default chain: ``TWCREDS_FILE``,
            the environment's ``{prefix}BEARER_TOKEN``, ``./.env``, the user store.
        format: the source's format; None takes it from the name or the content.
        prefix: the variable prefix for .env files and the environment.

    Returns:
        The tokens, in the order the source holds them, each once.

    Raises:
        CredentialsNotFoundError: the file does not exist, or nothing along the chain
            holds a bearer token.
        CredentialsError: the source holds no bearer token, or a malformed one.
    """
    if source is not None:
        records, label = _bearer_records(source, format, prefix)
        if not records:
            msg = (
                f'{label}: holds no app-only bearer token; add "bearer_token" (JSON) or'
                f" {prefix}{BEARER_VARIABLE} (.env), from the developer console's Keys and"
                " tokens page"
            )
            raise CredentialsError(msg)
        return _validate_bearer_tokens(records)
    _check_format(format)
    return _validate_bearer_tokens(_find_bearer_records(format, prefix))


def _bearer_records(
    source: StrPath, format: Format | None, prefix: str
) -> tuple[list[Record], str]:
    _check_format(format)
    path = Path(os.fspath(source)).expanduser()
    label = str(path)
    text = decode(read_bytes(path), label)
    if not text.strip(_STRIP):
        raise CredentialsError(f"{label}: is empty; no bearer token in it")
    fmt = format or guess_format(path, text)
    reader = BEARER_READERS.get(fmt)
    if reader is None:
        msg = (
            f"{label}: a {fmt} file holds no app-only bearer token; keep it in a JSON"
            f' file ("bearer_token") or a .env file ({prefix}{BEARER_VARIABLE})'
        )
        raise CredentialsError(msg)
    return reader(text, label, prefix), label


def _find_bearer_records(format: Format | None, prefix: str) -> list[Record]:
    """The default chain, as for accounts; the first place holding a bearer token wins."""
    named = os.environ.get("TWCREDS_FILE", "").strip()
    if named:
        try:
            records, _ = _bearer_records(named, format, prefix)
        except CredentialsNotFoundError:
            path = Path(named).expanduser()
            msg = f"TWCREDS_FILE names {path}, which does not exist; fix or unset TWCREDS_FILE"
            raise CredentialsNotFoundError(msg) from None
        if records:
            return records
    records = read_bearer_environ(os.environ, prefix)
    if records:
        return records
    dotenv = Path(".env")
    if dotenv.is_file():
        records, _ = _bearer_records(dotenv, "env", prefix)
        if records:
            return records
    store = default_store_path()
    if store.is_file():
        records, _ = _bearer_records(store, "json", prefix)
        if records:
            return records
    msg = (
        "no app-only bearer token found; looked at: TWCREDS_FILE"
        f" ({'no bearer_token in it' if named else 'not set'}); the environment"
        f" ({prefix}{BEARER_VARIABLE} not set); {Path.cwd() / '.env'} (no"
        f" {prefix}{BEARER_VARIABLE}); {store} (no bearer_token). Set {prefix}{BEARER_VARIABLE}"
        " or pass a file"
    )
    raise CredentialsNotFoundError(msg)


def _validate_bearer_tokens(records: Sequence[Record]) -> list[BearerToken]:
    tokens: list[BearerToken] = []
    problems: list[str] = []
    for record in records:
        try:
            token = BearerToken.__pydantic_validator__.validate_python(record.data)
        except ValidationError as exc:
            problems.append(str(_located_error(exc, [record], indexed=False)))
            continue
        if token not in tokens:  # an app's token inherited by each of its accounts
            tokens.append(token)
    if problems:
        raise CredentialsError("; ".join(problems))
    return tokens
