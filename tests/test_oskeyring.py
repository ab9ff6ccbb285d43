"""The OS keyring, opt-in: `twcreds add --keyring` against a real backend (keyring-pass over a
`pass` store made for the test), a host with no backend, and a backend that never answers."""

from __future__ import annotations

import json
import subprocess
import time
import traceback
from pathlib import Path

import pytest

from tests.conftest import CANARY, write_private
from twcreds import Account, CredentialsError, add_account, load_account, load_accounts
from twcreds.cli import main
from twcreds.sources import default_store_path
from twcreds.store import remove_account

ACCOUNT = {
    "consumer_key": "consumerKEY0001",
    "consumer_secret": CANARY + "consumer",
    "access_token": "1001-keyringTOKEN",
    "access_token_secret": CANARY + "token",
    "screen_name": "ringbot",
}
OTHER = {**ACCOUNT, "access_token": "1002-plainTOKEN", "screen_name": "plainbot"}


def shown(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


@pytest.fixture
def pass_keyring(pass_store: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    pytest.importorskip("keyring_pass", reason="keyring-pass is in the test extra")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring_pass.PasswordStoreBackend")
    return pass_store


def test_add_keyring_keeps_the_secrets_out_of_the_store(
    pass_keyring: Path, tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # capfd, not capsys: keyring-pass hands `pass` our sys.stderr, which needs a file number.
    source = write_private(tmp_path / "creds.json", json.dumps(ACCOUNT))
    assert main(["add", str(source), "--keyring"]) == 0
    out = capfd.readouterr().out
    assert "their secrets in the OS keyring (service 'twcreds')" in out
    store = default_store_path()
    text = store.read_text(encoding="utf-8")
    assert CANARY not in text
    (entry,) = json.loads(text)
    assert entry == {
        "keyring": "twcreds",
        "consumer_key": "consumerKEY0001",
        "access_token": "1001-keyringTOKEN",
        "screen_name": "ringbot",
    }
    # keyring-pass keeps it as a pass entry, encrypted.
    item = pass_keyring / "python-keyring" / "twcreds" / "1001-keyringTOKEN.gpg"
    assert item.is_file()
    assert CANARY.encode() not in item.read_bytes()
    account = load_account()  # the default chain: the user store, its secrets from pass
    assert isinstance(account, Account)
    assert account.access_token_secret.get_secret_value() == CANARY + "token"
    status, (row,) = main(["status", "--json"]), json.loads(capfd.readouterr().out)
    assert (status, row["origin"]) == (0, "keyring")


def test_the_store_keeps_keyring_entries_as_they_are(pass_keyring: Path, tmp_path: Path) -> None:
    store = tmp_path / "accounts.json"
    from twcreds.store import add_accounts

    add_accounts(store, [Account(**ACCOUNT)], keyring="bots")
    add_account(store, Account(**OTHER))  # rewrites the file: the keyring entry stays one
    entries = json.loads(store.read_text(encoding="utf-8"))
    assert entries[0]["keyring"] == "bots"
    assert "consumer_secret" not in entries[0]
    assert entries[1]["consumer_secret"] == OTHER["consumer_secret"]
    assert load_accounts(store).names == ["ringbot", "plainbot"]
    remove_account(store, "ringbot")
    assert load_accounts(store).names == ["plainbot"]
    listed = subprocess.run(
        ["pass", "ls"], capture_output=True, text=True, check=True, timeout=30
    ).stdout
    assert "1001-keyringTOKEN" not in listed  # removing the account removed its item


def test_oauth2_accounts_are_not_kept_in_the_keyring(pass_keyring: Path, tmp_path: Path) -> None:
    from twcreds import OAuth2Account
    from twcreds.store import add_accounts

    account = OAuth2Account(
        client_id="Y2xpZW50",
        access_token=CANARY,
        expires_at="2030-01-01T00:00:00Z",
        scopes=(),
        screen_name="o2",
    )
    with pytest.raises(CredentialsError, match=r"the keyring keeps OAuth 1\.0a accounts only"):
        add_accounts(tmp_path / "a.json", [account], keyring="twcreds")
    assert not (tmp_path / "a.json").exists()


def test_no_usable_backend_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("keyring")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    source = write_private(tmp_path / "creds.json", json.dumps(ACCOUNT))
    assert main(["add", str(source), "--keyring"]) == 1
    err = capsys.readouterr().err
    assert "no usable OS keyring here" in err
    assert CANARY not in err
    assert not default_store_path().exists()
    stub = {"keyring": "twcreds", "consumer_key": "k", "access_token": "1-t"}
    path = write_private(tmp_path / "accounts.json", json.dumps([stub]))
    with pytest.raises(CredentialsError, match="no usable OS keyring here"):
        load_accounts(path)


def test_a_keyring_that_never_answers_times_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("keyring")
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "tests._slow_keyring.SlowKeyring")
    stub = {"keyring": "twcreds", "consumer_key": "k", "access_token": "1-t", "screen_name": "b"}
    path = write_private(tmp_path / "accounts.json", json.dumps([stub]))
    started = time.monotonic()
    with pytest.raises(CredentialsError, match="did not answer within 3 seconds"):
        load_accounts(path)
    assert 2.5 < time.monotonic() - started < 10
    with pytest.raises(CredentialsError, match="did not answer within 3 seconds") as caught:
        _add_keyring(tmp_path)
    assert CANARY not in shown(caught.value)


def _add_keyring(tmp_path: Path) -> None:
    from twcreds.store import add_accounts

    add_accounts(tmp_path / "new.json", [Account(**ACCOUNT)], keyring="twcreds")


def test_an_entry_missing_from_the_keyring_says_how_to_fix_it(pass_keyring: Path) -> None:
    stub = {"keyring": "twcreds", "consumer_key": "k", "access_token": "1-gone"}
    path = write_private(pass_keyring.parent / "accounts.json", json.dumps([stub]))
    with pytest.raises(CredentialsError, match=r"holds nothing for it under service 'twcreds'"):
        load_accounts(path)
