"""Peer tools' credential files, read in place: pure text -> records, as `twcreds.formats`.

Bot authors arrive with credentials in another tool's file; these readers turn each into
the same raw records (`twcreds.formats.Record`) the other formats give, each carrying its
place (file, profile, key), for the one validation step of `twcreds.sources`. They never
write these files: twcreds copies accounts into its own store (``twcreds import``).

- ``twurlrc``: twurl's ``~/.twurlrc``, t's ``~/.trc`` and x's ``~/.xrc`` (one YAML layout:
  ``profiles: {USER: {CONSUMER_KEY: {username, consumer_key, consumer_secret, token,
  secret}}}``, ``configuration: {default_profile: [USER, CONSUMER_KEY]}``, and twurl's
  ``bearer_tokens: {CONSUMER_KEY: TOKEN}``).
- ``twarc``: twarc's ``~/.twarc``, INI, one section per profile; the first is the default.
- ``twarc2``: twarc2's ``config`` (configobj with ``unrepr``: ``key = 'value'`` lines, no
  section), one credential set.
- ``xurl``: xurl's ``~/.xurl/auth.yml`` (YAML: ``apps: {NAME: {client_id, client_secret,
  default_user, oauth2_tokens: {USER: {oauth2: {access_token, refresh_token,
  expiration_time}}}, oauth1_token: {oauth1: {...}}, bearer_token: {bearer}}}``,
  ``default_app``) or the older single JSON file ``~/.xurl`` (one app, no client id).

YAML is parsed with PyYAML's ``safe_load``, which builds only plain mappings, lists and
scalars: never a loader that constructs objects a file names. Unknown keys are ignored.
"""

from __future__ import annotations

import configparser
from collections.abc import Mapping
from typing import Any

from twcreds.errors import CredentialsError, printable
from twcreds.formats import Parsed, Record

__all__ = [
    "read_twarc",
    "read_twarc2",
    "read_twurlrc",
    "read_xurl",
    "twarc2_bearer_tokens",
    "twurl_bearer_tokens",
    "xurl_bearer_tokens",
]

# twurl's own names for the account's values, as twurl's OAuthClient#to_hash writes them.
_TWURL_NAMES = {
    "consumer_key": "consumer_key",
    "consumer_secret": "consumer_secret",
    "access_token": "token",
    "access_token_secret": "secret",
    "screen_name": "username",
}
_TWARC_KEYS = ("consumer_key", "consumer_secret", "access_token", "access_token_secret")
_XURL_OAUTH1 = {
    "consumer_key": "consumer_key",
    "consumer_secret": "consumer_secret",
    "access_token": "access_token",
    "access_token_secret": "token_secret",
}


def _shown(name: object) -> str:
    """A profile or app name for a message: escaped, cut if long (it could be a paste)."""
    text = printable(str(name))
    return repr(text if len(text) <= 40 else text[:40] + "...")


def _yaml(text: str, label: str) -> Any:
    """Parse YAML with the safe loader; an error gives the line, never the text."""
    import yaml  # lazy: only peer files need it

    try:
        return yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "cannot be parsed"
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark is not None else label
        # The problem text is PyYAML's own ("mapping values are not allowed here"); the
        # snippet it can add after it quotes the file, so it is left out.
        first = printable(problem.splitlines()[0] if problem.strip() else "cannot be parsed")
        msg = f"{where}: not valid YAML: {first[:100]}; fix the file there"
    except yaml.YAMLError:
        msg = f"{label}: not valid YAML; check the file"
    raise CredentialsError(msg) from None


def _mapping(value: object, where: str, what: str) -> Mapping[Any, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        msg = f"{where}: {what} must be a mapping, not a {type(value).__name__}; check the file"
        raise CredentialsError(msg)
    return value


def _record(entry: Mapping[Any, Any], names: Mapping[str, str], place: str) -> Record:
    """A record from a peer entry: our field -> the value under the peer's key, if present."""
    data = {field: entry[key] for field, key in names.items() if key in entry}
    return Record(data, place, places=dict.fromkeys(names, place), names=names)


# --- twurl, t, x -------------------------------------------------------------------------


def read_twurlrc(text: str, label: str) -> Parsed:
    """Read twurl's ``~/.twurlrc`` (or t's ``~/.trc``, x's ``~/.xrc``): every profile.

    One user authorized with several apps is one record per app. The profile named by
    ``configuration.default_profile`` is the default (`Parsed.default`).

    Raises:
        CredentialsError: not YAML, or not twurl's layout (naming the file, profile and key).
    """
    data = _mapping(_yaml(text, label), label, "the file")
    profiles = _mapping(data.get("profiles"), label, "'profiles'")
    records: list[Record] = []
    default: int | None = None
    wanted = _mapping(data.get("configuration"), label, "'configuration'").get("default_profile")
    for user, by_key in profiles.items():
        apps = _mapping(by_key, f"{label}: profile {_shown(user)}", "its value")
        for number, (consumer_key, entry) in enumerate(apps.items(), 1):
            several = f" (consumer key #{number})" if len(apps) > 1 else ""
            place = f"{label}: profile {_shown(user)}{several}"
            fields = _mapping(entry, place, "its value")
            record = _record(fields, _TWURL_NAMES, place)
            values = dict(record.data)
            values.setdefault("consumer_key", consumer_key)  # twurl keys entries by it
            if not values.get("screen_name"):
                values["screen_name"] = str(user)
            if isinstance(wanted, list) and wanted == [user, consumer_key]:
                default = len(records)
            records.append(record._replace(data=values))
    if not records:
        msg = f"{label}: no profiles in it; authorize one with `twurl authorize` (or `t authorize`)"
        raise CredentialsError(msg)
    return Parsed(label, records, default=default, per_app=True)


def twurl_bearer_tokens(text: str, label: str) -> list[Record]:
    """twurl's ``bearer_tokens: {CONSUMER_KEY: TOKEN}``, as ``bearer_token`` records."""
    data = _mapping(_yaml(text, label), label, "the file")
    tokens = _mapping(data.get("bearer_tokens"), label, "'bearer_tokens'")
    place = f"{label}: bearer_tokens"
    return [
        Record(
            {"bearer_token": token, "consumer_key": str(key)},
            place,
            places={"bearer_token": place, "consumer_key": place},
        )
        for key, token in tokens.items()
    ]


# --- twarc, twarc2 -------------------------------------------------------------------------


def read_twarc(text: str, label: str) -> Parsed:
    """Read twarc's ``~/.twarc``: one INI section per profile; the first is the default.

    Sections holding none of the account keys (twarc's Gnip profiles) are skipped.

    Raises:
        CredentialsError: not INI (with the line), or no account profile.
    """
    parser = _ini(text, label)
    records = []
    for section in parser.sections():
        values = dict(parser.items(section, raw=True))
        if not any(key in values for key in _TWARC_KEYS):
            continue
        place = f"{label}: profile {_shown(section)}"
        record = _record(values, {key: key for key in _TWARC_KEYS}, place)
        data = dict(record.data)
        data["screen_name"] = section  # twarc's configure names the profile after the user
        records.append(record._replace(data=data))
    if not records:
        msg = f"{label}: no profiles with consumer_key and access_token; run `twarc configure`"
        raise CredentialsError(msg)
    return Parsed(label, records, default=0)


def _ini(text: str, label: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=label)
    except configparser.MissingSectionHeaderError as exc:
        msg = f"{label}:{exc.lineno}: a line before the first [profile] section; remove it"
    except configparser.DuplicateSectionError as exc:
        msg = f"{label}:{exc.lineno}: profile {_shown(exc.section)} appears twice; keep one"
    except configparser.DuplicateOptionError as exc:
        msg = (
            f"{label}:{exc.lineno}: profile {_shown(exc.section)}: {_shown(exc.option)}"
            " appears twice; keep one"
        )
    except configparser.ParsingError as exc:
        lines = ", ".join(str(line) for line, _ in exc.errors[:5])
        msg = f"{label}: cannot parse line(s) {lines}; write each value as `key = value`"
    except configparser.Error:
        msg = f"{label}: not a valid INI file; check it"
    else:
        return parser
    raise CredentialsError(msg) from None


def _unrepr(value: str) -> str:
    """configobj's ``unrepr`` strings (``'abc'``) as their text; anything else as written."""
    import ast

    stripped = value.strip()
    if len(stripped) >= 2 and stripped[0] == stripped[-1] and stripped[0] in "'\"":
        try:
            literal = ast.literal_eval(stripped)
        except (ValueError, SyntaxError):
            return value
        if isinstance(literal, str):
            return literal
    return value


def read_twarc2(text: str, label: str) -> Parsed:
    """Read twarc2's ``config`` (``~/.config/twarc/config``): one account, no section.

    twarc2 writes it with configobj's ``unrepr=True``: ``consumer_key = 'value'``.

    Raises:
        CredentialsError: a line cannot be parsed (with the line number).
    """
    parser = _ini("[twarc2]\n" + text, label)
    values = {key: _unrepr(value) for key, value in parser.items("twarc2", raw=True)}
    place = f"{label}: twarc2 config"
    record = _record(values, {key: key for key in _TWARC_KEYS}, place)
    if not any(key in values for key in ("access_token", "access_token_secret")):
        return Parsed(label, [], app=record)
    return Parsed(label, [record], default=0)


def twarc2_bearer_tokens(text: str, label: str) -> list[Record]:
    """twarc2's ``bearer_token``, as a record (with its app's consumer key, if set)."""
    parser = _ini("[twarc2]\n" + text, label)
    values = {key: _unrepr(value) for key, value in parser.items("twarc2", raw=True)}
    if not values.get("bearer_token", "").strip():
        return []
    place = f"{label}: bearer_token"
    data = {"bearer_token": values["bearer_token"]}
    if values.get("consumer_key", "").strip():
        data["consumer_key"] = values["consumer_key"]
    return [Record(data, place, places=dict.fromkeys(data, place))]


# --- xurl --------------------------------------------------------------------------------


def _xurl_apps(text: str, label: str) -> tuple[Mapping[Any, Any], object]:
    """xurl's apps and default app name; the older single-file JSON layout as one app."""
    data = _mapping(_yaml(text, label), label, "the file")
    if "apps" in data:
        return _mapping(data["apps"], label, "'apps'"), data.get("default_app")
    # The layout before xurl 1.0 (store/tokens.go's legacyStore): one app, its client id
    # and secret taken from CLIENT_ID / CLIENT_SECRET at run time, not kept in the file.
    legacy = {
        "oauth2_tokens": data.get("oauth2_tokens"),
        "oauth1_token": data.get("oauth1_tokens"),
        "bearer_token": data.get("bearer_token"),
    }
    return {"default": legacy}, "default"


def read_xurl(text: str, label: str) -> Parsed:
    """Read xurl's ``~/.xurl/auth.yml`` (or the older ``~/.xurl`` file): every app's accounts.

    Each OAuth 2.0 token (``oauth2_tokens``, keyed by user name) is an `OAuth2Account` of
    that app's client (refreshable with its refresh token; xurl records no scopes, so
    ``scopes`` is ``()``); each app's ``oauth1_token`` is an OAuth 1.0a account. The default
    app's ``default_user`` is the default account.

    Raises:
        CredentialsError: not YAML (or JSON), or not xurl's layout (naming the app and key).
    """
    apps, default_app = _xurl_apps(text, label)
    records: list[Record] = []
    default: int | None = None
    for name, app_value in apps.items():
        app_place = f"{label}: app {_shown(name)}"
        app = _mapping(app_value, app_place, "its value")
        client = {key: app[key] for key in ("client_id", "client_secret") if app.get(key)}
        users = _mapping(app.get("oauth2_tokens"), app_place, "'oauth2_tokens'")
        for user, token_value in users.items():
            place = f"{app_place}, user {_shown(user)}"
            token = _mapping(token_value, place, "its value")
            oauth2 = _mapping(token.get("oauth2"), place, "'oauth2'")
            values: dict[str, Any] = {**client, "screen_name": str(user), "scopes": []}
            for field, key in (
                ("access_token", "access_token"),
                ("refresh_token", "refresh_token"),
                ("expires_at", "expiration_time"),
            ):
                if key in oauth2:
                    values[field] = oauth2[key]
            if "client_id" not in values:
                # xurl before 1.0 took it from CLIENT_ID at run time; without it the token
                # can be neither refreshed nor told apart from an OAuth 1.0a account.
                msg = (
                    f"{place}: client_id is missing (the app's OAuth 2.0 client id); add"
                    f" `client_id: ...` to the app in {label}, or let a current xurl move"
                    " the file to ~/.xurl/auth.yml with `xurl auth apps add`"
                )
                raise CredentialsError(msg)
            names = {
                "client_id": "client_id",
                "client_secret": "client_secret",
                "access_token": "oauth2.access_token",
                "refresh_token": "oauth2.refresh_token",
                "expires_at": "oauth2.expiration_time",
                "screen_name": "oauth2_tokens key",
            }
            if name == default_app and user == app.get("default_user"):
                default = len(records)
            records.append(Record(values, place, dict.fromkeys(names, place), names))
        one = app.get("oauth1_token")
        if one is not None:
            place = f"{app_place}, oauth1_token"
            entry = _mapping(_mapping(one, place, "its value").get("oauth1"), place, "'oauth1'")
            names1 = {field: f"oauth1.{key}" for field, key in _XURL_OAUTH1.items()}
            data = {field: entry[key] for field, key in _XURL_OAUTH1.items() if key in entry}
            records.append(Record(data, place, dict.fromkeys(names1, place), names1))
    if not records:
        msg = f"{label}: holds no account tokens; authorize one with `xurl auth oauth2`"
        raise CredentialsError(msg)
    return Parsed(label, records, default=default, per_app=True)


def xurl_bearer_tokens(text: str, label: str) -> list[Record]:
    """Each xurl app's ``bearer_token``, as a record."""
    apps, _ = _xurl_apps(text, label)
    found = []
    for name, app_value in apps.items():
        place = f"{label}: app {_shown(name)}, bearer_token"
        token = _mapping(app_value, place, "its value").get("bearer_token")
        bearer = _mapping(token, place, "its value").get("bearer")
        if bearer:
            found.append(Record({"bearer_token": bearer}, place, {"bearer_token": place}))
    return found
