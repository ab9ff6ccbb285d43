"""Storing accounts: private, atomic writes of the guide's multi-account JSON list.

The file written is what the guide's plain loop reads::

    [
      {
        "consumer_key": "...",
        "consumer_secret": "...",
        "access_token": "...",
        "access_token_secret": "...",
        "screen_name": "bot1",
        "user_id": "1234"
      }
    ]

Every write goes through a temporary file in the same folder, created with mode 0600, that
is fsynced and then renamed over the target, and the folder is fsynced after the rename: a
crash at any moment leaves the old file or the new one, never a torn one. Writers take an
exclusive lock on a lock file next to the target (``.accounts.json.lock``, left in place),
so concurrent :func:`add_account` and :func:`remove_account` calls, from any number of
processes, lose nothing. Locking uses ``flock`` on POSIX and ``msvcrt.locking`` on Windows;
a writer waits for the lock at most ``lock_timeout`` seconds (``$TWCREDS_LOCK_TIMEOUT``,
else 30).
"""

from __future__ import annotations

import contextlib
import errno
import json
import math
import os
import re
import secrets
import stat
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import cast

from twcreds.errors import CredentialsError, CredentialsNotFoundError, printable
from twcreds.formats import Format, decode, dump_accounts, format_from_name, read_json
from twcreds.models import (
    OAUTH2_ALIASES,
    Account,
    AccountList,
    AnyAccount,
    OAuth2Account,
    PendingAuthorization,
    PendingOAuth2Authorization,
    find_duplicate,
    is_bearer_record,
    names_of,
)
from twcreds.oskeyring import KEYRING_KEY
from twcreds.sources import (
    MAX_FILE_SIZE,
    PROCESS_KEY,
    StrPath,
    account_records,
    read_bytes,
    resolve_entries,
    validate_records,
)

__all__ = [
    "add_account",
    "add_accounts",
    "check_pending_target",
    "load_pending",
    "refresh_stored",
    "remove_account",
    "rescue_account",
    "save_accounts",
    "save_pending",
    "save_pending_oauth2",
    "stored_accounts",
    "write_private",
]

_FILE_MODE = 0o600
#: Entries that keep their secrets elsewhere (a secret manager, the keyring).
_INDIRECT = frozenset({PROCESS_KEY, KEYRING_KEY})
_DIR_MODE = 0o700
# O_EXCL makes creation fail rather than follow a symlink or reuse a file someone planted;
# O_NOFOLLOW says the same for the lock file, which is opened without O_EXCL.
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
# Without O_BINARY, Windows would turn every "\n" written into "\r\n".
_COMMON_FLAGS = getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0) | _NOFOLLOW
_TEMP_SUFFIX = ".tmp"
_TEMP_HEX = 16
#: Seconds a writer waits for another to release the lock, unless told otherwise.
DEFAULT_LOCK_TIMEOUT = 30.0
LOCK_TIMEOUT_VARIABLE = "TWCREDS_LOCK_TIMEOUT"
#: Twitter's rule for screen names and user ids: only these may name a rescue file.
_SCREEN_NAME = re.compile(r"[A-Za-z0-9_]{1,15}")
_USER_ID = re.compile(r"[0-9]{1,20}")


if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 0, os.SEEK_SET)
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EDEADLOCK):  # another process holds it
                return False
            raise
        return True

    def _unlock(fd: int) -> None:
        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # another process holds it
            return False
        return True

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


# --- public API ------------------------------------------------------------------------


def save_accounts(
    path: StrPath,
    accounts: Iterable[AnyAccount],
    *,
    format: Format | None = None,
    prefix: str = "TWITTER_",
    lock_timeout: float | None = None,
) -> None:
    """Write ``accounts`` to ``path``, replacing the file atomically.

    The format is taken from the name as loading takes it (``*.json``; ``.env``, ``*.env``,
    ``.env.*``), and is the guide's JSON list for any other name; ``format="lines"`` writes
    the guide's 4-line file. The accounts are validated before the disk is touched. The
    file gets mode 0600 whatever the umask, and missing folders are created with mode 0700.
    An empty iterable writes ``[]``, which :func:`~twcreds.load_accounts` reports as
    holding no accounts. The text written is `twcreds.formats.dump_accounts`'.

    Args:
        path: the file to write; a symlink is followed and the file it points to replaced,
            except a link that another user planted in a sticky, world-writable folder
            (such as ``/tmp``), which is refused as the kernel's ``fs.protected_symlinks``
            refuses it.
        accounts: the accounts, in the order to store them.
        format: ``"json"``, ``"lines"`` or ``"env"`` (these two hold one account); None
            takes it from the name.
        prefix: the variable prefix for ``env``.
        lock_timeout: seconds to wait for another writer's lock (0: do not wait; ``inf``:
            as long as it takes); None takes ``$TWCREDS_LOCK_TIMEOUT``, else 30.

    Raises:
        CredentialsError: two accounts share an access token or a screen name, a lines or
            env file would hold other than one account, the path goes through a link
            planted by another user, the lock cannot be taken (the file system cannot
            lock, or another writer held it past ``lock_timeout``), or the file cannot be
            written (a full disk, a read-only folder, a directory in the way); the old
            file, if any, is left as it was.
        TypeError, ValueError: ``lock_timeout`` is not a number of seconds.
    """
    shown = os.fspath(path)
    chosen = format or format_from_name(Path(shown)) or "json"
    checked = _checked(list(accounts), shown, "not saved")
    try:
        text = dump_accounts(checked, chosen, prefix=prefix)
    except CredentialsError as exc:
        raise CredentialsError(f"{shown}: not saved: {exc}") from None
    target = _resolve(path)
    with _locked(target, shown, create=True, timeout=lock_timeout):
        _write(target, text.encode("utf-8"), len(checked), shown)


def add_account(
    path: StrPath, account: AnyAccount, *, lock_timeout: float | None = None
) -> AccountList:
    """Add ``account`` to the list at ``path``, or replace the entry it updates.

    An entry is the same account when it has the same ``user_id``; failing that, the same
    access token; failing that, the same screen name (case-insensitive). That entry is
    replaced in place; otherwise the account is appended. A missing file (or folder)
    starts an empty list. The read, the change and the write happen under an exclusive
    lock, so concurrent callers lose nothing.

    Two different ``user_id`` under one screen name are two real accounts (a name Twitter
    gave to someone else after a rename): that is refused, rather than dropping the stored
    account's working credentials. Entries are matched per kind: an OAuth 2.0 account
    never replaces an OAuth 1.0a one of the same user, nor the other way round.

    Args:
        path: a JSON list of accounts (or a single account), rewritten as the guide's list;
            links are followed as `save_accounts` follows them.
        account: the account to store.
        lock_timeout: seconds to wait for another writer's lock (0: do not wait; ``inf``:
            as long as it takes); None takes ``$TWCREDS_LOCK_TIMEOUT``, else 30.

    Returns:
        The accounts now in the file.

    Raises:
        CredentialsError: the existing file is malformed or has an ``"app"`` section (it is
            left untouched), the screen name belongs to a stored account with another
            ``user_id``, or the lock cannot be taken or the file written (as for
            `save_accounts`).
        TypeError: ``account`` is not an `Account` or `OAuth2Account`.
        TypeError, ValueError: ``lock_timeout`` is not a number of seconds.
    """
    return add_accounts(path, [account], lock_timeout=lock_timeout)


def add_accounts(
    path: StrPath,
    accounts: Iterable[AnyAccount],
    *,
    keyring: str | None = None,
    lock_timeout: float | None = None,
) -> AccountList:
    """Add several accounts as `add_account` adds one, in one locked read-modify-write.

    All of them are added, or none: the file is written once, after every account has
    found its place.

    Args:
        path: the accounts file.
        accounts: the accounts to store.
        keyring: a service name: keep the accounts' secrets in the OS keyring under it
            (``pip install 'twcreds[keyring]'``) and write entries without them,
            ``{"keyring": SERVICE, ...}``. OAuth 1.0a accounts only: an OAuth 2.0 token
            changes at every refresh.
        lock_timeout: seconds to wait for another writer's lock, as for `save_accounts`.

    Raises:
        CredentialsError: as `add_account`, or the keyring failed; nothing is written.
        TypeError: an item is not an `Account` or `OAuth2Account`.
    """
    new = list(accounts)
    for account in new:
        if not isinstance(account, Account | OAuth2Account):
            kind = type(account).__name__
            msg = (
                f"add_account needs an Account or OAuth2Account, not {kind}:"
                " use Account.model_validate(...)"
            )
            raise TypeError(msg)
    shown = os.fspath(path)
    target = _resolve(path)
    what = f"{new[0].label} not added" if len(new) == 1 else f"{len(new)} accounts not added"
    if keyring is not None:
        _check_keyring_accounts(new, keyring, shown)
    with _locked(target, shown, create=True, timeout=lock_timeout):
        stored, kept, bearers = _stored_entries(Path(shown).expanduser(), missing_ok=True)
        for account in new:
            index = _find_same(stored, account, shown)
            if index is None:
                stored.append(account)
            elif not _holds_newer_pair(stored[index], account):
                stored[index] = account
        checked = _checked(stored, shown, what)
        if keyring is not None:
            kept.update(_to_keyring(new, keyring, shown))
        _write(target, _serialize(checked, kept, bearers), len(checked), shown)
    return checked


def _check_keyring_accounts(accounts: list[AnyAccount], service: str, shown: str) -> None:
    if not service.strip() or not service.isprintable():
        msg = f"{shown}: the keyring service name must be printable text, such as 'twcreds'"
        raise CredentialsError(msg)
    for account in accounts:
        if not isinstance(account, Account):
            msg = (
                f"{shown}: {account.label} is an OAuth 2.0 account, whose tokens change at"
                " every refresh: the keyring keeps OAuth 1.0a accounts only; add it without"
                " --keyring"
            )
            raise CredentialsError(msg)


def _to_keyring(
    accounts: list[AnyAccount], service: str, shown: str
) -> dict[int, dict[str, object]]:
    """Keep each account's secrets in the keyring; the store entries that replace them."""
    from twcreds.oskeyring import KEYRING_KEY, SECRET_KEYS, set_secrets

    entries: dict[int, dict[str, object]] = {}
    for account in accounts:
        values = account.model_dump(mode="json", exclude_none=True)
        secrets = {key: values.pop(key) for key in SECRET_KEYS}
        set_secrets(service, _token(account), secrets, f"{shown}: {account.label}")
        entries[id(account)] = {KEYRING_KEY: service, **values}
    return entries


def remove_account(path: StrPath, name: str, *, lock_timeout: float | None = None) -> AnyAccount:
    """Remove the account named ``name`` from the list at ``path``, under the lock.

    Removing the last account leaves the file in place holding ``[]``, so that a later
    :func:`add_account` keeps its place and the guide's loop simply finds nothing;
    :func:`~twcreds.load_accounts` reports such a file as holding no accounts.

    Args:
        path: a JSON accounts file.
        name: the first of these that matches: a screen name (case-insensitive, ``@``
            optional); a user id, which also matches an account without one whose access
            token starts with ``<user id>-``; an index in the list, as ``twcreds list``
            shows it (``"#0"`` or ``"0"`` for the first). An account from the guide's
            4-line file has no screen name or user id: name it by index or by its access
            token's user id.
        lock_timeout: seconds to wait for another writer's lock, as for `save_accounts`.

    Returns:
        The removed account.

    Raises:
        CredentialsNotFoundError: there is no file at ``path``.
        CredentialsError: no account has that name (the message lists the stored ones),
            several have that user id (one user authorized for several apps: the message
            lists their indexes), the file is malformed or has an ``"app"`` section (it is
            left untouched), or the lock cannot be taken or the file written.
        TypeError: ``name`` is not a str.
        TypeError, ValueError: ``lock_timeout`` is not a number of seconds.
    """
    if not isinstance(name, str):
        msg = (
            "remove_account needs a screen name, user id or index as a str,"
            f" not {type(name).__name__}"
        )
        raise TypeError(msg)
    shown = os.fspath(path)
    target = _resolve(path)
    if not os.path.lexists(target):
        read_bytes(Path(shown).expanduser())  # raises the loader's own "no such file" error
    with _locked(target, shown, create=False, timeout=lock_timeout):
        accounts, kept, bearers = _stored_entries(Path(shown).expanduser(), missing_ok=False)
        index = _find_named(accounts, name, shown)
        if index is None:
            wanted = name.strip().removeprefix("@")
            if len(wanted) > 40:
                wanted = wanted[:40] + "..."
            wanted = printable(wanted if wanted.startswith("#") else f"@{wanted}")
            known = names_of(_removal_label(i, a) for i, a in enumerate(accounts)) or "none"
            msg = (
                f"{shown}: no account {wanted} to remove (accounts: {known}); name one by"
                " screen name, user id, or index as `twcreds list` shows it (#0 is the first)"
            )
            raise CredentialsError(msg)
        removed = accounts.pop(index)
        left = AccountList(accounts)
        _write(target, _serialize(left, kept, bearers), len(accounts), shown)
    entry = kept.get(id(removed))
    if entry is not None:
        from twcreds.oskeyring import KEYRING_KEY, delete_secrets

        # The file no longer names the item; a keyring that fails now leaves it behind,
        # which the removal that already happened should not be reported as failing for.
        with contextlib.suppress(CredentialsError):
            delete_secrets(str(entry[KEYRING_KEY]), str(entry["access_token"]), shown)
    return removed


# --- any private file, and reading the store ------------------------------------------


def write_private(path: StrPath, data: bytes) -> None:
    """Write any file the way credentials are written: mode 0600, atomically.

    A temporary file beside ``path`` is written, fsynced and renamed over it; missing
    folders are created 0700; temporary files that a crashed writer of ``path`` left behind
    are removed. Used for files that hold secrets but are not account lists, such as a
    pending authorization's state. Links are followed as `save_accounts` follows them.

    Raises:
        CredentialsError: the path goes through a link planted by another user, or the
            file cannot be written; the old one, if any, is unchanged.
    """
    target = _resolve(path)
    try:
        _make_folders(target.parent)
        _replace_atomically(target, data)
        _fsync_directory(target.parent)
    except OSError as exc:
        raise _write_error(str(path), exc) from None


def stored_accounts(path: StrPath, *, missing_ok: bool = True) -> list[AnyAccount]:
    """The accounts in a store file, read as `add_account` reads it, without the lock.

    A missing, blank or ``[]`` file is an empty list: `add_account` can add to any of
    them. Use it to check a file before work that cannot be repeated (the PIN flow spends
    its PIN). Entries kept in the OS keyring get their secrets from it.

    Raises:
        CredentialsNotFoundError: the file is missing and ``missing_ok`` is false.
        CredentialsError: the file is malformed, has an ``"app"`` section, which the
            store would not keep, or ``credential_process`` entries; or the keyring failed.
    """
    return _stored_entries(path, missing_ok=missing_ok)[0]


def _stored_entries(
    path: StrPath, *, missing_ok: bool
) -> tuple[list[AnyAccount], dict[int, dict[str, object]], list[object]]:
    """A store file's accounts, its keyring entries by ``id(account)``, and its app-only
    bearer-token entries (which a rewrite keeps, after the accounts)."""
    path = Path(os.fspath(path)).expanduser()
    try:
        data = read_bytes(path)
    except CredentialsNotFoundError:
        if missing_ok:
            return [], {}, []
        raise
    text = decode(data, str(path))
    if not text.strip():
        # A file the user created empty (`touch`) holds nothing that could be lost.
        return [], {}, []
    parsed = read_json(text, str(path))
    if parsed.app is not None:
        # The store writes the guide's plain list; rewriting this file would drop the
        # app section (and, with the last account removed, the app's secret with it).
        msg = (
            f'{path}: has an "app" section, which twcreds does not rewrite; keep this file'
            " for the app, and save accounts to a list file of their own (accounts.json)"
        )
        raise CredentialsError(msg)
    if any(isinstance(r.data, dict) and "credential_process" in r.data for r in parsed.records):
        # Rewriting the file would store the secrets the command printed in its place.
        msg = (
            f"{path}: holds credential_process entries, which twcreds reads but does not"
            " rewrite; keep them in a file of their own (name it with TWCREDS_FILE), and"
            " save accounts to another file"
        )
        raise CredentialsError(msg)
    if not parsed.records:
        return [], {}, []
    # Numbered as validate_records numbers the accounts: app-only bearer tokens left out.
    records = account_records(parsed)
    bearers = [record.data for record in parsed.records if is_bearer_record(record.data)]
    if not records:
        return [], {}, bearers
    entries = {
        index: dict(record.data)
        for index, record in enumerate(records)
        if isinstance(record.data, dict) and "keyring" in record.data
    }
    accounts = list(validate_records(resolve_entries(parsed)))
    # Written back as they were: the keyring keeps their secrets, the file never does.
    kept = {id(accounts[index]): entry for index, entry in entries.items()}
    return accounts, kept, bearers


# --- the other files that hold secrets -------------------------------------------------


def save_pending(path: StrPath, pending: PendingAuthorization) -> None:
    """Keep the first half of the PIN flow in a private file, for `load_pending` to finish.

    The file holds the app's consumer secret and the request token's secret: it is written
    as credentials are (mode 0600, atomically) and should be deleted once used. An
    existing file is replaced only if it is a pending authorization already, or empty
    (``mktemp`` makes one): see `check_pending_target`.

    Raises:
        CredentialsError: ``path`` is another file, or the file cannot be written.
    """
    check_pending_target(path)
    write_private(path, pending.model_dump_json(indent=2).encode("utf-8"))


def check_pending_target(path: StrPath) -> None:
    """Fail, before the flow starts, if `save_pending` would refuse ``path``.

    A pending state (of either flow) may replace an older one, or an empty file, never
    anything else: an accounts file named by mistake would lose every account.

    Raises:
        CredentialsError: ``path`` exists and is not a pending authorization, or goes
            through a link planted by another user.
    """
    shown = Path(os.fspath(path)).expanduser()
    _resolve(path)
    if not os.path.lexists(shown):
        return
    try:
        text: str | None = decode(read_bytes(shown), str(shown))
    except CredentialsNotFoundError:
        return  # a dangling link: writing follows it, as for any file
    except CredentialsError:
        text = None  # a folder, a device, not text: no pending state either
    if text is not None and (not text.strip() or _is_pending(text)):
        return
    msg = (
        f"{shown} exists and is not a pending authorization from `twcreds authorize"
        " --url-only`; choose another --state file (or delete this one if you are sure)"
    )
    raise CredentialsError(msg)


def _is_pending(text: str) -> bool:
    """Whether ``text`` is a saved pending authorization, of either flow."""
    for kind in (PendingAuthorization, PendingOAuth2Authorization):
        try:
            kind.model_validate_json(text)
        except CredentialsError:
            continue
        return True
    return False


def load_pending(path: StrPath) -> PendingAuthorization:
    """Read back what `save_pending` kept, checking it as credentials are checked.

    Raises:
        CredentialsNotFoundError: there is no file at ``path``.
        CredentialsError: the file is not a pending authorization.
    """
    shown = Path(os.fspath(path)).expanduser()
    try:
        text = decode(read_bytes(shown), str(shown))
    except CredentialsNotFoundError:
        msg = (
            f"{shown}: no pending authorization there; start with"
            f" `twcreds authorize APP_SOURCE --url-only --state {shown}`"
        )
        raise CredentialsNotFoundError(msg) from None
    try:
        return PendingAuthorization.model_validate_json(text)
    except CredentialsError as exc:
        msg = f"{shown}: not a pending authorization from `twcreds authorize --url-only`: {exc}"
        raise CredentialsError(msg) from None


def rescue_account(account: AnyAccount, path: StrPath) -> Path | None:
    """Keep an account that could not be added to ``path`` in a private file of its own.

    Twitter hands an access token out once: an account authorized but not saved would
    have to be authorized again. The file, ``<name>.rescued-<screen name>.json``, is the
    guide's JSON list of one account; it goes beside ``path``, or failing that into the
    working directory. The account came from Twitter: its screen name names the file only
    if it is one Twitter can give (``[A-Za-z0-9_]{1,15}``), else its user id if that is
    digits, else the file is ``<name>.rescued-account.json``.

    Returns:
        Where the account was kept, or None if no place could take it.
    """
    target = Path(os.fspath(path)).expanduser()
    name = f"{target.name}.rescued-{_rescue_label(account)}.json"
    data = dump_accounts([account], "json").encode("utf-8")
    for rescue in dict.fromkeys([target.parent / name, Path(name)]):  # beside it, else here
        try:
            write_private(rescue, data)
        except CredentialsError:
            continue
        return rescue
    return None


def _rescue_label(account: AnyAccount) -> str:
    """What names a rescue file: never remote text that could hold ``/`` or ``..``."""
    if account.screen_name is not None and _SCREEN_NAME.fullmatch(account.screen_name):
        return account.screen_name
    if account.user_id is not None and _USER_ID.fullmatch(account.user_id):
        return account.user_id
    return "account"


def save_pending_oauth2(path: StrPath, pending: PendingOAuth2Authorization) -> None:
    """Keep the first half of the PKCE flow (its code verifier included) in a private file.

    An existing file is replaced only as `save_pending` replaces one.

    Raises:
        CredentialsError: ``path`` is another file, or the file cannot be written.
    """
    check_pending_target(path)
    write_private(path, pending.model_dump_json(indent=2).encode("utf-8"))


# --- OAuth 2.0 refresh write-back ------------------------------------------------------


def refresh_stored(
    path: StrPath,
    current: OAuth2Account,
    exchange: Callable[[OAuth2Account], OAuth2Account],
    *,
    needed: Callable[[OAuth2Account], bool],
    request_timeout: float = 30.0,
) -> OAuth2Account | None:
    """Renew a stored OAuth 2.0 account under the store's lock, so no rotated token is lost.

    Under the lock the file is read again and the stored entry for ``current`` found (the
    same client and user). If ``needed(stored)`` is false, another process has already
    renewed it (or it still has time): the stored account is returned and nothing is sent.
    Otherwise ``exchange`` spends the stored refresh token (the newest there is) and the
    new pair is written back atomically before it is returned, so that the only moment a
    crash can lose it is between the token endpoint's answer and the rename.

    Args:
        path: the JSON file the account was loaded from (a list, one object, or an
            ``{"app": ..., "accounts": [...]}`` file; its layout and other entries are kept).
        current: the account as the caller last knew it.
        exchange: performs the refresh; it raises on any failure, and then nothing is
            written.
        needed: whether the stored account needs ``exchange``.
        request_timeout: the token request's timeout (per connect and per read). Another
            process may hold the lock through its own token request, so the wait for the
            lock is at least twice this plus 30 seconds (or ``$TWCREDS_LOCK_TIMEOUT``, if
            longer): a slow refresh elsewhere is waited for, not mistaken for a stuck one.

    Returns:
        The stored account, renewed or not; None, with nothing sent or written, when its
        entry keeps its secrets elsewhere (``credential_process``, the keyring): the file
        cannot take a new pair then, and the caller refreshes in memory.

    Raises:
        CredentialsError: the account is no longer in the file, or the file cannot be read
            or written (the old file is left as it was).
        TwcredsError: whatever ``exchange`` raised; nothing stored changed.
    """
    shown = os.fspath(path)
    target = _resolve(path)
    wait = max(_lock_timeout(None), 2 * request_timeout + DEFAULT_LOCK_TIMEOUT)
    with _locked(target, shown, create=False, timeout=wait):
        text = decode(read_bytes(Path(shown).expanduser()), shown)
        parsed = read_json(text, shown)
        # Only the entries that hold their own values: one that keeps its secrets
        # elsewhere (a secret manager, the keyring) is neither run nor rewritten here.
        plain = [
            record
            for record in account_records(parsed)
            if not (isinstance(record.data, dict) and not record.data.keys().isdisjoint(_INDIRECT))
        ]
        indirect = len(plain) < len(account_records(parsed))
        accounts = list(validate_records(replace(parsed, records=plain))) if plain else []
        index = _find_stored(accounts, current)
        if index is None:
            if indirect:
                return None  # an entry of those, most likely: refreshed in memory
            msg = (
                f"{shown}: {current.label} (OAuth 2.0) is no longer stored there, so its"
                " refreshed token would have nowhere to go; nothing was refreshed. Add it"
                " back (`twcreds add`) or authorize again (`twcreds authorize --oauth2`)"
            )
            raise CredentialsError(msg)
        stored = cast(OAuth2Account, accounts[index])  # _find_stored finds only these
        record = plain[index]
        if not needed(stored):
            return stored
        raw = json.loads(text)
        try:
            _remove_stale_temps(target)
            # Created before the request, so that once X has answered (and retired the old
            # refresh token) nothing is left but to write, fsync and rename: the one window
            # where a crash loses the new pair is as short as the write itself.
            fd, temp = _create_temp(target)
        except OSError as exc:
            raise _write_error(shown, exc) from None
        try:
            renewed = exchange(stored)
            entry = renewed.model_dump(mode="json", exclude_none=True)
            if record.position is None:
                raw = _merged(raw, entry)
            else:
                items = raw["accounts"] if record.section == "accounts" else raw
                items[record.position] = _merged(items[record.position], entry)
            data = (json.dumps(raw, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        reason: str | None = None
        try:
            _fill_and_rename(fd, temp, target, data)
        except OSError as exc:
            reason = _reason(exc)
        if reason is not None:
            # X has retired the old refresh token: the new pair must be kept somewhere.
            rescue = rescue_account(renewed, Path(shown).expanduser())
            kept = f"it is kept in {rescue} (mode 0600)" if rescue else "it could not be kept"
            msg = (
                f"{shown}: {renewed.label}'s refreshed token could not be saved ({reason});"
                f" {kept}: once the file is writable, `twcreds add` it, or authorize again"
            )
            raise CredentialsError(msg)
        with contextlib.suppress(OSError):
            _fsync_directory(target.parent)
    return renewed


def _merged(old: object, entry: dict[str, object]) -> dict[str, object]:
    """The new entry, keeping the keys of the old one that are not OAuth 2.0 fields."""
    kept = (
        {k: v for k, v in old.items() if k not in OAUTH2_ALIASES} if isinstance(old, dict) else {}
    )
    return {**entry, **kept}


def _find_stored(accounts: list[AnyAccount], current: OAuth2Account) -> int | None:
    """The stored OAuth 2.0 entry that is ``current``: same client, and same user or token."""
    candidates = [
        index
        for index, stored in enumerate(accounts)
        if isinstance(stored, OAuth2Account) and stored.client_id == current.client_id
    ]
    tokens = {_token(current)}
    if current.refresh_token is not None:
        tokens.add(current.refresh_token.get_secret_value())
    for index in candidates:
        stored = accounts[index]
        if current.user_id is not None and stored.user_id == current.user_id:
            return index
    for index in candidates:
        stored = accounts[index]
        secrets_held = {_token(stored)}
        if isinstance(stored, OAuth2Account) and stored.refresh_token is not None:
            secrets_held.add(stored.refresh_token.get_secret_value())
        if secrets_held & tokens:
            return index
    if current.screen_name is not None:
        wanted = current.screen_name.casefold()
        for index in candidates:
            name = accounts[index].screen_name
            if name is not None and name.casefold() == wanted:
                return index
    if current.user_id is None and current.screen_name is None:
        # Added without a name or id (from TWITTER_OAUTH2_* variables, say) and rotated by
        # another process since: the one nameless entry of this client is the one.
        nameless = [
            i for i in candidates if accounts[i].user_id is None and not accounts[i].screen_name
        ]
        if len(nameless) == 1:
            return nameless[0]
    return None


# --- reading and matching --------------------------------------------------------------


def _token(account: AnyAccount) -> str:
    token = account.access_token
    return token if isinstance(token, str) else token.get_secret_value()


def _find_same(accounts: list[AnyAccount], new: AnyAccount, shown: str) -> int | None:
    """The index of the stored entry of the same kind that ``new`` updates, or None."""
    kind = type(new)
    if new.user_id is not None:
        for index, old in enumerate(accounts):
            if type(old) is kind and old.user_id == new.user_id:
                return index
    for index, old in enumerate(accounts):
        # The same access token is the same credential, whatever else was recorded with it.
        if type(old) is kind and _token(old) == _token(new):
            return index
    if new.screen_name is None:
        return None
    wanted = new.screen_name.casefold()
    for index, old in enumerate(accounts):
        if type(old) is not kind:
            continue
        if old.screen_name is None or old.screen_name.casefold() != wanted:
            continue
        if old.user_id is not None and new.user_id is not None:
            msg = (
                f"{shown}: [{index}] @{old.screen_name} is user {old.user_id}, but the account"
                f" being added as @{new.screen_name} is user {new.user_id}: two accounts."
                f" If the stored one is stale, remove it first: `twcreds remove"
                f" {old.user_id} --file {shown}` (or remove_account(path, {old.user_id!r}))"
            )
            raise CredentialsError(msg)
        return index
    return None


def _holds_newer_pair(stored: AnyAccount, incoming: AnyAccount) -> bool:
    """Whether ``stored`` is an OAuth 2.0 pair newer than ``incoming``'s, of the same client.

    Re-importing another tool's file (or adding an old copy) must not put back a refresh
    token that twcreds has already spent: the stored, later-expiring pair is kept.
    """
    return (
        isinstance(stored, OAuth2Account)
        and isinstance(incoming, OAuth2Account)
        and stored.client_id == incoming.client_id
        and stored.expires_at > incoming.expires_at
    )


def _find_named(accounts: list[AnyAccount], name: str, shown: str) -> int | None:
    """The index that ``name`` picks for `remove_account`: screen name, user id, index."""
    wanted = name.strip().removeprefix("@")
    folded = wanted.casefold()
    named = [
        index
        for index, account in enumerate(accounts)
        if account.screen_name is not None and account.screen_name.casefold() == folded
    ]
    if named:
        # Both kinds may hold one name: AccountList's lookup says which, and how to choose.
        return accounts.index(AccountList.model_construct(accounts)[name])
    # ASCII digits only: str.isdigit() also takes "\u0661" and "\u00b2".
    if _USER_ID.fullmatch(wanted):
        # The guide's 4-line file records no user id, but its access token starts with it.
        same = [
            index
            for index, account in enumerate(accounts)
            if account.user_id == wanted or _token_user(account) == wanted
        ]
        if len(same) > 1:
            labels = ", ".join(f"#{index}" for index in same)
            msg = (
                f"{shown}: user {wanted} has {len(same)} accounts here ({labels}), one per"
                f" app or kind; remove one by its index, as `twcreds list {shown}` shows it:"
                f" `twcreds remove '#{same[0]}' --file {shown}`"
                f" (or remove_account(path, '#{same[0]}'))"
            )
            raise CredentialsError(msg)
        if same:
            return same[0]
    position = wanted.removeprefix("#")
    # More than 18 digits is out of any list's range, and int() of thousands would fail.
    is_index = position.isascii() and position.isdigit() and len(position) <= 18
    return int(position) if is_index and int(position) < len(accounts) else None


def _token_user(account: AnyAccount) -> str | None:
    """The user id an OAuth 1.0a access token starts with (``1234-...``), if any."""
    if not isinstance(account, Account):
        return None  # an OAuth 2.0 token is a secret, and names nobody
    user, dash, _ = account.access_token.partition("-")
    return user if dash and _USER_ID.fullmatch(user) else None


def _removal_label(index: int, account: AnyAccount) -> str:
    """``@name``; an account without one by its index and user id, as `remove` takes it."""
    if account.screen_name:
        return account.label
    user_id = account.user_id or _token_user(account)
    return f"#{index} (user {user_id})" if user_id else f"#{index}"


def _checked(accounts: list[AnyAccount], shown: str, what: str) -> AccountList:
    """Validate the list to be written; nothing touches the disk if it fails."""
    # Accounts get the plain duplicate message; anything else is left to the model's checks.
    known = all(isinstance(a, Account | OAuth2Account) for a in accounts)
    duplicate = find_duplicate(accounts) if known else None
    if duplicate is not None:
        raise CredentialsError(f"{shown}: {what}: {duplicate}")
    try:
        return AccountList(accounts)
    except CredentialsError as exc:
        raise CredentialsError(f"{shown}: {what}: {exc}") from None


# --- writing ---------------------------------------------------------------------------


def _serialize(
    accounts: AccountList,
    kept: Mapping[int, dict[str, object]],
    bearers: Sequence[object] = (),
) -> bytes:
    """The store's own format: the guide's JSON list; keyring entries (``kept``) as they
    are, and app-only bearer-token entries after the accounts."""
    if not bearers and not any(id(account) in kept for account in accounts):
        return dump_accounts(accounts, "json").encode("utf-8")
    items: list[object] = [
        kept.get(id(account)) or account.model_dump(mode="json", exclude_none=True)
        for account in accounts
    ]
    items += bearers
    return (json.dumps(items, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _resolve(path: StrPath) -> Path:
    """The real path to write: links followed, as ``os.path.realpath`` follows them.

    A link (a dotfiles repo, say) is followed so that the rename replaces the file it
    points to instead of the link, and so that every name of one file shares one lock.
    But the renames then go to a path resolved here, in user space, where the kernel's
    ``fs.protected_symlinks`` cannot step in: so its rule is applied here to every link
    on the way, and a link planted by another user in a sticky, world-writable folder
    (``/tmp``) is refused rather than followed onto their victim's file.

    Raises:
        CredentialsError: the path goes through such a link.
    """
    shown = os.fspath(path)
    # Not abspath(): it would drop "link/.." as text, where the OS goes up from the target.
    todo = os.path.join(os.getcwd(), os.path.expanduser(shown)).split(os.sep)[::-1]
    resolved = os.path.abspath(os.sep)  # the root ("C:\\" on Windows)
    if todo and todo[-1] and os.name != "posix":  # pragma: no cover - a Windows drive
        resolved = todo.pop() + os.sep
    links = 0
    while todo:
        part = todo.pop()
        if part in ("", os.curdir):
            continue
        if part == os.pardir:
            resolved = os.path.dirname(resolved)
            continue
        candidate = os.path.join(resolved, part)
        try:
            info = os.lstat(candidate)
            if not stat.S_ISLNK(info.st_mode):
                resolved = candidate
                continue
            _check_link(shown, candidate, info, resolved)
            links += 1
            if links > 40:  # a loop: leave the rest to the OS, which reports ELOOP
                raise OSError(errno.ELOOP, os.strerror(errno.ELOOP))
            target = os.readlink(candidate)
        except OSError:
            # Missing (or unreadable): nothing to follow; the rest is taken as written.
            return Path(os.path.join(candidate, *reversed(todo)))
        if os.path.isabs(target):
            resolved = os.path.abspath(os.sep)
        todo.extend(reversed(target.split(os.sep)))
    return Path(resolved)


def _check_link(shown: str, link: str, info: os.stat_result, folder: str) -> None:
    """Refuse what ``fs.protected_symlinks`` refuses: in a sticky world-writable folder, a
    link owned by neither the user nor the folder's owner."""
    if os.name != "posix" or info.st_uid == os.geteuid():
        return
    try:
        place = os.stat(folder)
    except OSError:
        return  # the OS will fail on this path with its own error
    shared = place.st_mode & stat.S_ISVTX and place.st_mode & stat.S_IWOTH
    if shared and info.st_uid != place.st_uid:
        msg = (
            f"{shown}: {link} is a symbolic link owned by another user (uid {info.st_uid})"
            f" in the world-writable sticky folder {folder}: twcreds does not follow it,"
            " as the kernel's fs.protected_symlinks does not, since anyone there can plant"
            " a link to another file; if you trust it, name the file it points to, or"
            " keep the file in a folder of your own"
        )
        raise CredentialsError(msg)


def _write(target: Path, data: bytes, count: int, shown: str) -> None:
    if len(data) > MAX_FILE_SIZE:
        msg = (
            f"{shown}: not saved: {count} accounts take {len(data):,} bytes, more than"
            f" the {MAX_FILE_SIZE:,}-byte limit for reading a credentials file back;"
            " split them over several files"
        )
        raise CredentialsError(msg)
    try:
        _replace_atomically(target, data)
    except OSError as exc:
        raise _write_error(shown, exc) from None
    try:
        _fsync_directory(target.parent)
    except OSError as exc:
        msg = (
            f"{shown}: saved, but the folder could not be flushed to disk"
            f" ({_reason(exc)}); the change may not survive a power failure"
        )
        raise CredentialsError(msg) from None


def _replace_atomically(target: Path, data: bytes) -> None:
    """Write ``data`` to a private temporary file beside ``target``, then rename it over.

    Temporary files that crashed writers of ``target`` left behind are removed first.
    """
    _remove_stale_temps(target)
    fd, temp = _create_temp(target)
    _fill_and_rename(fd, temp, target, data)


def _fill_and_rename(fd: int, temp: str, target: Path, data: bytes) -> None:
    """Write ``data`` to the open temporary file, fsync it, rename it over ``target``, close it.

    On any failure the temporary file is closed and removed, and the error raised.
    """
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
            if os.name != "posix":  # pragma: no cover - Windows cannot rename an open file
                os.close(fd)
                fd = -1
            # Renamed while still open, so still locked: a sweep never takes it for stale.
            os.replace(temp, target)
        finally:
            if fd >= 0:
                os.close(fd)
    except BaseException:
        # BaseException too: a KeyboardInterrupt must not leave secrets in a stray file.
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def _create_temp(target: Path) -> tuple[int, str]:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _COMMON_FLAGS
    while True:
        temp = os.path.join(target.parent, _temp_name(target.name))
        try:
            fd = os.open(temp, flags, _FILE_MODE)
        except FileExistsError:  # pragma: no cover - 64 random bits collided
            continue
        try:
            _ensure_private(fd)
            claimed = _claim(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise
        if not claimed:  # pragma: no cover - a sweep opened it before the lock: it goes
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(temp)
            continue
        return fd, temp


def _claim(fd: int) -> bool:
    """Lock a temporary file just created, for as long as it exists under its name.

    The lock tells a sweep (`_remove_stale_temps`) that its writer is alive. False if a
    sweep got there first; True, unlocked, where the file system cannot lock (a sweep
    then cannot lock the file either, and leaves it).
    """
    if os.name != "posix":  # pragma: no cover - Windows cannot delete an open file anyway
        return True
    try:
        return _try_lock(fd)
    except OSError:
        return True


def _temp_name(name: str) -> str:
    return f".{name}.{secrets.token_hex(_TEMP_HEX // 2)}{_TEMP_SUFFIX}"


def _ensure_private(fd: int) -> None:
    """Give an empty file we just created mode 0600 if the umask took owner bits away.

    The file is created 0600 minus the umask, so it is never more open than 0600; this
    only adds the owner's read and write back (a umask of 0o277 or 0o777), before any
    secret is written.
    """
    if os.name == "posix" and os.fstat(fd).st_mode & 0o777 != _FILE_MODE:
        os.fchmod(fd, _FILE_MODE)


def _remove_stale_temps(target: Path) -> None:
    """Delete temporary files left by writers of ``target`` that crashed: they hold secrets.

    Every writer holds a lock on its temporary file from creation to rename (`_claim`),
    and the OS drops the lock of a process that dies: a file of this exact name pattern
    whose lock can be taken belongs to a writer that is gone. Only the user's own regular
    files are touched: in a shared folder, another user's are theirs to clean (and the
    sticky bit would refuse it). Best effort: whatever cannot be checked or removed stays.
    """
    pattern = re.compile(
        rf"\.{re.escape(target.name)}\.[0-9a-f]{{{_TEMP_HEX}}}{re.escape(_TEMP_SUFFIX)}"
    )
    try:
        with os.scandir(target.parent) as entries:
            stale = [entry.path for entry in entries if pattern.fullmatch(entry.name)]
    except OSError:
        return  # the write itself will say what is wrong with the folder
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | _COMMON_FLAGS
    for temp in stale:
        if os.name != "posix":  # pragma: no cover - Windows refuses to delete an open file
            with contextlib.suppress(OSError):
                os.unlink(temp)
            continue
        try:
            fd = os.open(temp, flags)
        except OSError:
            continue
        try:
            info = os.fstat(fd)
            # The last test: the file locked is still the one under that name.
            if (
                info.st_uid == os.geteuid()
                and stat.S_ISREG(info.st_mode)
                and _try_lock(fd)
                and os.path.samestat(info, os.lstat(temp))
            ):
                os.unlink(temp)
        except OSError:
            continue
        finally:
            os.close(fd)


def _fsync_directory(directory: Path) -> None:
    if os.name != "posix":  # pragma: no cover - Windows cannot open a folder for fsync
        return
    fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    except OSError as exc:
        # Some file systems cannot fsync a folder at all; the rename has still happened.
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP, errno.EBADF):
            raise
    finally:
        os.close(fd)


# --- folders and the lock --------------------------------------------------------------


def _make_folders(directory: Path) -> None:
    """Create ``directory`` and any missing parent with mode 0700; leave existing ones be."""
    missing: list[Path] = []
    current = directory
    while not os.path.isdir(current):
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, _DIR_MODE)
        except FileExistsError:
            if os.path.isdir(folder):  # another process made it first
                continue
            raise
        if os.name == "posix" and os.stat(folder).st_mode & 0o777 != _DIR_MODE:
            # The umask took owner bits away (0o777 leaves d---------): only add them back.
            os.chmod(folder, _DIR_MODE)


@contextlib.contextmanager
def _locked(
    target: Path, shown: str, *, create: bool, timeout: float | None = None
) -> Iterator[None]:
    """Hold the exclusive lock for ``target``: ``flock`` on ``.{name}.lock`` beside it.

    The data file itself cannot carry the lock: each write renames a new file over it,
    and a lock held on the old inode would not exclude a writer that opened the new one.
    Waits at most ``timeout`` seconds (see `_lock_timeout`) for another writer.
    """
    wait = _lock_timeout(timeout)
    lock_path = target.parent / f".{target.name}.lock"
    try:
        if create:
            _make_folders(target.parent)
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | _COMMON_FLAGS, _FILE_MODE)
    except FileNotFoundError as exc:
        if not create:
            read_bytes(
                Path(shown).expanduser()
            )  # the folder is gone: the loader's "no such file" error
        raise _write_error(shown, exc) from None
    except OSError as exc:
        raise _write_error(shown, exc) from None
    try:
        with contextlib.suppress(OSError):
            # Only the owner should be able to take the lock and hold writers up.
            _ensure_private(fd)
        try:
            locked = _wait_for_lock(fd, wait)
        except OSError as exc:
            raise _lock_error(shown, lock_path, exc) from None
        if not locked:
            waited = f" for {wait:g} seconds" if wait else ""
            msg = (
                f"{shown}: not changed: another process has held its lock {lock_path}"
                f"{waited}; if no other twcreds is at work,"
                " one is stopped (Ctrl-Z, a debugger) or hung: end it and try again. To wait"
                f" longer, set {LOCK_TIMEOUT_VARIABLE} (seconds; inf waits as long as it"
                " takes) or pass lock_timeout="
            )
            raise CredentialsError(msg)
        try:
            yield
        finally:
            _unlock(fd)
    finally:
        os.close(fd)


def _wait_for_lock(fd: int, timeout: float) -> bool:
    """Take the lock, trying until ``timeout`` seconds have passed; False if they did.

    Non-blocking tries with growing pauses (as the filelock package polls): a blocking
    ``flock`` cannot be given a deadline without a signal, which only the main thread
    may use.
    """
    deadline = time.monotonic() + timeout
    pause = 0.001
    while not _try_lock(fd):
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        time.sleep(min(pause, left))
        pause = min(pause * 2, 0.05)
    return True


def _lock_timeout(value: float | None) -> float:
    """``lock_timeout=``, else ``$TWCREDS_LOCK_TIMEOUT``, else 30 seconds: checked.

    Raises:
        CredentialsError: the variable is not a number of seconds.
        TypeError, ValueError: the keyword is not a number of seconds.
    """
    if value is None:
        text = os.environ.get(LOCK_TIMEOUT_VARIABLE, "").strip()
        if not text:
            return DEFAULT_LOCK_TIMEOUT
        try:
            # ASCII only: float() would also take "\u0661" (an Arabic-Indic one).
            seconds = float(text) if text.isascii() else math.nan
        except ValueError:
            seconds = math.nan
        if not seconds >= 0:
            shown = printable(text if len(text) <= 40 else text[:40] + "...")
            msg = (
                f"{LOCK_TIMEOUT_VARIABLE}: '{shown}' is not a number of seconds to wait for"
                f" the lock; set it to one (`export {LOCK_TIMEOUT_VARIABLE}=30`; 0 does not"
                " wait, inf waits as long as it takes), or unset it for 30"
            )
            raise CredentialsError(msg)
        return seconds
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"lock_timeout must be a number of seconds or None, not {type(value).__name__}"
        raise TypeError(msg)
    if not value >= 0:
        raise ValueError(f"lock_timeout must be 0 or more seconds, not {value!r}")
    # An int too large for a float means: as long as it takes.
    return math.inf if value > 1e18 else float(value)


# --- messages --------------------------------------------------------------------------

_REASONS = {
    errno.ENOSPC: ("no space left on device", "free some space and try again"),
    errno.EDQUOT: ("disk quota exceeded", "free some space and try again"),
    errno.EFBIG: ("the file is too large for this process or file system", "save it elsewhere"),
    errno.EROFS: ("the file system is read-only", "save it in a writable folder"),
    errno.EACCES: (
        "permission denied",
        "make the folder writable by you (`chmod u+w FOLDER`) or save it elsewhere",
    ),
    errno.EPERM: ("operation not permitted", "check the folder's permissions and attributes"),
    errno.EISDIR: ("it is a directory", "name a file, e.g. accounts.json inside it"),
    errno.ENOTDIR: ("a part of the path is a file, not a folder", "check the path"),
    errno.EEXIST: ("a file stands where its folder should be", "check the path"),
    errno.ENOENT: ("its folder does not exist", "check the path"),
    errno.ELOOP: ("too many symbolic links", "check the path"),
    errno.ENAMETOOLONG: ("the name is too long", "use a shorter path"),
}


def _reason(exc: OSError) -> str:
    if exc.errno in _REASONS:
        return _REASONS[exc.errno][0]
    return exc.strerror or type(exc).__name__


def _lock_error(shown: str, lock_path: Path, exc: OSError) -> CredentialsError:
    """``flock`` failed outright: a file system without locking (NFS without its lock
    daemon answers ENOLCK, some FUSE and network mounts EOPNOTSUPP or EIO)."""
    msg = (
        f"{shown}: cannot save the accounts: the file system cannot lock {lock_path}"
        f" ({exc.strerror or type(exc).__name__}), and without the lock concurrent writers"
        " could lose accounts; keep the accounts file on a local disk, or enable locking"
        " on this mount (NFS: run its lock service, rpc.statd; or mount it with"
        " local_lock=flock if only this machine writes there). The old file is unchanged"
    )
    return CredentialsError(msg)


def _write_error(shown: str, exc: OSError) -> CredentialsError:
    """A message naming the file, what failed and the fix; the OS error carries no secret."""
    reason, fix = _REASONS.get(
        exc.errno or 0, (exc.strerror or type(exc).__name__, "check the path and the disk")
    )
    msg = f"{shown}: cannot save the accounts: {reason}; {fix}. The old file is unchanged"
    return CredentialsError(msg)
