"""The command line's additions: `status`, `--json` on `check` and `status`, shell completion
(run in real bash, zsh and fish), and TWCREDS_CONFIG_DIR. Real files, the offline Twitter."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from tests.conftest import CANARY, write_private
from tests.test_peers import TWURLRC, XURL
from twcreds import POSTING_SCOPES, load_accounts, save_accounts
from twcreds.cli import main
from twcreds.sources import default_store_path
from twcreds.testing import FakeTwitter

#: `status --json`'s keys, as its --help documents them.
STATUS_KEYS = {
    "index",
    "screen_name",
    "user_id",
    "kind",
    "consumer_key",
    "client_id",
    "access_token",
    "expires_at",
    "scopes",
    "missing_scopes",
    "source",
    "where",
    "origin",
    "refreshable",
    "expired",
    "ready",
    "missing",
    "fix",
}
CHECK_KEYS = {"index", "screen_name", "user_id", "kind", "access_token", "status", "detail"}


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def oauth2_entry(**changes: object) -> dict[str, object]:
    entry: dict[str, object] = {
        "client_id": "Y2xpZW50LWlkLW9mLXRoZS1hcHA",
        "client_secret": CANARY + "client",
        "access_token": CANARY + "access",
        "refresh_token": CANARY + "refresh",
        "expires_at": (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat(),
        "scopes": list(POSTING_SCOPES),
        "screen_name": "o2bot",
    }
    entry.update(changes)
    return {key: value for key, value in entry.items() if value is not None}


# --- status ------------------------------------------------------------------------------


def test_status_says_where_each_peer_profile_came_from(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_private(tmp_path / ".twurlrc", TWURLRC)
    status, out, err = run(capsys, "status", str(path))
    assert (status, err) == (0, "")
    assert f"from:          file: {path}: profile 'bobbot'" in out
    assert f"from:          file: {path}: profile 'alicebot' (consumer key #2)" in out
    assert "consumer key:  \u2026" in out or "consumer key:  ..." in out
    assert out.count("posting:       ready") == 3
    assert CANARY not in out


def test_status_names_missing_scopes_and_the_fix(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    narrow = oauth2_entry(scopes=["tweet.read", "users.read"])
    expired = oauth2_entry(
        screen_name="oldbot",
        access_token=CANARY + "old",
        refresh_token=None,
        expires_at="2020-01-01T00:00:00Z",
    )
    path = write_private(tmp_path / "accounts.json", json.dumps([narrow, expired]))
    status, out, _ = run(capsys, "status", str(path))
    assert status == 1
    assert "missing tweet.write, media.write, offline.access" in out
    assert "missing a valid token (expired, and no refresh token)" in out
    assert out.count("fix:           twcreds authorize --oauth2 APP") == 2
    assert "expires:" in out
    assert "scopes:        tweet.read users.read" in out
    assert CANARY not in out


def test_status_json_has_the_documented_keys_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    due = oauth2_entry(expires_at="2020-01-01T00:00:00Z")
    path = write_private(tmp_path / "accounts.json", json.dumps([due]))
    status, out, _ = run(capsys, "status", str(path), "--json")
    assert status == 0
    (row,) = json.loads(out)
    assert set(row) == STATUS_KEYS
    assert row["origin"] == "file"
    assert (row["kind"], row["refreshable"], row["expired"], row["ready"]) == (
        "oauth2",
        True,
        True,
        True,
    )
    assert row["fix"].startswith("twcreds token o2bot")
    assert CANARY not in out


def test_status_says_an_expired_token_is_refreshable_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    due = oauth2_entry(expires_at="2020-01-01T00:00:00Z")
    path = write_private(tmp_path / "accounts.json", json.dumps([due]))
    status, out, _ = run(capsys, "status", str(path))
    assert status == 0
    assert "    expires:       expired (refreshable)\n" in out
    assert "(refreshable) (refreshable)" not in out


def test_status_fix_for_an_expired_token_of_a_json_file_is_a_command_that_works(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeTwitter() as fake:
        app = fake.create_oauth2_app()
        due = fake.issue_oauth2_token(app, "o2bot", expires_in=0)
        path = tmp_path / "bots.json"  # not the user store: `token` must be told of it
        save_accounts(path, [due])
        status, out, _ = run(capsys, "status", str(path), "--json")
        assert status == 0
        (row,) = json.loads(out)
        command = shlex.split(row["fix"].split("   ")[0])
        assert command == ["twcreds", "token", "o2bot", "--file", str(path)]
        status, out, _ = run(capsys, *command[1:], "--api-base", fake.url)
    assert status == 0
    (fresh,) = load_accounts(path)
    assert out == fresh.access_token.get_secret_value() + "\n"  # type: ignore[union-attr]
    assert fresh.access_token != due.access_token


def test_status_fix_for_an_expired_token_of_a_peer_file_copies_it_first(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = Path.home() / ".xurl" / "auth.yml"
    path.parent.mkdir()
    write_private(path, XURL.replace("expiration_time: 1900000000", "expiration_time: 1", 1))
    status, out, _ = run(capsys, "status", str(path), "--json")
    assert status == 0
    gina = next(row for row in json.loads(out) if row["screen_name"] == "ginabot")
    assert gina["expired"] is True
    copy, token = gina["fix"].split("   ")[0].split(" && ")
    assert (copy, token) == (f"twcreds import {path}", "twcreds token ginabot")
    assert CANARY not in out
    assert run(capsys, *shlex.split(copy)[1:])[0] == 0
    assert "ginabot" in load_accounts(default_store_path()).names


def test_status_gives_no_store_command_for_an_expired_token_of_the_environment(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in {
        "CLIENT_ID": "Y2xpZW50LWlkLW9mLXRoZS1hcHA",
        "OAUTH2_ACCESS_TOKEN": CANARY + "access",
        "OAUTH2_REFRESH_TOKEN": CANARY + "refresh",
        "OAUTH2_EXPIRES_AT": "2020-01-01T00:00:00Z",
        "OAUTH2_SCOPES": " ".join(POSTING_SCOPES),
    }.items():
        monkeypatch.setenv(f"TWITTER_{name}", value)
    status, out, _ = run(capsys, "status", "--json")
    assert status == 0
    (row,) = json.loads(out)
    assert (row["origin"], row["expired"], row["fix"]) == ("environment", True, None)
    assert CANARY not in out


def test_status_help_names_every_origin_status_gives(capsys: pytest.CaptureFixture[str]) -> None:
    source = (Path(__file__).parent.parent / "twcreds" / "sources.py").read_text("utf-8")
    produced = set(re.findall(r'origins\[index\] = "(\w+)"', source))
    produced |= {"file", "environment", "directory"}
    assert "keyring" in produced
    status, out, _ = run(capsys, "status", "--help")
    assert status == 0
    helped = " ".join(out.split())
    origins = re.search(r"origin \(([^)]*)\)", helped)
    assert origins is not None
    assert produced <= set(re.split(r", | or ", origins.group(1)))


def test_status_of_the_environment_names_variables_and_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = write_private(tmp_path / "secret", CANARY)
    monkeypatch.setenv("TWITTER_CONSUMER_KEY", "consumerKEY0001")
    monkeypatch.setenv("TWITTER_CONSUMER_SECRET_FILE", str(secret))
    monkeypatch.setenv("TWITTER_ACCESS_TOKEN", "1001-envTOKEN")
    monkeypatch.setenv("TWITTER_ACCESS_TOKEN_SECRET", CANARY + "2")
    status, out, _ = run(capsys, "status", "--json")
    assert status == 0
    (row,) = json.loads(out)
    assert row["origin"] == "environment"
    assert "TWITTER_ACCESS_TOKEN, TWITTER_ACCESS_TOKEN_SECRET" in row["where"]
    assert f"values from {secret} (TWITTER_CONSUMER_SECRET_FILE)" in row["where"]
    assert CANARY not in out


def test_status_of_a_directory_and_of_a_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    values = {
        "consumer_key": "consumerKEY0001",
        "consumer_secret": CANARY,
        "access_token": "1001-dirTOKEN",
        "access_token_secret": CANARY + "2",
    }
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for name, value in values.items():
        write_private(secrets / name, value)
    status, out, _ = run(capsys, "status", str(secrets), "--json")
    assert (status, json.loads(out)[0]["origin"]) == (0, "directory")
    helper = tmp_path / "helper"
    helper.write_text(
        f"#!{sys.executable}\nimport json\nprint(json.dumps({ {'Version': 1, **values}!r}))\n",
        encoding="utf-8",
    )
    helper.chmod(0o700)
    monkeypatch.setenv("TWCREDS_CREDENTIAL_PROCESS", str(helper))
    status, out, _ = run(capsys, "status", "--json")
    (row,) = json.loads(out)
    assert (status, row["origin"], row["where"]) == (
        0,
        "process",
        "TWCREDS_CREDENTIAL_PROCESS (helper)",
    )
    assert CANARY not in out


# --- check --json --------------------------------------------------------------------------


def test_check_json_reports_each_account(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with FakeTwitter() as fake:
        app = fake.create_app()
        good = fake.issue_token(app, "alice")
        revoked = fake.issue_token(app, "bob")
        fake.revoke(revoked)
        path = tmp_path / "accounts.json"
        save_accounts(path, [good, revoked])
        status, out, err = run(capsys, "check", str(path), "--json", "--api-base", fake.url)
    # stdout is the JSON alone; what the run costs is said on stderr, as without --json.
    assert (status, err) == (1, "twcreds: 2 billed calls to X (GET /2/users/me)\n")
    rows = json.loads(out)
    assert [set(row) for row in rows] == [CHECK_KEYS, CHECK_KEYS]
    assert [(row["screen_name"], row["status"]) for row in rows] == [
        ("alice", "ok"),
        ("bob", "rejected"),
    ]
    for secret in (good.access_token_secret, revoked.consumer_secret):
        assert secret.get_secret_value() not in out


# --- completion --------------------------------------------------------------------------


def completion(shell: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> Path:
    if shutil.which(shell) is None:
        pytest.skip(f"{shell} is not installed (.ci/run installs it from Debian's packages)")
    status, out, err = run(capsys, "completion", shell)
    assert (status, err) == (0, "")
    script = tmp_path / f"twcreds.{shell}"
    script.write_text(out, encoding="utf-8")
    return script


def test_bash_completes_commands_formats_and_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = completion("bash", capsys, tmp_path)
    (tmp_path / "accounts.json").write_text("[]", encoding="utf-8")
    probe = f"""
source {script}
cd {tmp_path}
complete_words() {{ COMP_WORDS=("$@"); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ));
    COMP_LINE="$*"; COMP_POINT=${{#COMP_LINE}}; _shtab_twcreds; echo "${{COMPREPLY[*]}}"; }}
complete_words twcreds sta
complete_words twcreds status --format ""
complete_words twcreds status acc
"""
    result = subprocess.run(
        ["bash", "-c", probe], capture_output=True, text=True, timeout=30, check=True
    )
    assert result.stdout.splitlines() == [
        "status",
        "json lines env twurlrc twarc twarc2 xurl",
        "accounts.json",
    ]


def test_zsh_and_fish_scripts_are_valid_and_complete(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zsh = completion("zsh", capsys, tmp_path)
    subprocess.run(["zsh", "-n", str(zsh)], check=True, timeout=30)
    assert "status" in zsh.read_text(encoding="utf-8")
    fish = completion("fish", capsys, tmp_path)
    result = subprocess.run(
        ["fish", "-c", f"source {fish}; complete -C 'twcreds imp'"],
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    assert result.stdout.startswith("import\t")


# --- TWCREDS_CONFIG_DIR --------------------------------------------------------------------


def test_the_config_dir_variable_moves_the_user_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "bots" / "config"
    monkeypatch.setenv("TWCREDS_CONFIG_DIR", str(elsewhere))
    assert default_store_path() == elsewhere / "accounts.json"
    peer = write_private(tmp_path / ".twarc", "[mybot]\nconsumer_key = k\nconsumer_secret = s\n"
                         "access_token = 1-t\naccess_token_secret = x\n")  # fmt: skip
    status, out, _ = run(capsys, "import", str(peer))
    assert status == 0
    assert f"into {elsewhere / 'accounts.json'}" in out
    assert load_accounts().names == ["mybot"]  # the default chain reads it there
    assert not (Path.home() / ".config" / "twcreds").exists()


def test_list_json_has_the_documented_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_private(tmp_path / ".twurlrc", TWURLRC)
    status, out, _ = run(capsys, "list", str(path), "--json")
    assert status == 0
    rows = json.loads(out)
    assert [set(row) for row in rows] == [STATUS_KEYS - LIST_ONLY_IN_STATUS] * 3
    assert CANARY not in out
    # The keys --help documents are exactly the keys printed.
    main(["list", "--help"])
    documented = " ".join(capsys.readouterr().out.split())
    for key in STATUS_KEYS - LIST_ONLY_IN_STATUS:
        assert key in documented


LIST_ONLY_IN_STATUS = {"origin", "refreshable", "expired", "ready", "missing", "fix"}


def test_check_json_is_refused_with_offline(capsys: pytest.CaptureFixture[str]) -> None:
    status, out, err = run(capsys, "check", "--json", "--offline")
    assert (status, out) == (2, "")
    assert "--json reports what X answered: not with --offline" in err
