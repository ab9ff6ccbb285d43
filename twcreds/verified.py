"""When each account was last verified with X, so that `twcreds check` never pays twice.

Under pay-per-use every ``GET /2/users/me`` is a billed read; a check of 200 accounts run
from cron every hour would pay for 4,800 reads a day to learn what one run a day tells.
`VerificationCache` remembers, per account, when X last answered that its credentials are
good, in a small file in the user cache dir (mode 0600, written atomically):
``<user cache dir>/twcreds/verified.json``.

The file never holds a token, nor anything a token could be recovered from: an account is
known by a keyed BLAKE2b hash of what identifies it, under a random 32-byte key made for
this cache file alone. Its entries hold only that hash and a time. An account X rejected
(401, 403) is forgotten, never kept as good, so it is asked about again at every run.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from twcreds.models import Account, AnyAccount

__all__ = ["CACHE_LIFETIME", "VerificationCache", "default_cache_path"]

#: Entries older than this are dropped when the file is written: nobody asks for a check
#: that old to count.
CACHE_LIFETIME = 30 * 24 * 3600.0
_VERSION = 1
_MAX_ENTRIES = 100_000


def default_cache_path() -> Path:
    """``<user cache dir>/twcreds/verified.json`` (on Linux ``$XDG_CACHE_HOME``, default
    ``~/.cache``)."""
    import platformdirs  # lazy: keep `import twcreds` fast

    return Path(platformdirs.user_cache_dir("twcreds", appauthor=False)) / "verified.json"


class VerificationCache:
    """The times accounts were last verified, keyed by a keyed hash; load, ask, record, save.

    A missing, unreadable or malformed file is an empty cache (it only saves calls; it
    never decides anything alone): a fresh key is made, and the next save replaces it.

    Args:
        path: the cache file; None for `default_cache_path`.
        api_base: where the accounts are verified: an answer of the offline Twitter says
            nothing of X, so each API base has entries of its own.
        now: the clock, in epoch seconds (for tests and for one run to use one moment).
    """

    def __init__(
        self, path: Path | None = None, *, api_base: str = "", now: float | None = None
    ) -> None:
        self.path = path or default_cache_path()
        self.api_base = api_base
        self.now = time.time() if now is None else now
        self._key, self._entries = _read(self.path)
        self._forgotten: set[str] = set()

    def _fingerprint(self, account: AnyAccount) -> str:
        """What identifies the account, hashed under this cache's key.

        OAuth 1.0a: all four values, so that a changed secret is asked about again. OAuth
        2.0: the client id and secret and the user id when known, since its tokens change
        every two hours; else the access token. The hash is keyed: the file gives none of
        them away.
        """
        parts: tuple[str, ...]
        if isinstance(account, Account):
            parts = (
                "oauth1",
                account.consumer_key,
                account.consumer_secret.get_secret_value(),
                account.access_token,
                account.access_token_secret.get_secret_value(),
            )
        else:
            secret = account.client_secret.get_secret_value() if account.client_secret else ""
            who = account.user_id or account.access_token.get_secret_value()
            kind = "oauth2" if account.user_id is not None else "oauth2-token"
            parts = (kind, account.client_id, secret, who)
        parts = (self.api_base, *parts)
        digest = hashlib.blake2b(
            "\0".join(parts).encode("utf-8"), key=self._key, digest_size=20, person=b"twcreds-check"
        )
        return digest.hexdigest()

    def verified_at(self, account: AnyAccount) -> float | None:
        """When X last said this account's credentials are good (epoch seconds), if known."""
        return self._entries.get(self._fingerprint(account))

    def fresh(self, account: AnyAccount, max_age: float) -> float | None:
        """The age in seconds of the account's last verification if within ``max_age``;
        None when it must be asked again (``max_age`` 0 always asks)."""
        when = self.verified_at(account)
        if when is None or max_age <= 0:
            return None
        age = self.now - when
        return age if 0 <= age <= max_age else None

    def record(self, accounts: Iterable[AnyAccount]) -> None:
        """Remember that X just said these accounts are good (an account and its renewal)."""
        for account in accounts:
            key = self._fingerprint(account)
            self._entries[key] = self.now
            self._forgotten.discard(key)

    def forget(self, account: AnyAccount) -> None:
        """Drop what is known of an account X rejected: it is asked again at every run."""
        key = self._fingerprint(account)
        self._entries.pop(key, None)
        self._forgotten.add(key)

    def save(self) -> None:
        """Write the cache file, mode 0600, atomically (a temporary file renamed over it).

        What another run wrote meanwhile under the same key is kept (each fingerprint's
        latest time wins); a file under another key is replaced. What `forget` dropped is
        left out, and so are entries older than `CACHE_LIFETIME`; of the rest, the newest
        100,000 are kept. No account file is read or written.

        Raises:
            CredentialsError: the cache file cannot be written (the old one stays as it
                was). Only the cache is affected: a caller may report it as a warning,
                since it costs no more than calls X is asked again next time.
        """
        from twcreds.errors import CredentialsError
        from twcreds.store import write_private

        key, others = _read(self.path)
        merged = dict(others) if key == self._key else {}
        for fingerprint, when in self._entries.items():
            merged[fingerprint] = max(when, merged.get(fingerprint, when))
        for fingerprint in self._forgotten:
            merged.pop(fingerprint, None)
        oldest = self.now - CACHE_LIFETIME
        kept = sorted(((when, fp) for fp, when in merged.items() if when >= oldest), reverse=True)[
            :_MAX_ENTRIES
        ]
        data = {
            "version": _VERSION,
            "key": self._key.hex(),
            "verified": {fp: round(when, 3) for when, fp in kept},
        }
        try:
            write_private(self.path, json.dumps(data, indent=0).encode("utf-8"))
        except CredentialsError as exc:
            # write_private speaks of accounts; this file holds only verification times.
            reason = (
                str(exc).removeprefix(f"{self.path}: ").removeprefix("cannot save the accounts: ")
            )
            reason = reason.removesuffix(". The old file is unchanged")
            msg = (
                f"{self.path}: cannot write the check's cache of verification times: {reason}."
                " Only the cache is affected (no accounts file is touched); accounts verified"
                " now may be asked about again next time"
            )
            raise CredentialsError(msg) from None


def _read(path: Path) -> tuple[bytes, dict[str, float]]:
    """The cache's key and entries; a new key and none if the file is missing or broken."""
    try:
        with path.open("rb") as stream:
            if os.fstat(stream.fileno()).st_size > 64 * 1024 * 1024:
                raise ValueError("too large")
            data = json.loads(stream.read())
        key = bytes.fromhex(data["key"])
        entries = data["verified"]
        if data.get("version") != _VERSION or len(key) != 32 or not isinstance(entries, dict):
            raise ValueError("not ours")
        return key, {
            str(fp): float(when)
            for fp, when in entries.items()
            if isinstance(when, int | float) and not isinstance(when, bool)
        }
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return secrets.token_bytes(32), {}
