"""Shared fixtures: a clean environment for every test, and canary secrets."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest_plugins = ["twcreds.testing"]

#: Planted as secret values; must never appear in any output, message or log.
CANARY = "CANARYsecretDoNotLeak0123456789abcdef"


@pytest.fixture(autouse=True)
def clean_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No TWITTER_*/TWCREDS_* variable; a private config dir, cache dir and working dir per test."""
    for name in list(os.environ):
        if name.startswith(("TWITTER_", "TWCREDS_")):
            monkeypatch.delenv(name)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.chdir(tmp_path_factory.mktemp("cwd"))


@pytest.fixture
def private_umask() -> Iterator[None]:
    """Run a test under the common umask 022, whatever the machine's is."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def write_private(path: Path, text: str) -> Path:
    """Write a file with mode 0600, as a careful user would."""
    path.write_text(text, encoding="utf-8")
    path.chmod(0o600)
    return path


@pytest.fixture
def pass_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A ``pass`` store encrypted to a key made for this test, in its own GnuPG home.

    Used as a real secret manager: as a credential_process, and as keyring-pass's store.
    """
    if shutil.which("pass") is None or shutil.which("gpg") is None:
        pytest.skip("pass or gpg is not installed (.ci/run installs Debian's `pass`)")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    store = tmp_path / "password-store"
    monkeypatch.setenv("GNUPGHOME", str(home))
    monkeypatch.setenv("PASSWORD_STORE_DIR", str(store))
    key = "twcreds-test@example.invalid"
    generate = ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", key]
    for argv in ([*generate, "default", "default", "never"], ["pass", "init", key]):
        subprocess.run(argv, check=True, capture_output=True, timeout=120)
    try:
        yield store
    finally:
        subprocess.run(["gpgconf", "--kill", "all"], check=False, capture_output=True)
