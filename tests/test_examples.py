"""The examples and the demo, run as a user runs them, against the offline Twitter.

Each example runs in a subprocess with ``TWCREDS_API_BASE`` pointing at a FakeTwitter; the
assertions read the FakeTwitter's own record (who posted what, which requests verified),
not only the printed text.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from twcreds import Account, load_accounts, save_accounts
from twcreds.demo import run_demo
from twcreds.errors import CredentialsError
from twcreds.testing import FakeTwitter

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def _env(fake: FakeTwitter) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWITTER_", "TWCREDS_"))}
    env["TWCREDS_API_BASE"] = fake.url
    return env


def _run(fake: FakeTwitter, script: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        env=_env(fake),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _accounts(fake: FakeTwitter, *names: str) -> list[Account]:
    app = fake.create_app()
    return [fake.issue_token(app, name) for name in names]


def _secrets(accounts: list[Account]) -> list[str]:
    return [
        secret.get_secret_value()
        for account in accounts
        for secret in (account.consumer_secret, account.access_token_secret)
    ]


def test_post_from_all_posts_from_every_account(fake_twitter: FakeTwitter, tmp_path: Path) -> None:
    accounts = _accounts(fake_twitter, "bot_one", "bot_two", "bot_three")
    save_accounts(tmp_path / "accounts.json", accounts)

    done = _run(fake_twitter, "post_from_all.py", "accounts.json", cwd=tmp_path)

    assert done.returncode == 0, done.stderr
    posted = sorted((t.screen_name, t.text) for t in fake_twitter.tweets)
    assert posted == [(f"bot_{n}", f"hello from @bot_{n}") for n in ("one", "three", "two")]
    assert "3 posted, 0 failed" in done.stdout


def test_post_every_hour_refreshes_and_keeps_the_live_token(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    from twcreds import OAuth2Account, refresh_account

    app = fake_twitter.create_oauth2_app()
    # Due within the 5-minute margin after a second or so: the bot refreshes mid-run.
    account = fake_twitter.issue_oauth2_token(app, "hourly", expires_in=301.5)
    save_accounts(tmp_path / "accounts.json", [account])

    done = _run(
        fake_twitter,
        "post_every_hour.py",
        "accounts.json",
        "--every",
        "1",
        "--times",
        "3",
        cwd=tmp_path,
    )

    assert done.returncode == 0, done.stderr
    assert [t.screen_name for t in fake_twitter.tweets] == ["hourly"] * 3
    assert fake_twitter.oauth2_refreshes == 1
    assert "3 posted, 0 failed" in done.stdout
    [stored] = load_accounts(tmp_path / "accounts.json")
    assert isinstance(stored, OAuth2Account)
    assert stored.refresh_token != account.refresh_token
    refresh_account(tmp_path / "accounts.json", "hourly", api_base=fake_twitter.url)
    for secret in (account.access_token, account.refresh_token, stored.access_token):
        assert secret is not None
        assert secret.get_secret_value() not in done.stdout + done.stderr


def test_post_from_all_reports_a_failure_and_carries_on(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    accounts = _accounts(fake_twitter, "first", "revoked", "last")
    fake_twitter.revoke(accounts[1])
    save_accounts(tmp_path / "accounts.json", accounts)

    done = _run(fake_twitter, "post_from_all.py", "accounts.json", cwd=tmp_path)

    assert done.returncode == 1
    assert sorted(t.screen_name for t in fake_twitter.tweets) == ["first", "last"]
    assert "@revoked: FAILED" in done.stderr
    assert "2 posted, 1 failed" in done.stdout
    rejected = [r for r in fake_twitter.requests if not r.verified]
    assert [(r.status, r.reason) for r in rejected] == [(401, "revoked token")]
    for secret in _secrets(accounts):
        assert secret not in done.stdout + done.stderr


def test_post_from_all_refuses_a_broken_file_before_posting(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    good = _accounts(fake_twitter, "good")[0]
    records = [good.model_dump(mode="json"), {"screen_name": "broken", "consumer_key": "k"}]
    path = tmp_path / "accounts.json"
    path.write_text(json.dumps(records), encoding="utf-8")
    path.chmod(0o600)

    done = _run(fake_twitter, "post_from_all.py", "accounts.json", cwd=tmp_path)

    assert done.returncode == 1
    assert "[1] (@broken)" in done.stderr
    assert fake_twitter.tweets == []
    assert fake_twitter.requests == []


def test_check_accounts_names_each_result(fake_twitter: FakeTwitter, tmp_path: Path) -> None:
    accounts = _accounts(fake_twitter, "fine", "gone")
    fake_twitter.revoke(accounts[1])
    save_accounts(tmp_path / "accounts.json", accounts)

    done = _run(fake_twitter, "check_accounts.py", "accounts.json", cwd=tmp_path)

    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0].startswith("[0] @fine: ok, @fine")
    assert lines[1].startswith("[1] @gone: rejected:")
    assert [r.endpoint for r in fake_twitter.requests] == ["GET /2/users/me"] * 2
    fake_twitter.clear_records()

    save_accounts(tmp_path / "accounts.json", accounts[:1])
    assert _run(fake_twitter, "check_accounts.py", "accounts.json", cwd=tmp_path).returncode == 0


def test_authorize_account_runs_the_guides_secondary_account_flow(
    fake_twitter: FakeTwitter, tmp_path: Path
) -> None:
    owner = _accounts(fake_twitter, "primary")[0]
    creds = tmp_path / "creds-twitter.json"
    save_accounts(creds, [owner])
    saved = tmp_path / "accounts.json"

    process = subprocess.Popen(
        [
            sys.executable,
            "-u",
            str(EXAMPLES / "authorize_account.py"),
            str(creds),
            "--save",
            str(saved),
            "--no-browser",
        ],
        env=_env(fake_twitter),
        cwd=tmp_path,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        assert process.stdin is not None
        url = ""
        while not url:
            line = process.stdout.readline()
            assert line, "the example ended before printing the URL"
            if "/oauth/authorize?" in line:
                url = line.strip()
        token = parse_qs(urlsplit(url).query)["oauth_token"][0]
        pin = fake_twitter.approve(token, "secondary")
        out, err = process.communicate(pin + "\n", timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 0, err
    assert "authorized @secondary" in out
    [account] = load_accounts(saved)
    assert isinstance(account, Account)
    assert (account.screen_name, account.consumer_key) == ("secondary", owner.consumer_key)
    [tweet] = fake_twitter.tweets
    assert (tweet.screen_name, tweet.text) == ("secondary", "hello world for the second time")
    assert (saved.stat().st_mode & 0o777) == 0o600


def test_post_with_media_posts_pictures_and_explains_refusals(tmp_path: Path) -> None:
    from twcreds.demo import picture

    with FakeTwitter(daily_limit=1) as fake:
        [account] = _accounts(fake, "pictures")
        save_accounts(tmp_path / "accounts.json", [account])
        (tmp_path / "a.png").write_bytes(picture())
        (tmp_path / "b.png").write_bytes(picture(32, 16))
        argv = ["a.png", "b.png", "--text", "two pictures", "--source", "accounts.json"]

        done = _run(fake, "post_with_media.py", *argv, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        [tweet] = fake.tweets
        assert (tweet.screen_name, tweet.text, len(tweet.media_ids)) == (
            "pictures",
            "two pictures",
            2,
        )
        held = {m.id: m for m in fake.media}
        assert fake.media_content(tweet.media_ids[1]) == (tmp_path / "b.png").read_bytes()
        assert all(held[i].media_type == "image/png" for i in tweet.media_ids)
        assert f"posted tweet {tweet.id} with 2 media" in done.stdout

        again = _run(fake, "post_with_media.py", "a.png", "--source", "accounts.json", cwd=tmp_path)
        assert again.returncode == 1
        assert "the 24h-user limit is used up; try again at" in again.stderr
        assert len(fake.tweets) == 1

        fake.clear_records()
        text = ["--text", "x" * 281]
        refused = _run(
            fake, "post_with_media.py", "a.png", *text, "--source", "accounts.json", cwd=tmp_path
        )
        assert refused.returncode == 1
        assert "not posted (no call made):" in refused.stderr
        assert "281 characters as X counts them" in refused.stderr
        assert fake.requests == []
        assert not any(s in done.stdout + again.stderr for s in _secrets([account]))


def test_the_demo_runs_the_whole_journey() -> None:
    lines: list[str] = []
    assert run_demo(lines.append) == 0
    text = "\n".join(lines)
    assert text.count("@primary_bot (OAuth 1.0a): verified, posted tweet") == 2
    assert text.count("@secondary_bot (OAuth 1.0a): verified, posted tweet") == 2
    assert text.count("@oauth2_bot (OAuth 2.0): verified, posted tweet") == 2
    assert text.count("verified, posted tweet") == 6
    assert len(re.findall(r"posted tweet \d+ with a picture", text)) == 3
    assert "refreshed it before posting (1 refresh)" in text
    assert "the stored one is live" in text
    assert "recorded 6 of 6 posts from the right accounts, 3 with the picture intact" in text
    assert "(mode 0600)" in text


def test_the_demo_keeps_its_file_where_asked(tmp_path: Path) -> None:
    assert run_demo(lambda _: None, directory=tmp_path) == 0
    names = [a.screen_name for a in load_accounts(tmp_path / "accounts.json")]
    assert names == ["primary_bot", "secondary_bot", "oauth2_bot"]


@pytest.mark.parametrize(
    "script",
    ["post_from_all.py", "check_accounts.py", "authorize_account.py", "post_with_media.py"],
)
def test_each_example_has_help(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "usage:" in done.stdout


def test_the_readme_quotes_the_messages_the_code_gives(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    readme = (EXAMPLES.parent / "README.md").read_text(encoding="utf-8")
    after = readme.split("Messages say where, what and how to fix it", 1)[1]
    first, second = after.split("```text\n", 1)[1].split("\n```", 1)[0].split("\n")
    monkeypatch.chdir(tmp_path)
    corpus = Path(__file__).parent / "corpus" / "guide-list-as-printed.json"
    Path("accounts.json").write_bytes(corpus.read_bytes())
    misspelled = {
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "access_token": "1-t",
        "acces_token_secret": "x",
        "screen_name": "bot2",
    }
    Path("b.json").write_text(json.dumps([misspelled]), encoding="utf-8")
    for path, line in (("accounts.json", first), ("b.json", second)):
        os.chmod(path, 0o600)
        with pytest.raises(CredentialsError) as caught:
            load_accounts(path)
        assert str(caught.value) == line
