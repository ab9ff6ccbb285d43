"""Readers and loaders: credential sources in, validated models out.

Readers are pure: they turn a file's text (or the environment) into raw records, each
carrying its place (file, line, list index, variable name), and touch neither the network
nor ``os.environ``. One validation step, :func:`validate_records`, turns records of every
format into models, so all formats share the same rules and the same messages.
"""

from __future__ import annotations

import io
import json
import json.decoder
import json.scanner
import os
import re
import stat
import sys
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, get_args

from pydantic import TypeAdapter, ValidationError

from twcreds.errors import CredentialsError, CredentialsNotFoundError, InsecurePermissionsWarning
from twcreds.models import (
    _STRIP,
    ALIASES,
    CANONICAL,
    Account,
    AccountList,
    App,
    describe_error,
    find_duplicate,
    name_suffix,
    names_of,
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

_FORMATS: tuple[str, ...] = get_args(Format)
_ENV_LINE = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=")
# Only keys of ours are quoted in messages: any other could be a value pasted as a key.
_KNOWN_KEYS = frozenset({*CANONICAL, "app", "accounts"})
_CONSUMER_KEYS = frozenset(ALIASES["consumer_key"] + ALIASES["consumer_secret"])
_TOKEN_FIELDS = ("access_token", "access_token_secret")
# Input names that are only aliases (api_key, oauth_token, ...): a record naming none of
# them cannot give one value twice, which keeps the check below off the common path.
_ALIAS_ONLY = frozenset(CANONICAL) - frozenset(ALIASES)
_ACCOUNTS_ADAPTER: TypeAdapter[list[Account]] | None = None


_NO_PLACES: Mapping[str, str] = MappingProxyType({})


class Record(NamedTuple):
    """One raw set of credentials, as a source holds it, and where it came from.

    A tuple, because a 10,000-account file makes 10,000 of them; the place of a JSON list
    entry is only spelled out (``where``) when a message needs it.

    Attributes:
        data: the values under the source's own keys (aliases allowed).
        label: the source: a file name, or ``"the environment"``.
        places: input key -> a finer place for that value (``"creds-twitter:3"``).
        names: input or canonical key -> the source's own name for it (``"TWITTER_ACCESS_TOKEN"``).
        position: the entry's index, for a JSON list.
        section: the list's name inside the file (``"accounts"``), if any.
    """

    data: Any  # the values, secrets included: never shown (see __repr__)
    label: str
    places: Mapping[str, str] = _NO_PLACES
    names: Mapping[str, str] = _NO_PLACES
    position: int | None = None
    section: str = ""

    @property
    def where(self) -> str:
        """How to name the record in a message: ``"accounts.json: [2] (@bot2)"``."""
        if self.position is None:
            return self.label
        return f"{self.label}: {self.section}[{self.position}]{name_suffix(self.data)}"

    def __repr__(self) -> str:
        return f"Record(where={self.where!r})"


@dataclass(frozen=True)
class Parsed:
    """What a reader found: account records, and an app section if the source has one."""

    label: str
    records: list[Record]
    app: Record | None = None


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
        msg = f"{path}: no such file; check the path, or set TWCREDS_FILE to your credentials file"
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
    package = os.path.dirname(__file__) + os.sep
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


# Line breaks as editors, str.splitlines() (the lines reader) and python-dotenv count them:
# a lone CR, from an old Mac editor, ends a line too.
_BREAK = re.compile(r"\r\n?|\n")
_BREAK_BYTES = re.compile(rb"\r\n?|\n")


def _line_of(data: bytes, pos: int) -> int:
    return len(_BREAK_BYTES.findall(data, 0, pos)) + 1


def decode(data: bytes, label: str) -> str:
    """Decode a file's bytes as UTF-8 (a BOM is allowed), with a located message if not."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        msg = (
            f"{label}: is UTF-16 encoded; save it as UTF-8 (most editors: Save As, encoding UTF-8)"
        )
        raise CredentialsError(msg)
    if b"\x00" in data:
        line = _line_of(data, data.index(b"\x00"))
        msg = f"{label}:{line}: contains a NUL byte; this is not a text credentials file"
        raise CredentialsError(msg)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
    # Raised outside the handler: the UnicodeDecodeError holds the whole file, secrets too,
    # and must not ride along as __context__.
    msg = f"{label}:{line}: is not valid UTF-8; save the file as UTF-8"
    raise CredentialsError(msg) from None


def guess_format(path: Path, text: str) -> Format:
    """Take the format from the file name, or failing that from the content."""
    name = path.name.lower()
    if name.endswith(".json"):
        return "json"
    if name == ".env" or name.endswith(".env") or name.startswith(".env."):
        return "env"
    if text.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        return "json"
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if lines and all(_ENV_LINE.match(ln) for ln in lines):
        return "env"
    return "lines"


# --- JSON ------------------------------------------------------------------------------


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key
        self.pos: int | None = None


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


_JSON_SPACE = re.compile(r"[ \t\n\r]*")


def _second_key(text: str, start: int, key: str, scan_once: Any) -> int | None:
    """Where ``key`` occurs a second time in the object whose members start at ``start``."""
    seen: set[str] = set()
    pos = _JSON_SPACE.match(text, start).end()  # type: ignore[union-attr]
    while text.startswith('"', pos):
        name, end = vars(json.decoder)["scanstring"](text, pos + 1)
        if name == key and name in seen:
            return pos
        seen.add(name)
        end = _JSON_SPACE.match(text, end).end() + 1  # type: ignore[union-attr]  # the ':'
        _, end = scan_once(text, _JSON_SPACE.match(text, end).end())  # type: ignore[union-attr]
        end = _JSON_SPACE.match(text, end).end()  # type: ignore[union-attr]
        if not text.startswith(",", end):
            return None
        pos = _JSON_SPACE.match(text, end + 1).end()  # type: ignore[union-attr]
    return None


def _duplicate_key_offset(text: str) -> int | None:
    """Parse again, slowly, to find where the first duplicate key is; only on the error path.

    Only json's pure-Python parser says where an object starts; its pieces are undocumented
    (if a Python release changes them, the message simply loses its line number).
    """
    try:
        return _find_duplicate_key(text)
    except Exception:  # a best-effort location, never a reason to fail
        return None


def _find_duplicate_key(text: str) -> int | None:
    json_object: Any = vars(json.decoder)["JSONObject"]

    def parse_object(s_and_end: tuple[str, int], *args: Any) -> Any:
        try:
            return json_object(s_and_end, *args)
        except _DuplicateKey as exc:
            if exc.pos is None:  # the innermost object: its members parsed, its keys clash
                doc, start = s_and_end
                exc.pos = _second_key(doc, start, exc.key, scan_once)
                if exc.pos is None:
                    exc.pos = start - 1
            raise

    decoder: Any = json.JSONDecoder(object_pairs_hook=_no_duplicate_keys)
    decoder.parse_object = parse_object
    decoder.scan_once = scan_once = vars(json.scanner)["py_make_scanner"](decoder)
    try:
        decoder.decode(text)
    except _DuplicateKey as exc:
        return exc.pos
    return None


def read_json(text: str, label: str) -> Parsed:
    """Parse the three JSON shapes: an account, a list of accounts, or an app with accounts.

    Raises:
        CredentialsError: the text is empty, not JSON (the message gives line and column),
            or not one of the three shapes.
    """
    if not text.strip():
        raise CredentialsError(f"{label}: is empty; no accounts in it")
    # Errors are raised outside the handlers: a JSONDecodeError holds the whole text,
    # secrets too, and must not ride along as __context__.
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as exc:
        key = repr(exc.key) if exc.key in _KNOWN_KEYS else "a key"
        where = _duplicate_key_offset(text)
        if where is None:
            msg = f"{label}: {key} appears twice in one object; keep only one"
        else:
            line, col = _line_col(text, where)
            msg = f"{label}:{line}:{col}: {key} appears twice in one object; keep only one"
    except json.JSONDecodeError as exc:
        msg = _json_syntax_message(exc, label)
    except RecursionError:
        # json's C parser guards its recursion; no credentials file nests past 3 levels.
        msg = f"{label}: JSON nested thousands of levels deep; this is not a credentials file"
    except ValueError:
        # int() refuses a literal of more than 4,300 digits (CVE-2020-10735's guard).
        msg = f"{_long_number_place(text, label)} a number thousands of digits long;" + (
            " this is not a credentials file (values are strings in double quotes)"
        )
    else:
        return _json_shape(value, label)
    raise CredentialsError(msg) from None


def _long_number_place(text: str, label: str) -> str:
    match = re.search(r"(?<=[\[:,\s])-?\d{1000,}", text)
    if match is None:
        return f"{label}:"
    line, col = _line_col(text, match.start())
    return f"{label}:{line}:{col}:"


def _json_shape(value: Any, label: str) -> Parsed:
    if isinstance(value, list):
        return Parsed(label, [_json_record(item, label, "", i) for i, item in enumerate(value)])
    if isinstance(value, dict):
        if "accounts" in value or "app" in value:
            return _app_with_accounts(value, label)
        return Parsed(label, [Record(value, label)])
    msg = (
        f"{label}: holds a JSON {_json_type(value)}; expected an account object,"
        ' a list of them, or {"app": {...}, "accounts": [...]}'
    )
    raise CredentialsError(msg)


def _json_type(value: object) -> str:
    names = {bool: "true/false", int: "number", float: "number", str: "string"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _line_col(doc: str, pos: int) -> tuple[int, int]:
    line = len(_BREAK.findall(doc, 0, pos)) + 1
    return line, pos - (max(doc.rfind("\n", 0, pos), doc.rfind("\r", 0, pos)) + 1) + 1


def _json_syntax_message(exc: json.JSONDecodeError, label: str) -> str:
    """Say where the JSON breaks and how to mend it; the text around it is never quoted."""
    doc, pos = exc.doc, exc.pos
    here = doc[pos : pos + 1]
    # Where the previous token ends: a missing or extra comma belongs there, not where
    # the parser noticed it (often the start of the next line).
    end = len(doc[:pos].rstrip())
    before = doc[end - 1 : end]
    if exc.msg.startswith("Expecting ',' delimiter"):
        line, col = _line_col(doc, end)
        at = "at the end of" if _BREAK.search(doc, end, pos) else f"at column {col} of"
        return (
            f"{label}:{line}: not valid JSON: a comma is missing {at} line {line};"
            " JSON needs a comma after every value and every object but the last"
        )
    trailing = exc.msg.startswith("Illegal trailing comma")  # Python 3.13+: pos is the comma
    if trailing or (before == "," and here in ("}", "]")):
        line, col = _line_col(doc, pos if trailing else end - 1)
        return (
            f"{label}:{line}:{col}: not valid JSON: a comma after the last value;"
            f" remove the comma at line {line}, column {col}"
        )
    line, col = _line_col(doc, pos)  # not exc.lineno: json counts only LF as a line break
    detail = exc.msg.removesuffix(" starting at")  # json's "Unterminated string starting at"
    message = f"{label}:{line}:{col}: not valid JSON: {detail[0].lower()}{detail[1:]}"
    if not doc[pos:].strip() or detail == "Unterminated string":
        return message + "; the file ends in the middle of it: was it cut short?"
    if here == "'":
        return message + "; JSON strings need double quotes: write \"value\", not 'value'"
    if here == "/":
        return message + "; JSON has no comments: remove the comment"
    if doc.startswith(("None", "True", "False"), pos):
        return message + "; JSON writes null, true and false in lower case"
    if exc.msg.startswith("Expecting property name enclosed in double quotes"):
        return message + "; JSON needs double quotes around every key"
    if exc.msg.startswith("Invalid control character"):
        if here in "\r\n":
            return message + "; a value spans lines: put each value on one line"
        return message + "; a string holds a raw control character (a tab?): remove it"
    return message + "; fix it there, or check the file with `python -m json.tool FILE`"


def _json_record(item: Any, label: str, section: str, index: int) -> Record:
    return Record(item, label, position=index, section=section)


def _app_with_accounts(value: dict[str, Any], label: str) -> Parsed:
    app = value.get("app")
    accounts = value.get("accounts", [])
    if app is not None and not isinstance(app, dict):
        msg = f'{label}: "app" must be an object with consumer_key and consumer_secret'
        raise CredentialsError(msg)
    if not isinstance(accounts, list):
        raise CredentialsError(f'{label}: "accounts" must be a list of account objects')
    records = []
    for index, item in enumerate(accounts):
        record = _json_record(item, label, "accounts", index)
        # All or nothing: half an app's pair mixed with half another's signs every
        # request wrongly, so an account naming either consumer value keeps its own.
        if app is not None and isinstance(item, dict) and not _CONSUMER_KEYS & item.keys():
            record = record._replace(data={**app, **item})
        records.append(record)
    app_record = Record(app, f"{label}: app") if app is not None else None
    return Parsed(label, records, app_record)


# --- lines -----------------------------------------------------------------------------

_LINE_FIELDS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


def read_lines(text: str, label: str) -> Parsed:
    """Read the guide's 4-line file (or a 2-line app file): one value per non-blank line.

    Raises:
        CredentialsError: the file is empty, or has neither 4 nor 2 non-blank lines.
    """
    # Blank means what the models strip: a line of no-break spaces holds no value either.
    numbered = [(n, ln) for n, ln in enumerate(text.splitlines(), 1) if ln.strip(_STRIP)]
    if not numbered:
        raise CredentialsError(f"{label}: is empty; no accounts in it")
    if len(numbered) not in (2, 4):
        where = ", ".join(str(n) for n, _ in numbered[:6]) + (", ..." if len(numbered) > 6 else "")
        msg = (
            f"{label}: has {len(numbered)} non-blank lines"
            f" (on line{'s' if len(numbered) > 1 else ''} {where});"
            " a lines file holds exactly 4"
            " (consumer key, consumer secret, access token, access token secret, in that order)"
            " or 2 for an app (consumer key and secret)"
        )
        raise CredentialsError(msg)
    fields = list(zip(_LINE_FIELDS, numbered, strict=False))
    data = {name: value for name, (_, value) in fields}
    places = {name: f"{label}:{n}" for name, (n, _) in fields}
    names = {name: name.replace("_", " ") for name, _ in fields}
    record = Record(data, label, places, names)
    if len(numbered) == 2:
        return Parsed(label, [], app=record)
    return Parsed(label, [record])


# --- env files and the environment -----------------------------------------------------


def _env_keys(prefix: str) -> dict[str, str]:
    """Variable name -> input key, for every accepted name behind ``prefix``."""
    return {f"{prefix}{alias.upper()}": alias for alias in CANONICAL}


def _env_record(
    label: str, values: Mapping[str, str], places: Mapping[str, str], prefix: str
) -> Record:
    """A record from ``{prefix}*`` variables; unknown ones are kept only as spelling hints."""
    wanted = _env_keys(prefix)
    data: dict[str, str] = {}
    names = {key: f"{prefix}{key.upper()}" for key in CANONICAL}
    where: dict[str, str] = {}
    for var, value in values.items():
        key = wanted.get(var)
        if key is None:
            rest = var[len(prefix) :].lower()
            # A mis-cased known name must stay unknown to validation; the mark keeps it so.
            key = f"?{rest}" if rest in CANONICAL else rest
        else:
            names[CANONICAL[key]] = var
        data[key] = value
        names[key] = var
        where[key] = places[var]
    for key in data:
        if CANONICAL.get(key) == key:  # given under its own name: an alias must not rename it
            names[key] = f"{prefix}{key.upper()}"
    return Record(data, label, where, names)


def _env_parsed(label: str, record: Record) -> Parsed:
    if any(CANONICAL.get(key) in _TOKEN_FIELDS for key in record.data):
        return Parsed(label, [record])
    return Parsed(label, [], app=record)


def _ours(var: str, prefix: str) -> bool:
    """A variable behind ``prefix``, or behind a mis-cased one (kept only as a spelling hint)."""
    return var.startswith(prefix) or var[: len(prefix)].upper() == prefix.upper()


def _defines(values: Mapping[str, str], prefix: str, *, blank_ok: bool) -> bool:
    wanted = _env_keys(prefix)
    return any(var in wanted and (blank_ok or value.strip()) for var, value in values.items())


def read_env(text: str, label: str, prefix: str, *, blank_ok: bool = True) -> Parsed | None:
    """Read a dotenv file with python-dotenv's parser; ``os.environ`` is neither read nor set.

    python-dotenv's parser is used directly rather than ``dotenv_values`` because it keeps
    each binding's line, so a message can say ``.env:4``; values are taken literally
    (no ``${VAR}`` interpolation, which would read the process environment).

    Returns:
        The records, or None if the file defines no ``{prefix}*`` credential (with
        ``blank_ok=False``, none with a value).

    Raises:
        CredentialsError: a line that mentions ``prefix`` cannot be parsed.
    """
    from dotenv.parser import parse_stream  # lazy: keep `import twcreds` fast

    values: dict[str, str] = {}
    places: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            # Like python-dotenv, skip lines it cannot parse, unless one may be ours.
            if prefix in binding.original.string:
                msg = f"{label}:{line}: cannot parse this line; write it as {prefix}NAME=value"
                raise CredentialsError(msg)
            continue
        if binding.key is not None and _ours(binding.key, prefix):
            values[binding.key] = binding.value or ""
            places[binding.key] = f"{label}:{line}"
    if not _defines(values, prefix, blank_ok=blank_ok):
        return None
    return _env_parsed(label, _env_record(label, values, places, prefix))


def read_environ(environ: Mapping[str, str], prefix: str) -> Parsed | None:
    """Read ``{prefix}*`` variables from a mapping such as ``os.environ``.

    Returns:
        The records, or None if no ``{prefix}*`` credential has a value.
    """
    values = {var: value for var, value in environ.items() if _ours(var, prefix)}
    if not _defines(values, prefix, blank_ok=False):
        return None
    label = "the environment"
    places = dict.fromkeys(values, label)
    return _env_parsed(label, _env_record(label, values, places, prefix))


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
    records = parsed.records
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
    values = []
    for record in records:
        data = record.data
        if type(data) is dict and not _ALIAS_ONLY.isdisjoint(data):
            _check_aliases(record)
        values.append(data)
    try:
        accounts = _accounts_adapter().validate_python(values)
    except ValidationError as exc:
        error = _located_error(exc, records)
    else:
        duplicate = find_duplicate(accounts)
        if duplicate is None:
            return AccountList.model_construct(accounts)
        error = CredentialsError(f"{parsed.label}: {duplicate}")
    raise error from None


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


def validate_app(record: Record) -> App:
    """Validate an app section, a 2-line file, or the consumer half of an account record.

    Raises:
        CredentialsError: the consumer key or secret is missing or malformed.
    """
    if isinstance(record.data, dict) and not _ALIAS_ONLY.isdisjoint(record.data):
        _check_aliases(record, ("consumer_key", "consumer_secret"))
    try:
        return App.__pydantic_validator__.validate_python(record.data)  # type: ignore[no-any-return]
    except ValidationError as exc:
        error = _located_error(exc, [record], indexed=False)
    raise error from None


def _located_error(
    exc: ValidationError, records: Sequence[Record], *, indexed: bool = True
) -> CredentialsError:
    """One message for every error: ``<place>: <what>; <how to fix>``, joined by ``; ``."""
    parts: list[str] = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        loc = error["loc"]
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
    if format is not None and format not in _FORMATS:
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
    _check_format(format)
    path = Path(os.fspath(source)).expanduser()
    label = str(path)
    text = decode(read_bytes(path), label)
    if not text.strip(_STRIP):
        raise CredentialsError(f"{label}: is empty; no accounts in it")
    fmt = format or guess_format(path, text)
    if fmt == "json":
        return read_json(text, label)
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


def _parse(source: StrPath | None, format: Format | None, prefix: str) -> Parsed:
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
    return validate_records(_parse(source, format, prefix))


def select_account(
    accounts: AccountList,
    account: str | int | None,
    label: str,
    environ: Mapping[str, str] | None = None,
) -> Account:
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
            if re.fullmatch(r"-?\d+", choice):
                return _by_index(accounts, int(choice), label, names, "TWCREDS_ACCOUNT")
            wanted = choice.removeprefix("@")
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
        hint = f"; to pick by position, pass account={wanted} (an int)" if wanted.isdigit() else ""
        msg = f"{label} has no account @{wanted} (accounts: {names}){hint}"
        raise CredentialsError(msg) from None


def _by_index(accounts: AccountList, index: int, label: str, names: str, what: str) -> Account:
    if -len(accounts) <= index < len(accounts):
        return accounts[index]
    msg = (
        f"{what}={index} is out of range: {label} holds {len(accounts)} accounts ({names});"
        f" use 0 to {len(accounts) - 1} or a screen name"
    )
    raise CredentialsError(msg)


def load_account(
    source: StrPath | None = None,
    *,
    account: str | int | None = None,
    format: Format | None = None,
    prefix: str = "TWITTER_",
) -> Account:
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
        raise CredentialsError(f"{parsed.label}: no app or accounts in it; add the app's keys")
    apps = [validate_app(record) for record in parsed.records]
    if any(app != apps[0] for app in apps):
        msg = (
            f"{parsed.label}: its accounts belong to different apps;"
            " keep the app's consumer key and secret in a file of their own"
        )
        raise CredentialsError(msg)
    return apps[0]
