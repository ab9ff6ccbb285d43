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
from typing import Any, NamedTuple, TypeVar

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
    OAUTH2_VARIABLES,
    Format,
    Parsed,
    ReadFile,
    Record,
    decode,
    guess_format,
    read_bearer_environ,
    read_env,
    read_environ,
    read_json,
    read_lines,
    read_values,
    variable_names,
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
from twcreds.oskeyring import KEYRING_KEY

__all__ = [
    "CONFIG_DIR_VARIABLE",
    "MAX_FILE_SIZE",
    "Format",
    "StrPath",
    "account_records",
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
    "peer_files",
    "read_bytes",
    "read_directory",
    "read_source",
    "resolve_entries",
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


def value_reader(base: Path | None = None) -> ReadFile:
    """How ``VAR_FILE`` variables are read: safely, as a credentials file, then stripped.

    A relative path is taken from ``base`` (a .env file's folder), else the working folder.
    """

    def read(name: str, variable: str) -> str:
        path = Path(name).expanduser()
        if base is not None and not path.is_absolute():
            path = base / path
        try:
            data = read_bytes(path)
        except CredentialsNotFoundError:
            # Not a fall-through of the chain: the variable says where the value is.
            msg = f"{variable} names {path}, which does not exist; fix the path or unset {variable}"
            raise CredentialsError(msg) from None
        return decode(data, str(path)).strip(_STRIP)

    return read


# Files in a secrets directory named as the JSON keys: OAuth 1.0a's (with their aliases)
# and OAuth 2.0's own.
_OAUTH2_ONLY = frozenset({"client_id", "client_secret", "refresh_token", "expires_at", "scopes"})


def read_directory(directory: Path, prefix: str = "TWITTER_") -> Parsed:
    """Read a secrets directory (``/run/secrets``, a Kubernetes secret volume): a file a value.

    Files are named as the variables (``{prefix}CONSUMER_KEY``, ``..._FILE`` excepted) or
    as the JSON keys (``consumer_key``, ``client_id``, ...); others are ignored, as are
    hidden names (Kubernetes' ``..data``). A symbolic link is followed only while it
    resolves inside the directory, as Kubernetes' links into ``..data/`` do. Each file is
    read as a credentials file (size cap, permission warning), its content stripped.

    Raises:
        CredentialsError: a link leads outside the directory, a file cannot be read, or
            the directory holds no credential.
    """
    label = str(directory)
    root = os.path.realpath(directory)
    variables = variable_names(prefix)
    found: dict[str, Path] = {}
    try:
        names = sorted(os.listdir(directory))
    except OSError as exc:
        msg = f"{label}: cannot list it ({exc.strerror or type(exc).__name__})"
        raise CredentialsError(msg) from None
    for name in names:
        if name.startswith(".") or not (name in variables or name in _KEY_FILES):
            continue
        entry = directory / name
        real = os.path.realpath(entry)
        if os.path.commonpath([root, real]) != root:
            msg = (
                f"{entry}: a link leading outside {label}; refused (a secrets directory"
                " holds its values itself: replace the link by the file)"
            )
            raise CredentialsError(msg)
        found[name] = Path(real)
    keyed = {name for name in found if name in _KEY_FILES}
    oauth2 = "client_id" in keyed and not keyed & {"consumer_key", "api_key", "app_key"}
    values: dict[str, str] = {}
    places: dict[str, str] = {}
    for name, path in found.items():
        var = name if name in variables else _key_variable(name, prefix, oauth2=oauth2)
        if var in values:
            msg = f"{directory / name}: gives {var} a second time; keep one of the files"
            raise CredentialsError(msg)
        values[var] = decode(read_bytes(path), str(directory / name)).strip(_STRIP)
        places[var] = str(directory / name)
    parsed = read_values(label, values, places, prefix)
    if parsed is None:
        msg = (
            f"{label}: is a directory holding no credential files; name them as the variables"
            f" ({prefix}CONSUMER_KEY, ...) or as the JSON keys (consumer_key, ...)"
        )
        raise CredentialsError(msg)
    return replace(parsed, origin="directory")


_KEY_FILES = frozenset({*CANONICAL, *_OAUTH2_ONLY})


def _key_variable(key: str, prefix: str, *, oauth2: bool) -> str:
    """The variable a file named as a JSON key stands for."""
    if key in _OAUTH2_ONLY or (oauth2 and key == "access_token"):
        return f"{prefix}{OAUTH2_VARIABLES[key]}"
    return f"{prefix}{key.upper()}"


# --- validation ------------------------------------------------------------------------


def _accounts_adapter() -> TypeAdapter[list[Account]]:
    global _ACCOUNTS_ADAPTER
    if _ACCOUNTS_ADAPTER is None:  # built on first use: it costs milliseconds at import
        _ACCOUNTS_ADAPTER = TypeAdapter(list[Account])
    return _ACCOUNTS_ADAPTER


def account_records(parsed: Parsed) -> list[Record]:
    """The records that are accounts, in order: what `validate_records` numbers [0], [1], ...

    An app-only bearer token beside the accounts is no account (`load_bearer_tokens`).
    """
    return [record for record in parsed.records if not is_bearer_record(record.data)]


def validate_records(parsed: Parsed) -> AccountList:
    """Validate every record in one step; a failure names the record and the value's place.

    Raises:
        CredentialsError: a value is missing or malformed, there are no accounts, or two
            accounts are the same.
    """
    if parsed.app is not None:
        validate_app(parsed.app)
    records = account_records(parsed)
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
        duplicate = find_duplicate(accounts, per_app=parsed.per_app)
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


#: The variable that puts twcreds' folder (and so the user store) elsewhere.
CONFIG_DIR_VARIABLE = "TWCREDS_CONFIG_DIR"


def default_store_path() -> Path:
    """The user's credentials store: ``<user config dir>/twcreds/accounts.json``.

    ``TWCREDS_CONFIG_DIR``, when set, is the folder instead: the store is
    ``$TWCREDS_CONFIG_DIR/accounts.json`` (``~`` expanded).
    """
    chosen = os.environ.get(CONFIG_DIR_VARIABLE, "").strip()
    if chosen:
        return Path(chosen).expanduser() / "accounts.json"
    import platformdirs  # lazy: keep `import twcreds` fast

    return Path(platformdirs.user_config_dir()) / "twcreds" / "accounts.json"


def _check_format(format: str | None) -> None:
    if format is not None and format not in FORMATS:
        shown = ", ".join(repr(name) for name in FORMATS)
        msg = f"format={format!r} is not a credentials format; use one of {shown}"
        raise CredentialsError(msg)


def read_source(
    source: StrPath, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> Parsed:
    """Read a file (or a secrets directory) of any format into records, without validating.

    Raises:
        CredentialsNotFoundError: the file does not exist.
        CredentialsError: it cannot be read or parsed.
    """
    _check_format(format)
    path = Path(os.fspath(source)).expanduser()
    directory = _directory_source(path, format, prefix)
    if directory is not None:
        return directory
    return _parse_text(path, _read_text(path), format, prefix)


def _directory_source(path: Path, format: Format | None, prefix: str) -> Parsed | None:
    """A directory's records (xurl's folder, a secrets volume), or None for anything else."""
    if path.is_dir():
        if path.name == ".xurl" and (path / "auth.yml").is_file() and format in (None, "xurl"):
            return read_source(path / "auth.yml", format="xurl")
        if format is None:
            return read_directory(path, prefix)
    return None


def _read_text(path: Path) -> str:
    label = str(path)
    text = decode(read_bytes(path), label)
    if not text.strip(_STRIP):
        raise CredentialsError(f"{label}: is empty; no accounts in it")
    return text


def _parse_text(path: Path, text: str, format: Format | None, prefix: str) -> Parsed:
    label = str(path)
    fmt = format or guess_format(path, text)
    if fmt in _PEER_READERS:
        return _PEER_READERS[fmt](text, label)
    if fmt == "json":
        return resolve_entries(replace(read_json(text, label), path=path))
    if fmt == "env":
        parsed = read_env(text, label, prefix, read_file=value_reader(path.parent))
        if parsed is None:
            msg = (
                f"{label}: defines no {prefix}* credentials;"
                f" set {prefix}CONSUMER_KEY, {prefix}CONSUMER_SECRET, {prefix}ACCESS_TOKEN"
                f" and {prefix}ACCESS_TOKEN_SECRET, or pass the prefix it uses (prefix=...)"
            )
            raise CredentialsError(msg)
        return parsed
    return read_lines(text, label)


def peer_files(home: StrPath | None = None) -> list[tuple[Path, Format]]:
    """Where the peer tools keep credentials by default, in the order `twcreds import` reads.

    twurl's ``~/.twurlrc``, t's ``~/.trc``, x's ``~/.xrc``, twarc's ``~/.twarc``, twarc2's
    ``config`` in its app folder (``~/.config/twarc/config`` on Linux), xurl's
    ``~/.xurl/auth.yml`` (or the older ``~/.xurl`` file). Every place is listed, whether
    or not a file is there.
    """
    import platformdirs  # lazy: keep `import twcreds` fast

    root = Path(os.fspath(home)) if home is not None else Path.home()
    xurl = root / ".xurl"
    return [
        (root / ".twurlrc", "twurlrc"),
        (root / ".trc", "twurlrc"),
        (root / ".xrc", "twurlrc"),
        (root / ".twarc", "twarc"),
        # click.get_app_dir("twarc"), where twarc2 keeps its config: platformdirs agrees
        # with it on Linux ($XDG_CONFIG_HOME), macOS and, roaming, Windows (%APPDATA%).
        (
            Path(platformdirs.user_config_dir("twarc", appauthor=False, roaming=True)) / "config",
            "twarc2",
        ),
        (xurl if xurl.is_file() else xurl / "auth.yml", "xurl"),
    ]


PROCESS_KEY = "credential_process"


def resolve_entries(parsed: Parsed) -> Parsed:
    """Fill in the entries of a JSON file that keep their secrets elsewhere.

    ``{"credential_process": "CMD ARGS"}`` becomes the account CMD prints (the entry's
    other keys, a ``screen_name`` to choose it by, say, kept under the printed values);
    ``{"keyring": "SERVICE", ...}`` gets its secrets from the OS keyring
    (`twcreds.oskeyring`). Other entries are left as they are, at the same positions.

    Raises:
        CredentialsError: a command or the keyring fails (the message says which entry).
    """
    indirect = (PROCESS_KEY, KEYRING_KEY)
    if not any(
        isinstance(r.data, dict) and not r.data.keys().isdisjoint(indirect) for r in parsed.records
    ):
        return parsed
    records = []
    origins = dict(parsed.origins)
    for index, record in enumerate(parsed.records):
        data = record.data
        if isinstance(data, dict) and PROCESS_KEY in data:
            origins[index] = "process"
            record = record._replace(data=_from_process(record))
        elif isinstance(data, dict) and KEYRING_KEY in data:
            origins[index] = "keyring"
            record = record._replace(data=_from_keyring(record))
        records.append(record)
    return replace(parsed, records=records, origins=origins)


def _from_process(record: Record) -> dict[str, Any]:
    from twcreds.process import run_credential_process

    command = record.data[PROCESS_KEY]
    if not isinstance(command, str):
        msg = f'{record.where}: "{PROCESS_KEY}" must be a string: the command to run'
        raise CredentialsError(msg)
    printed = run_credential_process(command, f"{record.where}: {PROCESS_KEY}")
    rest = {key: value for key, value in record.data.items() if key != PROCESS_KEY}
    return {**rest, **printed}


def _from_keyring(record: Record) -> dict[str, Any]:
    from twcreds.oskeyring import get_secrets

    data = record.data
    service, user = data[KEYRING_KEY], data.get("access_token")
    if not isinstance(service, str) or not service.strip() or not isinstance(user, str):
        msg = (
            f'{record.where}: a keyring entry needs "keyring" (the service name) and'
            ' "access_token" (the item\'s user name); add the account again with --keyring'
        )
        raise CredentialsError(msg)
    secrets = get_secrets(service, user, record.where)
    rest = {key: value for key, value in data.items() if key != KEYRING_KEY}
    return {**rest, **secrets}


def _read_twurlrc(text: str, label: str) -> Parsed:
    from twcreds.peers import read_twurlrc

    return read_twurlrc(text, label)


def _read_twarc(text: str, label: str) -> Parsed:
    from twcreds.peers import read_twarc

    return read_twarc(text, label)


def _read_twarc2(text: str, label: str) -> Parsed:
    from twcreds.peers import read_twarc2

    return read_twarc2(text, label)


def _read_xurl(text: str, label: str) -> Parsed:
    from twcreds.peers import read_xurl

    return read_xurl(text, label)


def _twurl_bearer(text: str, label: str, prefix: str) -> list[Record]:
    from twcreds.peers import twurl_bearer_tokens

    return twurl_bearer_tokens(text, label)


def _twarc2_bearer(text: str, label: str, prefix: str) -> list[Record]:
    from twcreds.peers import twarc2_bearer_tokens

    return twarc2_bearer_tokens(text, label)


def _xurl_bearer(text: str, label: str, prefix: str) -> list[Record]:
    from twcreds.peers import xurl_bearer_tokens

    return xurl_bearer_tokens(text, label)


# The peer files' app-only bearer tokens, beside formats.BEARER_READERS (twcreds' own).
_PEER_BEARER_READERS = {"twurlrc": _twurl_bearer, "twarc2": _twarc2_bearer, "xurl": _xurl_bearer}

# Imported on use: the peer readers bring PyYAML, which `import twcreds` need not load.
_PEER_READERS = {
    "twurlrc": _read_twurlrc,
    "twarc": _read_twarc,
    "twarc2": _read_twarc2,
    "xurl": _read_xurl,
}


def find_source(
    *,
    format: Format | None = None,
    prefix: str = "TWITTER_",
    environ: Mapping[str, str] | None = None,
) -> Parsed:
    """Follow the default chain; the first place holding credentials wins.

    1. ``TWCREDS_FILE``: a file (read as ``format``, if given) or a secrets directory;
    2. ``TWCREDS_CREDENTIAL_PROCESS``: a command printing one JSON account (AWS's
       ``credential_process``);
    3. the ``{prefix}*`` environment variables (each may be given as ``{prefix}NAME_FILE``,
       a file holding the value);
    4. ``./.env`` if it defines them (``_FILE`` variables too);
    5. the user store (`default_store_path`; ``TWCREDS_CONFIG_DIR`` moves it), whose
       entries may be ``{"credential_process": "CMD ARGS"}``.

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
    command = env.get("TWCREDS_CREDENTIAL_PROCESS", "").strip()
    if command:
        from twcreds.process import process_record

        return process_record(command, "TWCREDS_CREDENTIAL_PROCESS", environ=env)
    from_env = read_environ(env, prefix, read_file=value_reader())
    if from_env is not None:
        return from_env
    dotenv = Path(".env")
    if dotenv.is_file():
        label = str(dotenv)
        text = decode(read_bytes(dotenv), label)
        found = read_env(text, label, prefix, blank_ok=False, read_file=value_reader())
        if found is not None:
            return found
    store = default_store_path()
    try:
        return read_source(store, format="json", prefix=prefix)
    except CredentialsNotFoundError:
        pass
    msg = (
        "no Twitter credentials found; looked at: TWCREDS_FILE (not set);"
        " TWCREDS_CREDENTIAL_PROCESS (not set); "
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
        source: a JSON, lines or .env file, a peer tool's file (twurl, t, x, twarc, twarc2,
            xurl) or a secrets directory; None follows the default chain (`find_source`):
            ``TWCREDS_FILE``, ``TWCREDS_CREDENTIAL_PROCESS``, the environment, ``./.env``
            and the user store, in that order.
        format: ``"json"``, ``"lines"``, ``"env"``, ``"twurlrc"``, ``"twarc"``,
            ``"twarc2"`` or ``"xurl"``; None takes it from the file name, else from the
            content. With no source it applies to ``TWCREDS_FILE`` only.
        prefix: the variable prefix for .env files and the environment.

    Raises:
        CredentialsNotFoundError: nothing at the source or along the chain.
        CredentialsError: the credentials are malformed, empty or duplicated.
    """
    return _load(source, format, prefix)[1]


class _Loaded(NamedTuple):
    label: str
    accounts: AccountList
    #: The JSON file the accounts came from (refreshed tokens are written back there).
    path: Path | None
    #: The account the source marks as its default (a peer tool's default profile).
    default: int | None


def _load(source: StrPath | None, format: Format | None, prefix: str) -> _Loaded:
    """`parse_source` then `validate_records`, with where the accounts came from.

    A file's text goes first to the fast path (`twcreds._fastload`), which takes only a
    JSON list of clean, plain OAuth 1.0a accounts; whatever it does not take, valid or not,
    goes the precise way, which owns every message.
    """
    if source is None:
        parsed = parse_source(source, format=format, prefix=prefix)
    else:
        _check_format(format)
        path = Path(os.fspath(source)).expanduser()
        directory = _directory_source(path, format, prefix)
        if directory is not None:
            parsed = directory
        else:
            text = _read_text(path)
            if (format or guess_format(path, text)) == "json":
                accounts = load_json_list(text)
                if accounts is not None:
                    return _Loaded(str(path), accounts, path, None)
            parsed = _parse_text(path, text, format, prefix)
    return _Loaded(parsed.label, validate_records(parsed), parsed.path, parsed.default)


def select_account(
    accounts: AccountList,
    account: str | int | None,
    label: str,
    environ: Mapping[str, str] | None = None,
    *,
    default: int | None = None,
) -> AnyAccount:
    """Pick one account: by ``account``, else ``TWCREDS_ACCOUNT``, else the source's default.

    The source's default is the only account, or the one a peer tool's file marks as its
    default profile (``default``, an index): as twurl, t and xurl use it when no account is
    named. An explicit choice (``account=`` or ``TWCREDS_ACCOUNT``) always wins over it.

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
        if default is not None and 0 <= default < len(accounts):
            return accounts[default]
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
    loaded = _load(source, format, prefix)
    return loaded.accounts, loaded.path


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
    loaded = _load(source, format, prefix)
    chosen = select_account(loaded.accounts, account, loaded.label, default=loaded.default)
    return chosen, loaded.path


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
        from_env = read_environ(os.environ, prefix, read_file=value_reader())
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
    records = parsed.records
    apps: list[AppT] = []
    if parsed.app is not None:
        section = validate_app(parsed.app)
        # An app section of the other kind (an OAuth 2.0 client beside OAuth 1.0a
        # accounts, in the environment) leaves the accounts to say.
        apps = [section] if isinstance(section, kind) else []
        records = [parsed.app] if apps else records
    if not apps:
        apps = [app for app in (validate_app(r) for r in records) if isinstance(app, kind)]
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
    if path.name == ".xurl" and path.is_dir():
        path = path / "auth.yml"
    label = str(path)
    text = decode(read_bytes(path), label)
    if not text.strip(_STRIP):
        raise CredentialsError(f"{label}: is empty; no bearer token in it")
    fmt = format or guess_format(path, text)
    reader = BEARER_READERS.get(fmt) or _PEER_BEARER_READERS.get(fmt)
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
