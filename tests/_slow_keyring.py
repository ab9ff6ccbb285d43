"""A keyring backend that never answers in time, as a locked desktop keyring behaves while it
waits for a password prompt nobody sees. Chosen with PYTHON_KEYRING_BACKEND in a test."""

from __future__ import annotations

import time

from keyring.backend import KeyringBackend


class SlowKeyring(KeyringBackend):
    priority = 1

    def get_password(self, service: str, username: str) -> str | None:
        time.sleep(20)
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        time.sleep(20)

    def delete_password(self, service: str, username: str) -> None:
        time.sleep(20)
