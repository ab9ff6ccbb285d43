"""The OS keyring, opt-in (``pip install 'twcreds[keyring]'``): secrets kept out of the store.

``twcreds add --keyring`` keeps an OAuth 1.0a account's two secrets in the keyring (one
item: service ``SERVICE``, user name the account's access token, the password a small JSON
object) and leaves in the store an entry without them::

    {"keyring": "twcreds", "consumer_key": "...", "access_token": "...", "screen_name": "bot"}

Every keyring call runs with a deadline (`TIMEOUT`, 3 seconds): a backend waiting on a
locked desktop keyring, or a D-Bus session that never answers, is an error, not a hang.
With no usable backend (a headless Linux host, the common bot host) the error says so and
what to do. The backend is the one keyring picks (``PYTHON_KEYRING_BACKEND`` chooses one,
e.g. ``keyring_pass.PasswordStoreBackend`` for a ``pass`` store).
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from twcreds.errors import CredentialsError

__all__ = [
    "DEFAULT_SERVICE",
    "KEYRING_KEY",
    "SECRET_KEYS",
    "TIMEOUT",
    "delete_secrets",
    "get_secrets",
    "set_secrets",
]

#: Seconds a keyring call may take before it is given up.
TIMEOUT = 3.0
#: The service name ``twcreds add --keyring`` uses unless told another.
DEFAULT_SERVICE = "twcreds"
#: The store entry's key naming the keyring service.
KEYRING_KEY = "keyring"
#: The values kept in the keyring: an OAuth 1.0a account's secrets.
SECRET_KEYS = ("consumer_secret", "access_token_secret")
_INSTALL = "pip install 'twcreds[keyring]'"
T = TypeVar("T")


def _backend() -> Any:
    """The keyring backend, chosen afresh (``PYTHON_KEYRING_BACKEND`` may have changed)."""
    try:
        import keyring
        import keyring.core
        from keyring.backends import fail
    except ImportError:
        msg = f"the keyring package is not installed; run `{_INSTALL}`"
        raise CredentialsError(msg) from None
    name = os.environ.get("PYTHON_KEYRING_BACKEND", "").strip()
    backend = keyring.core.load_keyring(name) if name else keyring.get_keyring()
    if isinstance(backend, fail.Keyring) or getattr(backend, "backends", None) == []:
        msg = (
            "no usable OS keyring here (a headless Linux host has none): keep the secrets in"
            " the store (`twcreds add` without --keyring), or give keyring a backend, such as"
            " `pip install keyring-pass` over a `pass` store with"
            " PYTHON_KEYRING_BACKEND=keyring_pass.PasswordStoreBackend"
        )
        raise CredentialsError(msg)
    return backend


def _within_deadline(call: Callable[[], T], what: str) -> T:
    """Run a keyring call in a daemon thread; give it up after `TIMEOUT` seconds."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(call())
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    worker = threading.Thread(target=run, name="twcreds-keyring", daemon=True)
    worker.start()
    worker.join(TIMEOUT)
    if worker.is_alive():
        msg = (
            f"{what}: the OS keyring did not answer within {TIMEOUT:g} seconds (locked, or"
            " waiting for a desktop prompt?); unlock it, or keep the secrets in the store"
        )
        raise CredentialsError(msg)
    if failure:
        exc = failure[0]
        if isinstance(exc, CredentialsError):
            raise exc
        # A backend's message may quote what it was handed: only its type is shown.
        msg = f"{what}: the OS keyring failed ({type(exc).__name__}); check that it works"
        raise CredentialsError(msg) from None
    return result[0]


def get_secrets(service: str, user: str, where: str) -> dict[str, str]:
    """The secrets kept for ``user`` under ``service``.

    Raises:
        CredentialsError: no keyring (or no backend), a timeout, nothing kept there, or
            not what twcreds keeps.
    """

    def call() -> str | None:
        value: str | None = _backend().get_password(service, user)
        return value

    value = _within_deadline(call, where)
    if value is None:
        msg = (
            f"{where}: the OS keyring holds nothing for it under service {service!r};"
            " add the account again: `twcreds add FILE --keyring`"
        )
        raise CredentialsError(msg)
    try:
        secrets = json.loads(value)
    except ValueError:
        secrets = None
    if not isinstance(secrets, dict) or not all(
        isinstance(secrets.get(key), str) for key in SECRET_KEYS
    ):
        msg = f"{where}: the OS keyring's item is not one twcreds wrote; add the account again"
        raise CredentialsError(msg) from None
    return {key: secrets[key] for key in SECRET_KEYS}


def set_secrets(service: str, user: str, secrets: Mapping[str, str], where: str) -> None:
    """Keep ``secrets`` for ``user`` under ``service``.

    Raises:
        CredentialsError: no keyring (or no backend), a timeout, or a failing backend.
    """
    value = json.dumps({key: secrets[key] for key in SECRET_KEYS})
    _within_deadline(lambda: _backend().set_password(service, user, value), where)


def delete_secrets(service: str, user: str, where: str) -> None:
    """Forget what is kept for ``user`` under ``service`` (nothing kept is fine).

    Raises:
        CredentialsError: no keyring (or no backend), a timeout, or a failing backend.
    """

    def call() -> None:
        from keyring.errors import PasswordDeleteError

        with contextlib.suppress(PasswordDeleteError):
            _backend().delete_password(service, user)

    _within_deadline(call, where)
