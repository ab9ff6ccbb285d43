"""Credential file formats: pure text <-> records, one section per format.

Each format's reader sits beside its writer, as python-dotenv keeps its parser apart from
the functions that act on files. Readers turn text (or a mapping such as the environment)
into raw records (:class:`Record`), each carrying its place (file, line, list index, variable
name) so that one validation step (`twcreds.sources.validate_records`) can say where a bad
value is; writers turn validated accounts back into text. Nothing here touches the disk,
the network or ``os.environ``.

Formats: ``json`` (one account, a list, or ``{"app": ..., "accounts": [...]}``), ``lines``
(the guide's 4-line file, or 2 lines for an app) and ``env`` (``TWITTER_*=...`` lines).
"""

from __future__ import annotations

import io
import json
import json.decoder
import json.scanner
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from dataclasses import field as dataclass_field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, NamedTuple, get_args

from twcreds.errors import CredentialsError
from twcreds.models import (
    _STRIP,
    ALIASES,
    CANONICAL,
    OAUTH2_ALIASES,
    Account,
    AnyAccount,
    OAuth2Account,
    is_oauth2_record,
    name_suffix,
)

__all__ = [
    "BEARER_READERS",
    "BEARER_VARIABLE",
    "ENVIRONMENT",
    "FORMATS",
    "LINE_FIELDS",
    "PEER_FILE_NAMES",
    "WRITABLE_FORMATS",
    "Format",
    "Parsed",
    "ReadFile",
    "Record",
    "decode",
    "dump_accounts",
    "format_from_name",
    "guess_format",
    "read_bearer_env",
    "read_bearer_environ",
    "read_bearer_json",
    "read_env",
    "read_environ",
    "read_json",
    "read_lines",
    "read_values",
    "variable_names",
]

Format = Literal["json", "lines", "env", "twurlrc", "twarc", "twarc2", "xurl"]
#: The formats, in the order the command line lists them.
FORMATS: tuple[Format, ...] = get_args(Format)
#: The formats twcreds writes; the others are peer tools' files, read in place
#: (`twcreds.peers`).
WRITABLE_FORMATS: tuple[Format, ...] = ("json", "lines", "env")
#: Peer tools' files by their names: twurl's and t's (x's) YAML, twarc's INI, xurl's.
PEER_FILE_NAMES: Mapping[str, Format] = MappingProxyType(
    {
        ".twurlrc": "twurlrc",
        ".trc": "twurlrc",
        ".xrc": "twurlrc",
        ".twarc": "twarc",
        ".xurl": "xurl",
    }
)
ENVIRONMENT = "the environment"

_ENV_LINE = re.compile(r"^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_.]*\s*=")
# Only keys of ours are quoted in messages: any other could be a value pasted as a key.
_KNOWN_KEYS = frozenset({*CANONICAL, *OAUTH2_ALIASES, "app", "accounts"})
_CONSUMER_KEYS = frozenset(ALIASES["consumer_key"] + ALIASES["consumer_secret"])
_TOKEN_FIELDS = ("access_token", "access_token_secret")


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
    #: The records are process environment variables, not a file's.
    environment: bool = False
    #: The JSON file the records came from, where a refreshed OAuth 2.0 token is written
    #: back; None for other formats and the environment.
    path: Path | None = None
    #: The record the source marks as its default (a peer tool's default profile): the
    #: account chosen when several are held and none is asked for.
    default: int | None = None
    #: One user may hold several apps' accounts (twurl keys profiles by user, then by
    #: consumer key): a screen name repeats only as a duplicate within one app.
    per_app: bool = False
    #: What kind of place the records came from, for ``twcreds status``: ``"file"``,
    #: ``"directory"``, ``"process"`` (the environment: `environment`).
    origin: str = "file"
    #: Records of another kind of place than `origin`: index -> kind (a store entry run
    #: as a ``credential_process``, or read from the keyring).
    origins: Mapping[int, str] = dataclass_field(default_factory=dict)


# --- text ----------------------------------------------------------------------------

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


def format_from_name(path: Path) -> Format | None:
    """The format a file's name says, or None.

    ``*.json``; ``.env``, ``*.env``, ``.env.*``; the peer tools' files: ``.twurlrc``,
    ``.trc``, ``.xrc``, ``.twarc``, ``.xurl``, ``config`` inside a ``twarc`` folder (twarc2's
    click app dir), ``auth.yml`` inside a ``.xurl`` folder.
    """
    name = path.name.lower()
    peer = PEER_FILE_NAMES.get(name)
    if peer is not None:
        return peer
    parent = path.parent.name.lower()
    if name == "config" and parent == "twarc":
        return "twarc2"
    if name == "auth.yml" and parent == ".xurl":
        return "xurl"
    if name.endswith(".json"):
        return "json"
    if name == ".env" or name.endswith(".env") or name.startswith(".env."):
        return "env"
    return None


_TOP_KEY = re.compile(r"^(profiles|configuration|apps|default_app)\s*:", re.MULTILINE)
_INI_SECTION = re.compile(r"^\s*\[[^\]\n]+\]\s*$", re.MULTILINE)
_INI_KEY = re.compile(r"^\s*(consumer_key|access_token|bearer_token)\s*=", re.MULTILINE)


def _sniff_peer(text: str) -> Format | None:
    """A peer tool's file under another name: twurl's or xurl's YAML, twarc's INI."""
    top = {match.group(1) for match in _TOP_KEY.finditer(text)}
    if top & {"apps", "default_app"}:
        return "xurl"
    if top & {"profiles", "configuration"}:
        return "twurlrc"
    if _INI_KEY.search(text):
        return "twarc" if _INI_SECTION.search(text) else "twarc2"
    return None


def guess_format(path: Path, text: str) -> Format:
    """Take the format from the file name, or failing that from the content."""
    named = format_from_name(path)
    if named is not None:
        return named
    if text.lstrip("\ufeff \t\r\n").startswith(("{", "[")):
        return "json"
    peer = _sniff_peer(text)
    if peer is not None:
        return peer
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
        if (
            app is not None
            and isinstance(item, dict)
            and not _CONSUMER_KEYS & item.keys()
            and not is_oauth2_record(item)
        ):
            record = record._replace(data={**app, **item})
        records.append(record)
    app_record = Record(app, f"{label}: app") if app is not None else None
    return Parsed(label, records, app_record)


# --- lines -----------------------------------------------------------------------------

#: The fields a lines file holds, in the guide's order.
LINE_FIELDS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")


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
    fields = list(zip(LINE_FIELDS, numbered, strict=False))
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


#: OAuth 2.0 account fields -> their variable names behind the prefix. The screen name and
#: user id are shared with OAuth 1.0a's; the token variables say OAUTH2 so that one
#: environment can hold an account of each kind.
OAUTH2_VARIABLES: Mapping[str, str] = MappingProxyType(
    {
        "client_id": "CLIENT_ID",
        "client_secret": "CLIENT_SECRET",
        "access_token": "OAUTH2_ACCESS_TOKEN",
        "refresh_token": "OAUTH2_REFRESH_TOKEN",
        "expires_at": "OAUTH2_EXPIRES_AT",
        "scopes": "OAUTH2_SCOPES",
        "screen_name": "SCREEN_NAME",
        "user_id": "USER_ID",
    }
)
_SHARED_FIELDS = frozenset({"screen_name", "user_id"})
_OAUTH2_TOKENS = frozenset({"access_token", "refresh_token", "expires_at"})


def _oauth2_env_keys(prefix: str) -> dict[str, str]:
    """Variable name -> field, for the OAuth 2.0 variables behind ``prefix``."""
    return {f"{prefix}{var}": field for field, var in OAUTH2_VARIABLES.items()}


def _env_parsed(
    label: str, values: Mapping[str, str], places: Mapping[str, str], prefix: str
) -> Parsed:
    """The accounts (or the app) the ``{prefix}*`` variables define: of either kind, or both."""
    oauth2 = _oauth2_env_keys(prefix)
    own2 = {var for var in values if var in oauth2 and oauth2[var] not in _SHARED_FIELDS}
    if not own2:
        return _oauth1_parsed(label, _env_record(label, values, places, prefix))
    oauth1 = _env_keys(prefix)
    shared = {var for var in values if oauth2.get(var) in _SHARED_FIELDS}
    own1 = {var for var in values if var in oauth1 and var not in shared}
    # Unknown variables are kept as spelling hints, with the kind they sit beside.
    unknown = {var for var in values if var not in oauth1 and var not in oauth2}
    chosen = own2 | shared | (set() if own1 else unknown)
    chosen_values = {var: values[var] for var in values if var in chosen}
    record = _oauth2_record(label, chosen_values, places, oauth2, prefix)
    parsed = Parsed(label, [])
    if own1:
        rest = {var: value for var, value in values.items() if var not in own2}
        parsed = _oauth1_parsed(label, _env_record(label, rest, places, prefix))
    if not _OAUTH2_TOKENS.isdisjoint(oauth2[var] for var in own2):
        return Parsed(label, [*parsed.records, record], parsed.app)
    # An OAuth 2.0 client without tokens (for `twcreds authorize --oauth2`), beside an
    # OAuth 1.0a account or alone; an OAuth 1.0a app section keeps its place.
    return parsed if parsed.app is not None else Parsed(label, parsed.records, app=record)


def _oauth2_record(
    label: str,
    values: Mapping[str, str],
    places: Mapping[str, str],
    oauth2: Mapping[str, str],
    prefix: str,
) -> Record:
    data: dict[str, str] = {}
    names: dict[str, str] = {}
    where: dict[str, str] = {}
    for var, value in values.items():
        # An unknown name is kept without the prefix (and OAUTH2_), for spelling hints.
        key = oauth2.get(var) or var[len(prefix) :].lower().removeprefix("oauth2_")
        data[key] = value
        names[key] = var
        where[key] = places[var]
    for var, field in oauth2.items():
        names.setdefault(field, var)
    return Record(data, label, where, names)


def _oauth1_parsed(label: str, record: Record) -> Parsed:
    if any(CANONICAL.get(key) in _TOKEN_FIELDS for key in record.data):
        return Parsed(label, [record])
    return Parsed(label, [], app=record)


#: How a loader hands a reader the content of a ``VAR_FILE``: (path, variable) -> value.
ReadFile = Callable[[str, str], str]
_FILE_SUFFIX = "_FILE"


def variable_names(prefix: str) -> frozenset[str]:
    """Every credential variable behind ``prefix``, of either kind (without ``_FILE``)."""
    return frozenset(_env_keys(prefix).keys() | _oauth2_env_keys(prefix).keys())


def _with_files(
    values: Mapping[str, str],
    places: Mapping[str, str],
    prefix: str,
    read_file: ReadFile | None,
) -> tuple[dict[str, str], dict[str, str]]:
    """Replace each ``VAR_FILE`` (Docker's convention) by ``VAR``, read from the named file.

    Raises:
        CredentialsError: ``VAR`` and ``VAR_FILE`` are both set; or from ``read_file``.
    """
    if read_file is None or not any(var.endswith(_FILE_SUFFIX) for var in values):
        return dict(values), dict(places)
    known = variable_names(prefix)
    out = dict(values)
    where = dict(places)
    for var, value in values.items():
        stem = var.removesuffix(_FILE_SUFFIX)
        if stem == var or stem not in known:
            continue
        del out[var]
        path = value.strip(_STRIP)
        if not path:
            continue
        if values.get(stem, "").strip(_STRIP):
            msg = (
                f"{places[var]}: both {stem} and {var} are set; keep only one of them"
                f" ({var} names a file holding the value)"
            )
            raise CredentialsError(msg)
        out[stem] = read_file(path, var)
        where[stem] = f"{path} ({var})"
    return out, where


def _ours(var: str, prefix: str) -> bool:
    """A variable behind ``prefix``, or behind a mis-cased one (kept only as a spelling hint)."""
    return var.startswith(prefix) or var[: len(prefix)].upper() == prefix.upper()


def _defines(values: Mapping[str, str], prefix: str, *, blank_ok: bool) -> bool:
    wanted = _env_keys(prefix).keys() | _oauth2_env_keys(prefix).keys()
    return any(var in wanted and (blank_ok or value.strip()) for var, value in values.items())


def read_env(
    text: str,
    label: str,
    prefix: str,
    *,
    blank_ok: bool = True,
    read_file: ReadFile | None = None,
) -> Parsed | None:
    """Read a dotenv file with python-dotenv's parser; ``os.environ`` is neither read nor set.

    python-dotenv's parser is used directly rather than ``dotenv_values`` because it keeps
    each binding's line, so a message can say ``.env:4``; values are taken literally
    (no ``${VAR}`` interpolation, which would read the process environment).

    ``{prefix}NAME_FILE=PATH`` gives ``{prefix}NAME`` the content of that file, stripped,
    read through ``read_file`` (the loader's safe read); without ``read_file`` such a
    variable is only a spelling hint.

    Returns:
        The records, or None if the file defines no ``{prefix}*`` credential (with
        ``blank_ok=False``, none with a value).

    Raises:
        CredentialsError: a line that mentions ``prefix`` cannot be parsed, or a variable
            is set both as ``NAME`` and as ``NAME_FILE``.
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
    values, places = _with_files(values, places, prefix, read_file)
    if not _defines(values, prefix, blank_ok=blank_ok):
        return None
    return _env_parsed(label, values, places, prefix)


def read_values(
    label: str, values: Mapping[str, str], places: Mapping[str, str], prefix: str
) -> Parsed | None:
    """Records from ``{prefix}*`` values gathered elsewhere (a secrets directory's files).

    Returns:
        The records, or None if no ``{prefix}*`` credential has a value.
    """
    if not _defines(values, prefix, blank_ok=False):
        return None
    return _env_parsed(label, values, places, prefix)


def read_environ(
    environ: Mapping[str, str], prefix: str, *, read_file: ReadFile | None = None
) -> Parsed | None:
    """Read ``{prefix}*`` variables from a mapping such as ``os.environ``.

    ``{prefix}NAME_FILE`` variables are read as in `read_env`.

    Returns:
        The records, or None if no ``{prefix}*`` credential has a value.

    Raises:
        CredentialsError: a variable is set both as ``NAME`` and as ``NAME_FILE``.
    """
    values = {var: value for var, value in environ.items() if _ours(var, prefix)}
    values, places = _with_files(values, dict.fromkeys(values, ENVIRONMENT), prefix, read_file)
    if not _defines(values, prefix, blank_ok=False):
        return None
    return replace(_env_parsed(ENVIRONMENT, values, places, prefix), environment=True)


# --- app-only bearer tokens ------------------------------------------------------------

#: The variable an app-only bearer token is read from, behind the prefix.
BEARER_VARIABLE = "BEARER_TOKEN"


def read_bearer_json(text: str, label: str) -> list[Record]:
    """The app-only bearer tokens of a JSON file: every object with a ``bearer_token``.

    An object of any of the three account shapes may hold one (the app section too); its
    ``consumer_key``, if any, says whose app it is. Accounts' own values are not kept.

    Raises:
        CredentialsError: the text is not JSON, or not one of the shapes.
    """
    parsed = read_json(text, label)
    found = [parsed.app] if parsed.app is not None else []
    found += parsed.records
    return [
        _bearer_record(r) for r in found if isinstance(r.data, dict) and "bearer_token" in r.data
    ]


def _bearer_record(record: Record) -> Record:
    data = {
        key: value
        for key, value in record.data.items()
        if key == "bearer_token" or CANONICAL.get(key) == "consumer_key"
    }
    return record._replace(data=data)


def _bearer_from_values(
    label: str, values: Mapping[str, str], places: Mapping[str, str], prefix: str
) -> list[Record]:
    token_var = f"{prefix}{BEARER_VARIABLE}"
    if not values.get(token_var, "").strip():
        return []
    data = {"bearer_token": values[token_var]}
    names = {"bearer_token": token_var}
    where = {"bearer_token": places[token_var]}
    for alias in ALIASES["consumer_key"]:
        var = f"{prefix}{alias.upper()}"
        if var in values:
            data[alias], names[alias], where[alias] = values[var], var, places[var]
            names["consumer_key"] = var
            break
    return [Record(data, label, where, names)]


def read_bearer_env(text: str, label: str, prefix: str) -> list[Record]:
    """The app-only bearer token of a dotenv file: ``{prefix}BEARER_TOKEN`` (and the app's
    ``{prefix}CONSUMER_KEY``), or none."""
    from dotenv.parser import parse_stream  # lazy: keep `import twcreds` fast

    values: dict[str, str] = {}
    places: dict[str, str] = {}
    for binding in parse_stream(io.StringIO(text)):
        if not binding.error and binding.key is not None and binding.key.startswith(prefix):
            values[binding.key] = binding.value or ""
            places[binding.key] = f"{label}:{binding.original.line}"
    return _bearer_from_values(label, values, places, prefix)


def read_bearer_environ(environ: Mapping[str, str], prefix: str) -> list[Record]:
    """The app-only bearer token of a mapping such as ``os.environ``, or none."""
    values = {var: value for var, value in environ.items() if var.startswith(prefix)}
    places = dict.fromkeys(values, ENVIRONMENT)
    return _bearer_from_values(ENVIRONMENT, values, places, prefix)


#: Format -> the reader of its app-only bearer tokens, ``(text, label, prefix) -> records``.
#: A format not here holds none (the 4-line file). Peer tools' files register their own
#: readers here (twurl's ``bearer_tokens:`` section, keyed by consumer key; twarc2's and
#: xurl's bearer tokens), under the format name `guess_format` gives them.
BEARER_READERS: dict[str, Callable[[str, str, str], list[Record]]] = {
    "json": lambda text, label, prefix: read_bearer_json(text, label),
    "env": read_bearer_env,
}


# --- writing ---------------------------------------------------------------------------


def dump_accounts(
    accounts: AnyAccount | Iterable[AnyAccount],
    format: Format = "json",
    *,
    prefix: str = "TWITTER_",
) -> str:
    """Write accounts as the text of a ``json``, ``lines`` or ``env`` file (real secrets).

    ``json`` writes the guide's multi-account list for an iterable (``[]`` for none), and
    the guide's single-account object for one account; either reads back with
    `twcreds.load_accounts`, and OAuth 1.0a accounts alone with the guide's plain
    ``json.load`` loop. ``lines`` writes the guide's four lines (OAuth 1.0a only); ``env``
    writes ``{prefix}CONSUMER_KEY=...`` lines (``{prefix}CLIENT_ID=...`` and
    ``{prefix}OAUTH2_*`` for OAuth 2.0), with the screen name and user id when known. Both
    hold one account.

    Args:
        accounts: one account, or the accounts in the order to write them.
        format: ``"json"``, ``"lines"`` or ``"env"``.
        prefix: the variable prefix for ``env``.

    Raises:
        CredentialsError: ``lines`` or ``env`` for other than one account, or an unknown
            format.
        TypeError: an item is not an `Account`.
    """
    if format not in WRITABLE_FORMATS:
        msg = f"format={format!r} is not a format twcreds writes; use 'json', 'lines' or 'env'"
        raise CredentialsError(msg)
    single = isinstance(accounts, Account | OAuth2Account)
    items = [accounts] if isinstance(accounts, Account | OAuth2Account) else list(accounts)
    for item in items:
        if not isinstance(item, Account | OAuth2Account):
            msg = f"dump_accounts needs Account or OAuth2Account objects, not {type(item).__name__}"
            raise TypeError(msg)
    records = [item.model_dump(mode="json", exclude_none=True) for item in items]
    if format == "json":
        value: object = records[0] if single else records
        return json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    if len(records) != 1:
        article = "an" if format == "env" else "a"
        msg = (
            f"{article} {format} file holds one account, not {len(records)};"
            " write each to a file of its own, or write json"
        )
        raise CredentialsError(msg)
    (values,) = records
    if isinstance(items[0], OAuth2Account):
        if format == "lines":
            msg = (
                "a lines file holds the guide's four OAuth 1.0a values, not an OAuth 2.0"
                " account; write json or env"
            )
            raise CredentialsError(msg)
        values["scopes"] = " ".join(values["scopes"])
        names: Iterable[tuple[str, str]] = OAUTH2_VARIABLES.items()
    elif format == "lines":
        return "\n".join(values[name] for name in LINE_FIELDS) + "\n"
    else:
        names = ((name, name.upper()) for name in (*LINE_FIELDS, "screen_name", "user_id"))
    lines = [f"# Twitter credentials for {items[0].label}, written by twcreds"]
    lines += [
        f"{prefix}{var}={_env_value(values[name])}"
        for name, var in names
        if name in values and values[name] != ""
    ]
    return "\n".join(lines) + "\n"


def _env_value(value: str) -> str:
    """A dotenv value, single-quoted only when it holds characters dotenv would interpret."""
    if value and all(c.isalnum() or c in "-_.@/+:=" for c in value):
        return value
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
