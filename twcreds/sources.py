"""Readers and loaders: credential sources in, validated models out.

Readers are pure: they turn a file's text (or the environment) into raw records, each
carrying its place (file, line, list index, variable name), and touch neither the network
nor ``os.environ``. One validation step, :func:`validate_records`, turns records of every
format into models, so all formats share the same rules and the same messages.
"""

from __future__ import annotations

import io
import json
import os
import re
import stat
import sys
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from twcreds.errors import CredentialsError, CredentialsNotFoundError, InsecurePermissionsWarning
from twcreds.models import (
    ALIASES,
    CANONICAL,
    Account,
    AccountList,
    App,
    describe_error,
    find_duplicate,
)

__all__ = [
    "MAX_FILE_SIZE",
    "Format",
    "default_store_path",
    "load_account",
    "load_accounts",
    "load_app",
]

Format = Literal["json", "lines", "env"]
StrPath = str | os.PathLike[str]

#: Files larger than this are refused before they are read: no credentials file comes close.
MAX_FILE_SIZE = 16 * 1024 * 1024
#: JSON nested deeper than this is refused before the parser recurses.
MAX_JSON_DEPTH = 64

_ACCOUNTS: TypeAdapter[list[Account]] = TypeAdapter(list[Account])
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=")
_CONSUMER_FIELDS = ("consumer_key", "consumer_secret")


@dataclass(frozen=True)
class Record:
    """One raw set of credentials, as a source holds it, and where it came from.

    Attributes:
        data: the values under the source's own keys (aliases allowed).
        where: how to name the record in a message: ``"accounts.json: [2] (@bot2)"``.
        places: input key -> a finer place for that value (``"creds-twitter:3"``).
        names: input or canonical key -> the source's own name for it (``"TWITTER_ACCESS_TOKEN"``).
    """

    data: Mapping[str, Any]
    where: str
    places: Mapping[str, str] = field(default_factory=dict)
    names: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Parsed:
    """What a reader found: account records, and an app section if the source has one."""

    label: str
    records: list[Record]
    app: Record | None = None


# --- reading files ---------------------------------------------------------------------


def read_bytes(path: Path) -> bytes:
    """Read a credentials file, refusing anything that is not a regular, sane-sized file.

    Raises:
        CredentialsNotFoundError: the file does not exist.
        CredentialsError: it cannot be read, is not a regular file, or is too large.
    """
    # O_NONBLOCK: opening a FIFO must not wait for a writer; we refuse it right after.
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        msg = f"{path}: no such file; check the path, or set TWCREDS_FILE to your credentials file"
        raise CredentialsNotFoundError(msg) from None
    except PermissionError:
        msg = f"{path}: permission denied; make it readable by you: `chmod 600 {path}`"
        raise CredentialsError(msg) from None
    except OSError as exc:
        msg = f"{path}: cannot open it ({exc.strerror or type(exc).__name__})"
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
        with os.fdopen(fd, "rb", closefd=False) as stream:
            data = stream.read(MAX_FILE_SIZE + 1)
    except OSError as exc:
        msg = f"{path}: cannot read it ({exc.strerror or type(exc).__name__})"
        raise CredentialsError(msg) from None
    finally:
        os.close(fd)
    if len(data) > MAX_FILE_SIZE:
        msg = f"{path}: larger than the {MAX_FILE_SIZE:,}-byte limit for a credentials file"
        raise CredentialsError(msg)
    return data


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
    package = os.path.dirname(__file__)
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def decode(data: bytes, label: str) -> str:
    """Decode a file's bytes as UTF-8 (a BOM is allowed), with a located message if not."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        msg = (
            f"{label}: is UTF-16 encoded; save it as UTF-8 (most editors: Save As, encoding UTF-8)"
        )
        raise CredentialsError(msg)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        msg = f"{label}:{line}: contains a NUL byte; this is not a text credentials file"
        raise CredentialsError(msg)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        msg = f"{label}:{line}: is not valid UTF-8; save the file as UTF-8"
        raise CredentialsError(msg) from None


def guess_format(path: Path, text: str) -> Format:
    """Take the format from the file name, or failing that from the content."""
    name = path.name.lower()
    if name.endswith(".json"):
        return "json"
    if name == ".env" or name.endswith(".env") or name.startswith(".env."):
        return "env"
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("{", "[")):
        return "json"
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if lines and all(_ENV_LINE.match(ln) for ln in lines):
        return "env"
    return "lines"


# --- JSON ------------------------------------------------------------------------------


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_depth_exceeded(text: str) -> int | None:
    """The line where nesting passes MAX_JSON_DEPTH, or None; strings are skipped."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return None
    depth = 0
    in_string = escaped = False
    line = 1
    for char in text:
        if char == "\n":
            line += 1
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return line
        elif char in "]}":
            depth -= 1
    return None


def read_json(text: str, label: str) -> Parsed:
    """Parse the three JSON shapes: an account, a list of accounts, or an app with accounts."""
    if not text.strip():
        raise CredentialsError(f"{label}: is empty; no accounts in it")
    deep = _json_depth_exceeded(text)
    if deep is not None:
        msg = f"{label}:{deep}: JSON nested more than {MAX_JSON_DEPTH} levels deep; not credentials"
        raise CredentialsError(msg)
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        msg = f"{label}: the key {exc.key!r} appears twice in one object; keep only one"
        raise CredentialsError(msg) from None
    except json.JSONDecodeError as exc:
        raise CredentialsError(_json_syntax_message(exc, label)) from None
    except RecursionError:
        msg = f"{label}: JSON nested too deeply; not credentials"
        raise CredentialsError(msg) from None

    if isinstance(value, list):
        return Parsed(label, [_json_record(item, label, i) for i, item in enumerate(value)])
    if isinstance(value, dict):
        if "accounts" in value or "app" in value:
            return _app_with_accounts(value, label)
        return Parsed(label, [Record(value, label)])
    msg = (
        f"{label}: holds a JSON {type(value).__name__}; expected an account object,"
        ' a list of them, or {"app": {...}, "accounts": [...]}'
    )
    raise CredentialsError(msg)


def _json_syntax_message(exc: json.JSONDecodeError, label: str) -> str:
    what = exc.msg[0].lower() + exc.msg[1:]
    message = f"{label}:{exc.lineno}:{exc.colno}: not valid JSON: {what}"
    if exc.msg.startswith("Expecting ',' delimiter") and exc.doc[exc.pos : exc.pos + 1] == "{":
        message += "; add a comma between the account objects: `},` then `{`"
    elif exc.msg.startswith("Expecting property name enclosed in double quotes"):
        message += "; JSON needs double quotes around keys and no comma after the last value"
    elif "Invalid control character" in exc.msg:
        message += "; a value spans lines: put each value on one line"
    else:
        message += "; fix it there, or check it with `python -m json.tool FILE`"
    return message


def _json_record(item: Any, label: str, index: int) -> Record:
    name = item.get("screen_name") if isinstance(item, dict) else None
    suffix = (
        f" (@{name.strip().removeprefix('@')})" if isinstance(name, str) and name.strip() else ""
    )
    return Record(item, f"{label}: [{index}]{suffix}")


def _app_with_accounts(value: dict[str, Any], label: str) -> Parsed:
    app = value.get("app")
    accounts = value.get("accounts", [])
    if app is not None and not isinstance(app, dict):
        raise CredentialsError(
            f'{label}: "app" must be an object with consumer_key and consumer_secret'
        )
    if not isinstance(accounts, list):
        raise CredentialsError(f'{label}: "accounts" must be a list of account objects')
    records = []
    for index, item in enumerate(accounts):
        record = _json_record(item, f"{label}: accounts", index)
        if app is not None and isinstance(item, dict):
            inherited = {
                name: app[key]
                for name in _CONSUMER_FIELDS
                for key in ALIASES[name]
                if key in app and not any(alias in item for alias in ALIASES[name])
            }
            record = Record({**inherited, **item}, record.where)
        records.append(record)
    app_record = Record(app, f"{label}: app") if app is not None else None
    return Parsed(label, records, app_record)


# --- lines -----------------------------------------------------------------------------

_LINE_FIELDS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def read_lines(text: str, label: str) -> Parsed:
    """Read the guide's 4-line file (or a 2-line app file): one value per non-blank line."""
    numbered = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip(" \t\ufeff")]
    if not numbered:
        raise CredentialsError(f"{label}: is empty; no accounts in it")
    if len(numbered) not in (2, 4):
        msg = (
            f"{label}: has {len(numbered)} non-blank lines; a lines file holds exactly 4"
            " (consumer key, consumer secret, access token, access token secret, in that order)"
            " or 2 for an app (consumer key and secret)"
        )
        raise CredentialsError(msg)
    data = {name: value for name, (_, value) in zip(_LINE_FIELDS, numbered, strict=True)}
    places = {name: f"{label}:{n}" for name, (n, _) in zip(_LINE_FIELDS, numbered, strict=True)}
    names = {
        name: f"line {n} ({name.replace('_', ' ')})"
        for name, (n, _) in zip(_LINE_FIELDS, numbered, strict=True)
    }
    record = Record(data, label, places, names)
    if len(numbered) == 2:
        return Parsed(label, [], app=record)
    return Parsed(label, [record])


# --- env files and the environment -----------------------------------------------------


def _env_keys(prefix: str) -> dict[str, str]:
    """Variable name -> input key, for every accepted name behind ``prefix``."""
    return {f"{prefix}{alias.upper()}": alias for alias in CANONICAL}


def read_env(text: str, label: str, prefix: str) -> Parsed:
    """Read a dotenv file with python-dotenv's parser; ``os.environ`` is neither read nor set.

    Raises:
        CredentialsError: a line cannot be parsed, or no ``{prefix}*`` value is defined.
    """
    parsed = _read_env(text, label, prefix)
    if parsed is None:
        msg = f"{label}: defines no {prefix}* credentials; set {prefix}CONSUMER_KEY and the rest"
        raise CredentialsError(msg)
    return parsed


def _read_env(text: str, label: str, prefix: str) -> Parsed | None:
    """Read a dotenv file, or None if it defines no ``{prefix}*`` value.

    python-dotenv's parser is used directly rather than ``dotenv_values`` because it keeps
    each binding's line, so a message can say ``.env:4``; values are taken literally
    (no ``${VAR}`` interpolation, which would read the process environment).
    """
    from dotenv.parser import parse_stream  # lazy: keep `import twcreds` fast

    wanted = _env_keys(prefix)
    data: dict[str, Any] = {}
    places: dict[str, str] = {}
    names: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            msg = f"{label}:{line}: cannot parse this line; write it as NAME=value"
            raise CredentialsError(msg)
        if binding.key is None or binding.key not in wanted:
            continue
        key = wanted[binding.key]
        data[key] = binding.value if binding.value is not None else ""
        places[key] = f"{label}:{line}"
        names[key] = names[CANONICAL[key]] = binding.key
    for key in CANONICAL:
        names.setdefault(key, f"{prefix}{key.upper()}")
    if not data:
        return None
    return _env_parsed(label, Record(data, label, places, names))


def read_environ(environ: Mapping[str, str], prefix: str) -> Parsed | None:
    """Read ``{prefix}*`` variables from a mapping such as ``os.environ``; None if none is set."""
    wanted = _env_keys(prefix)
    data = {key: environ[var] for var, key in wanted.items() if var in environ}
    if not data:
        return None
    names = {key: var for var, key in wanted.items() if var in environ}
    for key in CANONICAL:
        names.setdefault(key, f"{prefix}{key.upper()}")
    places = {key: f"environment variable {names[key]}" for key in data}
    return _env_parsed("the environment", Record(data, "the environment", places, names))


def _env_parsed(label: str, record: Record) -> Parsed:
    has_token = any(CANONICAL[k] in ("access_token", "access_token_secret") for k in record.data)
    if has_token:
        return Parsed(label, [record])
    return Parsed(label, [], app=record)


# --- validation ------------------------------------------------------------------------


def validate_records(parsed: Parsed) -> AccountList:
    """Validate every record in one step; a failure names the record and the value's place.

    Raises:
        CredentialsError: a value is missing or malformed, there are no accounts, or two
            accounts are the same.
    """
    records = parsed.records
    if not records:
        if parsed.app is not None:
            msg = (
                f"{parsed.label}: holds only an app's consumer key and secret, no account;"
                " add the access token and secret, or run `twcreds authorize` to authorize one"
            )
            raise CredentialsError(msg)
        raise CredentialsError(f"{parsed.label}: no accounts in it")
    try:
        accounts = _ACCOUNTS.validate_python([record.data for record in records])
    except ValidationError as exc:
        raise _located_error(exc, records) from None
    duplicate = find_duplicate(accounts)
    if duplicate is not None:
        raise CredentialsError(f"{parsed.label}: {duplicate}")
    return AccountList(accounts)


def validate_app(record: Record) -> App:
    """Validate an app section, a 2-line file, or the consumer half of an account record."""
    try:
        return App.__pydantic_validator__.validate_python(record.data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        raise _located_error(exc, [record], indexed=False) from None


def _located_error(
    exc: ValidationError, records: Sequence[Record], *, indexed: bool = True
) -> CredentialsError:
    parts: list[str] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = list(error.get("loc", ()))
        index = loc.pop(0) if indexed and loc and isinstance(loc[0], int) else 0
        record = records[index] if isinstance(index, int) and index < len(records) else records[0]
        key = loc[0] if loc and isinstance(loc[0], str) else None
        if not isinstance(record.data, Mapping):
            parts.append(f"{record.where}: must be an object of credentials, not a list or value")
            continue
        canonical = CANONICAL.get(key, key) if key else None
        _, message = describe_error({**error, "loc": tuple(loc)}, record.data)
        if canonical is not None:
            shown = record.names.get(key or "", record.names.get(canonical, key or ""))
            for original in {key, canonical}:
                if original and message.startswith(original):
                    message = shown + message[len(original) :]
                    break
        place = record.places.get(key or "", record.where) if key else record.where
        parts.append(f"{place}: {message}")
    return CredentialsError("; ".join(parts))


# --- loaders ---------------------------------------------------------------------------


def default_store_path() -> Path:
    """The user's credentials store: ``<user config dir>/twcreds/accounts.json``."""
    import platformdirs  # lazy: keep `import twcreds` fast

    return Path(platformdirs.user_config_dir()) / "twcreds" / "accounts.json"


def read_source(
    source: StrPath, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> Parsed:
    """Read a file of any format into records, without validating them."""
    path = Path(os.fspath(source))
    label = str(path)
    text = decode(read_bytes(path), label)
    fmt = format or guess_format(path, text)
    if fmt == "json":
        return read_json(text, label)
    if fmt == "env":
        return read_env(text, label, prefix)
    if fmt == "lines":
        return read_lines(text, label)
    raise CredentialsError(f"unknown format {fmt!r}; use 'json', 'lines' or 'env'")


def find_source(*, prefix: str = "TWITTER_", environ: Mapping[str, str] | None = None) -> Parsed:
    """Follow the default chain; the first place holding credentials wins.

    ``TWCREDS_FILE``; the ``{prefix}*`` environment variables; ``./.env`` if it defines
    them; the user store. Raises `CredentialsNotFoundError` listing every place looked at.
    """
    env = os.environ if environ is None else environ
    named = env.get("TWCREDS_FILE")
    if named:
        path = Path(named)
        if not path.exists():
            msg = f"TWCREDS_FILE names {path}, which does not exist; fix or unset TWCREDS_FILE"
            raise CredentialsNotFoundError(msg)
        return read_source(path, prefix=prefix)
    from_env = read_environ(env, prefix)
    if from_env is not None:
        return from_env
    dotenv = Path(".env")
    if dotenv.is_file():
        found = _read_env(decode(read_bytes(dotenv), str(dotenv)), str(dotenv), prefix)
        if found is not None:
            return found
    store = default_store_path()
    if store.exists():
        return read_source(store, format="json", prefix=prefix)
    msg = (
        "no Twitter credentials found; looked at: TWCREDS_FILE (not set), "
        f"environment variables {prefix}CONSUMER_KEY etc. (not set), "
        f"{Path.cwd() / '.env'} (no {prefix}* values), {store} (no such file). "
        "Pass a file, set TWCREDS_FILE, or run `twcreds authorize` to create the store"
    )
    raise CredentialsNotFoundError(msg)


def _parse(source: StrPath | None, format: Format | None, prefix: str) -> Parsed:
    if source is None:
        return find_source(prefix=prefix)
    return read_source(source, format=format, prefix=prefix)


def load_accounts(
    source: StrPath | None = None, *, format: Format | None = None, prefix: str = "TWITTER_"
) -> AccountList:
    """Load every account from a source (a path), or from the default chain if it is None.

    Args:
        source: a JSON, lines or .env file; None follows ``TWCREDS_FILE``, the environment,
            ``./.env`` and the user store, in that order.
        format: ``"json"``, ``"lines"`` or ``"env"``; None guesses from the name or content.
        prefix: the variable prefix for .env files and the environment.

    Raises:
        CredentialsNotFoundError: nothing at the source or along the chain.
        CredentialsError: the credentials are malformed, empty or duplicated.
    """
    return validate_records(_parse(source, format, prefix))


def select_account(
    accounts: AccountList,
    account: str | int | None,
    label: str,
    environ: Mapping[str, str] | None = None,
) -> Account:
    """Pick one account: by ``account``, else ``TWCREDS_ACCOUNT``, else the only one."""
    env = os.environ if environ is None else environ
    names = ", ".join(a.label for a in accounts)
    if account is None and env.get("TWCREDS_ACCOUNT"):
        choice = env["TWCREDS_ACCOUNT"]
        try:
            return accounts[choice]
        except KeyError:
            pass
        if choice.strip().lstrip("-").isdigit():
            return _by_index(accounts, int(choice), label, names, "TWCREDS_ACCOUNT")
        wanted = choice.strip().removeprefix("@")
        msg = f"TWCREDS_ACCOUNT names @{wanted}, which is not in {label} (accounts: {names})"
        raise CredentialsError(msg)
    if account is None:
        if len(accounts) == 1:
            return accounts[0]
        msg = (
            f"{label} holds {len(accounts)} accounts ({names}); choose one with"
            " account='name' or the TWCREDS_ACCOUNT environment variable"
        )
        raise CredentialsError(msg)
    if isinstance(account, int) and not isinstance(account, bool):
        return _by_index(accounts, account, label, names, "account")
    try:
        return accounts[str(account)]
    except KeyError:
        wanted = str(account).strip().removeprefix("@")
        raise CredentialsError(f"{label} has no account @{wanted} (accounts: {names})") from None


def _by_index(accounts: AccountList, index: int, label: str, names: str, what: str) -> Account:
    if -len(accounts) <= index < len(accounts):
        return accounts[index]
    msg = f"{what}={index} is out of range: {label} holds {len(accounts)} accounts ({names})"
    raise CredentialsError(msg)


def load_account(
    source: StrPath | None = None,
    *,
    account: str | int | None = None,
    format: Format | None = None,
    prefix: str = "TWITTER_",
) -> Account:
    """Load one account: ``account`` (screen name or index), ``TWCREDS_ACCOUNT``, or the only one.

    Raises:
        CredentialsNotFoundError: nothing at the source or along the chain.
        CredentialsError: malformed credentials, an unknown account, or several accounts
            and no choice.
    """
    parsed = _parse(source, format, prefix)
    return select_account(validate_records(parsed), account, parsed.label)


def load_app(source: StrPath, *, format: Format | None = None, prefix: str = "TWITTER_") -> App:
    """Load an app's consumer key and secret.

    The source is a 2-line file, a JSON ``{"app": ...}`` section, or any account source
    (its consumer half).

    Raises:
        CredentialsNotFoundError: the file does not exist.
        CredentialsError: no consumer values, or accounts of different apps.
    """
    parsed = read_source(source, format=format, prefix=prefix)
    if parsed.app is not None:
        return validate_app(parsed.app)
    if not parsed.records:
        raise CredentialsError(f"{parsed.label}: no app or accounts in it")
    apps = [validate_app(record) for record in parsed.records]
    if any(app.consumer_key != apps[0].consumer_key for app in apps):
        msg = (
            f"{parsed.label}: its accounts belong to different apps;"
            " keep the app's consumer key and secret in a file of their own"
        )
        raise CredentialsError(msg)
    return apps[0]
