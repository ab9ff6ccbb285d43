"""Peer tools' files read in place and imported: twurl, t, x, twarc, twarc2, xurl.

Each fixture is written as that tool writes it; the comment above it cites the source line,
in these commits of the tools' repositories: twitter/twurl c256756dc8, sferik/t d8b549fc1c
(spec/fixtures/.trc), sferik/x-cli 3311a043b5 (src/rcfile.rs: the same layout in ~/.xrc),
DocNow/twarc 12104e080f (src/twarc/...), xdevplatform/xurl 41259e8aef.
Real files in tmp_path and the real ``twcreds`` command line; no mocks.
"""

from __future__ import annotations

import json
import os
import traceback
from datetime import datetime, timezone
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
    load_bearer_tokens,
)
from twcreds.cli import main
from twcreds.sources import default_store_path, peer_files

SECRET = CANARY + "consumer"
TOKEN_SECRET = CANARY + "token"

# twurl lib/twurl/rcfile.rb:37-39 (`RCFile#save` writes `data.to_yaml`, mode 0600), with each
# profile from lib/twurl/oauth_client.rb:107 (OAUTH_CLIENT_OPTIONS = username consumer_key
# consumer_secret token secret) keyed by user, then by consumer key (rcfile.rb `<<`), the
# default from rcfile.rb:60 (`default_profile=` [username, consumer_key]) and bearer tokens
# from rcfile.rb:78 (`bearer_token`: {consumer_key: token}). t's spec/fixtures/.trc is the
# same layout, and so is x-cli's ~/.xrc (src/rcfile.rs:56-68, x-api/src/backend.rs:107-122:
# username, consumer_key, consumer_secret, token, secret). `aliases` is one of the keys
# twurl adds that twcreds ignores.
TWURLRC = f"""\
---
profiles:
  alicebot:
    ckAPPone0001:
      username: alicebot
      consumer_key: ckAPPone0001
      consumer_secret: {SECRET}
      token: 1001-aliceTOKENone
      secret: {TOKEN_SECRET}
    ckAPPtwo0002:
      username: alicebot
      consumer_key: ckAPPtwo0002
      consumer_secret: {SECRET}2
      token: 1001-aliceTOKENtwo
      secret: {TOKEN_SECRET}2
  bobbot:
    ckAPPone0001:
      username: bobbot
      consumer_key: ckAPPone0001
      consumer_secret: {SECRET}
      token: 1002-bobTOKEN
      secret: {TOKEN_SECRET}3
configuration:
  default_profile:
  - bobbot
  - ckAPPone0001
bearer_tokens:
  ckAPPone0001: {CANARY}bearer
aliases:
  mentions: /1.1/statuses/mentions_timeline.json
"""

# twarc src/twarc/client.py:1072-1092 (`save_config`: configparser, one section per profile
# named after the screen name, client.py:1190) and client.py:1049-1050 (`load_config`: with
# no profile asked, the first section). A Gnip profile (client.py:1083) holds no account.
TWARC = f"""\
[carolbot]
consumer_key = ckTWARC0001
consumer_secret = {SECRET}
access_token = 2001-carolTOKEN
access_token_secret = {TOKEN_SECRET}

[davebot]
consumer_key = ckTWARC0001
consumer_secret = {SECRET}
access_token = 2002-daveTOKEN
access_token_secret = {TOKEN_SECRET}2

[gnip]
gnip_username = someone
gnip_password = {CANARY}
gnip_account = acct
"""

# twarc src/twarc/command2.py:191-205 (`configure`: configobj.ConfigObj(unrepr=True), the
# keys consumer_key ... bearer_token, `config.write()`), in click's app dir for "twarc"
# (command2.py:102, `configuration_option(cmd_name="twarc", config_file_name="config")`).
TWARC2 = f"""\
consumer_key = 'ckTWARC2xx01'
consumer_secret = '{SECRET}'
access_token = '3001-erinTOKEN'
access_token_secret = '{TOKEN_SECRET}'
bearer_token = '{CANARY}bearer2'
"""

# xurl store/tokens.go:52-70 (`App` and `storeFile`, yaml.v3 tags) written by
# tokens.go:624 (`saveToFile`: yaml.Marshal, mode 0600) to store/paths.go:11 (`auth.yml`
# inside ~/.xurl); expiration_time is Unix seconds (auth/auth.go:569, token.Expiry.Unix()).
XURL = f"""\
apps:
  mybotapp:
    client_id: Y2xpZW50LWlkLXh1cmw
    client_secret: {SECRET}
    default_user: frankbot
    oauth2_tokens:
      ginabot:
        type: oauth2
        oauth2:
          access_token: {CANARY}access1
          refresh_token: {CANARY}refresh1
          expiration_time: 1900000000
      frankbot:
        type: oauth2
        oauth2:
          access_token: {CANARY}access2
          refresh_token: {CANARY}refresh2
          expiration_time: 1900000000
    oauth1_token:
      type: oauth1
      oauth1:
        access_token: 4001-xurlTOKEN
        token_secret: {TOKEN_SECRET}
        consumer_key: ckXURL000001
        consumer_secret: {SECRET}
    bearer_token:
      type: bearer
      bearer: {CANARY}bearer3
default_app: mybotapp
"""

# xurl before 1.0: store/tokens.go:72-78 (`legacyStore`, JSON, single app, no client id:
# xurl took it from CLIENT_ID at run time), written by json.MarshalIndent.
XURL_LEGACY = json.dumps(
    {
        "oauth2_tokens": {},
        "oauth1_tokens": {
            "type": "oauth1",
            "oauth1": {
                "access_token": "5001-legacyTOKEN",
                "token_secret": TOKEN_SECRET,
                "consumer_key": "ckLEGACY0001",
                "consumer_secret": SECRET,
            },
        },
        "file_path": "/home/someone/.xurl",
    },
    indent=2,
)


def shown(exc: BaseException) -> str:
    return "\n".join([str(exc), repr(exc), *traceback.format_exception(exc)])


# --- twurl, t, x -------------------------------------------------------------------------


@pytest.mark.parametrize("name", [".twurlrc", ".trc", ".xrc"])
def test_a_twurlrc_loads_every_profile_and_its_default(tmp_path: Path, name: str) -> None:
    path = write_private(tmp_path / name, TWURLRC)
    accounts = load_accounts(path)
    assert accounts.names == ["alicebot", "alicebot", "bobbot"]
    assert [a.consumer_key for a in accounts if isinstance(a, Account)] == [
        "ckAPPone0001",
        "ckAPPtwo0002",
        "ckAPPone0001",
    ]
    assert accounts[2].access_token_secret.get_secret_value() == TOKEN_SECRET + "3"  # type: ignore[union-attr]
    # Several accounts and no choice: the file's default profile, as twurl uses it.
    assert load_account(path).screen_name == "bobbot"
    assert load_account(path, account=0).access_token == "1001-aliceTOKENone"


def test_an_explicit_choice_wins_over_the_default_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_private(tmp_path / ".twurlrc", TWURLRC)
    monkeypatch.setenv("TWCREDS_ACCOUNT", "1")
    assert load_account(path).access_token == "1001-aliceTOKENtwo"


def test_one_user_with_two_apps_is_chosen_by_index(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".twurlrc", TWURLRC)
    with pytest.raises(CredentialsError, match=r"names 2 accounts: \[0\] .*\[1\]"):
        load_account(path, account="alicebot")


def test_a_twurlrc_under_another_name_is_sniffed(tmp_path: Path) -> None:
    path = write_private(tmp_path / "twurl-backup.yml", TWURLRC)
    assert len(load_accounts(path)) == 3


def test_a_malformed_twurlrc_names_file_profile_and_key(tmp_path: Path) -> None:
    broken = TWURLRC.replace(f"      secret: {TOKEN_SECRET}3\n", "")
    path = write_private(tmp_path / ".twurlrc", broken)
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path)
    message = str(caught.value)
    assert f"{path}: profile 'bobbot': secret is missing" in message
    assert CANARY not in shown(caught.value)


def test_a_twurlrc_that_is_not_yaml_says_where(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".twurlrc", f"profiles:\n  bob: [{CANARY}\n")
    with pytest.raises(CredentialsError, match=r"\.twurlrc:3:1: not valid YAML") as caught:
        load_accounts(path)
    assert CANARY not in shown(caught.value)


def test_yaml_tags_that_build_objects_are_refused(tmp_path: Path) -> None:
    text = "profiles: !!python/object/apply:os.system ['echo hacked']\n"
    path = write_private(tmp_path / ".twurlrc", text)
    with pytest.raises(CredentialsError, match="not valid YAML"):
        load_accounts(path)


def test_a_profile_that_is_not_a_mapping_is_named(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".xrc", "profiles:\n  bobbot: 12\n")
    with pytest.raises(CredentialsError, match=r"profile 'bobbot': its value must be a mapping"):
        load_accounts(path)


def test_a_readable_peer_file_warns_as_ours_do(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".twurlrc", TWURLRC)
    path.chmod(0o644)
    with pytest.warns(InsecurePermissionsWarning, match=r"chmod 600"):
        load_accounts(path)


# --- twarc, twarc2 -------------------------------------------------------------------------


def test_a_twarc_file_loads_every_profile_the_first_by_default(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".twarc", TWARC)
    accounts = load_accounts(path)
    assert accounts.names == ["carolbot", "davebot"]  # the Gnip profile holds no account
    assert load_account(path).screen_name == "carolbot"
    assert load_account(path, account="davebot").access_token == "2002-daveTOKEN"


def test_a_malformed_twarc_profile_is_named(tmp_path: Path) -> None:
    path = write_private(
        tmp_path / ".twarc", TWARC.replace("access_token = 2002", "acces_token = 2")
    )
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path)
    assert f"{path}: profile 'davebot'" in str(caught.value)
    assert "access_token" in str(caught.value)
    assert CANARY not in shown(caught.value)


def test_a_twarc_file_that_is_not_ini_says_the_line(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".twarc", f"{CANARY}\n[carolbot]\nconsumer_key = x\n")
    with pytest.raises(CredentialsError, match=r"\.twarc:1: a line before") as caught:
        load_accounts(path)
    assert CANARY not in shown(caught.value)


def test_a_twarc2_config_loads_from_its_app_folder(tmp_path: Path) -> None:
    path = tmp_path / "twarc" / "config"
    path.parent.mkdir()
    write_private(path, TWARC2)
    (account,) = load_accounts(path)
    assert isinstance(account, Account)
    assert account.consumer_key == "ckTWARC2xx01"
    assert account.consumer_secret.get_secret_value() == SECRET


def test_a_malformed_twarc2_config_says_the_line(tmp_path: Path) -> None:
    path = tmp_path / "twarc" / "config"
    path.parent.mkdir()
    write_private(path, TWARC2.replace("access_token = ", "access_token "))
    with pytest.raises(CredentialsError, match=r"config: cannot parse line\(s\) 4") as caught:
        load_accounts(path)
    assert CANARY not in shown(caught.value)


# --- xurl --------------------------------------------------------------------------------


def test_xurl_oauth2_tokens_are_refreshable_oauth2_accounts(tmp_path: Path) -> None:
    path = tmp_path / ".xurl" / "auth.yml"
    path.parent.mkdir()
    write_private(path, XURL)
    accounts = load_accounts(path)
    assert accounts.names == ["ginabot", "frankbot", None]
    gina = accounts[0]
    assert isinstance(gina, OAuth2Account)
    assert gina.client_id == "Y2xpZW50LWlkLXh1cmw"
    assert gina.refresh_token is not None
    assert gina.refresh_token.get_secret_value() == CANARY + "refresh1"
    assert gina.expires_at == datetime.fromtimestamp(1900000000, tz=timezone.utc)
    assert gina.scopes == ()
    oauth1 = accounts[2]
    assert isinstance(oauth1, Account)
    assert oauth1.access_token_secret.get_secret_value() == TOKEN_SECRET
    assert load_account(path).screen_name == "frankbot"  # default_app's default_user


def test_a_malformed_xurl_token_names_app_user_and_key(tmp_path: Path) -> None:
    path = tmp_path / ".xurl" / "auth.yml"
    path.parent.mkdir()
    write_private(
        path, XURL.replace("expiration_time: 1900000000\n      frankbot", "x: 1\n      frankbot")
    )
    with pytest.raises(CredentialsError) as caught:
        load_accounts(path)
    message = str(caught.value)
    assert f"{path}: app 'mybotapp', user 'ginabot'" in message
    assert "expiration_time" in message
    assert CANARY not in shown(caught.value)


def test_the_older_xurl_file_loads(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".xurl", XURL_LEGACY)
    (account,) = load_accounts(path)
    assert isinstance(account, Account)
    assert account.access_token == "5001-legacyTOKEN"


def test_an_older_xurl_oauth2_token_without_client_id_is_refused_clearly(tmp_path: Path) -> None:
    legacy = json.loads(XURL_LEGACY)
    legacy["oauth2_tokens"] = {
        "hankbot": {
            "type": "oauth2",
            "oauth2": {"access_token": CANARY, "refresh_token": CANARY, "expiration_time": 1},
        }
    }
    path = write_private(tmp_path / ".xurl", json.dumps(legacy))
    with pytest.raises(CredentialsError, match=r"user 'hankbot': client_id is missing") as caught:
        load_accounts(path)
    assert CANARY not in shown(caught.value)


# --- twcreds import ----------------------------------------------------------------------


def test_import_without_a_file_reads_every_default_place(
    capsys: pytest.CaptureFixture[str],
) -> None:
    home = Path.home()
    write_private(home / ".twurlrc", TWURLRC)
    write_private(home / ".twarc", TWARC)
    twarc2 = home / ".config" / "twarc" / "config"
    twarc2.parent.mkdir(parents=True)
    write_private(twarc2, TWARC2)
    (home / ".xurl").mkdir()
    write_private(home / ".xurl" / "auth.yml", XURL)
    assert [fmt for _, fmt in peer_files()] == [
        "twurlrc",
        "twurlrc",
        "twurlrc",
        "twarc",
        "twarc2",
        "xurl",
    ]
    assert main(["import"]) == 0
    out = capsys.readouterr().out
    assert f"Found 3 accounts in {home / '.twurlrc'}" in out
    assert f"Found 2 accounts in {home / '.twarc'}" in out
    assert f"Found 1 account in {twarc2}" in out
    assert "note: [1] @alicebot of another app not imported" in out
    assert CANARY not in out
    stored = load_accounts(default_store_path())
    assert stored.names == [
        "alicebot",
        "bobbot",
        "carolbot",
        "davebot",
        None,  # twarc2's account: its config names no user
        "ginabot",
        "frankbot",
        None,  # xurl's OAuth 1.0a token: xurl names no user for it
    ]
    # One user with two apps, neither the default profile: the first is the one imported.
    alice = [a for a in stored if a.screen_name == "alicebot"]
    assert [a.access_token for a in alice] == ["1001-aliceTOKENone"]
    assert oct(os.stat(default_store_path()).st_mode & 0o777) == "0o600"


def test_import_of_a_named_file_keeps_the_rest_of_the_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "accounts.json"
    path = write_private(tmp_path / ".twarc", TWARC)
    assert main(["import", str(path), "--file", str(target)]) == 0
    changed = TWARC.replace("2002-daveTOKEN", "2002-daveNEWTOKEN")
    write_private(path, changed)
    assert main(["import", str(path), "--file", str(target)]) == 0
    accounts = load_accounts(target)
    assert accounts.names == ["carolbot", "davebot"]
    assert accounts[1].access_token == "2002-daveNEWTOKEN"
    assert CANARY not in capsys.readouterr().out


def test_import_says_where_it_looked_when_nothing_is_there(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["import"]) == 1
    err = capsys.readouterr().err
    assert "no peer tool's credentials file found; looked at:" in err
    assert ".twurlrc" in err
    assert "auth.yml" in err
    assert not default_store_path().exists()


def test_import_of_a_malformed_file_imports_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_private(tmp_path / ".twurlrc", TWURLRC.replace("token: 1002-bobTOKEN", "x: 1"))
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert "profile 'bobbot': token is missing" in err
    assert CANARY not in err
    assert not default_store_path().exists()


def _twarc2_config(text: str) -> Path:
    path = Path.home() / ".config" / "twarc" / "config"
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_private(path, text)


@pytest.mark.parametrize(
    "text",
    [
        # What `twarc2 configure` writes when given only a bearer token.
        f"bearer_token = '{CANARY}bearer2'\n",
        f"consumer_key = 'ckTWARC2xx01'\nconsumer_secret = '{SECRET}'\n",
    ],
    ids=["bearer-token-only", "app-keys-only"],
)
def test_import_without_a_file_passes_over_a_twarc2_config_without_an_account(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    write_private(Path.home() / ".twurlrc", TWURLRC)
    twarc2 = _twarc2_config(text)
    assert main(["import"]) == 0
    captured = capsys.readouterr()
    assert f"Found 3 accounts in {Path.home() / '.twurlrc'}" in captured.out
    assert f"no accounts in {twarc2}" in captured.out
    assert "error" not in captured.err
    assert CANARY not in captured.out + captured.err
    assert load_accounts(default_store_path()).names == ["alicebot", "bobbot"]


def test_import_without_a_file_skips_a_broken_place_and_imports_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_private(Path.home() / ".twurlrc", TWURLRC)
    twarc = write_private(
        Path.home() / ".twarc", TWARC.replace("consumer_secret = ", "consumer_secrt = ", 1)
    )
    assert main(["import"]) == 0
    captured = capsys.readouterr()
    skipped = [line for line in captured.err.splitlines() if line.startswith("skipped ")]
    assert len(skipped) == 1
    assert skipped[0].startswith(f"skipped {twarc}: ")
    assert "profile 'carolbot'" in skipped[0]
    assert CANARY not in captured.out + captured.err
    assert load_accounts(default_store_path()).names == ["alicebot", "bobbot"]


def test_import_without_a_file_fails_when_every_place_is_skipped(
    capsys: pytest.CaptureFixture[str],
) -> None:
    write_private(Path.home() / ".twarc", TWARC.replace("consumer_secret = ", "x = ", 1))
    assert main(["import"]) == 1
    err = capsys.readouterr().err
    assert "skipped " in err
    assert "nothing was imported" in err
    assert CANARY not in err
    assert not default_store_path().exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"bearer_token = '{CANARY}bearer2'\n", "holds no account to import"),
        (
            f"consumer_key = 'ckTWARC2xx01'\nconsumer_secret = '{SECRET}'\n",
            "holds only an app's consumer key and secret, no account; add access_token",
        ),
    ],
    ids=["bearer-token-only", "app-keys-only"],
)
def test_import_of_a_named_twarc2_config_without_an_account_stays_an_error(
    text: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    twarc2 = _twarc2_config(text)
    assert main(["import", str(twarc2)]) == 1
    err = capsys.readouterr().err
    assert expected in err
    assert "consumer_key is missing" not in err
    assert CANARY not in err
    assert not default_store_path().exists()


def test_import_help_says_what_import_does(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", "--help"]) == 0
    helped = " ".join(capsys.readouterr().out.split())
    assert "Every profile is imported" not in helped  # it said so, then that one per user was
    assert "only the tool's default profile (else the first) is" in helped
    assert "skipped with the reason (`skipped PATH: ...`)" in helped
    assert "With FILE, any problem is an error and nothing is imported" in helped


# --- their app-only bearer tokens ----------------------------------------------------------


def test_peer_files_bearer_tokens_load_apart_from_accounts(tmp_path: Path) -> None:
    twurlrc = write_private(tmp_path / ".twurlrc", TWURLRC)
    (token,) = load_bearer_tokens(twurlrc)
    assert token.bearer_token.get_secret_value() == CANARY + "bearer"
    assert token.consumer_key == "ckAPPone0001"  # twurl keys them by consumer key
    twarc2 = tmp_path / "twarc" / "config"
    twarc2.parent.mkdir()
    write_private(twarc2, TWARC2)
    (token,) = load_bearer_tokens(twarc2)
    assert token.bearer_token.get_secret_value() == CANARY + "bearer2"
    assert token.consumer_key == "ckTWARC2xx01"
    xurl = tmp_path / ".xurl" / "auth.yml"
    xurl.parent.mkdir()
    write_private(xurl, XURL)
    (token,) = load_bearer_tokens(xurl.parent)
    assert token.bearer_token.get_secret_value() == CANARY + "bearer3"
    assert all(CANARY not in repr(t) for t in load_bearer_tokens(xurl))


def test_a_peer_file_without_bearer_tokens_says_so(tmp_path: Path) -> None:
    path = write_private(tmp_path / ".trc", TWURLRC.split("bearer_tokens:")[0])
    with pytest.raises(CredentialsError, match="holds no app-only bearer token"):
        load_bearer_tokens(path)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        (
            ".xrc",
            TWURLRC.replace("secret: ", "secrett: ", 1),
            "profile 'alicebot' (consumer key #1)",
        ),
        (
            ".twarc",
            TWARC.replace("consumer_secret = ", "consumer_secrt = ", 1),
            "profile 'carolbot'",
        ),
        ("twarc/config", TWARC2.replace("access_token = ", "access_tokn = ", 1), "twarc2 config"),
        (
            ".xurl/auth.yml",
            XURL.replace("token_secret:", "tokensecret:"),
            "app 'mybotapp', oauth1_token",
        ),
    ],
)
def test_import_refuses_each_malformed_format_naming_file_and_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, expected: str
) -> None:
    path = tmp_path / name
    path.parent.mkdir(exist_ok=True)
    write_private(path, text)
    assert main(["import", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"twcreds: error: {path}: {expected}" in err
    assert "is missing" in err
    assert CANARY not in err
    assert not default_store_path().exists()
