"""``VAR_FILE`` variables and secrets directories: Docker's and Kubernetes' ways of handing
a container its credentials. Real files and links in tmp_path, the real environment."""

from __future__ import annotations

import os
import traceback
from pathlib import Path

import pytest

from tests.conftest import CANARY, write_private
from twcreds import (
    Account,
    CredentialsError,
    InsecurePermissionsWarning,
    OAuth2Account,
    load_account,
    load_accounts,
)

VALUES = {
    "CONSUMER_KEY": "consumerKEY0001",
    "CONSUMER_SECRET": CANARY + "consumer",
    "ACCESS_TOKEN": "1001-accessTOKEN",
    "ACCESS_TOKEN_SECRET": CANARY + "token",
}


def shown(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def set_variables(monkeypatch: pytest.MonkeyPatch, prefix: str = "TWITTER_") -> None:
    for name, value in VALUES.items():
        monkeypatch.setenv(prefix + name, value)


# --- VAR_FILE ------------------------------------------------------------------------------


def test_a_file_variable_gives_the_value_stripped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_variables(monkeypatch)
    monkeypatch.delenv("TWITTER_CONSUMER_SECRET")
    secret = write_private(tmp_path / "consumer_secret", f"  {CANARY}fromfile\n")
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET_FILE", str(secret))
    account = load_account()
    assert isinstance(account, Account)
    assert account.consumer_secret.get_secret_value() == CANARY + "fromfile"


def test_every_value_can_come_from_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in VALUES.items():
        path = write_private(tmp_path / name.lower(), value + "\n")
        monkeypatch.setenv(f"BOT2_{name}_FILE", str(path))
    account = load_account(prefix="BOT2_")
    assert account.access_token == "1001-accessTOKEN"


def test_a_variable_and_its_file_both_set_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_variables(monkeypatch)
    path = write_private(tmp_path / "secret", CANARY)
    monkeypatch.setenv("TWITTER_ACCESS_TOKEN_SECRET_FILE", str(path))
    with pytest.raises(CredentialsError, match="both TWITTER_ACCESS_TOKEN_SECRET and") as caught:
        load_account()
    assert CANARY not in shown(caught.value)


def test_a_file_variable_naming_a_missing_file_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    set_variables(monkeypatch)
    monkeypatch.delenv("TWITTER_CONSUMER_SECRET")
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET_FILE", str(tmp_path / "nope"))
    with pytest.raises(CredentialsError, match=r"TWITTER_CONSUMER_SECRET_FILE names .*nope,"):
        load_account()


def test_a_group_readable_value_file_warns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_variables(monkeypatch)
    monkeypatch.delenv("TWITTER_CONSUMER_SECRET")
    path = write_private(tmp_path / "secret", CANARY)
    path.chmod(0o640)
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET_FILE", str(path))
    with pytest.warns(InsecurePermissionsWarning, match=r"chmod 600") as caught:
        load_account()
    assert all(CANARY not in str(w.message) for w in caught)


def test_a_value_file_over_the_size_cap_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from twcreds.sources import MAX_FILE_SIZE

    set_variables(monkeypatch)
    monkeypatch.delenv("TWITTER_CONSUMER_SECRET")
    path = tmp_path / "big"
    with open(path, "wb") as stream:
        stream.truncate(MAX_FILE_SIZE + 1)
    path.chmod(0o600)
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET_FILE", str(path))
    with pytest.raises(CredentialsError, match="limit"):
        load_account()


def test_a_dotenv_file_variable_is_read_beside_the_dotenv(tmp_path: Path) -> None:
    write_private(tmp_path / "consumer_secret.txt", CANARY + "\n")
    text = "".join(f"TWITTER_{k}={v}\n" for k, v in VALUES.items() if k != "CONSUMER_SECRET")
    text += "TWITTER_CONSUMER_SECRET_FILE=consumer_secret.txt\n"
    env = write_private(tmp_path / ".env", text)
    account = load_account(env)
    assert isinstance(account, Account)
    assert account.consumer_secret.get_secret_value() == CANARY


def test_a_dotenv_with_a_value_and_its_file_says_the_line(tmp_path: Path) -> None:
    write_private(tmp_path / "secret", CANARY)
    text = "".join(f"TWITTER_{k}={v}\n" for k, v in VALUES.items())
    env = write_private(tmp_path / ".env", text + "TWITTER_CONSUMER_KEY_FILE=secret\n")
    with pytest.raises(CredentialsError, match=r"\.env:5: both TWITTER_CONSUMER_KEY") as caught:
        load_account(env)
    assert CANARY not in shown(caught.value)


def test_the_default_chain_reads_a_dotenv_file_variable(tmp_path: Path) -> None:
    write_private(Path("token_secret"), CANARY)
    text = "".join(f"TWITTER_{k}={v}\n" for k, v in VALUES.items() if k != "ACCESS_TOKEN_SECRET")
    write_private(Path(".env"), text + "TWITTER_ACCESS_TOKEN_SECRET_FILE=token_secret\n")
    account = load_account()
    assert isinstance(account, Account)
    assert account.access_token_secret.get_secret_value() == CANARY


# --- a secrets directory -------------------------------------------------------------------


def kubernetes_volume(root: Path, files: dict[str, str]) -> Path:
    """A secret volume as the kubelet lays it out: files in a timestamped folder, a
    ``..data`` link to it, and one link per key through ``..data``."""
    root.mkdir()
    stamp = root / "..2026_12_07_01_02_03.000000001"
    stamp.mkdir()
    for name, value in files.items():
        write_private(stamp / name, value)
    (root / "..data").symlink_to(stamp.name)
    for name in files:
        (root / name).symlink_to(f"..data/{name}")
    return root


def test_a_kubernetes_secret_volume_loads(tmp_path: Path) -> None:
    files = {name.lower(): value + "\n" for name, value in VALUES.items()}
    volume = kubernetes_volume(tmp_path / "secrets", files)
    account = load_account(volume)
    assert isinstance(account, Account)
    assert account.consumer_secret.get_secret_value() == CANARY + "consumer"


def test_a_docker_secrets_directory_with_variable_names_and_a_prefix(tmp_path: Path) -> None:
    secrets = tmp_path / "run-secrets"
    secrets.mkdir()
    for name, value in VALUES.items():
        write_private(secrets / f"BOT2_{name}", value)
    write_private(secrets / "unrelated", "ignored")
    assert load_account(secrets, prefix="BOT2_").access_token == "1001-accessTOKEN"


def test_an_oauth2_account_from_a_directory(tmp_path: Path) -> None:
    secrets = tmp_path / "oauth2"
    secrets.mkdir()
    write_private(secrets / "client_id", "Y2xpZW50LWlk")
    write_private(secrets / "access_token", CANARY + "access")
    write_private(secrets / "refresh_token", CANARY + "refresh")
    write_private(secrets / "expires_at", "2030-01-02T03:04:05Z")
    write_private(secrets / "scopes", "tweet.read tweet.write users.read")
    (account,) = load_accounts(secrets)
    assert isinstance(account, OAuth2Account)
    assert account.scopes == ("tweet.read", "tweet.write", "users.read")


def test_a_link_escaping_the_directory_is_refused(tmp_path: Path) -> None:
    files = {name.lower(): value for name, value in VALUES.items() if name != "CONSUMER_SECRET"}
    volume = kubernetes_volume(tmp_path / "secrets", files)
    outside = write_private(tmp_path / "elsewhere", CANARY)
    (volume / "consumer_secret").symlink_to(outside)
    with pytest.raises(CredentialsError, match=r"consumer_secret: a link leading outside") as e:
        load_account(volume)
    assert CANARY not in shown(e.value)


def test_a_link_escaping_through_dot_dot_is_refused(tmp_path: Path) -> None:
    volume = tmp_path / "secrets"
    volume.mkdir()
    write_private(tmp_path / "consumer_key", "stolen")
    (volume / "consumer_key").symlink_to("../consumer_key")
    with pytest.raises(CredentialsError, match="a link leading outside"):
        load_account(volume)


def test_a_directory_without_credentials_says_how_to_name_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README").write_text("nothing here", encoding="utf-8")
    with pytest.raises(
        CredentialsError,
        match=r"is a directory holding no credential files; name them as the variables",
    ):
        load_accounts(empty)


def test_a_missing_value_in_a_directory_is_named_by_its_file(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in VALUES.items():
        if name != "ACCESS_TOKEN_SECRET":
            write_private(secrets / name.lower(), value)
    with pytest.raises(CredentialsError, match="ACCESS_TOKEN_SECRET is missing") as caught:
        load_account(secrets)
    assert CANARY not in shown(caught.value)


def test_twcreds_file_may_name_a_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    files = {name.lower(): value for name, value in VALUES.items()}
    volume = kubernetes_volume(tmp_path / "secrets", files)
    monkeypatch.setenv("TWCREDS_FILE", os.fspath(volume))
    assert load_account().access_token == "1001-accessTOKEN"
