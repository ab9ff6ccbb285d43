"""``credential_process``: real commands, a real secret manager (``pass`` over a throwaway
GnuPG home), real timeouts. No mocks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from pathlib import Path

import pytest

from tests.conftest import CANARY, write_private
from twcreds import Account, CredentialsError, add_account, load_account, load_accounts
from twcreds.cli import main

ACCOUNT = {
    "Version": 1,
    "consumer_key": "consumerKEY0001",
    "consumer_secret": CANARY + "consumer",
    "access_token": "1001-processTOKEN",
    "access_token_secret": CANARY + "token",
    "screen_name": "procbot",
}


def shown(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


def script(tmp_path: Path, name: str, body: str) -> Path:
    """An executable Python script, run as a credential process."""
    path = tmp_path / name
    path.write_text(f"#!{sys.executable}\nimport json, os, sys, time\n{body}\n", encoding="utf-8")
    path.chmod(0o700)
    return path


def test_a_process_prints_the_account(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # stdin is closed: reading it ends at once (a process waiting on it would hang).
    body = f"assert sys.stdin.read() == ''\nprint(json.dumps({ACCOUNT!r}))"
    command = script(tmp_path, "creds helper", body)
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", f"'{command}' --profile bot")
    account = load_account()
    assert isinstance(account, Account)
    assert account.consumer_secret.get_secret_value() == CANARY + "consumer"
    assert account.screen_name == "procbot"


def test_the_process_comes_before_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = script(tmp_path, "helper", f"print(json.dumps({ACCOUNT!r}))")
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", str(command))
    for name in ("CONSUMER_KEY", "CONSUMER_SECRET", "ACCESS_TOKEN", "ACCESS_TOKEN_SECRET"):
        monkeypatch.setenv(f"TWITTER_{name}", "fromTheEnvironment")
    assert load_account().access_token == "1001-processTOKEN"


def test_no_shell_runs_the_command(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    marker = tmp_path / "marker"
    command = script(tmp_path, "helper", f"print(json.dumps({ACCOUNT!r}))")
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", f"{command} ; touch {marker}")
    load_account()  # "; touch ..." are arguments of the script, which ignores them
    assert not marker.exists()


def test_a_failing_process_quotes_the_last_line_of_stderr_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = (
        f"print(json.dumps({ACCOUNT!r}))\n"
        "print('starting', file=sys.stderr)\n"
        "print('vault is locked\\x1b[31m', file=sys.stderr)\n"
        "sys.exit(3)"
    )
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", str(script(tmp_path, "helper", body)))
    with pytest.raises(CredentialsError) as caught:
        load_account()
    message = str(caught.value)
    assert "TWCREDS_CREDENTIAL_PROCESS (helper): exited with status 3: vault is locked" in message
    assert "\x1b" not in message
    assert "starting" not in message
    assert CANARY not in shown(caught.value)


def test_a_hanging_process_is_killed_at_the_timeout_with_its_children(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "child.pid"
    body = (
        "import subprocess\n"
        "child = subprocess.Popen(['sleep', '600'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(600)"
    )
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", str(script(tmp_path, "helper", body)))
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS_TIMEOUT", "1.5")
    started = time.monotonic()
    with pytest.raises(CredentialsError, match=r"still running after 1\.5 seconds; killed"):
        load_account()
    assert time.monotonic() - started < 15
    child = int(pid_file.read_text(encoding="utf-8"))
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its reaper."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8")
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.parametrize(
    ("output", "expected"),
    [
        (f"{CANARY} is not JSON", "its output is not JSON"),
        (json.dumps([ACCOUNT]), "printed a JSON list"),
        (json.dumps({k: v for k, v in ACCOUNT.items() if k != "Version"}), "printed no Version"),
        (json.dumps({**ACCOUNT, "Version": 2}), "printed another Version"),
        ("", "printed nothing"),
    ],
)
def test_garbage_on_stdout_is_refused_without_quoting_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, output: str, expected: str
) -> None:
    body = f"sys.stdout.write({output!r})"
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", str(script(tmp_path, "helper", body)))
    with pytest.raises(CredentialsError, match=expected) as caught:
        load_account()
    assert CANARY not in shown(caught.value)


def test_a_missing_program_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", "no-such-program-twcreds --x")
    with pytest.raises(CredentialsError, match=r"\(no-such-program-twcreds\): no such program"):
        load_account()


def test_an_unclosed_quote_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", "pass show 'twitter/bot")
    with pytest.raises(CredentialsError, match="cannot split the command"):
        load_account()


def test_a_store_entry_runs_its_process(tmp_path: Path) -> None:
    command = script(tmp_path, "helper", f"print(json.dumps({ACCOUNT!r}))")
    other = {k: v for k, v in ACCOUNT.items() if k != "Version"}
    other |= {"access_token": "1002-otherTOKEN", "screen_name": "plainbot"}
    entries = [{"credential_process": str(command), "screen_name": "procbot"}, other]
    path = write_private(tmp_path / "accounts.json", json.dumps(entries))
    assert load_accounts(path).names == ["procbot", "plainbot"]
    assert load_account(path, account="procbot").access_token == "1001-processTOKEN"
    # The store's writers never put what the command printed into the file.
    with pytest.raises(CredentialsError, match="holds credential_process entries"):
        add_account(path, Account(**other | {"screen_name": "third", "access_token": "3-x"}))
    assert json.loads(path.read_text(encoding="utf-8")) == entries


# --- a real secret manager: pass over a throwaway GnuPG home --------------------------------


def test_pass_as_the_credential_process(pass_store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    subprocess.run(
        ["pass", "insert", "--multiline", "twitter/procbot"],
        input=json.dumps(ACCOUNT).encode(),
        check=True,
        capture_output=True,
        timeout=60,
    )
    assert CANARY.encode() not in (pass_store / "twitter" / "procbot.gpg").read_bytes()
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", "pass show twitter/procbot")
    account = load_account()
    assert isinstance(account, Account)
    assert account.access_token_secret.get_secret_value() == CANARY + "token"


def test_pass_failing_is_quoted_without_a_secret(
    pass_store: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", "pass show twitter/nobody")
    with pytest.raises(CredentialsError, match=r"\(pass\): exited with status 1: .*not in the"):
        load_account()
    assert main(["list"]) == 1
    captured = capsys.readouterr()
    assert "twcreds: error: TWCREDS_CREDENTIAL_PROCESS (pass): exited with status 1" in (
        captured.err
    )
    assert os.environ["PASSWORD_STORE_DIR"] == str(pass_store)
